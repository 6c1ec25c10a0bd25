"""ResNet50, ResNet101 and ResNet152 (He et al., 2015), and the builder ResNetV2 shares.

Example:
    >>> from lamina.applications import resnet
    >>> model = resnet.ResNet50(weights=None, input_shape=(32, 32, 3), include_top=False, pooling="avg")
    >>> model.output_shape, len(model.layers)
    ((None, 2048), 176)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from lamina import layers
from lamina.applications import _common, imagenet_utils
from lamina.layers import KerasTensor
from lamina.models import Model

BASE_WEIGHTS_PATH = "https://storage.googleapis.com/tensorflow/keras-applications/resnet/"
# weights name -> (md5 of the file with the top, md5 of the file without it)
WEIGHTS_HASHES = {
    "resnet50": ("2cb95161c43110f7111970584f804107", "4d473c1dd8becc155b73f8504c6f6626"),
    "resnet101": ("f1aeb4b969a6efcfb50fad2f0c20cfc5", "88cf7a10940856eca736dc7b7e228a21"),
    "resnet152": ("100835be76be38e30d865e96f2aaae62", "ee4c566cf9a93f14d82f913c2dc6dd0c"),
    "resnet50v2": ("3ef43a0b657b3be2300d5770ece849e0", "fac2f116257151a9d068a22e544a4917"),
    "resnet101v2": ("6343647c601c52e1368623803854d971", "c0ed64b8031c3730f411d2eb4eea35b5"),
    "resnet152v2": ("a49b44d1979771252814e80f8ec446f9", "ed17cf2e0169df9d443503ef94b23b33"),
    "resnext50": ("67a5b30d522ed92f75a1f16eef299d1a", "62527c363bdd9ec598bed41947b379fc"),
    "resnext101": ("34fb605428fcc7aa4d62f44404c11509", "0f678c91647380debd923963594981b3"),
}

_EPS = 1.001e-5


def weights_file(weights_name: str, include_top: bool) -> _common.WeightsFile:
    suffix = "" if include_top else "_notop"
    fname = f"{weights_name}_weights_tf_dim_ordering_tf_kernels{suffix}.h5"
    return fname, BASE_WEIGHTS_PATH + fname, WEIGHTS_HASHES[weights_name][0 if include_top else 1]


def _bn(x: KerasTensor, name: str) -> KerasTensor:
    return layers.BatchNormalization(axis=_common.bn_axis(), epsilon=_EPS, name=name)(x)


def ResNet(
    stack_fn: Callable[[KerasTensor], KerasTensor],
    preact: bool,
    use_bias: bool,
    include_top: bool = True,
    weights: Any = "imagenet",
    input_tensor: Any = None,
    input_shape: tuple | None = None,
    pooling: str | None = None,
    classes: int = 1000,
    classifier_activation: Any = "softmax",
    name: str = "resnet",
    weights_name: str | None = None,
) -> Model:
    """The ResNet / ResNetV2 / ResNeXt body around ``stack_fn`` (the residual stages).

    ``preact=True`` is ResNetV2 (batch norm before the convolutions, one ``post_bn`` at the end).
    """
    _common.check_weights(weights, include_top, classes)
    input_shape = imagenet_utils.obtain_input_shape(
        input_shape, 224, 32, _common.data_format(), require_flatten=include_top, weights=weights
    )
    img_input = _common.image_input(input_tensor, input_shape)
    x = layers.ZeroPadding2D(padding=((3, 3), (3, 3)), name="conv1_pad")(img_input)
    x = layers.Conv2D(64, 7, strides=2, use_bias=use_bias, name="conv1_conv")(x)
    if not preact:
        x = layers.Activation("relu", name="conv1_relu")(_bn(x, "conv1_bn"))
    x = layers.ZeroPadding2D(padding=((1, 1), (1, 1)), name="pool1_pad")(x)
    x = layers.MaxPooling2D(3, strides=2, name="pool1_pool")(x)
    x = stack_fn(x)
    if preact:
        x = layers.Activation("relu", name="post_relu")(_bn(x, "post_bn"))
    if include_top:
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
        x = _common.dense_classifier(x, classes, classifier_activation, weights)
    else:
        x = _common.global_pool(x, pooling, named=True)
    wfile = weights_file(weights_name, include_top) if weights_name in WEIGHTS_HASHES else None
    return _common.finish(img_input, input_tensor, x, name, weights, wfile)


def residual_block_v1(
    x: KerasTensor, filters: int, kernel_size: int = 3, stride: int = 1, conv_shortcut: bool = True, name: str = ""
) -> KerasTensor:
    """Bottleneck block 1x1 -> kxk -> 1x1 (x4 filters), batch norm after each convolution."""
    if conv_shortcut:
        shortcut = layers.Conv2D(4 * filters, 1, strides=stride, name=f"{name}_0_conv")(x)
        shortcut = _bn(shortcut, f"{name}_0_bn")
    else:
        shortcut = x
    x = layers.Conv2D(filters, 1, strides=stride, name=f"{name}_1_conv")(x)
    x = layers.Activation("relu", name=f"{name}_1_relu")(_bn(x, f"{name}_1_bn"))
    # Keras writes "SAME" here; padding names are case-insensitive, and the config keeps the spelling.
    x = layers.Conv2D(filters, kernel_size, padding="SAME", name=f"{name}_2_conv")(x)
    x = layers.Activation("relu", name=f"{name}_2_relu")(_bn(x, f"{name}_2_bn"))
    x = _bn(layers.Conv2D(4 * filters, 1, name=f"{name}_3_conv")(x), f"{name}_3_bn")
    x = layers.Add(name=f"{name}_add")([shortcut, x])
    return layers.Activation("relu", name=f"{name}_out")(x)


def stack_residual_blocks_v1(
    x: KerasTensor, filters: int, blocks: int, stride1: int = 2, name: str = ""
) -> KerasTensor:
    """``blocks`` v1 blocks; the first projects the shortcut and strides by ``stride1``."""
    x = residual_block_v1(x, filters, stride=stride1, name=f"{name}_block1")
    for i in range(2, blocks + 1):
        x = residual_block_v1(x, filters, conv_shortcut=False, name=f"{name}_block{i}")
    return x


def residual_block_v2(
    x: KerasTensor, filters: int, kernel_size: int = 3, stride: int = 1, conv_shortcut: bool = False, name: str = ""
) -> KerasTensor:
    """Pre-activation bottleneck block; a strided identity shortcut is a 1x1 max pooling, as in Keras."""
    preact = layers.Activation("relu", name=f"{name}_preact_relu")(_bn(x, f"{name}_preact_bn"))
    if conv_shortcut:
        shortcut = layers.Conv2D(4 * filters, 1, strides=stride, name=f"{name}_0_conv")(preact)
    else:
        shortcut = layers.MaxPooling2D(1, strides=stride)(x) if stride > 1 else x
    x = layers.Conv2D(filters, 1, strides=1, use_bias=False, name=f"{name}_1_conv")(preact)
    x = layers.Activation("relu", name=f"{name}_1_relu")(_bn(x, f"{name}_1_bn"))
    x = layers.ZeroPadding2D(padding=((1, 1), (1, 1)), name=f"{name}_2_pad")(x)
    x = layers.Conv2D(filters, kernel_size, strides=stride, use_bias=False, name=f"{name}_2_conv")(x)
    x = layers.Activation("relu", name=f"{name}_2_relu")(_bn(x, f"{name}_2_bn"))
    x = layers.Conv2D(4 * filters, 1, name=f"{name}_3_conv")(x)
    return layers.Add(name=f"{name}_out")([shortcut, x])


def stack_residual_blocks_v2(
    x: KerasTensor, filters: int, blocks: int, stride1: int = 2, name: str = ""
) -> KerasTensor:
    """``blocks`` v2 blocks; the first projects the shortcut, the last strides by ``stride1``."""
    x = residual_block_v2(x, filters, conv_shortcut=True, name=f"{name}_block1")
    for i in range(2, blocks):
        x = residual_block_v2(x, filters, name=f"{name}_block{i}")
    return residual_block_v2(x, filters, stride=stride1, name=f"{name}_block{blocks}")


def _v1_stacks(depths: tuple[int, int, int, int]) -> Callable[[KerasTensor], KerasTensor]:
    def stack_fn(x: KerasTensor) -> KerasTensor:
        x = stack_residual_blocks_v1(x, 64, depths[0], stride1=1, name="conv2")
        x = stack_residual_blocks_v1(x, 128, depths[1], name="conv3")
        x = stack_residual_blocks_v1(x, 256, depths[2], name="conv4")
        return stack_residual_blocks_v1(x, 512, depths[3], name="conv5")

    return stack_fn


def ResNet50(
    include_top: bool = True,
    weights: Any = "imagenet",
    input_tensor: Any = None,
    input_shape: tuple | None = None,
    pooling: str | None = None,
    classes: int = 1000,
    classifier_activation: Any = "softmax",
    name: str = "resnet50",
) -> Model:
    return ResNet(
        _v1_stacks((3, 4, 6, 3)),
        False,
        True,
        include_top,
        weights,
        input_tensor,
        input_shape,
        pooling,
        classes,
        classifier_activation,
        name,
        weights_name="resnet50",
    )


def ResNet101(
    include_top: bool = True,
    weights: Any = "imagenet",
    input_tensor: Any = None,
    input_shape: tuple | None = None,
    pooling: str | None = None,
    classes: int = 1000,
    classifier_activation: Any = "softmax",
    name: str = "resnet101",
) -> Model:
    return ResNet(
        _v1_stacks((3, 4, 23, 3)),
        False,
        True,
        include_top,
        weights,
        input_tensor,
        input_shape,
        pooling,
        classes,
        classifier_activation,
        name,
        weights_name="resnet101",
    )


def ResNet152(
    include_top: bool = True,
    weights: Any = "imagenet",
    input_tensor: Any = None,
    input_shape: tuple | None = None,
    pooling: str | None = None,
    classes: int = 1000,
    classifier_activation: Any = "softmax",
    name: str = "resnet152",
) -> Model:
    return ResNet(
        _v1_stacks((3, 8, 36, 3)),
        False,
        True,
        include_top,
        weights,
        input_tensor,
        input_shape,
        pooling,
        classes,
        classifier_activation,
        name,
        weights_name="resnet152",
    )


def preprocess_input(x: Any, data_format: str | None = None) -> Any:
    """Caffe-style preprocessing: RGB -> BGR, then each channel zero-centred on ImageNet's mean (no scaling).

    Args:
        x: images with values in ``[0, 255]`` (NumPy arrays are modified in place).
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.

    Returns:
        The preprocessed images.
    """
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="caffe")


def decode_predictions(preds: Any, top: int = 5) -> list[list[tuple[str, str, float]]]:
    """The ``top`` ImageNet classes of each prediction (see ``imagenet_utils.decode_predictions``)."""
    return imagenet_utils.decode_predictions(preds, top=top)


_DOC = _common.doc(
    "Instantiates the {} architecture.",
    "[Deep Residual Learning for Image Recognition](https://arxiv.org/abs/1512.03385) (CVPR 2015)",
    "Inputs go through `lamina.applications.resnet.preprocess_input` (caffe mode) first. "
    "Default input 224x224; at least 32x32.",
)
ResNet50.__doc__ = _DOC.format("ResNet50")
ResNet101.__doc__ = _DOC.format("ResNet101")
ResNet152.__doc__ = _DOC.format("ResNet152")
