"""EfficientNetV2 B0-B3, S, M and L (Tan & Le, 2021): fused and depthwise MBConv stages.

The models take pixels in ``[0, 255]`` (``include_preprocessing=True`` rescales them), so
``preprocess_input`` is a pass-through.

Example:
    >>> from lamina.applications import efficientnet_v2
    >>> model = efficientnet_v2.EfficientNetV2B0(weights=None, input_shape=(32, 32, 3), include_top=False)
    >>> model.output_shape, model.layers[2].name
    ((None, 1, 1, 1280), 'normalization')
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from typing import Any

from lamina import initializers, layers
from lamina.applications import _common, imagenet_utils
from lamina.applications.efficientnet import CONV_KERNEL_INITIALIZER, DENSE_KERNEL_INITIALIZER, squeeze_excite
from lamina.layers import KerasTensor
from lamina.models import Model

BASE_WEIGHTS_PATH = "https://storage.googleapis.com/tensorflow/keras-applications/efficientnet_v2/"
# weights name -> (md5 of the file with the top, md5 of the file without it)
WEIGHTS_HASHES = {
    "b0": ("21ecbf6da12460d5c40bb2f29ceb2188", "893217f2bb855e2983157299931e43ff"),
    "b1": ("069f0534ff22adf035c89e2d9547a9dc", "0e80663031ca32d657f9caa404b6ec37"),
    "b2": ("424e49f28180edbde1e94797771950a7", "1dfe2e7a5d45b6632553a8961ea609eb"),
    "b3": ("1f1fc43bd98a6e4fd8fdfd551e02c7a0", "f6abf7b5849ac99a89b50dd3fd532856"),
    "-s": ("e1d88a8495beba45748fedd0cecbe016", "af0682fb74e8c54910f2d4393339c070"),
    "-m": ("a3bf6aa3276309f4fc6a34aa114c95cd", "1b8dc055df72dde80d614482840fe342"),
    "-l": ("27e6d408b53c7ebc868fefa357689935", "b0b66b5c863aef5b46e8608fe1711615"),
}


def _stage(k: int, n: int, f_in: int, f_out: int, expand: int, se: float, strides: int, conv_type: int) -> dict:
    """One stage; ``conv_type`` 1 = FusedMBConv, 0 = MBConv."""
    return {
        "kernel_size": k,
        "num_repeat": n,
        "input_filters": f_in,
        "output_filters": f_out,
        "expand_ratio": expand,
        "se_ratio": se,
        "strides": strides,
        "conv_type": conv_type,
    }


_B = [
    _stage(3, 1, 32, 16, 1, 0, 1, 1),
    _stage(3, 2, 16, 32, 4, 0, 2, 1),
    _stage(3, 2, 32, 48, 4, 0, 2, 1),
    _stage(3, 3, 48, 96, 4, 0.25, 2, 0),
    _stage(3, 5, 96, 112, 6, 0.25, 1, 0),
    _stage(3, 8, 112, 192, 6, 0.25, 2, 0),
]
DEFAULT_BLOCKS_ARGS = {
    "efficientnetv2-s": [
        _stage(3, 2, 24, 24, 1, 0.0, 1, 1),
        _stage(3, 4, 24, 48, 4, 0.0, 2, 1),
        _stage(3, 4, 48, 64, 4, 0, 2, 1),
        _stage(3, 6, 64, 128, 4, 0.25, 2, 0),
        _stage(3, 9, 128, 160, 6, 0.25, 1, 0),
        _stage(3, 15, 160, 256, 6, 0.25, 2, 0),
    ],
    "efficientnetv2-m": [
        _stage(3, 3, 24, 24, 1, 0, 1, 1),
        _stage(3, 5, 24, 48, 4, 0, 2, 1),
        _stage(3, 5, 48, 80, 4, 0, 2, 1),
        _stage(3, 7, 80, 160, 4, 0.25, 2, 0),
        _stage(3, 14, 160, 176, 6, 0.25, 1, 0),
        _stage(3, 18, 176, 304, 6, 0.25, 2, 0),
        _stage(3, 5, 304, 512, 6, 0.25, 1, 0),
    ],
    "efficientnetv2-l": [
        _stage(3, 4, 32, 32, 1, 0, 1, 1),
        _stage(3, 7, 32, 64, 4, 0, 2, 1),
        _stage(3, 7, 64, 96, 4, 0, 2, 1),
        _stage(3, 10, 96, 192, 4, 0.25, 2, 0),
        _stage(3, 19, 192, 224, 6, 0.25, 1, 0),
        _stage(3, 25, 224, 384, 6, 0.25, 2, 0),
        _stage(3, 7, 384, 640, 6, 0.25, 1, 0),
    ],
    **{f"efficientnetv2-b{i}": _B for i in range(4)},
}


def weights_file(weights_name: str, include_top: bool) -> _common.WeightsFile:
    model_name = "efficientnetv2" + ("" if weights_name.startswith("-") else "-") + weights_name
    fname = f"{model_name}{'.h5' if include_top else '_notop.h5'}"
    return fname, BASE_WEIGHTS_PATH + fname, WEIGHTS_HASHES[weights_name][0 if include_top else 1]


def round_filters(filters: float, width_coefficient: float, min_depth: int, depth_divisor: int) -> int:
    """``filters`` scaled by the width coefficient, rounded to a multiple of ``depth_divisor``."""
    filters *= width_coefficient
    minimum_depth = min_depth or depth_divisor
    return int(max(minimum_depth, int(filters + depth_divisor / 2) // depth_divisor * depth_divisor))


def round_repeats(repeats: int, depth_coefficient: float) -> int:
    return int(math.ceil(depth_coefficient * repeats))


def _conv(filters: int, kernel_size: int, strides: int, name: str) -> layers.Conv2D:
    return layers.Conv2D(
        filters,
        kernel_size=kernel_size,
        strides=strides,
        kernel_initializer=CONV_KERNEL_INITIALIZER,
        padding="same",
        use_bias=False,
        name=name,
    )


def _residual(x: KerasTensor, inputs: KerasTensor, survival_probability: float, name: str) -> KerasTensor:
    if survival_probability:  # Keras passes this rate as the dropout rate of the whole residual branch
        x = layers.Dropout(survival_probability, noise_shape=(None, 1, 1, 1), name=f"{name}drop")(x)
    return layers.add([x, inputs], name=f"{name}add")


def MBConvBlock(
    input_filters: int,
    output_filters: int,
    expand_ratio: int = 1,
    kernel_size: int = 3,
    strides: int = 1,
    se_ratio: float = 0.0,
    bn_momentum: float = 0.9,
    activation: Any = "swish",
    survival_probability: float = 0.8,
    name: str = "",
) -> Callable[[KerasTensor], KerasTensor]:
    """1x1 expand -> depthwise -> squeeze-excite -> 1x1 project (returns the block as a function of its input)."""

    def apply(inputs: KerasTensor) -> KerasTensor:
        filters = input_filters * expand_ratio
        x = inputs
        if expand_ratio != 1:
            x = _conv(filters, 1, 1, f"{name}expand_conv")(x)
            x = layers.BatchNormalization(axis=_common.bn_axis(), momentum=bn_momentum, name=f"{name}expand_bn")(x)
            x = layers.Activation(activation, name=f"{name}expand_activation")(x)
        x = layers.DepthwiseConv2D(
            kernel_size=kernel_size,
            strides=strides,
            depthwise_initializer=CONV_KERNEL_INITIALIZER,
            padding="same",
            use_bias=False,
            name=f"{name}dwconv2",
        )(x)
        x = layers.BatchNormalization(axis=_common.bn_axis(), momentum=bn_momentum, name=f"{name}bn")(x)
        x = layers.Activation(activation, name=f"{name}activation")(x)
        if 0 < se_ratio <= 1:
            x = squeeze_excite(x, filters, max(1, int(input_filters * se_ratio)), activation, name)
        x = _conv(output_filters, 1, 1, f"{name}project_conv")(x)
        x = layers.BatchNormalization(axis=_common.bn_axis(), momentum=bn_momentum, name=f"{name}project_bn")(x)
        if strides == 1 and input_filters == output_filters:
            x = _residual(x, inputs, survival_probability, name)
        return x

    return apply


def FusedMBConvBlock(
    input_filters: int,
    output_filters: int,
    expand_ratio: int = 1,
    kernel_size: int = 3,
    strides: int = 1,
    se_ratio: float = 0.0,
    bn_momentum: float = 0.9,
    activation: Any = "swish",
    survival_probability: float = 0.8,
    name: str = "",
) -> Callable[[KerasTensor], KerasTensor]:
    """kxk expand (one full convolution instead of 1x1 + depthwise) -> squeeze-excite -> 1x1 project."""

    def apply(inputs: KerasTensor) -> KerasTensor:
        filters = input_filters * expand_ratio
        x = inputs
        if expand_ratio != 1:
            x = _conv(filters, kernel_size, strides, f"{name}expand_conv")(x)
            x = layers.BatchNormalization(axis=_common.bn_axis(), momentum=bn_momentum, name=f"{name}expand_bn")(x)
            x = layers.Activation(activation=activation, name=f"{name}expand_activation")(x)
        if 0 < se_ratio <= 1:
            x = squeeze_excite(x, filters, max(1, int(input_filters * se_ratio)), activation, name)
        fused = expand_ratio == 1  # no expansion: the projection is the kxk (strided) convolution itself
        x = _conv(output_filters, kernel_size if fused else 1, strides if fused else 1, f"{name}project_conv")(x)
        x = layers.BatchNormalization(axis=_common.bn_axis(), momentum=bn_momentum, name=f"{name}project_bn")(x)
        if fused:
            x = layers.Activation(activation=activation, name=f"{name}project_activation")(x)
        if strides == 1 and input_filters == output_filters:
            x = _residual(x, inputs, survival_probability, name)
        return x

    return apply


def _stem(x: KerasTensor, include_preprocessing: bool, variant: str, channels: int) -> KerasTensor:
    """The B models normalize with ImageNet's mean and variance; S, M and L rescale to [-1, 1]."""
    if not include_preprocessing:
        return x
    if variant.startswith("b") and channels == 3:
        x = layers.Rescaling(scale=1.0 / 255)(x)
        return layers.Normalization(
            mean=[0.485, 0.456, 0.406], variance=[0.229**2, 0.224**2, 0.225**2], axis=_common.bn_axis()
        )(x)
    return layers.Rescaling(scale=1.0 / 128.0, offset=-1)(x)


def EfficientNetV2(
    width_coefficient: float,
    depth_coefficient: float,
    default_size: int,
    dropout_rate: float = 0.2,
    drop_connect_rate: float = 0.2,
    depth_divisor: int = 8,
    min_depth: int = 8,
    bn_momentum: float = 0.9,
    activation: Any = "swish",
    blocks_args: Any = "default",
    name: str = "efficientnetv2",
    include_top: bool = True,
    weights: Any = "imagenet",
    input_tensor: Any = None,
    input_shape: tuple | None = None,
    pooling: str | None = None,
    classes: int = 1000,
    classifier_activation: Any = "softmax",
    include_preprocessing: bool = True,
    weights_name: str | None = None,
) -> Model:
    """An EfficientNetV2 of ``blocks_args`` stages (``"default"``: the table of the model ``name``)."""
    blocks_args = copy.deepcopy(DEFAULT_BLOCKS_ARGS[name] if blocks_args == "default" else blocks_args)
    _common.check_weights(weights, include_top, classes)
    input_shape = imagenet_utils.obtain_input_shape(
        input_shape, default_size, 32, _common.data_format(), require_flatten=include_top, weights=weights
    )
    img_input = _common.image_input(input_tensor, input_shape)
    variant = weights_name.lstrip("-") if weights_name else name.split("-")[-1]
    x = _stem(img_input, include_preprocessing, variant, input_shape[_common.bn_axis() - 1])

    def filters(n: int) -> int:
        return round_filters(n, width_coefficient, min_depth, depth_divisor)

    x = _conv(filters(blocks_args[0]["input_filters"]), 3, 2, "stem_conv")(x)
    x = layers.BatchNormalization(axis=_common.bn_axis(), momentum=bn_momentum, name="stem_bn")(x)
    x = layers.Activation(activation, name="stem_activation")(x)
    b, total = 0, float(sum(args["num_repeat"] for args in blocks_args))
    for i, args in enumerate(blocks_args):
        if args["num_repeat"] <= 0:
            raise ValueError(
                f"The number of repeats in `EfficientNetV2` must be > 0. Received: num_repeat={args['num_repeat']}"
            )
        args["input_filters"] = filters(args["input_filters"])
        args["output_filters"] = filters(args["output_filters"])
        block = FusedMBConvBlock if args.pop("conv_type") else MBConvBlock
        for j in range(round_repeats(args.pop("num_repeat"), depth_coefficient)):
            if j > 0:
                args["strides"] = 1
                args["input_filters"] = args["output_filters"]
            x = block(
                activation=activation,
                bn_momentum=bn_momentum,
                survival_probability=drop_connect_rate * b / total,
                name=f"block{i + 1}{chr(j + 97)}_",
                **args,
            )(x)
            b += 1
    x = _conv(filters(1280), 1, 1, "top_conv")(x)
    x = layers.BatchNormalization(axis=_common.bn_axis(), momentum=bn_momentum, name="top_bn")(x)
    x = layers.Activation(activation=activation, name="top_activation")(x)
    if include_top:
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
        if dropout_rate > 0:
            x = layers.Dropout(dropout_rate, name="top_dropout")(x)
        x = _common.dense_classifier(
            x,
            classes,
            classifier_activation,
            weights,
            kernel_initializer=DENSE_KERNEL_INITIALIZER,
            bias_initializer=initializers.Constant(0.0),
        )
    else:
        x = _common.global_pool(x, pooling, named=True)
    wfile = weights_file(weights_name, include_top) if weights == "imagenet" and weights_name else None
    return _common.finish(img_input, input_tensor, x, name, weights, wfile)


# constructor variant -> (width, depth, default size)
_VARIANTS = {
    "b0": (1.0, 1.0, 224),
    "b1": (1.0, 1.1, 240),
    "b2": (1.1, 1.2, 260),
    "b3": (1.2, 1.4, 300),
    "-s": (1.0, 1.0, 384),
    "-m": (1.0, 1.0, 480),
    "-l": (1.0, 1.0, 480),
}


def _variant(variant: str, name: str, **kwargs: Any) -> Model:
    width, depth, size = _VARIANTS[variant]
    table = DEFAULT_BLOCKS_ARGS["efficientnetv2" + ("" if variant.startswith("-") else "-") + variant]
    return EfficientNetV2(width, depth, size, blocks_args=table, name=name, weights_name=variant, **kwargs)


def EfficientNetV2B0(
    include_top: bool = True,
    weights: Any = "imagenet",
    input_tensor: Any = None,
    input_shape: tuple | None = None,
    pooling: str | None = None,
    classes: int = 1000,
    classifier_activation: Any = "softmax",
    include_preprocessing: bool = True,
    name: str = "efficientnetv2-b0",
) -> Model:
    return _variant(
        "b0",
        name,
        include_top=include_top,
        weights=weights,
        input_tensor=input_tensor,
        input_shape=input_shape,
        pooling=pooling,
        classes=classes,
        classifier_activation=classifier_activation,
        include_preprocessing=include_preprocessing,
    )


def EfficientNetV2B1(
    include_top: bool = True,
    weights: Any = "imagenet",
    input_tensor: Any = None,
    input_shape: tuple | None = None,
    pooling: str | None = None,
    classes: int = 1000,
    classifier_activation: Any = "softmax",
    include_preprocessing: bool = True,
    name: str = "efficientnetv2-b1",
) -> Model:
    return _variant(
        "b1",
        name,
        include_top=include_top,
        weights=weights,
        input_tensor=input_tensor,
        input_shape=input_shape,
        pooling=pooling,
        classes=classes,
        classifier_activation=classifier_activation,
        include_preprocessing=include_preprocessing,
    )


def EfficientNetV2B2(
    include_top: bool = True,
    weights: Any = "imagenet",
    input_tensor: Any = None,
    input_shape: tuple | None = None,
    pooling: str | None = None,
    classes: int = 1000,
    classifier_activation: Any = "softmax",
    include_preprocessing: bool = True,
    name: str = "efficientnetv2-b2",
) -> Model:
    return _variant(
        "b2",
        name,
        include_top=include_top,
        weights=weights,
        input_tensor=input_tensor,
        input_shape=input_shape,
        pooling=pooling,
        classes=classes,
        classifier_activation=classifier_activation,
        include_preprocessing=include_preprocessing,
    )


def EfficientNetV2B3(
    include_top: bool = True,
    weights: Any = "imagenet",
    input_tensor: Any = None,
    input_shape: tuple | None = None,
    pooling: str | None = None,
    classes: int = 1000,
    classifier_activation: Any = "softmax",
    include_preprocessing: bool = True,
    name: str = "efficientnetv2-b3",
) -> Model:
    return _variant(
        "b3",
        name,
        include_top=include_top,
        weights=weights,
        input_tensor=input_tensor,
        input_shape=input_shape,
        pooling=pooling,
        classes=classes,
        classifier_activation=classifier_activation,
        include_preprocessing=include_preprocessing,
    )


def EfficientNetV2S(
    include_top: bool = True,
    weights: Any = "imagenet",
    input_tensor: Any = None,
    input_shape: tuple | None = None,
    pooling: str | None = None,
    classes: int = 1000,
    classifier_activation: Any = "softmax",
    include_preprocessing: bool = True,
    name: str = "efficientnetv2-s",
) -> Model:
    return _variant(
        "-s",
        name,
        include_top=include_top,
        weights=weights,
        input_tensor=input_tensor,
        input_shape=input_shape,
        pooling=pooling,
        classes=classes,
        classifier_activation=classifier_activation,
        include_preprocessing=include_preprocessing,
    )


def EfficientNetV2M(
    include_top: bool = True,
    weights: Any = "imagenet",
    input_tensor: Any = None,
    input_shape: tuple | None = None,
    pooling: str | None = None,
    classes: int = 1000,
    classifier_activation: Any = "softmax",
    include_preprocessing: bool = True,
    name: str = "efficientnetv2-m",
) -> Model:
    return _variant(
        "-m",
        name,
        include_top=include_top,
        weights=weights,
        input_tensor=input_tensor,
        input_shape=input_shape,
        pooling=pooling,
        classes=classes,
        classifier_activation=classifier_activation,
        include_preprocessing=include_preprocessing,
    )


def EfficientNetV2L(
    include_top: bool = True,
    weights: Any = "imagenet",
    input_tensor: Any = None,
    input_shape: tuple | None = None,
    pooling: str | None = None,
    classes: int = 1000,
    classifier_activation: Any = "softmax",
    include_preprocessing: bool = True,
    name: str = "efficientnetv2-l",
) -> Model:
    return _variant(
        "-l",
        name,
        include_top=include_top,
        weights=weights,
        input_tensor=input_tensor,
        input_shape=input_shape,
        pooling=pooling,
        classes=classes,
        classifier_activation=classifier_activation,
        include_preprocessing=include_preprocessing,
    )


def preprocess_input(x: Any, data_format: str | None = None) -> Any:
    """A pass-through: EfficientNetV2 models preprocess their inputs themselves (``include_preprocessing``).

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
    "[EfficientNetV2: Smaller Models and Faster Training](https://arxiv.org/abs/2104.00298) (ICML 2021)",
    "The model takes pixels in [0, 255] (`include_preprocessing=True` rescales them). Default input {}x{}; "
    "at least 32x32.",
    """
    include_preprocessing: start with the rescaling (and, for B0-B3, normalization) of [0, 255] pixels.""",
)
for _fn, _v in (
    (EfficientNetV2B0, "b0"),
    (EfficientNetV2B1, "b1"),
    (EfficientNetV2B2, "b2"),
    (EfficientNetV2B3, "b3"),
    (EfficientNetV2S, "-s"),
    (EfficientNetV2M, "-m"),
    (EfficientNetV2L, "-l"),
):
    _fn.__doc__ = _DOC.format(_fn.__name__, _VARIANTS[_v][2], _VARIANTS[_v][2])
