"""The main job: build, train, evaluate, save, reload and predict on the bundled digits dataset.

Run it with ``python -m lamina.demo``. It uses only what a Keras user writes, with the imports
changed (``import lamina as keras``), and finishes in well under a minute on 2 CPU cores.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

import numpy as np

import lamina as keras
from lamina import layers
from lamina.datasets import digits


def build_model():  # noqa: ANN201 - returns a lamina.Sequential

    return keras.Sequential(
        [
            keras.Input(shape=(8, 8, 1)),
            layers.Conv2D(32, 3, padding="same", activation="relu"),
            layers.MaxPooling2D(2),
            layers.Conv2D(64, 3, padding="same", activation="relu"),
            layers.Flatten(),
            layers.Dropout(0.3),
            layers.Dense(10),
        ],
        name="digits_convnet",
    )


def main(argv: list[str] | None = None) -> float:
    """Runs the demo; returns the test accuracy."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--verbose", default="auto")
    args = parser.parse_args(argv)
    verbose = args.verbose if args.verbose == "auto" else int(args.verbose)

    keras.utils.set_random_seed(args.seed)
    (x_train, y_train), (x_test, y_test) = digits.load_data()
    print(f"Digits: {len(x_train)} training and {len(x_test)} test images of 8x8 pixels, 10 classes.")

    model = build_model()
    model.summary()
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=2e-3),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    start = time.perf_counter()
    history = model.fit(x_train, y_train, batch_size=32, epochs=args.epochs, validation_split=0.1, verbose=verbose)
    print(
        f"Trained {args.epochs} epochs in {time.perf_counter() - start:.1f}s; "
        f"final loss {history.history['loss'][-1]:.4f}."
    )

    loss, accuracy = model.evaluate(x_test, y_test, batch_size=128, verbose=0)
    print(f"Test loss {loss:.4f}, test accuracy {accuracy:.2%}")

    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "digits_convnet.keras")
        model.save(path)
        print(f"Saved to {os.path.basename(path)} ({os.path.getsize(path) / 1024:.0f} KB).")
        restored = keras.models.load_model(path)
    original = model.predict(x_test[:5], verbose=0)
    again = restored.predict(x_test[:5], verbose=0)
    np.testing.assert_allclose(again, original, atol=1e-5)
    print("Reloaded model predicts the same logits.")
    print(f"Predicted digits {again.argmax(axis=-1).tolist()}, true digits {y_test[:5].tolist()}")
    return float(accuracy)


if __name__ == "__main__":
    main()
