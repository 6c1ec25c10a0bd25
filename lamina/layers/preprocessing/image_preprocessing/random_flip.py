"""``RandomFlip``: mirrors each image of a batch with probability one half."""

from __future__ import annotations

from typing import Any

import torch

from lamina.layers.preprocessing.image_preprocessing.base import BaseImagePreprocessingLayer
from lamina.layers.preprocessing.image_preprocessing.bounding_boxes.converters import (
    clip_to_image_size,
    convert_format,
)
from lamina.random import SeedGenerator

__all__ = ["RandomFlip"]

HORIZONTAL = "horizontal"
VERTICAL = "vertical"
HORIZONTAL_AND_VERTICAL = "horizontal_and_vertical"


class RandomFlip(BaseImagePreprocessingLayer):
    """Flips images horizontally and/or vertically during training, each image with probability 0.5.

    With ``"horizontal_and_vertical"`` an image is flipped on both axes or on neither (one draw per
    image, as in Keras).

    Args:
        mode: ``"horizontal"``, ``"vertical"`` or ``"horizontal_and_vertical"``.
        seed: optional int, for a reproducible sequence of flips.
        data_format: ``"channels_last"`` or ``"channels_first"``; default ``image_data_format()``.

    Example:
        >>> import torch, lamina
        >>> x = torch.rand(4, 8, 8, 3)
        >>> layer = lamina.layers.RandomFlip("horizontal", seed=1)
        >>> y = layer(x)  # training by default when called directly, as in Keras
        >>> bool(torch.equal(layer(x, training=False), x))
        True
    """

    _USE_BASE_FACTOR = False

    def __init__(
        self,
        mode: str = HORIZONTAL_AND_VERTICAL,
        seed: int | None = None,
        data_format: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(data_format=data_format, **kwargs)
        self.mode = self._choice_arg(mode, "mode", (HORIZONTAL, VERTICAL, HORIZONTAL_AND_VERTICAL))
        self.seed = seed
        self.generator = SeedGenerator(seed)

    def get_random_transformation(self, images: torch.Tensor, training: bool = True, seed: Any = None) -> Any:
        if not training:
            return None
        flips = self._uniform(images, (images.shape[0], 1, 1, 1), 0.0, 1.0, seed) <= 0.5
        return {"flips": flips, "input_shape": tuple(images.shape)}

    def _axes(self) -> tuple[int, ...]:
        h_axis, w_axis = self._hw_axes()
        return {HORIZONTAL: (w_axis,), VERTICAL: (h_axis,), HORIZONTAL_AND_VERTICAL: (h_axis, w_axis)}[self.mode]

    def transform_images(self, images: torch.Tensor, transformation: Any = None, training: bool = True) -> Any:
        images = self._cast(images)
        if not training or transformation is None:
            return images
        # One flip of both axes equals Keras's two successive selects with the same draw.
        return torch.where(transformation["flips"], images.flip(self._axes()), images)

    def transform_segmentation_masks(
        self, masks: torch.Tensor, transformation: Any = None, training: bool = True
    ) -> Any:
        return self.transform_images(masks, transformation, training)

    def transform_bounding_boxes(self, bounding_boxes: dict, transformation: Any = None, training: bool = True) -> Any:
        if not training or transformation is None:
            return bounding_boxes
        flips = transformation["flips"].reshape(-1, 1, 1)
        height, width = self._hw(transformation["input_shape"])
        bounding_boxes = convert_format(dict(bounding_boxes), self.bounding_box_format, "rel_xyxy", height, width)
        boxes = bounding_boxes["boxes"]
        x1, y1, x2, y2 = (boxes[..., i : i + 1] for i in range(4))
        if self.mode in (HORIZONTAL, HORIZONTAL_AND_VERTICAL):
            x1, x2 = torch.where(flips, 1 - x2, x1), torch.where(flips, 1 - x1, x2)
        if self.mode in (VERTICAL, HORIZONTAL_AND_VERTICAL):
            y1, y2 = torch.where(flips, 1 - y2, y1), torch.where(flips, 1 - y1, y2)
        bounding_boxes["boxes"] = torch.cat([x1, y1, x2, y2], dim=-1)
        bounding_boxes = clip_to_image_size(bounding_boxes, height, width, "rel_xyxy")
        return convert_format(bounding_boxes, "rel_xyxy", self.bounding_box_format, height, width)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update({"seed": self.seed, "mode": self.mode, "data_format": self.data_format})
        return config

    def extra_repr(self) -> str:
        return f"name={self.name!r}, mode={self.mode!r}, seed={self.seed}"
