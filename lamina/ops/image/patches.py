"""Patch, pad and crop ops: ``extract_patches``, ``extract_patches_3d``, ``pad_images``, ``crop_images``.

Keras extracts patches with a convolution by an identity kernel; here a strided view
(``Tensor.unfold``) gathers the same values in the same order (patch rows, columns, then
channels), for any dtype and without the large kernel.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F

from lamina.ops.core import _t
from lamina.ops.image._common import check_images
from lamina.ops.image._common import data_format as _data_format

__all__ = ["crop_images", "extract_patches", "extract_patches_3d", "pad_images"]


def _tuple(value: Any, n: int, name: str) -> tuple[int, ...]:
    if isinstance(value, int):
        return (value,) * n
    value = tuple(int(v) for v in value)
    if len(value) != n:
        raise ValueError(f"Invalid `{name}` argument. Expected an int or a tuple of length {n}. Got: {value}")
    return value


def _same_pad(size: int, k: int, s: int, d: int) -> tuple[int, int]:
    # TensorFlow's "same": the output has ceil(size / s) positions, extra padding goes after.
    out = -(-size // s)
    total = max((out - 1) * s + (k - 1) * d + 1 - size, 0)
    return total // 2, total - total // 2


def _patches(x: torch.Tensor, size: tuple, strides: tuple, dilation: tuple, padding: str, cl: bool) -> torch.Tensor:
    """(N, *spatial, C) or (N, C, *spatial) -> patches with ``prod(size) * C`` features, Keras's order."""
    rank = len(size)
    if cl:
        x = torch.movedim(x, -1, 1)  # channels to axis 1 (a view)
    padding = padding.lower()
    if padding not in ("valid", "same"):
        raise ValueError(f"Invalid `padding` argument. Expected 'valid' or 'same'. Received: padding={padding}")
    if padding == "same":
        pads: list[int] = []
        for axis in reversed(range(rank)):
            pads.extend(_same_pad(x.shape[2 + axis], size[axis], strides[axis], dilation[axis]))
        x = F.pad(x, pads)
    for axis in range(rank):
        span = (size[axis] - 1) * dilation[axis] + 1
        x = x.unfold(2 + axis, span, strides[axis])
        if dilation[axis] > 1:
            x = x[..., :: dilation[axis]]
    # x: (N, C, *out_spatial, *patch) -> (N, *out_spatial, *patch, C) -> flatten the patch and channels
    n, c = x.shape[:2]
    out_spatial = x.shape[2 : 2 + rank]
    x = torch.movedim(x, 1, -1).reshape(n, *out_spatial, -1)
    return x if cl else torch.movedim(x, -1, 1)


def extract_patches(
    images: Any,
    size: int | Sequence[int],
    strides: int | Sequence[int] | None = None,
    dilation_rate: int | Sequence[int] = 1,
    padding: str = "valid",
    data_format: str | None = None,
) -> torch.Tensor:
    """Extracts ``size`` patches from images (or, with a 3-element ``size``, from volumes).

    Args:
        images: a rank-3 image or rank-4 batch (rank 4/5 volumes for 3-D patches).
        size: the patch size, an int or ``(height, width)`` (``(depth, height, width)`` for volumes).
        strides: the step between patches; default ``size`` (non-overlapping).
        dilation_rate: the spacing of the sampled pixels inside a patch.
        padding: ``"valid"`` or ``"same"``.
        data_format: ``"channels_last"`` or ``"channels_first"``; default ``image_data_format()``.

    Returns:
        The patches, each flattened as (rows, columns, channels) on the channel axis.

    Example:
        >>> import torch
        >>> from lamina.ops import image
        >>> image.extract_patches(torch.rand(2, 8, 8, 3), 4).shape
        torch.Size([2, 2, 2, 48])
    """
    if not isinstance(size, int):
        if not isinstance(size, (tuple, list)):
            raise TypeError(
                "Invalid `size` argument. Expected an int or a tuple. "
                f"Received: size={size} of type {type(size).__name__}"
            )
        if len(size) not in (2, 3):
            raise ValueError(
                "Invalid `size` argument. Expected a tuple of length 2 or 3. "
                f"Received: size={size} with length {len(size)}"
            )
        if len(size) == 3:
            return extract_patches_3d(images, size, strides, dilation_rate, padding, data_format)
    x = _t(images)
    size_t = _tuple(size, 2, "size")
    strides_t = _tuple(strides if strides else size_t, 2, "strides")
    single = x.ndim == 3
    if single:
        x = x.unsqueeze(0)
    cl = _data_format(data_format) == "channels_last"
    out = _patches(x, size_t, strides_t, _tuple(dilation_rate, 2, "dilation_rate"), padding, cl)
    return out.squeeze(0) if single else out


def extract_patches_3d(
    volumes: Any,
    size: int | Sequence[int],
    strides: int | Sequence[int] | None = None,
    dilation_rate: int | Sequence[int] = 1,
    padding: str = "valid",
    data_format: str | None = None,
) -> torch.Tensor:
    """Extracts 3-D patches from volumes (``(N, D, H, W, C)`` or one ``(D, H, W, C)`` volume).

    Example:
        >>> import torch
        >>> from lamina.ops import image
        >>> image.extract_patches_3d(torch.rand(1, 4, 4, 4, 2), 2).shape
        torch.Size([1, 2, 2, 2, 16])
    """
    x = _t(volumes)
    size_t = _tuple(size, 3, "size")
    strides_t = _tuple(strides if strides is not None else size_t, 3, "strides")
    single = x.ndim == 4
    if single:
        x = x.unsqueeze(0)
    cl = _data_format(data_format) == "channels_last"
    out = _patches(x, size_t, strides_t, _tuple(dilation_rate, 3, "dilation_rate"), padding, cl)
    return out.squeeze(0) if single else out


def _check_two_of(names: tuple[str, str, str], values: tuple) -> None:
    if list(values).count(None) != 1:
        got = ", ".join(f"{n}={v}" for n, v in zip(names, values))
        raise ValueError(f"Must specify exactly two of {', '.join(names)}. Received: {got}")


def _check_non_negative(**values: Any) -> None:
    for name, value in values.items():
        if value is not None and value < 0:
            raise ValueError(f"{name} must be >= 0. Received: {name}={value}")


def _hw_axes(x: torch.Tensor, data_format: str | None) -> tuple[int, int]:
    return (-3, -2) if _data_format(data_format) == "channels_last" else (-2, -1)


def pad_images(
    images: Any,
    top_padding: int | None = None,
    left_padding: int | None = None,
    bottom_padding: int | None = None,
    right_padding: int | None = None,
    target_height: int | None = None,
    target_width: int | None = None,
    data_format: str | None = None,
) -> torch.Tensor:
    """Pads images with zeros; give two of (top, bottom, target height) and two of (left, right, target width).

    Example:
        >>> import torch
        >>> from lamina.ops import image
        >>> image.pad_images(torch.ones(2, 3, 3, 1), 1, 1, target_height=6, target_width=5).shape
        torch.Size([2, 6, 5, 1])
    """
    x = _t(images)
    check_images(x)
    _check_two_of(("top_padding", "bottom_padding", "target_height"), (top_padding, bottom_padding, target_height))
    _check_two_of(("left_padding", "right_padding", "target_width"), (left_padding, right_padding, target_width))
    _check_non_negative(
        top_padding=top_padding,
        bottom_padding=bottom_padding,
        target_height=target_height,
        left_padding=left_padding,
        right_padding=right_padding,
        target_width=target_width,
    )
    h_axis, w_axis = _hw_axes(x, data_format)
    height, width = x.shape[h_axis], x.shape[w_axis]
    top = top_padding if top_padding is not None else target_height - bottom_padding - height
    bottom = bottom_padding if bottom_padding is not None else target_height - top - height
    left = left_padding if left_padding is not None else target_width - right_padding - width
    right = right_padding if right_padding is not None else target_width - left - width
    _check_non_negative(top_padding=top, left_padding=left, right_padding=right, bottom_padding=bottom)
    pads = [0, 0, left, right, top, bottom] if w_axis == -2 else [left, right, top, bottom]
    return F.pad(x, pads)


def crop_images(
    images: Any,
    top_cropping: int | None = None,
    left_cropping: int | None = None,
    bottom_cropping: int | None = None,
    right_cropping: int | None = None,
    target_height: int | None = None,
    target_width: int | None = None,
    data_format: str | None = None,
) -> torch.Tensor:
    """Crops images; give two of (top, bottom, target height) and two of (left, right, target width).

    Example:
        >>> import torch
        >>> from lamina.ops import image
        >>> image.crop_images(torch.ones(2, 6, 6, 1), 1, 2, target_height=3, target_width=3).shape
        torch.Size([2, 3, 3, 1])
    """
    x = _t(images)
    check_images(x)
    _check_two_of(("top_cropping", "bottom_cropping", "target_height"), (top_cropping, bottom_cropping, target_height))
    _check_two_of(("left_cropping", "right_cropping", "target_width"), (left_cropping, right_cropping, target_width))
    _check_non_negative(
        top_cropping=top_cropping,
        bottom_cropping=bottom_cropping,
        target_height=target_height,
        left_cropping=left_cropping,
        right_cropping=right_cropping,
        target_width=target_width,
    )
    h_axis, w_axis = _hw_axes(x, data_format)
    height, width = x.shape[h_axis], x.shape[w_axis]
    top = top_cropping if top_cropping is not None else height - target_height - bottom_cropping
    out_h = target_height if target_height is not None else height - bottom_cropping - top
    left = left_cropping if left_cropping is not None else width - target_width - right_cropping
    out_w = target_width if target_width is not None else width - right_cropping - left
    _check_non_negative(top_cropping=top, target_height=out_h, left_cropping=left, target_width=out_w)
    if top + out_h > height or left + out_w > width:
        raise ValueError(
            f"The crop (top={top}, height={out_h}, left={left}, width={out_w}) does not fit in images of "
            f"height {height} and width {width}. Received: images.shape={tuple(x.shape)}"
        )
    return x.narrow(h_axis, top, out_h).narrow(w_axis, left, out_w)
