"""Random color adjustments: ``RandomBrightness``, ``RandomContrast``, ``RandomHue``, ``RandomSaturation``,
``RandomColorJitter``.

Pixel values are read in ``value_range`` (``(0, 255)`` by default) and results are clipped to it.
"""

from __future__ import annotations

from typing import Any

import torch

from lamina import backend
from lamina.layers.preprocessing.image_preprocessing.base import BaseImagePreprocessingLayer
from lamina.ops.image import color
from lamina.random import SeedGenerator

__all__ = ["RandomBrightness", "RandomColorJitter", "RandomContrast", "RandomHue", "RandomSaturation"]


class _ColorLayer(BaseImagePreprocessingLayer):
    """``factor`` + ``value_range`` + ``seed``: the arguments every color layer shares."""

    _SORT_VALUE_RANGE = True

    def _color_args(self, factor: Any, value_range: Any, seed: int | None) -> None:
        if factor is not None:
            self._set_factor(factor)
        self.value_range = self._value_range_arg(value_range) if self._SORT_VALUE_RANGE else value_range
        if not self._SORT_VALUE_RANGE:
            self._value_range_arg(value_range)  # checked, kept as given (Keras keeps it unsorted here)
        self.seed = seed
        self.generator = SeedGenerator(seed)

    def _clip(self, images: torch.Tensor) -> torch.Tensor:
        return torch.clip(images, self.value_range[0], self.value_range[1])

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update({"factor": self.factor, "value_range": self.value_range, "seed": self.seed})
        return config

    def extra_repr(self) -> str:
        return f"name={self.name!r}, factor={self.factor}, value_range={self.value_range}, seed={self.seed}"


class RandomBrightness(_ColorLayer):
    """Adds a random offset to each image during training: ``factor * (max - min)`` of ``value_range``.

    Args:
        factor: a number in ``[-1, 1]`` (``0.2`` adds up to ±20% of the range) or ``(lower, upper)``.
        value_range: the ``(min, max)`` of pixel values; results are clipped to it.
        seed: optional int, for a reproducible sequence of offsets.

    Example:
        >>> import torch, lamina
        >>> x = torch.full((1, 2, 2, 3), 100.0)
        >>> lamina.layers.RandomBrightness((0.1, 0.1))(x)[0, 0, 0].tolist()
        [125.5, 125.5, 125.5]
    """

    def __init__(self, factor: Any, value_range: Any = (0, 255), seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(factor=factor, **kwargs)
        self._color_args(None, value_range, seed)

    def get_random_transformation(self, images: torch.Tensor, training: bool = True, seed: Any = None) -> Any:
        if not training:
            return None
        delta = self._uniform(images, (images.shape[0], 1, 1, 1), self.factor[0], self.factor[1], seed)
        return {"rgb_delta": delta * (self.value_range[1] - self.value_range[0])}

    def transform_images(self, images: torch.Tensor, transformation: Any = None, training: bool = True) -> Any:
        images = self._cast(images)
        if not training or transformation is None:
            return images
        return self._clip(images + transformation["rgb_delta"].to(images.dtype))


class RandomContrast(_ColorLayer):
    """Scales each image's deviation from its per-channel mean by a random factor during training.

    Args:
        factor: a number in ``[0, 1]`` (contrast scaled by a factor in ``[1 - factor, 1 + factor]``)
            or ``(lower, upper)`` (``[1 - lower, 1 + upper]``).
        value_range: the ``(min, max)`` of pixel values; results are clipped to it.
        seed: optional int, for a reproducible sequence of factors.

    Example:
        >>> import torch, lamina
        >>> x = torch.tensor([[[[10.0], [20.0]]]])
        >>> lamina.layers.RandomContrast((0.0, 0.0))(x).flatten().tolist()
        [10.0, 20.0]
    """

    _FACTOR_BOUNDS = (0, 1)
    _SORT_VALUE_RANGE = False

    def __init__(self, factor: Any, value_range: Any = (0, 255), seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._color_args(factor, value_range, seed)

    def get_random_transformation(self, images: torch.Tensor, training: bool = True, seed: Any = None) -> Any:
        if not training:
            return None
        shape = (images.shape[0], 1, 1, 1)
        factor = self._uniform(images, shape, 1.0 - self.factor[0], 1.0 + self.factor[1], seed, self.compute_dtype)
        return {"contrast_factor": factor}

    def transform_images(self, images: torch.Tensor, transformation: Any = None, training: bool = True) -> Any:
        images = self._cast(images)
        if not training or transformation is None:
            return images
        h_axis, w_axis = self._hw_axes()
        mean = images.mean(dim=h_axis, keepdim=True).mean(dim=w_axis, keepdim=True)  # Keras's two-step mean
        return self._clip((images - mean) * transformation["contrast_factor"] + mean)


class RandomHue(_ColorLayer):
    """Rotates the hue of each image by a random amount during training.

    Args:
        factor: a number in ``[0, 1]`` (a hue shift of up to ``factor / 2`` of the circle, either way)
            or ``(lower, upper)``.
        value_range: the ``(min, max)`` of pixel values.
        data_format: ``"channels_last"`` or ``"channels_first"``; default ``image_data_format()``.
        seed: optional int, for a reproducible sequence of shifts.

    Example:
        >>> import torch, lamina
        >>> x = torch.rand(2, 4, 4, 3) * 255
        >>> bool(torch.allclose(lamina.layers.RandomHue((0.0, 0.0))(x), x, atol=1e-3))
        True
    """

    _FACTOR_BOUNDS = (0, 1)
    _SORT_VALUE_RANGE = False

    def __init__(
        self,
        factor: Any,
        value_range: Any = (0, 255),
        data_format: str | None = None,
        seed: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(data_format=data_format, **kwargs)
        self._color_args(factor, value_range, seed)

    def get_random_transformation(self, images: torch.Tensor, training: bool = True, seed: Any = None) -> Any:
        if not training:
            return None
        n = images.shape[0]
        invert = self._uniform(images, (n,), 0.0, 1.0, seed)
        invert = torch.where(invert > 0.5, -torch.ones_like(invert), torch.ones_like(invert))
        factor = self._uniform(images, (n,), self.factor[0], self.factor[1], seed)
        return {"factor": invert * factor * 0.5}

    def transform_images(self, images: torch.Tensor, transformation: Any = None, training: bool = True) -> Any:
        images = self._cast(images)
        if not training or transformation is None:
            return images
        images = self._transform_value_range(images, self.value_range, (0, 1))
        shift = transformation["factor"].to(images.dtype)[:, None, None]
        hsv = color.rgb_to_hsv(images, data_format=self.data_format)
        axis = 1 if self.data_format == "channels_first" else -1
        h, s, v = hsv.unbind(dim=axis)
        h = h + shift
        h = torch.where(h > 1.0, h - 1.0, h)
        h = torch.where(h < 0.0, h + 1.0, h)
        rgb = color.hsv_to_rgb(torch.stack([h, s, v], dim=axis), data_format=self.data_format)
        return self._cast(self._transform_value_range(torch.clip(rgb, 0, 1), (0, 1), self.value_range))


class RandomSaturation(_ColorLayer):
    """Scales the saturation of each image by a random amount during training.

    Args:
        factor: a number in ``[-1, 1]`` or ``(lower, upper)``; a draw ``f`` multiplies the saturation by
            ``f / (1 - f)`` (so 0.5 keeps it, 0 removes it, values near 1 saturate fully).
        value_range: the ``(min, max)`` the saturation is clipped to (as in Keras).
        data_format: ``"channels_last"`` or ``"channels_first"``; default ``image_data_format()``.
        seed: optional int, for a reproducible sequence of factors.

    Example:
        >>> import torch, lamina
        >>> x = torch.rand(1, 4, 4, 3)
        >>> gray = lamina.layers.RandomSaturation((0.0, 0.0), value_range=(0, 1))(x)
        >>> bool(torch.allclose(gray[..., 0], gray[..., 1]))
        True
    """

    def __init__(
        self,
        factor: Any,
        value_range: Any = (0, 255),
        data_format: str | None = None,
        seed: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(data_format=data_format, **kwargs)
        self._color_args(factor, value_range, seed)

    def get_random_transformation(self, images: torch.Tensor, training: bool = True, seed: Any = None) -> Any:
        if not training:
            return None
        factor = self._uniform(images, (images.shape[0],), self.factor[0], self.factor[1], seed)
        return {"factor": factor / (1 - factor + backend.epsilon())}

    def transform_images(self, images: torch.Tensor, transformation: Any = None, training: bool = True) -> Any:
        images = self._cast(images)
        if not training or transformation is None:
            return images
        factor = transformation["factor"].to(self._compute_td)[:, None, None]
        hsv = color.rgb_to_hsv(images, data_format=self.data_format)
        axis = 1 if self.data_format == "channels_first" else -1
        h, s, v = hsv.unbind(dim=axis)
        s = self._clip(s * factor)
        return color.hsv_to_rgb(torch.stack([h, s, v], dim=axis), data_format=self.data_format)


class RandomColorJitter(BaseImagePreprocessingLayer):
    """Applies random brightness, contrast, saturation and hue changes, in that order, during training.

    Args:
        value_range: the ``(min, max)`` of pixel values.
        brightness_factor, contrast_factor, saturation_factor, hue_factor: the ``factor`` of
            ``RandomBrightness``, ``RandomContrast``, ``RandomSaturation`` and ``RandomHue``; ``None`` skips it.
        seed: optional int, for a reproducible sequence of draws.
        data_format: ``"channels_last"`` or ``"channels_first"``; default ``image_data_format()``.

    Example:
        >>> import torch, lamina
        >>> layer = lamina.layers.RandomColorJitter(brightness_factor=0.2, contrast_factor=0.3, seed=1)
        >>> layer(torch.rand(2, 4, 4, 3) * 255).shape
        torch.Size([2, 4, 4, 3])
    """

    _USE_BASE_FACTOR = False

    def __init__(
        self,
        value_range: Any = (0, 255),
        brightness_factor: Any = None,
        contrast_factor: Any = None,
        saturation_factor: Any = None,
        hue_factor: Any = None,
        seed: int | None = None,
        data_format: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(data_format=data_format, **kwargs)
        self.value_range = value_range
        self.brightness_factor = brightness_factor
        self.contrast_factor = contrast_factor
        self.saturation_factor = saturation_factor
        self.hue_factor = hue_factor
        self.seed = seed
        self.generator = SeedGenerator(seed)
        common = {"value_range": value_range, "seed": seed, "data_format": data_format}
        self.random_brightness = None if brightness_factor is None else RandomBrightness(brightness_factor, **common)
        self.random_contrast = None if contrast_factor is None else RandomContrast(contrast_factor, **common)
        self.random_saturation = None if saturation_factor is None else RandomSaturation(saturation_factor, **common)
        self.random_hue = None if hue_factor is None else RandomHue(hue_factor, **common)

    def _steps(self) -> list[BaseImagePreprocessingLayer]:
        steps = (self.random_brightness, self.random_contrast, self.random_saturation, self.random_hue)
        return [s for s in steps if s is not None]

    def transform_images(self, images: torch.Tensor, transformation: Any = None, training: bool = True) -> Any:
        images = self._cast(images)
        if not training:
            return images
        for step in self._steps():  # each draws from this layer's generator, in Keras's order
            images = step.transform_images(images, step.get_random_transformation(images, seed=self.generator))
        return self._cast(images)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(
            {
                "value_range": self.value_range,
                "brightness_factor": self.brightness_factor,
                "contrast_factor": self.contrast_factor,
                "saturation_factor": self.saturation_factor,
                "hue_factor": self.hue_factor,
                "seed": self.seed,
            }
        )
        return config

    def extra_repr(self) -> str:
        return f"name={self.name!r}, steps={[type(s).__name__ for s in self._steps()]}, seed={self.seed}"
