"""``RandomGaussianBlur`` and ``RandomErasing``: per-image random blur and random rectangles."""

from __future__ import annotations

from typing import Any

import torch

from lamina.layers.preprocessing.image_preprocessing.color_adjust import _ColorLayer
from lamina.ops.image import filters
from lamina.random.distributions import _normal

__all__ = ["RandomErasing", "RandomGaussianBlur", "box_masks"]


def _odd_pair(layer: _ColorLayer, value: Any, name: str) -> tuple[int, int]:
    values = list(value) if isinstance(value, (tuple, list)) else [value]
    if isinstance(value, (tuple, list)) and len(values) != 2:
        raise layer._error(f"`{name}` to be a number (or a list of two numbers)", f"{name}={value!r}")
    if any(isinstance(v, bool) or not isinstance(v, (int, float)) or v % 2 == 0 for v in values):
        raise layer._error(f"`{name}` to be an odd number", f"{name}={value!r}")
    return (values[0], values[-1]) if len(values) == 2 else (value, value)


def box_masks(
    images: torch.Tensor, data_format: str, x0: Any, x1: Any, y0: Any, y1: Any, dtype: torch.dtype
) -> torch.Tensor:
    """Boolean masks, broadcastable to ``images`` (one channel), true inside each box ``[x0, x1) x [y0, y1)``."""
    h_axis = 2 if data_format == "channels_first" else 1
    height, width = images.shape[h_axis], images.shape[h_axis + 1]
    ys = torch.arange(height, dtype=dtype, device=images.device)
    xs = torch.arange(width, dtype=dtype, device=images.device)
    if data_format == "channels_first":
        ys, xs = ys[None, None, :, None], xs[None, None, None, :]
    else:
        ys, xs = ys[None, :, None, None], xs[None, None, :, None]
    x0, x1, y0, y1 = (v[:, None, None, None] for v in (x0, x1, y0, y1))
    return (xs >= x0) & (xs < x1) & (ys >= y0) & (ys < y1)


class RandomGaussianBlur(_ColorLayer):
    """Blurs each image, with probability drawn from ``factor``, by a Gaussian of random sigma during training.

    Args:
        factor: the probability of blurring, a number in ``[0, 1]`` or ``(lower, upper)``.
        kernel_size: the odd kernel size, or ``(height, width)``.
        sigma: the standard deviation, a number in ``[0, 1]`` or ``(lower, upper)`` (Keras's bounds);
            one pair of sigmas is drawn per batch.
        value_range: the ``(min, max)`` of pixel values; results are clipped to it.
        data_format: ``"channels_last"`` or ``"channels_first"``; default ``image_data_format()``.
        seed: optional int, for a reproducible sequence of draws.

    Example:
        >>> import torch, lamina
        >>> lamina.layers.RandomGaussianBlur(seed=1)(torch.rand(2, 6, 6, 3) * 255).shape
        torch.Size([2, 6, 6, 3])
    """

    _USE_BASE_FACTOR = False
    _FACTOR_BOUNDS = (0, 1)
    _SORT_VALUE_RANGE = False

    def __init__(
        self,
        factor: Any = 1.0,
        kernel_size: Any = 3,
        sigma: Any = 1.0,
        value_range: Any = (0, 255),
        data_format: str | None = None,
        seed: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(data_format=data_format, **kwargs)
        self._color_args(factor, value_range, seed)
        self.kernel_size = _odd_pair(self, kernel_size, "kernel_size")
        self.sigma = self._factor_pair(sigma, "sigma")

    def get_random_transformation(self, images: torch.Tensor, training: bool = True, seed: Any = None) -> Any:
        if not training:
            return None
        n = images.shape[0]
        probability = self._uniform(images, (n,), self.factor[0], self.factor[1], seed)
        threshold = self._uniform(images, (n,), 0.0, 1.0, seed)
        sigma = self._uniform(images, (2,), self.sigma[0], self.sigma[1], seed, self.compute_dtype) + 1e-6
        return {"should_apply_blur": threshold < probability, "blur_factor": sigma}

    def transform_images(self, images: torch.Tensor, transformation: Any = None, training: bool = True) -> Any:
        images = self._cast(images)
        if not training or transformation is None:
            return images
        blurred = filters.gaussian_blur(images, self.kernel_size, transformation["blur_factor"], self.data_format)
        images = torch.where(transformation["should_apply_blur"][:, None, None, None], blurred, images)
        return self._cast(self._clip(images))

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update({"kernel_size": self.kernel_size, "sigma": self.sigma})
        return config


class RandomErasing(_ColorLayer):
    """Replaces a random rectangle of each image (with probability drawn from ``factor``) during training.

    Args:
        factor: the probability of erasing, a number in ``[0, 1]`` or ``(lower, upper)``.
        scale: ``(lower, upper)`` in ``[0, 1]``: each side of the rectangle is ``sqrt`` of a draw from it,
            as a fraction of the image side.
        fill_value: the fill: a number, three numbers (one per channel), or ``None`` for Gaussian noise
            scaled to the range maximum; clipped to ``value_range``.
        value_range: the ``(min, max)`` of pixel values.
        seed: optional int, for a reproducible sequence of draws.
        data_format: ``"channels_last"`` or ``"channels_first"``; default ``image_data_format()``.

    Example:
        >>> import torch, lamina
        >>> out = lamina.layers.RandomErasing(fill_value=0.0, seed=1)(torch.full((2, 8, 8, 3), 9.0))
        >>> bool((out == 0).any())
        True
    """

    _USE_BASE_FACTOR = False
    _FACTOR_BOUNDS = (0, 1)
    _SORT_VALUE_RANGE = False

    def __init__(
        self,
        factor: Any = 1.0,
        scale: Any = (0.02, 0.33),
        fill_value: Any = None,
        value_range: Any = (0, 255),
        seed: int | None = None,
        data_format: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(data_format=data_format, **kwargs)
        self._color_args(factor, value_range, seed)
        self.scale = self._factor_pair(scale, "scale")
        ok = fill_value is None or (isinstance(fill_value, (int, float)) and not isinstance(fill_value, bool))
        if isinstance(fill_value, (tuple, list)):
            ok = len(fill_value) == 3
        if not ok:
            raise self._error("`fill_value` to be a number (or a list of three numbers)", f"fill_value={fill_value!r}")
        self.fill_value = fill_value

    def _crop_bounds(self, images: torch.Tensor, length: int, ratio: torch.Tensor, seed: Any) -> tuple:
        crop = (ratio * length).to(self._compute_td)
        start = self._uniform(images, (images.shape[0],), 0, 1, seed, self.compute_dtype) * (length - crop)
        return start, start + crop

    def get_random_transformation(self, images: torch.Tensor, training: bool = True, seed: Any = None) -> Any:
        if not training:
            return None
        n, dtype = images.shape[0], self.compute_dtype
        height, width = self._hw(images)
        weight = torch.sqrt(self._uniform(images, (n, 2), self.scale[0], self.scale[1], seed, dtype))
        x0, x1 = self._crop_bounds(images, width, weight[:, 0], seed)
        y0, y1 = self._crop_bounds(images, height, weight[:, 1], seed)
        masks = box_masks(images, self.data_format, x0, x1, y0, y1, self._compute_td)
        probability = self._uniform(images, (n,), self.factor[0], self.factor[1], seed)
        threshold = self._uniform(images, (n,), 0.0, 1.0, seed)
        return {"apply_erasing": threshold < probability, "batch_masks": masks, "fill_value": self._fill(images, seed)}

    def _fill(self, images: torch.Tensor, seed: Any) -> torch.Tensor:
        if self.fill_value is None:
            noise = _normal(images.shape, 0.0, 1.0, self.compute_dtype, self._seed(seed), images.device)
            fill = noise * self.value_range[1]
        else:
            fill = torch.full(images.shape, 0.0, dtype=self._compute_td, device=images.device)
            fill = fill + torch.as_tensor(self.fill_value, dtype=self._compute_td, device=images.device)
        return torch.clip(fill, self.value_range[0], self.value_range[1])

    def transform_images(self, images: torch.Tensor, transformation: Any = None, training: bool = True) -> Any:
        images = self._cast(images)
        if not training or transformation is None:
            return images
        erased = torch.where(transformation["batch_masks"], transformation["fill_value"], images)
        return torch.where(transformation["apply_erasing"][:, None, None, None], erased, images)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update({"scale": self.scale, "fill_value": self.fill_value})
        return config
