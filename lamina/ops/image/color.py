"""Color-space ops: ``rgb_to_grayscale``, ``rgb_to_hsv``, ``hsv_to_rgb``."""

from __future__ import annotations

from typing import Any

import torch

from lamina import backend
from lamina.ops.image._common import data_format as _data_format
from lamina.ops.image._common import images_tensor

__all__ = ["hsv_to_rgb", "rgb_to_grayscale", "rgb_to_hsv"]


def rgb_to_grayscale(images: Any, data_format: str | None = None) -> torch.Tensor:
    """Converts RGB images to one luminance channel (``0.2989 R + 0.587 G + 0.114 B``).

    Args:
        images: a rank-3 image or rank-4 batch with 3 (or 1) channels.
        data_format: ``"channels_last"`` or ``"channels_first"``; default ``image_data_format()``.

    Returns:
        The images with one channel, in their dtype (integers truncated as Keras does).

    Example:
        >>> import torch
        >>> from lamina.ops import image
        >>> image.rgb_to_grayscale(torch.ones(2, 4, 4, 3)).shape
        torch.Size([2, 4, 4, 1])
    """
    x = images_tensor(images)
    axis = -3 if _data_format(data_format) == "channels_first" else -1
    if x.shape[axis] not in (1, 3):
        raise ValueError(
            "Invalid channel size: expected 3 (RGB) or 1 (Grayscale). "
            f"Received input with shape: images.shape={tuple(x.shape)}"
        )
    if x.shape[axis] == 1:
        return x.clone()
    r, g, b = x.unbind(dim=axis)
    return (0.2989 * r + 0.587 * g + 0.114 * b).to(x.dtype).unsqueeze(axis)


def _float_images(images: Any, data_format: str | None) -> tuple[torch.Tensor, int]:
    x = images_tensor(images)
    if not x.dtype.is_floating_point:
        raise ValueError(
            f"Invalid images dtype: expected float dtype. Received: images.dtype={backend.standardize_dtype(x.dtype)}"
        )
    axis = -3 if _data_format(data_format) == "channels_first" else -1
    if x.shape[axis] != 3:
        raise ValueError(f"Input images must have 3 channels, but received images with {x.shape[axis]} channels.")
    return x, axis


def rgb_to_hsv(images: Any, data_format: str | None = None) -> torch.Tensor:
    """Converts RGB images (floats in ``[0, 1]``) to HSV, each channel in ``[0, 1]``.

    Example:
        >>> import torch
        >>> from lamina.ops import image
        >>> image.rgb_to_hsv(torch.tensor([[[1.0, 0.0, 0.0]]])).tolist()
        [[[0.0, 1.0, 1.0]]]
    """
    x, axis = _float_images(images, data_format)
    eps = torch.finfo(x.dtype).eps
    x = torch.where(torch.abs(x) < eps, 0.0, x)
    r, g, b = x.unbind(dim=axis)
    value = torch.maximum(torch.maximum(r, g), b)
    minimum = torch.minimum(torch.minimum(r, g), b)
    range_ = value - minimum
    safe_value = torch.where(value > 0, value, 1.0)
    safe_range = torch.where(range_ > 0, range_, 1.0)
    saturation = torch.where(value > 0, range_ / safe_value, 0.0)
    norm = 1.0 / (6.0 * safe_range)
    hue = torch.where(value == g, norm * (b - r) + 2.0 / 6.0, norm * (r - g) + 4.0 / 6.0)
    hue = torch.where(value == r, norm * (g - b), hue)
    hue = torch.where(range_ > 0, hue, 0.0) + (hue < 0.0).to(hue.dtype)
    return torch.stack((hue, saturation, value), dim=axis)


def hsv_to_rgb(images: Any, data_format: str | None = None) -> torch.Tensor:
    """Converts HSV images (each channel in ``[0, 1]``) to RGB.

    Example:
        >>> import torch
        >>> from lamina.ops import image
        >>> image.hsv_to_rgb(torch.tensor([[[0.0, 1.0, 1.0]]])).tolist()
        [[[1.0, 0.0, 0.0]]]
    """
    x, axis = _float_images(images, data_format)
    hue, saturation, value = x.unbind(dim=axis)
    dh = torch.remainder(hue, 1.0) * 6.0
    dr = torch.clip(torch.abs(dh - 3.0) - 1.0, 0.0, 1.0)
    dg = torch.clip(2.0 - torch.abs(dh - 2.0), 0.0, 1.0)
    db = torch.clip(2.0 - torch.abs(dh - 4.0), 0.0, 1.0)
    one_minus_s = 1.0 - saturation
    red = value * (one_minus_s + saturation * dr)
    green = value * (one_minus_s + saturation * dg)
    blue = value * (one_minus_s + saturation * db)
    return torch.stack((red, green, blue), dim=axis)
