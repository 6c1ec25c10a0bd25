"""Xception (Chollet, 2017): depthwise-separable convolutions with residual connections.

Example:
    >>> from lamina.applications import xception
    >>> model = xception.Xception(weights=None, input_shape=(71, 71, 3), include_top=False, pooling="avg")
    >>> model.output_shape, len(model.layers)
    ((None, 2048), 133)
"""

from __future__ import annotations

from typing import Any

from lamina import layers
from lamina.applications import _common, imagenet_utils
from lamina.layers import KerasTensor
from lamina.models import Model

_BASE = "https://storage.googleapis.com/tensorflow/keras-applications/xception/"
WEIGHTS_HASHES = ("0a58e3b7378bc2990ea3b43d5981f1f6", "b0042744bf5b25fce3cb969f33bebb97")  # (top, no top)


def weights_file(include_top: bool) -> _common.WeightsFile:
    fname = f"xception_weights_tf_dim_ordering_tf_kernels{'' if include_top else '_notop'}.h5"
    return fname, _BASE + fname, WEIGHTS_HASHES[0 if include_top else 1]


def _sepconv_bn(x: KerasTensor, filters: int, name: str) -> KerasTensor:
    x = layers.SeparableConv2D(filters, (3, 3), padding="same", use_bias=False, name=name)(x)
    return layers.BatchNormalization(axis=_common.bn_axis(-1), name=f"{name}_bn")(x)


def _projection(x: KerasTensor, filters: int) -> KerasTensor:
    """The strided 1x1 shortcut of a downsampling block (Keras leaves these layers unnamed)."""
    shortcut = layers.Conv2D(filters, (1, 1), strides=(2, 2), padding="same", use_bias=False)(x)
    return layers.BatchNormalization(axis=_common.bn_axis(-1))(shortcut)


def _down_block(x: KerasTensor, filters: tuple[int, int], block: int, first_act: bool = True) -> KerasTensor:
    """relu -> sepconv -> relu -> sepconv -> 3x3/2 max pool, plus the projected shortcut."""
    residual = _projection(x, filters[1])
    if first_act:
        x = layers.Activation("relu", name=f"block{block}_sepconv1_act")(x)
    x = _sepconv_bn(x, filters[0], f"block{block}_sepconv1")
    x = layers.Activation("relu", name=f"block{block}_sepconv2_act")(x)
    x = _sepconv_bn(x, filters[1], f"block{block}_sepconv2")
    x = layers.MaxPooling2D((3, 3), strides=(2, 2), padding="same", name=f"block{block}_pool")(x)
    return layers.add([x, residual])


def _middle_block(x: KerasTensor, block: int) -> KerasTensor:
    residual = x
    for i in (1, 2, 3):
        x = layers.Activation("relu", name=f"block{block}_sepconv{i}_act")(x)
        x = _sepconv_bn(x, 728, f"block{block}_sepconv{i}")
    return layers.add([x, residual])


def Xception(
    include_top: bool = True,
    weights: Any = "imagenet",
    input_tensor: Any = None,
    input_shape: tuple | None = None,
    pooling: str | None = None,
    classes: int = 1000,
    classifier_activation: Any = "softmax",
    name: str = "xception",
) -> Model:
    _common.check_weights(weights, include_top, classes)
    input_shape = imagenet_utils.obtain_input_shape(
        input_shape, 299, 71, _common.data_format(), require_flatten=include_top, weights=weights
    )
    img_input = _common.image_input(input_tensor, input_shape)
    x = layers.Conv2D(32, (3, 3), strides=(2, 2), use_bias=False, name="block1_conv1")(img_input)
    x = layers.BatchNormalization(axis=_common.bn_axis(-1), name="block1_conv1_bn")(x)
    x = layers.Activation("relu", name="block1_conv1_act")(x)
    x = layers.Conv2D(64, (3, 3), use_bias=False, name="block1_conv2")(x)
    x = layers.BatchNormalization(axis=_common.bn_axis(-1), name="block1_conv2_bn")(x)
    x = layers.Activation("relu", name="block1_conv2_act")(x)
    # entry flow: block 2 starts on the stem's relu, so it has no activation of its own
    x = _down_block(x, (128, 128), 2, first_act=False)
    x = _down_block(x, (256, 256), 3)
    x = _down_block(x, (728, 728), 4)
    for block in range(5, 13):  # middle flow
        x = _middle_block(x, block)
    x = _down_block(x, (728, 1024), 13)  # exit flow
    x = _sepconv_bn(x, 1536, "block14_sepconv1")
    x = layers.Activation("relu", name="block14_sepconv1_act")(x)
    x = _sepconv_bn(x, 2048, "block14_sepconv2")
    x = layers.Activation("relu", name="block14_sepconv2_act")(x)
    if include_top:
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
        x = _common.dense_classifier(x, classes, classifier_activation, weights)
    else:
        x = _common.global_pool(x, pooling, named=False)
    return _common.finish(img_input, input_tensor, x, name, weights, weights_file(include_top))


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


Xception.__doc__ = _common.doc(
    "Instantiates the Xception architecture.",
    "[Xception: Deep Learning with Depthwise Separable Convolutions](https://arxiv.org/abs/1610.02357) (CVPR 2017)",
    "Inputs go through `lamina.applications.xception.preprocess_input` (scaled to [-1, 1]) first. "
    "Default input 299x299; at least 71x71.",
)
