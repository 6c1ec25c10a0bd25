"""Checks of the arguments layers share: tuples of sizes (kernel, strides, pool size), paddings.

Example:
    >>> from lamina.layers.argument_validation import standardize_tuple
    >>> standardize_tuple(3, 2, "kernel_size")
    (3, 3)
"""

from __future__ import annotations

from typing import Any

from lamina.backend.config import standardize_data_format

__all__ = ["standardize_data_format", "standardize_padding", "standardize_tuple"]


def standardize_tuple(value: Any, n: int, name: str, allow_zero: bool = False) -> tuple[int, ...]:
    """An int or an iterable of ``n`` ints -> a tuple of ``n`` ints, each ``> 0`` (``>= 0`` with ``allow_zero``).

    Raises:
        ValueError: Keras's message, naming the argument and the value received.
    """
    error = f"The `{name}` argument must be a tuple of {n} integers. Received: {name}={value}"
    if isinstance(value, int) and not isinstance(value, bool):
        values = (value,) * n
    else:
        try:
            values = tuple(value)
        except TypeError:
            raise ValueError(error) from None
        if len(values) != n:
            raise ValueError(error)
        for v in values:
            if isinstance(v, bool) or not isinstance(v, int):
                try:
                    if int(v) != v:
                        raise ValueError
                except (ValueError, TypeError):
                    raise ValueError(f"{error}, including element {v} of type {type(v)}") from None
        values = tuple(int(v) for v in values)
    bad = sorted({v for v in values if (v < 0 if allow_zero else v <= 0)})
    if bad:
        need = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{error}, including values {bad} that do not satisfy `value {need}`")
    return values


def standardize_padding(value: Any, allow_causal: bool = False) -> str:
    """``"valid"``/``"same"`` (and ``"causal"`` where allowed), case-insensitive."""
    allowed = ("valid", "same", "causal") if allow_causal else ("valid", "same")
    padding = value.lower() if isinstance(value, str) else value
    if padding not in allowed:
        raise ValueError(
            f"The `padding` argument must be one of {', '.join(map(repr, allowed))}. Received: padding={value!r}"
        )
    return padding
