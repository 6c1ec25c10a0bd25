"""Shared helpers of the normalization layers: float32 statistics for half inputs, axis checks."""

from __future__ import annotations

from typing import Any

import torch

from lamina.layers.layer import Layer

_KERAS_EPSILON = 1e-7  # keras.backend.epsilon(), used by the masked moments


def _upcast(x: torch.Tensor) -> torch.Tensor:
    return x.float() if x.dtype in (torch.float16, torch.bfloat16) else x


def _check_axes_in_bounds(layer: Layer, axis: Any, input_shape: tuple) -> None:
    axes = [axis] if isinstance(axis, int) else list(axis)
    rank = len(input_shape)
    for a in axes:
        if a >= rank or a < -rank:
            raise layer._error(
                f"`axis` within the input's rank {rank}",
                f"axis={axis}, out of bounds for input shape {tuple(input_shape)}",
            )


def _l2_normalize(x: torch.Tensor) -> torch.Tensor:
    """``x * min(rsqrt(sum(x**2)), 1/epsilon)`` over all elements, as ``keras.ops.normalize(axis=None)``."""
    return x * torch.clamp(torch.rsqrt(x.square().sum()), max=1.0 / _KERAS_EPSILON)
