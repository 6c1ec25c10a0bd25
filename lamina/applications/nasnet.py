"""NASNetMobile and NASNetLarge (Zoph et al., 2018): cells found by neural architecture search.

Example:
    >>> from lamina.applications import nasnet
    >>> model = nasnet.NASNetMobile(weights=None, input_shape=(32, 32, 3), include_top=False, pooling="avg")
    >>> model.output_shape
    (None, 1056)
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from lamina import layers
from lamina.applications import _common, imagenet_utils
from lamina.layers import KerasTensor
from lamina.layers.call_context import _scope_stack
from lamina.models import Model

BASE_WEIGHTS_PATH = "https://storage.googleapis.com/tensorflow/keras-applications/nasnet/"
# default size -> {include_top: (file name, URL, md5)}
_WEIGHTS = {
    224: {
        True: ("nasnet_mobile.h5", f"{BASE_WEIGHTS_PATH}NASNet-mobile.h5", "020fb642bf7360b370c678b08e0adf61"),
        False: (
            "nasnet_mobile_no_top.h5",
            f"{BASE_WEIGHTS_PATH}NASNet-mobile-no-top.h5",
            "1ed92395b5b598bdda52abe5c0dbfd63",
        ),
    },
    331: {
        True: ("nasnet_large.h5", f"{BASE_WEIGHTS_PATH}NASNet-large.h5", "11577c9a518f0070763c2b964a382f17"),
        False: (
            "nasnet_large_no_top.h5",
            f"{BASE_WEIGHTS_PATH}NASNet-large-no-top.h5",
            "d81d89dc07e6e56530c4e77faddd61b5",
        ),
    },
}
_BN = {"axis": -1, "momentum": 0.9997, "epsilon": 1e-3}


def weights_file(default_size: int, include_top: bool) -> _common.WeightsFile:
    if default_size not in _WEIGHTS:
        raise ValueError(
            "ImageNet weights can only be loaded with NASNetLarge or NASNetMobile. "
            f"Received: default_size={default_size}"
        )
    return _WEIGHTS[default_size][include_top]


@contextlib.contextmanager
def _name_scope(name: str) -> Iterator[None]:
    """Prefixes the paths of the weights built inside, as Keras's ``backend.name_scope`` does in NASNet."""
    stack = _scope_stack()
    stack.append(name)
    try:
        yield
    finally:
        stack.pop()


def _conv_bn(x: KerasTensor, filters: int, name: str, bn_name: str) -> KerasTensor:
    x = layers.Conv2D(
        filters, (1, 1), strides=(1, 1), padding="same", name=name, use_bias=False, kernel_initializer="he_normal"
    )(x)
    return layers.BatchNormalization(**_BN, name=bn_name)(x)


def _separable_conv_block(
    ip: KerasTensor, filters: int, kernel_size: tuple[int, int] = (3, 3), strides: tuple[int, int] = (1, 1), block_id=""
) -> KerasTensor:
    """Two relu -> separable conv -> BN; the first strided (after TF-"same" zero padding) when asked."""
    with _name_scope(f"separable_conv_block_{block_id}"):
        x = layers.Activation("relu")(ip)
        if strides == (2, 2):
            x = layers.ZeroPadding2D(
                padding=imagenet_utils.correct_pad(x, kernel_size), name=f"separable_conv_1_pad_{block_id}"
            )(x)
            conv_pad = "valid"
        else:
            conv_pad = "same"
        x = layers.SeparableConv2D(
            filters, kernel_size, strides=strides, name=f"separable_conv_1_{block_id}", padding=conv_pad, use_bias=False
        )(x)
        x = layers.BatchNormalization(**_BN, name=f"separable_conv_1_bn_{block_id}")(x)
        x = layers.Activation("relu")(x)
        x = layers.SeparableConv2D(
            filters, kernel_size, name=f"separable_conv_2_{block_id}", padding="same", use_bias=False
        )(x)
        x = layers.BatchNormalization(**_BN, name=f"separable_conv_2_bn_{block_id}")(x)
    return x


def _adjust_block(p: KerasTensor | None, ip: KerasTensor, filters: int, block_id: str) -> KerasTensor:
    """Brings the previous cell's output ``p`` to the spatial size and width of ``ip``."""
    with _name_scope("adjust_block"):
        if p is None:
            return ip
        if p.shape[-2] != ip.shape[-2]:  # the previous cell was at twice the resolution: factorized reduction
            with _name_scope(f"adjust_reduction_block_{block_id}"):
                p = layers.Activation("relu", name=f"adjust_relu_1_{block_id}")(p)
                p1 = layers.AveragePooling2D(
                    (1, 1), strides=(2, 2), padding="valid", name=f"adjust_avg_pool_1_{block_id}"
                )(p)
                p1 = layers.Conv2D(
                    filters // 2,
                    (1, 1),
                    padding="same",
                    use_bias=False,
                    name=f"adjust_conv_1_{block_id}",
                    kernel_initializer="he_normal",
                )(p1)
                # the second path samples the odd pixels: shift by one, then the same strided sampling
                p2 = layers.ZeroPadding2D(padding=((0, 1), (0, 1)))(p)
                p2 = layers.Cropping2D(cropping=((1, 0), (1, 0)))(p2)
                p2 = layers.AveragePooling2D(
                    (1, 1), strides=(2, 2), padding="valid", name=f"adjust_avg_pool_2_{block_id}"
                )(p2)
                p2 = layers.Conv2D(
                    filters // 2,
                    (1, 1),
                    padding="same",
                    use_bias=False,
                    name=f"adjust_conv_2_{block_id}",
                    kernel_initializer="he_normal",
                )(p2)
                p = layers.concatenate([p1, p2], axis=-1)
                p = layers.BatchNormalization(**_BN, name=f"adjust_bn_{block_id}")(p)
        elif p.shape[-1] != filters:
            with _name_scope(f"adjust_projection_block_{block_id}"):
                p = layers.Activation("relu")(p)
                p = _conv_bn(p, filters, f"adjust_conv_projection_{block_id}", f"adjust_bn_{block_id}")
    return p


def _avg3(x: KerasTensor, name: str) -> KerasTensor:
    return layers.AveragePooling2D((3, 3), strides=(1, 1), padding="same", name=name)(x)


def _normal_a_cell(
    ip: KerasTensor, p: KerasTensor | None, filters: int, block_id: str
) -> tuple[KerasTensor, KerasTensor]:
    """A normal cell: five pairwise-added branches concatenated with the adjusted previous output."""
    with _name_scope(f"normal_A_block_{block_id}"):
        p = _adjust_block(p, ip, filters, block_id)
        h = layers.Activation("relu")(ip)
        h = _conv_bn(h, filters, f"normal_conv_1_{block_id}", f"normal_bn_1_{block_id}")
        with _name_scope("block_1"):
            x1_1 = _separable_conv_block(h, filters, kernel_size=(5, 5), block_id=f"normal_left1_{block_id}")
            x1_2 = _separable_conv_block(p, filters, block_id=f"normal_right1_{block_id}")
            x1 = layers.add([x1_1, x1_2], name=f"normal_add_1_{block_id}")
        with _name_scope("block_2"):
            x2_1 = _separable_conv_block(p, filters, (5, 5), block_id=f"normal_left2_{block_id}")
            x2_2 = _separable_conv_block(p, filters, (3, 3), block_id=f"normal_right2_{block_id}")
            x2 = layers.add([x2_1, x2_2], name=f"normal_add_2_{block_id}")
        with _name_scope("block_3"):
            x3 = layers.add([_avg3(h, f"normal_left3_{block_id}"), p], name=f"normal_add_3_{block_id}")
        with _name_scope("block_4"):
            x4_1 = _avg3(p, f"normal_left4_{block_id}")
            x4_2 = _avg3(p, f"normal_right4_{block_id}")
            x4 = layers.add([x4_1, x4_2], name=f"normal_add_4_{block_id}")
        with _name_scope("block_5"):
            x5 = _separable_conv_block(h, filters, block_id=f"normal_left5_{block_id}")
            x5 = layers.add([x5, h], name=f"normal_add_5_{block_id}")
        x = layers.concatenate([p, x1, x2, x3, x4, x5], axis=-1, name=f"normal_concat_{block_id}")
    return x, ip


def _reduction_a_cell(
    ip: KerasTensor, p: KerasTensor | None, filters: int, block_id: str
) -> tuple[KerasTensor, KerasTensor]:
    """A reduction cell: the same pattern with stride-2 branches, halving height and width."""
    with _name_scope(f"reduction_A_block_{block_id}"):
        p = _adjust_block(p, ip, filters, block_id)
        h = layers.Activation("relu")(ip)
        h = _conv_bn(h, filters, f"reduction_conv_1_{block_id}", f"reduction_bn_1_{block_id}")
        h3 = layers.ZeroPadding2D(padding=imagenet_utils.correct_pad(h, 3), name=f"reduction_pad_1_{block_id}")(h)
        with _name_scope("block_1"):
            x1_1 = _separable_conv_block(h, filters, (5, 5), strides=(2, 2), block_id=f"reduction_left1_{block_id}")
            x1_2 = _separable_conv_block(p, filters, (7, 7), strides=(2, 2), block_id=f"reduction_right1_{block_id}")
            x1 = layers.add([x1_1, x1_2], name=f"reduction_add_1_{block_id}")
        with _name_scope("block_2"):
            x2_1 = layers.MaxPooling2D((3, 3), strides=(2, 2), padding="valid", name=f"reduction_left2_{block_id}")(h3)
            x2_2 = _separable_conv_block(p, filters, (7, 7), strides=(2, 2), block_id=f"reduction_right2_{block_id}")
            x2 = layers.add([x2_1, x2_2], name=f"reduction_add_2_{block_id}")
        with _name_scope("block_3"):
            x3_1 = layers.AveragePooling2D((3, 3), strides=(2, 2), padding="valid", name=f"reduction_left3_{block_id}")(
                h3
            )
            x3_2 = _separable_conv_block(p, filters, (5, 5), strides=(2, 2), block_id=f"reduction_right3_{block_id}")
            x3 = layers.add([x3_1, x3_2], name=f"reduction_add3_{block_id}")
        with _name_scope("block_4"):
            x4 = layers.add([x2, _avg3(x1, f"reduction_left4_{block_id}")])
        with _name_scope("block_5"):
            x5_1 = _separable_conv_block(x1, filters, (3, 3), block_id=f"reduction_left4_{block_id}")
            x5_2 = layers.MaxPooling2D((3, 3), strides=(2, 2), padding="valid", name=f"reduction_right5_{block_id}")(h3)
            x5 = layers.add([x5_1, x5_2], name=f"reduction_add4_{block_id}")
        x = layers.concatenate([x2, x3, x4, x5], axis=-1, name=f"reduction_concat_{block_id}")
    return x, ip


def NASNet(
    input_shape: tuple | None = None,
    penultimate_filters: int = 4032,
    num_blocks: int = 6,
    stem_block_filters: int = 96,
    skip_reduction: bool = True,
    filter_multiplier: int = 2,
    include_top: bool = True,
    weights: Any = "imagenet",
    input_tensor: Any = None,
    pooling: str | None = None,
    classes: int = 1000,
    default_size: int | None = None,
    classifier_activation: Any = "softmax",
    name: str = "NASNet",
) -> Model:
    """A NASNet-A: a stem, then ``num_blocks`` normal cells between three reductions.

    ``penultimate_filters`` (a multiple of ``24 * filter_multiplier**2``) sets the width of the last
    cells; ``skip_reduction`` feeds each reduction's input, not its output, to the next cell.
    """
    _common.require_channels_last("NASNet")
    _common.check_weights(weights, include_top, classes)
    if isinstance(input_shape, tuple) and None in input_shape and weights == "imagenet":
        raise ValueError(
            "When specifying the input shape of a NASNet and loading `ImageNet` weights, the input_shape argument "
            f"must be static (no None entries). Got: `input_shape={input_shape}`."
        )
    default_size = 331 if default_size is None else default_size
    input_shape = imagenet_utils.obtain_input_shape(
        input_shape, default_size, 32, _common.data_format(), require_flatten=include_top, weights=weights
    )
    img_input = _common.image_input(input_tensor, input_shape)
    if penultimate_filters % (24 * (filter_multiplier**2)) != 0:
        raise ValueError(
            "For NASNet-A models, the `penultimate_filters` must be a multiple of 24 * (`filter_multiplier` ** 2). "
            f"Current value: {penultimate_filters}"
        )
    filters = penultimate_filters // 24
    x = layers.Conv2D(
        stem_block_filters,
        (3, 3),
        strides=(2, 2),
        padding="valid",
        use_bias=False,
        name="stem_conv1",
        kernel_initializer="he_normal",
    )(img_input)
    x = layers.BatchNormalization(**_BN, name="stem_bn1")(x)
    p = None
    x, p = _reduction_a_cell(x, p, filters // (filter_multiplier**2), block_id="stem_1")
    x, p = _reduction_a_cell(x, p, filters // filter_multiplier, block_id="stem_2")
    for stage in range(3):
        width = filters * filter_multiplier**stage
        if stage:
            x, p0 = _reduction_a_cell(x, p, width, block_id=f"reduce_{stage * num_blocks}")
            p = p if skip_reduction else p0
        for i in range(num_blocks):
            x, p = _normal_a_cell(x, p, width, block_id=f"{stage * num_blocks + i + bool(stage)}")
    x = layers.Activation("relu")(x)
    if include_top:
        x = layers.GlobalAveragePooling2D()(x)
        x = _common.dense_classifier(x, classes, classifier_activation, weights)
    else:
        x = _common.global_pool(x, pooling, named=False)
    wfile = weights_file(default_size, include_top) if weights == "imagenet" else None
    return _common.finish(img_input, input_tensor, x, name, weights, wfile)


def NASNetMobile(
    input_shape: tuple | None = None,
    include_top: bool = True,
    weights: Any = "imagenet",
    input_tensor: Any = None,
    pooling: str | None = None,
    classes: int = 1000,
    classifier_activation: Any = "softmax",
    name: str = "nasnet_mobile",
) -> Model:
    # Keras refuses this model on its torch backend (a guard for a bug of that backend); Lamina builds it.
    if not include_top and input_shape is None:
        input_shape = (224, 224, 3)
    return NASNet(
        input_shape,
        penultimate_filters=1056,
        num_blocks=4,
        stem_block_filters=32,
        skip_reduction=False,
        filter_multiplier=2,
        include_top=include_top,
        weights=weights,
        input_tensor=input_tensor,
        pooling=pooling,
        classes=classes,
        default_size=224,
        classifier_activation=classifier_activation,
        name=name,
    )


def NASNetLarge(
    input_shape: tuple | None = None,
    include_top: bool = True,
    weights: Any = "imagenet",
    input_tensor: Any = None,
    pooling: str | None = None,
    classes: int = 1000,
    classifier_activation: Any = "softmax",
    name: str = "nasnet_large",
) -> Model:
    return NASNet(
        input_shape,
        penultimate_filters=4032,
        num_blocks=6,
        stem_block_filters=96,
        skip_reduction=True,
        filter_multiplier=2,
        include_top=include_top,
        weights=weights,
        input_tensor=input_tensor,
        pooling=pooling,
        classes=classes,
        default_size=331,
        classifier_activation=classifier_activation,
        name=name,
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
    "[Learning Transferable Architectures for Scalable Image Recognition](https://arxiv.org/abs/1707.07012) "
    "(CVPR 2018)",
    "Inputs go through `lamina.applications.nasnet.preprocess_input` (scaled to [-1, 1]) first. "
    "Default input {}x{}; at least 32x32.",
)
NASNetMobile.__doc__ = _DOC.format("NASNetMobile", 224, 224)
NASNetLarge.__doc__ = _DOC.format("NASNetLarge", 331, 331)
