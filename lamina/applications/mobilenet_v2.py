"""MobileNetV2 (Sandler et al., 2018): inverted residual blocks with linear bottlenecks.

Example:
    >>> from lamina.applications import mobilenet_v2
    >>> model = mobilenet_v2.MobileNetV2(weights=None, input_shape=(96, 96, 3), alpha=0.35, include_top=False)
    >>> model.name, model.output_shape
    ('mobilenetv2_0.35_96', (None, 3, 3, 1280))
"""

from __future__ import annotations

from typing import Any

from lamina import layers
from lamina.applications import _common, imagenet_utils
from lamina.applications.mobilenet import weights_rows
from lamina.layers import KerasTensor
from lamina.models import Model

BASE_WEIGHT_PATH = "https://storage.googleapis.com/tensorflow/keras-applications/mobilenet_v2/"
_ALPHAS = (0.35, 0.50, 0.75, 1.0, 1.3, 1.4)
_SIZES = (96, 128, 160, 192, 224)
# (filters, stride, expansion) of inverted residual blocks 0..16
_BLOCKS = (
    [(16, 1, 1), (24, 2, 6), (24, 1, 6), (32, 2, 6), (32, 1, 6), (32, 1, 6)]
    + [(64, 2, 6), (64, 1, 6), (64, 1, 6), (64, 1, 6), (96, 1, 6), (96, 1, 6), (96, 1, 6)]
    + [(160, 2, 6), (160, 1, 6), (160, 1, 6), (320, 1, 6)]
)


def weights_file(alpha: float, rows: int, include_top: bool) -> _common.WeightsFile:
    """Keras publishes these without a hash."""
    fname = (
        f"mobilenet_v2_weights_tf_dim_ordering_tf_kernels_{float(alpha)}_{rows}{'' if include_top else '_no_top'}.h5"
    )
    return fname, BASE_WEIGHT_PATH + fname, None


def _make_divisible(v: float, divisor: int, min_value: int | None = None) -> int:
    """``v`` rounded to a multiple of ``divisor``, never more than 10% below ``v``."""
    min_value = divisor if min_value is None else min_value
    new_v = max(min_value, int(v + divisor / 2) // divisor * divisor)
    return new_v + divisor if new_v < 0.9 * v else new_v


def _bn(x: KerasTensor, name: str) -> KerasTensor:
    return layers.BatchNormalization(axis=_common.bn_axis(-1), epsilon=1e-3, momentum=0.999, name=name)(x)


def _inverted_res_block(
    inputs: KerasTensor, expansion: int, stride: int, alpha: float, filters: int, block_id: int
) -> KerasTensor:
    """1x1 expand (not in block 0) -> 3x3 depthwise -> 1x1 linear projection, residual when shapes allow."""
    in_channels = inputs.shape[_common.bn_axis(-1)]
    pointwise_filters = _make_divisible(int(filters * alpha), 8)
    x = inputs
    if block_id:
        prefix = f"block_{block_id}_"
        x = layers.Conv2D(
            expansion * in_channels,
            kernel_size=1,
            padding="same",
            use_bias=False,
            activation=None,
            name=f"{prefix}expand",
        )(x)
        x = layers.ReLU(6.0, name=f"{prefix}expand_relu")(_bn(x, f"{prefix}expand_BN"))
    else:
        prefix = "expanded_conv_"
    if stride == 2:
        x = layers.ZeroPadding2D(padding=imagenet_utils.correct_pad(x, 3), name=f"{prefix}pad")(x)
    x = layers.DepthwiseConv2D(
        kernel_size=3,
        strides=stride,
        activation=None,
        use_bias=False,
        padding="same" if stride == 1 else "valid",
        name=f"{prefix}depthwise",
    )(x)
    x = layers.ReLU(6.0, name=f"{prefix}depthwise_relu")(_bn(x, f"{prefix}depthwise_BN"))
    x = layers.Conv2D(
        pointwise_filters, kernel_size=1, padding="same", use_bias=False, activation=None, name=f"{prefix}project"
    )(x)
    x = _bn(x, f"{prefix}project_BN")
    if in_channels == pointwise_filters and stride == 1:
        return layers.Add(name=f"{prefix}add")([inputs, x])
    return x


def _check_input_tensor(input_tensor: Any, input_shape: tuple | None) -> None:
    if input_shape is None or input_tensor is None:
        return
    if not _common.is_keras_tensor(input_tensor):
        raise ValueError(f"input_tensor is not a Keras tensor; Received `input_tensor={input_tensor}`")
    axis = 1 if _common.channels_first() else 2  # the axes Keras compares
    if input_tensor.shape[axis] != input_shape[1]:
        raise ValueError(
            f"input_tensor.shape[{axis}] must equal input_shape[1]; "
            f"Received `input_tensor.shape={input_tensor.shape}`, `input_shape={input_shape}`"
        )


def _default_size(input_tensor: Any, input_shape: tuple | None) -> int:
    if input_shape is not None:
        rows, cols = _common.spatial(input_shape)
    elif input_tensor is not None and _common.is_keras_tensor(input_tensor):
        rows, cols = _common.spatial(input_tensor.shape[1:])
    else:
        return 224
    return rows if rows == cols and rows in _SIZES else 224


def MobileNetV2(
    input_shape: tuple | None = None,
    alpha: float = 1.0,
    include_top: bool = True,
    weights: Any = "imagenet",
    input_tensor: Any = None,
    pooling: str | None = None,
    classes: int = 1000,
    classifier_activation: Any = "softmax",
    name: str | None = None,
) -> Model:
    _common.check_weights(weights, include_top, classes)
    _check_input_tensor(input_tensor, input_shape)
    input_shape = imagenet_utils.obtain_input_shape(
        input_shape,
        _default_size(input_tensor, input_shape),
        32,
        _common.data_format(),
        require_flatten=include_top,
        weights=weights,
    )
    rows, cols = _common.spatial(input_shape)
    if weights == "imagenet":
        if alpha not in _ALPHAS:
            raise ValueError(
                "If imagenet weights are being loaded, alpha must be one of `0.35`, `0.50`, `0.75`, "
                f"`1.0`, `1.3` or `1.4` only; Received `alpha={alpha}`"
            )
        rows = weights_rows(weights, rows, cols, _SIZES)
    img_input = _common.image_input(input_tensor, input_shape)
    x = layers.Conv2D(
        _make_divisible(32 * alpha, 8), kernel_size=3, strides=(2, 2), padding="same", use_bias=False, name="Conv1"
    )(img_input)
    x = layers.ReLU(6.0, name="Conv1_relu")(_bn(x, "bn_Conv1"))
    for block_id, (filters, stride, expansion) in enumerate(_BLOCKS):
        x = _inverted_res_block(x, filters=filters, alpha=alpha, stride=stride, expansion=expansion, block_id=block_id)
    last_block_filters = _make_divisible(1280 * alpha, 8) if alpha > 1.0 else 1280
    x = layers.Conv2D(last_block_filters, kernel_size=1, use_bias=False, name="Conv_1")(x)
    x = layers.ReLU(6.0, name="out_relu")(_bn(x, "Conv_1_bn"))
    if include_top:
        x = layers.GlobalAveragePooling2D()(x)
        x = _common.dense_classifier(x, classes, classifier_activation, weights)
    else:
        x = _common.global_pool(x, pooling, named=False)
    if name is None:
        name = f"mobilenetv2_{alpha:0.2f}_{rows}"
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


MobileNetV2.__doc__ = _common.doc(
    "Instantiates the MobileNetV2 architecture.",
    "[MobileNetV2: Inverted Residuals and Linear Bottlenecks](https://arxiv.org/abs/1801.04381) (CVPR 2018)",
    "Inputs go through `lamina.applications.mobilenet_v2.preprocess_input` (scaled to [-1, 1]) first. "
    "ImageNet weights exist for alpha 0.35/0.5/0.75/1.0/1.3/1.4 at 96/128/160/192/224 pixels; at least 32x32.",
    """
    alpha: width multiplier: < 1 thins every layer, > 1 widens it.""",
)
