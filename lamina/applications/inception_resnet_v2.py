"""InceptionResNetV2 (Szegedy et al., 2016): inception modules with scaled residual connections.

Example:
    >>> from lamina.applications import inception_resnet_v2 as irv2
    >>> model = irv2.InceptionResNetV2(weights=None, input_shape=(75, 75, 3), include_top=False)
    >>> model.output_shape, len(model.layers)
    ((None, 1, 1, 1536), 780)
"""

from __future__ import annotations

from typing import Any

from lamina import layers, serialization
from lamina.applications import _common, imagenet_utils
from lamina.layers import KerasTensor, Layer
from lamina.models import Model

_BASE = "https://storage.googleapis.com/tensorflow/keras-applications/inception_resnet_v2/"
WEIGHTS_HASHES = ("e693bd0210a403b3192acc6073ad2e96", "d19885ff4a710c122648d3b5c3b684e4")  # (top, no top)

# A conv spec: (filters, kernel) or (filters, kernel, strides, padding); stride 1 and "same" by default.
_Spec = tuple


def weights_file(include_top: bool) -> _common.WeightsFile:
    fname = f"inception_resnet_v2_weights_tf_dim_ordering_tf_kernels{'' if include_top else '_notop'}.h5"
    return fname, _BASE + fname, WEIGHTS_HASHES[0 if include_top else 1]


class CustomScaleLayer(Layer):
    """``inputs[0] + inputs[1] * scale``: the scaled residual sum of an Inception-ResNet block.

    Args:
        scale: the factor on the residual branch.

    Example:
        >>> import torch
        >>> CustomScaleLayer(0.5)([torch.ones(1, 2), torch.ones(1, 2)]).tolist()
        [[1.5, 1.5]]
    """

    def __init__(self, scale: float, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.scale = scale

    def call(self, inputs: Any) -> Any:
        return inputs[0] + inputs[1] * self.scale

    def compute_output_shape(self, input_shape: Any) -> Any:
        return tuple(input_shape[0])

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "scale": self.scale}

    def extra_repr(self) -> str:
        return f"scale={self.scale}"


def conv2d_bn(
    x: KerasTensor,
    filters: int,
    kernel_size: int | tuple[int, int],
    strides: int = 1,
    padding: str = "same",
    activation: str | None = "relu",
    use_bias: bool = False,
    name: str | None = None,
) -> KerasTensor:
    """Conv2D -> BatchNormalization (no scale; only without bias) -> activation, named ``name``, ``_bn``, ``_ac``."""
    x = layers.Conv2D(filters, kernel_size, strides=strides, padding=padding, use_bias=use_bias, name=name)(x)
    if not use_bias:
        x = layers.BatchNormalization(axis=_common.bn_axis(), scale=False, name=None if name is None else f"{name}_bn")(
            x
        )
    if activation is not None:
        x = layers.Activation(activation, name=None if name is None else f"{name}_ac")(x)
    return x


def _chain(x: KerasTensor, specs: list[_Spec]) -> KerasTensor:
    for filters, kernel, *rest in specs:
        strides, padding = rest if rest else (1, "same")
        x = conv2d_bn(x, filters, kernel, strides=strides, padding=padding)
    return x


_BLOCK_BRANCHES = {
    "block35": [[(32, 1)], [(32, 1), (32, 3)], [(32, 1), (48, 3), (64, 3)]],
    "block17": [[(192, 1)], [(128, 1), (160, [1, 7]), (192, [7, 1])]],
    "block8": [[(192, 1)], [(192, 1), (224, [1, 3]), (256, [3, 1])]],
}


def inception_resnet_block(
    x: KerasTensor, scale: float, block_type: str, block_idx: int, activation: str | None = "relu"
) -> KerasTensor:
    """``x + scale * conv1x1(concat(branches(x)))``, then ``activation``; ``block_type`` picks the branches."""
    if block_type not in _BLOCK_BRANCHES:
        raise ValueError(
            f'Unknown Inception-ResNet block type. Expects "block35", "block17" or "block8", but got: {block_type}'
        )
    block_name = f"{block_type}_{block_idx}"
    branches = [_chain(x, specs) for specs in _BLOCK_BRANCHES[block_type]]
    mixed = layers.Concatenate(axis=_common.bn_axis(), name=f"{block_name}_mixed")(branches)
    up = conv2d_bn(mixed, x.shape[_common.bn_axis()], 1, activation=None, use_bias=True, name=f"{block_name}_conv")
    x = CustomScaleLayer(scale)([x, up])
    if activation is not None:
        x = layers.Activation(activation, name=f"{block_name}_ac")(x)
    return x


def _reduction(x: KerasTensor, chains: list[list[_Spec]], name: str) -> KerasTensor:
    branches = [_chain(x, specs) for specs in chains]
    branches.append(layers.MaxPooling2D(3, strides=2, padding="valid")(x))
    return layers.Concatenate(axis=_common.bn_axis(), name=name)(branches)


def InceptionResNetV2(
    include_top: bool = True,
    weights: Any = "imagenet",
    input_tensor: Any = None,
    input_shape: tuple | None = None,
    pooling: str | None = None,
    classes: int = 1000,
    classifier_activation: Any = "softmax",
    name: str = "inception_resnet_v2",
) -> Model:
    _common.check_weights(weights, include_top, classes)
    input_shape = imagenet_utils.obtain_input_shape(
        input_shape, 299, 75, _common.data_format(), require_flatten=include_top, weights=weights
    )
    img_input = _common.image_input(input_tensor, input_shape)
    x = _chain(img_input, [(32, 3, 2, "valid"), (32, 3, 1, "valid"), (64, 3)])
    x = layers.MaxPooling2D(3, strides=2)(x)
    x = _chain(x, [(80, 1, 1, "valid"), (192, 3, 1, "valid")])
    x = layers.MaxPooling2D(3, strides=2)(x)
    branches = [_chain(x, specs) for specs in ([(96, 1)], [(48, 1), (64, 5)], [(64, 1), (96, 3), (96, 3)])]
    branches.append(conv2d_bn(layers.AveragePooling2D(3, strides=1, padding="same")(x), 64, 1))
    x = layers.Concatenate(axis=_common.bn_axis(), name="mixed_5b")(branches)
    for block_idx in range(1, 11):  # 10x block35 (35 x 35)
        x = inception_resnet_block(x, scale=0.17, block_type="block35", block_idx=block_idx)
    x = _reduction(x, [[(384, 3, 2, "valid")], [(256, 1), (256, 3), (384, 3, 2, "valid")]], "mixed_6a")
    for block_idx in range(1, 21):  # 20x block17 (17 x 17)
        x = inception_resnet_block(x, scale=0.1, block_type="block17", block_idx=block_idx)
    x = _reduction(
        x,
        [
            [(256, 1), (384, 3, 2, "valid")],
            [(256, 1), (288, 3, 2, "valid")],
            [(256, 1), (288, 3), (320, 3, 2, "valid")],
        ],
        "mixed_7a",
    )
    for block_idx in range(1, 10):  # 10x block8 (8 x 8), the last one linear
        x = inception_resnet_block(x, scale=0.2, block_type="block8", block_idx=block_idx)
    x = inception_resnet_block(x, scale=1.0, activation=None, block_type="block8", block_idx=10)
    x = conv2d_bn(x, 1536, 1, name="conv_7b")
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


InceptionResNetV2.__doc__ = _common.doc(
    "Instantiates the Inception-ResNet v2 architecture.",
    "[Inception-v4, Inception-ResNet and the Impact of Residual Connections on Learning]"
    "(https://arxiv.org/abs/1602.07261) (AAAI 2017)",
    "Inputs go through `lamina.applications.inception_resnet_v2.preprocess_input` (scaled to [-1, 1]) first. "
    "Default input 299x299; at least 75x75.",
)

# Keras writes these classes under its application module (with their class name as registered name).
serialization.register_builtins(
    "keras.src.applications.inception_resnet_v2", {"CustomScaleLayer": CustomScaleLayer}, self_registered=True
)
