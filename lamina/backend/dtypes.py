"""Dtype names and Keras's type promotion (``keras.backend.standardize_dtype``, ``result_type``...).

Keras names dtypes by string (``"float32"``, ``"int8"``, ``"string"``...). These functions turn torch,
NumPy and Python types into those names and promote them with Keras's lattice (the one JAX uses), in
which Python ``int`` and ``float`` are "weak" and adopt the other operand's precision.

Example:
    >>> from lamina.backend import dtypes
    >>> dtypes.standardize_dtype(int), dtypes.result_type("int8", "uint8"), dtypes.result_type("int8", float)
    ('int32', 'int16', 'float32')
"""

from __future__ import annotations

import functools
from typing import Any

from lamina.backend.config import floatx

# Every dtype name Keras knows (``"string"`` exists for preprocessing layers; torch has no string tensors).
ALLOWED_DTYPES = (
    "float16",
    "float32",
    "float64",
    "uint8",
    "uint16",
    "uint32",
    "uint64",
    "int8",
    "int16",
    "int32",
    "int64",
    "bfloat16",
    "bool",
    "string",
    "float8_e4m3fn",
    "float8_e5m2",
    "complex64",
    "complex128",
)

# Python types as Keras's torch backend reads them (``None`` means ``floatx()``); ``"int"``/``"float"``
# strings too, plus torch's own short names that Lamina has always accepted.
_PYTHON_TYPES: dict[Any, str | None] = {
    bool: "bool",
    int: "int32",
    float: None,
    str: "string",
    complex: "complex64",
    "int": "int32",
    "float": None,
}
_ALIASES = {"double": "float64", "half": "float16", "long": "int64", "str": "string"}


def standardize_dtype(dtype: Any) -> str:
    """The Keras dtype name of a name, a torch/NumPy dtype or a Python type.

    ``None`` and ``float`` give ``floatx()``, ``int`` gives ``"int32"`` and ``str`` gives ``"string"``, as
    on Keras's torch backend.

    Raises:
        ValueError: for anything that is not a Keras dtype, naming it.

    Example:
        >>> import numpy as np, torch
        >>> from lamina.backend import standardize_dtype
        >>> standardize_dtype(np.float16), standardize_dtype(torch.int8), standardize_dtype(None)
        ('float16', 'int8', 'float32')
    """
    if dtype is None:
        return floatx()
    try:
        if dtype in _PYTHON_TYPES:
            return _PYTHON_TYPES[dtype] or floatx()
    except TypeError:  # an unhashable object: not a dtype
        raise ValueError(f"Invalid dtype: {dtype!r}") from None
    if isinstance(dtype, str) and dtype.lstrip("<>|=")[:1] in ("U", "S") and dtype.lstrip("<>|=")[1:].isdigit():
        return "string"  # NumPy's "<U5" / "|S3": text, which Lamina keeps in NumPy arrays
    if getattr(dtype, "kind", None) in ("U", "S") and hasattr(dtype, "itemsize"):
        return "string"
    if isinstance(dtype, str):
        name = dtype
    elif hasattr(dtype, "name") and isinstance(dtype.name, str):  # numpy dtypes
        name = dtype.name
    elif hasattr(dtype, "__name__"):  # numpy scalar types
        name = dtype.__name__
    elif str(dtype).startswith("torch."):  # torch dtypes have no name
        name = str(dtype).removeprefix("torch.")
    else:
        name = str(dtype)
    name = _ALIASES.get(name, name)
    if name not in ALLOWED_DTYPES:
        raise ValueError(f"Invalid dtype: {dtype!r}. Expected one of {', '.join(ALLOWED_DTYPES)}.")
    return name


def is_float_dtype(dtype: Any) -> bool:
    """Whether ``dtype`` is a floating type (``float*`` or ``bfloat16``).

    Example:
        >>> from lamina.backend import is_float_dtype
        >>> is_float_dtype("bfloat16"), is_float_dtype("int8")
        (True, False)
    """
    name = standardize_dtype(dtype)
    return name.startswith("float") or name.startswith("bfloat")


def is_int_dtype(dtype: Any) -> bool:
    """Whether ``dtype`` is a signed or unsigned integer type.

    Example:
        >>> from lamina.backend import is_int_dtype
        >>> is_int_dtype("uint8"), is_int_dtype("float32")
        (True, False)
    """
    name = standardize_dtype(dtype)
    return name.startswith("int") or name.startswith("uint")


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
        >>> from lamina.backend import result_type
        >>> result_type("float16", float), result_type("int32", "float16"), result_type(int)
        ('float16', 'float16', 'int32')
    """
    if not dtypes:
        return floatx()
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
        bits = floatx()[-2:]
        head = "f" if out == "bfloat16" else out[:1]
        out = {"b": "bool", "i": f"int{bits}", "u": f"uint{bits}", "c": "complex64"}.get(head, f"float{bits}")
    return _NARROW.get(out, out)
