"""VGG19 (Simonyan & Zisserman, 2014): VGG16 with four convolutions in each of the last three blocks.

Example:
    >>> from lamina.applications import vgg19
    >>> model = vgg19.VGG19(weights=None, input_shape=(32, 32, 3), include_top=False)
    >>> len(model.layers), model.count_params()
    (22, 20024384)
"""

from __future__ import annotations

from typing import Any

from lamina.applications import vgg16
from lamina.applications.vgg16 import decode_predictions, preprocess_input
from lamina.models import Model


def VGG19(
    include_top: bool = True,
    weights: Any = "imagenet",
    input_tensor: Any = None,
    input_shape: tuple | None = None,
    pooling: str | None = None,
    classes: int = 1000,
    classifier_activation: Any = "softmax",
    name: str = "vgg19",
) -> Model:
    return vgg16.build_vgg(
        "vgg19",
        (2, 2, 4, 4, 4),
        include_top,
        weights,
        input_tensor,
        input_shape,
        pooling,
        classes,
        classifier_activation,
        name,
    )


VGG19.__doc__ = vgg16.DOC.format("VGG19", "vgg19")

__all__ = ["VGG19", "decode_predictions", "preprocess_input"]
