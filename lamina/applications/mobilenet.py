"""MobileNet (Howard et al., 2017): depthwise-separable convolutions with a width multiplier ``alpha``.

Example:
    >>> from lamina.applications import mobilenet
    >>> model = mobilenet.MobileNet(weights=None, input_shape=(32, 32, 3), alpha=0.25, include_top=False)
    >>> model.name, model.output_shape
    ('mobilenet_0.25_32', (None, 1, 1, 256))
"""

from __future__ import annotations

import warnings
from typing import Any

from lamina import layers
from lamina.applications import _common, imagenet_utils
from lamina.layers import KerasTensor
from lamina.models import Model

BASE_WEIGHT_PATH = "https://storage.googleapis.com/tensorflow/keras-applications/mobilenet/"
_ALPHA_TEXT = {1.0: "1_0", 0.75: "7_5", 0.5: "5_0", 0.25: "2_5"}
_SIZES = (128, 160, 192, 224)
# (pointwise filters, stride) of the 13 depthwise-separable blocks
_BLOCKS = [(64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2)] + [(512, 1)] * 5 + [(1024, 2), (1024, 1)]


def weights_file(alpha: float, rows: int, include_top: bool) -> _common.WeightsFile:
    """Keras publishes these without a hash."""
    fname = f"mobilenet_{_ALPHA_TEXT[alpha]}_{rows}_tf{'' if include_top else '_no_top'}.h5"
    return fname, BASE_WEIGHT_PATH + fname, None


def _conv_block(inputs: KerasTensor, filters: int, alpha: float, strides: tuple[int, int]) -> KerasTensor:
    x = layers.Conv2D(int(filters * alpha), (3, 3), padding="same", use_bias=False, strides=strides, name="conv1")(
        inputs
    )
    x = layers.BatchNormalization(axis=_common.bn_axis(-1), name="conv1_bn")(x)
    return layers.ReLU(6.0, name="conv1_relu")(x)


def _depthwise_conv_block(
    inputs: KerasTensor, pointwise_filters: int, alpha: float, depth_multiplier: int, stride: int, block_id: int
) -> KerasTensor:
    """3x3 depthwise (zero-padded bottom-right when strided) -> 1x1 pointwise, each with BN and relu6."""
    x = inputs
    if stride != 1:
        x = layers.ZeroPadding2D(((0, 1), (0, 1)), name=f"conv_pad_{block_id}")(x)
    x = layers.DepthwiseConv2D(
        (3, 3),
        padding="same" if stride == 1 else "valid",
        depth_multiplier=depth_multiplier,
        strides=(stride, stride),
        use_bias=False,
        name=f"conv_dw_{block_id}",
    )(x)
    x = layers.BatchNormalization(axis=_common.bn_axis(-1), name=f"conv_dw_{block_id}_bn")(x)
    x = layers.ReLU(6.0, name=f"conv_dw_{block_id}_relu")(x)
    x = layers.Conv2D(
        int(pointwise_filters * alpha),
        (1, 1),
        padding="same",
        use_bias=False,
        strides=(1, 1),
        name=f"conv_pw_{block_id}",
    )(x)
    x = layers.BatchNormalization(axis=_common.bn_axis(-1), name=f"conv_pw_{block_id}_bn")(x)
    return layers.ReLU(6.0, name=f"conv_pw_{block_id}_relu")(x)


def _default_size(input_shape: tuple | None, sizes: tuple[int, ...]) -> int:
    """The size the ImageNet weights are looked up for: a square ``input_shape`` of a published size, else 224."""
    if input_shape is None:
        return 224
    rows, cols = _common.spatial(input_shape)
    return rows if rows == cols and rows in sizes else 224


def weights_rows(weights: Any, rows: Any, cols: Any, sizes: tuple[int, ...]) -> Any:
    """With ImageNet weights, an unpublished size falls back to the 224 files, with Keras's warning."""
    if weights == "imagenet" and (rows != cols or rows not in sizes):
        warnings.warn(
            "`input_shape` is undefined or non-square, or `rows` is not in "
            f"[{', '.join(map(str, sizes))}]. Weights for input shape (224, 224) will be loaded as the default.",
            stacklevel=3,
        )
        return 224
    return rows


def MobileNet(
    input_shape: tuple | None = None,
    alpha: float = 1.0,
    depth_multiplier: int = 1,
    dropout: float = 1e-3,
    include_top: bool = True,
    weights: Any = "imagenet",
    input_tensor: Any = None,
    pooling: str | None = None,
    classes: int = 1000,
    classifier_activation: Any = "softmax",
    name: str | None = None,
) -> Model:
    _common.check_weights(weights, include_top, classes)
    input_shape = imagenet_utils.obtain_input_shape(
        input_shape,
        _default_size(input_shape, _SIZES),
        32,
        _common.data_format(),
        require_flatten=include_top,
        weights=weights,
    )
    rows, cols = _common.spatial(input_shape)
    if weights == "imagenet":
        if depth_multiplier != 1:
            raise ValueError(
                "If imagenet weights are being loaded, depth multiplier must be 1.  "
                f"Received depth_multiplier={depth_multiplier}"
            )
        if alpha not in _ALPHA_TEXT:
            raise ValueError(
                "If imagenet weights are being loaded, alpha can be one of`0.25`, `0.50`, `0.75` or `1.0` only.  "
                f"Received alpha={alpha}"
            )
        rows = weights_rows(weights, rows, cols, _SIZES)
    img_input = _common.image_input(input_tensor, input_shape)
    x = _conv_block(img_input, 32, alpha, strides=(2, 2))
    for block_id, (filters, stride) in enumerate(_BLOCKS, start=1):
        x = _depthwise_conv_block(x, filters, alpha, depth_multiplier, stride, block_id)
    if include_top:
        x = layers.GlobalAveragePooling2D(keepdims=True)(x)
        x = layers.Dropout(dropout, name="dropout")(x)
        x = layers.Conv2D(classes, (1, 1), padding="same", name="conv_preds")(x)
        x = layers.Reshape((classes,), name="reshape_2")(x)
        imagenet_utils.validate_activation(classifier_activation, weights)
        x = layers.Activation(activation=classifier_activation, name="predictions")(x)
    else:
        x = _common.global_pool(x, pooling, named=False)
    if name is None:
        name = f"mobilenet_{alpha:0.2f}_{rows}"
    wfile = weights_file(alpha, rows, include_top) if weights == "imagenet" else None
    return _common.finish(img_input, input_tensor, x, name, weights, wfile)


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


MobileNet.__doc__ = _common.doc(
    "Instantiates the MobileNet architecture.",
    "[MobileNets: Efficient Convolutional Neural Networks for Mobile Vision Applications]"
    "(https://arxiv.org/abs/1704.04861)",
    "Inputs go through `lamina.applications.mobilenet.preprocess_input` (scaled to [-1, 1]) first. "
    "ImageNet weights exist for alpha 0.25/0.5/0.75/1.0 at 128/160/192/224 pixels; at least 32x32.",
    """
    alpha: width multiplier: < 1 thins every layer, > 1 widens it.
    depth_multiplier: depth multiplier of the depthwise convolutions.
    dropout: dropout rate before the classifier.""",
)
