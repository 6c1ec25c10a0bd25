"""``keras.datasets.boston_housing``: 506 Boston suburbs, 13 features, median house value (k$)."""

from __future__ import annotations

import numpy as np

from lamina.datasets.safe_load import check_test_split, shuffled, split
from lamina.utils.file_utils import get_file

ORIGIN_FOLDER = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
FILE_HASH = "f553886a1f8d56431e820c5b82552d9d95cfcb96d1e678153f8839538947dff5"


def load_data(
    path: str = "boston_housing.npz", test_split: float = 0.2, seed: int = 113
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Loads the Boston housing dataset (cached as ``~/.keras/datasets/boston_housing.npz``).

    Args:
        path: the file name in the cache.
        test_split: the fraction kept for testing, in ``[0, 1)``.
        seed: the shuffling seed.

    Returns:
        ``(x_train, y_train), (x_test, y_test)``: float64 ``(n, 13)`` features and ``(n,)`` targets.
    """
    check_test_split(test_split)
    path = get_file(path, origin=f"{ORIGIN_FOLDER}boston_housing.npz", file_hash=FILE_HASH)
    with np.load(path, allow_pickle=False) as f:
        x, y = f["x"], f["y"]
    return split(*shuffled(seed, x, y), test_split)
