"""EfficientNetB0 ... EfficientNetB7 (Tan & Le, 2019): compound-scaled MBConv networks.

The models take pixels in ``[0, 255]``: rescaling and normalization are their first layers, so
``preprocess_input`` is a pass-through.

Example:
    >>> from lamina.applications import efficientnet
    >>> model = efficientnet.EfficientNetB0(weights=None, input_shape=(32, 32, 3), include_top=False)
    >>> model.output_shape, [layer.name for layer in model.layers[1:3]]
    ((None, 1, 1, 1280), ['rescaling', 'normalization'])
"""

from __future__ import annotations

import copy
import math
from typing import Any

from lamina import layers
from lamina.applications import _common, imagenet_utils
from lamina.layers import KerasTensor
from lamina.models import Model

BASE_WEIGHTS_PATH = "https://storage.googleapis.com/keras-applications/"
# variant -> (md5 of the file with the top, md5 of the file without it)
WEIGHTS_HASHES = {
    "b0": ("902e53a9f72be733fc0bcb005b3ebbac", "50bc09e76180e00e4465e1a485ddc09d"),
    "b1": ("1d254153d4ab51201f1646940f018540", "74c4e6b3e1f6a1eea24c589628592432"),
    "b2": ("b15cce36ff4dcbd00b6dd88e7857a6ad", "111f8e2ac8aa800a7a99e3239f7bfb39"),
    "b3": ("ffd1fdc53d0ce67064dc6a9c7960ede0", "af6d107764bb5b1abb91932881670226"),
    "b4": ("18c95ad55216b8f92d7e70b3a046e2fc", "ebc24e6d6c33eaebbd558eafbeedf1ba"),
    "b5": ("ace28f2a6363774853a83a0b21b9421a", "38879255a25d3c92d5e44e04ae6cec6f"),
    "b6": ("165f6e37dce68623721b423839de8be5", "9ecce42647a20130c1f39a5d4cb75743"),
    "b7": ("8c03f828fec3ef71311cd463b6759d99", "cbcfe4450ddf6f3ad90b1b398090fe4a"),
}


def _stage(kernel_size: int, repeats: int, filters_in: int, filters_out: int, expand_ratio: int, strides: int) -> dict:
    return {
        "kernel_size": kernel_size,
        "repeats": repeats,
        "filters_in": filters_in,
        "filters_out": filters_out,
        "expand_ratio": expand_ratio,
        "id_skip": True,
        "strides": strides,
        "se_ratio": 0.25,
    }


DEFAULT_BLOCKS_ARGS = [
    _stage(3, 1, 32, 16, 1, 1),
    _stage(3, 2, 16, 24, 6, 2),
    _stage(5, 2, 24, 40, 6, 2),
    _stage(3, 3, 40, 80, 6, 2),
    _stage(5, 3, 80, 112, 6, 1),
    _stage(5, 4, 112, 192, 6, 2),
    _stage(3, 1, 192, 320, 6, 1),
]
CONV_KERNEL_INITIALIZER = {
    "class_name": "VarianceScaling",
    "config": {"scale": 2.0, "mode": "fan_out", "distribution": "truncated_normal"},
}
DENSE_KERNEL_INITIALIZER = {
    "class_name": "VarianceScaling",
    "config": {"scale": 1.0 / 3.0, "mode": "fan_out", "distribution": "uniform"},
}
IMAGENET_STDDEV_RGB = [0.229, 0.224, 0.225]


def weights_file(weights_name: str, include_top: bool) -> _common.WeightsFile:
    fname = f"efficientnet{weights_name}{'.h5' if include_top else '_notop.h5'}"
    return fname, BASE_WEIGHTS_PATH + fname, WEIGHTS_HASHES[weights_name][0 if include_top else 1]


def squeeze_excite(x: KerasTensor, filters: int, filters_se: int, activation: Any, name: str) -> KerasTensor:
    """Channel attention: global pool -> 1x1 reduce (``activation``) -> 1x1 expand (sigmoid) -> rescale ``x``."""
    se = layers.GlobalAveragePooling2D(name=f"{name}se_squeeze")(x)
    se_shape = (filters, 1, 1) if _common.channels_first() else (1, 1, filters)
    se = layers.Reshape(se_shape, name=f"{name}se_reshape")(se)
    se = layers.Conv2D(
        filters_se,
        1,
        padding="same",
        activation=activation,
        kernel_initializer=CONV_KERNEL_INITIALIZER,
        name=f"{name}se_reduce",
    )(se)
    se = layers.Conv2D(
        filters,
        1,
        padding="same",
        activation="sigmoid",
        kernel_initializer=CONV_KERNEL_INITIALIZER,
        name=f"{name}se_expand",
    )(se)
    return layers.multiply([x, se], name=f"{name}se_excite")


def _conv_bn(x: KerasTensor, filters: int, name: str, activation: Any = None) -> KerasTensor:
    x = layers.Conv2D(
        filters, 1, padding="same", use_bias=False, kernel_initializer=CONV_KERNEL_INITIALIZER, name=f"{name}_conv"
    )(x)
    x = layers.BatchNormalization(axis=_common.bn_axis(), name=f"{name}_bn")(x)
    return x if activation is None else layers.Activation(activation, name=f"{name}_activation")(x)


def block(
    inputs: KerasTensor,
    activation: Any = "swish",
    drop_rate: float = 0.0,
    name: str = "",
    filters_in: int = 32,
    filters_out: int = 16,
    kernel_size: int = 3,
    strides: int = 1,
    expand_ratio: int = 1,
    se_ratio: float = 0.0,
    id_skip: bool = True,
) -> KerasTensor:
    """An MBConv block: 1x1 expand -> depthwise -> squeeze-excite -> 1x1 project, with dropped residual."""
    filters = filters_in * expand_ratio
    x = inputs if expand_ratio == 1 else _conv_bn(inputs, filters, f"{name}expand", activation)
    if strides == 2:
        x = layers.ZeroPadding2D(padding=imagenet_utils.correct_pad(x, kernel_size), name=f"{name}dwconv_pad")(x)
    x = layers.DepthwiseConv2D(
        kernel_size,
        strides=strides,
        padding="valid" if strides == 2 else "same",
        use_bias=False,
        depthwise_initializer=CONV_KERNEL_INITIALIZER,
        name=f"{name}dwconv",
    )(x)
    x = layers.BatchNormalization(axis=_common.bn_axis(), name=f"{name}bn")(x)
    x = layers.Activation(activation, name=f"{name}activation")(x)
    if 0 < se_ratio <= 1:
        x = squeeze_excite(x, filters, max(1, int(filters_in * se_ratio)), activation, name)
    x = _conv_bn(x, filters_out, f"{name}project")
    if id_skip and strides == 1 and filters_in == filters_out:
        if drop_rate > 0:  # stochastic depth: the whole residual branch dropped per sample
            x = layers.Dropout(drop_rate, noise_shape=(None, 1, 1, 1), name=f"{name}drop")(x)
        x = layers.add([x, inputs], name=f"{name}add")
    return x


def _round_filters(filters: float, width_coefficient: float, divisor: int) -> int:
    filters *= width_coefficient
    new_filters = max(divisor, int(filters + divisor / 2) // divisor * divisor)
    return int(new_filters + divisor if new_filters < 0.9 * filters else new_filters)


def EfficientNet(
    width_coefficient: float,
    depth_coefficient: float,
    default_size: int,
    dropout_rate: float = 0.2,
    drop_connect_rate: float = 0.2,
    depth_divisor: int = 8,
    activation: Any = "swish",
    blocks_args: Any = "default",
    name: str = "efficientnet",
    include_top: bool = True,
    weights: Any = "imagenet",
    input_tensor: Any = None,
    input_shape: tuple | None = None,
    pooling: str | None = None,
    classes: int = 1000,
    classifier_activation: Any = "softmax",
    weights_name: str | None = None,
) -> Model:
    """An EfficientNet scaled by ``width_coefficient`` (channels) and ``depth_coefficient`` (repeats)."""
    blocks_args = copy.deepcopy(DEFAULT_BLOCKS_ARGS if blocks_args == "default" else blocks_args)
    _common.check_weights(weights, include_top, classes)
    input_shape = imagenet_utils.obtain_input_shape(
        input_shape, default_size, 32, _common.data_format(), require_flatten=include_top, weights=weights
    )
    img_input = _common.image_input(input_tensor, input_shape)
    x = layers.Rescaling(1.0 / 255.0)(img_input)
    x = layers.Normalization(axis=_common.bn_axis())(x)
    if weights == "imagenet":
        # Keras's ImageNet files hold a normalization *variance* of the std values; this completes it.
        x = layers.Rescaling([1.0 / math.sqrt(stddev) for stddev in IMAGENET_STDDEV_RGB])(x)
    x = layers.ZeroPadding2D(padding=imagenet_utils.correct_pad(x, 3), name="stem_conv_pad")(x)
    x = layers.Conv2D(
        _round_filters(32, width_coefficient, depth_divisor),
        3,
        strides=2,
        padding="valid",
        use_bias=False,
        kernel_initializer=CONV_KERNEL_INITIALIZER,
        name="stem_conv",
    )(x)
    x = layers.BatchNormalization(axis=_common.bn_axis(), name="stem_bn")(x)
    x = layers.Activation(activation, name="stem_activation")(x)
    repeats = [int(math.ceil(depth_coefficient * args["repeats"])) for args in blocks_args]
    b, total = 0, float(sum(repeats))
    for i, args in enumerate(blocks_args):
        if args["repeats"] <= 0:
            raise ValueError(
                f"The number of repeats in `EfficientNet` must be > 0. Received: repeats={args['repeats']}"
            )
        args.pop("repeats")
        args["filters_in"] = _round_filters(args["filters_in"], width_coefficient, depth_divisor)
        args["filters_out"] = _round_filters(args["filters_out"], width_coefficient, depth_divisor)
        for j in range(repeats[i]):
            if j > 0:
                args["strides"] = 1
                args["filters_in"] = args["filters_out"]
            x = block(x, activation, drop_connect_rate * b / total, name=f"block{i + 1}{chr(j + 97)}_", **args)
            b += 1
    x = _conv_bn(x, _round_filters(1280, width_coefficient, depth_divisor), "top", activation)
    if include_top:
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
        if dropout_rate > 0:
            x = layers.Dropout(dropout_rate, name="top_dropout")(x)
        x = _common.dense_classifier(
            x, classes, classifier_activation, weights, kernel_initializer=DENSE_KERNEL_INITIALIZER
        )
    else:
        x = _common.global_pool(x, pooling, named=True)
    wfile = weights_file(weights_name, include_top) if weights == "imagenet" and weights_name else None
    return _common.finish(img_input, input_tensor, x, name, weights, wfile)


def _variant(
    variant: str,
    width: float,
    depth: float,
    size: int,
    dropout: float,
    include_top: bool,
    weights: Any,
    input_tensor: Any,
    input_shape: tuple | None,
    pooling: str | None,
    classes: int,
    classifier_activation: Any,
    name: str,
) -> Model:
    return EfficientNet(
        width,
        depth,
        size,
        dropout,
        name=name,
        include_top=include_top,
        weights=weights,
        input_tensor=input_tensor,
        input_shape=input_shape,
        pooling=pooling,
        classes=classes,
        classifier_activation=classifier_activation,
        weights_name=variant,
    )


def EfficientNetB0(
    include_top: bool = True,
    weights: Any = "imagenet",
    input_tensor: Any = None,
    input_shape: tuple | None = None,
    pooling: str | None = None,
    classes: int = 1000,
    classifier_activation: Any = "softmax",
    name: str = "efficientnetb0",
) -> Model:
    args = (include_top, weights, input_tensor, input_shape, pooling, classes, classifier_activation, name)
    return _variant("b0", 1.0, 1.0, 224, 0.2, *args)


def EfficientNetB1(
    include_top: bool = True,
    weights: Any = "imagenet",
    input_tensor: Any = None,
    input_shape: tuple | None = None,
    pooling: str | None = None,
    classes: int = 1000,
    classifier_activation: Any = "softmax",
    name: str = "efficientnetb1",
) -> Model:
    args = (include_top, weights, input_tensor, input_shape, pooling, classes, classifier_activation, name)
    return _variant("b1", 1.0, 1.1, 240, 0.2, *args)


def EfficientNetB2(
    include_top: bool = True,
    weights: Any = "imagenet",
    input_tensor: Any = None,
    input_shape: tuple | None = None,
    pooling: str | None = None,
    classes: int = 1000,
    classifier_activation: Any = "softmax",
    name: str = "efficientnetb2",
) -> Model:
    args = (include_top, weights, input_tensor, input_shape, pooling, classes, classifier_activation, name)
    return _variant("b2", 1.1, 1.2, 260, 0.3, *args)


def EfficientNetB3(
    include_top: bool = True,
    weights: Any = "imagenet",
    input_tensor: Any = None,
    input_shape: tuple | None = None,
    pooling: str | None = None,
    classes: int = 1000,
    classifier_activation: Any = "softmax",
    name: str = "efficientnetb3",
) -> Model:
    args = (include_top, weights, input_tensor, input_shape, pooling, classes, classifier_activation, name)
    return _variant("b3", 1.2, 1.4, 300, 0.3, *args)


def EfficientNetB4(
    include_top: bool = True,
    weights: Any = "imagenet",
    input_tensor: Any = None,
    input_shape: tuple | None = None,
    pooling: str | None = None,
    classes: int = 1000,
    classifier_activation: Any = "softmax",
    name: str = "efficientnetb4",
) -> Model:
    args = (include_top, weights, input_tensor, input_shape, pooling, classes, classifier_activation, name)
    return _variant("b4", 1.4, 1.8, 380, 0.4, *args)


def EfficientNetB5(
    include_top: bool = True,
    weights: Any = "imagenet",
    input_tensor: Any = None,
    input_shape: tuple | None = None,
    pooling: str | None = None,
    classes: int = 1000,
    classifier_activation: Any = "softmax",
    name: str = "efficientnetb5",
) -> Model:
    args = (include_top, weights, input_tensor, input_shape, pooling, classes, classifier_activation, name)
    return _variant("b5", 1.6, 2.2, 456, 0.4, *args)


def EfficientNetB6(
    include_top: bool = True,
    weights: Any = "imagenet",
    input_tensor: Any = None,
    input_shape: tuple | None = None,
    pooling: str | None = None,
    classes: int = 1000,
    classifier_activation: Any = "softmax",
    name: str = "efficientnetb6",
) -> Model:
    args = (include_top, weights, input_tensor, input_shape, pooling, classes, classifier_activation, name)
    return _variant("b6", 1.8, 2.6, 528, 0.5, *args)


def EfficientNetB7(
    include_top: bool = True,
    weights: Any = "imagenet",
    input_tensor: Any = None,
    input_shape: tuple | None = None,
    pooling: str | None = None,
    classes: int = 1000,
    classifier_activation: Any = "softmax",
    name: str = "efficientnetb7",
) -> Model:
    args = (include_top, weights, input_tensor, input_shape, pooling, classes, classifier_activation, name)
    return _variant("b7", 2.0, 3.1, 600, 0.5, *args)


def preprocess_input(x: Any, data_format: str | None = None) -> Any:
    """A pass-through: EfficientNet models rescale and normalize their inputs themselves.

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
    "[EfficientNet: Rethinking Model Scaling for Convolutional Neural Networks](https://arxiv.org/abs/1905.11946) "
    "(ICML 2019)",
    "The model takes pixels in [0, 255] (its first layers rescale and normalize). Default input {}x{}; at least 32x32.",
)
for _fn, _size in (
    (EfficientNetB0, 224),
    (EfficientNetB1, 240),
    (EfficientNetB2, 260),
    (EfficientNetB3, 300),
    (EfficientNetB4, 380),
    (EfficientNetB5, 456),
    (EfficientNetB6, 528),
    (EfficientNetB7, 600),
):
    _fn.__doc__ = _DOC.format(_fn.__name__, _size, _size)
