"""Random affine warps: ``RandomRotation``, ``RandomZoom``, ``RandomTranslation``, ``RandomShear``.

Each draws one transform per image and applies all of them in one batched
:func:`lamina.ops.image.affine_transform`; boxes in dict inputs move with their image.
"""

from __future__ import annotations

from typing import Any

import torch

from lamina.layers.preprocessing.image_preprocessing.base import BaseImagePreprocessingLayer
from lamina.layers.preprocessing.image_preprocessing.bounding_boxes import converters
from lamina.ops.image import geometry
from lamina.random import SeedGenerator

__all__ = ["RandomRotation", "RandomShear", "RandomTranslation", "RandomZoom"]

_FILL_MODES = ("reflect", "wrap", "constant", "nearest")
_INTERPOLATIONS = ("nearest", "bilinear")

_WARP_ARGS = """fill_mode: how points outside the image are filled: ``"reflect"`` (default), ``"wrap"``,
            ``"constant"`` (with ``fill_value``) or ``"nearest"``.
        interpolation: ``"bilinear"`` (default) or ``"nearest"``.
        seed: optional int, for a reproducible sequence of transforms.
        fill_value: the value outside the image with ``fill_mode="constant"``.
        data_format: ``"channels_last"`` or ``"channels_first"``; default ``image_data_format()``."""


class _AffineLayer(BaseImagePreprocessingLayer):
    """Shared warp arguments, the warp itself and the box update of the affine layers."""

    _USE_BASE_FACTOR = False

    def _warp_args(self, fill_mode: str, interpolation: str, fill_value: float, seed: int | None) -> None:
        self.fill_mode = self._choice_arg(fill_mode, "fill_mode", _FILL_MODES)
        self.interpolation = self._choice_arg(interpolation, "interpolation", _INTERPOLATIONS)
        self.fill_value = fill_value
        self.seed = seed
        self.generator = SeedGenerator(seed)

    def _matrix(self, transformation: dict) -> torch.Tensor:
        raise NotImplementedError

    def _warp(self, images: torch.Tensor, transformation: Any, interpolation: str) -> torch.Tensor:
        images = self._cast(images)
        if transformation is None:
            return images
        return geometry.affine_transform(
            images,
            self._matrix(transformation),
            interpolation=interpolation,
            fill_mode=self.fill_mode,
            fill_value=self.fill_value,
            data_format=self.data_format,
        )

    def transform_images(self, images: torch.Tensor, transformation: Any = None, training: bool = True) -> Any:
        return self._warp(images, transformation if training else None, self.interpolation)

    def transform_segmentation_masks(
        self, masks: torch.Tensor, transformation: Any = None, training: bool = True
    ) -> Any:
        return self._warp(masks, transformation if training else None, "nearest")

    def _ranged(self, factor: Any, name: str, low: float, high: float, open_low: bool = False) -> tuple[float, float]:
        """Keras's rule for these layers: a number ``f`` means ``(-f, f)``; every value within the range."""
        what = (
            f"`{name}` to be a number (or a list of two numbers) in the range {'(' if open_low else '['}{low}, {high}]"
        )
        values = list(factor) if isinstance(factor, (tuple, list)) else [factor]
        bad = len(values) not in (1, 2) or (isinstance(factor, (tuple, list)) and len(values) != 2)
        for v in values:
            if isinstance(v, bool) or not isinstance(v, (int, float)) or v > high or v < low or (open_low and v == low):
                bad = True
        if bad:
            raise self._bad_arg(what, name, factor)
        if isinstance(factor, (tuple, list)):
            lower, upper = sorted(factor)
            return lower, upper
        return -abs(factor), abs(factor)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(
            {
                "fill_mode": self.fill_mode,
                "interpolation": self.interpolation,
                "seed": self.seed,
                "fill_value": self.fill_value,
                "data_format": self.data_format,
            }
        )
        return config


class RandomRotation(_AffineLayer):
    """Rotates each image by a random angle during training.

    Args:
        factor: a fraction of a full turn: ``0.1`` rotates by up to 36 degrees either way;
            ``(lower, upper)`` picks from that range (``(0.25, 0.25)`` always turns a quarter,
            counter-clockwise for positive values).
        {warp_args}

    Example:
        >>> import torch, lamina
        >>> x = torch.arange(9.0).reshape(1, 3, 3, 1)
        >>> lamina.layers.RandomRotation((0.25, 0.25))(x)[0, :, :, 0].round().tolist()
        [[2.0, 5.0, 8.0], [1.0, 4.0, 7.0], [0.0, 3.0, 6.0]]
    """

    _USE_BASE_FACTOR = True

    def __init__(
        self,
        factor: Any,
        fill_mode: str = "reflect",
        interpolation: str = "bilinear",
        seed: int | None = None,
        fill_value: float = 0.0,
        data_format: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(factor=factor, data_format=data_format, **kwargs)
        self._warp_args(fill_mode, interpolation, fill_value, seed)

    def get_random_transformation(self, images: torch.Tensor, training: bool = True, seed: Any = None) -> Any:
        if not training:
            return None
        n = images.shape[0]
        angle = self._uniform(images, (n,), self.factor[0] * 360.0, self.factor[1] * 360.0, seed)
        height, width = self._hw(images)
        zeros, ones = torch.zeros_like(angle), torch.ones_like(angle)
        matrix = self._compute_affine_matrix(0.5, 0.5, angle, zeros, zeros, ones, zeros, zeros, height, width)
        return {"angle": angle, "rotation_matrix": matrix, "image_height": height, "image_width": width}

    def _matrix(self, transformation: dict) -> torch.Tensor:
        return transformation["rotation_matrix"]

    def transform_bounding_boxes(self, bounding_boxes: dict, transformation: Any = None, training: bool = True) -> Any:
        if not training or transformation is None:
            return bounding_boxes
        height, width = transformation["image_height"], transformation["image_width"]
        angle = transformation["angle"]
        zeros, ones = torch.zeros_like(angle), torch.ones_like(angle)
        fmt = self.bounding_box_format
        boxes = converters.convert_format(bounding_boxes["boxes"], fmt, "xyxy", height, width)
        boxes = converters.affine_transform(boxes, angle, zeros, zeros, ones, zeros, zeros, height, width)
        out = converters.clip_to_image_size({**bounding_boxes, "boxes": boxes}, height, width)
        return converters.convert_format(out, "xyxy", fmt, height, width)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config["factor"] = self.factor
        return config

    def extra_repr(self) -> str:
        return f"name={self.name!r}, factor={self.factor}, fill_mode={self.fill_mode!r}, seed={self.seed}"


class RandomZoom(_AffineLayer):
    """Zooms each image in or out by a random factor during training.

    Args:
        height_factor: a fraction in ``(-1, 1]``, or ``(lower, upper)``: negative values zoom in
            (``-0.3`` shows 70% of the height), positive values zoom out.
        width_factor: the same for the width; ``None`` (default) keeps the aspect ratio.
        {warp_args}

    Example:
        >>> import torch, lamina
        >>> lamina.layers.RandomZoom(0.2, seed=1)(torch.rand(2, 8, 8, 3)).shape
        torch.Size([2, 8, 8, 3])
    """

    def __init__(
        self,
        height_factor: Any,
        width_factor: Any = None,
        fill_mode: str = "reflect",
        interpolation: str = "bilinear",
        seed: int | None = None,
        fill_value: float = 0.0,
        data_format: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(data_format=data_format, **kwargs)
        self.height_factor = height_factor
        self.height_lower, self.height_upper = self._ranged(height_factor, "height_factor", -1.0, 1.0, True)
        self.width_factor = width_factor
        if width_factor is not None:
            self.width_lower, self.width_upper = self._ranged(width_factor, "width_factor", -1.0, 1.0, True)
        self._warp_args(fill_mode, interpolation, fill_value, seed)

    def get_random_transformation(self, images: torch.Tensor, training: bool = True, seed: Any = None) -> Any:
        if not training:
            return None
        shape = (images.shape[0], 1)
        height_zoom = self._uniform(images, shape, 1.0 + self.height_lower, 1.0 + self.height_upper, seed)
        width_zoom = height_zoom
        if self.width_factor is not None:
            width_zoom = self._uniform(images, shape, 1.0 + self.width_lower, 1.0 + self.width_upper, seed)
        return {"height_zoom": height_zoom, "width_zoom": width_zoom, "input_shape": tuple(images.shape)}

    def _matrix(self, transformation: dict) -> torch.Tensor:
        zx, zy = transformation["width_zoom"].float(), transformation["height_zoom"].float()
        height, width = self._hw(transformation["input_shape"])
        zeros = torch.zeros_like(zx)
        x_offset = ((width - 1.0) / 2.0) * (1.0 - zx)
        y_offset = ((height - 1.0) / 2.0) * (1.0 - zy)
        return torch.cat([zx, zeros, x_offset, zeros, zy, y_offset, zeros, zeros], dim=1)

    def transform_bounding_boxes(self, bounding_boxes: dict, transformation: Any = None, training: bool = True) -> Any:
        if not training or transformation is None:
            return bounding_boxes
        height, width = self._hw(transformation["input_shape"])
        fmt = self.bounding_box_format
        bounding_boxes = converters.convert_format(dict(bounding_boxes), fmt, "xyxy", height, width)
        m = self._matrix(transformation)
        # The visible window in input pixels: where the output's corners (0, 0) and (width, height) read from.
        w_start, h_start = m[:, 2:3], m[:, 5:6]
        w_end, h_end = m[:, 0:1] * width + m[:, 2:3], m[:, 4:5] * height + m[:, 5:6]
        boxes = bounding_boxes["boxes"]
        x1, y1, x2, y2 = (boxes[..., i : i + 1] for i in range(4))
        w_start, h_start, w_end, h_end = (v[:, None, :] for v in (w_start, h_start, w_end, h_end))
        clip = torch.minimum
        x1 = clip(torch.maximum(x1, w_start), w_end) - w_start
        y1 = clip(torch.maximum(y1, h_start), h_end) - h_start
        x2 = clip(torch.maximum(x2, w_start), w_end) - w_start
        y2 = clip(torch.maximum(y2, h_start), h_end) - h_start
        rel = torch.cat(
            [x1 / (w_end - w_start), y1 / (h_end - h_start), x2 / (w_end - w_start), y2 / (h_end - h_start)], -1
        )
        bounding_boxes["boxes"] = rel
        bounding_boxes = converters.clip_to_image_size(bounding_boxes, bounding_box_format="rel_xyxy")
        return converters.convert_format(bounding_boxes, "rel_xyxy", fmt, height, width)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update({"height_factor": self.height_factor, "width_factor": self.width_factor})
        return config

    def extra_repr(self) -> str:
        return f"name={self.name!r}, height_factor={self.height_factor}, width_factor={self.width_factor}"


class RandomTranslation(_AffineLayer):
    """Shifts each image by a random fraction of its height and width during training.

    Args:
        height_factor: a fraction in ``[-1, 1]`` (``0.2`` shifts up or down by up to 20% of the height),
            or ``(lower, upper)``; negative values shift up.
        width_factor: the same for the width; negative values shift left.
        {warp_args}

    Example:
        >>> import torch, lamina
        >>> x = torch.arange(4.0).reshape(1, 1, 4, 1)
        >>> layer = lamina.layers.RandomTranslation(0.0, (0.25, 0.25), fill_mode="constant")
        >>> layer(x)[0, 0, :, 0].tolist()
        [0.0, 0.0, 1.0, 2.0]
    """

    def __init__(
        self,
        height_factor: Any,
        width_factor: Any,
        fill_mode: str = "reflect",
        interpolation: str = "bilinear",
        seed: int | None = None,
        fill_value: float = 0.0,
        data_format: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(data_format=data_format, **kwargs)
        self.height_factor = height_factor
        self.height_lower, self.height_upper = self._ranged(height_factor, "height_factor", -1.0, 1.0)
        self.width_factor = width_factor
        self.width_lower, self.width_upper = self._ranged(width_factor, "width_factor", -1.0, 1.0)
        self._warp_args(fill_mode, interpolation, fill_value, seed)

    def get_random_transformation(self, images: torch.Tensor, training: bool = True, seed: Any = None) -> Any:
        if not training:
            return None
        shape = (images.shape[0], 1)
        height, width = self._hw(images)
        dy = self._uniform(images, shape, self.height_lower, self.height_upper, seed) * height
        dx = self._uniform(images, shape, self.width_lower, self.width_upper, seed) * width
        return {"translations": torch.cat([dx, dy], dim=1).float(), "input_shape": tuple(images.shape)}

    def _matrix(self, transformation: dict) -> torch.Tensor:
        t = transformation["translations"]
        zeros, ones = torch.zeros_like(t[:, :1]), torch.ones_like(t[:, :1])
        return torch.cat([ones, zeros, -t[:, 0:1], zeros, ones, -t[:, 1:], zeros, zeros], dim=1)

    def transform_bounding_boxes(self, bounding_boxes: dict, transformation: Any = None, training: bool = True) -> Any:
        if not training or transformation is None:
            return bounding_boxes
        height, width = self._hw(transformation["input_shape"])
        fmt = self.bounding_box_format
        bounding_boxes = converters.convert_format(dict(bounding_boxes), fmt, "xyxy", height, width)
        t = transformation["translations"].to(bounding_boxes["boxes"].dtype)
        shift = torch.stack([t[:, 0], t[:, 1], t[:, 0], t[:, 1]], dim=-1)[:, None, :]
        bounding_boxes["boxes"] = bounding_boxes["boxes"] + shift
        bounding_boxes = converters.clip_to_image_size(bounding_boxes, height, width)
        return converters.convert_format(bounding_boxes, "xyxy", fmt, height, width)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update({"height_factor": self.height_factor, "width_factor": self.width_factor})
        return config

    def extra_repr(self) -> str:
        return f"name={self.name!r}, height_factor={self.height_factor}, width_factor={self.width_factor}"


class RandomShear(_AffineLayer):
    """Shears each image along x and y by random amounts during training.

    Args:
        x_factor: the horizontal shear, a number in ``[0, 1]`` (a shear of up to that much either way)
            or ``(lower, upper)``; the direction is picked at random.
        y_factor: the same vertically.
        interpolation: ``"bilinear"`` (default) or ``"nearest"``.
        fill_mode: ``"reflect"`` (default), ``"wrap"``, ``"constant"`` or ``"nearest"``.
        fill_value: the value outside the image with ``fill_mode="constant"``.
        data_format: ``"channels_last"`` or ``"channels_first"``; default ``image_data_format()``.
        seed: optional int, for a reproducible sequence of shears.

    Example:
        >>> import torch, lamina
        >>> lamina.layers.RandomShear(x_factor=0.3, seed=1)(torch.rand(2, 8, 8, 3)).shape
        torch.Size([2, 8, 8, 3])
    """

    def __init__(
        self,
        x_factor: Any = 0.0,
        y_factor: Any = 0.0,
        interpolation: str = "bilinear",
        fill_mode: str = "reflect",
        fill_value: float = 0.0,
        data_format: str | None = None,
        seed: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(data_format=data_format, **kwargs)
        self.x_factor = self._shear_range(x_factor, "x_factor")
        self.y_factor = self._shear_range(y_factor, "y_factor")
        # Keras writes the (lower, upper) pair into its config and then rejects its negative lower bound on
        # loading; the config here keeps the argument as given, and a pair within [-1, 1] loads too.
        self._factor_args = (x_factor, y_factor)
        self._warp_args(fill_mode, interpolation, fill_value, seed)

    def _shear_range(self, factor: Any, name: str) -> tuple[float, float]:
        if isinstance(factor, (tuple, list)):
            return self._ranged(factor, name, -1.0, 1.0)
        return self._ranged(factor, name, 0.0, 1.0)

    def get_random_transformation(self, images: torch.Tensor, training: bool = True, seed: Any = None) -> Any:
        if not training:
            return None
        shape, dtype = (images.shape[0], 1), self.compute_dtype
        invert = self._uniform(images, shape, 0, 1, seed, dtype)
        invert = torch.where(invert > 0.5, -torch.ones_like(invert), torch.ones_like(invert))
        shear_y = self._uniform(images, shape, self.y_factor[0], self.y_factor[1], seed, dtype)
        shear_x = self._uniform(images, shape, self.x_factor[0], self.x_factor[1], seed, dtype)
        return {"shear_factor": torch.cat([shear_x, shear_y], dim=1) * invert, "input_shape": tuple(images.shape)}

    def _matrix(self, transformation: dict) -> torch.Tensor:
        s = transformation["shear_factor"]
        zeros, ones = torch.zeros_like(s[:, 0]), torch.ones_like(s[:, 0])
        return torch.stack([ones, s[:, 0], zeros, s[:, 1], ones, zeros, zeros, zeros], dim=1)

    def transform_bounding_boxes(self, bounding_boxes: dict, transformation: Any = None, training: bool = True) -> Any:
        if not training or transformation is None:
            return bounding_boxes
        height, width = self._hw(transformation["input_shape"])
        fmt = self.bounding_box_format
        bounding_boxes = converters.convert_format(dict(bounding_boxes), fmt, "rel_xyxy", height, width)
        boxes = bounding_boxes["boxes"]
        sx, sy = (transformation["shear_factor"][:, i : i + 1].to(boxes.dtype) for i in range(2))
        x1, y1, x2, y2 = (boxes[..., i] for i in range(4))
        x1, x2 = torch.where(sx < 0, x1 - sx * y1, x1 - sx * y2), torch.where(sx < 0, x2 - sx * y2, x2 - sx * y1)
        y1, y2 = torch.where(sy > 0, y1 - sy * x2, y1 - sy * x1), torch.where(sy > 0, y2 - sy * x1, y2 - sy * x2)
        bounding_boxes["boxes"] = torch.stack([x1, y1, x2, y2], dim=-1)
        bounding_boxes = converters.clip_to_image_size(bounding_boxes, bounding_box_format="rel_xyxy")
        return converters.convert_format(bounding_boxes, "rel_xyxy", fmt, height, width)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update({"x_factor": self._factor_args[0], "y_factor": self._factor_args[1]})
        return config

    def extra_repr(self) -> str:
        return f"name={self.name!r}, x_factor={self.x_factor}, y_factor={self.y_factor}, seed={self.seed}"


for _cls in (RandomRotation, RandomZoom, RandomTranslation):
    _cls.__doc__ = _cls.__doc__.replace("{warp_args}", _WARP_ARGS)
del _cls
