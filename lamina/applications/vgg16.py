"""VGG16 (Simonyan & Zisserman, 2014), and the VGG builder VGG19 shares.

Example:
    >>> from lamina.applications import vgg16
    >>> model = vgg16.VGG16(weights=None, input_shape=(32, 32, 3), include_top=False)
    >>> model.output_shape, model.count_params()
    ((None, 1, 1, 512), 14714688)
"""

from __future__ import annotations

from typing import Any

from lamina import layers
from lamina.applications import _common, imagenet_utils
from lamina.models import Model

_BASE = "https://storage.googleapis.com/tensorflow/keras-applications/"
# variant -> (md5 of the file with the top, md5 of the file without it)
WEIGHTS_HASHES = {
    "vgg16": ("64373286793e3c8b2b4e3219cbf3544b", "6d6bbae143d832006294945121d1f1fc"),
    "vgg19": ("cbe5617147190e668d6c5d5026f83318", "253f8cb515780f3b799900260a226db6"),
}


def weights_file(variant: str, include_top: bool) -> _common.WeightsFile:
    fname = f"{variant}_weights_tf_dim_ordering_tf_kernels{'' if include_top else '_notop'}.h5"
    return fname, f"{_BASE}{variant}/{fname}", WEIGHTS_HASHES[variant][0 if include_top else 1]


def build_vgg(
    variant: str,
    convs_per_block: tuple[int, ...],
    include_top: bool,
    weights: Any,
    input_tensor: Any,
    input_shape: tuple | None,
    pooling: str | None,
    classes: int,
    classifier_activation: Any,
    name: str,
) -> Model:
    """Five blocks of 3x3 "same" convolutions (64, 128, 256, 512, 512 filters), each closed by a 2x2 max pool."""
    _common.check_weights(weights, include_top, classes)
    input_shape = imagenet_utils.obtain_input_shape(
        input_shape, 224, 32, _common.data_format(), require_flatten=include_top, weights=weights
    )
    img_input = _common.image_input(input_tensor, input_shape)
    x = img_input
    for block, (filters, n) in enumerate(zip((64, 128, 256, 512, 512), convs_per_block, strict=True), start=1):
        for i in range(1, n + 1):
            x = layers.Conv2D(filters, (3, 3), activation="relu", padding="same", name=f"block{block}_conv{i}")(x)
        x = layers.MaxPooling2D((2, 2), strides=(2, 2), name=f"block{block}_pool")(x)
    if include_top:
        x = layers.Flatten(name="flatten")(x)
        x = layers.Dense(4096, activation="relu", name="fc1")(x)
        x = layers.Dense(4096, activation="relu", name="fc2")(x)
        x = _common.dense_classifier(x, classes, classifier_activation, weights)
    else:
        x = _common.global_pool(x, pooling, named=False)
    return _common.finish(img_input, input_tensor, x, name, weights, weights_file(variant, include_top))


def VGG16(
    include_top: bool = True,
    weights: Any = "imagenet",
    input_tensor: Any = None,
    input_shape: tuple | None = None,
    pooling: str | None = None,
    classes: int = 1000,
    classifier_activation: Any = "softmax",
    name: str = "vgg16",
) -> Model:
    return build_vgg(
        "vgg16",
        (2, 2, 3, 3, 3),
        include_top,
        weights,
        input_tensor,
        input_shape,
        pooling,
        classes,
        classifier_activation,
        name,
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


DOC = _common.doc(
    "Instantiates the {} model.",
    "[Very Deep Convolutional Networks for Large-Scale Image Recognition](https://arxiv.org/abs/1409.1556) (ICLR 2015)",
    "Inputs go through `lamina.applications.{}.preprocess_input` (caffe mode) first. "
    "Default input 224x224; at least 32x32. The top is three fully-connected layers.",
)
VGG16.__doc__ = DOC.format("VGG16", "vgg16")
