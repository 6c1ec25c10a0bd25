"""The 8x8 handwritten digits (1,797 images, UCI, CC BY 4.0), shipped in the package.

Example:
    >>> from lamina.datasets import digits
    >>> (x_train, y_train), (x_test, y_test) = digits.load_data()
    >>> x_train.shape, y_train.shape, x_test.shape
    ((1438, 8, 8, 1), (1438,), (359, 8, 8, 1))
    >>> float(x_train.max())
    1.0
"""

from __future__ import annotations

import gzip
from importlib import resources

import numpy as np


def load_raw() -> tuple[np.ndarray, np.ndarray]:
    """All 1,797 images as ``(n, 64)`` uint8 pixels in 0..16 and ``(n,)`` int64 labels."""
    with resources.files("lamina.datasets").joinpath("data/digits.csv.gz").open("rb") as f:
        table = np.loadtxt(gzip.open(f), delimiter=",", dtype=np.int64)
    return table[:, :64].astype(np.uint8), table[:, 64]


def load_data(
    test_split: float = 0.2, seed: int = 113
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """``(x_train, y_train), (x_test, y_test)`` like ``keras.datasets.mnist.load_data``.

    Images are float32 ``(n, 8, 8, 1)`` scaled to [0, 1]; labels int64. The split is a fixed
    shuffle by ``seed`` so results repeat.
    """
    if not 0.0 < test_split < 1.0:
        raise ValueError(f"`test_split` must be between 0 and 1. Received: test_split={test_split}")
    pixels, labels = load_raw()
    order = np.random.default_rng(seed).permutation(len(labels))
    x = (pixels[order].astype(np.float32) / 16.0).reshape(-1, 8, 8, 1)
    y = labels[order]
    n_test = int(round(len(y) * test_split))
    return (x[n_test:], y[n_test:]), (x[:n_test], y[:n_test])
