"""``lamina.distribution.spawn`` target: 2 processes from a plain ``python`` call, no launcher."""

import os

os.environ.setdefault("KERAS_BACKEND", "torch")


def train(n):
    import numpy as np

    import lamina as keras

    keras.distribution.set_distribution(keras.distribution.DataParallel())
    d = keras.distribution.distribution()
    keras.utils.set_random_seed(3)
    x = np.random.default_rng(0).normal(size=(n, 4)).astype("float32")
    y = x @ np.arange(1, 5, dtype="float32")[:, None]
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.05), loss="mse")
    history = model.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    return {
        "world": d.num_processes,
        "rank": d.process_id,
        "loss": history.history["loss"],
        "weights": [w.tolist() for w in model.get_weights()],
    }


def main():
    import json
    import sys

    import lamina as keras

    out = {"spawned": keras.distribution.spawn(train, args=(30,), num_processes=2), "single": train(30)}
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
