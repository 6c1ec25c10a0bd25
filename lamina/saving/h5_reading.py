"""Reading HDF5 files that may be hostile: groups and datasets are reached without following links,
external or virtual data are refused, and a dataset that declares far more data than it stores
(a decompression bomb) is refused before it is read.
"""

from __future__ import annotations

import io
import math
import os
from typing import Any

import numpy as np

_H5_BOMB_FLOOR_BYTES = 1 << 30
_H5_MAX_EXPANSION = 1000

__all__ = ["open_h5_for_read", "read_dataset", "safe_group"]


def _h5py() -> Any:
    import h5py

    return h5py


def safe_group(parent: Any, path: str) -> Any:
    """The group at ``path`` under ``parent`` or None; links and non-groups are refused."""
    h5py = _h5py()
    current = parent
    for part in path.split("/"):
        if not part:
            raise ValueError(f"Invalid path in the H5 file: {path!r}")
        if part not in current:
            return None
        link = current.get(part, default=None, getclass=True, getlink=True)
        if link in (h5py.ExternalLink, h5py.SoftLink):
            raise ValueError(f"Not allowed: the H5 file links {path!r} elsewhere ({link.__name__}).")
        current = current[part]
        if not isinstance(current, h5py.Group):
            raise ValueError(f"Invalid H5 file: expected a group at {path!r}, found {type(current).__name__}.")
    return current


def read_dataset(group: Any, name: str) -> np.ndarray:
    """Reads one dataset into memory after refusing links, external/virtual data and shape bombs."""
    h5py = _h5py()
    if "/" in name:
        head, name = name.rsplit("/", 1)
        group = safe_group(group, head)
        if group is None:
            raise KeyError(name)
    link = group.get(name, default=None, getclass=True, getlink=True)
    if link is None:
        raise KeyError(name)
    if link in (h5py.ExternalLink, h5py.SoftLink):
        raise ValueError(f"Not allowed: H5 dataset {name!r} is a {link.__name__}.")
    ds = group[name]
    if not isinstance(ds, h5py.Dataset):
        raise ValueError(f"Invalid H5 file: expected a dataset at {name!r}, found {type(ds).__name__}.")
    if ds.external:
        raise ValueError(f"Not allowed: H5 dataset {name!r} stores its data in external files.")
    if ds.is_virtual:
        raise ValueError(f"Not allowed: H5 dataset {name!r} is virtual.")
    declared = math.prod(ds.shape or ()) * ds.dtype.itemsize
    stored = ds.id.get_storage_size()
    if declared > _H5_BOMB_FLOOR_BYTES and declared > _H5_MAX_EXPANSION * stored:
        raise ValueError(
            f"Not allowed: H5 dataset {name!r} declares {declared} bytes but stores only {stored}; "
            "refusing a potential decompression bomb."
        )
    if ds.dtype.kind not in "biuf":
        raise ValueError(f"H5 dataset {name!r} has the non-numeric dtype {ds.dtype}; weights must be numbers.")
    value = ds[()]
    if ds.attrs.get("dtype", None) in ("bfloat16", b"bfloat16"):
        value = np.asarray(value, dtype=np.float32)
    return np.asarray(value)


def _numeric_keys(group: Any) -> list[str]:
    if group is None:
        return []
    return sorted(group.keys(), key=lambda k: (0, int(k)) if k.isdigit() else (1, k))


def open_h5_for_read(source: str | os.PathLike | bytes | io.BytesIO, what: str) -> Any:
    """``h5py.File`` on a path or bytes, turning h5py's low-level errors into one clear ``ValueError``."""
    h5py = _h5py()
    if isinstance(source, bytes):
        source = io.BytesIO(source)
    try:
        return h5py.File(source, "r")
    except (OSError, ValueError) as e:
        raise ValueError(
            f"Cannot read {what}: it is not a valid HDF5 file (truncated or corrupt?). h5py says: {e}"
        ) from None
