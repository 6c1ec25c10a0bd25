"""Core ops: conversion, dtypes, control flow and scatter/slice, as ``keras.ops`` has them.

Every op takes torch tensors, lamina ``Variable``s, NumPy arrays, Python scalars and
(nested) lists, and returns torch tensors. Tensors keep their device; other inputs go
to the device of the tensors they are combined with, else to
:func:`lamina.backend.default_device`.

Conversion follows Keras on its torch backend: Python ``int`` becomes ``int32``,
Python ``float`` becomes ``floatx()``, NumPy arrays keep their dtype (``float64``
included), and dtype promotion between tensors follows Keras's type lattice
(:func:`result_type`), in which a Python scalar is "weak" and adopts the tensor's type.

Example:
    >>> from lamina import ops
    >>> ops.convert_to_tensor([1, 2]).dtype
    torch.int32
    >>> ops.result_type("int8", float), ops.result_type("int8", "uint8")
    ('float32', 'int16')
    >>> ops.cond(True, lambda: 1, lambda: 2)
    1
"""

from __future__ import annotations

import builtins
import functools
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch

from lamina import backend, tree
from lamina.backend.dtypes import result_type, standardize_dtype
from lamina.backend.naming import auto_name
from lamina.ops.operation import KerasTensor, Operation

ArrayLike = Any  # a torch tensor, lamina Variable, NumPy array, Python scalar or (nested) list of those

__all__ = [
    "associative_scan",
    "cast",
    "cond",
    "convert_to_numpy",
    "convert_to_tensor",
    "custom_gradient",
    "dtype",
    "fori_loop",
    "is_tensor",
    "map",
    "result_type",
    "saturate_cast",
    "scan",
    "scatter",
    "scatter_update",
    "shape",
    "slice",
    "slice_update",
    "standardize_dtype",
    "stop_gradient",
    "switch",
    "unstack",
    "vectorized_map",
    "while_loop",
]

# --------------------------------------------------------------------------- dtypes

# Keras names some dtypes torch stores differently (torch has no usable uint16/uint32).
_STORAGE = {"uint16": torch.int32, "uint32": torch.int64, "uint64": torch.int64}


def _torch_dtype(dtype: Any) -> torch.dtype:
    if isinstance(dtype, torch.dtype):
        return dtype
    name = standardize_dtype(dtype)
    return _STORAGE.get(name) or backend.torch_dtype(name)


def _dtype_or_type(x: Any) -> Any:
    """What Keras feeds ``result_type`` for an operand: its dtype, or its Python type for scalars."""
    if isinstance(x, (bool, int, float, complex)) and not isinstance(x, np.generic):
        return type(x)
    v = _unwrap(x)
    if isinstance(v, (list, tuple)):
        return _infer_list_dtype(v) if not _device_of(*v) else convert_to_tensor(v).dtype
    d = getattr(v, "dtype", None)
    return d if d is not None else type(x)


# --------------------------------------------------------------------------- conversion


class SymbolicInputError(TypeError):
    """Raised when an op meets a symbolic ``KerasTensor``; the public ops catch it to record a graph node."""


def _unwrap(x: Any) -> Any:
    """A lamina/Keras ``Variable`` becomes its torch tensor; anything else is returned unchanged."""
    if isinstance(x, torch.Tensor):
        return x
    v = getattr(x, "value", None)
    if isinstance(v, torch.Tensor) and not callable(v):
        return v
    return x


def _device_of(*xs: Any) -> torch.device | None:
    for x in xs:
        x = _unwrap(x)
        if isinstance(x, torch.Tensor):
            return x.device
        if isinstance(x, (list, tuple)):
            d = _device_of(*x)
            if d is not None:
                return d
    return None


def _t(x: Any, dtype: Any = None, device: torch.device | None = None) -> torch.Tensor:
    """Converts one operand (fast path for tensors); ``device`` places non-tensors."""
    if isinstance(x, torch.Tensor):
        return x if dtype is None else _cast_tensor(x, dtype)
    return convert_to_tensor(x, dtype=dtype, device=device)


def _ts(*xs: Any) -> list[torch.Tensor]:
    """Converts several operands; non-tensors land on the device of the first tensor among them."""
    dev = _device_of(*xs)
    return [_t(x, device=dev) for x in xs]


def _cast_tensor(x: torch.Tensor, dtype: Any) -> torch.Tensor:
    td = _torch_dtype(dtype)
    return x if x.dtype == td else x.to(td)


def _infer_list_dtype(x: Any) -> str:
    leaves: list[Any] = []
    stack = [x]
    while stack:
        s = stack.pop()
        if isinstance(s, (list, tuple)):
            stack.extend(s)
        else:
            leaves.append(s)
    if not leaves:
        return backend.floatx()
    if any(isinstance(v, (str, bytes)) for v in leaves):
        raise TypeError(f"Cannot convert string data to a torch tensor. Received: {x!r}")
    return result_type(*(_dtype_or_type(v) for v in leaves))


def convert_to_tensor(
    x: ArrayLike,
    dtype: Any = None,
    sparse: bool | None = None,
    ragged: bool | None = None,
    device: torch.device | str | None = None,
) -> torch.Tensor:
    """Turns ``x`` into a torch tensor, with Keras's dtype rules.

    Tensors keep their device; other data goes to ``device`` or ``default_device()``.
    NumPy arrays keep their dtype; Python ``int`` -> ``int32``, ``float`` -> ``floatx()``,
    ``bool`` -> ``bool``; lists take the promoted dtype of their items.

    Args:
        x: data to convert.
        dtype: target dtype (name, torch or NumPy dtype), or ``None`` to infer.
        sparse, ragged: accepted for Keras compatibility; ``True`` is not supported.
        device: where non-tensor data is placed.

    Example:
        >>> import numpy as np
        >>> from lamina import ops
        >>> ops.convert_to_tensor(np.ones(2)).dtype, ops.convert_to_tensor(1.5).dtype
        (torch.float64, torch.float32)
    """
    if sparse:
        raise ValueError("`sparse=True` is not supported: lamina tensors are dense torch tensors.")
    if ragged:
        raise ValueError("`ragged=True` is not supported: lamina tensors are dense torch tensors.")
    x = _unwrap(x)
    if isinstance(x, torch.Tensor):
        return x if dtype is None else _cast_tensor(x, dtype)
    if _is_symbolic(x):
        raise SymbolicInputError(
            f"Cannot convert a symbolic KerasTensor ({x!r}) to a torch tensor: it stands for data that "
            "does not exist yet. Use ops inside a layer's `call`, or on real data."
        )
    dev = torch.device(device) if device is not None else backend.default_device()
    target = None if dtype is None else _torch_dtype(dtype)
    if isinstance(x, (bool, int, float, complex)):  # np.float64 is a float: it becomes floatx() as in Keras
        if target is None:
            if isinstance(x, bool):
                target = torch.bool
            elif isinstance(x, int):
                target = torch.int32 if -(2**31) <= x < 2**31 else torch.int64
            elif isinstance(x, float):
                target = _torch_dtype(backend.floatx())
            else:
                target = torch.complex64
        return torch.tensor(x, dtype=target, device=dev)
    if isinstance(x, (list, tuple)):
        if any(isinstance(_unwrap(v), torch.Tensor) for v in x):
            return torch.stack([convert_to_tensor(v, dtype=dtype, device=dev) for v in x])
        if target is None:
            target = _torch_dtype(_infer_list_dtype(x))
        arr = np.asarray(x)
    else:
        arr = np.asarray(x)
        if arr.dtype == object:
            raise TypeError(f"Cannot convert {type(x).__name__} of dtype object to a tensor. Received: x={x!r}")
    if arr.dtype.kind in "US":
        raise TypeError(f"Cannot convert string data to a torch tensor. Received: x={x!r}")
    if arr.dtype == np.uint32 or arr.dtype == np.uint64:
        arr = arr.astype(np.int64)
    elif arr.dtype == np.uint16:
        arr = arr.astype(np.int32)
    elif arr.dtype.name == "bfloat16":
        arr = arr.astype(np.float32)
        target = target or torch.bfloat16
    t = torch.from_numpy(np.array(arr, copy=True, order="C")) if arr.ndim else torch.from_numpy(np.array(arr))
    if target is not None and t.dtype != target:
        t = t.to(target)
    return t.to(dev) if t.device != dev else t


def convert_to_numpy(x: ArrayLike) -> np.ndarray:
    """A NumPy array with the data of ``x`` (detached, moved to the CPU).

    Example:
        >>> import torch
        >>> from lamina import ops
        >>> ops.convert_to_numpy(torch.tensor([1.0, 2.0], requires_grad=True)).tolist()
        [1.0, 2.0]
    """
    x = _unwrap(x)
    if isinstance(x, (list, tuple)):
        return np.array([convert_to_numpy(v) for v in x])
    if isinstance(x, torch.Tensor):
        return backend.to_numpy(x)
    return np.asarray(x)


def is_tensor(x: Any) -> bool:
    """Whether ``x`` is a torch tensor (the native tensor type of this backend)."""
    return isinstance(x, torch.Tensor)


def _is_symbolic(x: Any) -> bool:
    return isinstance(x, KerasTensor)


def shape(x: ArrayLike) -> tuple[int | None, ...]:
    """The shape of ``x`` as a tuple of ints (``None`` for unknown sizes of symbolic tensors).

    Example:
        >>> from lamina import ops
        >>> ops.shape(ops.zeros((2, 3)))
        (2, 3)
    """
    if _is_symbolic(x):
        return tuple(x.shape)
    x = _unwrap(x)
    if isinstance(x, torch.Tensor):
        return tuple(x.shape)
    return tuple(np.shape(x))


def dtype(x: ArrayLike) -> str:
    """The Keras dtype name of ``x`` (``"float32"``...).

    Example:
        >>> from lamina import ops
        >>> ops.dtype([1, 2]), ops.dtype(ops.ones(2))
        ('int32', 'float32')
    """
    if _is_symbolic(x):
        return x.dtype
    return standardize_dtype(_t(x).dtype)


def cast(x: ArrayLike, dtype: Any) -> torch.Tensor:
    """``x`` converted to ``dtype`` (no copy when it already has it).

    Example:
        >>> from lamina import ops
        >>> ops.cast([1.7, -1.7], "int32").tolist()
        [1, -1]
    """
    return _t(x, dtype=standardize_dtype(dtype))


def _limits(name: str) -> tuple[float, float]:
    if name == "bool":
        return 0, 1
    td = _torch_dtype(name)
    info = torch.finfo(td) if td.is_floating_point else torch.iinfo(td)
    if name == "uint16":
        return 0, 65535
    if name == "uint32":
        return 0, 2**32 - 1
    return info.min, info.max


def saturate_cast(x: ArrayLike, dtype: Any) -> torch.Tensor:
    """Casts to ``dtype``, clipping values first to the range ``dtype`` can hold.

    Example:
        >>> from lamina import ops
        >>> ops.saturate_cast([-1.0, 300.0], "uint8").tolist()
        [0, 255]
    """
    x = _t(x)
    name = standardize_dtype(dtype)
    in_name = standardize_dtype(x.dtype)
    in_lo, in_hi = _limits(in_name)
    out_lo, out_hi = _limits(name)
    lo = torch.tensor(builtins.max(in_lo, out_lo), dtype=torch.float64).to(x.dtype)
    hi = torch.tensor(builtins.min(in_hi, out_hi), dtype=torch.float64).to(x.dtype)
    if x.dtype.is_floating_point:
        # The bound may round outside the target range in x's precision; step it back inside.
        if float(lo) < out_lo:
            lo = torch.nextafter(lo, torch.zeros_like(lo))
        if float(hi) > out_hi:
            hi = torch.nextafter(hi, torch.zeros_like(hi))
    if in_name == "bool":
        return _cast_tensor(x, name)
    x = torch.clamp(x, lo.to(x.device), hi.to(x.device))
    return _cast_tensor(x, name)


# --------------------------------------------------------------------------- nested structures


# --------------------------------------------------------------------------- control flow


def cond(pred: ArrayLike, true_fn: Callable[[], Any], false_fn: Callable[[], Any]) -> Any:
    """``true_fn()`` if ``pred`` is true, else ``false_fn()`` (evaluated eagerly)."""
    return true_fn() if bool(_unwrap(pred)) else false_fn()


def switch(index: ArrayLike, branches: Sequence[Callable[..., Any]], *operands: Any) -> Any:
    """Calls ``branches[index](*operands)``; ``index`` is clamped to the valid range.

    Example:
        >>> from lamina import ops
        >>> ops.switch(5, [lambda x: x + 1, lambda x: x * 10], 2)
        20
    """
    i = int(_unwrap(index))
    i = builtins.min(builtins.max(i, 0), len(branches) - 1)
    return branches[i](*operands)


def while_loop(
    cond: Callable[..., Any], body: Callable[..., Any], loop_vars: Any, maximum_iterations: int | None = None
) -> Any:
    """Runs ``loop_vars = body(*loop_vars)`` while ``cond(*loop_vars)`` (at most ``maximum_iterations`` times).

    A single (non-tuple) ``loop_vars`` is passed and returned as is.

    Example:
        >>> from lamina import ops
        >>> int(ops.while_loop(lambda i: i < 10, lambda i: i + 3, 0))
        12
    """
    is_seq = isinstance(loop_vars, (list, tuple))
    state = tuple(loop_vars) if is_seq else (loop_vars,)
    state = tuple(
        tree.pack_sequence_as(s, [_t(v) for v in tree.flatten(s)]) if tree.is_nested(s) else _t(s) for s in state
    )
    n = 0
    while (maximum_iterations is None or n < maximum_iterations) and bool(cond(*state)):
        out = body(*state)
        state = tuple(out) if isinstance(out, (list, tuple)) else (out,)
        n += 1
    return state if is_seq else state[0]


def fori_loop(lower: int, upper: int, body_fun: Callable[[int, Any], Any], init_val: Any) -> Any:
    """``val = body_fun(i, val)`` for ``i`` in ``range(lower, upper)``, starting from ``init_val``.

    Example:
        >>> from lamina import ops
        >>> ops.fori_loop(0, 4, lambda i, v: v + i, 0)
        6
    """
    val = init_val
    for i in range(int(_unwrap(lower)), int(_unwrap(upper))):
        val = body_fun(i, val)
    return val


def scan(
    f: Callable[[Any, Any], tuple[Any, Any]],
    init: Any,
    xs: Any = None,
    length: int | None = None,
    reverse: bool = False,
    unroll: int | bool = 1,
) -> tuple[Any, Any]:
    """Loops ``carry, y = f(carry, x)`` over the leading axis of ``xs``; returns ``(carry, stacked ys)``.

    Example:
        >>> from lamina import ops
        >>> carry, ys = ops.scan(lambda c, x: (c + x, c * x), 0, ops.arange(1, 4))
        >>> int(carry), ys.tolist()
        (6, [0, 2, 9])
    """
    if not callable(f):
        raise TypeError(f"`f` should be a callable. Received: f={f}")
    if not isinstance(unroll, bool) and (not isinstance(unroll, int) or unroll < 1):
        raise ValueError(f"`unroll` must be a positive integer or a boolean. Received: unroll={unroll}")
    if xs is None and length is None:
        raise ValueError("Got no `xs` to scan over and `length` not provided.")
    xs_flat = [] if xs is None else [_t(v) for v in tree.flatten(xs)]
    n = int(length) if length is not None else int(xs_flat[0].shape[0])
    carry = tree.pack_sequence_as(init, [_t(v) for v in tree.flatten(init)]) if tree.is_nested(init) else _t(init)
    ys: list[Any] = []
    steps = range(n - 1, -1, -1) if reverse else range(n)
    for i in steps:
        if xs is None:
            x = None
        elif tree.is_nested(xs):
            x = tree.pack_sequence_as(xs, [v[i] for v in xs_flat])
        else:
            x = xs_flat[0][i]
        carry, y = f(carry, x)
        ys.append(y)
    if reverse:
        ys.reverse()
    if not ys or ys[0] is None:
        zeros = [torch.zeros_like(_t(v)) for v in tree.flatten(carry)]
        return carry, tree.pack_sequence_as(carry, [torch.stack([z] * n) for z in zeros]) if tree.is_nested(
            carry
        ) else (torch.stack([zeros[0]] * n) if n else zeros[0][None][:0])
    flat_ys = [tree.flatten(y) for y in ys]
    stacked = [torch.stack([_t(leaf[j]) for leaf in flat_ys]) for j in range(len(flat_ys[0]))]
    return carry, (tree.pack_sequence_as(ys[0], stacked) if tree.is_nested(ys[0]) else stacked[0])


def map(f: Callable[[Any], Any], xs: Any) -> Any:  # noqa: A001 - Keras's name
    """Applies ``f`` to each slice of ``xs`` along axis 0 and stacks the results.

    Example:
        >>> from lamina import ops
        >>> ops.map(lambda r: r.sum(), ops.ones((3, 2))).tolist()
        [2.0, 2.0, 2.0]
    """
    _, ys = scan(lambda c, x: (c, f(x)), (), xs)
    return ys


def associative_scan(f: Callable[[Any, Any], Any], elems: Any, reverse: bool = False, axis: int = 0) -> Any:
    """Inclusive scan of the associative ``f`` along ``axis`` (``cumsum`` for ``f=add``).

    Example:
        >>> from lamina import ops
        >>> ops.associative_scan(lambda a, b: a + b, ops.arange(1, 5)).tolist()
        [1, 3, 6, 10]
    """
    if not callable(f):
        raise TypeError(f"`f` should be a callable. Received: f={f}")
    leaves = [_t(v) for v in tree.flatten(elems)]
    n = int(leaves[0].shape[axis])
    if any(int(v.shape[axis]) != n for v in leaves[1:]):
        raise ValueError(
            "Array inputs to associative_scan must have the same size along `axis`. "
            f"Received shapes: {[tuple(v.shape) for v in leaves]}"
        )
    nested = tree.is_nested(elems)
    order = range(n - 1, -1, -1) if reverse else range(n)
    outs: list[list[torch.Tensor]] = []
    acc: list[torch.Tensor] | None = None
    for i in order:
        cur = [v.narrow(axis, i, 1) for v in leaves]
        if acc is None:
            acc = cur
        else:
            a = tree.pack_sequence_as(elems, acc) if nested else acc[0]
            b = tree.pack_sequence_as(elems, cur) if nested else cur[0]
            res = f(b, a) if reverse else f(a, b)
            acc = [_t(r) for r in tree.flatten(res)]
        outs.append(acc)
    if reverse:
        outs.reverse()
    result = [torch.cat([o[j] for o in outs], dim=axis) for j in range(len(leaves))]
    return tree.pack_sequence_as(elems, result) if nested else result[0]


def vectorized_map(function: Callable[[Any], Any], elements: Any) -> Any:
    """``function`` applied to each slice of ``elements`` along axis 0, vectorized with ``torch.vmap``.

    Example:
        >>> from lamina import ops
        >>> ops.vectorized_map(lambda r: r * 2, ops.ones((2, 2))).tolist()
        [[2.0, 2.0], [2.0, 2.0]]
    """
    if tree.is_nested(elements):
        elements = tree.pack_sequence_as(elements, [_t(v) for v in tree.flatten(elements)])
    else:
        elements = _t(elements)
    return torch.vmap(function)(elements)


def stop_gradient(variable: ArrayLike) -> torch.Tensor:
    """``variable`` cut from the autograd graph (``detach``)."""
    return _t(variable).detach()


def unstack(x: ArrayLike, num: int | None = None, axis: int = 0) -> list[torch.Tensor]:
    """The slices of ``x`` along ``axis``, as a list.

    Example:
        >>> from lamina import ops
        >>> [t.tolist() for t in ops.unstack([[1, 2], [3, 4]], axis=1)]
        [[1, 3], [2, 4]]
    """
    x = _t(x)
    if num is not None and num != x.shape[axis]:
        raise ValueError(f"`num` must equal x.shape[axis]={x.shape[axis]}. Received: num={num}")
    return list(torch.unbind(x, dim=axis))


# --------------------------------------------------------------------------- scatter / slice


def _linear_index(indices: torch.Tensor, dims: Sequence[int]) -> torch.Tensor:
    """Row-major flat positions of ``indices[..., k]`` into leading dims ``dims``."""
    strides = [1] * len(dims)
    for i in range(len(dims) - 2, -1, -1):
        strides[i] = strides[i + 1] * int(dims[i + 1])
    idx = indices.long()
    size = torch.tensor(list(dims), device=idx.device, dtype=torch.long)
    idx = torch.where(idx < 0, idx + size, idx)
    return (idx * torch.tensor(strides, device=idx.device, dtype=torch.long)).sum(-1)


def scatter(indices: ArrayLike, values: ArrayLike, shape: Sequence[int]) -> torch.Tensor:
    """A zero tensor of ``shape`` with ``values`` added at ``indices`` (duplicates accumulate).

    ``indices`` has shape ``(..., k)`` indexing the first ``k`` dims; ``values`` has shape
    ``indices.shape[:-1] + shape[k:]``.

    Example:
        >>> from lamina import ops
        >>> ops.scatter([[0, 1], [0, 1], [1, 0]], [1.0, 2.0, 5.0], (2, 2)).tolist()
        [[0.0, 3.0], [5.0, 0.0]]
    """
    values = _t(values)
    indices = _t(indices, device=values.device)
    shape = tuple(int(s) for s in shape)
    k = int(indices.shape[-1])
    flat_idx = _linear_index(indices.reshape(-1, k), shape[:k])
    rest = shape[k:]
    out = torch.zeros((int(np.prod(shape[:k], dtype=np.int64)),) + rest, dtype=values.dtype, device=values.device)
    out.index_add_(0, flat_idx, values.reshape((-1,) + rest))
    return out.reshape(shape)


def scatter_update(
    inputs: ArrayLike, indices: ArrayLike, updates: ArrayLike, reduction: str | None = None
) -> torch.Tensor:
    """A copy of ``inputs`` with ``updates`` written (or reduced) at ``indices``.

    Args:
        inputs: the tensor to update.
        indices: ``(N, k)`` integer indices into the first ``k`` dims of ``inputs``.
        updates: ``(N,) + inputs.shape[k:]`` values.
        reduction: ``None`` (overwrite), ``"add"``, ``"max"``, ``"min"`` or ``"mul"``.

    Example:
        >>> from lamina import ops
        >>> ops.scatter_update(ops.zeros((2, 2)), [[1, 1]], [7.0]).tolist()
        [[0.0, 0.0], [0.0, 7.0]]
    """
    if reduction is not None:
        reduction = reduction.lower()
        if reduction not in ("add", "max", "min", "mul"):
            raise ValueError(f"Invalid reduction: {reduction}. Supported values are: None, 'add', 'max', 'min', 'mul'.")
    inputs = _t(inputs)
    indices = _t(indices, device=inputs.device)
    updates = _t(updates, dtype=inputs.dtype, device=inputs.device)
    k = int(indices.shape[-1])
    lead, rest = tuple(inputs.shape[:k]), tuple(inputs.shape[k:])
    flat_idx = _linear_index(indices.reshape(-1, k), lead)
    out = inputs.clone().reshape((-1,) + rest)
    upd = updates.reshape((-1,) + rest)
    if reduction is None:
        out.index_copy_(0, flat_idx, upd)
    elif reduction == "add":
        out.index_add_(0, flat_idx, upd)
    else:
        how = {"max": "amax", "min": "amin", "mul": "prod"}[reduction]
        out.index_reduce_(0, flat_idx, upd, how, include_self=True)
    return out.reshape(inputs.shape)


def _int_list(v: Any) -> list[int]:
    v = _unwrap(v)
    if isinstance(v, torch.Tensor):
        return [int(i) for i in v.reshape(-1).tolist()]
    return [int(_unwrap(i)) for i in v]


def slice(inputs: ArrayLike, start_indices: Sequence[int], shape: Sequence[int]) -> torch.Tensor:  # noqa: A001
    """The block of ``inputs`` of size ``shape`` starting at ``start_indices``.

    Example:
        >>> from lamina import ops
        >>> ops.slice(ops.arange(10).reshape(2, 5), (1, 1), (1, 3)).tolist()
        [[6, 7, 8]]
    """
    inputs = _t(inputs)
    out = inputs
    for d, (s, n) in enumerate(zip(_int_list(start_indices), _int_list(shape))):
        if n == -1:
            n = inputs.shape[d] - s
        out = out.narrow(d, s, n)
    return out


def slice_update(inputs: ArrayLike, start_indices: Sequence[int], updates: ArrayLike) -> torch.Tensor:
    """A copy of ``inputs`` with the block at ``start_indices`` replaced by ``updates``.

    Example:
        >>> from lamina import ops
        >>> ops.slice_update(ops.zeros((2, 3)), (1, 1), ops.ones((1, 2))).tolist()
        [[0.0, 0.0, 0.0], [0.0, 1.0, 1.0]]
    """
    inputs = _t(inputs)
    updates = _t(updates, dtype=inputs.dtype, device=inputs.device)
    starts = _int_list(start_indices)
    index = tuple(builtins.slice(s, s + n) for s, n in zip(starts, updates.shape))
    out = inputs.clone()
    out[index] = updates
    return out


# --------------------------------------------------------------------------- gradients


class _CustomGradient(torch.autograd.Function):
    @staticmethod
    def forward(ctx: Any, fn: Callable[..., Any], *args: Any) -> Any:
        out, grad_fn = fn(*args)
        ctx.grad_fn = grad_fn
        ctx.n_args = len(args)
        return out

    @staticmethod
    def backward(ctx: Any, *upstream: torch.Tensor) -> Any:
        up = upstream[0] if len(upstream) == 1 else upstream
        try:
            grads = ctx.grad_fn(upstream=up)
        except TypeError:
            grads = ctx.grad_fn(up)
        if not isinstance(grads, (list, tuple)):
            grads = (grads,)
        grads = tuple(grads) + (None,) * (ctx.n_args - len(grads))
        return (None, *grads)


def custom_gradient(f: Callable[..., tuple[Any, Callable[..., Any]]]) -> Callable[..., Any]:
    """Decorator: ``f(*args)`` returns ``(output, grad_fn)``; backprop calls ``grad_fn(upstream=dy)``.

    Example:
        >>> import torch
        >>> from lamina import ops
        >>> @ops.custom_gradient
        ... def clipped_identity(x):
        ...     def grad(*args, upstream=None):
        ...         return ops.clip(upstream, -1.0, 1.0)
        ...     return x * 1.0, grad
        >>> x = torch.tensor([2.0], requires_grad=True)
        >>> (clipped_identity(x) * 5.0).sum().backward(); x.grad.tolist()
        [1.0]
    """

    @functools.wraps(f)
    def wrapped(*args: Any) -> Any:
        return _CustomGradient.apply(f, *[_unwrap(a) for a in args])

    return wrapped


# --------------------------------------------------------------------------- symbolic (functional API) calls


class _Slot:
    """Where the ``i``-th symbolic argument goes when an op recorded in a graph is replayed."""

    __slots__ = ("i",)

    def __init__(self, i: int) -> None:
        self.i = i


def _replace_symbolic(s: Any, found: list[Any]) -> Any:
    """``s`` with each symbolic tensor replaced by a ``_Slot`` numbering it in ``found``."""

    def slot(leaf: Any) -> Any:
        if not _is_symbolic(leaf):
            return leaf
        found.append(leaf)
        return _Slot(len(found) - 1)

    return tree.map_structure(slot, s)


def _fill(s: Any, values: Sequence[Any]) -> Any:
    return tree.map_structure(lambda leaf: values[leaf.i] if isinstance(leaf, _Slot) else leaf, s)


class OpLayer(Operation):
    """One ``lamina.ops`` call on symbolic tensors, recorded as a node of a functional graph."""

    def __init__(self, fn: Callable[..., Any], template: tuple, name: str | None = None) -> None:
        super().__init__(name=name or auto_name(fn.__name__))
        self.fn = fn
        self.template = template

    def call(self, *tensors: Any) -> Any:
        args, kwargs = _fill(self.template, tensors)
        return self.fn(*args, **kwargs)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config["function"] = self.fn.__name__
        return config


def _symbolic_aware(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Wraps an op so that symbolic ``KerasTensor`` arguments record a graph node instead of failing."""

    @functools.wraps(fn)
    def op(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except SymbolicInputError:
            found: list[Any] = []
            template = _replace_symbolic((args, kwargs), found)
            if not found:
                raise
            return OpLayer(fn, template)(*found)

    op._lamina_op = fn  # type: ignore[attr-defined]
    return op
