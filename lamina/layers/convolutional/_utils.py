"""Argument checks and shape arithmetic shared by the convolution and pooling layers.

The formulas follow Keras 3 (``operation_utils`` and its torch backend) so that output
shapes and "same" padding splits agree number for number.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F

from lamina import activations


def check_positive_int(value: Any, name: str, allow_none: bool = False) -> None:
    if value is None and allow_none:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(
            f"Invalid value for argument `{name}`. Expected a strictly positive integer. Received: {name}={value!r}"
        )


# ---------------------------------------------------------------- shapes
def conv_output_length(length: int | None, kernel: int, stride: int, padding: str, dilation: int = 1) -> int | None:
    """Spatial output size of a convolution or pooling window, as Keras computes it."""
    if length is None:
        return None
    if padding == "valid":
        return (length - dilation * (kernel - 1) - 1) // stride + 1
    return (length - 1) // stride + 1  # "same" and "causal"


def same_padding(length: int, kernel: int, stride: int, dilation: int = 1) -> tuple[int, int]:
    """``(left, right)`` zero padding for "same": the odd one goes at the end (TensorFlow's rule)."""
    effective = (kernel - 1) * dilation + 1
    if stride == 1:
        total = effective - 1
    else:
        total = max(0, ((length + stride - 1) // stride - 1) * stride + effective - length)
    return total // 2, total - total // 2


def transpose_crops(
    length: int, kernel: int, stride: int, padding: str, output_padding: int | None, dilation: int = 1
) -> tuple[int, int]:
    """``(crop_left, crop_right)`` to cut from torch's full transposed-conv output (negative: zero-pad).

    Torch's full output has ``(length - 1) * stride + effective_kernel`` steps; Keras's padding
    rules (its JAX/TF convention) keep the window computed here.
    """
    effective = (kernel - 1) * dilation + 1
    if padding == "valid":
        extra = max(effective, stride) - effective if output_padding is None else output_padding
        left, right = effective - 1, effective - 1 + extra
    else:
        if output_padding is None:
            total = stride + effective - 2
        else:
            total = effective + effective % 2 - 2 + output_padding
        left = min(total // 2 + total % 2, effective - 1)
        right = total - left
    return effective - 1 - left, effective - 1 - right


def transpose_output_length(
    length: int | None, kernel: int, stride: int, padding: str, output_padding: int | None, dilation: int = 1
) -> int | None:
    """Spatial output size of a transposed convolution (Keras's formula)."""
    if length is None:
        return None
    effective = (kernel - 1) * dilation + 1
    if padding == "valid":
        extra = max(effective, stride) - effective if output_padding is None else output_padding
        return (length - 1) * stride + effective + extra
    if output_padding is None:
        return length * stride
    return (length - 1) * stride + effective % 2 + output_padding


# ---------------------------------------------------------------- layout helpers
def to_channels_first(x: torch.Tensor, rank: int) -> torch.Tensor:
    """``(N, *spatial, C) -> (N, C, *spatial)``, a zero-copy view (it *is* channels_last memory)."""
    return x.permute(0, rank + 1, *range(1, rank + 1))


def to_channels_last(x: torch.Tensor, rank: int) -> torch.Tensor:
    """``(N, C, *spatial) -> (N, *spatial, C)``, a zero-copy view."""
    return x.permute(0, *range(2, rank + 2), 1)


def torch_kernel(kernel: torch.Tensor, rank: int) -> torch.Tensor:
    """Keras ``(*spatial, a, b)`` -> torch ``(b, a, *spatial)``, a zero-copy view."""
    return kernel.permute(rank + 1, rank, *range(rank))


def pad_spatial(x: torch.Tensor, pads: list[tuple[int, int]], mode: str = "constant") -> torch.Tensor:
    """Pads the spatial axes of a channels-first tensor by ``[(left, right), ...]`` (first axis first)."""
    flat: list[int] = []
    for left, right in reversed(pads):
        flat.extend((left, right))
    return F.pad(x, flat, mode=mode)


def same_padding_args(
    x: torch.Tensor,
    kernel_size: tuple[int, ...],
    strides: tuple[int, ...],
    dilation_rate: tuple[int, ...] | None = None,
    mode: str = "constant",
) -> tuple[torch.Tensor, tuple[int, ...] | int]:
    """For a channels-first ``x``: ``(x, symmetric padding)`` when "same" is symmetric, else ``(padded x, 0)``."""
    dilation_rate = dilation_rate or (1,) * len(kernel_size)
    pads = [same_padding(n, k, s, d) for n, k, s, d in zip(x.shape[2:], kernel_size, strides, dilation_rate)]
    if all(left == right for left, right in pads):
        return x, tuple(left for left, _ in pads)
    return pad_spatial(x, pads, mode), 0


def cast_like(w: torch.Tensor | None, x: torch.Tensor) -> torch.Tensor | None:
    """The weight in the input's dtype (mixed precision keeps float32 variables)."""
    if w is None or w.dtype == x.dtype:
        return w
    return w.to(x.dtype)


def serialize_or_none(obj: Any, module: Any) -> Any:
    return None if obj is None else module.serialize(obj)


def apply_activation(fn: Callable[..., torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    return x if fn is activations.linear else fn(x)


def conv_output(fn: Callable[..., torch.Tensor], y: torch.Tensor, from_torch_layout: Callable) -> torch.Tensor:
    """Activation, then back to the Keras layout. ``y`` is the convolution's own fresh output, so relu runs
    in place on it before the (zero-copy) permute: 5-10x less time than an out-of-place relu on
    channels-last memory on CPU, and conv backward does not need ``y``."""
    if fn is activations.relu:
        return from_torch_layout(torch.relu_(y))
    return apply_activation(fn, from_torch_layout(y))
