"""Non-affine random warps: ``RandomPerspective`` and ``RandomElasticTransform``."""

from __future__ import annotations

from typing import Any

import torch

from lamina.layers.preprocessing.image_preprocessing.bounding_boxes.converters import (
    clip_to_image_size,
    convert_format,
)
from lamina.layers.preprocessing.image_preprocessing.color_adjust import _ColorLayer
from lamina.ops.image import geometry
from lamina.random import SeedGenerator
from lamina.random.distributions import _uniform

__all__ = ["RandomElasticTransform", "RandomPerspective"]

_CPU = torch.device("cpu")


class RandomPerspective(_ColorLayer):
    """Moves the four corners of each image by random amounts (with probability from ``factor``) in training.

    Args:
        factor: the probability of warping, a number in ``[0, 1]`` or ``(lower, upper)``.
        scale: in ``[0, 1]``: each corner moves by up to ``scale / 2`` of its coordinates.
        interpolation: ``"bilinear"`` (default) or ``"nearest"``.
        fill_value: the value of pixels mapped from outside the image.
        seed: optional int, for a reproducible sequence of warps.
        data_format: ``"channels_last"`` or ``"channels_first"``; default ``image_data_format()``.

    Example:
        >>> import torch, lamina
        >>> lamina.layers.RandomPerspective(seed=1)(torch.rand(2, 8, 8, 3)).shape
        torch.Size([2, 8, 8, 3])
    """

    _USE_BASE_FACTOR = False
    _FACTOR_BOUNDS = (0, 1)

    def __init__(
        self,
        factor: Any = 1.0,
        scale: float = 1.0,
        interpolation: str = "bilinear",
        fill_value: float = 0.0,
        seed: int | None = None,
        data_format: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(data_format=data_format, **kwargs)
        self._set_factor(factor)
        if isinstance(scale, bool) or not isinstance(scale, (int, float)) or scale < 0.0 or scale > 1.0:
            raise self._error("`scale` to be a number in the range [0, 1]", f"scale={scale!r}")
        self.scale = scale
        self.interpolation = self._choice_arg(interpolation, "interpolation", ("nearest", "bilinear"))
        self.fill_value = fill_value
        self.seed = seed
        self.generator = SeedGenerator(seed)

    def get_random_transformation(self, images: torch.Tensor, training: bool = True, seed: Any = None) -> Any:
        if not training:
            return None
        n, dtype = images.shape[0], self.compute_dtype
        height, width = self._hw(images)
        probability = self._uniform(images, (n,), self.factor[0], self.factor[1], seed)
        threshold = self._uniform(images, (n,), 0.0, 1.0, seed)
        moves = self._uniform(images, (n, 4, 2), -0.5 * self.scale, 0.5 * self.scale, seed, dtype)
        corners = [[0.0, 0.0], [width - 1, 0.0], [0.0, height - 1], [width - 1, height - 1]]
        start = torch.tensor([corners], dtype=self._compute_td, device=images.device).repeat(n, 1, 1)
        end = start + start * moves
        return {
            "apply_perspective": threshold < probability,
            "start_points": start,
            "end_points": end,
            "input_hw": (height, width),
        }

    def _warp(self, images: torch.Tensor, transformation: Any, interpolation: str) -> torch.Tensor:
        images = self._cast(images)
        if transformation is None:
            return images
        out = geometry.perspective_transform(
            images,
            transformation["start_points"],
            transformation["end_points"],
            interpolation=interpolation,
            fill_value=self.fill_value,
            data_format=self.data_format,
        )
        return torch.where(transformation["apply_perspective"][:, None, None, None], out, images)

    def transform_images(self, images: torch.Tensor, transformation: Any = None, training: bool = True) -> Any:
        return self._warp(images, transformation if training else None, self.interpolation)

    def transform_segmentation_masks(
        self, masks: torch.Tensor, transformation: Any = None, training: bool = True
    ) -> Any:
        return self._warp(masks, transformation if training else None, "nearest")

    def transform_bounding_boxes(self, bounding_boxes: dict, transformation: Any = None, training: bool = True) -> Any:
        if not training or transformation is None:
            return bounding_boxes
        start, end = transformation["start_points"], transformation["end_points"]
        height, width = transformation["input_hw"]
        fmt = self.bounding_box_format
        bounding_boxes = convert_format(dict(bounding_boxes), fmt, "xyxy", height, width)
        boxes = bounding_boxes["boxes"]
        h = geometry.compute_homography_matrix(start, end)
        matrix = torch.cat([h, torch.ones_like(h[:, :1])], dim=-1).reshape(-1, 3, 3).to(boxes.dtype)
        inverse = torch.linalg.inv(matrix)
        x0, y0, x1, y1 = (boxes[..., i] for i in range(4))
        xs, ys = [], []
        for x, y in ((x0, y0), (x1, y1), (x0, y1), (x1, y0)):
            points = torch.stack([x, y, torch.ones_like(x)], dim=-2)  # (N, 3, boxes)
            moved = inverse @ points
            xs.append(moved[:, 0] / moved[:, 2])
            ys.append(moved[:, 1] / moved[:, 2])
        xs, ys = torch.stack(xs, dim=-1), torch.stack(ys, dim=-1)
        moved_boxes = torch.stack([xs.amin(-1), ys.amin(-1), xs.amax(-1), ys.amax(-1)], dim=-1)
        apply = transformation["apply_perspective"][:, None, None]
        bounding_boxes["boxes"] = torch.where(apply, moved_boxes, boxes)
        bounding_boxes = clip_to_image_size(bounding_boxes, height, width)
        return convert_format(bounding_boxes, "xyxy", fmt, height, width)

    def get_config(self) -> dict[str, Any]:
        config = super(_ColorLayer, self).get_config()
        config.update(
            {
                "factor": self.factor,
                "scale": self.scale,
                "interpolation": self.interpolation,
                "fill_value": self.fill_value,
                "seed": self.seed,
            }
        )
        return config


class RandomElasticTransform(_ColorLayer):
    """Displaces the pixels of each image (with probability from ``factor``) by smooth random noise in training.

    The displacement field is Gaussian noise blurred with ``sigma = 0.05 * s * min(H, W)`` and scaled
    by ``alpha = 0.1 * s * max(H, W)``, with ``s`` drawn from ``scale`` once per batch. Keras's torch
    backend draws the noise unseeded; here it comes from the layer's seed, so results repeat.

    Args:
        factor: the probability of warping, a number in ``[0, 1]`` or ``(lower, upper)``.
        scale: the distortion strength, in ``[0, 1]`` or ``(lower, upper)``.
        interpolation: ``"bilinear"`` (default) or ``"nearest"``.
        fill_mode: ``"reflect"`` (default), ``"wrap"``, ``"constant"``, ``"nearest"`` or ``"mirror"``.
        fill_value: the value outside the image with ``fill_mode="constant"``.
        value_range: the ``(min, max)`` of pixel values; results are clipped to it.
        seed: optional int, for a reproducible sequence of warps.
        data_format: ``"channels_last"`` or ``"channels_first"``; default ``image_data_format()``.

    Example:
        >>> import torch, lamina
        >>> layer = lamina.layers.RandomElasticTransform(seed=3)
        >>> layer(torch.rand(2, 16, 16, 3) * 255).shape
        torch.Size([2, 16, 16, 3])
    """

    _USE_BASE_FACTOR = False
    _FACTOR_BOUNDS = (0, 1)
    _SORT_VALUE_RANGE = False

    def __init__(
        self,
        factor: Any = 1.0,
        scale: Any = 1.0,
        interpolation: str = "bilinear",
        fill_mode: str = "reflect",
        fill_value: float = 0.0,
        value_range: Any = (0, 255),
        seed: int | None = None,
        data_format: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(data_format=data_format, **kwargs)
        self._color_args(factor, value_range, seed)
        self.scale = self._factor_pair(scale, "scale")
        self.interpolation = self._choice_arg(interpolation, "interpolation", ("nearest", "bilinear"))
        modes = ("constant", "nearest", "wrap", "mirror", "reflect")
        self.fill_mode = self._choice_arg(fill_mode, "fill_mode", modes)
        self.fill_value = fill_value

    def get_random_transformation(self, images: torch.Tensor, training: bool = True, seed: Any = None) -> Any:
        if not training or self.scale[1] == 0 or self.factor[1] == 0:
            return None
        n, seed = images.shape[0], self._seed(seed)
        probability = self._uniform(images, (n,), self.factor[0], self.factor[1], seed)
        threshold = self._uniform(images, (n,), 0.0, 1.0, seed)
        # The strength sets the blur kernel's size, a host value: drawn on the CPU, nothing read back.
        strength = float(_uniform((), self.scale[0], self.scale[1], self.compute_dtype, seed, _CPU))
        return {"apply_transform": threshold < probability, "distortion_factor": strength, "seed": seed}

    def transform_images(self, images: torch.Tensor, transformation: Any = None, training: bool = True) -> Any:
        images = self._cast(images)
        if not training or transformation is None:
            return images
        height, width = self._hw(images)
        strength = transformation["distortion_factor"]
        alpha, sigma = max(height, width) * 0.1 * strength, min(height, width) * 0.05 * strength
        warped = geometry.elastic_transform(
            images,
            alpha=alpha,
            sigma=sigma,
            interpolation=self.interpolation,
            fill_mode=self.fill_mode,
            fill_value=self.fill_value,
            seed=transformation["seed"],
            data_format=self.data_format,
        )
        images = torch.where(transformation["apply_transform"][:, None, None, None], warped, images)
        return self._cast(self._clip(images))

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(
            {
                "scale": self.scale,
                "interpolation": self.interpolation,
                "fill_mode": self.fill_mode,
                "fill_value": self.fill_value,
            }
        )
        return config
