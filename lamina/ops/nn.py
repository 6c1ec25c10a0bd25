"""Neural-network ops of ``keras.ops.nn``: activations, convolution, pooling, losses, normalization.

Spatial ops take channels-last data by default (``data_format="channels_last"``,
``(batch, *spatial, channels)``) and Keras kernel layouts (``conv``: ``(*kernel, in, out)``;
``depthwise_conv``: ``(*kernel, in, multiplier)``; ``conv_transpose``: ``(*kernel, out, in)``).

Example:
    >>> from lamina import ops
    >>> ops.relu([-1.0, 2.0]).tolist()
    [0.0, 2.0]
    >>> ops.softmax([0.0, 0.0]).tolist()
    [0.5, 0.5]
    >>> ops.conv(ops.ones((1, 4, 1)), ops.ones((3, 1, 1))).reshape(-1).tolist()
    [3.0, 3.0]
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F

from lamina import backend
from lamina.ops.core import ArrayLike, _cast_tensor, _t, _torch_dtype, _ts, result_type, standardize_dtype

__all__ = [
    "adaptive_average_pool",
    "adaptive_max_pool",
    "average_pool",
    "batch_normalization",
    "binary_crossentropy",
    "categorical_crossentropy",
    "celu",
    "conv",
    "conv_transpose",
    "ctc_decode",
    "ctc_loss",
    "depth_to_space",
    "depthwise_conv",
    "dot_product_attention",
    "elu",
    "fold",
    "gelu",
    "glu",
    "hard_shrink",
    "hard_sigmoid",
    "hard_silu",
    "hard_swish",
    "hard_tanh",
    "layer_normalization",
    "leaky_relu",
    "log_sigmoid",
    "log_softmax",
    "max_pool",
    "moments",
    "multi_hot",
    "normalize",
    "one_hot",
    "polar",
    "psnr",
    "relu",
    "relu6",
    "rms_normalization",
    "selu",
    "separable_conv",
    "sigmoid",
    "silu",
    "soft_shrink",
    "softmax",
    "softplus",
    "softsign",
    "space_to_depth",
    "sparse_categorical_crossentropy",
    "sparse_plus",
    "sparse_sigmoid",
    "sparsemax",
    "squareplus",
    "swish",
    "tanh_shrink",
    "threshold",
    "unfold",
]


def _epsilon() -> float:
    fn = getattr(backend, "epsilon", None)
    return float(fn()) if callable(fn) else 1e-7


def _data_format(data_format: str | None) -> str:
    if data_format is None:
        fn = getattr(backend, "image_data_format", None)
        data_format = fn() if callable(fn) else "channels_last"
    data_format = str(data_format).lower()
    if data_format not in ("channels_first", "channels_last"):
        raise ValueError(
            "The `data_format` argument must be one of {'channels_first', 'channels_last'}. "
            f"Received: data_format={data_format}"
        )
    return data_format


def _ftensor(x: ArrayLike) -> torch.Tensor:
    """A float tensor (integers and bools become ``floatx()``)."""
    x = _t(x)
    if not (x.dtype.is_floating_point or x.dtype.is_complex):
        x = x.to(_torch_dtype(backend.floatx()))
    return x


# --------------------------------------------------------------------------- activations


def relu(x: ArrayLike) -> torch.Tensor:
    """``max(x, 0)``."""
    return F.relu(_t(x))


def relu6(x: ArrayLike) -> torch.Tensor:
    """``min(max(x, 0), 6)``."""
    return F.relu6(_ftensor(x))


def sigmoid(x: ArrayLike) -> torch.Tensor:
    """``1 / (1 + exp(-x))``."""
    return torch.sigmoid(_ftensor(x))


def sparse_sigmoid(x: ArrayLike) -> torch.Tensor:
    """0 below -1, 1 above 1, ``(x + 1) / 2`` between."""
    x = _ftensor(x)
    return torch.clamp(0.5 * (x + 1.0), 0.0, 1.0)


def softplus(x: ArrayLike) -> torch.Tensor:
    """``log(1 + exp(x))``."""
    return F.softplus(_ftensor(x))


def softsign(x: ArrayLike) -> torch.Tensor:
    """``x / (1 + |x|)``."""
    return F.softsign(_ftensor(x))


def soft_shrink(x: ArrayLike, threshold: float = 0.5) -> torch.Tensor:
    """``x - threshold`` above ``threshold``, ``x + threshold`` below ``-threshold``, else 0."""
    return F.softshrink(_ftensor(x), lambd=threshold)


def sparse_plus(x: ArrayLike) -> torch.Tensor:
    """0 below -1, ``x`` above 1, ``(x + 1)**2 / 4`` between."""
    x = _ftensor(x)
    return torch.where(x <= -1, torch.zeros_like(x), torch.where(x < 1, 0.25 * (x + 1) ** 2, x))


def silu(x: ArrayLike) -> torch.Tensor:
    """``x * sigmoid(x)`` (a.k.a. swish)."""
    return F.silu(_ftensor(x))


def swish(x: ArrayLike) -> torch.Tensor:
    """Same as :func:`silu`."""
    return silu(x)


def squareplus(x: ArrayLike, b: float = 4) -> torch.Tensor:
    """``(x + sqrt(x**2 + b)) / 2``."""
    x = _ftensor(x)
    return (x + torch.sqrt(x * x + b)) / 2


def log_sigmoid(x: ArrayLike) -> torch.Tensor:
    """``log(sigmoid(x))``, computed stably."""
    return F.logsigmoid(_ftensor(x))


def leaky_relu(x: ArrayLike, negative_slope: float = 0.2) -> torch.Tensor:
    """``x`` for positive inputs, ``negative_slope * x`` otherwise."""
    return F.leaky_relu(_ftensor(x), negative_slope=negative_slope)


def hard_sigmoid(x: ArrayLike) -> torch.Tensor:
    """``relu6(x + 3) / 6``."""
    return F.hardsigmoid(_ftensor(x))


def hard_silu(x: ArrayLike) -> torch.Tensor:
    """``x * relu6(x + 3) / 6``."""
    return F.hardswish(_ftensor(x))


def hard_swish(x: ArrayLike) -> torch.Tensor:
    """Same as :func:`hard_silu`."""
    return hard_silu(x)


def elu(x: ArrayLike, alpha: float = 1.0) -> torch.Tensor:
    """``x`` for positive inputs, ``alpha * (exp(x) - 1)`` otherwise."""
    return F.elu(_ftensor(x), alpha)


def selu(x: ArrayLike) -> torch.Tensor:
    """Scaled ELU with the self-normalising constants."""
    return F.selu(_ftensor(x))


def gelu(x: ArrayLike, approximate: bool = True) -> torch.Tensor:
    """Gaussian error linear unit (tanh approximation by default, as in Keras).

    Example:
        >>> from lamina import ops
        >>> round(ops.gelu([1.0]).item(), 4), round(ops.gelu([1.0], approximate=False).item(), 4)
        (0.8412, 0.8413)
    """
    return F.gelu(_ftensor(x), approximate="tanh" if approximate else "none")


def celu(x: ArrayLike, alpha: float = 1.0) -> torch.Tensor:
    """``max(x, 0) + min(0, alpha * (exp(x / alpha) - 1))``."""
    return F.celu(_ftensor(x), alpha=alpha)


def glu(x: ArrayLike, axis: int = -1) -> torch.Tensor:
    """Gated linear unit: first half of ``axis`` times sigmoid of the second half."""
    x = _ftensor(x)
    if x.shape[axis] % 2 != 0:
        raise ValueError(f"axis size must be divisible by 2. Received: x.shape={tuple(x.shape)} with axis={axis}")
    return F.glu(x, dim=axis)


def tanh_shrink(x: ArrayLike) -> torch.Tensor:
    """``x - tanh(x)``."""
    return F.tanhshrink(_ftensor(x))


def hard_tanh(x: ArrayLike) -> torch.Tensor:
    """``x`` clipped to ``[-1, 1]``."""
    return F.hardtanh(_ftensor(x), min_val=-1.0, max_val=1.0)


def hard_shrink(x: ArrayLike, threshold: float = 0.5) -> torch.Tensor:
    """``x`` where ``|x| > threshold``, else 0."""
    return F.hardshrink(_ftensor(x), lambd=threshold)


def threshold(x: ArrayLike, threshold: float, default_value: float) -> torch.Tensor:
    """``x`` where ``x > threshold``, else ``default_value``."""
    return F.threshold(_ftensor(x), threshold=threshold, value=default_value)


def _over_axes(fn: Any, x: torch.Tensor, axis: int | Sequence[int] | None) -> torch.Tensor:
    if axis is None:
        return fn(x.reshape(-1), dim=-1).reshape(x.shape)
    if isinstance(axis, (list, tuple)):
        axes = [a % x.ndim for a in axis]
        keep = [d for d in range(x.ndim) if d not in axes]
        perm = keep + axes
        moved = x.permute(perm)
        out = fn(moved.reshape([x.shape[d] for d in keep] + [-1]), dim=-1).reshape(moved.shape)
        inverse = [perm.index(d) for d in range(x.ndim)]
        return out.permute(inverse)
    return fn(x, dim=axis)


def softmax(x: ArrayLike, axis: int | Sequence[int] | None = -1) -> torch.Tensor:
    """``exp(x) / sum(exp(x))`` over ``axis`` (an int, a tuple of axes, or ``None`` for all).

    Example:
        >>> from lamina import ops
        >>> [round(v, 4) for v in ops.softmax([1.0, 2.0, 3.0]).tolist()]
        [0.09, 0.2447, 0.6652]
    """
    x = _ftensor(x)
    if isinstance(axis, int) and -x.ndim <= axis < x.ndim and x.shape[axis] == 1:
        warnings.warn(
            f"You are using a softmax over axis {axis} of a tensor of shape {tuple(x.shape)}. This axis has size 1. "
            "The softmax operation will always return the value 1, which is likely not what you intended. "
            "Did you mean to use a sigmoid instead?",
            stacklevel=2,
        )
    return _over_axes(F.softmax, x, axis)


def log_softmax(x: ArrayLike, axis: int | Sequence[int] | None = -1) -> torch.Tensor:
    """``log(softmax(x))`` over ``axis``, computed stably."""
    return _over_axes(F.log_softmax, _ftensor(x), axis)


def sparsemax(x: ArrayLike, axis: int = -1) -> torch.Tensor:
    """Euclidean projection of ``x`` onto the probability simplex along ``axis`` (sparse softmax)."""
    x = _ftensor(x)
    z = torch.moveaxis(x, axis, -1)
    zs, _ = torch.sort(z, dim=-1, descending=True)
    k = torch.arange(1, z.shape[-1] + 1, dtype=z.dtype, device=z.device)
    cums = zs.cumsum(-1)
    support = (1 + k * zs) > cums
    k_z = support.sum(-1, keepdim=True)
    tau = (cums.gather(-1, k_z - 1) - 1) / k_z.to(z.dtype)
    return torch.moveaxis(torch.clamp(z - tau, min=0), -1, axis)


# --------------------------------------------------------------------------- convolution and pooling


def _tuple(value: int | Sequence[int], n: int, name: str) -> tuple[int, ...]:
    if isinstance(value, int):
        return (value,) * n
    value = tuple(int(v) for v in value)
    if len(value) != n:
        raise ValueError(f"The `{name}` argument must be a tuple of {n} integers. Received: {name}={value}")
    return value


def _to_channels_first(x: torch.Tensor, data_format: str) -> torch.Tensor:
    if data_format == "channels_first":
        return x
    # (N, *spatial, C) -> (N, C, *spatial), zero-copy
    return x.permute(0, x.ndim - 1, *range(1, x.ndim - 1))


def _to_channels_last(x: torch.Tensor, data_format: str) -> torch.Tensor:
    if data_format == "channels_first":
        return x
    # (N, C, *spatial) -> (N, *spatial, C), zero-copy
    return x.permute(0, *range(2, x.ndim), 1)


def _same_pads(
    sizes: Sequence[int], kernel: Sequence[int], strides: Sequence[int], dilation: Sequence[int]
) -> list[tuple[int, int]]:
    pads = []
    for n, k, s, d in zip(sizes, kernel, strides, dilation):
        eff = (k - 1) * d + 1
        out = -(-n // s)
        total = _imax(0, (out - 1) * s + eff - n)
        pads.append((total // 2, total - total // 2))
    return pads


def _imax(a: int, b: int) -> int:
    return a if a > b else b


def _flat_pads(pads: Sequence[tuple[int, int]]) -> list[int]:
    flat: list[int] = []
    for left, right in reversed(pads):
        flat += [left, right]
    return flat


def _check_spatial(x: torch.Tensor, what: str) -> int:
    n = x.ndim - 2
    if n not in (1, 2, 3):
        raise ValueError(
            f"Inputs to {what} should have ndim=3, 4, or 5, corresponding to 1D, 2D and 3D inputs. "
            f"Received input shape: {tuple(x.shape)}."
        )
    return n


def _padding(padding: str) -> str:
    padding = str(padding).lower()
    if padding not in ("valid", "same"):
        raise ValueError(f"The `padding` argument must be one of 'valid', 'same'. Received: padding={padding}")
    return padding


_CONV = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}


def conv(
    inputs: ArrayLike,
    kernel: ArrayLike,
    strides: int | Sequence[int] = 1,
    padding: str = "valid",
    data_format: str | None = None,
    dilation_rate: int | Sequence[int] = 1,
) -> torch.Tensor:
    """N-D convolution (cross-correlation) with a Keras-layout kernel ``(*kernel_size, in/groups, out)``.

    Grouped convolution is implied when ``kernel``'s input channels divide those of ``inputs``.

    Example:
        >>> from lamina import ops
        >>> ops.conv(ops.ones((1, 5, 5, 2)), ops.ones((3, 3, 2, 4)), padding="same").shape
        torch.Size([1, 5, 5, 4])
    """
    x, w = _ts(inputs, kernel)
    n = _check_spatial(x, "conv operation")
    data_format = _data_format(data_format)
    padding = _padding(padding)
    strides = _tuple(strides, n, "strides")
    dilation = _tuple(dilation_rate, n, "dilation_rate")
    dtype = result_type(x.dtype, w.dtype)
    if "int" in dtype or dtype == "bool":
        dtype = backend.floatx()
    x = _to_channels_first(_cast_tensor(x, dtype), data_format)
    # (*k, in/groups, out) -> (out, in/groups, *k)
    w = _cast_tensor(w, dtype).permute(n + 1, n, *range(n))
    in_ch, k_in = x.shape[1], w.shape[1]
    if k_in == 0 or in_ch % k_in != 0:
        raise ValueError(
            f"The number of input channels ({in_ch}) must be a multiple of the kernel's input channels ({k_in}). "
            f"Received: inputs.shape={tuple(_t(inputs).shape)}, kernel.shape={tuple(_t(kernel).shape)}"
        )
    groups = in_ch // k_in
    pad_arg: Any = 0
    if padding == "same":
        pads = _same_pads(x.shape[2:], w.shape[2:], strides, dilation)
        if all(left == right for left, right in pads):
            pad_arg = tuple(left for left, _ in pads)
        else:
            x = F.pad(x, _flat_pads(pads))
    y = _CONV[n](x, w, stride=strides, padding=pad_arg, dilation=dilation, groups=groups)
    return _to_channels_last(y, data_format)


def depthwise_conv(
    inputs: ArrayLike,
    kernel: ArrayLike,
    strides: int | Sequence[int] = 1,
    padding: str = "valid",
    data_format: str | None = None,
    dilation_rate: int | Sequence[int] = 1,
) -> torch.Tensor:
    """Depthwise convolution with a kernel of shape ``(*kernel_size, in_channels, depth_multiplier)``."""
    x, w = _ts(inputs, kernel)
    data_format = _data_format(data_format)
    channels = x.shape[-1] if data_format == "channels_last" else x.shape[1]
    if w.shape[-2] != channels:
        raise ValueError(
            "The number of input channels must match the kernel's input channels. "
            f"Received: inputs.shape={tuple(x.shape)}, kernel.shape={tuple(w.shape)}"
        )
    w = w.reshape(tuple(w.shape[:-2]) + (1, w.shape[-2] * w.shape[-1]))
    return conv(x, w, strides, padding, data_format, dilation_rate)


def separable_conv(
    inputs: ArrayLike,
    depthwise_kernel: ArrayLike,
    pointwise_kernel: ArrayLike,
    strides: int | Sequence[int] = 1,
    padding: str = "valid",
    data_format: str | None = None,
    dilation_rate: int | Sequence[int] = 1,
) -> torch.Tensor:
    """Depthwise convolution followed by a 1x1 (pointwise) convolution."""
    y = depthwise_conv(inputs, depthwise_kernel, strides, padding, data_format, dilation_rate)
    return conv(y, pointwise_kernel, 1, "valid", data_format, 1)


_CONV_T = {1: F.conv_transpose1d, 2: F.conv_transpose2d, 3: F.conv_transpose3d}


def _transpose_pads(k: int, s: int, d: int, padding: str, output_padding: int | None) -> tuple[int, int]:
    """Left/right padding of the stride-dilated input, as Keras defines transposed convolution."""
    eff = (k - 1) * d + 1
    if padding == "valid":
        extra = _imax(eff, s) - eff if output_padding is None else output_padding
        return eff - 1, eff - 1 + extra
    total = s + eff - 2 if output_padding is None else eff + eff % 2 - 2 + output_padding
    left = min(total // 2 + total % 2, eff - 1)
    return left, total - left


def conv_transpose(
    inputs: ArrayLike,
    kernel: ArrayLike,
    strides: int | Sequence[int] = 1,
    padding: str = "valid",
    output_padding: int | Sequence[int] | None = None,
    data_format: str | None = None,
    dilation_rate: int | Sequence[int] = 1,
) -> torch.Tensor:
    """Transposed convolution with a Keras-layout kernel ``(*kernel_size, out_channels, in_channels)``.

    Example:
        >>> from lamina import ops
        >>> ops.conv_transpose(ops.ones((1, 3, 3, 2)), ops.ones((3, 3, 4, 2)), strides=2, padding="same").shape
        torch.Size([1, 6, 6, 4])
    """
    x, w = _ts(inputs, kernel)
    n = _check_spatial(x, "conv transpose operation")
    data_format = _data_format(data_format)
    padding = _padding(padding)
    strides = _tuple(strides, n, "strides")
    dilation = _tuple(dilation_rate, n, "dilation_rate")
    out_pad = [None] * n if output_padding is None else list(_tuple(output_padding, n, "output_padding"))
    dtype = result_type(x.dtype, w.dtype)
    if "int" in dtype or dtype == "bool":
        dtype = backend.floatx()
    x = _to_channels_first(_cast_tensor(x, dtype), data_format)
    channels = x.shape[1]
    if w.shape[-1] != channels:
        raise ValueError(
            "The number of input channels must match the kernel's last dimension. "
            f"Received: inputs.shape={tuple(_t(inputs).shape)}, kernel.shape={tuple(w.shape)}"
        )
    # (*k, out, in) -> (in, out, *k)
    w = _cast_tensor(w, dtype).permute(n + 1, n, *range(n))
    y = _CONV_T[n](x, w, stride=strides, padding=0, output_padding=0, dilation=dilation)
    # torch gives the "full" output (padding eff-1 on both sides); crop or zero-pad to Keras's window.
    index = [slice(None), slice(None)]
    grow: list[tuple[int, int]] = []
    for i in range(n):
        k = w.shape[2 + i]
        eff = (k - 1) * dilation[i] + 1
        left, right = _transpose_pads(k, strides[i], dilation[i], padding, out_pad[i])
        crop_l, crop_r = eff - 1 - left, eff - 1 - right
        index.append(slice(_imax(crop_l, 0), y.shape[2 + i] - _imax(crop_r, 0)))
        grow.append((_imax(-crop_l, 0), _imax(-crop_r, 0)))
    y = y[tuple(index)]
    if any(a or b for a, b in grow):
        y = F.pad(y, _flat_pads(grow))
    return _to_channels_last(y, data_format)


_MAX_POOL = {1: F.max_pool1d, 2: F.max_pool2d, 3: F.max_pool3d}
_AVG_POOL = {1: F.avg_pool1d, 2: F.avg_pool2d, 3: F.avg_pool3d}


def _pool_args(x: torch.Tensor, pool_size: Any, strides: Any, what: str) -> tuple[int, tuple, tuple]:
    n = _check_spatial(x, what)
    pool = _tuple(pool_size, n, "pool_size")
    strides = pool if strides is None else _tuple(strides, n, "strides")
    return n, pool, strides


def max_pool(
    inputs: ArrayLike,
    pool_size: int | Sequence[int],
    strides: int | Sequence[int] | None = None,
    padding: str = "valid",
    data_format: str | None = None,
) -> torch.Tensor:
    """Max pooling over windows of ``pool_size`` (``strides`` default to ``pool_size``).

    Example:
        >>> from lamina import ops
        >>> ops.max_pool(ops.arange(4.0).reshape(1, 4, 1), 2).reshape(-1).tolist()
        [1.0, 3.0]
    """
    x = _ftensor(inputs)
    data_format = _data_format(data_format)
    padding = _padding(padding)
    n, pool, strides = _pool_args(x, pool_size, strides, "pooling op")
    x = _to_channels_first(x, data_format)
    if padding == "same":
        pads = _same_pads(x.shape[2:], pool, strides, (1,) * n)
        x = F.pad(x, _flat_pads(pads), value=float("-inf"))
    y = _MAX_POOL[n](x, kernel_size=pool, stride=strides)
    return _to_channels_last(y, data_format)


def average_pool(
    inputs: ArrayLike,
    pool_size: int | Sequence[int],
    strides: int | Sequence[int] | None = None,
    padding: str = "valid",
    data_format: str | None = None,
) -> torch.Tensor:
    """Average pooling; with ``padding="same"`` the padded positions are left out of each average."""
    x = _ftensor(inputs)
    data_format = _data_format(data_format)
    padding = _padding(padding)
    n, pool, strides = _pool_args(x, pool_size, strides, "pooling op")
    x = _to_channels_first(x, data_format)
    if padding == "valid":
        y = _AVG_POOL[n](x, kernel_size=pool, stride=strides)
    else:
        pads = _same_pads(x.shape[2:], pool, strides, (1,) * n)
        flat = _flat_pads(pads)
        total = _AVG_POOL[n](F.pad(x, flat), kernel_size=pool, stride=strides)
        ones = torch.ones((1, 1) + tuple(x.shape[2:]), dtype=x.dtype, device=x.device)
        count = _AVG_POOL[n](F.pad(ones, flat), kernel_size=pool, stride=strides)
        y = total / count
    return _to_channels_last(y, data_format)


def _adaptive(
    fns: dict, inputs: ArrayLike, output_size: int | Sequence[int], data_format: str | None, what: str
) -> torch.Tensor:
    x = _ftensor(inputs)
    n = _check_spatial(x, what)
    data_format = _data_format(data_format)
    size = _tuple(output_size, n, "output_size")
    y = fns[n](_to_channels_first(x, data_format), size[0] if n == 1 else size)
    if isinstance(y, tuple):
        y = y[0]
    return _to_channels_last(y, data_format)


def adaptive_average_pool(
    inputs: ArrayLike, output_size: int | Sequence[int], data_format: str | None = None
) -> torch.Tensor:
    """Average pooling to a fixed spatial ``output_size``."""
    fns = {1: F.adaptive_avg_pool1d, 2: F.adaptive_avg_pool2d, 3: F.adaptive_avg_pool3d}
    return _adaptive(fns, inputs, output_size, data_format, "adaptive average pooling")


def adaptive_max_pool(
    inputs: ArrayLike, output_size: int | Sequence[int], data_format: str | None = None
) -> torch.Tensor:
    """Max pooling to a fixed spatial ``output_size``."""
    fns = {1: F.adaptive_max_pool1d, 2: F.adaptive_max_pool2d, 3: F.adaptive_max_pool3d}
    return _adaptive(fns, inputs, output_size, data_format, "adaptive max pooling")


def unfold(
    x: ArrayLike,
    kernel_size: int | Sequence[int],
    dilation: int | Sequence[int] = 1,
    padding: int | Sequence[int] = 0,
    stride: int | Sequence[int] = 1,
) -> torch.Tensor:
    """Sliding blocks of a 4-D ``(N, C, H, W)`` tensor as ``(N, C * kH * kW, L)`` (``torch.nn.Unfold``)."""
    x = _t(x)
    if x.ndim != 4:
        raise ValueError(f"Input must be a 4D tensor. Received: input.shape={tuple(x.shape)}")
    return F.unfold(x, kernel_size, dilation=dilation, padding=padding, stride=stride)


def fold(
    x: ArrayLike,
    output_size: int | Sequence[int],
    kernel_size: int | Sequence[int],
    dilation: int | Sequence[int] = 1,
    padding: int | Sequence[int] = 0,
    stride: int | Sequence[int] = 1,
) -> torch.Tensor:
    """Sums sliding blocks ``(N, C * kH * kW, L)`` back into ``(N, C, H, W)`` (``torch.nn.Fold``)."""
    x = _t(x)
    if x.ndim != 3:
        raise ValueError(f"Input must be a 3D tensor. Received: input.shape={tuple(x.shape)}")
    return F.fold(x, output_size, kernel_size, dilation=dilation, padding=padding, stride=stride)


def depth_to_space(x: ArrayLike, block_size: int, data_format: str = "channels_last") -> torch.Tensor:
    """Moves channel blocks into ``block_size x block_size`` spatial blocks (pixel shuffle).

    With ``channels_first`` the channel order is PyTorch's ``pixel_shuffle`` (as Keras on torch and JAX).

    Example:
        >>> from lamina import ops
        >>> ops.depth_to_space(ops.arange(4).reshape(1, 1, 1, 4), 2).reshape(2, 2).tolist()
        [[0, 1], [2, 3]]
    """
    data_format = _data_format(data_format)
    if block_size < 2:
        raise ValueError(f"`block_size` must be at least 2. Received: block_size={block_size}")
    x = _t(x)
    if data_format == "channels_first":
        return F.pixel_shuffle(x, block_size)
    b = block_size
    n, h, w, c = x.shape
    y = x.reshape(n, h, w, b, b, c // (b * b)).permute(0, 1, 3, 2, 4, 5)
    return y.reshape(n, h * b, w * b, c // (b * b))


def space_to_depth(x: ArrayLike, block_size: int, data_format: str = "channels_last") -> torch.Tensor:
    """Moves ``block_size x block_size`` spatial blocks into channels (inverse of :func:`depth_to_space`)."""
    data_format = _data_format(data_format)
    if block_size < 2:
        raise ValueError(f"`block_size` must be at least 2. Received: block_size={block_size}")
    x = _t(x)
    if data_format == "channels_first":
        return F.pixel_unshuffle(x, block_size)
    b = block_size
    n, h, w, c = x.shape
    y = x.reshape(n, h // b, b, w // b, b, c).permute(0, 1, 3, 2, 4, 5)
    return y.reshape(n, h // b, w // b, c * b * b)


# --------------------------------------------------------------------------- encodings


def one_hot(x: ArrayLike, num_classes: int, axis: int = -1, dtype: Any = None, sparse: bool = False) -> torch.Tensor:
    """One-hot vectors of length ``num_classes`` placed at ``axis``; out-of-range ids give all zeros.

    Example:
        >>> from lamina import ops
        >>> ops.one_hot([1, -1], 3).tolist()
        [[0.0, 1.0, 0.0], [0.0, 0.0, 0.0]]
    """
    if sparse:
        raise ValueError("Unsupported value `sparse=True`: lamina tensors are dense.")
    x = _t(x).long()
    classes = torch.arange(int(num_classes), device=x.device)
    out = (x.unsqueeze(-1) == classes).to(_torch_dtype(standardize_dtype(dtype)))
    if axis != -1 and axis != out.ndim - 1:
        out = torch.moveaxis(out, -1, axis)
    return out


def multi_hot(
    inputs: ArrayLike,
    num_classes: int | None = None,
    axis: int = -1,
    dtype: Any = None,
    sparse: bool = False,
    **kwargs: Any,
) -> torch.Tensor:
    """Multi-hot encoding: 1 at every class present in each row (last axis) of ``inputs``.

    Example:
        >>> from lamina import ops
        >>> ops.multi_hot([[0, 2], [1, 1]], 3).tolist()
        [[1.0, 0.0, 1.0], [0.0, 1.0, 0.0]]
    """
    if num_classes is None and "num_tokens" in kwargs:
        num_classes = kwargs.pop("num_tokens")
    if num_classes is None:
        raise ValueError("Argument `num_classes` must be specified.")
    if sparse:
        raise ValueError("Unsupported value `sparse=True`: lamina tensors are dense.")
    x = _t(inputs)
    encoded = one_hot(x, num_classes, axis=axis, dtype=dtype)
    reduce_axis = 1 if x.ndim > 1 else 0
    return torch.amax(encoded, dim=reduce_axis)


# --------------------------------------------------------------------------- losses


def binary_crossentropy(target: ArrayLike, output: ArrayLike, from_logits: bool = False) -> torch.Tensor:
    """Elementwise binary cross-entropy between ``target`` and ``output`` (same shapes).

    Probabilities are clipped to ``[epsilon, 1 - epsilon]`` unless ``from_logits``.

    Example:
        >>> from lamina import ops
        >>> [round(v, 4) for v in ops.binary_crossentropy([1.0, 0.0], [0.9, 0.2]).tolist()]
        [0.1054, 0.2231]
    """
    target, output = _ts(target, output)
    output = _ftensor(output)
    target = target.to(output.dtype)
    if target.shape != output.shape:
        raise ValueError(
            "Arguments `target` and `output` must have the same shape. "
            f"Received: target.shape={tuple(target.shape)}, output.shape={tuple(output.shape)}"
        )
    if from_logits:
        return F.binary_cross_entropy_with_logits(output, target, reduction="none")
    eps = _epsilon()
    p = torch.clamp(output, eps, 1.0 - eps)
    return -(target * torch.log(p) + (1.0 - target) * torch.log(1.0 - p))


def categorical_crossentropy(
    target: ArrayLike, output: ArrayLike, from_logits: bool = False, axis: int = -1
) -> torch.Tensor:
    """Cross-entropy between one-hot (or soft) ``target`` and ``output`` along ``axis``.

    Example:
        >>> from lamina import ops
        >>> round(ops.categorical_crossentropy([0.0, 1.0], [0.2, 0.8]).item(), 4)
        0.2231
    """
    target, output = _ts(target, output)
    output = _ftensor(output)
    target = target.to(output.dtype)
    if target.shape != output.shape:
        raise ValueError(
            "Arguments `target` and `output` must have the same shape. "
            f"Received: target.shape={tuple(target.shape)}, output.shape={tuple(output.shape)}"
        )
    if output.ndim < 1:
        raise ValueError(
            "Arguments `target` and `output` must be at least rank 1. "
            f"Received: target.shape={tuple(target.shape)}, output.shape={tuple(output.shape)}"
        )
    if from_logits:
        log_prob = F.log_softmax(output, dim=axis)
    else:
        eps = _epsilon()
        p = output / torch.sum(output, dim=axis, keepdim=True)
        log_prob = torch.log(torch.clamp(p, eps, 1.0 - eps))
    return -torch.sum(target * log_prob, dim=axis)


def sparse_categorical_crossentropy(
    target: ArrayLike, output: ArrayLike, from_logits: bool = False, axis: int = -1
) -> torch.Tensor:
    """Cross-entropy between integer class ``target`` and ``output`` probabilities/logits along ``axis``.

    Example:
        >>> from lamina import ops
        >>> round(ops.sparse_categorical_crossentropy([1], [[0.2, 0.8]]).item(), 4)
        0.2231
    """
    output = _ftensor(output)
    target = _t(target, device=output.device).long()
    if output.ndim < 1:
        raise ValueError(f"Argument `output` must be at least rank 1. Received: output.shape={tuple(output.shape)}")
    if target.ndim == output.ndim and target.shape[axis] == 1:
        target = target.squeeze(axis)
    expected = list(output.shape)
    del expected[axis]
    if list(target.shape) != expected:
        raise ValueError(
            "Arguments `target` and `output` must have the same shape up until the last dimension: "
            f"target.shape={tuple(target.shape)}, output.shape={tuple(output.shape)}"
        )
    if from_logits:
        log_prob = F.log_softmax(output, dim=axis)
    else:
        eps = _epsilon()
        p = output / torch.sum(output, dim=axis, keepdim=True)
        log_prob = torch.log(torch.clamp(p, eps, 1.0 - eps))
    log_prob = torch.moveaxis(log_prob, axis, -1)
    picked = torch.take_along_dim(log_prob, target.clamp(0, log_prob.shape[-1] - 1).unsqueeze(-1), dim=-1)
    return -picked.squeeze(-1)


def ctc_loss(
    target: ArrayLike, output: ArrayLike, target_length: ArrayLike, output_length: ArrayLike, mask_index: int = 0
) -> torch.Tensor:
    """Per-sample CTC loss; ``output`` holds logits ``(batch, time, classes)``, ``mask_index`` is the blank."""
    output = _ftensor(output)
    target = _t(target, device=output.device).long()
    target_length = _t(target_length, device=output.device).long()
    output_length = _t(output_length, device=output.device).long()
    dtype = result_type(output.dtype, "float32")
    log_probs = F.log_softmax(_cast_tensor(output, dtype).transpose(0, 1), dim=-1)
    return F.ctc_loss(log_probs, target, output_length, target_length, blank=mask_index, reduction="none")


def ctc_decode(
    inputs: ArrayLike,
    sequence_lengths: ArrayLike,
    strategy: str = "greedy",
    beam_width: int = 100,
    top_paths: int = 1,
    merge_repeated: bool = True,
    mask_index: int = 0,
) -> tuple[torch.Tensor, Any]:
    """Greedy CTC decoding of ``(batch, time, classes)`` scores.

    Returns ``decoded`` of shape ``(1, batch, time)`` padded with -1, and scores ``(batch, 1)``
    (the negative sum of the per-step maxima). ``strategy="beam_search"`` is not implemented.
    """
    if strategy == "beam_search":
        raise NotImplementedError("ctc_decode(strategy='beam_search') is not implemented in lamina yet.")
    if strategy != "greedy":
        raise ValueError(f"Invalid strategy {strategy}. Supported values are 'greedy' and 'beam_search'.")
    x = _ftensor(inputs)
    x = _cast_tensor(x, result_type(x.dtype, "float32"))
    lengths = _t(sequence_lengths, device=x.device).long()
    batch, time, classes = x.shape
    if mask_index is None:
        mask_index = classes - 1
    scores, idx = torch.max(x, dim=-1)
    past = torch.arange(time, device=x.device)[None, :] >= lengths[:, None]
    idx = torch.where(past, torch.full_like(idx, mask_index), idx)
    scores = torch.where(past, torch.zeros_like(scores), scores)
    if merge_repeated:
        repeat = F.pad(idx[:, 1:] == idx[:, :-1], (1, 0))
        idx = torch.where(repeat, torch.full_like(idx, mask_index), idx)
    blank = idx == mask_index
    idx = torch.where(blank, torch.full_like(idx, -1), idx)
    order = torch.where(blank, torch.full_like(idx, time), torch.arange(time, device=x.device).expand(batch, time))
    order = torch.argsort(order, dim=-1, stable=True)
    decoded = torch.take_along_dim(idx, order, dim=-1).to(torch.int32)
    return decoded.unsqueeze(0), -scores.sum(dim=1, keepdim=True)


def psnr(x1: ArrayLike, x2: ArrayLike, max_val: float) -> torch.Tensor:
    """Peak signal-to-noise ratio ``20 log10(max_val) - 10 log10(mse)``."""
    x1, x2 = _ts(x1, x2)
    if x1.shape != x2.shape:
        raise ValueError(f"Input shapes {tuple(x1.shape)} and {tuple(x2.shape)} must match for PSNR calculation.")
    x1, x2 = _ftensor(x1), _ftensor(x2)
    mse = torch.mean((x1 - x2) ** 2)
    return 20 * torch.log10(torch.as_tensor(max_val, dtype=x1.dtype, device=x1.device)) - 10 * torch.log10(mse)


# --------------------------------------------------------------------------- normalization


def moments(
    x: ArrayLike, axes: int | Sequence[int], keepdims: bool = False, synchronized: bool = False
) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean and (population) variance of ``x`` over ``axes``.

    Example:
        >>> from lamina import ops
        >>> m, v = ops.moments([1.0, 2.0, 3.0, 4.0], axes=0)
        >>> m.item(), v.item()
        (2.5, 1.25)
    """
    if synchronized:
        raise NotImplementedError("Argument synchronized=True is not supported with PyTorch.")
    x = _ftensor(x)
    dims = tuple(axes) if isinstance(axes, (list, tuple)) else (axes,)
    orig = x.dtype
    if x.dtype in (torch.float16, torch.bfloat16):
        x = x.float()
    m = torch.mean(x, dim=dims, keepdim=True)
    v = torch.mean(torch.square(x - m), dim=dims, keepdim=True)
    if not keepdims:
        m, v = m.squeeze(dims), v.squeeze(dims)
    if orig != x.dtype:
        info = torch.finfo(orig)
        m = m.clamp(info.min, info.max).to(orig)
        v = v.clamp(info.min, info.max).to(orig)
    return m, v


def batch_normalization(
    x: ArrayLike,
    mean: ArrayLike,
    variance: ArrayLike,
    axis: int,
    offset: ArrayLike = None,
    scale: ArrayLike = None,
    epsilon: float = 1e-3,
) -> torch.Tensor:
    """``(x - mean) / sqrt(variance + epsilon) * scale + offset``, with the 1-D statistics along ``axis``."""
    x = _ftensor(x)
    shape = [1] * x.ndim
    shape[axis] = -1

    def vec(v: ArrayLike) -> torch.Tensor:
        return _t(v, device=x.device).to(x.dtype).reshape(shape)

    inv = torch.rsqrt(vec(variance) + epsilon)
    if scale is not None:
        inv = inv * vec(scale)
    y = (x - vec(mean)) * inv
    return y + vec(offset) if offset is not None else y


def normalize(x: ArrayLike, axis: int = -1, order: int = 2, epsilon: float | None = None) -> torch.Tensor:
    """``x`` divided by its ``order``-norm along ``axis`` (at least ``epsilon``).

    Example:
        >>> from lamina import ops
        >>> ops.normalize([3.0, 4.0]).tolist()
        [0.6000000238418579, 0.800000011920929]
    """
    if not isinstance(order, int) or not order >= 1:
        raise ValueError(f"Argument `order` must be an int >= 1. Received: order={order}")
    x = _ftensor(x)
    if x.ndim == 0:
        x = x.reshape(1)
    eps = _epsilon() if epsilon is None else epsilon
    if order == 2:
        inv = torch.rsqrt(torch.sum(x * x, dim=axis, keepdim=True))
        return x * torch.clamp(inv, max=1.0 / eps)
    norm = torch.linalg.vector_norm(x, ord=order, dim=axis, keepdim=True)
    return x / torch.clamp(norm, min=eps)


def rms_normalization(
    x: ArrayLike, scale: ArrayLike = None, axis: int | Sequence[int] = -1, epsilon: float | None = None
) -> torch.Tensor:
    """``x / sqrt(mean(x**2, axis) + epsilon) * scale``."""
    x = _ftensor(x)
    orig = x.dtype
    x = _cast_tensor(x, result_type(x.dtype, "float32"))
    eps = _epsilon() if epsilon is None else epsilon
    dims = tuple(axis) if isinstance(axis, (list, tuple)) else (axis,)
    y = x * torch.rsqrt(torch.mean(x * x, dim=dims, keepdim=True) + eps)
    if scale is not None:
        y = y * _t(scale, device=x.device).to(x.dtype)
    return y.to(orig)


def layer_normalization(
    x: ArrayLike,
    gamma: ArrayLike = None,
    beta: ArrayLike = None,
    axis: int | Sequence[int] = -1,
    epsilon: float | None = None,
    **kwargs: Any,
) -> torch.Tensor:
    """``(x - mean) / sqrt(var + epsilon) * gamma + beta`` over ``axis``.

    Example:
        >>> from lamina import ops
        >>> [round(v, 3) for v in ops.layer_normalization([1.0, 3.0]).tolist()]
        [-1.0, 1.0]
    """
    rms_scaling = kwargs.pop("rms_scaling", False)
    if kwargs:
        raise TypeError(f"Unexpected keyword arguments: {sorted(kwargs)}")
    x = _ftensor(x)
    orig = x.dtype
    x = _cast_tensor(x, result_type(x.dtype, "float32"))
    eps = _epsilon() if epsilon is None else epsilon
    dims = sorted(a % x.ndim for a in (axis if isinstance(axis, (list, tuple)) else (axis,)))
    bshape = [x.shape[d] if d in dims else 1 for d in range(x.ndim)]

    def vec(v: ArrayLike) -> torch.Tensor:
        v = _t(v, device=x.device).to(x.dtype)
        return v.reshape(bshape) if v.ndim != x.ndim else v

    if rms_scaling:
        warnings.warn(
            "You passed `rms_scaling=True`, which is deprecated. This argument incorrectly scales the input by the "
            "variance, not the root mean square. To correctly use RMS Normalization, please use "
            "`ops.rms_normalization` instead.",
            stacklevel=2,
        )
        y = x * torch.rsqrt(torch.var(x, dim=dims, keepdim=True, correction=0) + eps)
        if gamma is not None:
            y = y * vec(gamma)
        return y.to(orig)
    m = torch.mean(x, dim=dims, keepdim=True)
    v = torch.mean(torch.square(x - m), dim=dims, keepdim=True)
    y = (x - m) * torch.rsqrt(v + eps)
    if gamma is not None:
        y = y * vec(gamma)
    if beta is not None:
        y = y + vec(beta)
    return y.to(orig)


# --------------------------------------------------------------------------- attention


def dot_product_attention(
    query: ArrayLike,
    key: ArrayLike,
    value: ArrayLike,
    bias: ArrayLike = None,
    mask: ArrayLike = None,
    scale: float | None = None,
    is_causal: bool = False,
    flash_attention: bool | None = None,
    attn_logits_soft_cap: float | None = None,
) -> torch.Tensor:
    """Scaled dot-product attention on ``(batch, seq, heads, head_dim)`` tensors.

    ``mask`` (bool, ``True`` = attend) and ``bias`` broadcast to ``(batch, heads, q_seq, k_seq)``;
    fewer key/value heads than query heads are shared across groups (GQA).

    Example:
        >>> from lamina import ops
        >>> q = ops.ones((1, 2, 1, 4))
        >>> ops.dot_product_attention(q, q, q, is_causal=True).shape
        torch.Size([1, 2, 1, 4])
    """
    if attn_logits_soft_cap is not None:
        raise ValueError("attn_logits_soft_cap is only supported for JAX on TPU. Set attn_logits_soft_cap=None.")
    q, k, v = _ts(query, key, value)
    if q.ndim != 4 or k.ndim != 4 or v.ndim != 4:
        raise ValueError(
            "`dot_product_attention` only supports 4D inputs. "
            f"Received: query.shape={tuple(q.shape)}, key.shape={tuple(k.shape)}, value.shape={tuple(v.shape)}."
        )
    if bias is not None and mask is not None:
        raise ValueError("Only one of `bias` and `mask` can be provided. Received both.")
    dtype = result_type(q.dtype, k.dtype, v.dtype)
    q, k, v = (_cast_tensor(t, dtype).transpose(1, 2) for t in (q, k, v))  # (B, T, N, H) -> (B, N, T, H)
    if q.shape[1] != k.shape[1]:
        if q.shape[1] % k.shape[1] != 0:
            raise ValueError(
                f"The number of query heads ({q.shape[1]}) must be a multiple of key/value heads ({k.shape[1]})."
            )
        groups = q.shape[1] // k.shape[1]
        k = k.repeat_interleave(groups, dim=1)
        v = v.repeat_interleave(groups, dim=1)
    attn_mask = None
    if mask is not None:
        mask = _t(mask, device=q.device).bool()
        if is_causal:
            mask = mask & torch.ones(q.shape[2], k.shape[2], dtype=torch.bool, device=q.device).tril()
            is_causal = False
        large_neg = -0.7 * (65500.0 if q.dtype == torch.float16 else torch.finfo(torch.bfloat16).max)
        attn_mask = torch.where(
            mask,
            torch.zeros((), dtype=q.dtype, device=q.device),
            torch.full((), large_neg, dtype=q.dtype, device=q.device),
        )
    elif bias is not None:
        attn_mask = _t(bias, device=q.device).to(q.dtype)
    if attn_mask is not None and is_causal:
        causal = torch.ones(q.shape[2], k.shape[2], dtype=torch.bool, device=q.device).tril()
        attn_mask = attn_mask.masked_fill(~causal, float("-inf"))
        is_causal = False
    out = F.scaled_dot_product_attention(
        q.contiguous(), k.contiguous(), v.contiguous(), attn_mask=attn_mask, is_causal=is_causal, scale=scale
    )
    return out.transpose(1, 2)


def polar(abs_: ArrayLike, angle: ArrayLike) -> torch.Tensor:
    """The complex numbers ``abs_ * exp(i * angle)``."""
    a, t = _ts(abs_, angle)
    return torch.polar(_ftensor(a), _ftensor(t))
