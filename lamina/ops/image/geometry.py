"""Geometric image ops: ``resize``, ``affine_transform``, ``perspective_transform``, ``elastic_transform``,
``scale_and_translate``.

``resize`` is ``torch.nn.functional.interpolate`` with Keras's modes (``nearest`` is torch's
``nearest-exact``, the half-pixel rule Keras uses). The warps compute, for every output pixel, its
position in the input and sample there with :func:`~lamina.ops.image.sampling.sample_2d`, for a
whole batch at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from lamina import backend
from lamina.ops.core import _t
from lamina.ops.image._common import batched, images_tensor, unbatched
from lamina.ops.image._common import data_format as _data_format
from lamina.ops.image.filters import gaussian_blur
from lamina.ops.image.sampling import check_fill_mode, check_interpolation, sample_2d
from lamina.random.seed_generator import torch_generator

__all__ = ["affine_transform", "elastic_transform", "perspective_transform", "resize", "scale_and_translate"]

_RESIZE_MODES = {"bilinear": "bilinear", "nearest": "nearest-exact", "bicubic": "bicubic"}
_INT_DTYPES = (torch.uint8, torch.int8, torch.int16, torch.int32, torch.int64)


def _check_resize_args(size: Any, interpolation: str, fill_mode: str, crop: bool, pad: bool) -> tuple[int, int]:
    if len(size) != 2:
        raise ValueError(f"Expected `size` to be a tuple of 2 integers. Received: size={size}")
    if size[0] <= 0 or size[1] <= 0:
        raise ValueError(f"`size` must have positive height and width. Received: size={size}")
    if pad and crop:
        raise ValueError("Only one of `pad_to_aspect_ratio` & `crop_to_aspect_ratio` can be `True`.")
    if interpolation in ("lanczos3", "lanczos5"):
        raise ValueError(
            "Resizing with Lanczos interpolation is not supported by the PyTorch backend. "
            f"Received: interpolation={interpolation}."
        )
    if interpolation not in _RESIZE_MODES:
        raise ValueError(
            f"Invalid value for argument `interpolation`. Expected of one {_RESIZE_MODES}. "
            f"Received: interpolation={interpolation}"
        )
    if fill_mode != "constant":
        raise ValueError(
            f"Invalid value for argument `fill_mode`. Only `'constant'` is supported. Received: fill_mode={fill_mode}"
        )
    return int(size[0]), int(size[1])


def aspect_crop_box(height: int, width: int, target_height: int, target_width: int) -> tuple[int, int, int, int]:
    """(top, left, crop height, crop width) of the centered window with the target's aspect ratio."""
    crop_height = max(min(height, int(float(width * target_height) / target_width)), 1)
    crop_width = max(min(width, int(float(height * target_width) / target_height)), 1)
    return int(float(height - crop_height) / 2), int(float(width - crop_width) / 2), crop_height, crop_width


def _pad_to_aspect(x: torch.Tensor, target_height: int, target_width: int, fill_value: float) -> torch.Tensor:
    height, width = x.shape[-2:]
    pad_height = max(height, int(float(width * target_height) / target_width))
    pad_width = max(width, int(float(height * target_width) / target_height))
    # Keras pads the same amount on both sides, so an odd difference loses one row (or column).
    top = int(float(pad_height - height) / 2)
    left = int(float(pad_width - width) / 2)
    if top > 0 or left > 0:
        x = F.pad(x, (left, left, top, top), value=float(fill_value))
    return x


def resize(
    images: Any,
    size: Sequence[int],
    interpolation: str = "bilinear",
    antialias: bool = False,
    crop_to_aspect_ratio: bool = False,
    pad_to_aspect_ratio: bool = False,
    fill_mode: str = "constant",
    fill_value: float = 0.0,
    data_format: str | None = None,
) -> torch.Tensor:
    """Resizes images to ``size = (height, width)``.

    Args:
        images: a rank-3 image or rank-4 batch.
        size: the output ``(height, width)``.
        interpolation: ``"bilinear"``, ``"nearest"`` or ``"bicubic"`` (Keras's torch backend has no Lanczos).
        antialias: low-pass filter when downsampling (bilinear and bicubic only).
        crop_to_aspect_ratio: first crop the largest centered window with the output's aspect ratio.
        pad_to_aspect_ratio: first pad (with ``fill_value``) to the output's aspect ratio.
        fill_mode: only ``"constant"``.
        fill_value: the padding value.
        data_format: ``"channels_last"`` or ``"channels_first"``; default ``image_data_format()``.

    Returns:
        The resized images, in the input dtype (integer results rounded).

    Example:
        >>> import torch
        >>> from lamina.ops import image
        >>> image.resize(torch.ones(2, 8, 6, 3), (4, 3)).shape
        torch.Size([2, 4, 3, 3])
    """
    target = _check_resize_args(size, interpolation, fill_mode, crop_to_aspect_ratio, pad_to_aspect_ratio)
    x = images_tensor(images)
    channels_last = _data_format(data_format) == "channels_last"
    x, added = batched(x)
    out_dtype = x.dtype
    if out_dtype not in (torch.float32, torch.float64):
        x = x.to(torch.float32)
    if channels_last:
        x = x.permute(0, 3, 1, 2)  # (N, H, W, C) -> (N, C, H, W), a view
    if crop_to_aspect_ratio:
        top, left, crop_h, crop_w = aspect_crop_box(x.shape[-2], x.shape[-1], *target)
        x = x[:, :, top : top + crop_h, left : left + crop_w]
    elif pad_to_aspect_ratio:
        x = _pad_to_aspect(x, *target, fill_value)
    smooth = interpolation in ("bilinear", "bicubic")
    out = F.interpolate(
        x,
        size=target,
        mode=_RESIZE_MODES[interpolation],
        align_corners=False if smooth else None,
        antialias=bool(antialias) and smooth,
    )
    if interpolation == "bicubic" and out_dtype == torch.uint8:
        out = out.clamp(0, 255)
    if channels_last:
        out = out.permute(0, 2, 3, 1)
    if out.dtype != out_dtype:
        if out_dtype in _INT_DTYPES:
            out = torch.round(out)
        out = out.to(out_dtype)
    return unbatched(out, added)


def _check_warp(images: Any, interpolation: str, fill_mode: str | None) -> tuple[torch.Tensor, int]:
    order = check_interpolation(interpolation)
    if fill_mode is not None:
        check_fill_mode(fill_mode)
    return images_tensor(images), order


def _pixel_grid(height: int, width: int, dtype: torch.dtype, device: torch.device) -> tuple[torch.Tensor, ...]:
    ys = torch.arange(height, dtype=dtype, device=device).reshape(1, height, 1)
    xs = torch.arange(width, dtype=dtype, device=device).reshape(1, 1, width)
    return ys, xs


def affine_transform(
    images: Any,
    transform: Any,
    interpolation: str = "bilinear",
    fill_mode: str = "constant",
    fill_value: float = 0,
    data_format: str | None = None,
) -> torch.Tensor:
    """Applies projective transforms ``[a0, a1, a2, b0, b1, b2, c0, c1]`` to images.

    Each output pixel ``(x, y)`` takes the input value at ``((a0 x + a1 y + a2) / k, (b0 x + b1 y + b2) / k)``
    with ``k = c0 x + c1 y + 1``.

    Args:
        images: a rank-3 image or rank-4 batch.
        transform: 8 numbers, or ``(batch, 8)`` (one transform per image).
        interpolation: ``"nearest"`` or ``"bilinear"``.
        fill_mode: how points outside the input are filled: ``"constant"``, ``"nearest"``,
            ``"wrap"``, ``"mirror"`` or ``"reflect"``.
        fill_value: the value outside the input with ``fill_mode="constant"``.
        data_format: ``"channels_last"`` or ``"channels_first"``; default ``image_data_format()``.

    Returns:
        The transformed images, shaped and typed like ``images``.

    Note:
        Keras's torch backend ignores ``c0``/``c1`` (its TensorFlow backend divides by ``k`` as here);
        with ``c0 = c1 = 0``, as every Keras layer passes, the backends agree.

    Example:
        >>> import torch
        >>> from lamina.ops import image
        >>> x = torch.arange(9.0).reshape(1, 3, 3, 1)
        >>> shift = torch.tensor([1.0, 0, 1, 0, 1, 0, 0, 0])  # read from x + 1: a shift left
        >>> image.affine_transform(x, shift)[0, :, :, 0].tolist()
        [[1.0, 2.0, 0.0], [4.0, 5.0, 0.0], [7.0, 8.0, 0.0]]
    """
    x, order = _check_warp(images, interpolation, fill_mode)
    t = _t(transform)
    if t.ndim not in (1, 2):
        raise ValueError(
            "Invalid transform rank: expected rank 1 (single transform) or rank 2 (batch of transforms). "
            f"Received input with shape: transform.shape={tuple(t.shape)}"
        )
    channels_first = _data_format(data_format) == "channels_first"
    x, added = batched(x)
    t = t.to(x.device)
    if t.ndim == 1:
        t = t.unsqueeze(0)
    if not t.is_floating_point():
        t = t.to(backend.floatx())
    if t.shape[0] == 1 and x.shape[0] > 1:
        t = t.expand(x.shape[0], -1)
    height, width = x.shape[-2:] if channels_first else x.shape[1:3]
    ys, xs = _pixel_grid(height, width, t.dtype, x.device)
    a0, a1, a2, b0, b1, b2, c0, c1 = (t[:, i].reshape(-1, 1, 1) for i in range(8))
    # Keras's order of operations: (y * b1 + x * b0) + b2, then the projective divide (k = 1 for affine).
    k = c0 * xs + c1 * ys + 1.0
    y_in = (ys * b1 + xs * b0 + b2) / k
    x_in = (ys * a1 + xs * a0 + a2) / k
    out = sample_2d(x, y_in, x_in, order, fill_mode, fill_value, channels_first)
    return unbatched(out, added)


def compute_homography_matrix(start_points: torch.Tensor, end_points: torch.Tensor) -> torch.Tensor:
    """The 8 coefficients per batch item mapping ``end_points`` onto ``start_points`` (both ``(N, 4, 2)``)."""
    dtype = torch.promote_types(torch.promote_types(start_points.dtype, end_points.dtype), torch.float32)
    start, end = start_points.to(dtype), end_points.to(dtype)
    zeros = torch.zeros_like(end[:, 0, 0])
    ones = torch.ones_like(zeros)
    rows = []
    for i in range(4):
        sx, sy, ex, ey = start[:, i, 0], start[:, i, 1], end[:, i, 0], end[:, i, 1]
        rows.append(torch.stack([ex, ey, ones, zeros, zeros, zeros, -sx * ex, -sx * ey], dim=-1))
        rows.append(torch.stack([zeros, zeros, zeros, ex, ey, ones, -sy * ex, -sy * ey], dim=-1))
    coefficients = torch.stack(rows, dim=1)
    target = start.reshape(start.shape[0], 8, 1)
    return torch.linalg.solve(coefficients, target).reshape(-1, 8)


def _check_points(points: torch.Tensor, name: str) -> None:
    if tuple(points.shape[-2:]) != (4, 2) or points.ndim not in (2, 3):
        raise ValueError(
            f"Invalid {name} shape: expected (4,2) for a single image or (N,4,2) for a batch. "
            f"Received shape: {tuple(points.shape)}"
        )


def perspective_transform(
    images: Any,
    start_points: Any,
    end_points: Any,
    interpolation: str = "bilinear",
    fill_value: float = 0,
    data_format: str | None = None,
) -> torch.Tensor:
    """Warps images so that the four ``start_points`` land on ``end_points`` (each ``(4, 2)`` as ``(x, y)``).

    Args:
        images: a rank-3 image or rank-4 batch.
        start_points, end_points: ``(4, 2)`` or ``(batch, 4, 2)`` corner positions.
        interpolation: ``"nearest"`` or ``"bilinear"``.
        fill_value: the value of pixels mapped from outside the input.
        data_format: ``"channels_last"`` or ``"channels_first"``; default ``image_data_format()``.

    Example:
        >>> import torch
        >>> from lamina.ops import image
        >>> pts = torch.tensor([[0.0, 0.0], [3.0, 0.0], [0.0, 3.0], [3.0, 3.0]])
        >>> x = torch.rand(1, 4, 4, 1)
        >>> bool(torch.allclose(image.perspective_transform(x, pts, pts), x, atol=1e-5))
        True
    """
    x, order = _check_warp(images, interpolation, None)
    dtype = x.dtype if x.is_floating_point() else torch.float32
    start = _t(start_points).to(x.device, dtype)
    end = _t(end_points).to(x.device, dtype)
    _check_points(start, "start_points")
    _check_points(end, "end_points")
    if start.shape != end.shape:
        raise ValueError(
            "start_points and end_points must have the same shape. "
            f"Received start_points.shape={tuple(start.shape)}, end_points.shape={tuple(end.shape)}"
        )
    channels_first = _data_format(data_format) == "channels_first"
    x, added = batched(x)
    if start.ndim == 2:
        start, end = start.unsqueeze(0), end.unsqueeze(0)
    h = compute_homography_matrix(start, end).to(dtype)
    if h.shape[0] == 1 and x.shape[0] > 1:
        h = h.expand(x.shape[0], -1)
    height, width = x.shape[-2:] if channels_first else x.shape[1:3]
    ys, xs = _pixel_grid(height, width, dtype, x.device)
    a0, a1, a2, a3, a4, a5, a6, a7 = (h[:, i].reshape(-1, 1, 1) for i in range(8))
    denom = a6 * xs + a7 * ys + 1.0
    x_in = (a0 * xs + a1 * ys + a2) / denom
    y_in = (a3 * xs + a4 * ys + a5) / denom
    out = sample_2d(x, y_in, x_in, order, "constant", fill_value, channels_first)
    return unbatched(out, added)


def elastic_transform(
    images: Any,
    alpha: float = 20.0,
    sigma: float = 5.0,
    interpolation: str = "bilinear",
    fill_mode: str = "reflect",
    fill_value: float = 0.0,
    seed: Any = None,
    data_format: str | None = None,
) -> torch.Tensor:
    """Displaces each pixel by smooth random noise: Gaussian noise blurred with ``sigma``, scaled by ``alpha``.

    Args:
        images: a rank-3 image or rank-4 batch.
        alpha: the displacement scale, in pixels.
        sigma: the standard deviation of the blur (and of the noise); the blur kernel spans ``6 sigma``.
        interpolation: ``"nearest"`` or ``"bilinear"``.
        fill_mode, fill_value: as in :func:`affine_transform`.
        seed: an int, a ``lamina.random.SeedGenerator`` or ``None``. Keras's torch backend draws its
            noise unseeded; here the seed is honoured, so the result repeats.
        data_format: ``"channels_last"`` or ``"channels_first"``; default ``image_data_format()``.

    Example:
        >>> import torch
        >>> from lamina.ops import image
        >>> x = torch.rand(2, 16, 16, 3)
        >>> bool(torch.equal(image.elastic_transform(x, seed=1), image.elastic_transform(x, seed=1)))
        True
    """
    x, order = _check_warp(images, interpolation, fill_mode)
    channels_first = _data_format(data_format) == "channels_first"
    x, added = batched(x)
    alpha_f, sigma_f = float(alpha), float(sigma)
    size = int(6 * sigma_f) | 1
    n = x.shape[0]
    height, width = x.shape[-2:] if channels_first else x.shape[1:3]
    dtype = x.dtype if x.is_floating_point() else torch.float32
    generator = torch_generator(seed, x.device)
    noise = torch.normal(0.0, 1.0, size=(2 * n, 1, height, width), generator=generator, dtype=dtype, device=x.device)
    noise = gaussian_blur(noise * sigma_f, (size, size), (sigma_f, sigma_f), data_format="channels_first")
    dx, dy = noise[:n, 0], noise[n:, 0]
    ys, xs = _pixel_grid(height, width, dtype, x.device)
    out = sample_2d(x, ys + alpha_f * dy, xs + alpha_f * dx, order, fill_mode, fill_value, channels_first)
    return unbatched(out, added)


def _kernel(method: str) -> Any:
    def triangle(t: torch.Tensor) -> torch.Tensor:
        return torch.clamp(1 - torch.abs(t), min=0)

    def keys_cubic(t: torch.Tensor) -> torch.Tensor:
        out = ((1.5 * t - 2.5) * t) * t + 1.0
        out = torch.where(t >= 1.0, ((-0.5 * t + 2.5) * t - 4.0) * t + 2.0, out)
        return torch.where(t >= 2.0, 0.0, out)

    def lanczos(radius: float) -> Any:
        def fn(t: torch.Tensor) -> torch.Tensor:
            y = radius * torch.sin(np.pi * t) * torch.sin(np.pi * t / radius)
            out = torch.where(t > 1e-3, y / torch.where(t != 0, np.pi**2 * t**2, 1), 1)
            return torch.where(t > radius, 0.0, out)

        return fn

    return {"linear": triangle, "cubic": keys_cubic, "lanczos3": lanczos(3.0), "lanczos5": lanczos(5.0)}[method]


_SCALE_METHODS = {
    "linear": "linear",
    "bilinear": "linear",
    "trilinear": "linear",
    "cubic": "cubic",
    "bicubic": "cubic",
    "tricubic": "cubic",
    "lanczos3": "lanczos3",
    "lanczos5": "lanczos5",
}


def _weight_matrix(size_in: int, size_out: int, scale: Any, shift: Any, kernel: Any, antialias: bool) -> Any:
    inv_scale = 1.0 / scale
    kernel_scale = torch.clamp(inv_scale, min=1.0) if antialias else 1.0
    sample_f = (torch.arange(size_out, dtype=scale.dtype, device=scale.device) + 0.5) * inv_scale
    sample_f = sample_f - shift * inv_scale - 0.5
    grid = torch.arange(size_in, dtype=scale.dtype, device=scale.device)[:, None]
    weights = kernel(torch.abs(sample_f[None, :] - grid) / kernel_scale)
    total = weights.sum(dim=0, keepdim=True)
    eps = 1000.0 * float(np.finfo(np.float32).eps)
    weights = torch.where(torch.abs(total) > eps, weights / torch.where(total != 0, total, 1), 0)
    inside = (sample_f >= -0.5) & (sample_f <= size_in - 0.5)
    return torch.where(inside[None, :], weights, 0)


def scale_and_translate(
    images: Any,
    output_shape: Sequence[int],
    scale: Any,
    translation: Any,
    spatial_dims: Sequence[int],
    method: str,
    antialias: bool = True,
) -> torch.Tensor:
    """Resamples ``images`` along ``spatial_dims`` with per-axis ``scale`` and ``translation`` (JAX's op).

    Example:
        >>> import torch
        >>> from lamina.ops import image
        >>> image.scale_and_translate(torch.ones(4, 4), (2, 2), [0.5, 0.5], [0.0, 0.0], (0, 1), "linear").tolist()
        [[1.0, 1.0], [1.0, 1.0]]
    """
    if method not in _SCALE_METHODS:
        raise ValueError(
            f"Invalid value for argument `method`. Expected of one {set(_SCALE_METHODS)}. Received: method={method}"
        )
    x = _t(images)
    scale_t, shift_t = _t(scale), _t(translation)
    dtype = torch.promote_types(scale_t.dtype, shift_t.dtype)
    if not dtype.is_floating_point:
        dtype = backend.torch_dtype(backend.floatx())
    scale_t, shift_t = scale_t.to(x.device, dtype), shift_t.to(x.device, dtype)
    if not spatial_dims:
        return x
    kernel = _kernel(_SCALE_METHODS[method])
    rounding = not x.is_floating_point()
    out = x.to(torch.float32) if rounding else x.clone()
    for i, d in enumerate(spatial_dims):
        d = d % x.ndim
        w = _weight_matrix(x.shape[d], int(output_shape[d]), scale_t[i], shift_t[i], kernel, antialias).to(out.dtype)
        out = torch.moveaxis(torch.tensordot(out, w, dims=([d], [0])), -1, d)
    if rounding:
        out = torch.clip(torch.round(out), x.min(), x.max()).to(x.dtype)
    return out
