"""Reading downloaded dataset files without executing anything in them.

IMDB and Reuters store ragged sequences as NumPy object arrays (a pickle stream inside the
``.npz``) and CIFAR stores its batches as pickles. Both are read with an unpickler that
rebuilds NumPy arrays and nothing else (the three globals an array needs), as Keras does;
any other global (``os.system``, ``builtins.eval``...) is refused before it is looked up.
"""

from __future__ import annotations

import io
import os
import pickle
import zipfile
from typing import Any

import numpy as np

_ALLOWED_GLOBALS = frozenset(
    {
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        ("numpy.core.multiarray", "_reconstruct"),  # files written with NumPy < 2
        ("numpy._core.multiarray", "_reconstruct"),  # and with NumPy >= 2
    }
)


class UnsafeFileError(pickle.UnpicklingError, ValueError):
    """A dataset file asked to load something other than NumPy arrays."""


class ArrayUnpickler(pickle.Unpickler):
    """An unpickler that only rebuilds NumPy arrays."""

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in _ALLOWED_GLOBALS:
            return super().find_class(module, name)
        raise UnsafeFileError(
            f"Refusing to deserialize `{module}.{name}` while loading a Keras dataset. "
            "The file may be corrupted or malicious."
        )


def load_pickle(path: str | os.PathLike, encoding: str = "bytes") -> Any:
    """Unpickles a file that may only contain NumPy arrays and plain Python values (CIFAR batches)."""
    with open(path, "rb") as f:
        return ArrayUnpickler(f, encoding=encoding).load()


def _read_npy(buffer: io.BytesIO) -> np.ndarray:
    try:
        return np.lib.format.read_array(buffer, allow_pickle=False)
    except ValueError:
        # an object array: skip the header, then rebuild it with the restricted unpickler
        buffer.seek(0)
        major, _ = np.lib.format.read_magic(buffer)
        if major == 1:
            np.lib.format.read_array_header_1_0(buffer)
        elif major in (2, 3):  # 3.0 only changes the header's text encoding
            np.lib.format.read_array_header_2_0(buffer)
        else:
            raise ValueError(f"Unsupported `.npy` file version: {major}.") from None
        return ArrayUnpickler(buffer).load()


def load_npz(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Every array of an ``.npz`` file; object arrays are allowed but only arrays are unpickled."""
    arrays = {}
    with zipfile.ZipFile(path) as archive:
        for member in archive.namelist():
            if member.endswith(".npy"):
                with archive.open(member) as raw:
                    arrays[member[: -len(".npy")]] = _read_npy(io.BytesIO(raw.read()))
    return arrays


def check_test_split(test_split: float) -> None:
    if not 0 <= test_split < 1:
        raise ValueError(f"Invalid `test_split` argument: {test_split}. It must be between 0 and 1 (exclusive of 1).")


def shuffled(seed: int, *arrays: Any) -> list:
    """The arrays reordered by one ``np.random.RandomState(seed)`` permutation, as Keras's loaders."""
    indices = np.arange(len(arrays[0]))
    np.random.RandomState(seed).shuffle(indices)
    return [a[indices] for a in arrays]


def split(x: np.ndarray, y: np.ndarray, test_split: float) -> tuple:
    at = int(len(x) * (1 - test_split))
    return (np.array(x[:at]), np.array(y[:at])), (np.array(x[at:]), np.array(y[at:]))
