"""NumPy-like ops over torch tensors, with ``keras.ops`` names, arguments and dtype rules.

Inputs may be torch tensors, lamina ``Variable``s, NumPy arrays, Python scalars or lists;
results are torch tensors on the inputs' device (creation ops use
:func:`lamina.backend.default_device`). Reductions take ``axis`` as ``None``, an int or a
tuple, and ``keepdims``; integer results of index-like ops (``argmax``, ``argsort``...)
are ``int32`` as in Keras.

Example:
    >>> from lamina import ops
    >>> x = ops.arange(6).reshape(2, 3)
    >>> ops.sum(x, axis=1).tolist()
    [3, 12]
    >>> ops.mean(x).item(), ops.mean(x).dtype
    (2.5, torch.float32)
    >>> ops.transpose(x).shape
    torch.Size([3, 2])
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from lamina import backend
from lamina.ops.core import (
    ArrayLike,
    _cast_tensor,
    _device_of,
    _dtype_or_type,
    _t,
    _torch_dtype,
    _ts,
    _unwrap,
    convert_to_tensor,
    result_type,
    standardize_dtype,
)
from lamina.ops.linalg import slogdet  # Keras exports it as keras.ops.numpy.slogdet too

__all__ = [
    "abs",
    "absolute",
    "add",
    "all",
    "allclose",
    "amax",
    "amin",
    "angle",
    "any",
    "append",
    "arange",
    "arccos",
    "arccosh",
    "arcsin",
    "arcsinh",
    "arctan",
    "arctan2",
    "arctanh",
    "argmax",
    "argmin",
    "argpartition",
    "argsort",
    "array",
    "array_split",
    "average",
    "bartlett",
    "bincount",
    "bitwise_and",
    "bitwise_invert",
    "bitwise_left_shift",
    "bitwise_not",
    "bitwise_or",
    "bitwise_right_shift",
    "bitwise_xor",
    "blackman",
    "broadcast_to",
    "cbrt",
    "ceil",
    "clip",
    "concatenate",
    "conj",
    "conjugate",
    "copy",
    "corrcoef",
    "correlate",
    "cos",
    "cosh",
    "count_nonzero",
    "cross",
    "cumprod",
    "cumsum",
    "deg2rad",
    "diag",
    "diagflat",
    "diagonal",
    "diff",
    "digitize",
    "divide",
    "divide_no_nan",
    "dot",
    "dsplit",
    "dstack",
    "einsum",
    "empty",
    "empty_like",
    "equal",
    "exp",
    "exp2",
    "expand_dims",
    "expm1",
    "eye",
    "fabs",
    "flip",
    "fliplr",
    "flipud",
    "floor",
    "floor_divide",
    "fmax",
    "fmin",
    "fmod",
    "full",
    "full_like",
    "gcd",
    "geomspace",
    "get_item",
    "greater",
    "greater_equal",
    "hamming",
    "hanning",
    "heaviside",
    "histogram",
    "hsplit",
    "hstack",
    "hypot",
    "i0",
    "identity",
    "imag",
    "inner",
    "isclose",
    "isfinite",
    "isin",
    "isinf",
    "isnan",
    "isneginf",
    "isposinf",
    "isreal",
    "kaiser",
    "kron",
    "lcm",
    "ldexp",
    "left_shift",
    "less",
    "less_equal",
    "linspace",
    "log",
    "log10",
    "log1p",
    "log2",
    "logaddexp",
    "logaddexp2",
    "logical_and",
    "logical_not",
    "logical_or",
    "logical_xor",
    "logspace",
    "matmul",
    "max",
    "maximum",
    "mean",
    "median",
    "meshgrid",
    "min",
    "minimum",
    "mod",
    "moveaxis",
    "multiply",
    "nan_to_num",
    "nanargmax",
    "nanargmin",
    "nancumprod",
    "nancumsum",
    "nanmax",
    "nanmean",
    "nanmedian",
    "nanmin",
    "nanpercentile",
    "nanprod",
    "nanquantile",
    "nanstd",
    "nansum",
    "nanvar",
    "ndim",
    "negative",
    "nextafter",
    "nonzero",
    "not_equal",
    "ones",
    "ones_like",
    "outer",
    "pad",
    "percentile",
    "power",
    "prod",
    "ptp",
    "quantile",
    "rad2deg",
    "ravel",
    "real",
    "rearrange",
    "reciprocal",
    "repeat",
    "reshape",
    "right_shift",
    "roll",
    "rot90",
    "round",
    "searchsorted",
    "select",
    "sign",
    "slogdet",
    "signbit",
    "sin",
    "sinc",
    "sinh",
    "size",
    "sort",
    "split",
    "sqrt",
    "square",
    "squeeze",
    "stack",
    "std",
    "subtract",
    "sum",
    "swapaxes",
    "take",
    "take_along_axis",
    "tan",
    "tanh",
    "tensordot",
    "tile",
    "trace",
    "transpose",
    "trapezoid",
    "tri",
    "tril",
    "triu",
    "true_divide",
    "trunc",
    "unique",
    "unravel_index",
    "vander",
    "var",
    "vdot",
    "vectorize",
    "view",
    "vsplit",
    "vstack",
    "where",
    "zeros",
    "zeros_like",
]

Axis = int | Sequence[int] | None

# --------------------------------------------------------------------------- helpers


def _axes(axis: Axis) -> tuple[int, ...] | None:
    if axis is None:
        return None
    if isinstance(axis, (list, tuple)):
        return tuple(int(a) for a in axis)
    return (int(_unwrap(axis)),)


def _canon(axis: int, ndim: int) -> int:
    axis = int(axis)
    if not -ndim <= axis < ndim:
        raise ValueError(f"axis {axis} is out of bounds for a tensor of rank {ndim}.")
    return axis % ndim if ndim else 0


def _name(x: torch.Tensor) -> str:
    return standardize_dtype(x.dtype)


def _is_int_or_bool(x: torch.Tensor) -> bool:
    return not (x.dtype.is_floating_point or x.dtype.is_complex)


def _float_of(x: torch.Tensor) -> torch.Tensor:
    """Integers and bools become ``floatx()``; floats are kept."""
    return x if not _is_int_or_bool(x) else x.to(_torch_dtype(backend.floatx()))


def _creation_device() -> torch.device:
    return backend.default_device()


def _shape_tuple(shape: Any) -> tuple[int, ...]:
    shape = _unwrap(shape)
    if isinstance(shape, torch.Tensor):
        return tuple(int(s) for s in shape.reshape(-1).tolist())
    if isinstance(shape, (int, np.integer)):
        return (int(shape),)
    return tuple(int(_unwrap(s)) for s in shape)


# --------------------------------------------------------------------------- creation


def zeros(shape: Any, dtype: Any = None) -> torch.Tensor:
    """A tensor of ``shape`` filled with 0 (``floatx()`` unless ``dtype``).

    Example:
        >>> from lamina import ops
        >>> ops.zeros((2,)).tolist()
        [0.0, 0.0]
    """
    return torch.zeros(_shape_tuple(shape), dtype=_torch_dtype(dtype), device=_creation_device())


def ones(shape: Any, dtype: Any = None) -> torch.Tensor:
    """A tensor of ``shape`` filled with 1 (``floatx()`` unless ``dtype``)."""
    return torch.ones(_shape_tuple(shape), dtype=_torch_dtype(dtype), device=_creation_device())


def empty(shape: Any, dtype: Any = None) -> torch.Tensor:
    """An uninitialised tensor of ``shape``."""
    return torch.empty(_shape_tuple(shape), dtype=_torch_dtype(dtype), device=_creation_device())


def full(shape: Any, fill_value: ArrayLike, dtype: Any = None) -> torch.Tensor:
    """A tensor of ``shape`` filled with ``fill_value`` (which may itself broadcast).

    The dtype is ``dtype``, else ``floatx()`` (as Keras does, whatever ``fill_value`` is).

    Example:
        >>> from lamina import ops
        >>> ops.full((2,), 7).tolist(), ops.full((2,), 7, dtype="int32").dtype
        ([7.0, 7.0], torch.int32)
    """
    shape = _shape_tuple(shape)
    value = _t(fill_value, device=_device_of(fill_value) or _creation_device()).to(_torch_dtype(dtype))
    return torch.broadcast_to(value, shape).clone()


def zeros_like(x: ArrayLike, dtype: Any = None) -> torch.Tensor:
    """Zeros with the shape (and dtype, unless given) of ``x``."""
    x = _t(x)
    return torch.zeros_like(x, dtype=None if dtype is None else _torch_dtype(dtype))


def ones_like(x: ArrayLike, dtype: Any = None) -> torch.Tensor:
    """Ones with the shape (and dtype, unless given) of ``x``."""
    x = _t(x)
    return torch.ones_like(x, dtype=None if dtype is None else _torch_dtype(dtype))


def empty_like(x: ArrayLike, dtype: Any = None) -> torch.Tensor:
    """An uninitialised tensor with the shape (and dtype, unless given) of ``x``."""
    x = _t(x)
    return torch.empty_like(x, dtype=None if dtype is None else _torch_dtype(dtype))


def full_like(x: ArrayLike, fill_value: ArrayLike, dtype: Any = None) -> torch.Tensor:
    """``fill_value`` broadcast to the shape of ``x``, with the dtype of ``x`` unless given."""
    x = _t(x)
    td = x.dtype if dtype is None else _torch_dtype(dtype)
    value = _t(fill_value, device=x.device).to(td)
    return torch.broadcast_to(value, x.shape).clone()


def arange(start: ArrayLike, stop: ArrayLike = None, step: ArrayLike = None, dtype: Any = None) -> torch.Tensor:
    """Evenly spaced values in ``[start, stop)``; ``arange(n)`` counts from 0.

    The dtype follows the arguments: ``int32`` for ints, ``floatx()`` if any is a float.

    Example:
        >>> from lamina import ops
        >>> ops.arange(3).tolist(), ops.arange(0, 1, 0.25).tolist()
        ([0, 1, 2], [0.0, 0.25, 0.5, 0.75])
    """
    if dtype is None:
        dtype = result_type(*(_dtype_or_type(v) for v in (start, stop, step) if v is not None))
    start, stop, step = (float(_unwrap(v)) if isinstance(_unwrap(v), torch.Tensor) else v for v in (start, stop, step))
    if stop is None:
        start, stop = 0, start
    if step is None:
        step = 1
    return torch.arange(start, stop, step, dtype=_torch_dtype(dtype), device=_creation_device())


def _start_stop(start: ArrayLike, stop: ArrayLike, dtype: Any) -> tuple[Any, Any, str]:
    if dtype is None:
        dtype = result_type(_dtype_or_type(start), _dtype_or_type(stop), float)
    return _unwrap(start), _unwrap(stop), standardize_dtype(dtype)


def linspace(
    start: ArrayLike,
    stop: ArrayLike,
    num: int = 50,
    endpoint: bool = True,
    retstep: bool = False,
    dtype: Any = None,
    axis: int = 0,
) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
    """``num`` evenly spaced values from ``start`` to ``stop`` (array ``start``/``stop`` allowed).

    Example:
        >>> from lamina import ops
        >>> ops.linspace(0, 1, 5).tolist()
        [0.0, 0.25, 0.5, 0.75, 1.0]
    """
    start, stop, dtype = _start_stop(start, stop, dtype)
    dev = _device_of(start, stop) or _creation_device()
    s = _t(start, device=dev).to(torch.float64)
    e = _t(stop, device=dev).to(torch.float64)
    div = (num - 1) if endpoint else num
    step = (e - s) / div if div > 0 else torch.full_like(e - s, float("nan"))
    steps = torch.arange(num, dtype=torch.float64, device=dev).reshape((num,) + (1,) * s.ndim)
    out = s[None] + steps * step[None] if div > 0 else s[None].expand((num,) + tuple(s.shape)).clone()
    if endpoint and num > 1:
        out[-1] = e
    if axis != 0:
        out = torch.moveaxis(out, 0, axis)
    td = _torch_dtype(dtype)
    out = torch.floor(out).to(td) if not (td.is_floating_point or td.is_complex) else out.to(td)
    if retstep:
        scalar = not isinstance(start, torch.Tensor) and not isinstance(stop, torch.Tensor) and np.ndim(start) == 0
        return out, (float(step) if scalar and np.ndim(stop) == 0 else step.to(td))
    return out


def logspace(
    start: ArrayLike,
    stop: ArrayLike,
    num: int = 50,
    endpoint: bool = True,
    base: float = 10,
    dtype: Any = None,
    axis: int = 0,
) -> torch.Tensor:
    """``base ** linspace(start, stop, num)``.

    Example:
        >>> from lamina import ops
        >>> ops.logspace(0, 2, 3).tolist()
        [1.0, 10.0, 100.0]
    """
    start, stop, dtype = _start_stop(start, stop, dtype)
    exps = linspace(start, stop, num, endpoint=endpoint, dtype="float64", axis=axis)
    return torch.pow(torch.as_tensor(float(base), dtype=torch.float64, device=exps.device), exps).to(
        _torch_dtype(dtype)
    )


def geomspace(
    start: ArrayLike, stop: ArrayLike, num: int = 50, endpoint: bool = True, dtype: Any = None, axis: int = 0
) -> torch.Tensor:
    """``num`` values evenly spaced on a log scale from ``start`` to ``stop`` (same sign).

    Example:
        >>> from lamina import ops
        >>> ops.geomspace(1, 100, 3).tolist()
        [1.0, 10.0, 100.0]
    """
    start, stop, dtype = _start_stop(start, stop, dtype)
    s = _t(start).to(torch.float64)
    e = _t(stop, device=s.device).to(torch.float64)
    exps = linspace(torch.log10(s.abs()), torch.log10(e.abs()), num, endpoint=endpoint, dtype="float64", axis=0)
    out = torch.pow(10.0, exps) * torch.sign(s)
    if endpoint and num > 1:
        out[0] = s
        out[-1] = e
    elif num > 0:
        out[0] = s
    if axis != 0:
        out = torch.moveaxis(out, 0, axis)
    return out.to(_torch_dtype(dtype))


def eye(N: int, M: int | None = None, k: int = 0, dtype: Any = None) -> torch.Tensor:
    """An ``N x M`` matrix with ones on the ``k``-th diagonal.

    Example:
        >>> from lamina import ops
        >>> ops.eye(2, 3, k=1).tolist()
        [[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]
    """
    if isinstance(N, float) or getattr(N, "dtype", None) in (torch.float16, torch.float32, torch.float64):
        raise TypeError("Argument `N` must be an integer or an integer tensor.")
    if isinstance(M, float) or getattr(M, "dtype", None) in (torch.float16, torch.float32, torch.float64):
        raise TypeError("Argument `M` must be an integer, an integer tensor, or `None`.")
    N = int(_unwrap(N))
    M = N if M is None else int(_unwrap(M))
    k = 0 if k is None else int(k)
    dev = _creation_device()
    rows = torch.arange(N, device=dev)[:, None]
    cols = torch.arange(M, device=dev)[None, :]
    return (cols - rows == k).to(_torch_dtype(dtype))


def identity(n: int, dtype: Any = None) -> torch.Tensor:
    """The ``n x n`` identity matrix."""
    return eye(n, dtype=dtype)


def tri(N: int, M: int | None = None, k: int = 0, dtype: Any = None) -> torch.Tensor:
    """Ones at and below the ``k``-th diagonal of an ``N x M`` matrix, zeros elsewhere.

    Example:
        >>> from lamina import ops
        >>> ops.tri(2, dtype="int32").tolist()
        [[1, 0], [1, 1]]
    """
    M = N if M is None else M
    dev = _creation_device()
    rows = torch.arange(N, device=dev)[:, None]
    cols = torch.arange(M, device=dev)[None, :]
    return (cols - rows <= k).to(_torch_dtype(dtype))


def array(x: ArrayLike, dtype: Any = None) -> torch.Tensor:
    """``x`` as a tensor (same as :func:`convert_to_tensor`)."""
    return convert_to_tensor(x, dtype=None if dtype is None else standardize_dtype(dtype))


def copy(x: ArrayLike) -> torch.Tensor:
    """A copy of ``x``."""
    return torch.clone(_t(x))


def view(x: ArrayLike, dtype: Any = None) -> torch.Tensor:
    """The bytes of ``x`` reinterpreted as ``dtype``."""
    return _t(x).view(_torch_dtype(dtype))


def _window(fn: Callable[..., torch.Tensor], x: ArrayLike, **kwargs: Any) -> torch.Tensor:
    n = int(_unwrap(x))
    return fn(n, sym=True, dtype=torch.float32, device=_creation_device(), **kwargs)


def bartlett(x: int) -> torch.Tensor:
    """The Bartlett (triangular) window of ``x`` points."""
    return _window(torch.signal.windows.bartlett, x)


def blackman(x: int) -> torch.Tensor:
    """The Blackman window of ``x`` points."""
    return _window(torch.signal.windows.blackman, x)


def hamming(x: int) -> torch.Tensor:
    """The Hamming window of ``x`` points."""
    return _window(torch.signal.windows.hamming, x)


def hanning(x: int) -> torch.Tensor:
    """The Hann window of ``x`` points."""
    return _window(torch.signal.windows.hann, x)


def kaiser(x: int, beta: float) -> torch.Tensor:
    """The Kaiser window of ``x`` points with shape parameter ``beta``."""
    return _window(torch.signal.windows.kaiser, x, beta=float(beta))


# --------------------------------------------------------------------------- elementwise arithmetic


def add(x1: ArrayLike, x2: ArrayLike) -> torch.Tensor:
    """``x1 + x2`` with broadcasting.

    Example:
        >>> from lamina import ops
        >>> ops.add([1, 2], 0.5).tolist()
        [1.5, 2.5]
    """
    x1, x2 = _ts(x1, x2)
    return torch.add(x1, x2)


def subtract(x1: ArrayLike, x2: ArrayLike) -> torch.Tensor:
    """``x1 - x2`` with broadcasting."""
    x1, x2 = _ts(x1, x2)
    if x1.dtype == torch.bool:
        x1 = x1.to(x2.dtype)
    if x2.dtype == torch.bool:
        x2 = x2.to(x1.dtype)
    return torch.subtract(x1, x2)


def multiply(x1: ArrayLike, x2: ArrayLike) -> torch.Tensor:
    """``x1 * x2`` with broadcasting."""
    x1, x2 = _ts(x1, x2)
    return torch.multiply(x1, x2)


def divide(x1: ArrayLike, x2: ArrayLike) -> torch.Tensor:
    """True division ``x1 / x2`` (integers give ``floatx()``)."""
    x1, x2 = _ts(x1, x2)
    return torch.divide(x1, x2)


def true_divide(x1: ArrayLike, x2: ArrayLike) -> torch.Tensor:
    """Same as :func:`divide`."""
    return divide(x1, x2)


def divide_no_nan(x1: ArrayLike, x2: ArrayLike) -> torch.Tensor:
    """``x1 / x2``, with 0 where ``x2 == 0``.

    Example:
        >>> from lamina import ops
        >>> ops.divide_no_nan([1.0, 1.0], [2.0, 0.0]).tolist()
        [0.5, 0.0]
    """
    dtype = result_type(_dtype_or_type(x1), _dtype_or_type(x2), float)
    dev = _device_of(x1, x2)
    x1 = _t(x1, dtype=dtype, device=dev)
    x2 = _t(x2, dtype=dtype, device=dev)
    zero = x2 == 0
    safe = torch.where(zero, torch.ones_like(x2), x2)
    return torch.where(zero, torch.zeros((), dtype=x1.dtype, device=x1.device), x1 / safe)


def floor_divide(x1: ArrayLike, x2: ArrayLike) -> torch.Tensor:
    """``floor(x1 / x2)`` (Python's ``//``)."""
    dtype = result_type(_dtype_or_type(x1), _dtype_or_type(x2))
    x1, x2 = _ts(x1, x2)
    if dtype == "bool":
        x1, x2 = x1.to(torch.int32), x2.to(torch.int32)
    return _cast_tensor(torch.floor_divide(x1, x2), dtype)


def mod(x1: ArrayLike, x2: ArrayLike) -> torch.Tensor:
    """Remainder with the sign of the divisor (Python's ``%``)."""
    x1, x2 = _ts(x1, x2)
    if x1.dtype == torch.bool and x2.dtype == torch.bool:
        x1, x2 = x1.to(torch.int32), x2.to(torch.int32)
    return torch.remainder(x1, x2)


def fmod(x1: ArrayLike, x2: ArrayLike) -> torch.Tensor:
    """Remainder with the sign of the dividend (C's ``fmod``)."""
    x1, x2 = _ts(x1, x2)
    if x1.dtype == torch.bool and x2.dtype == torch.bool:
        x1, x2 = x1.to(torch.int32), x2.to(torch.int32)
    return torch.fmod(x1, x2)


def power(x1: ArrayLike, x2: ArrayLike) -> torch.Tensor:
    """``x1 ** x2`` elementwise."""
    x1, x2 = _ts(x1, x2)
    return torch.pow(x1, x2)


def negative(x: ArrayLike) -> torch.Tensor:
    """``-x``."""
    return torch.negative(_t(x))


def absolute(x: ArrayLike) -> torch.Tensor:
    """``|x|`` elementwise (booleans are returned as they are)."""
    x = _t(x)
    return x if x.dtype == torch.bool else torch.abs(x)


def abs(x: ArrayLike) -> torch.Tensor:  # noqa: A001 - Keras's name
    """Same as :func:`absolute`."""
    return absolute(x)


def fabs(x: ArrayLike) -> torch.Tensor:
    """``|x|`` as floats (integers become ``floatx()``)."""
    x = _t(x)
    if x.dtype.is_complex:
        raise TypeError(f"fabs does not support complex inputs. Received: x.dtype={x.dtype}")
    return torch.abs(_float_of(x))


def sign(x: ArrayLike) -> torch.Tensor:
    """-1, 0 or 1 by the sign of ``x``."""
    return torch.sign(_t(x))


def signbit(x: ArrayLike) -> torch.Tensor:
    """Whether the sign bit of ``x`` is set (true for -0.0)."""
    x = _t(x)
    if x.dtype == torch.bool:
        return torch.zeros_like(x)
    return torch.signbit(x)


def sqrt(x: ArrayLike) -> torch.Tensor:
    """Square root (integers give ``floatx()``)."""
    return torch.sqrt(_float_of(_t(x)))


def square(x: ArrayLike) -> torch.Tensor:
    """``x * x`` (booleans become ``int32``)."""
    x = _t(x)
    if x.dtype == torch.bool:
        x = x.to(torch.int32)
    return torch.square(x)


def cbrt(x: ArrayLike) -> torch.Tensor:
    """Cube root, real for negative inputs."""
    x = _t(x)
    if x.dtype == torch.int64:
        x = x.to(torch.float64)
    x = _float_of(x)
    return torch.sign(x) * torch.abs(x) ** (1.0 / 3.0)


def reciprocal(x: ArrayLike) -> torch.Tensor:
    """``1 / x``."""
    return torch.reciprocal(_t(x))


def exp(x: ArrayLike) -> torch.Tensor:
    """``e ** x`` (integers give ``floatx()``)."""
    return torch.exp(_float_of(_t(x)))


def exp2(x: ArrayLike) -> torch.Tensor:
    """``2 ** x`` (integers give ``floatx()``)."""
    return torch.exp2(_float_of(_t(x)))


def expm1(x: ArrayLike) -> torch.Tensor:
    """``exp(x) - 1``, accurate near 0."""
    return torch.expm1(_float_of(_t(x)))


def log(x: ArrayLike) -> torch.Tensor:
    """Natural logarithm."""
    return torch.log(_float_of(_t(x)))


def log1p(x: ArrayLike) -> torch.Tensor:
    """``log(1 + x)``, accurate near 0."""
    return torch.log1p(_float_of(_t(x)))


def log2(x: ArrayLike) -> torch.Tensor:
    """Base-2 logarithm."""
    return torch.log2(_float_of(_t(x)))


def log10(x: ArrayLike) -> torch.Tensor:
    """Base-10 logarithm."""
    return torch.log10(_float_of(_t(x)))


def sin(x: ArrayLike) -> torch.Tensor:
    """Sine."""
    return torch.sin(_float_of(_t(x)))


def cos(x: ArrayLike) -> torch.Tensor:
    """Cosine."""
    return torch.cos(_float_of(_t(x)))


def tan(x: ArrayLike) -> torch.Tensor:
    """Tangent."""
    return torch.tan(_float_of(_t(x)))


def arcsin(x: ArrayLike) -> torch.Tensor:
    """Inverse sine."""
    return torch.arcsin(_float_of(_t(x)))


def arccos(x: ArrayLike) -> torch.Tensor:
    """Inverse cosine."""
    return torch.arccos(_float_of(_t(x)))


def arctan(x: ArrayLike) -> torch.Tensor:
    """Inverse tangent."""
    return torch.arctan(_float_of(_t(x)))


def arctan2(x1: ArrayLike, x2: ArrayLike) -> torch.Tensor:
    """The angle of the point ``(x2, x1)``, in ``[-pi, pi]``."""
    dtype = result_type(_dtype_or_type(x1), _dtype_or_type(x2), float)
    x1, x2 = _ts(x1, x2)
    return torch.arctan2(_cast_tensor(x1, dtype), _cast_tensor(x2, dtype))


def sinh(x: ArrayLike) -> torch.Tensor:
    """Hyperbolic sine."""
    return torch.sinh(_float_of(_t(x)))


def cosh(x: ArrayLike) -> torch.Tensor:
    """Hyperbolic cosine."""
    return torch.cosh(_float_of(_t(x)))


def tanh(x: ArrayLike) -> torch.Tensor:
    """Hyperbolic tangent."""
    return torch.tanh(_float_of(_t(x)))


def arcsinh(x: ArrayLike) -> torch.Tensor:
    """Inverse hyperbolic sine."""
    return torch.arcsinh(_float_of(_t(x)))


def arccosh(x: ArrayLike) -> torch.Tensor:
    """Inverse hyperbolic cosine."""
    return torch.arccosh(_float_of(_t(x)))


def arctanh(x: ArrayLike) -> torch.Tensor:
    """Inverse hyperbolic tangent."""
    return torch.arctanh(_float_of(_t(x)))


def deg2rad(x: ArrayLike) -> torch.Tensor:
    """Degrees to radians."""
    x = _t(x)
    return torch.deg2rad(x.to(torch.float64) if x.dtype == torch.int64 else _float_of(x))


def rad2deg(x: ArrayLike) -> torch.Tensor:
    """Radians to degrees."""
    x = _t(x)
    return torch.rad2deg(x.to(torch.float64) if x.dtype == torch.int64 else _float_of(x))


def sinc(x: ArrayLike) -> torch.Tensor:
    """Normalised sinc, ``sin(pi x) / (pi x)``."""
    return torch.sinc(_float_of(_t(x)))


def i0(x: ArrayLike) -> torch.Tensor:
    """Modified Bessel function of the first kind, order 0."""
    x = _t(x)
    if x.dtype in (torch.int64, torch.float64):
        x = x.to(torch.float64)
    elif x.dtype not in (torch.float16, torch.bfloat16):
        x = x.to(_torch_dtype(backend.floatx()))
    return torch.i0(x)


def _rounding(fn: Callable[[torch.Tensor], torch.Tensor], x: ArrayLike) -> torch.Tensor:
    x = _t(x)
    dtype = backend.floatx() if x.dtype == torch.int64 else result_type(x.dtype, float)
    return fn(_cast_tensor(x, dtype))


def floor(x: ArrayLike) -> torch.Tensor:
    """Largest integer ``<= x``, as a float."""
    return _rounding(torch.floor, x)


def ceil(x: ArrayLike) -> torch.Tensor:
    """Smallest integer ``>= x``, as a float."""
    return _rounding(torch.ceil, x)


def trunc(x: ArrayLike) -> torch.Tensor:
    """``x`` rounded toward zero (dtype kept)."""
    x = _t(x)
    if _is_int_or_bool(x):
        return x
    return torch.trunc(x)


def round(x: ArrayLike, decimals: int = 0) -> torch.Tensor:  # noqa: A001 - Keras's name
    """Rounds half to even, to ``decimals`` decimal places (dtype kept).

    Example:
        >>> from lamina import ops
        >>> ops.round([0.5, 1.5, 2.567], 0).tolist()
        [0.0, 2.0, 3.0]
    """
    x = _t(x)
    if _is_int_or_bool(x):
        if decimals >= 0:
            return x
        y = torch.round(x.to(_torch_dtype(backend.floatx())), decimals=decimals)
        return y.to(x.dtype)
    return torch.round(x, decimals=decimals)


def clip(x: ArrayLike, x_min: ArrayLike, x_max: ArrayLike) -> torch.Tensor:
    """``x`` limited to ``[x_min, x_max]`` (booleans become ``int32``).

    Example:
        >>> from lamina import ops
        >>> ops.clip([-2, 0, 5], -1, 3).tolist()
        [-1, 0, 3]
    """
    x = _t(x)
    if x.dtype == torch.bool:
        x = x.to(torch.int32)
    lo = _unwrap(x_min)
    hi = _unwrap(x_max)
    if isinstance(lo, (torch.Tensor, np.ndarray, list)) or isinstance(hi, (torch.Tensor, np.ndarray, list)):
        lo = None if lo is None else _t(lo, device=x.device)
        hi = None if hi is None else _t(hi, device=x.device)
        return torch.clamp(x, lo, hi)
    if x.dtype.is_floating_point or (not isinstance(lo, float) and not isinstance(hi, float)):
        return torch.clamp(x, lo, hi)
    return torch.clamp(x.to(_torch_dtype(backend.floatx())), lo, hi)


def _promote_pair(x1: ArrayLike, x2: ArrayLike, *extra: Any) -> tuple[torch.Tensor, torch.Tensor]:
    dtype = result_type(_dtype_or_type(x1), _dtype_or_type(x2), *extra)
    dev = _device_of(x1, x2)
    return _t(x1, dtype=dtype, device=dev), _t(x2, dtype=dtype, device=dev)


def maximum(x1: ArrayLike, x2: ArrayLike) -> torch.Tensor:
    """Elementwise maximum (NaN propagates)."""
    return torch.maximum(*_promote_pair(x1, x2))


def minimum(x1: ArrayLike, x2: ArrayLike) -> torch.Tensor:
    """Elementwise minimum (NaN propagates)."""
    return torch.minimum(*_promote_pair(x1, x2))


def fmax(x1: ArrayLike, x2: ArrayLike) -> torch.Tensor:
    """Elementwise maximum ignoring NaN."""
    return torch.fmax(*_promote_pair(x1, x2))


def fmin(x1: ArrayLike, x2: ArrayLike) -> torch.Tensor:
    """Elementwise minimum ignoring NaN."""
    return torch.fmin(*_promote_pair(x1, x2))


def logaddexp(x1: ArrayLike, x2: ArrayLike) -> torch.Tensor:
    """``log(exp(x1) + exp(x2))``, computed stably."""
    return torch.logaddexp(*_promote_pair(x1, x2, float))


def logaddexp2(x1: ArrayLike, x2: ArrayLike) -> torch.Tensor:
    """``log2(2**x1 + 2**x2)``, computed stably."""
    return torch.logaddexp2(*_promote_pair(x1, x2, float))


def _float_pair(x1: ArrayLike, x2: ArrayLike) -> tuple[torch.Tensor, torch.Tensor]:
    dtype = result_type(_dtype_or_type(x1), _dtype_or_type(x2))
    if dtype in ("int8", "int16", "int32", "uint8", "uint16", "uint32", "bool"):
        dtype = backend.floatx()
    elif dtype == "int64":
        dtype = "float64"
    dev = _device_of(x1, x2)
    return _t(x1, dtype=dtype, device=dev), _t(x2, dtype=dtype, device=dev)


def hypot(x1: ArrayLike, x2: ArrayLike) -> torch.Tensor:
    """``sqrt(x1**2 + x2**2)``."""
    return torch.hypot(*_float_pair(x1, x2))


def heaviside(x1: ArrayLike, x2: ArrayLike) -> torch.Tensor:
    """0 where ``x1 < 0``, 1 where ``x1 > 0``, ``x2`` where ``x1 == 0``."""
    return torch.heaviside(*_float_pair(x1, x2))


def nextafter(x1: ArrayLike, x2: ArrayLike) -> torch.Tensor:
    """The next representable float after ``x1`` toward ``x2``."""
    dtype = result_type(_dtype_or_type(x1), _dtype_or_type(x2), float)
    x1, x2 = _ts(x1, x2)
    td = _torch_dtype(dtype)
    return torch.nextafter(x1.to(td), x2.to(td))


def ldexp(x1: ArrayLike, x2: ArrayLike) -> torch.Tensor:
    """``x1 * 2 ** x2`` with integer exponents ``x2``."""
    dtype = result_type(_dtype_or_type(x1), _dtype_or_type(x2), float)
    x1, x2 = _ts(x1, x2)
    if _name(x2) not in ("uint8", "uint16", "uint32", "uint64", "int8", "int16", "int32", "int64"):
        raise TypeError(f"ldexp exponent must be an integer type. Received: x2 dtype={x2.dtype}")
    return _cast_tensor(torch.ldexp(x1, x2), dtype)


def gcd(x1: ArrayLike, x2: ArrayLike) -> torch.Tensor:
    """Greatest common divisor of integers."""
    return torch.gcd(*_ts(x1, x2))


def lcm(x1: ArrayLike, x2: ArrayLike) -> torch.Tensor:
    """Least common multiple of integers."""
    return torch.lcm(*_ts(x1, x2))


def nan_to_num(
    x: ArrayLike, nan: float = 0.0, posinf: float | None = None, neginf: float | None = None
) -> torch.Tensor:
    """``x`` with NaN replaced by ``nan`` and infinities by ``posinf``/``neginf`` (default: dtype limits)."""
    x = _t(x)
    if _is_int_or_bool(x):
        return x
    return torch.nan_to_num(x, nan=nan, posinf=posinf, neginf=neginf)


def conjugate(x: ArrayLike) -> torch.Tensor:
    """Complex conjugate."""
    return torch.conj(_t(x)).resolve_conj()


def conj(x: ArrayLike) -> torch.Tensor:
    """Same as :func:`conjugate`."""
    return conjugate(x)


def real(x: ArrayLike) -> torch.Tensor:
    """Real part."""
    x = _t(x)
    return torch.real(x) if x.dtype.is_complex else x


def imag(x: ArrayLike) -> torch.Tensor:
    """Imaginary part (zeros for real inputs)."""
    x = _t(x)
    return torch.imag(x) if x.dtype.is_complex else torch.zeros_like(x)


def angle(x: ArrayLike) -> torch.Tensor:
    """Argument of complex numbers (0 or pi for reals)."""
    return torch.angle(_float_of(_t(x)) if not _t(x).dtype.is_complex else _t(x))


# --------------------------------------------------------------------------- bitwise


def bitwise_and(x: ArrayLike, y: ArrayLike) -> torch.Tensor:
    """Bitwise AND of integers/booleans."""
    return torch.bitwise_and(*_ts(x, y))


def bitwise_or(x: ArrayLike, y: ArrayLike) -> torch.Tensor:
    """Bitwise OR of integers/booleans."""
    return torch.bitwise_or(*_ts(x, y))


def bitwise_xor(x: ArrayLike, y: ArrayLike) -> torch.Tensor:
    """Bitwise XOR of integers/booleans."""
    return torch.bitwise_xor(*_ts(x, y))


def bitwise_invert(x: ArrayLike) -> torch.Tensor:
    """Bitwise NOT of integers/booleans."""
    return torch.bitwise_not(_t(x))


def bitwise_not(x: ArrayLike) -> torch.Tensor:
    """Same as :func:`bitwise_invert`."""
    return bitwise_invert(x)


def bitwise_left_shift(x: ArrayLike, y: ArrayLike) -> torch.Tensor:
    """``x << y``."""
    x = _t(x)
    return torch.bitwise_left_shift(x, y if isinstance(y, int) else _t(y, device=x.device))


def bitwise_right_shift(x: ArrayLike, y: ArrayLike) -> torch.Tensor:
    """``x >> y``."""
    x = _t(x)
    return torch.bitwise_right_shift(x, y if isinstance(y, int) else _t(y, device=x.device))


def left_shift(x: ArrayLike, y: ArrayLike) -> torch.Tensor:
    """Same as :func:`bitwise_left_shift`."""
    return bitwise_left_shift(x, y)


def right_shift(x: ArrayLike, y: ArrayLike) -> torch.Tensor:
    """Same as :func:`bitwise_right_shift`."""
    return bitwise_right_shift(x, y)


# --------------------------------------------------------------------------- comparison and logic


def equal(x1: ArrayLike, x2: ArrayLike) -> torch.Tensor:
    """``x1 == x2`` elementwise."""
    return torch.eq(*_ts(x1, x2))


def not_equal(x1: ArrayLike, x2: ArrayLike) -> torch.Tensor:
    """``x1 != x2`` elementwise."""
    return torch.ne(*_ts(x1, x2))


def greater(x1: ArrayLike, x2: ArrayLike) -> torch.Tensor:
    """``x1 > x2`` elementwise."""
    return torch.gt(*_ts(x1, x2))


def greater_equal(x1: ArrayLike, x2: ArrayLike) -> torch.Tensor:
    """``x1 >= x2`` elementwise."""
    return torch.ge(*_ts(x1, x2))


def less(x1: ArrayLike, x2: ArrayLike) -> torch.Tensor:
    """``x1 < x2`` elementwise."""
    return torch.lt(*_ts(x1, x2))


def less_equal(x1: ArrayLike, x2: ArrayLike) -> torch.Tensor:
    """``x1 <= x2`` elementwise."""
    return torch.le(*_ts(x1, x2))


def logical_and(x1: ArrayLike, x2: ArrayLike) -> torch.Tensor:
    """Truth of ``x1 and x2`` elementwise."""
    return torch.logical_and(*_ts(x1, x2))


def logical_or(x1: ArrayLike, x2: ArrayLike) -> torch.Tensor:
    """Truth of ``x1 or x2`` elementwise."""
    return torch.logical_or(*_ts(x1, x2))


def logical_xor(x1: ArrayLike, x2: ArrayLike) -> torch.Tensor:
    """Truth of ``x1 xor x2`` elementwise."""
    return torch.logical_xor(*_ts(x1, x2))


def logical_not(x: ArrayLike) -> torch.Tensor:
    """Truth of ``not x`` elementwise."""
    return torch.logical_not(_t(x))


def isnan(x: ArrayLike) -> torch.Tensor:
    """Where ``x`` is NaN."""
    return torch.isnan(_t(x))


def isinf(x: ArrayLike) -> torch.Tensor:
    """Where ``x`` is +inf or -inf."""
    return torch.isinf(_t(x))


def isfinite(x: ArrayLike) -> torch.Tensor:
    """Where ``x`` is neither infinite nor NaN."""
    return torch.isfinite(_t(x))


def isposinf(x: ArrayLike) -> torch.Tensor:
    """Where ``x`` is +inf."""
    return torch.isposinf(_t(x))


def isneginf(x: ArrayLike) -> torch.Tensor:
    """Where ``x`` is -inf."""
    return torch.isneginf(_t(x))


def isreal(x: ArrayLike) -> torch.Tensor:
    """Where ``x`` has no imaginary part."""
    return torch.isreal(_t(x))


def isclose(
    x1: ArrayLike, x2: ArrayLike, rtol: float = 1e-5, atol: float = 1e-8, equal_nan: bool = False
) -> torch.Tensor:
    """Where ``|x1 - x2| <= atol + rtol * |x2|``."""
    x1, x2 = _promote_pair(x1, x2)
    if x1.dtype.is_floating_point or x1.dtype.is_complex:
        return torch.isclose(x1, x2, rtol=rtol, atol=atol, equal_nan=equal_nan)
    return torch.eq(x1, x2)


def allclose(
    x1: ArrayLike, x2: ArrayLike, rtol: float = 1e-5, atol: float = 1e-8, equal_nan: bool = False
) -> torch.Tensor:
    """Whether :func:`isclose` holds everywhere (a bool scalar tensor)."""
    return torch.all(isclose(x1, x2, rtol=rtol, atol=atol, equal_nan=equal_nan))


def where(condition: ArrayLike, x1: ArrayLike = None, x2: ArrayLike = None) -> Any:
    """``x1`` where ``condition`` holds, else ``x2``; with only ``condition``, its nonzero indices.

    Example:
        >>> from lamina import ops
        >>> ops.where([True, False], 1.0, 0.0).tolist()
        [1.0, 0.0]
    """
    if (x1 is None) != (x2 is None):
        raise ValueError("`x1` and `x2` either both should be `None` or both should have non-None value.")
    dev = _device_of(condition, x1, x2)
    condition = _t(condition, device=dev)
    if condition.dtype != torch.bool:
        condition = condition != 0
    if x1 is None:
        return nonzero(condition)
    x1, x2 = _ts(x1, x2)
    return torch.where(condition, x1.to(condition.device), x2.to(condition.device))


def select(condlist: Sequence[ArrayLike], choicelist: Sequence[ArrayLike], default: ArrayLike = 0) -> torch.Tensor:
    """From ``choicelist[i]`` where ``condlist[i]`` is the first true condition, else ``default``.

    Example:
        >>> from lamina import ops
        >>> x = ops.arange(4)
        >>> ops.select([x < 1, x > 2], [x, x * 10], -1).tolist()
        [0, -1, -1, 30]
    """
    if not isinstance(condlist, (list, tuple)) or not isinstance(choicelist, (list, tuple)):
        raise ValueError(
            "condlist and choicelist must be lists. Received: "
            f"type(condlist) = {type(condlist)}, type(choicelist) = {type(choicelist)}"
        )
    if not condlist or not choicelist:
        raise ValueError(
            f"condlist and choicelist must not be empty. Received: condlist = {condlist}, choicelist = {choicelist}"
        )
    dev = _device_of(*condlist, *choicelist)
    out = _t(default, device=dev)
    for c, v in reversed(list(zip(condlist, choicelist))):
        c = _t(c, device=dev)
        v = _t(v, device=dev)
        out = torch.where(c.bool(), v, out)
    return out


# --------------------------------------------------------------------------- reductions


def _reduce_empty_axis(axis: Axis) -> bool:
    return isinstance(axis, (tuple, list)) and len(axis) == 0


def sum(x: ArrayLike, axis: Axis = None, keepdims: bool = False) -> torch.Tensor:  # noqa: A001
    """Sum over ``axis`` (all axes by default); small ints and bools sum as ``int32``.

    Example:
        >>> from lamina import ops
        >>> ops.sum([[1, 2], [3, 4]], axis=0).tolist()
        [4, 6]
    """
    x = _t(x)
    if _reduce_empty_axis(axis):
        return x
    out_dtype = x.dtype
    if x.dtype in (torch.bool, torch.uint8, torch.int8, torch.int16):
        out_dtype = torch.int32
    dims = _axes(axis)
    if dims is None:
        r = torch.sum(x)
        if keepdims:
            r = r.reshape((1,) * x.ndim)
    else:
        r = torch.sum(x, dim=dims, keepdim=keepdims)
    return r.to(out_dtype)


def mean(x: ArrayLike, axis: Axis = None, keepdims: bool = False) -> torch.Tensor:
    """Average over ``axis``; integer inputs give ``float32``.

    Example:
        >>> from lamina import ops
        >>> ops.mean([[1.0, 2.0], [3.0, 5.0]], axis=-1).tolist()
        [1.5, 4.0]
    """
    x = _t(x)
    if _reduce_empty_axis(axis):
        return x
    name = _name(x)
    if _is_int_or_bool(x):
        compute = out = result_type(name, "float32")
    else:
        out = name
        compute = name if name in ("float32", "float64") or x.dtype.is_complex else "float32"
    x = _cast_tensor(x, compute)
    dims = _axes(axis)
    r = torch.mean(x, dim=dims, keepdim=keepdims) if dims is not None else torch.mean(x)
    if dims is None and keepdims:
        r = r.reshape((1,) * x.ndim)
    return _cast_tensor(r, out)


def _amax_amin(fn: Callable[..., torch.Tensor], x: torch.Tensor, axis: Axis, keepdims: bool) -> torch.Tensor:
    if _reduce_empty_axis(axis):
        return x
    dims = _axes(axis)
    if dims is None:
        r = fn(x)
        return r.reshape((1,) * x.ndim) if keepdims else r
    return fn(x, dim=dims, keepdim=keepdims)


def max(x: ArrayLike, axis: Axis = None, keepdims: bool = False, initial: Any = None) -> torch.Tensor:  # noqa: A001
    """Maximum over ``axis``; ``initial`` is an extra candidate (needed for empty inputs).

    Example:
        >>> from lamina import ops
        >>> ops.max([[1, 5], [3, 2]], axis=1).tolist()
        [5, 3]
    """
    x = _t(x)
    if x.numel() == 0 and initial is None:
        raise ValueError("Cannot compute the max of an empty tensor.")
    if x.numel() == 0:
        shape = (1,) * x.ndim if keepdims else ()
        return torch.full(shape, initial, dtype=x.dtype, device=x.device)
    r = _amax_amin(torch.amax, x, axis, keepdims)
    if initial is not None:
        r = torch.maximum(r, torch.as_tensor(initial, dtype=r.dtype, device=r.device))
    return r


def min(x: ArrayLike, axis: Axis = None, keepdims: bool = False, initial: Any = None) -> torch.Tensor:  # noqa: A001
    """Minimum over ``axis``; ``initial`` is an extra candidate (needed for empty inputs)."""
    x = _t(x)
    if x.numel() == 0 and initial is None:
        raise ValueError("Cannot compute the min of an empty tensor.")
    if x.numel() == 0:
        shape = (1,) * x.ndim if keepdims else ()
        return torch.full(shape, initial, dtype=x.dtype, device=x.device)
    r = _amax_amin(torch.amin, x, axis, keepdims)
    if initial is not None:
        r = torch.minimum(r, torch.as_tensor(initial, dtype=r.dtype, device=r.device))
    return r


def amax(x: ArrayLike, axis: Axis = None, keepdims: bool = False) -> torch.Tensor:
    """Maximum over ``axis``."""
    return _amax_amin(torch.amax, _t(x), axis, keepdims)


def amin(x: ArrayLike, axis: Axis = None, keepdims: bool = False) -> torch.Tensor:
    """Minimum over ``axis``."""
    return _amax_amin(torch.amin, _t(x), axis, keepdims)


def ptp(x: ArrayLike, axis: Axis = None, keepdims: bool = False) -> torch.Tensor:
    """Range ``max - min`` over ``axis``."""
    x = _t(x)
    if _reduce_empty_axis(axis):
        return torch.zeros_like(x)
    return _amax_amin(torch.amax, x, axis, keepdims) - _amax_amin(torch.amin, x, axis, keepdims)


def prod(x: ArrayLike, axis: Axis = None, keepdims: bool = False, dtype: Any = None) -> torch.Tensor:
    """Product over ``axis``; small ints and bools multiply as ``int32``."""
    x = _t(x)
    if dtype is None:
        dtype = result_type(x.dtype)
        if dtype in ("bool", "int8", "int16", "uint8"):
            dtype = "int32"
    td = _torch_dtype(dtype)
    dims = _axes(axis)
    if dims is None:
        r = torch.prod(x, dtype=td)
        return r.reshape((1,) * x.ndim) if keepdims else r
    dims = sorted((_canon(a, x.ndim) for a in dims), reverse=True)
    for a in dims:
        x = torch.prod(x, dim=a, keepdim=keepdims, dtype=td)
    return x.to(td)


def var(x: ArrayLike, axis: Axis = None, keepdims: bool = False) -> torch.Tensor:
    """Population variance (``ddof=0``) over ``axis``."""
    x = _t(x)
    out = result_type(x.dtype, float)
    if _reduce_empty_axis(axis):
        return torch.zeros_like(x, dtype=_torch_dtype(out))
    compute = "float64" if x.dtype == torch.float64 else result_type(x.dtype, "float32")
    x = _cast_tensor(x, compute)
    dims = _axes(axis)
    r = torch.var(x, dim=dims, keepdim=keepdims, correction=0)
    if dims is None and keepdims:
        r = r.reshape((1,) * x.ndim)
    return _cast_tensor(r, "float64" if compute == "float64" else out)


def std(x: ArrayLike, axis: Axis = None, keepdims: bool = False) -> torch.Tensor:
    """Population standard deviation (``ddof=0``) over ``axis``."""
    x = _t(x)
    if _is_int_or_bool(x):
        x = x.to(torch.float32)
    if _reduce_empty_axis(axis):
        return torch.zeros_like(x)
    dims = _axes(axis)
    r = torch.std(x, dim=dims, keepdim=keepdims, correction=0)
    if dims is None and keepdims:
        r = r.reshape((1,) * x.ndim)
    return r


def all(x: ArrayLike, axis: Axis = None, keepdims: bool = False) -> torch.Tensor:  # noqa: A001
    """Whether all entries along ``axis`` are true (nonzero)."""
    x = _t(x)
    if _reduce_empty_axis(axis):
        return x.bool()
    return _amax_amin(torch.all, x, axis, keepdims).bool()


def any(x: ArrayLike, axis: Axis = None, keepdims: bool = False) -> torch.Tensor:  # noqa: A001
    """Whether any entry along ``axis`` is true (nonzero)."""
    x = _t(x)
    if _reduce_empty_axis(axis):
        return x.bool()
    return _amax_amin(torch.any, x, axis, keepdims).bool()


def _arg(fn: Callable[..., torch.Tensor], x: ArrayLike, axis: int | None, keepdims: bool) -> torch.Tensor:
    x = _t(x)
    if x.dtype == torch.bool:
        x = x.to(torch.uint8)
    if axis is None:
        r = fn(x.reshape(-1))
        if keepdims:
            r = r.reshape((1,) * x.ndim)
    else:
        r = fn(x, dim=int(axis), keepdim=keepdims)
    return r.to(torch.int32)


def argmax(x: ArrayLike, axis: int | None = None, keepdims: bool = False) -> torch.Tensor:
    """Index of the maximum along ``axis`` (of the flattened input when ``None``), ``int32``.

    Example:
        >>> from lamina import ops
        >>> ops.argmax([[1, 5], [3, 2]], axis=1).tolist()
        [1, 0]
    """
    return _arg(torch.argmax, x, axis, keepdims)


def argmin(x: ArrayLike, axis: int | None = None, keepdims: bool = False) -> torch.Tensor:
    """Index of the minimum along ``axis`` (of the flattened input when ``None``), ``int32``."""
    return _arg(torch.argmin, x, axis, keepdims)


def _cum(fn: Callable[..., torch.Tensor], x: ArrayLike, axis: int | None, dtype: Any) -> torch.Tensor:
    x = _t(x)
    if axis is None:
        x = x.reshape(-1)
        axis = 0
    name = result_type(dtype if dtype is not None else x.dtype)
    if name == "bool":
        name = "int32"
    return fn(x, dim=int(axis), dtype=_torch_dtype(name))


def cumsum(x: ArrayLike, axis: int | None = None, dtype: Any = None) -> torch.Tensor:
    """Running sum along ``axis`` (of the flattened input when ``None``).

    Example:
        >>> from lamina import ops
        >>> ops.cumsum([1, 2, 3]).tolist()
        [1, 3, 6]
    """
    return _cum(torch.cumsum, x, axis, dtype)


def cumprod(x: ArrayLike, axis: int | None = None, dtype: Any = None) -> torch.Tensor:
    """Running product along ``axis`` (of the flattened input when ``None``)."""
    return _cum(torch.cumprod, x, axis, dtype)


def count_nonzero(x: ArrayLike, axis: Axis = None) -> torch.Tensor:
    """Number of nonzero entries along ``axis``, ``int32``."""
    x = _t(x)
    if _reduce_empty_axis(axis):
        return (x != 0).to(torch.int32)
    dims = _axes(axis)
    return torch.count_nonzero(x, dim=dims).to(torch.int32)


def average(x: ArrayLike, axis: int | None = None, weights: ArrayLike = None) -> torch.Tensor:
    """Weighted mean along ``axis``; 1-D ``weights`` apply along ``axis``.

    Example:
        >>> from lamina import ops
        >>> ops.average([1.0, 2.0, 3.0], weights=[3.0, 1.0, 0.0]).item()
        1.25
    """
    x = _t(x)
    types = [x.dtype, float]
    if weights is not None:
        weights = _t(weights, device=x.device)
        types.append(weights.dtype)
    dtype = result_type(*types)
    x = _cast_tensor(x, dtype)
    if _reduce_empty_axis(axis):
        return x
    if weights is None:
        return torch.mean(x) if axis is None else torch.mean(x, dim=axis)
    weights = _cast_tensor(weights, dtype)
    if axis is not None and weights.ndim == 1 and x.ndim > 1:
        if weights.shape[0] != x.shape[axis]:
            raise ValueError(
                f"Length of `weights` ({weights.shape[0]}) must match the size of `x` along axis {axis} "
                f"({x.shape[axis]})."
            )
        shape = [1] * x.ndim
        shape[axis] = -1
        weights = weights.reshape(shape)
    weights = torch.broadcast_to(weights, x.shape)
    if axis is None:
        return torch.sum(x * weights) / torch.sum(weights)
    return torch.sum(x * weights, dim=axis) / torch.sum(weights, dim=axis)


def _quantile(
    x: ArrayLike, q: ArrayLike, axis: Axis, method: str, keepdims: bool, fn: Callable[..., torch.Tensor]
) -> torch.Tensor:
    x = _t(x)
    out_dtype = result_type(x.dtype, float)
    compute = "float64" if x.dtype == torch.float64 else result_type(x.dtype, "float32")
    x = _cast_tensor(x, compute)
    q = _t(q, device=x.device).to(x.dtype)
    dims = _axes(axis)
    if dims is None:
        y = x.reshape(-1)
        dims_c: list[int] = list(range(x.ndim))
    else:
        dims_c = [_canon(a, x.ndim) for a in dims]
        others = [d for d in range(x.ndim) if d not in dims_c]
        y = x.permute(others + dims_c).reshape([x.shape[d] for d in others] + [-1])
    r = fn(y, q, dim=-1, interpolation=method)
    if keepdims:
        lead = 1 if q.ndim > 0 else 0
        for d in sorted(dims_c):
            r = r.unsqueeze(d + lead)
    return _cast_tensor(r, "float64" if compute == "float64" else out_dtype)


def quantile(
    x: ArrayLike, q: ArrayLike, axis: Axis = None, method: str = "linear", keepdims: bool = False
) -> torch.Tensor:
    """The ``q``-th quantiles (``q`` in ``[0, 1]``) along ``axis``; ``method`` as in NumPy."""
    return _quantile(x, q, axis, method, keepdims, torch.quantile)


def percentile(
    x: ArrayLike, q: ArrayLike, axis: Axis = None, method: str = "linear", keepdims: bool = False
) -> torch.Tensor:
    """The ``q``-th percentiles (``q`` in ``[0, 100]``) along ``axis``."""
    q = _t(q, dtype=backend.floatx()) / 100.0
    return _quantile(x, q, axis, method, keepdims, torch.quantile)


def median(x: ArrayLike, axis: Axis = None, keepdims: bool = False) -> torch.Tensor:
    """Median along ``axis`` (the mean of the two middle values for even counts)."""
    return _quantile(x, 0.5, axis, "linear", keepdims, torch.quantile)


def nanquantile(
    x: ArrayLike, q: ArrayLike, axis: Axis = None, method: str = "linear", keepdims: bool = False
) -> torch.Tensor:
    """:func:`quantile` ignoring NaNs."""
    return _quantile(x, q, axis, method, keepdims, torch.nanquantile)


def nanpercentile(
    x: ArrayLike, q: ArrayLike, axis: Axis = None, method: str = "linear", keepdims: bool = False
) -> torch.Tensor:
    """:func:`percentile` ignoring NaNs."""
    q = _t(q, dtype=backend.floatx()) / 100.0
    return _quantile(x, q, axis, method, keepdims, torch.nanquantile)


def nanmedian(x: ArrayLike, axis: Axis = None, keepdims: bool = False) -> torch.Tensor:
    """:func:`median` ignoring NaNs."""
    if _reduce_empty_axis(axis):
        return _t(x)
    return _quantile(x, 0.5, axis, "linear", keepdims, torch.nanquantile)


def nansum(x: ArrayLike, axis: Axis = None, keepdims: bool = False) -> torch.Tensor:
    """:func:`sum` treating NaN as 0."""
    x = _t(x)
    return sum(torch.nan_to_num(x, nan=0.0) if not _is_int_or_bool(x) else x, axis=axis, keepdims=keepdims)


def nanprod(x: ArrayLike, axis: Axis = None, keepdims: bool = False) -> torch.Tensor:
    """:func:`prod` treating NaN as 1."""
    x = _t(x)
    if not _is_int_or_bool(x):
        x = torch.where(torch.isnan(x), torch.ones((), dtype=x.dtype, device=x.device), x)
    if _reduce_empty_axis(axis):
        return x
    return prod(x, axis=axis, keepdims=keepdims)


def nanmean(x: ArrayLike, axis: Axis = None, keepdims: bool = False) -> torch.Tensor:
    """:func:`mean` ignoring NaNs."""
    x = _t(x)
    if _reduce_empty_axis(axis):
        return x
    x = _cast_tensor(x, result_type(x.dtype, float))
    r = torch.nanmean(x, dim=_axes(axis), keepdim=keepdims)
    if axis is None and keepdims:
        r = r.reshape((1,) * x.ndim)
    return r


def nanvar(x: ArrayLike, axis: Axis = None, keepdims: bool = False) -> torch.Tensor:
    """:func:`var` ignoring NaNs."""
    x = _t(x)
    x = _cast_tensor(x, result_type(x.dtype, float))
    if _reduce_empty_axis(axis):
        return torch.where(torch.isnan(x), x, torch.zeros_like(x))
    valid = ~torch.isnan(x)
    m = nanmean(x, axis=axis, keepdims=True)
    centered = torch.where(valid, x - m, torch.zeros_like(x))
    dims = _axes(axis)
    sq = centered.square()
    if dims is None:
        r = sq.sum() / valid.sum()
        return r.reshape((1,) * x.ndim) if keepdims else r
    return sq.sum(dim=dims, keepdim=keepdims) / valid.sum(dim=dims, keepdim=keepdims)


def nanstd(x: ArrayLike, axis: Axis = None, keepdims: bool = False) -> torch.Tensor:
    """:func:`std` ignoring NaNs."""
    return torch.sqrt(nanvar(x, axis=axis, keepdims=keepdims))


def _nan_extreme(
    x: ArrayLike, axis: Axis, keepdims: bool, fill: float, fn: Callable[..., torch.Tensor]
) -> torch.Tensor:
    x = _t(x)
    if _is_int_or_bool(x):
        return _amax_amin(fn, x, axis, keepdims)
    if _reduce_empty_axis(axis):
        return x
    nan = torch.isnan(x)
    out = _amax_amin(fn, torch.where(nan, torch.full((), fill, dtype=x.dtype, device=x.device), x), axis, keepdims)
    all_nan = _amax_amin(torch.all, nan, axis, keepdims)
    return torch.where(all_nan, torch.full((), float("nan"), dtype=x.dtype, device=x.device), out)


def nanmax(x: ArrayLike, axis: Axis = None, keepdims: bool = False) -> torch.Tensor:
    """:func:`max` ignoring NaNs (NaN where all are NaN)."""
    return _nan_extreme(x, axis, keepdims, float("-inf"), torch.amax)


def nanmin(x: ArrayLike, axis: Axis = None, keepdims: bool = False) -> torch.Tensor:
    """:func:`min` ignoring NaNs (NaN where all are NaN)."""
    return _nan_extreme(x, axis, keepdims, float("inf"), torch.amin)


def _nan_arg(
    x: ArrayLike, axis: int | None, keepdims: bool, fill: float, fn: Callable[..., torch.Tensor]
) -> torch.Tensor:
    x = _t(x)
    if _is_int_or_bool(x):
        return _arg(fn, x, axis, keepdims)
    nan = torch.isnan(x)
    idx = _arg(fn, torch.where(nan, torch.full((), fill, dtype=x.dtype, device=x.device), x), axis, keepdims)
    all_nan = torch.all(nan) if axis is None else torch.all(nan, dim=axis, keepdim=keepdims)
    if axis is None and keepdims:
        all_nan = all_nan.reshape(idx.shape)
    return torch.where(all_nan, torch.full((), -1, dtype=torch.int32, device=x.device), idx)


def nanargmax(x: ArrayLike, axis: int | None = None, keepdims: bool = False) -> torch.Tensor:
    """:func:`argmax` ignoring NaNs (-1 where all are NaN)."""
    return _nan_arg(x, axis, keepdims, float("-inf"), torch.argmax)


def nanargmin(x: ArrayLike, axis: int | None = None, keepdims: bool = False) -> torch.Tensor:
    """:func:`argmin` ignoring NaNs (-1 where all are NaN)."""
    return _nan_arg(x, axis, keepdims, float("inf"), torch.argmin)


def nancumsum(x: ArrayLike, axis: int | None = None, dtype: Any = None) -> torch.Tensor:
    """:func:`cumsum` treating NaN as 0."""
    return cumsum(nan_to_num(x, nan=0.0, posinf=float("inf"), neginf=float("-inf")), axis=axis, dtype=dtype)


def nancumprod(x: ArrayLike, axis: int | None = None, dtype: Any = None) -> torch.Tensor:
    """:func:`cumprod` treating NaN as 1."""
    return cumprod(nan_to_num(x, nan=1.0, posinf=float("inf"), neginf=float("-inf")), axis=axis, dtype=dtype)


def trace(x: ArrayLike, offset: int = 0, axis1: int = 0, axis2: int = 1) -> torch.Tensor:
    """Sum along the ``offset`` diagonal of the ``(axis1, axis2)`` planes."""
    x = _t(x)
    td = torch.int32 if x.dtype in (torch.bool, torch.int8, torch.int16, torch.uint8) else x.dtype
    return torch.sum(torch.diagonal(x, offset, axis1, axis2), dim=-1, dtype=td)


def trapezoid(y: ArrayLike, x: ArrayLike = None, dx: float = 1.0, axis: int = -1) -> torch.Tensor:
    """Integral of ``y`` along ``axis`` by the trapezoidal rule (sample points ``x`` or spacing ``dx``)."""
    y = _t(y)
    y = _float_of(y)
    if x is not None:
        return torch.trapezoid(y, _t(x, device=y.device), dim=axis)
    return torch.trapezoid(y, dx=float(_unwrap(dx)), dim=axis)


# --------------------------------------------------------------------------- shapes


def ndim(x: ArrayLike) -> int:
    """The rank of ``x``."""
    return _t(x).ndim


def size(x: ArrayLike) -> int:
    """The number of elements of ``x``."""
    return _t(x).numel()


def reshape(x: ArrayLike, newshape: Any) -> torch.Tensor:
    """``x`` with shape ``newshape`` (one entry may be -1).

    Example:
        >>> from lamina import ops
        >>> ops.reshape(ops.arange(6), (2, -1)).shape
        torch.Size([2, 3])
    """
    shape = _shape_tuple(newshape)
    if builtins.sum(1 for s in shape if s == -1) > 1:
        raise ValueError(f"There must be at most one unknown dimension (-1) in newshape. Received: newshape={shape}")
    return torch.reshape(_t(x), shape)


def transpose(x: ArrayLike, axes: Sequence[int] | None = None) -> torch.Tensor:
    """``x`` with axes permuted (reversed by default)."""
    x = _t(x)
    if axes is None:
        return x.permute(tuple(range(x.ndim - 1, -1, -1)))
    return x.permute(tuple(int(a) for a in axes))


def expand_dims(x: ArrayLike, axis: Axis) -> torch.Tensor:
    """``x`` with new size-1 axes at ``axis`` (an int or a tuple).

    Example:
        >>> from lamina import ops
        >>> ops.expand_dims(ops.zeros((2, 3)), (0, -1)).shape
        torch.Size([1, 2, 3, 1])
    """
    x = _t(x)
    dims = _axes(axis)
    out_ndim = x.ndim + len(dims)
    for a in sorted(_canon(a, out_ndim) for a in dims):
        x = torch.unsqueeze(x, a)
    return x


def squeeze(x: ArrayLike, axis: Axis = None) -> torch.Tensor:
    """``x`` without its size-1 axes (only those in ``axis`` when given, which must have size 1)."""
    x = _t(x)
    if axis is None:
        return torch.squeeze(x)
    dims = tuple(_canon(a, x.ndim) for a in _axes(axis))
    for a in dims:
        if x.shape[a] != 1:
            raise ValueError(f"Cannot squeeze axis {a} of a tensor of shape {tuple(x.shape)}: its size is not 1.")
    return torch.squeeze(x, dim=dims)


def ravel(x: ArrayLike) -> torch.Tensor:
    """``x`` flattened to 1-D."""
    return torch.ravel(_t(x))


def broadcast_to(x: ArrayLike, shape: Any) -> torch.Tensor:
    """``x`` broadcast to ``shape``."""
    return torch.broadcast_to(_t(x), _shape_tuple(shape))


def moveaxis(x: ArrayLike, source: Axis, destination: Axis) -> torch.Tensor:
    """``x`` with axes ``source`` moved to ``destination``."""
    x = _t(x)
    return torch.moveaxis(x, _axes(source), _axes(destination))


def swapaxes(x: ArrayLike, axis1: int, axis2: int) -> torch.Tensor:
    """``x`` with ``axis1`` and ``axis2`` exchanged."""
    return torch.swapaxes(_t(x), int(axis1), int(axis2))


def _seq(xs: Sequence[ArrayLike]) -> list[torch.Tensor]:
    dev = _device_of(*xs)
    return [_t(v, device=dev) for v in xs]


def concatenate(xs: Sequence[ArrayLike], axis: int | None = 0) -> torch.Tensor:
    """The tensors ``xs`` joined along ``axis`` (flattened first when ``axis=None``).

    Example:
        >>> from lamina import ops
        >>> ops.concatenate([[1, 2], [3]]).tolist()
        [1, 2, 3]
    """
    ts = _seq(xs)
    if axis is None:
        ts = [t.reshape(-1) for t in ts]
        axis = 0
    return torch.cat(ts, dim=int(axis))


def append(x1: ArrayLike, x2: ArrayLike, axis: int | None = None) -> torch.Tensor:
    """``x2`` appended to ``x1`` along ``axis`` (both flattened when ``None``)."""
    return concatenate([x1, x2], axis=axis)


def stack(x: Sequence[ArrayLike], axis: int = 0) -> torch.Tensor:
    """The same-shape tensors ``x`` stacked along a new ``axis``."""
    return torch.stack(_seq(x), dim=int(axis))


def hstack(xs: Sequence[ArrayLike]) -> torch.Tensor:
    """Stack horizontally (along axis 1, or 0 for 1-D inputs)."""
    return torch.hstack(_seq(xs))


def vstack(xs: Sequence[ArrayLike]) -> torch.Tensor:
    """Stack vertically (along axis 0, 1-D inputs as rows)."""
    return torch.vstack(_seq(xs))


def dstack(xs: Sequence[ArrayLike]) -> torch.Tensor:
    """Stack depth-wise (along axis 2)."""
    return torch.dstack(_seq(xs))


def split(x: ArrayLike, indices_or_sections: int | Sequence[int], axis: int = 0) -> list[torch.Tensor]:
    """``x`` cut into equal sections (an int, which must divide the axis) or at the given indices.

    Example:
        >>> from lamina import ops
        >>> [t.tolist() for t in ops.split(ops.arange(5), [2, 3])]
        [[0, 1], [2], [3, 4]]
    """
    x = _t(x)
    dim = x.shape[axis]
    if isinstance(indices_or_sections, (int, np.integer)):
        n = int(indices_or_sections)
        if n <= 0 or dim % n != 0:
            raise ValueError(
                f"Received indices_or_sections={n} (interpreted as a number of sections) and axis={axis}, but "
                f"input dimension x.shape[{axis}]={dim} is not divisible by {n}. Full input shape: "
                f"x.shape={tuple(x.shape)}"
            )
        return list(torch.tensor_split(x, n, dim=axis))
    return list(torch.tensor_split(x, _int_seq(indices_or_sections), dim=axis))


def _int_seq(v: Any) -> list[int]:
    v = _unwrap(v)
    if isinstance(v, torch.Tensor):
        return [int(i) for i in v.reshape(-1).tolist()]
    return [int(_unwrap(i)) for i in v]


def array_split(x: ArrayLike, indices_or_sections: int, axis: int = 0) -> list[torch.Tensor]:
    """``x`` cut into ``indices_or_sections`` nearly equal parts along ``axis``."""
    if not isinstance(indices_or_sections, int):
        raise TypeError(
            f"Argument `indices_or_sections` must be of type `int`. Received: indices_or_sections={indices_or_sections}"
        )
    if indices_or_sections <= 0:
        raise ValueError(
            "Argument `indices_or_sections` must be a positive integer. "
            f"Received: indices_or_sections={indices_or_sections}"
        )
    if not isinstance(axis, int):
        raise TypeError(f"Argument `axis` must be of type `int`. Received: {axis}")
    return list(torch.tensor_split(_t(x), indices_or_sections, dim=axis))


def _nsplit(fn: Callable[..., Any], x: ArrayLike, indices_or_sections: Any) -> list[torch.Tensor]:
    x = _t(x)
    ios = indices_or_sections if isinstance(indices_or_sections, int) else _int_seq(indices_or_sections)
    return list(fn(x, ios))


def hsplit(x: ArrayLike, indices_or_sections: int | Sequence[int]) -> list[torch.Tensor]:
    """:func:`split` along axis 1 (axis 0 for 1-D)."""
    return _nsplit(torch.hsplit, x, indices_or_sections)


def vsplit(x: ArrayLike, indices_or_sections: int | Sequence[int]) -> list[torch.Tensor]:
    """:func:`split` along axis 0."""
    return _nsplit(torch.vsplit, x, indices_or_sections)


def dsplit(x: ArrayLike, indices_or_sections: int | Sequence[int]) -> list[torch.Tensor]:
    """:func:`split` along axis 2."""
    return _nsplit(torch.dsplit, x, indices_or_sections)


def tile(x: ArrayLike, repeats: int | Sequence[int]) -> torch.Tensor:
    """``x`` repeated ``repeats`` times per axis (``numpy.tile``)."""
    reps = _shape_tuple(repeats)
    return torch.tile(_t(x), reps)


def repeat(x: ArrayLike, repeats: int | Sequence[int], axis: int | None = None) -> torch.Tensor:
    """Each element of ``x`` repeated ``repeats`` times along ``axis`` (flattened when ``None``).

    Example:
        >>> from lamina import ops
        >>> ops.repeat([1, 2], 2).tolist()
        [1, 1, 2, 2]
    """
    x = _t(x)
    r = _unwrap(repeats)
    if isinstance(r, (list, tuple, np.ndarray)):
        r = torch.as_tensor(np.asarray(r, dtype=np.int64), device=x.device)
    elif isinstance(r, torch.Tensor):
        r = r.to(device=x.device, dtype=torch.int64)
        if r.ndim == 0:
            r = int(r)
    return torch.repeat_interleave(x, r, dim=axis)


def flip(x: ArrayLike, axis: Axis = None) -> torch.Tensor:
    """``x`` reversed along ``axis`` (all axes by default)."""
    x = _t(x)
    dims = tuple(range(x.ndim)) if axis is None else _axes(axis)
    return torch.flip(x, dims=dims)


def fliplr(x: ArrayLike) -> torch.Tensor:
    """``x`` reversed along axis 1."""
    return torch.fliplr(_t(x))


def flipud(x: ArrayLike) -> torch.Tensor:
    """``x`` reversed along axis 0."""
    return torch.flipud(_t(x))


def rot90(array: ArrayLike, k: int = 1, axes: tuple[int, int] = (0, 1)) -> torch.Tensor:
    """``array`` rotated by ``k`` quarter turns in the plane of ``axes``."""
    x = _t(array)
    if x.ndim < 2:
        raise ValueError(f"Input array must have at least 2 dimensions. Received: array.ndim={x.ndim}")
    if len(axes) != 2 or axes[0] == axes[1]:
        raise ValueError(f"Invalid axes: {axes}. Axes must be a tuple of two different dimensions.")
    return torch.rot90(x, k=k, dims=[_canon(a, x.ndim) for a in axes])


def roll(x: ArrayLike, shift: int | Sequence[int], axis: Axis = None) -> torch.Tensor:
    """``x`` with elements shifted cyclically by ``shift`` along ``axis`` (flattened when ``None``)."""
    x = _t(x)
    s = _unwrap(shift)
    s = tuple(_int_seq(s)) if isinstance(s, (list, tuple, torch.Tensor, np.ndarray)) and np.ndim(s) else int(s)
    if axis is None:
        return torch.roll(x, s)
    return torch.roll(x, s, dims=_axes(axis))


def take(x: ArrayLike, indices: ArrayLike, axis: int | None = None) -> torch.Tensor:
    """Elements of ``x`` at ``indices`` along ``axis`` (of the flattened ``x`` when ``None``).

    Negative indices count from the end.

    Example:
        >>> from lamina import ops
        >>> ops.take([[1, 2], [3, 4]], [-1, 0], axis=1).tolist()
        [[2, 1], [4, 3]]
    """
    x = _t(x)
    idx = _t(indices, device=x.device).long()
    if axis is None:
        x = x.reshape(-1)
        axis = 0
    axis = _canon(axis, x.ndim)
    n = x.shape[axis]
    idx = torch.where(idx < 0, idx + n, idx)
    out = torch.index_select(x, axis, idx.reshape(-1))
    return out.reshape(tuple(x.shape[:axis]) + tuple(idx.shape) + tuple(x.shape[axis + 1 :]))


def take_along_axis(x: ArrayLike, indices: ArrayLike, axis: int | None = None) -> torch.Tensor:
    """Values of ``x`` at the matching ``indices`` along ``axis`` (``numpy.take_along_axis``)."""
    x = _t(x)
    idx = _t(indices, device=x.device).long()
    if axis is None:
        x = x.reshape(-1)
        axis = 0
    n = x.shape[axis]
    idx = torch.where(idx < 0, idx + n, idx)
    return torch.take_along_dim(x, idx, dim=axis)


def _pad_index(n: int, before: int, after: int, mode: str, device: torch.device) -> torch.Tensor:
    i = torch.arange(-before, n + after, device=device)
    if mode == "edge":
        return i.clamp(0, n - 1)
    if mode == "wrap":
        return torch.remainder(i, n)
    if mode == "reflect":
        if n == 1:
            return torch.zeros_like(i)
        period = 2 * (n - 1)
        i = torch.remainder(i, period)
        return torch.where(i >= n, period - i, i)
    # symmetric: the edge is repeated
    period = 2 * n
    i = torch.remainder(i, period)
    return torch.where(i >= n, period - 1 - i, i)


def pad(x: ArrayLike, pad_width: Any, mode: str = "constant", constant_values: Any = None) -> torch.Tensor:
    """``x`` padded by ``pad_width`` (``int``, ``(before, after)`` or one pair per axis).

    Args:
        x: the tensor.
        pad_width: widths as in ``numpy.pad``.
        mode: ``"constant"``, ``"edge"``, ``"reflect"``, ``"symmetric"``, ``"wrap"``/``"circular"``.
        constant_values: the fill for ``"constant"`` (default 0); only allowed with that mode.

    Example:
        >>> from lamina import ops
        >>> ops.pad([1, 2, 3], (1, 2), mode="reflect").tolist()
        [2, 1, 2, 3, 2, 1]
    """
    if constant_values is not None and mode != "constant":
        raise ValueError(
            f"Argument `constant_values` can only be provided when `mode == 'constant'`. Received: mode={mode}"
        )
    x = _t(x)
    widths = np.asarray(pad_width, dtype=np.int64)
    if widths.ndim == 2 and widths.shape[0] not in (1, x.ndim):
        raise ValueError(
            "`pad_width` must have the same length as `x.shape`. "
            f"Received: pad_width={pad_width} (of length {widths.shape[0]}) and x.shape={tuple(x.shape)} "
            f"(of length {x.ndim})"
        )
    try:
        widths = np.broadcast_to(widths, (x.ndim, 2))
    except ValueError:
        raise ValueError(f"Invalid `pad_width` {pad_width!r} for a tensor of rank {x.ndim}.") from None
    if (widths < 0).any():
        raise ValueError(f"`pad_width` cannot contain negative values. Received: pad_width={pad_width}")
    if mode == "constant":
        flat: list[int] = []
        for b, a in widths[::-1]:
            flat += [int(b), int(a)]
        value = 0 if constant_values is None else _unwrap(constant_values)
        if isinstance(value, torch.Tensor):
            value = value.item()
        if x.dtype == torch.bool:
            return F.pad(x.to(torch.uint8), flat, value=float(value)).bool()
        return F.pad(x, flat, mode="constant", value=value)
    if mode == "circular":
        mode = "wrap"
    if mode not in ("edge", "reflect", "symmetric", "wrap"):
        raise ValueError(
            "Unsupported padding mode. Expected one of 'constant', 'edge', 'reflect', 'symmetric', 'wrap', "
            f"'circular'. Received: mode={mode!r}"
        )
    for d, (b, a) in enumerate(widths):
        if b == 0 and a == 0:
            continue
        n = x.shape[d]
        if n == 0:
            raise ValueError(f"Cannot pad an empty axis {d} with mode={mode!r}.")
        x = torch.index_select(x, d, _pad_index(n, int(b), int(a), mode, x.device))
    return x


def diag(x: ArrayLike, k: int = 0) -> torch.Tensor:
    """The ``k``-th diagonal of a 2-D ``x``, or a 2-D matrix with 1-D ``x`` on its ``k``-th diagonal."""
    x = _t(x)
    if x.ndim not in (1, 2):
        raise ValueError(f"`x` must be 1-D or 2-D. Received: x.shape={tuple(x.shape)}")
    return torch.diag(x, diagonal=k)


def diagflat(x: ArrayLike, k: int = 0) -> torch.Tensor:
    """A 2-D matrix with the flattened ``x`` on its ``k``-th diagonal."""
    return torch.diagflat(_t(x), offset=k)


def diagonal(x: ArrayLike, offset: int = 0, axis1: int = 0, axis2: int = 1) -> torch.Tensor:
    """The ``offset`` diagonals of the ``(axis1, axis2)`` planes, as the last axis."""
    x = _t(x)
    a1, a2 = _canon(axis1, x.ndim), _canon(axis2, x.ndim)
    if a1 == a2:
        raise ValueError(f"`axis1` and `axis2` cannot be the same. Received: axis1={axis1}, axis2={axis2}")
    return torch.diagonal(x, offset=offset, dim1=a1, dim2=a2)


def triu(x: ArrayLike, k: int = 0) -> torch.Tensor:
    """``x`` with entries below the ``k``-th diagonal zeroed."""
    return torch.triu(_t(x), diagonal=k)


def tril(x: ArrayLike, k: int = 0) -> torch.Tensor:
    """``x`` with entries above the ``k``-th diagonal zeroed."""
    return torch.tril(_t(x), diagonal=k)


def meshgrid(*x: ArrayLike, indexing: str = "xy") -> list[torch.Tensor]:
    """Coordinate grids from 1-D vectors (``"xy"`` Cartesian or ``"ij"`` matrix indexing)."""
    if indexing not in ("xy", "ij"):
        raise ValueError(f"Valid values for `indexing` are 'xy' and 'ij'. Received: indexing={indexing!r}")
    return list(torch.meshgrid(*_seq(x), indexing=indexing))


def get_item(x: ArrayLike, key: Any) -> torch.Tensor:
    """``x[key]``."""
    return _t(x)[key]


def diff(a: ArrayLike, n: int = 1, axis: int = -1) -> torch.Tensor:
    """The ``n``-th discrete difference along ``axis``."""
    return torch.diff(_t(a), n=n, dim=axis)


def vander(x: ArrayLike, N: int | None = None, increasing: bool = False) -> torch.Tensor:
    """The Vandermonde matrix of the 1-D ``x`` (powers decreasing unless ``increasing``)."""
    x = _t(x)
    if x.ndim != 1:
        raise ValueError(f"Input tensor must be 1-dimensional. Received: input.shape={tuple(x.shape)}")
    if N is not None:
        if not isinstance(N, int):
            raise TypeError(f"Argument `N` must be of type `int`. Received: N={N} of type {type(N)}")
        if N < 0:
            raise ValueError(f"Argument 'N' must be nonnegative. Received: N={N}")
    if not isinstance(increasing, bool):
        raise TypeError(f"Argument `increasing` must be of type `bool`. Received: increasing={increasing}")
    return torch.vander(x, N=N, increasing=increasing).to(_torch_dtype(result_type(x.dtype)))


# --------------------------------------------------------------------------- sorting and searching


def sort(x: ArrayLike, axis: int | None = -1) -> torch.Tensor:
    """``x`` sorted ascending along ``axis`` (flattened when ``None``)."""
    x = _t(x)
    if axis is None:
        x, axis = x.reshape(-1), 0
    return torch.sort(x, dim=axis, stable=True).values


def argsort(x: ArrayLike, axis: int | None = -1) -> torch.Tensor:
    """Indices that sort ``x`` along ``axis`` (stable, ``int32``)."""
    x = _t(x)
    if x.dtype == torch.bool:
        x = x.to(torch.uint8)
    if axis is None:
        x, axis = x.reshape(-1), 0
    return torch.argsort(x, dim=axis, stable=True).to(torch.int32)


def argpartition(x: ArrayLike, kth: int, axis: int | None = -1) -> torch.Tensor:
    """Indices that partition ``x`` around its ``kth`` smallest element along ``axis`` (``int32``).

    Every index before position ``kth`` points to a value no larger than the ``kth`` value, and
    every one after to a value no smaller (this implementation returns a full stable sort).
    """
    x = _t(x)
    if axis is None:
        x, axis = x.reshape(-1), 0
    n = x.shape[axis]
    if not -n <= kth < n:
        raise ValueError(f"kth(={kth}) out of bounds ({n})")
    return argsort(x, axis=axis)


def searchsorted(sorted_sequence: ArrayLike, values: ArrayLike, side: str = "left") -> torch.Tensor:
    """Indices where ``values`` would be inserted in the 1-D ``sorted_sequence`` to keep it sorted."""
    seq = _t(sorted_sequence)
    v = _t(values, device=seq.device)
    if seq.ndim != 1:
        raise ValueError(
            "`searchsorted` only supports 1-D sorted sequences. You can use `keras.ops.vectorized_map` to extend "
            f"it to N-D sequences. Received: sorted_sequence.shape={tuple(seq.shape)}"
        )
    if side not in ("left", "right"):
        raise ValueError(f"`side` must be 'left' or 'right'. Received: side={side!r}")
    dtype = result_type(seq.dtype, v.dtype)
    seq, v = _cast_tensor(seq, dtype), _cast_tensor(v, dtype)
    return torch.searchsorted(seq, v, side=side, out_int32=seq.shape[0] <= np.iinfo(np.int32).max)


def digitize(x: ArrayLike, bins: ArrayLike) -> torch.Tensor:
    """The index of the bin each ``x`` falls in (increasing ``bins``, ``int32``)."""
    x = _t(x)
    bins = _t(bins, device=x.device)
    if x.dtype == torch.bool:
        x = x.to(torch.uint8)
    dtype = result_type(x.dtype, bins.dtype)
    return torch.bucketize(_cast_tensor(x, dtype), _cast_tensor(bins, dtype), right=True).to(torch.int32)


def nonzero(x: ArrayLike) -> tuple[torch.Tensor, ...]:
    """Indices of the nonzero entries of ``x``, one ``int32`` tensor per axis."""
    x = _t(x)
    return tuple(i.to(torch.int32) for i in torch.nonzero(x, as_tuple=True))


def unravel_index(indices: ArrayLike, shape: Sequence[int]) -> tuple[torch.Tensor, ...]:
    """Turns flat ``indices`` into coordinate tensors for ``shape``."""
    idx = _t(indices)
    dtype = _torch_dtype(result_type(idx.dtype))
    return tuple(t.to(dtype) for t in torch.unravel_index(idx, _shape_tuple(shape)))


def unique(
    x: ArrayLike,
    sorted: bool = True,
    return_index: bool = False,  # noqa: A002
    return_inverse: bool = False,
    return_counts: bool = False,
    axis: int | None = None,
    size: int | None = None,
    fill_value: Any = None,
) -> Any:
    """The sorted unique values of ``x`` (and optionally first indices, inverse and counts).

    ``size`` pads (with ``fill_value``, default 0) or truncates the result to a fixed length.

    Example:
        >>> from lamina import ops
        >>> ops.unique([3, 1, 3, 2]).tolist()
        [1, 2, 3]
    """
    x = _t(x)
    values, inverse, counts = torch.unique(x, sorted=True, return_inverse=True, return_counts=True, dim=axis)
    dim = 0 if axis is None else _canon(axis, x.ndim)
    n = values.shape[dim]
    first = None
    if return_index:
        flat_inv = inverse.reshape(-1)
        pos = torch.arange(flat_inv.shape[0], device=x.device)
        first = torch.full((n,), flat_inv.shape[0], dtype=torch.int64, device=x.device)
        first = first.scatter_reduce(0, flat_inv, pos, reduce="amin", include_self=True)
    if size is not None:
        if n > size:
            values = values.narrow(dim, 0, size)
            counts = counts[:size]
            first = None if first is None else first[:size]
        elif n < size:
            widths = [0, 0] * values.ndim
            widths[2 * (values.ndim - 1 - dim) + 1] = size - n
            values = F.pad(values, widths, value=0 if fill_value is None else fill_value)
            counts = F.pad(counts, (0, size - n))
            first = None if first is None else F.pad(first, (0, size - n))
    if axis is None and x.ndim > 1:
        inverse = inverse.reshape(x.shape)
    out: list[torch.Tensor] = [values]
    if return_index:
        out.append(first)
    if return_inverse:
        out.append(inverse)
    if return_counts:
        out.append(counts)
    return out[0] if len(out) == 1 else tuple(out)


def bincount(x: ArrayLike, weights: ArrayLike = None, minlength: int = 0, sparse: bool = False) -> torch.Tensor:
    """Counts (or summed ``weights``) of each non-negative int in ``x``; 2-D ``x`` counts per row."""
    if sparse:
        raise ValueError("Unsupported value `sparse=True`: lamina tensors are dense.")
    x = _t(x)
    if weights is not None:
        weights = _t(weights, device=x.device)
        dtype = result_type(x.dtype, weights.dtype)
    else:
        dtype = "int32"
    length = builtins.max(int(minlength), int(x.max()) + 1 if x.numel() else 0)
    if x.ndim == 2:
        rows = [
            torch.bincount(r.long(), None if weights is None else w, minlength=length)
            for r, w in zip(x, weights if weights is not None else [None] * x.shape[0])
        ]
        return _cast_tensor(torch.stack(rows), dtype)
    return _cast_tensor(torch.bincount(x.long(), weights, minlength=length), dtype)


def histogram(
    x: ArrayLike,
    bins: int = 10,
    range: tuple[float, float] | None = None,  # noqa: A002
) -> tuple[torch.Tensor, torch.Tensor]:
    """Counts of the 1-D ``x`` in ``bins`` equal bins over ``range`` (default: min to max), and the edges."""
    if not isinstance(bins, int):
        raise TypeError(f"Argument `bins` must be of type `int`. Received: bins={bins}")
    if bins < 0:
        raise ValueError(f"Argument `bins` should be a non-negative integer. Received: bins={bins}")
    if range:
        if len(range) < 2 or not isinstance(range, tuple):
            raise ValueError(f"Argument `range` must be a tuple of two elements. Received: range={range}")
        if range[1] < range[0]:
            raise ValueError(f"The second element of `range` must be greater than the first. Received: range={range}")
    x = _t(x)
    if x.ndim > 1:
        raise ValueError(f"Input tensor must be 1-dimensional. Received: input.shape={tuple(x.shape)}")
    x = _float_of(x)
    lo, hi = (float(range[0]), float(range[1])) if range else (float(x.min()), float(x.max()))
    if lo == hi:
        lo, hi = lo - 0.5, hi + 0.5
    edges = torch.linspace(lo, hi, bins + 1, dtype=x.dtype, device=x.device)
    inside = (x >= lo) & (x <= hi)
    idx = torch.bucketize(x, edges, right=True) - 1
    idx = idx.clamp(0, bins - 1)
    counts = torch.zeros(bins, dtype=x.dtype, device=x.device)
    counts.index_add_(0, idx[inside], torch.ones_like(x[inside]))
    return counts, edges


def isin(x1: ArrayLike, x2: ArrayLike, assume_unique: bool = False, invert: bool = False) -> torch.Tensor:
    """Whether each element of ``x1`` occurs in ``x2``."""
    x1, x2 = _ts(x1, x2)
    dtype = result_type(x1.dtype, x2.dtype)
    if dtype == "bool":
        dtype = "int32"
    return torch.isin(_cast_tensor(x1, dtype), _cast_tensor(x2, dtype), assume_unique=assume_unique, invert=invert)


# --------------------------------------------------------------------------- products


def _product_dtypes(x1: torch.Tensor, x2: torch.Tensor) -> tuple[str, str]:
    out = result_type(x1.dtype, x2.dtype)
    compute = result_type(out, float)
    if x1.dtype == torch.float64 or x2.dtype == torch.float64:
        compute = "float64"
    return out, compute


def matmul(x1: ArrayLike, x2: ArrayLike) -> torch.Tensor:
    """Matrix product with NumPy broadcasting rules (``x1 @ x2``); ``int8 @ int8`` gives ``int32``.

    Example:
        >>> from lamina import ops
        >>> ops.matmul([[1.0, 2.0]], [[3.0], [4.0]]).tolist()
        [[11.0]]
    """
    x1, x2 = _ts(x1, x2)
    if x1.dtype == torch.int8 and x2.dtype == torch.int8:
        out = "int32"
    else:
        out = result_type(x1.dtype, x2.dtype)
    compute = out
    if out == "bool" or (x1.device.type != "cpu" and "int" in out):
        compute = backend.floatx() if out != "int64" else "float64"
    elif "int" in out:
        compute = "int64"
    if out != "float64" and (x1.dtype == torch.float64 or x2.dtype == torch.float64):
        compute = "float64"
    r = torch.matmul(_cast_tensor(x1, compute), _cast_tensor(x2, compute))
    if out == "bool":
        r = r != 0
    return _cast_tensor(r, out)


def dot(x1: ArrayLike, x2: ArrayLike) -> torch.Tensor:
    """``numpy.dot``: inner product for vectors, matrix product for matrices, scaling for scalars."""
    x1, x2 = _ts(x1, x2)
    out, compute = _product_dtypes(x1, x2)
    a, b = _cast_tensor(x1, compute), _cast_tensor(x2, compute)
    if a.ndim == 0 or b.ndim == 0:
        r = a * b
    elif b.ndim <= 2:
        r = torch.matmul(a, b)
    else:
        r = torch.tensordot(a, b, dims=([a.ndim - 1], [b.ndim - 2]))
    return _cast_tensor(r, out)


def tensordot(x1: ArrayLike, x2: ArrayLike, axes: int | Sequence[Any] = 2) -> torch.Tensor:
    """Sum of products over ``axes`` (an int: the last/first ``axes`` axes; or two axis lists)."""
    x1, x2 = _ts(x1, x2)
    out, compute = _product_dtypes(x1, x2)
    if isinstance(axes, (list, tuple)):
        first, second = axes
        first = list(first) if isinstance(first, (list, tuple)) else [first]
        second = list(second) if isinstance(second, (list, tuple)) else [second]
        axes = (first, second)
    return _cast_tensor(torch.tensordot(_cast_tensor(x1, compute), _cast_tensor(x2, compute), dims=axes), out)


def einsum(subscripts: str, *operands: ArrayLike, **kwargs: Any) -> torch.Tensor:
    """Einstein summation (``torch.einsum``); operands are promoted to a common dtype.

    Example:
        >>> from lamina import ops
        >>> ops.einsum("ij,j->i", [[1.0, 2.0], [3.0, 4.0]], [1.0, 1.0]).tolist()
        [3.0, 7.0]
    """
    ts = _seq(operands)
    names = {_name(t) for t in ts}
    if names == {"int8"}:
        out = "int32"
        compute = "int32" if ts[0].device.type == "cpu" else backend.floatx()
    else:
        out = result_type(*(t.dtype for t in ts))
        compute = out
        if out != "float64" and builtins.any(t.dtype == torch.float64 for t in ts):
            compute = "float64"
        if compute == "bool":
            compute = "int32"
    r = torch.einsum(subscripts, *[_cast_tensor(t, compute) for t in ts])
    return _cast_tensor(r, out)


def outer(x1: ArrayLike, x2: ArrayLike) -> torch.Tensor:
    """Outer product of the flattened ``x1`` and ``x2``."""
    x1, x2 = _ts(x1, x2)
    return x1.reshape(-1, 1) * x2.reshape(1, -1)


def inner(x1: ArrayLike, x2: ArrayLike) -> torch.Tensor:
    """Inner product over the last axes (scaling for scalars)."""
    x1, x2 = _ts(x1, x2)
    out, compute = _product_dtypes(x1, x2)
    return _cast_tensor(torch.inner(_cast_tensor(x1, compute), _cast_tensor(x2, compute)), out)


def vdot(x1: ArrayLike, x2: ArrayLike) -> torch.Tensor:
    """Dot product of the flattened inputs (conjugating ``x1``)."""
    x1, x2 = _ts(x1, x2)
    out, compute = _product_dtypes(x1, x2)
    a = _cast_tensor(x1, compute).reshape(-1)
    b = _cast_tensor(x2, compute).reshape(-1)
    return _cast_tensor(torch.vdot(a, b), out)


def cross(
    x1: ArrayLike, x2: ArrayLike, axisa: int = -1, axisb: int = -1, axisc: int = -1, axis: int | None = None
) -> torch.Tensor:
    """Cross product of 2- or 3-vectors along the given axes (``axis`` overrides all three).

    Example:
        >>> from lamina import ops
        >>> ops.cross([1.0, 0.0, 0.0], [0.0, 1.0, 0.0]).tolist()
        [0.0, 0.0, 1.0]
    """
    if axis is not None:
        axisa = axisb = axisc = axis
    x1, x2 = _ts(x1, x2)
    dtype = result_type(x1.dtype, x2.dtype)
    a = torch.moveaxis(_cast_tensor(x1, dtype), axisa, -1)
    b = torch.moveaxis(_cast_tensor(x2, dtype), axisb, -1)
    if a.shape[-1] not in (2, 3) or b.shape[-1] not in (2, 3):
        raise ValueError(
            "Incompatible dimensions for cross product (dimension must be 2 or 3). "
            f"Received: x1.shape={tuple(x1.shape)}, x2.shape={tuple(x2.shape)}"
        )
    if a.shape[-1] == 2 and b.shape[-1] == 2:
        return a[..., 0] * b[..., 1] - a[..., 1] * b[..., 0]
    if a.shape[-1] == 2:
        a = F.pad(a, (0, 1))
    if b.shape[-1] == 2:
        b = F.pad(b, (0, 1))
    a0, a1, a2 = a.unbind(-1)
    b0, b1, b2 = b.unbind(-1)
    c = torch.stack([a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, a0 * b1 - a1 * b0], dim=-1)
    return torch.moveaxis(c, -1, axisc)


def kron(x1: ArrayLike, x2: ArrayLike) -> torch.Tensor:
    """Kronecker product."""
    x1, x2 = _ts(x1, x2)
    dtype = result_type(x1.dtype, x2.dtype)
    return torch.kron(_cast_tensor(x1, dtype), _cast_tensor(x2, dtype))


def correlate(x1: ArrayLike, x2: ArrayLike, mode: str = "valid") -> torch.Tensor:
    """Cross-correlation of two 1-D sequences (``numpy.correlate``; ``mode`` valid/same/full)."""
    x1, x2 = _ts(x1, x2)
    if mode not in ("valid", "same", "full"):
        raise ValueError(f"`mode` must be one of 'valid', 'same', 'full'. Received: mode={mode!r}")
    dtype = result_type(x1.dtype, x2.dtype)
    if dtype == "int64":
        dtype = "float64"
    elif dtype not in ("bfloat16", "float16", "float64"):
        dtype = "float32"
    a, v = _cast_tensor(x1, dtype), _cast_tensor(x2, dtype)
    n, m = a.shape[-1], v.shape[-1]
    full = F.conv1d(F.pad(a.reshape(1, 1, n), (m - 1, m - 1)), v.reshape(1, 1, m)).reshape(-1)
    if mode == "full":
        return full
    if mode == "same":
        length = builtins.max(n, m)
        start = (full.shape[0] - length) // 2
        return full[start : start + length]
    length = builtins.max(n, m) - builtins.min(n, m) + 1
    return full[builtins.min(n, m) - 1 : builtins.min(n, m) - 1 + length]


def corrcoef(x: ArrayLike) -> torch.Tensor:
    """Pearson correlation coefficients between the rows of ``x``."""
    x = _t(x)
    if x.dtype == torch.int64:
        x = x.to(torch.float64)
    return torch.corrcoef(_float_of(x))


# --------------------------------------------------------------------------- misc


def vectorize(
    pyfunc: Callable[..., Any], *, excluded: set[Any] | None = None, signature: str | None = None
) -> Callable[..., Any]:
    """``pyfunc`` (written for scalars) made elementwise over broadcast tensor arguments.

    Example:
        >>> from lamina import ops
        >>> f = ops.vectorize(lambda a, b: a * b + 1)
        >>> f([1.0, 2.0], 3.0).tolist()
        [4.0, 7.0]
    """
    if signature is not None:
        raise NotImplementedError("`signature` is not supported by lamina's `vectorize`.")
    excluded = set(excluded or ())

    def wrapped(*args: Any, **kwargs: Any) -> Any:
        pos = [i for i in range(len(args)) if i not in excluded]
        ts = torch.broadcast_tensors(*_seq([args[i] for i in pos]))
        shape = ts[0].shape if ts else ()

        def call(*flat: torch.Tensor) -> Any:
            full = list(args)
            for i, v in zip(pos, flat):
                full[i] = v
            return pyfunc(*full, **kwargs)

        fn = call
        for _ in range(len(shape)):
            fn = torch.vmap(fn)
        return fn(*ts)

    return wrapped


def _einops_side(side: str) -> list[list[str]]:
    groups: list[list[str]] = []
    current: list[str] | None = None
    for token in side.replace("(", " ( ").replace(")", " ) ").split():
        if token == "(":
            if current is not None:
                raise ValueError(f"Nested parentheses are not allowed in a rearrange pattern. Received: {side!r}")
            current = []
        elif token == ")":
            if current is None:
                raise ValueError(f"Unbalanced parentheses in a rearrange pattern. Received: {side!r}")
            groups.append(current)
            current = None
        elif not token.isidentifier():
            raise ValueError(f"Invalid axis name {token!r} in a rearrange pattern.")
        elif current is not None:
            current.append(token)
        else:
            groups.append([token])
    if current is not None:
        raise ValueError(f"Unbalanced parentheses in a rearrange pattern. Received: {side!r}")
    return groups


def rearrange(tensor: ArrayLike, pattern: str, **axes_lengths: int) -> torch.Tensor:
    """Reorders, merges and splits axes with an einops pattern such as ``"b h w c -> b (h w) c"``.

    Args:
        tensor: the input.
        pattern: ``"<input axes> -> <output axes>"``; parentheses group axes that are merged (output)
            or split (input).
        **axes_lengths: sizes of split axes that cannot be inferred.

    Example:
        >>> from lamina import ops
        >>> ops.rearrange(ops.zeros((2, 3, 4, 5)), "b h w c -> b c (h w)").shape
        torch.Size([2, 5, 12])
        >>> ops.rearrange(ops.zeros((6, 5)), "(a b) c -> b a c", a=2).shape
        torch.Size([3, 2, 5])
    """
    x = _t(tensor)
    if "->" not in pattern:
        raise ValueError(f"A rearrange pattern needs '->'. Received: pattern={pattern!r}")
    left, right = (_einops_side(p) for p in pattern.split("->"))
    if len(left) != x.ndim:
        raise ValueError(
            f"The pattern {pattern!r} names {len(left)} input axes, but the tensor has rank {x.ndim} "
            f"(shape {tuple(x.shape)})."
        )
    names_in = [n for g in left for n in g]
    names_out = [n for g in right for n in g]
    if len(set(names_in)) != len(names_in) or sorted(names_in) != sorted(names_out):
        raise ValueError(
            f"Each axis must appear exactly once on both sides of the pattern. Received: pattern={pattern!r}"
        )
    sizes: dict[str, int] = {}
    for group, dim in zip(left, x.shape):
        unknown = [n for n in group if n not in axes_lengths]
        known = _prod(int(axes_lengths[n]) for n in group if n in axes_lengths)
        if len(unknown) > 1:
            raise ValueError(f"Cannot infer the sizes of {unknown} in {pattern!r}: pass them as keyword arguments.")
        if unknown:
            if known == 0 or dim % known:
                raise ValueError(f"Axis of size {dim} cannot be split into {group} with sizes {axes_lengths}.")
            sizes[unknown[0]] = dim // known
        elif known != dim:
            raise ValueError(f"Axis of size {dim} does not match {group} with sizes {axes_lengths}.")
        for n in group:
            if n in axes_lengths:
                sizes[n] = int(axes_lengths[n])
    x = x.reshape([sizes[n] for n in names_in])
    x = x.permute([names_in.index(n) for n in names_out])
    return x.reshape([_prod(sizes[n] for n in g) for g in right])


def _prod(values: Any) -> int:
    out = 1
    for v in values:
        out *= int(v)
    return out
