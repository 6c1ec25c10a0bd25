"""Argument helpers shared by the padding and cropping layers."""

from __future__ import annotations

from typing import Any

from lamina.layers.argument_validation import standardize_tuple

_ORDINALS = ("1st", "2nd", "3rd")


def _pairs_per_axis(value: Any, rank: int, name: str) -> tuple[tuple[int, int], ...]:
    """Keras's 2D/3D padding/cropping argument: int, ``rank`` ints, or ``rank`` pairs -> ``rank`` pairs."""
    if isinstance(value, int) and not isinstance(value, bool):
        if value < 0:
            raise ValueError(f"`{name}` cannot be negative. Received: {name}={value}.")
        return ((value, value),) * rank
    if hasattr(value, "__len__"):
        if len(value) != rank:
            raise ValueError(f"`{name}` should have {rank} elements. Received: {name}={value}.")
        return tuple(
            standardize_tuple(v, 2, f"{_ORDINALS[i]} entry of {name}", allow_zero=True) for i, v in enumerate(value)
        )
    raise ValueError(
        f"`{name}` should be either an int, a tuple of {rank} ints, or a tuple of {rank} tuples of 2 ints "
        f"((before, after) per spatial axis). Received: {name}={value}."
    )


def _spatial_axes(rank: int, data_format: str) -> range:
    return range(2, 2 + rank) if data_format == "channels_first" else range(1, 1 + rank)
