"""Batch-mixing augmentations: ``MixUp`` and ``CutMix`` (images and, in dict inputs, labels)."""

from __future__ import annotations

from typing import Any

import torch

from lamina.layers.preprocessing.image_preprocessing.base import BaseImagePreprocessingLayer
from lamina.layers.preprocessing.image_preprocessing.blur_erase import box_masks
from lamina.random import SeedGenerator
from lamina.random.distributions import _beta, _shuffle

__all__ = ["CutMix", "MixUp"]


class MixUp(BaseImagePreprocessingLayer):
    """Blends each image (and its label) with another image of the batch during training.

    The weight of the original is drawn from ``Beta(alpha, alpha)`` per image; the partner is a
    random permutation of the batch. Pass ``{"images": x, "labels": y}`` to mix one-hot labels too.

    Args:
        alpha: the Beta distribution's concentration.
        data_format: ``"channels_last"`` or ``"channels_first"``; default ``image_data_format()``.
        seed: optional int, for a reproducible sequence of draws.

    Example:
        >>> import torch, lamina
        >>> out = lamina.layers.MixUp(seed=1)({"images": torch.rand(4, 8, 8, 3), "labels": torch.eye(4)})
        >>> [round(v, 4) for v in out["labels"].sum(-1).tolist()]
        [1.0, 1.0, 1.0, 1.0]
    """

    _USE_BASE_FACTOR = False

    def __init__(self, alpha: float = 0.2, data_format: str | None = None, seed: int | None = None, **kwargs: Any):
        super().__init__(data_format=data_format, **kwargs)
        if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or alpha <= 0:
            raise self._error("`alpha` to be a positive number", f"alpha={alpha!r}")
        self.alpha = alpha
        self.seed = seed
        self.generator = SeedGenerator(seed)

    def get_random_transformation(self, images: torch.Tensor, training: bool = True, seed: Any = None) -> Any:
        if not training:
            return None
        n, seed = images.shape[0], self._seed(seed)
        order = _shuffle(torch.arange(n, dtype=torch.int64, device=images.device), 0, seed, images.device)
        weight = _beta((n,), self.alpha, self.alpha, None, seed, images.device)
        return {"mix_weight": weight, "permutation_order": order}

    def transform_images(self, images: torch.Tensor, transformation: Any = None, training: bool = True) -> Any:
        images = self._cast(images)
        if not training or transformation is None:
            return images
        weight = transformation["mix_weight"].reshape(-1, 1, 1, 1).to(images.dtype)
        return weight * images + (1.0 - weight) * images[transformation["permutation_order"]]

    def transform_labels(self, labels: torch.Tensor, transformation: Any = None, training: bool = True) -> Any:
        if not training or transformation is None:
            return labels
        weight = transformation["mix_weight"].reshape(-1, 1)
        return weight * labels + (1.0 - weight) * labels[transformation["permutation_order"]]

    def transform_segmentation_masks(
        self, masks: torch.Tensor, transformation: Any = None, training: bool = True
    ) -> Any:
        if not training or transformation is None:
            return masks
        weight = transformation["mix_weight"].reshape(-1, 1, 1, 1)
        return weight * masks + (1.0 - weight) * masks[transformation["permutation_order"]]

    def transform_bounding_boxes(self, bounding_boxes: dict, transformation: Any = None, training: bool = True) -> Any:
        if not training or transformation is None:
            return bounding_boxes
        order = transformation["permutation_order"]
        boxes, labels = bounding_boxes["boxes"], bounding_boxes["labels"]
        return {"boxes": torch.cat([boxes, boxes[order]], dim=1), "labels": torch.cat([labels, labels[order]], dim=1)}

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update({"alpha": self.alpha, "seed": self.seed})
        return config

    def extra_repr(self) -> str:
        return f"name={self.name!r}, alpha={self.alpha}, seed={self.seed}"


class CutMix(BaseImagePreprocessingLayer):
    """Pastes a random rectangle from another image of the batch into each image during training.

    Labels in dict inputs are mixed by the pasted area.

    Args:
        factor: ``(lower, upper)`` in ``[0, 1]`` (a number ``f`` means ``(0, f)``): the Beta distribution's
            concentration is drawn from it once per batch.
        seed: optional int, for a reproducible sequence of draws.
        data_format: ``"channels_last"`` or ``"channels_first"``; default ``image_data_format()``.

    Example:
        >>> import torch, lamina
        >>> lamina.layers.CutMix(seed=1)(torch.rand(4, 8, 8, 3)).shape
        torch.Size([4, 8, 8, 3])
    """

    _USE_BASE_FACTOR = False
    _FACTOR_BOUNDS = (0, 1)

    def __init__(self, factor: Any = 1.0, seed: int | None = None, data_format: str | None = None, **kwargs: Any):
        super().__init__(data_format=data_format, **kwargs)
        self._set_factor(factor)
        self.seed = seed
        self.generator = SeedGenerator(seed)

    def _bounds(self, images: torch.Tensor, length: int, ratio: torch.Tensor, seed: Any) -> tuple:
        crop = (ratio * length).to(self._compute_td)
        start = self._uniform(images, (images.shape[0],), 0, 1, seed, self.compute_dtype) * (length - crop)
        return start, start + crop

    def get_random_transformation(self, images: torch.Tensor, training: bool = True, seed: Any = None) -> Any:
        if not training or images.shape[0] < 1:
            return None
        n, seed, dtype = images.shape[0], self._seed(seed), self.compute_dtype
        height, width = self._hw(images)
        alpha = self._uniform(images, (), self.factor[0], self.factor[1], seed, dtype) + 1e-6
        # Beta sampling has no bfloat16/float16 kernel: draw in float32 (the same numbers), then cast.
        alpha = alpha.float()
        weight = _beta((n,), alpha, alpha, None, seed, images.device).to(self._compute_td)
        ratio = torch.sqrt(1.0 - weight)
        x0, x1 = self._bounds(images, width, ratio, seed)
        y0, y1 = self._bounds(images, height, ratio, seed)
        masks = box_masks(images, self.data_format, x0, x1, y0, y1, self._compute_td)
        weight = 1.0 - (x1 - x0) * (y1 - y0) / (width * height)
        order = _shuffle(torch.arange(n, dtype=torch.int32, device=images.device), 0, seed, images.device)
        return {"permutation_order": order.long(), "batch_masks": masks, "mix_weight": weight}

    def transform_images(self, images: torch.Tensor, transformation: Any = None, training: bool = True) -> Any:
        images = self._cast(images)
        if not training or transformation is None:
            return images
        return torch.where(transformation["batch_masks"], images[transformation["permutation_order"]], images)

    def transform_labels(self, labels: torch.Tensor, transformation: Any = None, training: bool = True) -> Any:
        if not training or transformation is None:
            return labels
        weight = transformation["mix_weight"].reshape(-1, 1)
        return weight * labels + (1.0 - weight) * labels[transformation["permutation_order"]]

    def transform_segmentation_masks(
        self, masks: torch.Tensor, transformation: Any = None, training: bool = True
    ) -> Any:
        if not training or transformation is None:
            return masks
        return torch.where(transformation["batch_masks"], masks[transformation["permutation_order"]], masks)

    def transform_bounding_boxes(self, bounding_boxes: dict, transformation: Any = None, training: bool = True) -> Any:
        raise self._error("no bounding boxes (Keras's CutMix has no box transform either)", "'bounding_boxes'")

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update({"factor": self.factor, "seed": self.seed})
        return config

    def extra_repr(self) -> str:
        return f"name={self.name!r}, factor={self.factor}, seed={self.seed}"
