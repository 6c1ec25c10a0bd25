"""Filtering ops: ``gaussian_blur``, ``sobel_edges`` and ``ssim`` (depthwise convolutions)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F

from lamina.ops.core import _t
from lamina.ops.image._common import batched, check_images, images_tensor, unbatched
from lamina.ops.image._common import data_format as _data_format

__all__ = ["gaussian_blur", "sobel_edges", "ssim"]


def _gaussian_1d(size: int, sigma: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    x = torch.arange(size, dtype=dtype, device=sigma.device) - (size - 1) / 2
    kernel = torch.exp(-0.5 * (x / sigma) ** 2)
    return kernel / torch.sum(kernel)


def gaussian_blur(
    images: Any,
    kernel_size: Sequence[int] = (3, 3),
    sigma: Any = (1.0, 1.0),
    data_format: str | None = None,
) -> torch.Tensor:
    """Blurs images with a Gaussian kernel, channel by channel, keeping their size.

    Args:
        images: a rank-3 image or rank-4 batch (float).
        kernel_size: ``(height, width)`` of the kernel.
        sigma: the two standard deviations (a sequence or a tensor of 2).
        data_format: ``"channels_last"`` or ``"channels_first"``; default ``image_data_format()``.
            (Keras's torch backend reads ``None`` as channels-first; here it means the configured format.)

    Example:
        >>> import torch
        >>> from lamina.ops import image
        >>> image.gaussian_blur(torch.ones(1, 5, 5, 2), (3, 3), (1.0, 1.0))[0, 2, 2].tolist()
        [1.0, 1.0]
    """
    x = images_tensor(images)
    channels_last = _data_format(data_format) == "channels_last"
    size = [int(k) for k in (kernel_size.tolist() if isinstance(kernel_size, torch.Tensor) else kernel_size)]
    x, added = batched(x)
    if channels_last:
        x = x.permute(0, 3, 1, 2)
    sigma_t = _t(sigma).to(device=x.device)
    # As Keras: the outer product has shape (k1, k0) and is read as (k0, k1); they agree for square kernels.
    kernel = torch.outer(_gaussian_1d(size[1], sigma_t[1], x.dtype), _gaussian_1d(size[0], sigma_t[0], x.dtype))
    channels = x.shape[1]
    kernel = kernel.reshape(1, 1, size[0], size[1]).expand(channels, 1, size[0], size[1])
    out = F.conv2d(x, kernel, stride=1, padding=size[0] // 2, groups=channels)
    if channels_last:
        out = out.permute(0, 2, 3, 1)
    return unbatched(out, added)


def sobel_edges(images: Any, data_format: str | None = None) -> torch.Tensor:
    """The Sobel gradients ``[dy, dx]`` of a batch of images, stacked on a new last axis.

    Returns:
        ``(N, H, W, C, 2)`` for channels-last input, ``(N, C, H, W, 2)`` for channels-first.

    Example:
        >>> import torch
        >>> from lamina.ops import image
        >>> image.sobel_edges(torch.rand(2, 6, 6, 3)).shape
        torch.Size([2, 6, 6, 3, 2])
    """
    x = _t(images)
    if x.ndim != 4:
        raise ValueError(
            f"Invalid images rank: expected rank 4 (batch of images). Received: images.shape={list(x.shape)}"
        )
    channels_last = _data_format(data_format) == "channels_last"
    nchw = x.permute(0, 3, 1, 2) if channels_last else x
    channels = nchw.shape[1]
    sobel_x = torch.tensor([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], dtype=x.dtype, device=x.device)
    kernel_x = sobel_x.reshape(1, 1, 3, 3).repeat(channels, 1, 1, 1)
    kernel_y = sobel_x.t().reshape(1, 1, 3, 3).repeat(channels, 1, 1, 1)
    edges_x = F.conv2d(nchw, kernel_x, padding=1, groups=channels)
    edges_y = F.conv2d(nchw, kernel_y, padding=1, groups=channels)
    edges = torch.stack([edges_y, edges_x], dim=-1)
    return edges.permute(0, 2, 3, 1, 4) if channels_last else edges


def ssim(
    image1: Any,
    image2: Any,
    max_val: float = 1.0,
    filter_size: int = 11,
    filter_sigma: float = 1.5,
    k1: float = 0.01,
    k2: float = 0.03,
    data_format: str | None = None,
) -> torch.Tensor:
    """The structural similarity of two images (or batches), averaged over pixels and channels.

    Args:
        image1, image2: rank-3 images or rank-4 batches of the same shape.
        max_val: the dynamic range of the pixel values (1.0 for ``[0, 1]``, 255 for bytes).
        filter_size, filter_sigma: the Gaussian window.
        k1, k2: the stabilising constants.
        data_format: ``"channels_last"`` or ``"channels_first"``; default ``image_data_format()``.

    Returns:
        One value per image (a scalar for rank-3 input), in the dtype of ``image1``.

    Example:
        >>> import torch
        >>> from lamina.ops import image
        >>> x = torch.rand(2, 16, 16, 3)
        >>> image.ssim(x, x).tolist()
        [1.0, 1.0]
    """
    a, b = _t(image1), _t(image2)
    check_images(a, "image1")
    check_images(b, "image2")
    original = a.dtype
    compute = a.dtype if a.is_floating_point() else torch.float32
    a, b = a.to(compute), b.to(a.device, compute)
    single = a.ndim == 3
    if single:
        a, b = a.unsqueeze(0), b.unsqueeze(0)
    if _data_format(data_format) == "channels_last":
        a, b = a.permute(0, 3, 1, 2), b.permute(0, 3, 1, 2)
    n, c, h, w = a.shape
    a, b = a.reshape(n * c, 1, h, w), b.reshape(n * c, 1, h, w)
    coords = torch.arange(filter_size, dtype=compute, device=a.device) - (filter_size - 1) / 2.0
    g = torch.exp(-(coords**2) / (2.0 * filter_sigma**2))
    g = g / g.sum()
    window = torch.outer(g, g).reshape(1, 1, filter_size, filter_size)

    def blur(t: torch.Tensor) -> torch.Tensor:
        return F.conv2d(t, window)

    c1, c2 = (k1 * max_val) ** 2, (k2 * max_val) ** 2
    mu1, mu2 = blur(a), blur(b)
    mu1_sq, mu2_sq, mu1_mu2 = mu1 * mu1, mu2 * mu2, mu1 * mu2
    sigma1_sq = blur(a * a) - mu1_sq
    sigma2_sq = blur(b * b) - mu2_sq
    sigma12 = blur(a * b) - mu1_mu2
    ssim_map = ((2.0 * mu1_mu2 + c1) * (2.0 * sigma12 + c2)) / ((mu1_sq + mu2_sq + c1) * (sigma1_sq + sigma2_sq + c2))
    out = ssim_map.mean(dim=(1, 2, 3)).reshape(n, c).mean(dim=-1)
    return unbatched(out, single).to(original)
