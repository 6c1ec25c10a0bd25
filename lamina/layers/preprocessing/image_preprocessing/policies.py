"""Augmentation policies built from the other layers: ``RandAugment`` and ``AugMix``."""

from __future__ import annotations

import random as python_random
from typing import Any

import torch

from lamina.layers.preprocessing.image_preprocessing.affine import RandomRotation, RandomShear, RandomTranslation
from lamina.layers.preprocessing.image_preprocessing.base import BaseImagePreprocessingLayer
from lamina.layers.preprocessing.image_preprocessing.color_adjust import RandomBrightness, RandomContrast
from lamina.layers.preprocessing.image_preprocessing.color_effects import (
    RandomColorDegeneration,
    RandomPosterization,
    RandomSharpness,
    Solarization,
)
from lamina.layers.preprocessing.image_preprocessing.histogram import AutoContrast, Equalization
from lamina.random import SeedGenerator
from lamina.random.distributions import _beta, _gamma, _randint

__all__ = ["AugMix", "RandAugment"]

_CPU = torch.device("cpu")

_GEOMETRIC = ("random_shear", "random_translation", "random_rotation")
_TONE = ("random_posterization", "solarization", "auto_contrast", "equalization")
_COLOR = ("random_brightness", "random_color_degeneration", "random_contrast", "random_sharpness")


def _build_ops(layer: BaseImagePreprocessingLayer, names: tuple, factor: Any, value_range: Any, **common: Any) -> None:
    """Creates the sub-layers named in ``names`` on ``layer``, as Keras's policies configure them."""
    builders = {
        "random_shear": lambda: RandomShear(x_factor=factor, y_factor=factor, **common),
        "random_translation": lambda: RandomTranslation(height_factor=factor, width_factor=factor, **common),
        "random_rotation": lambda: RandomRotation(factor=factor, **common),
        "random_brightness": lambda: RandomBrightness(factor=factor, value_range=value_range, **_plain(common)),
        "random_color_degeneration": lambda: RandomColorDegeneration(factor, value_range, **_plain(common)),
        "random_contrast": lambda: RandomContrast(factor=factor, value_range=value_range, **_plain(common)),
        "random_sharpness": lambda: RandomSharpness(factor, value_range, **_plain(common)),
        "solarization": lambda: Solarization(factor, factor, value_range, **_plain(common)),
        "random_posterization": lambda: RandomPosterization(max(1, int(8 * factor[1])), value_range, **_plain(common)),
        "auto_contrast": lambda: AutoContrast(value_range=value_range, data_format=common["data_format"]),
        "equalization": lambda: Equalization(value_range=value_range, data_format=common["data_format"]),
    }
    for name in names:
        setattr(layer, name, builders[name]())


def _plain(common: dict) -> dict:
    return {k: v for k, v in common.items() if k != "interpolation"}


class RandAugment(BaseImagePreprocessingLayer):
    """Applies ``num_ops`` operations picked at random from 11 (shear, translation, rotation, brightness,
    color degeneration, contrast, sharpness, posterization, solarization, auto-contrast, equalization).

    All operations are drawn for the batch, as in Keras, but only the picked ones run (Keras runs all
    eleven for each step and selects).

    Args:
        value_range: the ``(min, max)`` of pixel values.
        num_ops: how many operations to apply in sequence.
        factor: the strength of every operation, a number in ``[0, 1]`` or ``(lower, upper)``.
        interpolation: ``"bilinear"`` (default) or ``"nearest"``, for the geometric operations.
        seed: optional int, for a reproducible sequence of picks and draws.
        data_format: ``"channels_last"`` or ``"channels_first"``; default ``image_data_format()``.

    Example:
        >>> import torch, lamina
        >>> lamina.layers.RandAugment(seed=1)(torch.rand(2, 8, 8, 3) * 255).shape
        torch.Size([2, 8, 8, 3])
    """

    _USE_BASE_FACTOR = False
    _FACTOR_BOUNDS = (0, 1)
    _AUGMENT_LAYERS = (*_GEOMETRIC, *_COLOR, *_TONE)

    def __init__(
        self,
        value_range: Any = (0, 255),
        num_ops: int = 2,
        factor: Any = 0.5,
        interpolation: str = "bilinear",
        seed: int | None = None,
        data_format: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(data_format=data_format, **kwargs)
        if isinstance(num_ops, bool) or not isinstance(num_ops, int) or num_ops < 0:
            raise self._error("`num_ops` to be a non-negative integer", f"num_ops={num_ops!r}")
        self.value_range = value_range
        self.num_ops = num_ops
        self._set_factor(factor)
        self.interpolation = self._choice_arg(interpolation, "interpolation", ("nearest", "bilinear"))
        self.seed = seed
        self.generator = SeedGenerator(seed)
        common = {"interpolation": interpolation, "seed": seed, "data_format": data_format}
        _build_ops(self, self._AUGMENT_LAYERS, self.factor, value_range, **common)

    def get_random_transformation(self, images: torch.Tensor, training: bool = True, seed: Any = None) -> Any:
        if not training:
            return None
        # The picks decide which operations run: drawn on the CPU, so no GPU value is read back.
        picks = _randint((self.num_ops,), 0, len(self._AUGMENT_LAYERS), "int32", self.generator, _CPU).tolist()
        transforms = {
            name: getattr(self, name).get_random_transformation(images, training=training, seed=self.generator)
            for name in self._AUGMENT_LAYERS
        }
        return {"transforms": transforms, "layer_idxes": picks}

    def transform_images(self, images: torch.Tensor, transformation: Any = None, training: bool = True) -> Any:
        images = self._cast(images)
        if not training or transformation is None:
            return images
        for pick in transformation["layer_idxes"]:
            name = self._AUGMENT_LAYERS[pick]
            images = self._cast(getattr(self, name).transform_images(images, transformation["transforms"][name]))
        return images

    def transform_segmentation_masks(
        self, masks: torch.Tensor, transformation: Any = None, training: bool = True
    ) -> Any:
        if not training or transformation is None:
            return masks
        for pick in transformation["layer_idxes"]:
            name = self._AUGMENT_LAYERS[pick]
            masks = getattr(self, name).transform_segmentation_masks(masks, transformation["transforms"][name])
        return masks

    def transform_bounding_boxes(self, bounding_boxes: dict, transformation: Any = None, training: bool = True) -> Any:
        if not training or transformation is None:
            return bounding_boxes
        for pick in transformation["layer_idxes"]:
            name = self._AUGMENT_LAYERS[pick]
            sub = getattr(self, name)
            if sub.bounding_box_format is None:
                sub.bounding_box_format = self.bounding_box_format
            bounding_boxes = sub.transform_bounding_boxes(dict(bounding_boxes), transformation["transforms"][name])
        return bounding_boxes

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(
            {
                "value_range": self.value_range,
                "num_ops": self.num_ops,
                "factor": self.factor,
                "interpolation": self.interpolation,
                "seed": self.seed,
            }
        )
        return config

    def extra_repr(self) -> str:
        return f"name={self.name!r}, num_ops={self.num_ops}, factor={self.factor}, seed={self.seed}"


class AugMix(BaseImagePreprocessingLayer):
    """AugMix: mixes the image with ``num_chains`` chains of up to ``chain_depth`` random operations.

    Chain weights come from a Dirichlet(``alpha``) draw and the mix with the original from a
    Beta(``alpha``, ``alpha``) draw; which operation each chain step uses is picked with Python's
    ``random`` module, as in Keras (``lamina.utils.set_random_seed`` makes it repeat).

    Args:
        value_range: the ``(min, max)`` of pixel values.
        num_chains: the number of chains.
        chain_depth: the maximum number of operations per chain.
        factor: the strength of every operation, a number in ``[0, 1]`` or ``(lower, upper)``.
        alpha: the concentration of the Dirichlet and Beta draws.
        all_ops: also use brightness, color degeneration, contrast and sharpness.
        interpolation: ``"bilinear"`` (default) or ``"nearest"``.
        seed: optional int, for a reproducible sequence of draws.
        data_format: ``"channels_last"`` or ``"channels_first"``; default ``image_data_format()``.

    Example:
        >>> import torch, lamina
        >>> lamina.layers.AugMix(seed=1)(torch.rand(2, 8, 8, 3) * 255).shape
        torch.Size([2, 8, 8, 3])
    """

    _USE_BASE_FACTOR = False
    _FACTOR_BOUNDS = (0, 1)

    def __init__(
        self,
        value_range: Any = (0, 255),
        num_chains: int = 3,
        chain_depth: int = 3,
        factor: Any = 0.3,
        alpha: float = 1.0,
        all_ops: bool = True,
        interpolation: str = "bilinear",
        seed: int | None = None,
        data_format: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(data_format=data_format, **kwargs)
        for name, value in (("num_chains", num_chains), ("chain_depth", chain_depth)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise self._error(f"`{name}` to be a positive integer", f"{name}={value!r}")
        self.value_range = value_range
        self.num_chains = num_chains
        self.chain_depth = chain_depth
        self._set_factor(factor)
        self.alpha = alpha
        self.all_ops = all_ops
        self.interpolation = self._choice_arg(interpolation, "interpolation", ("nearest", "bilinear"))
        self.seed = seed
        self.generator = SeedGenerator(seed)
        self._augment_layers = (*_GEOMETRIC, *_TONE, *(_COLOR if all_ops else ()))
        common = {"interpolation": interpolation, "seed": seed, "data_format": data_format}
        _build_ops(self, self._augment_layers, self.factor, value_range, **common)

    def get_random_transformation(self, images: torch.Tensor, training: bool = True, seed: Any = None) -> Any:
        if not training:
            return None
        gamma = _gamma((self.num_chains,), self.alpha, None, self.generator, images.device)
        chain_weights = gamma / gamma.sum(dim=-1, keepdim=True)
        weight_sample = _beta((), self.alpha, self.alpha, None, self.generator, images.device)
        chains = []
        for _ in range(self.num_chains):
            steps = []
            for _ in range(self.chain_depth):
                name = python_random.choice([*self._augment_layers, None])
                if name is not None:
                    step = getattr(self, name).get_random_transformation(images, seed=self.generator)
                    steps.append((name, step))
            chains.append(steps)
        return {"chain_mixing_weights": chain_weights, "weight_sample": weight_sample, "chain_transforms": chains}

    def transform_images(self, images: torch.Tensor, transformation: Any = None, training: bool = True) -> Any:
        images = self._cast(images)
        if not training or transformation is None:
            return images
        weights = transformation["chain_mixing_weights"].to(images.dtype)
        mixed = torch.zeros_like(images)
        for idx, steps in enumerate(transformation["chain_transforms"]):
            chain = images.clone()
            for name, step in steps:
                chain = getattr(self, name).transform_images(chain, step)
            mixed = mixed + chain * weights[idx]
        w = transformation["weight_sample"].to(images.dtype)
        images = w * images + (1 - w) * mixed
        return self._cast(torch.clip(images, self.value_range[0], self.value_range[1]))

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(
            {
                "value_range": self.value_range,
                "num_chains": self.num_chains,
                "chain_depth": self.chain_depth,
                "factor": self.factor,
                "alpha": self.alpha,
                "all_ops": self.all_ops,
                "interpolation": self.interpolation,
                "seed": self.seed,
            }
        )
        return config

    def extra_repr(self) -> str:
        return f"name={self.name!r}, num_chains={self.num_chains}, chain_depth={self.chain_depth}, seed={self.seed}"
