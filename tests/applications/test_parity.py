"""Keras's weights, written by real Keras in each file format, load into Lamina with equal predictions (1e-4).

The default cases are small configurations of every family's builder, so each building block
(residual v1/v2, depthwise and separable convolutions, squeeze-excite with operator nodes,
fused MBConv, LayerScale / StochasticDepth inside Sequential stages, dense blocks, NASNet cells,
inception and Inception-ResNet blocks) is checked on every run; the ``slow`` sweep runs the
full-size models of the representative set.
"""

from __future__ import annotations

import pytest

from tests.applications import parity
from tests.applications.parity import Side

S32 = (32, 32, 3)


def _s32(side: Side) -> tuple:
    """32x32 RGB in the library's current image layout."""
    return (3, 32, 32) if side.lib.backend.image_data_format() == "channels_first" else S32


def _resnet_v1_tiny(side: Side, weights):
    resnet = side.app("resnet")

    def stack_fn(x):
        x = resnet.stack_residual_blocks_v1(x, 8, 2, stride1=1, name="conv2")
        return resnet.stack_residual_blocks_v1(x, 16, 2, name="conv3")

    return resnet.ResNet(
        stack_fn, False, True, weights=weights, input_shape=_s32(side), classes=10, classifier_activation=None
    )


def _resnet_v2_tiny(side: Side, weights):
    resnet = side.app("resnet")

    def stack_fn(x):
        x = resnet.stack_residual_blocks_v2(x, 8, 2, name="conv2")  # the last block strides: 1x1 max-pool shortcut
        return resnet.stack_residual_blocks_v2(x, 16, 2, stride1=1, name="conv3")

    return resnet.ResNet(
        stack_fn, True, True, weights=weights, input_shape=_s32(side), include_top=False, pooling="avg"
    )


def _efficientnet_v2_tiny(side: Side, weights):
    stage = dict(kernel_size=3, num_repeat=2, se_ratio=0.0, conv_type=1)
    blocks = [
        {**stage, "input_filters": 16, "output_filters": 16, "expand_ratio": 1, "strides": 1},
        {**stage, "input_filters": 16, "output_filters": 24, "expand_ratio": 4, "strides": 2, "se_ratio": 0.25},
        {**stage, "input_filters": 24, "output_filters": 32, "expand_ratio": 4, "strides": 2, "conv_type": 0,
         "se_ratio": 0.25},
    ]  # fmt: skip
    return side.app("efficientnet_v2").EfficientNetV2(
        0.5, 1.0, 32, blocks_args=blocks, name="efficientnetv2-b0", input_shape=_s32(side), weights=weights, classes=10
    )


def _inception_blocks(side: Side, weights):
    """Inception v3's conv2d_bn and the three Inception-ResNet blocks (with CustomScaleLayer) in one small graph."""
    v3, irv2 = side.app("inception_v3"), side.app("inception_resnet_v2")
    first = side.lib.backend.image_data_format() == "channels_first"
    inputs = side.lib.Input(shape=(3, 9, 9) if first else (9, 9, 3))
    x = v3.conv2d_bn(inputs, 16, 3, 3, name="stem")
    x = v3.conv2d_bn(x, 24, 1, 3)
    for i, block in enumerate(("block35", "block17", "block8")):
        x = irv2.inception_resnet_block(x, scale=0.2, block_type=block, block_idx=i)
    x = irv2.inception_resnet_block(x, scale=1.0, activation=None, block_type="block8", block_idx=9)
    x = side.lib.layers.GlobalAveragePooling2D()(x)
    model = side.lib.Model(inputs, x, name="inception_blocks")
    if weights is not None:
        model.load_weights(weights)
    return model


def _nasnet_cells(side: Side, weights):
    """A reduction cell, then normal cells whose previous input needs the factorized reduction and the projection."""
    nasnet = side.app("nasnet")
    inputs = side.lib.Input(shape=(16, 16, 8))
    x, p = nasnet._reduction_a_cell(inputs, None, 4, block_id="r")
    x, p = nasnet._normal_a_cell(x, p, 4, block_id="n1")  # p is at twice the resolution: adjust_reduction
    x, p = nasnet._normal_a_cell(x, p, 8, block_id="n2")  # p has 16 channels, not 8: adjust_projection
    model = side.lib.Model(inputs, x, name="nasnet_cells")
    if weights is not None:
        model.load_weights(weights)
    return model


FAST_CASES = {
    "ResNet-tiny": (_resnet_v1_tiny, "h5"),
    "ResNetV2-tiny": (_resnet_v2_tiny, "weights.h5"),
    "MobileNet": (
        lambda s, w: s.app("mobilenet").MobileNet(
            _s32(s), alpha=0.25, depth_multiplier=2, weights=w, classifier_activation=None
        ),
        "h5",
    ),
    "MobileNetV2": (
        lambda s, w: s.app("mobilenet_v2").MobileNetV2(_s32(s), alpha=0.35, weights=w, classes=10),
        "keras",
    ),
    "MobileNetV3Small": (
        lambda s, w: s.lib.applications.MobileNetV3Small(_s32(s), weights=w, classifier_activation=None),
        "h5",
    ),
    "MobileNetV3Large-minimalistic": (
        lambda s, w: s.lib.applications.MobileNetV3Large(
            _s32(s), alpha=0.75, minimalistic=True, weights=w, include_top=False, pooling="max"
        ),
        "weights.h5",
    ),
    "EfficientNet-tiny": (
        lambda s, w: s.app("efficientnet").EfficientNet(
            0.25, 0.5, 32, name="efficientnet_tiny", input_shape=_s32(s), weights=w, classifier_activation=None
        ),
        "h5",
    ),
    "EfficientNetV2-tiny": (_efficientnet_v2_tiny, "keras"),
    "ConvNeXt-tiny": (
        lambda s, w: s.app("convnext").ConvNeXt(
            depths=[1, 1, 2, 1],
            projection_dims=[8, 16, 24, 32],
            drop_path_rate=0.1,
            name="convnext_mini",
            input_shape=_s32(s),
            weights=w,
            classifier_activation=None,
        ),
        "h5",
    ),
    "DenseNet-tiny": (
        lambda s, w: s.app("densenet").DenseNet(
            [1, 1, 2, 1], weights=w, input_shape=_s32(s), include_top=False, pooling="max"
        ),
        "h5",
    ),
    "NASNet-cells": (_nasnet_cells, "h5"),
    "Inception-blocks": (_inception_blocks, "h5"),
}


@pytest.mark.parametrize("case", sorted(FAST_CASES))
def test_keras_weights_give_keras_predictions(case, tmp_path):
    build, fmt = FAST_CASES[case]
    parity.check_case(build, tmp_path, fmt)


@pytest.fixture
def channels_first():
    import keras

    import lamina

    keras.backend.set_image_data_format("channels_first")
    lamina.backend.set_image_data_format("channels_first")
    yield
    keras.backend.set_image_data_format("channels_last")
    lamina.backend.set_image_data_format("channels_last")


CHANNELS_FIRST_CASES = {  # channel axes of BN / concatenation / squeeze-excite, padding, operator nodes
    name: FAST_CASES[name] for name in ("ResNetV2-tiny", "Inception-blocks", "MobileNetV3Small", "EfficientNet-tiny")
}
SLOW_CHANNELS_FIRST_CASES = {
    **{name: FAST_CASES[name] for name in ("MobileNet", "MobileNetV2", "EfficientNetV2-tiny")},
    "VGG16": (lambda s, w: s.lib.applications.VGG16(weights=w, input_shape=(3, 32, 32), classes=10), "h5"),
}


@pytest.mark.parametrize(
    "case",
    sorted(CHANNELS_FIRST_CASES) + [pytest.param(c, marks=pytest.mark.slow) for c in sorted(SLOW_CHANNELS_FIRST_CASES)],
)
def test_channels_first_models_equal_keras(case, tmp_path, channels_first):
    build, fmt = {**CHANNELS_FIRST_CASES, **SLOW_CHANNELS_FIRST_CASES}[case]
    model = parity.check_case(build, tmp_path, fmt)
    assert model.input_shape[1] == 3


@pytest.mark.parametrize(
    "build, family",
    [
        (lambda a: a.DenseNet121(weights=None), "DenseNet"),
        (lambda a: a.NASNetLarge(weights=None), "NASNet"),
        (lambda a: a.ConvNeXtTiny(weights=None), "ConvNeXt"),
    ],
)
def test_families_without_channels_first_refuse_it(build, family, channels_first):
    import keras

    import lamina

    for lib in (keras, lamina):
        with pytest.raises(ValueError, match=f"{family} does not support the `channels_first` image data format"):
            build(lib.applications)


SLOW_CASES = {
    "ResNet50V2": ("resnet_v2", {"input_shape": S32}),
    "MobileNetV2": ("mobilenet_v2", {"input_shape": S32}),
    "MobileNetV3Small": ("mobilenet_v3", {"input_shape": S32}),
    "EfficientNetB0": ("efficientnet", {"input_shape": S32}),
    "EfficientNetV2B0": ("efficientnet_v2", {"input_shape": S32}),
    "ConvNeXtTiny": ("convnext", {"input_shape": S32}),
    "Xception": ("xception", {"input_shape": (71, 71, 3)}),
    "InceptionV3": ("inception_v3", {"input_shape": (75, 75, 3)}),
    "InceptionResNetV2": ("inception_resnet_v2", {"input_shape": (75, 75, 3)}),
    "DenseNet121": ("densenet", {"input_shape": S32}),
    "NASNetMobile": ("nasnet", {"input_shape": S32}),
    "VGG16": ("vgg16", {"input_shape": S32}),
    "ResNet50": ("resnet", {"input_shape": S32, "include_top": False, "pooling": "max"}),
}


def _full_size(name: str, family: str, kwargs: dict):
    from tests.applications.specs import keras_constructor

    def build(side: Side, weights):
        if side is parity.KERAS:
            return keras_constructor(name)(weights=weights, **kwargs)
        return getattr(side.app(family), name)(weights=weights, **kwargs)

    return build


@pytest.mark.slow
@pytest.mark.parametrize("fmt", parity.FORMATS)
@pytest.mark.parametrize("name", sorted(SLOW_CASES))
def test_full_size_models_load_keras_weights(name, fmt, tmp_path):
    family, kwargs = SLOW_CASES[name]
    if kwargs.get("include_top", True):
        kwargs = {**kwargs, "classifier_activation": None}
    parity.check_case(_full_size(name, family, kwargs), tmp_path, fmt)
