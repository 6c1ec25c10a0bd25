"""Shared checks and conversions of the image ops."""

from __future__ import annotations

from typing import Any

import torch

from lamina.ops.core import _t
from lamina.ops.nn import _data_format

__all__ = ["batched", "check_images", "data_format", "images_tensor", "unbatched"]

data_format = _data_format


def images_tensor(images: Any, name: str = "images") -> torch.Tensor:
    """``images`` as a tensor of rank 3 (one image) or 4 (a batch), else Keras's error."""
    x = _t(images)
    check_images(x, name)
    return x


def check_images(x: Any, name: str = "images") -> None:
    if len(x.shape) not in (3, 4):
        raise ValueError(
            f"Invalid {name} rank: expected rank 3 (single image) or rank 4 (batch of images). "
            f"Received input with shape: {name}.shape={tuple(x.shape)}"
        )


def batched(x: torch.Tensor) -> tuple[torch.Tensor, bool]:
    """``x`` with a batch axis, and whether one was added."""
    if x.ndim == 3:
        return x.unsqueeze(0), True
    return x, False


def unbatched(x: torch.Tensor, added: bool) -> torch.Tensor:
    return x.squeeze(0) if added else x
