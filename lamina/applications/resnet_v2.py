"""ResNet50V2, ResNet101V2 and ResNet152V2: pre-activation ResNets (He et al., 2016).

Example:
    >>> from lamina.applications import resnet_v2
    >>> model = resnet_v2.ResNet50V2(weights=None, input_shape=(32, 32, 3), include_top=False)
    >>> model.output_shape
    (None, 1, 1, 2048)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from lamina.applications import _common, imagenet_utils, resnet
from lamina.layers import KerasTensor
from lamina.models import Model


def _v2_stacks(depths: tuple[int, int, int, int]) -> Callable[[KerasTensor], KerasTensor]:
    def stack_fn(x: KerasTensor) -> KerasTensor:
        x = resnet.stack_residual_blocks_v2(x, 64, depths[0], name="conv2")
        x = resnet.stack_residual_blocks_v2(x, 128, depths[1], name="conv3")
        x = resnet.stack_residual_blocks_v2(x, 256, depths[2], name="conv4")
        return resnet.stack_residual_blocks_v2(x, 512, depths[3], stride1=1, name="conv5")

    return stack_fn


def ResNet50V2(
    include_top: bool = True,
    weights: Any = "imagenet",
    input_tensor: Any = None,
    input_shape: tuple | None = None,
    pooling: str | None = None,
    classes: int = 1000,
    classifier_activation: Any = "softmax",
    name: str = "resnet50v2",
) -> Model:
    return resnet.ResNet(
        _v2_stacks((3, 4, 6, 3)),
        True,
        True,
        include_top,
        weights,
        input_tensor,
        input_shape,
        pooling,
        classes,
        classifier_activation,
        name,
        weights_name="resnet50v2",
    )


def ResNet101V2(
    include_top: bool = True,
    weights: Any = "imagenet",
    input_tensor: Any = None,
    input_shape: tuple | None = None,
    pooling: str | None = None,
    classes: int = 1000,
    classifier_activation: Any = "softmax",
    name: str = "resnet101v2",
) -> Model:
    return resnet.ResNet(
        _v2_stacks((3, 4, 23, 3)),
        True,
        True,
        include_top,
        weights,
        input_tensor,
        input_shape,
        pooling,
        classes,
        classifier_activation,
        name,
        weights_name="resnet101v2",
    )


def ResNet152V2(
    include_top: bool = True,
    weights: Any = "imagenet",
    input_tensor: Any = None,
    input_shape: tuple | None = None,
    pooling: str | None = None,
    classes: int = 1000,
    classifier_activation: Any = "softmax",
    name: str = "resnet152v2",
) -> Model:
    return resnet.ResNet(
        _v2_stacks((3, 8, 36, 3)),
        True,
        True,
        include_top,
        weights,
        input_tensor,
        input_shape,
        pooling,
        classes,
        classifier_activation,
        name,
        weights_name="resnet152v2",
    )


def preprocess_input(x: Any, data_format: str | None = None) -> Any:
    """TF-style preprocessing: pixels scaled from ``[0, 255]`` to ``[-1, 1]``.

    Args:
        x: images with values in ``[0, 255]`` (NumPy arrays are modified in place).
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.

    Returns:
        The preprocessed images.
    """
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="tf")


def decode_predictions(preds: Any, top: int = 5) -> list[list[tuple[str, str, float]]]:
    """The ``top`` ImageNet classes of each prediction (see ``imagenet_utils.decode_predictions``)."""
    return imagenet_utils.decode_predictions(preds, top=top)


_DOC = _common.doc(
    "Instantiates the {} architecture.",
    "[Identity Mappings in Deep Residual Networks](https://arxiv.org/abs/1603.05027) (CVPR 2016)",
    "Inputs go through `lamina.applications.resnet_v2.preprocess_input` (scaled to [-1, 1]) first. "
    "Default input 224x224; at least 32x32.",
)
ResNet50V2.__doc__ = _DOC.format("ResNet50V2")
ResNet101V2.__doc__ = _DOC.format("ResNet101V2")
ResNet152V2.__doc__ = _DOC.format("ResNet152V2")
