"""InceptionV3 (Szegedy et al., 2015): factorized inception modules, ``mixed0`` ... ``mixed10``.

Example:
    >>> from lamina.applications import inception_v3
    >>> model = inception_v3.InceptionV3(weights=None, input_shape=(75, 75, 3), include_top=False)
    >>> model.output_shape, len(model.layers)
    ((None, 1, 1, 2048), 311)
"""

from __future__ import annotations

from typing import Any

from lamina import layers
from lamina.applications import _common, imagenet_utils
from lamina.layers import KerasTensor
from lamina.models import Model

_BASE = "https://storage.googleapis.com/tensorflow/keras-applications/inception_v3/"
WEIGHTS_HASHES = ("9a0d58056eeedaa3f26cb7ebd46da564", "bcbd6486424b2319ff4ef7d526e38f63")  # (top, no top)

# A conv spec: (filters, rows, cols) or (filters, rows, cols, strides, padding); "same" and 1 by default.
_Spec = tuple


def weights_file(include_top: bool) -> _common.WeightsFile:
    fname = f"inception_v3_weights_tf_dim_ordering_tf_kernels{'' if include_top else '_notop'}.h5"
    return fname, _BASE + fname, WEIGHTS_HASHES[0 if include_top else 1]


def conv2d_bn(
    x: KerasTensor,
    filters: int,
    num_row: int,
    num_col: int,
    padding: str = "same",
    strides: tuple[int, int] = (1, 1),
    name: str | None = None,
) -> KerasTensor:
    """Conv2D (no bias) -> BatchNormalization (no scale) -> relu; ``name`` names the three as Keras does."""
    x = layers.Conv2D(
        filters,
        (num_row, num_col),
        strides=strides,
        padding=padding,
        use_bias=False,
        name=None if name is None else f"{name}_conv",
    )(x)
    x = layers.BatchNormalization(axis=_common.bn_axis(), scale=False, name=None if name is None else f"{name}_bn")(x)
    return layers.Activation("relu", name=name)(x)


def _chain(x: KerasTensor, specs: list[_Spec]) -> KerasTensor:
    for filters, rows, cols, *rest in specs:
        stride, padding = rest if rest else (1, "same")
        x = conv2d_bn(x, filters, rows, cols, padding=padding, strides=(stride, stride))
    return x


def _avg_branch(x: KerasTensor, filters: int) -> KerasTensor:
    x = layers.AveragePooling2D((3, 3), strides=(1, 1), padding="same")(x)
    return conv2d_bn(x, filters, 1, 1)


def _block_35(x: KerasTensor, pool_filters: int, name: str) -> KerasTensor:
    branches = [
        _chain(x, [(64, 1, 1)]),
        _chain(x, [(48, 1, 1), (64, 5, 5)]),
        _chain(x, [(64, 1, 1), (96, 3, 3), (96, 3, 3)]),
        _avg_branch(x, pool_filters),
    ]
    return layers.concatenate(branches, axis=_common.bn_axis(), name=name)


def _block_17(x: KerasTensor, c: int, name: str) -> KerasTensor:
    branches = [
        _chain(x, [(192, 1, 1)]),
        _chain(x, [(c, 1, 1), (c, 1, 7), (192, 7, 1)]),
        _chain(x, [(c, 1, 1), (c, 7, 1), (c, 1, 7), (c, 7, 1), (192, 1, 7)]),
        _avg_branch(x, 192),
    ]
    return layers.concatenate(branches, axis=_common.bn_axis(), name=name)


def _reduction(x: KerasTensor, chains: list[list[_Spec]], name: str) -> KerasTensor:
    branches = [_chain(x, specs) for specs in chains]
    branches.append(layers.MaxPooling2D((3, 3), strides=(2, 2))(x))
    return layers.concatenate(branches, axis=_common.bn_axis(), name=name)


def _block_8(x: KerasTensor, i: int) -> KerasTensor:
    branch1x1 = conv2d_bn(x, 320, 1, 1)
    branch3x3 = conv2d_bn(x, 384, 1, 1)
    branch3x3 = layers.concatenate(
        [conv2d_bn(branch3x3, 384, 1, 3), conv2d_bn(branch3x3, 384, 3, 1)], axis=_common.bn_axis(), name=f"mixed9_{i}"
    )
    branch3x3dbl = _chain(x, [(448, 1, 1), (384, 3, 3)])
    branch3x3dbl = layers.concatenate(
        [conv2d_bn(branch3x3dbl, 384, 1, 3), conv2d_bn(branch3x3dbl, 384, 3, 1)], axis=_common.bn_axis()
    )
    branch_pool = _avg_branch(x, 192)
    return layers.concatenate(
        [branch1x1, branch3x3, branch3x3dbl, branch_pool], axis=_common.bn_axis(), name=f"mixed{9 + i}"
    )


def InceptionV3(
    include_top: bool = True,
    weights: Any = "imagenet",
    input_tensor: Any = None,
    input_shape: tuple | None = None,
    pooling: str | None = None,
    classes: int = 1000,
    classifier_activation: Any = "softmax",
    name: str = "inception_v3",
) -> Model:
    _common.check_weights(weights, include_top, classes)
    input_shape = imagenet_utils.obtain_input_shape(
        input_shape, 299, 75, _common.data_format(), require_flatten=include_top, weights=weights
    )
    img_input = _common.image_input(input_tensor, input_shape)
    x = _chain(img_input, [(32, 3, 3, 2, "valid"), (32, 3, 3, 1, "valid"), (64, 3, 3)])
    x = layers.MaxPooling2D((3, 3), strides=(2, 2))(x)
    x = _chain(x, [(80, 1, 1, 1, "valid"), (192, 3, 3, 1, "valid")])
    x = layers.MaxPooling2D((3, 3), strides=(2, 2))(x)
    for i, pool_filters in enumerate((32, 64, 64)):  # 35 x 35
        x = _block_35(x, pool_filters, f"mixed{i}")
    x = _reduction(x, [[(384, 3, 3, 2, "valid")], [(64, 1, 1), (96, 3, 3), (96, 3, 3, 2, "valid")]], "mixed3")
    for i, c in enumerate((128, 160, 160, 192)):  # 17 x 17
        x = _block_17(x, c, f"mixed{4 + i}")
    x = _reduction(
        x,
        [[(192, 1, 1), (320, 3, 3, 2, "valid")], [(192, 1, 1), (192, 1, 7), (192, 7, 1), (192, 3, 3, 2, "valid")]],
        "mixed8",
    )
    for i in range(2):  # 8 x 8
        x = _block_8(x, i)
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


InceptionV3.__doc__ = _common.doc(
    "Instantiates the Inception v3 architecture.",
    "[Rethinking the Inception Architecture for Computer Vision](https://arxiv.org/abs/1512.00567) (CVPR 2016)",
    "Inputs go through `lamina.applications.inception_v3.preprocess_input` (scaled to [-1, 1]) first. "
    "Default input 299x299; at least 75x75.",
)
