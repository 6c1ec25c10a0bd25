"""What CIFAR-10 and CIFAR-100 share: reading one pickled batch safely."""

from __future__ import annotations

import os

import numpy as np

from lamina.datasets.safe_load import load_pickle


def load_batch(fpath: str | os.PathLike, label_key: str = "labels") -> tuple[np.ndarray, list]:
    """``(data (n, 3, 32, 32) uint8, labels)`` from one CIFAR batch file."""
    batch = {k.decode("utf8") if isinstance(k, bytes) else k: v for k, v in load_pickle(fpath).items()}
    data = batch["data"]
    return data.reshape(data.shape[0], 3, 32, 32), batch[label_key]
