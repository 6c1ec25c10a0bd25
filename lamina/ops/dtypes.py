"""Keras's dtype rules for ops: names, the promotion lattice (``result_type``) with weak Python scalars.

Dtype promotion between tensors follows Keras's type lattice, in which a Python scalar is "weak" and adopts
the tensor's type; Python ``int`` is ``int32``, Python ``float`` is ``floatx()``."""

from __future__ import annotations

import functools
from typing import Any

import torch

from lamina import backend

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


# The type promotion lattice (the one JAX uses, which Keras adopts). "int" and "float" stand
# for weakly typed Python scalars; each entry lists the types immediately above it.
_LATTICE: dict[str, tuple[str, ...]] = {
    "bool": ("int",),
    "int": ("uint8", "int8", "complex64"),
    "uint8": ("int16", "uint16"),
    "uint16": ("int32", "uint32"),
    "uint32": ("int64", "uint64"),
    "uint64": ("float",),
    "int8": ("int16",),
    "int16": ("int32",),
    "int32": ("int64",),
    "int64": ("float",),
    "float": ("bfloat16", "float16"),
    "bfloat16": ("float32",),
    "float16": ("float32",),
    "float32": ("float64", "complex64"),
    "float64": ("complex128",),
    "complex64": ("complex128",),
    "complex128": (),
}


def _closure(node: str) -> frozenset[str]:
    seen = {node}
    todo = [node]
    while todo:
        for up in _LATTICE[todo.pop()]:
            if up not in seen:
                seen.add(up)
                todo.append(up)
    return frozenset(seen)


_ABOVE = {n: _closure(n) for n in _LATTICE}


# Keras on torch keeps results 32-bit, as JAX does by default.
_NARROW = {"int64": "int32", "uint64": "uint32", "float64": "float32", "complex128": "complex64"}


@functools.lru_cache(maxsize=1024)
def _join(nodes: frozenset[str]) -> str:
    try:
        common = frozenset.intersection(*(_ABOVE[n] for n in nodes))
    except KeyError:
        bad = next(n for n in nodes if n not in _ABOVE)
        raise ValueError(f"dtype={bad!r} is not a valid dtype for Keras type promotion.") from None
    least = [c for c in common if common <= _ABOVE[c]]
    if len(least) != 1:
        raise ValueError(
            f"Input dtypes {tuple(sorted(nodes))} have no implicit dtype promotion path. "
            "Cast the inputs to the dtype you want explicitly."
        )
    return least[0]


def _weak_name(name: str) -> str:
    if name == "bool":
        return name
    return "float" if ("float" in name) else ("complex" if "complex" in name else "int")


def result_type(*dtypes: Any) -> str:
    """The dtype Keras's promotion rules give for combining ``dtypes``.

    Python types ``int`` and ``float`` (what ``type(3)`` gives) are weak: they adopt the other
    operand's precision. 64-bit results are narrowed to 32 bits, as Keras does on torch.

    Example:
        >>> from lamina import ops
        >>> ops.result_type("float16", float), ops.result_type("int32", "float16"), ops.result_type(int)
        ('float16', 'float16', 'int32')
    """
    if not dtypes:
        return backend.floatx()
    parsed = []
    for d in dtypes:
        weak = d is int or d is float
        parsed.append((standardize_dtype(d), weak))
    names = {n for n, _ in parsed}
    if len(parsed) == 1:
        out, weak = parsed[0]
    elif len(names) == 1 and not all(w for _, w in parsed):
        out, weak = parsed[0][0], False
    elif all(w for _, w in parsed):
        out, weak = _join(frozenset(names)), True
    else:
        out = _join(frozenset(_weak_name(n) if w else n for n, w in parsed))
        weak = out in ("int", "float", "complex")
    if weak and out != "bool":
        bits = backend.floatx()[-2:]
        head = "f" if out == "bfloat16" else out[:1]
        out = {"b": "bool", "i": f"int{bits}", "u": f"uint{bits}", "c": "complex64"}.get(head, f"float{bits}")
    return _NARROW.get(out, out)
