"""A 2-process job where one rank fails: ``crash`` (rank 1 raises) or ``stuck`` (rank 1 stops responding).

torchrun --standalone --nproc_per_node=2 tests/distribution/workers/failures.py crash|stuck
"""

import os
import sys
import time

os.environ.setdefault("KERAS_BACKEND", "torch")

import numpy as np  # noqa: E402

import lamina as keras  # noqa: E402


def main(mode: str) -> None:
    keras.distribution.set_distribution(keras.distribution.DataParallel(timeout=5))
    rank = keras.distribution.distribution().process_id

    class Fail(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            if epoch == 1 and rank == 1:
                if mode == "crash":
                    raise RuntimeError("simulated failure on rank 1")
                time.sleep(300)  # stuck: never reaches the next collective

    x = np.random.default_rng(0).normal(size=(64, 4)).astype("float32")
    y = x.sum(axis=1, keepdims=True)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    model.fit(x, y, batch_size=16, epochs=3, verbose=0, callbacks=[Fail()])
    print("finished")


if __name__ == "__main__":
    main(sys.argv[1])
