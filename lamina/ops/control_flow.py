"""Control flow and structure ops of ``keras.ops``: ``cond``, ``switch``, ``while_loop``, ``fori_loop``, ``scan``,
``map``, ``associative_scan``, ``vectorized_map``, evaluated eagerly on torch tensors (nested states through
``lamina.tree``).

Example:
    >>> from lamina import ops
    >>> ops.fori_loop(0, 3, lambda i, x: x + i, 10)
    13"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Sequence
from typing import Any

import torch

from lamina import tree
from lamina.ops.core import ArrayLike, _t, _unwrap

__all__ = [
    "associative_scan",
    "cond",
    "fori_loop",
    "map",
    "scan",
    "switch",
    "vectorized_map",
    "while_loop",
]


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
