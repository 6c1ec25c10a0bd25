"""Box overlap measures: ``compute_iou`` (pairwise IoU) and ``compute_ciou`` (complete IoU)."""

from __future__ import annotations

import math
from typing import Any

import torch

from lamina import backend, ops
from lamina.layers.preprocessing.image_preprocessing.bounding_boxes.converters import convert_format

__all__ = ["compute_ciou", "compute_iou"]


def _area(box: torch.Tensor) -> torch.Tensor:
    y_min, x_min, y_max, x_max = box[..., 0], box[..., 1], box[..., 2], box[..., 3]
    return (y_max - y_min) * (x_max - x_min)


def _intersection(boxes1: torch.Tensor, boxes2: torch.Tensor) -> torch.Tensor:
    """Pairwise intersection areas of yxyx boxes: (..., N, 4) x (..., M, 4) -> (..., N, M)."""
    lo = torch.maximum(boxes1[..., :, None, :2], boxes2[..., None, :, :2])
    hi = torch.minimum(boxes1[..., :, None, 2:4], boxes2[..., None, :, 2:4])
    size = torch.clamp(hi - lo, min=0)
    return size[..., 0] * size[..., 1]


def compute_iou(
    boxes1: Any,
    boxes2: Any,
    bounding_box_format: str,
    use_masking: bool = False,
    mask_val: float = -1,
    image_shape: Any = None,
) -> torch.Tensor:
    """The intersection over union of every box in ``boxes1`` with every box in ``boxes2``.

    Args:
        boxes1, boxes2: ``(N, 4)`` / ``(M, 4)`` boxes, or batched ``(B, N, 4)`` / ``(B, M, 4)``.
        bounding_box_format: their format (``"xyxy"``, ``"center_xywh"``, ...).
        use_masking: give ``mask_val`` to pairs where either box is padding (all coordinates < 0).
        mask_val: the value of masked pairs.
        image_shape: ``(height, width, channels)``, needed for relative formats.

    Returns:
        ``(N, M)`` (or ``(B, N, M)``) IoU values.

    Example:
        >>> from lamina.utils import bounding_boxes
        >>> iou = bounding_boxes.compute_iou([[0.0, 0.0, 2.0, 2.0]], [[1.0, 0.0, 3.0, 2.0]], "xyxy")
        >>> round(float(iou[0, 0]), 4)
        0.3333
    """
    rank1, rank2 = len(ops.shape(boxes1)), len(ops.shape(boxes2))
    for name, rank in (("boxes1", rank1), ("boxes2", rank2)):
        if rank not in (2, 3):
            raise ValueError(
                f"compute_iou() expects {name} to be batched, or to be unbatched. Received "
                f"len(boxes1.shape)={rank1}, len(boxes2.shape)={rank2}. Expected either "
                f"len({name}.shape)=2 AND or len({name}.shape)=3."
            )
    if "rel" in bounding_box_format and image_shape is None:
        raise ValueError(
            "When using relative bounding box formats (e.g. `rel_yxyx`) the `image_shape` argument must be "
            f"provided.Received `image_shape`: {image_shape}"
        )
    height, width = (None, None) if image_shape is None else tuple(image_shape)[:2]
    b1 = convert_format(boxes1, bounding_box_format, "yxyx", height, width)
    b2 = convert_format(boxes2, bounding_box_format, "yxyx", height, width).to(b1.device)
    if b1.ndim == 3 and b2.ndim == 2:
        b2 = b2.unsqueeze(0)
    intersection = _intersection(b1, b2)
    union = _area(b1)[..., :, None] + _area(b2)[..., None, :] - intersection
    result = intersection / (union + backend.epsilon())
    if not use_masking:
        return result
    mask1 = b1.amax(dim=-1) < 0.0
    mask2 = b2.amax(dim=-1) < 0.0
    background = mask1[..., :, None] | mask2[..., None, :]
    return torch.where(background, torch.tensor(mask_val, dtype=result.dtype, device=result.device), result)


def compute_ciou(boxes1: Any, boxes2: Any, bounding_box_format: str, image_shape: Any = None) -> torch.Tensor:
    """The complete IoU of matching boxes (IoU minus center-distance and aspect-ratio penalties).

    Example:
        >>> from lamina.utils import bounding_boxes
        >>> box = [[0.0, 0.0, 2.0, 2.0]]
        >>> [round(v, 4) for v in bounding_boxes.compute_ciou(box, box, "xyxy").tolist()]
        [1.0]
    """
    if "rel" in bounding_box_format:
        raise ValueError(
            "When using relative bounding box formats (e.g. `rel_yxyx`) the `image_shape` argument must be "
            f"provided.Received `image_shape`: {image_shape}"
        )
    height, width = (None, None) if image_shape is None else tuple(image_shape)[:2]
    b1 = convert_format(boxes1, bounding_box_format, "xyxy", height, width)
    b2 = convert_format(boxes2, bounding_box_format, "xyxy", height, width).to(b1.device)
    eps = backend.epsilon()
    x_min1, y_min1, x_max1, y_max1 = (b1[..., i : i + 1] for i in range(4))
    x_min2, y_min2, x_max2, y_max2 = (b2[..., i : i + 1] for i in range(4))
    width_1, height_1 = x_max1 - x_min1, y_max1 - y_min1 + eps
    width_2, height_2 = x_max2 - x_min2, y_max2 - y_min2 + eps
    inter_w = torch.clamp(torch.minimum(x_max1, x_max2) - torch.maximum(x_min1, x_min2), min=0)
    inter_h = torch.clamp(torch.minimum(y_max1, y_max2) - torch.maximum(y_min1, y_min2), min=0)
    intersection = inter_w * inter_h
    union = width_1 * height_1 + width_2 * height_2 - intersection + eps
    iou = (intersection / (union + eps)).squeeze(-1)
    convex_w = torch.maximum(x_max1, x_max2) - torch.minimum(x_min1, x_min2)
    convex_h = torch.maximum(y_max1, y_max2) - torch.minimum(y_min1, y_min2)
    diagonal = (convex_w**2 + convex_h**2 + eps).squeeze(-1)
    centers = ((x_min1 + x_max1) / 2 - (x_min2 + x_max2) / 2) ** 2 + (
        (y_min1 + y_max1) / 2 - (y_min2 + y_max2) / 2
    ) ** 2
    v = ((4 / math.pi**2) * torch.pow(torch.arctan(width_2 / height_2) - torch.arctan(width_1 / height_1), 2)).squeeze(
        -1
    )
    alpha = v / (v - iou + (1 + eps))
    return iou - (centers.squeeze(-1) / diagonal + v * alpha)
