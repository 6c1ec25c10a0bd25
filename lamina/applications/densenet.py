"""DenseNet121, DenseNet169 and DenseNet201 (Huang et al., 2017): densely connected convolutional networks.

Example:
    >>> from lamina.applications import densenet
    >>> model = densenet.DenseNet121(weights=None, input_shape=(32, 32, 3), include_top=False, pooling="avg")
    >>> model.output_shape, model.count_params()
    ((None, 1024), 7037504)
"""

from __future__ import annotations

from typing import Any

from lamina import layers
from lamina.applications import _common, imagenet_utils
from lamina.layers import KerasTensor
from lamina.models import Model

BASE_WEIGHTS_PATH = "https://storage.googleapis.com/tensorflow/keras-applications/densenet/"
# blocks per stage -> (weights name, md5 of the file with the top, md5 of the file without it)
_WEIGHTS = {
    (6, 12, 24, 16): ("densenet121", "9d60b8095a5708f2dcce2bca79d332c7", "30ee3e1110167f948a6b9946edeeb738"),
    (6, 12, 32, 32): ("densenet169", "d699b8f76981ab1b30698df4c175e90b", "b8c4d4c20dd625c148057b9ff1c1176b"),
    (6, 12, 48, 32): ("densenet201", "1ceb130c1ea1b78c3bf6114dbdfd8807", "c13680b51ded0fb44dff2d8f86ac8bb1"),
}
_EPS = 1.001e-5


def weights_file(blocks: list[int], include_top: bool) -> _common.WeightsFile:
    if tuple(blocks) not in _WEIGHTS:
        raise ValueError(f"weights_path undefined: Keras publishes no DenseNet weights for blocks={blocks}")
    weights_name, top_hash, notop_hash = _WEIGHTS[tuple(blocks)]
    fname = f"{weights_name}_weights_tf_dim_ordering_tf_kernels{'' if include_top else '_notop'}.h5"
    return fname, BASE_WEIGHTS_PATH + fname, top_hash if include_top else notop_hash


def _bn_relu(x: KerasTensor, name: str) -> KerasTensor:
    x = layers.BatchNormalization(axis=3, epsilon=_EPS, name=f"{name}_bn")(x)
    return layers.Activation("relu", name=f"{name}_relu")(x)


def dense_block(x: KerasTensor, blocks: int, name: str) -> KerasTensor:
    """``blocks`` conv blocks, each adding 32 channels."""
    for i in range(blocks):
        x = conv_block(x, 32, name=f"{name}_block{i + 1}")
    return x


def transition_block(x: KerasTensor, reduction: float, name: str) -> KerasTensor:
    """BN -> relu -> 1x1 conv to ``reduction`` of the channels -> 2x2 average pool."""
    x = _bn_relu(x, name)
    x = layers.Conv2D(int(x.shape[3] * reduction), 1, use_bias=False, name=f"{name}_conv")(x)
    return layers.AveragePooling2D(2, strides=2, name=f"{name}_pool")(x)


def conv_block(x: KerasTensor, growth_rate: int, name: str) -> KerasTensor:
    """BN-relu-1x1 conv (4 x growth) -> BN-relu-3x3 conv (growth), concatenated to the input."""
    x1 = _bn_relu(x, f"{name}_0")
    x1 = layers.Conv2D(4 * growth_rate, 1, use_bias=False, name=f"{name}_1_conv")(x1)
    x1 = _bn_relu(x1, f"{name}_1")
    x1 = layers.Conv2D(growth_rate, 3, padding="same", use_bias=False, name=f"{name}_2_conv")(x1)
    return layers.Concatenate(axis=3, name=f"{name}_concat")([x, x1])


def DenseNet(
    blocks: list[int],
    include_top: bool = True,
    weights: Any = "imagenet",
    input_tensor: Any = None,
    input_shape: tuple | None = None,
    pooling: str | None = None,
    classes: int = 1000,
    classifier_activation: Any = "softmax",
    name: str = "densenet",
) -> Model:
    """A DenseNet with ``blocks`` conv blocks in each of its four dense blocks."""
    _common.require_channels_last("DenseNet")
    _common.check_weights(weights, include_top, classes)
    input_shape = imagenet_utils.obtain_input_shape(
        input_shape, 224, 32, _common.data_format(), require_flatten=include_top, weights=weights
    )
    img_input = _common.image_input(input_tensor, input_shape)
    x = layers.ZeroPadding2D(padding=((3, 3), (3, 3)))(img_input)
    x = layers.Conv2D(64, 7, strides=2, use_bias=False, name="conv1_conv")(x)
    x = _bn_relu(x, "conv1")
    x = layers.ZeroPadding2D(padding=((1, 1), (1, 1)))(x)
    x = layers.MaxPooling2D(3, strides=2, name="pool1")(x)
    for stage, n in enumerate(blocks, start=2):
        x = dense_block(x, n, name=f"conv{stage}")
        if stage < 5:
            x = transition_block(x, 0.5, name=f"pool{stage}")
    x = layers.BatchNormalization(axis=3, epsilon=_EPS, name="bn")(x)
    x = layers.Activation("relu", name="relu")(x)
    if include_top:
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
        x = _common.dense_classifier(x, classes, classifier_activation, weights)
    else:
        x = _common.global_pool(x, pooling, named=True)
    wfile = weights_file(blocks, include_top) if weights == "imagenet" else None
    return _common.finish(img_input, input_tensor, x, name, weights, wfile)


def DenseNet121(
    include_top: bool = True,
    weights: Any = "imagenet",
    input_tensor: Any = None,
    input_shape: tuple | None = None,
    pooling: str | None = None,
    classes: int = 1000,
    classifier_activation: Any = "softmax",
    name: str = "densenet121",
) -> Model:
    return DenseNet(
        [6, 12, 24, 16], include_top, weights, input_tensor, input_shape, pooling, classes, classifier_activation, name
    )


def DenseNet169(
    include_top: bool = True,
    weights: Any = "imagenet",
    input_tensor: Any = None,
    input_shape: tuple | None = None,
    pooling: str | None = None,
    classes: int = 1000,
    classifier_activation: Any = "softmax",
    name: str = "densenet169",
) -> Model:
    return DenseNet(
        [6, 12, 32, 32], include_top, weights, input_tensor, input_shape, pooling, classes, classifier_activation, name
    )


def DenseNet201(
    include_top: bool = True,
    weights: Any = "imagenet",
    input_tensor: Any = None,
    input_shape: tuple | None = None,
    pooling: str | None = None,
    classes: int = 1000,
    classifier_activation: Any = "softmax",
    name: str = "densenet201",
) -> Model:
    return DenseNet(
        [6, 12, 48, 32], include_top, weights, input_tensor, input_shape, pooling, classes, classifier_activation, name
    )


def preprocess_input(x: Any, data_format: str | None = None) -> Any:
    """Torch-style preprocessing: pixels scaled to ``[0, 1]``, then normalized with ImageNet's mean and std.

    Args:
        x: images with values in ``[0, 255]`` (NumPy arrays are modified in place).
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.

    Returns:
        The preprocessed images.
    """
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="torch")


def decode_predictions(preds: Any, top: int = 5) -> list[list[tuple[str, str, float]]]:
    """The ``top`` ImageNet classes of each prediction (see ``imagenet_utils.decode_predictions``)."""
    return imagenet_utils.decode_predictions(preds, top=top)


_DOC = _common.doc(
    "Instantiates the {} architecture.",
    "[Densely Connected Convolutional Networks](https://arxiv.org/abs/1608.06993) (CVPR 2017)",
    "Inputs go through `lamina.applications.densenet.preprocess_input` (torch mode) first. "
    "Default input 224x224; at least 32x32.",
)
DenseNet121.__doc__ = _DOC.format("DenseNet121")
DenseNet169.__doc__ = _DOC.format("DenseNet169")
DenseNet201.__doc__ = _DOC.format("DenseNet201")
