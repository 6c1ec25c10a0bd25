"""Random color effects: ``RandomColorDegeneration``, ``RandomGrayscale``, ``RandomInvert``,
``RandomPosterization``, ``RandomSharpness`` and ``Solarization``."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from lamina.layers.preprocessing.image_preprocessing.base import BaseImagePreprocessingLayer
from lamina.layers.preprocessing.image_preprocessing.color_adjust import _ColorLayer
from lamina.ops.image import color
from lamina.random import SeedGenerator
from lamina.random.distributions import _randint

__all__ = [
    "RandomColorDegeneration",
    "RandomGrayscale",
    "RandomInvert",
    "RandomPosterization",
    "RandomSharpness",
    "Solarization",
]


class RandomColorDegeneration(_ColorLayer):
    """Blends each image toward its grayscale version by a random amount during training.

    Args:
        factor: a number in ``[-1, 1]`` or ``(lower, upper)``: the weight of the grayscale image
            (0 keeps the image, 1 makes it gray).
        value_range: the ``(min, max)`` of pixel values; results are clipped to it.
        data_format: ``"channels_last"`` or ``"channels_first"``; default ``image_data_format()``.
        seed: optional int, for a reproducible sequence of blends.

    Example:
        >>> import torch, lamina
        >>> out = lamina.layers.RandomColorDegeneration((1.0, 1.0))(torch.rand(1, 2, 2, 3) * 255)
        >>> bool(torch.allclose(out[..., 0], out[..., 2]))
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
        shape = (images.shape[0], 1, 1, 1)
        return {"factor": self._uniform(images, shape, self.factor[0], self.factor[1], seed)}

    def transform_images(self, images: torch.Tensor, transformation: Any = None, training: bool = True) -> Any:
        images = self._cast(images)
        if not training or transformation is None:
            return images
        gray = color.rgb_to_grayscale(images, data_format=self.data_format)
        factor = transformation["factor"].to(images.dtype)
        return self._cast(self._clip(images + factor * (gray - images)))

    def compute_output_shape(self, input_shape: Any) -> Any:
        axis = -1 if self.data_format == "channels_last" else -3
        if len(input_shape) not in (3, 4) or input_shape[axis] not in (None, 3):
            raise self._error("RGB images of rank 3 or 4 (3 channels)", f"input_shape={tuple(input_shape)}")
        return input_shape


class RandomGrayscale(BaseImagePreprocessingLayer):
    """Turns each image to grayscale (kept with 3 channels) with probability ``factor`` during training.

    Args:
        factor: the probability, in ``[0, 1]``.
        data_format: ``"channels_last"`` or ``"channels_first"``; default ``image_data_format()``.
        seed: optional int, for a reproducible sequence of choices (not in the config, as in Keras).

    Example:
        >>> import torch, lamina
        >>> out = lamina.layers.RandomGrayscale(factor=1.0)(torch.rand(2, 4, 4, 3))
        >>> bool(torch.equal(out[..., 0], out[..., 1]))
        True
    """

    _USE_BASE_FACTOR = False

    def __init__(self, factor: float = 0.5, data_format: str | None = None, seed: int | None = None, **kwargs: Any):
        super().__init__(data_format=data_format, **kwargs)
        if isinstance(factor, bool) or not isinstance(factor, (int, float)) or factor < 0 or factor > 1:
            raise self._error("`factor` between 0 and 1", f"factor={factor!r}")
        self.factor = factor
        self.seed = seed
        self.generator = SeedGenerator(seed)

    def get_random_transformation(self, images: torch.Tensor, training: bool = True, seed: Any = None) -> Any:
        if not training:
            return None
        draws = self._uniform(images, (images.shape[0],), 0.0, 1.0, seed)
        return (draws < self.factor)[:, None, None, None]

    def transform_images(self, images: torch.Tensor, transformation: Any = None, training: bool = True) -> Any:
        images = self._cast(images)
        if not training or transformation is None:
            return images
        gray = color.rgb_to_grayscale(images, data_format=self.data_format)
        return torch.where(transformation, gray, images)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config["factor"] = self.factor
        return config

    def extra_repr(self) -> str:
        return f"name={self.name!r}, factor={self.factor}, seed={self.seed}"


class RandomInvert(_ColorLayer):
    """Inverts each image (``max - x`` of ``value_range``) with a random probability during training.

    Args:
        factor: the probability of inverting, a number in ``[0, 1]`` or ``(lower, upper)`` (drawn per image).
        value_range: the ``(min, max)`` of pixel values.
        seed: optional int, for a reproducible sequence of choices.
        data_format: ``"channels_last"`` or ``"channels_first"``; default ``image_data_format()``.

    Example:
        >>> import torch, lamina
        >>> lamina.layers.RandomInvert(factor=(1.0, 1.0))(torch.full((1, 1, 1, 3), 55.0)).flatten().tolist()
        [200.0, 200.0, 200.0]
    """

    _USE_BASE_FACTOR = False
    _FACTOR_BOUNDS = (0, 1)
    _SORT_VALUE_RANGE = False

    def __init__(
        self,
        factor: Any = 1.0,
        value_range: Any = (0, 255),
        seed: int | None = None,
        data_format: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(data_format=data_format, **kwargs)
        self._color_args(factor, value_range, seed)

    def get_random_transformation(self, images: torch.Tensor, training: bool = True, seed: Any = None) -> Any:
        if not training:
            return None
        n = images.shape[0]
        probability = self._uniform(images, (n,), self.factor[0], self.factor[1], seed)
        threshold = self._uniform(images, (n,), 0.0, 1.0, seed)
        return {"apply_inversion": threshold < probability}

    def transform_images(self, images: torch.Tensor, transformation: Any = None, training: bool = True) -> Any:
        images = self._cast(images)
        if not training or transformation is None:
            return images
        return torch.where(transformation["apply_inversion"][:, None, None, None], self.value_range[1] - images, images)


class RandomPosterization(_ColorLayer):
    """Keeps only the top ``bits`` bits of each 8-bit color value, ``bits`` drawn per image during training.

    Args:
        factor: the number of bits, in ``[1, 8]``: ``f`` draws from ``[1, f)``, ``(lower, upper)`` from
            ``[lower, upper)`` (Keras's integer draw excludes the upper bound), equal bounds fix it.
        value_range: the ``(min, max)`` of pixel values.
        data_format: ``"channels_last"`` or ``"channels_first"``; default ``image_data_format()``.
        seed: optional int, for a reproducible sequence of draws.

    Example:
        >>> import torch, lamina
        >>> lamina.layers.RandomPosterization(factor=(2, 2))(torch.full((1, 1, 1, 1), 200.0)).item()
        192.0
    """

    _USE_BASE_FACTOR = False
    _FACTOR_BOUNDS = (1, 8)

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
        low, high = self.factor
        if low != high:
            bits = _randint((n,), low, high, "uint8", self._seed(seed), images.device)
        else:
            bits = torch.full((n,), int(low), dtype=torch.uint8, device=images.device)
        return {"shift_factor": 8 - bits}

    def transform_images(self, images: torch.Tensor, transformation: Any = None, training: bool = True) -> Any:
        images = self._cast(images)
        if not training or transformation is None:
            return images
        shift = transformation["shift_factor"].reshape(-1, 1, 1, 1)
        x = self._transform_value_range(images, self.value_range, (0, 255), self.compute_dtype).to(torch.uint8)
        x = torch.bitwise_left_shift(torch.bitwise_right_shift(x, shift), shift)
        return self._transform_value_range(self._cast(x), (0, 255), self.value_range, self.compute_dtype)


class RandomSharpness(_ColorLayer):
    """Sharpens (or blurs) each image by a random amount during training.

    Args:
        factor: a number in ``[0, 1]`` or ``(lower, upper)``: 0 blurs, 0.5 keeps the image, 1 sharpens most.
        value_range: the ``(min, max)`` of pixel values; results are clipped to it.
        data_format: ``"channels_last"`` or ``"channels_first"``; default ``image_data_format()``.
        seed: optional int, for a reproducible sequence of amounts.

    Example:
        >>> import torch, lamina
        >>> x = torch.rand(1, 5, 5, 3) * 255
        >>> bool(torch.allclose(lamina.layers.RandomSharpness((0.5, 0.5))(x), x))
        True
    """

    _USE_BASE_FACTOR = False
    _FACTOR_BOUNDS = (0, 1)

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
        return {"factor": self._uniform(images, (images.shape[0],), self.factor[0], self.factor[1], seed)}

    def transform_images(self, images: torch.Tensor, transformation: Any = None, training: bool = True) -> Any:
        images = self._cast(images)
        if not training or transformation is None:
            return images
        sharpness = (transformation["factor"] * 2).to(images.dtype).reshape(-1, 1, 1, 1)
        x = images if self.data_format == "channels_first" else images.permute(0, 3, 1, 2)
        channels = x.shape[1]
        a, b = 1.0 / 13.0, 5.0 / 13.0
        kernel = torch.tensor([[a, a, a], [a, b, a], [a, a, a]], dtype=x.dtype, device=x.device)
        smoothed = F.conv2d(x, kernel.expand(channels, 1, 3, 3), padding=1, groups=channels)
        if self.data_format == "channels_last":
            smoothed = smoothed.permute(0, 2, 3, 1)
        return self._clip(images + (1.0 - sharpness) * (smoothed - images))


class Solarization(BaseImagePreprocessingLayer):
    """Adds a random offset, then inverts the pixels above a random threshold, during training.

    Args:
        addition_factor: ``(lower, upper)`` in ``[0, 1]`` (a number ``f`` means ``(0, f)``): the offset is
            drawn from ``[lower, upper * 255]`` (Keras scales only the upper bound) and added in 0-255 scale.
        threshold_factor: the same for the threshold.
        value_range: the ``(min, max)`` of pixel values.
        seed: optional int, for a reproducible sequence of draws.

    Example:
        >>> import torch, lamina
        >>> lamina.layers.Solarization(threshold_factor=(0.0, 0.0))(torch.full((1, 1, 1, 1), 200.0)).item()
        55.0
    """

    _USE_BASE_FACTOR = False

    def __init__(
        self,
        addition_factor: Any = 0.0,
        threshold_factor: Any = 0.0,
        value_range: Any = (0, 255),
        seed: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.seed = seed
        self.generator = SeedGenerator(seed)
        self.addition_factor = self._unit_pair(addition_factor, "addition_factor")
        self.threshold_factor = self._unit_pair(threshold_factor, "threshold_factor")
        self.value_range = self._value_range_arg(value_range)

    def _unit_pair(self, factor: Any, name: str) -> tuple[float, float]:
        what = f"`{name}` to be a number (or a list of two numbers) in the range [0, 1]"
        values = list(factor) if isinstance(factor, (tuple, list)) else [factor]
        if (isinstance(factor, (tuple, list)) and len(values) != 2) or any(
            isinstance(v, bool) or not isinstance(v, (int, float)) or v < 0 or v > 1 for v in values
        ):
            raise self._bad_arg(what, name, factor)
        if isinstance(factor, (tuple, list)):
            lower, upper = sorted(factor)
            return lower, upper
        return 0, factor

    def get_random_transformation(self, images: torch.Tensor, training: bool = True, seed: Any = None) -> Any:
        if not training:
            return None
        shape, dtype = (images.shape[0], 1, 1, 1), self.compute_dtype
        additions = self._uniform(images, shape, self.addition_factor[0], self.addition_factor[1] * 255, seed, dtype)
        thresholds = self._uniform(images, shape, self.threshold_factor[0], self.threshold_factor[1] * 255, seed, dtype)
        return {"additions": additions, "thresholds": thresholds}

    def transform_images(self, images: torch.Tensor, transformation: Any = None, training: bool = True) -> Any:
        images = self._cast(images)
        if not training or transformation is None:
            return images
        x = self._transform_value_range(images, self.value_range, (0, 255), self.compute_dtype)
        x = torch.clip(x + transformation["additions"], 0, 255)
        x = torch.where(x < transformation["thresholds"], x, 255 - x)
        return self._cast(self._transform_value_range(x, (0, 255), self.value_range, self.compute_dtype))

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(
            {
                "value_range": self.value_range,
                "addition_factor": self.addition_factor,
                "threshold_factor": self.threshold_factor,
                "seed": self.seed,
            }
        )
        return config

    def extra_repr(self) -> str:
        return f"name={self.name!r}, addition_factor={self.addition_factor}, threshold_factor={self.threshold_factor}"
