"""Checks and dense tensors for ``{"boxes", "labels"}`` inputs of the image layers."""

from __future__ import annotations

from typing import Any

import torch

from lamina import ops

__all__ = ["densify_bounding_boxes", "validate_bounding_boxes"]


def validate_bounding_boxes(bounding_boxes: Any) -> None:
    if not isinstance(bounding_boxes, dict) or "labels" not in bounding_boxes or "boxes" not in bounding_boxes:
        raise ValueError(
            "Expected `bounding_boxes` argument to be a dict with keys 'boxes' and 'labels'. "
            f"Received: bounding_boxes={bounding_boxes}"
        )
    boxes, labels = bounding_boxes["boxes"], bounding_boxes["labels"]
    if isinstance(boxes, list):
        if not isinstance(labels, list) or len(boxes) != len(labels):
            raise ValueError(
                "If `bounding_boxes['boxes']` is a list, `bounding_boxes['labels']` must be a list of the same "
                f"length. Received: bounding_boxes['labels']={labels}"
            )
        return
    rank, label_rank = len(ops.shape(boxes)), len(ops.shape(labels))
    if rank not in (2, 3):
        raise ValueError(
            "Expected `bounding_boxes['boxes']` to have rank 2 or 3, with shape (num_boxes, 4) or "
            f"(batch_size, num_boxes, 4). Received: bounding_boxes['boxes'].shape={tuple(ops.shape(boxes))}"
        )
    if label_rank not in (rank - 1, rank):
        raise ValueError(
            f"Found bounding_boxes['boxes'].shape={tuple(ops.shape(boxes))} and expected "
            f"bounding_boxes['labels'] to have rank {rank - 1} or {rank}, but received: "
            f"bounding_boxes['labels'].shape={tuple(ops.shape(labels))}"
        )


def densify_bounding_boxes(bounding_boxes: dict, device: torch.device | None = None) -> dict:
    """``boxes`` as float32 and ``labels`` as tensors; ragged Python lists are padded with 0 boxes and -1 labels."""
    validate_bounding_boxes(bounding_boxes)
    boxes, labels = bounding_boxes["boxes"], bounding_boxes["labels"]
    if isinstance(boxes, list) and boxes and isinstance(boxes[0], list) and boxes[0] and isinstance(boxes[0][0], list):
        longest = max(len(b) for b in boxes)
        boxes = [b + [[0, 0, 0, 0]] * (longest - len(b)) for b in boxes]
        labels = [list(lab) + [-1] * (longest - len(lab)) for lab in labels]
    out = dict(bounding_boxes)
    out["boxes"] = ops.convert_to_tensor(boxes, "float32")
    out["labels"] = ops.convert_to_tensor(labels)
    if device is not None:
        out["boxes"], out["labels"] = out["boxes"].to(device), out["labels"].to(device)
    return out
