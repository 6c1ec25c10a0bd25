"""``MaxNumBoundingBoxes``: pads or truncates the boxes of each image to a fixed count."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from lamina.layers.preprocessing.image_preprocessing.base import BaseImagePreprocessingLayer

__all__ = ["MaxNumBoundingBoxes"]


class MaxNumBoundingBoxes(BaseImagePreprocessingLayer):
    """Gives every image exactly ``max_number`` boxes: extra boxes are dropped, missing ones filled.

    Images pass through unchanged; the layer acts on the ``"bounding_boxes"`` of dict inputs.

    Args:
        max_number: the number of boxes per image.
        fill_value: the value of padding boxes and labels.

    Example:
        >>> import torch, lamina
        >>> data = {"images": torch.rand(2, 4, 4, 3),
        ...         "bounding_boxes": {"boxes": torch.rand(2, 1, 4), "labels": torch.tensor([[1], [2]])}}
        >>> out = lamina.layers.MaxNumBoundingBoxes(3, bounding_box_format="xyxy")(data)
        >>> out["bounding_boxes"]["boxes"].shape, out["bounding_boxes"]["labels"].tolist()
        (torch.Size([2, 3, 4]), [[1, -1, -1], [2, -1, -1]])
    """

    _USE_BASE_FACTOR = False

    def __init__(self, max_number: int, fill_value: int = -1, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if isinstance(max_number, bool) or int(max_number) < 1:
            raise self._error("`max_number` to be a positive integer", f"max_number={max_number!r}")
        self.max_number = int(max_number)
        self.fill_value = int(fill_value)

    def transform_images(self, images: torch.Tensor, transformation: Any = None, training: bool = True) -> Any:
        return self._cast(images)  # in the compute dtype, as the symbolic output says (Keras returns them as given)

    def transform_bounding_boxes(self, bounding_boxes: dict, transformation: Any = None, training: bool = True) -> Any:
        boxes, labels = bounding_boxes["boxes"], bounding_boxes["labels"]
        pad = max(self.max_number - boxes.shape[1], 0)
        boxes = F.pad(boxes[:, : self.max_number], (0, 0, 0, pad), value=self.fill_value)
        labels = F.pad(labels[:, : self.max_number], (0, pad), value=self.fill_value)
        return {**bounding_boxes, "boxes": boxes, "labels": labels}

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config["max_number"] = self.max_number
        return config

    def extra_repr(self) -> str:
        return f"name={self.name!r}, max_number={self.max_number}"
