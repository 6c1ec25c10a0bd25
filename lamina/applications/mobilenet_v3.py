"""MobileNetV3Small and MobileNetV3Large (Howard et al., 2019), with rescaling to [-1, 1] built in.

Example:
    >>> from lamina.applications import mobilenet_v3
    >>> model = mobilenet_v3.MobileNetV3Small(weights=None, input_shape=(32, 32, 3), include_top=False)
    >>> model.output_shape, model.layers[1].name
    ((None, 1, 1, 576), 'rescaling')
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

from lamina import layers
from lamina.applications import _common, imagenet_utils
from lamina.applications.mobilenet_v2 import _make_divisible
from lamina.layers import KerasTensor
from lamina.models import Model

BASE_WEIGHT_PATH = "https://storage.googleapis.com/tensorflow/keras-applications/mobilenet_v3/"
# model name -> (md5 of the file with the top, md5 of the file without it)
WEIGHTS_HASHES = {
    "large_224_0.75_float": ("765b44a33ad4005b3ac83185abf1d0eb", "40af19a13ebea4e2ee0c676887f69a2e"),
    "large_224_1.0_float": ("59e551e166be033d707958cf9e29a6a7", "07fb09a5933dd0c8eaafa16978110389"),
    "large_minimalistic_224_1.0_float": ("675e7b876c45c57e9e63e6d90a36599c", "ec5221f64a2f6d1ef965a614bdae7973"),
    "small_224_0.75_float": ("cb65d4e5be93758266aa0a7f2c6708b7", "ebdb5cc8e0b497cd13a7c275d475c819"),
    "small_224_1.0_float": ("8768d4c2e7dee89b9d02b2d03d65d862", "d3e8ec802a04aa4fc771ee12a9a9b836"),
    "small_minimalistic_224_1.0_float": ("99cd97fb2fcdad2bf028eb838de69e37", "cde8136e733e811080d9fcd8a252f7e4"),
}

# (expansion, filters, kernel, stride, squeeze-excite, activation); kernel None = the family kernel
# (5, or 3 when minimalistic), "se" and "act" = the family's choices, "relu" = always relu.
_Block = tuple[float, int, "int | None", int, bool, str]
_SMALL: list[_Block] = [
    (1, 16, 3, 2, True, "relu"),
    (72.0 / 16, 24, 3, 2, False, "relu"),
    (88.0 / 24, 24, 3, 1, False, "relu"),
    (4, 40, None, 2, True, "act"),
    (6, 40, None, 1, True, "act"),
    (6, 40, None, 1, True, "act"),
    (3, 48, None, 1, True, "act"),
    (3, 48, None, 1, True, "act"),
    (6, 96, None, 2, True, "act"),
    (6, 96, None, 1, True, "act"),
    (6, 96, None, 1, True, "act"),
]
_LARGE: list[_Block] = [
    (1, 16, 3, 1, False, "relu"),
    (4, 24, 3, 2, False, "relu"),
    (3, 24, 3, 1, False, "relu"),
    (3, 40, None, 2, True, "relu"),
    (3, 40, None, 1, True, "relu"),
    (3, 40, None, 1, True, "relu"),
    (6, 80, 3, 2, False, "act"),
    (2.5, 80, 3, 1, False, "act"),
    (2.3, 80, 3, 1, False, "act"),
    (2.3, 80, 3, 1, False, "act"),
    (6, 112, 3, 1, True, "act"),
    (6, 112, 3, 1, True, "act"),
    (6, 160, None, 2, True, "act"),
    (6, 160, None, 1, True, "act"),
    (6, 160, None, 1, True, "act"),
]

Activation = Callable[[KerasTensor], KerasTensor]


def weights_file(model_type: str, minimalistic: bool, alpha: float, include_top: bool) -> _common.WeightsFile:
    model_name = f"{model_type}{'_minimalistic' if minimalistic else ''}_224_{float(alpha)}_float"
    fname = f"weights_mobilenet_v3_{model_name}{'' if include_top else '_no_top_v2'}.h5"
    return fname, BASE_WEIGHT_PATH + fname, WEIGHTS_HASHES[model_name][0 if include_top else 1]


def _depth(v: float, divisor: int = 8) -> int:
    return _make_divisible(v, divisor)


def relu(x: KerasTensor) -> KerasTensor:
    return layers.ReLU()(x)


def hard_sigmoid(x: KerasTensor) -> KerasTensor:
    """relu6(x + 3) / 6, written with operators as Keras writes it (two graph operations and a ReLU layer)."""
    return layers.ReLU(6.0)(x + 3.0) * (1.0 / 6.0)


def hard_swish(x: KerasTensor) -> KerasTensor:
    return layers.Activation("hard_swish")(x)


def _bn(x: KerasTensor, name: str) -> KerasTensor:
    return layers.BatchNormalization(axis=_common.bn_axis(-1), epsilon=1e-3, momentum=0.999, name=name)(x)


def _se_block(inputs: KerasTensor, filters: int, se_ratio: float, prefix: str) -> KerasTensor:
    x = layers.GlobalAveragePooling2D(keepdims=True, name=f"{prefix}squeeze_excite_avg_pool")(inputs)
    x = layers.Conv2D(_depth(filters * se_ratio), kernel_size=1, padding="same", name=f"{prefix}squeeze_excite_conv")(x)
    x = layers.ReLU(name=f"{prefix}squeeze_excite_relu")(x)
    x = layers.Conv2D(filters, kernel_size=1, padding="same", name=f"{prefix}squeeze_excite_conv_1")(x)
    x = hard_sigmoid(x)
    return layers.Multiply(name=f"{prefix}squeeze_excite_mul")([inputs, x])


def _inverted_res_block(
    x: KerasTensor,
    expansion: float,
    filters: int,
    kernel_size: int,
    stride: int,
    se_ratio: float | None,
    activation: Activation,
    block_id: int,
) -> KerasTensor:
    shortcut = x
    prefix = "expanded_conv_"
    infilters = x.shape[_common.bn_axis(-1)]
    if block_id:
        prefix = f"expanded_conv_{block_id}_"
        x = layers.Conv2D(
            _depth(infilters * expansion), kernel_size=1, padding="same", use_bias=False, name=f"{prefix}expand"
        )(x)
        x = activation(_bn(x, f"{prefix}expand_bn"))
    if stride == 2:
        x = layers.ZeroPadding2D(padding=imagenet_utils.correct_pad(x, kernel_size), name=f"{prefix}depthwise_pad")(x)
    x = layers.DepthwiseConv2D(
        kernel_size,
        strides=stride,
        padding="same" if stride == 1 else "valid",
        use_bias=False,
        name=f"{prefix}depthwise",
    )(x)
    x = activation(_bn(x, f"{prefix}depthwise_bn"))
    if se_ratio:
        x = _se_block(x, _depth(infilters * expansion), se_ratio, prefix)
    x = layers.Conv2D(filters, kernel_size=1, padding="same", use_bias=False, name=f"{prefix}project")(x)
    x = _bn(x, f"{prefix}project_bn")
    if stride == 1 and infilters == filters:
        x = layers.Add(name=f"{prefix}add")([shortcut, x])
    return x


def _input_shape(input_shape: tuple | None, input_tensor: Any) -> tuple:
    """Keras's reading of ``input_shape`` / ``input_tensor`` (a tensor's height and width, swapped as Keras does)."""
    if input_shape is not None and input_tensor is not None:
        if not _common.is_keras_tensor(input_tensor):
            raise ValueError(f"input_tensor specified: {input_tensor} is not a keras tensor")
        axis = 1 if _common.channels_first() else 2  # the axes Keras compares
        if input_tensor.shape[axis] != input_shape[1]:
            raise ValueError(
                f"input_shape[1] must equal input_tensor.shape[{axis}].  Received input_shape={input_shape}, "
                f"input_tensor.shape={input_tensor.shape}"
            )
    if input_shape is None and input_tensor is not None and _common.is_keras_tensor(input_tensor):
        rows, cols = _common.spatial(input_tensor.shape[1:])
        input_shape = (3, cols, rows) if _common.channels_first() else (cols, rows, 3)
    if input_shape is None:
        input_shape = (3, None, None) if _common.channels_first() else (None, None, 3)
    rows, cols = _common.spatial(input_shape)
    if rows and cols and (rows < 32 or cols < 32):
        raise ValueError(f"Input size must be at least 32x32; Received `input_shape={input_shape}`")
    return tuple(input_shape)


def MobileNetV3(
    blocks: list[_Block],
    last_point_ch: int,
    input_shape: tuple | None = None,
    alpha: float = 1.0,
    model_type: str = "large",
    minimalistic: bool = False,
    include_top: bool = True,
    weights: Any = "imagenet",
    input_tensor: Any = None,
    classes: int = 1000,
    pooling: str | None = None,
    dropout_rate: float = 0.2,
    classifier_activation: Any = "softmax",
    include_preprocessing: bool = True,
    name: str | None = None,
) -> Model:
    """The MobileNetV3 body for a table of ``blocks``; ``last_point_ch`` is the width of the ``conv_2`` head."""
    _common.check_weights(weights, include_top, classes)
    input_shape = _input_shape(input_shape, input_tensor)
    rows, cols = _common.spatial(input_shape)
    if weights == "imagenet":
        if (not minimalistic and alpha not in (0.75, 1.0)) or (minimalistic and alpha != 1.0):
            raise ValueError(
                "If imagenet weights are being loaded, alpha can be one of `0.75`, `1.0` for non minimalistic "
                f"or `1.0` for minimalistic only. Received: alpha={alpha}, minimalistic={minimalistic}"
            )
        if rows != cols or rows != 224:
            warnings.warn(
                "`input_shape` is undefined or non-square, or `rows` is not 224. "
                "Weights for input shape (224, 224) will be loaded as the default.",
                stacklevel=3,
            )
    img_input = _common.image_input(input_tensor, input_shape)
    kernel, activation, se_ratio = (3, relu, None) if minimalistic else (5, hard_swish, 0.25)
    x = img_input
    if include_preprocessing:
        x = layers.Rescaling(scale=1.0 / 127.5, offset=-1.0)(x)
    x = layers.Conv2D(16, kernel_size=3, strides=(2, 2), padding="same", use_bias=False, name="conv")(x)
    x = activation(_bn(x, "conv_bn"))
    for block_id, (expansion, filters, k, stride, se, act) in enumerate(blocks):
        x = _inverted_res_block(
            x,
            expansion,
            _depth(filters * alpha),
            kernel if k is None else k,
            stride,
            se_ratio if se else None,
            relu if act == "relu" else activation,
            block_id,
        )
    last_conv_ch = _depth(x.shape[_common.bn_axis(-1)] * 6)
    if alpha > 1.0:
        last_point_ch = _depth(last_point_ch * alpha)
    x = layers.Conv2D(last_conv_ch, kernel_size=1, padding="same", use_bias=False, name="conv_1")(x)
    x = activation(_bn(x, "conv_1_bn"))
    if include_top:
        x = layers.GlobalAveragePooling2D(keepdims=True)(x)
        x = layers.Conv2D(last_point_ch, kernel_size=1, padding="same", use_bias=True, name="conv_2")(x)
        x = activation(x)
        if dropout_rate > 0:
            x = layers.Dropout(dropout_rate)(x)
        x = layers.Conv2D(classes, kernel_size=1, padding="same", name="logits")(x)
        x = layers.Flatten()(x)
        imagenet_utils.validate_activation(classifier_activation, weights)
        x = layers.Activation(activation=classifier_activation, name="predictions")(x)
    else:
        x = _common.global_pool(x, pooling, named=True)
    wfile = weights_file(model_type, minimalistic, alpha, include_top) if weights == "imagenet" else None
    return _common.finish(img_input, input_tensor, x, name, weights, wfile)


def MobileNetV3Small(
    input_shape: tuple | None = None,
    alpha: float = 1.0,
    minimalistic: bool = False,
    include_top: bool = True,
    weights: Any = "imagenet",
    input_tensor: Any = None,
    classes: int = 1000,
    pooling: str | None = None,
    dropout_rate: float = 0.2,
    classifier_activation: Any = "softmax",
    include_preprocessing: bool = True,
    name: str = "MobileNetV3Small",
) -> Model:
    return MobileNetV3(
        _SMALL,
        1024,
        input_shape,
        alpha,
        "small",
        minimalistic,
        include_top,
        weights,
        input_tensor,
        classes,
        pooling,
        dropout_rate,
        classifier_activation,
        include_preprocessing,
        name=name,
    )


def MobileNetV3Large(
    input_shape: tuple | None = None,
    alpha: float = 1.0,
    minimalistic: bool = False,
    include_top: bool = True,
    weights: Any = "imagenet",
    input_tensor: Any = None,
    classes: int = 1000,
    pooling: str | None = None,
    dropout_rate: float = 0.2,
    classifier_activation: Any = "softmax",
    include_preprocessing: bool = True,
    name: str = "MobileNetV3Large",
) -> Model:
    return MobileNetV3(
        _LARGE,
        1280,
        input_shape,
        alpha,
        "large",
        minimalistic,
        include_top,
        weights,
        input_tensor,
        classes,
        pooling,
        dropout_rate,
        classifier_activation,
        include_preprocessing,
        name=name,
    )


def preprocess_input(x: Any, data_format: str | None = None) -> Any:
    """A pass-through: MobileNetV3 models rescale their inputs themselves (``include_preprocessing=True``).

    Args:
        x: images with values in ``[0, 255]``.
        data_format: unused, kept for API compatibility.

    Returns:
        ``x`` unchanged.
    """
    return x


def decode_predictions(preds: Any, top: int = 5) -> list[list[tuple[str, str, float]]]:
    """The ``top`` ImageNet classes of each prediction (see ``imagenet_utils.decode_predictions``)."""
    return imagenet_utils.decode_predictions(preds, top=top)


_DOC = _common.doc(
    "Instantiates the {} architecture.",
    "[Searching for MobileNetV3](https://arxiv.org/pdf/1905.02244.pdf) (ICCV 2019)",
    "The model rescales pixels in [0, 255] itself (`include_preprocessing=True`). ImageNet weights exist "
    "for alpha 0.75 and 1.0 (1.0 only when minimalistic) at 224x224; any input of at least 32x32 builds.",
    """
    alpha: width multiplier: < 1 thins every layer, > 1 widens it.
    minimalistic: without squeeze-and-excite, hard-swish and 5x5 kernels (faster, for hardware without them).
    dropout_rate: dropout rate before the ``logits`` layer.
    include_preprocessing: start with a ``Rescaling`` from [0, 255] to [-1, 1].""",
)
MobileNetV3Small.__doc__ = _DOC.format("MobileNetV3Small")
MobileNetV3Large.__doc__ = _DOC.format("MobileNetV3Large")
