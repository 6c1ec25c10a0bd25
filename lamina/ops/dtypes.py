"""Keras's dtype names for ops, and the torch dtype each is stored in.

The promotion lattice (``result_type``, weak Python scalars) lives in :mod:`lamina.backend.dtypes`; ops read
Python ``int`` as ``int32`` and Python ``float`` as ``floatx()``."""

from __future__ import annotations

from typing import Any

import torch

from lamina import backend
from lamina.backend.dtypes import result_type

__all__ = ["result_type", "standardize_dtype"]

# Keras names some dtypes torch stores differently (torch has no usable uint16/uint32).
_STORAGE = {"uint16": torch.int32, "uint32": torch.int64, "uint64": torch.int64}


_PYTHON_TYPES = {bool: "bool", int: "int32", float: None, complex: "complex64", "int": "int32", "float": None}


def standardize_dtype(dtype: Any) -> str:
    """A Keras dtype name (``"float32"``, ``"int32"``...) for a name, torch/NumPy dtype or Python type.

    ``None`` and Python ``float`` give ``floatx()``, Python ``int`` gives ``"int32"`` as in Keras.
    """
    if dtype is None:
        return backend.floatx()
    if isinstance(dtype, (type, str)) and dtype in _PYTHON_TYPES:
        return _PYTHON_TYPES[dtype] or backend.floatx()
    if isinstance(dtype, str) and dtype in _STORAGE:
        return dtype
    return backend.standardize_dtype(dtype)


def _torch_dtype(dtype: Any) -> torch.dtype:
    if isinstance(dtype, torch.dtype):
        return dtype
    name = standardize_dtype(dtype)
    return _STORAGE.get(name) or getattr(torch, name)
