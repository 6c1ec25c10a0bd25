"""``keras.datasets.california_housing``: 20,640 California districts, 8 features, median house value."""

from __future__ import annotations

import numpy as np

from lamina.datasets.safe_load import check_test_split, shuffled, split
from lamina.utils.file_utils import get_file

ORIGIN_FOLDER = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
FILE_HASH = "1a2e3a52e0398de6463aebe6f4a8da34fb21fbb6b934cf88c3425e766f2a1a6f"


def load_data(
    version: str = "large", path: str = "california_housing.npz", test_split: float = 0.2, seed: int = 113
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Loads the California housing dataset (cached as ``~/.keras/datasets/california_housing.npz``).

    Args:
        version: ``"large"`` (all 20,640 rows) or ``"small"`` (the first 600).
        path: the file name in the cache.
        test_split: the fraction kept for testing, in ``[0, 1)``.
        seed: the shuffling seed.

    Returns:
        ``(x_train, y_train), (x_test, y_test)``: float ``(n, 8)`` features and ``(n,)`` targets.
    """
    check_test_split(test_split)
    if version not in ("small", "large"):  # checked before downloading (Keras checks after)
        raise ValueError(f"Argument `version` must be one of 'small', 'large'. Received: version={version}")
    path = get_file(path, origin=f"{ORIGIN_FOLDER}california_housing.npz", file_hash=FILE_HASH)
    with np.load(path, allow_pickle=False) as f:
        x, y = f["x"], f["y"]
    if version == "small":
        x, y = x[:600], y[:600]
    return split(*shuffled(seed, x, y), test_split)
