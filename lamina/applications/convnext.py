"""ConvNeXt Tiny, Small, Base, Large and XLarge (Liu et al., 2022), with ``LayerScale`` and ``StochasticDepth``.

The models take pixels in ``[0, 255]`` (``include_preprocessing=True`` normalizes them), so
``preprocess_input`` is a pass-through.

Example:
    >>> from lamina.applications import convnext
    >>> model = convnext.ConvNeXtTiny(weights=None, input_shape=(32, 32, 3), include_top=False, pooling="avg")
    >>> model.output_shape, model.layers[2].name
    ((None, 768), 'convnext_tiny_stem')
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from lamina import initializers, layers, serialization
from lamina.applications import _common, imagenet_utils
from lamina.layers import KerasTensor, Layer
from lamina.models import Model, Sequential

BASE_WEIGHTS_PATH = "https://storage.googleapis.com/tensorflow/keras-applications/convnext/"
# weights name -> (sha256 of the file with the top, sha256 of the file without it)
WEIGHTS_HASHES = {
    "convnext_tiny": (
        "8ae6e78ce2933352b1ef4008e6dd2f17bc40771563877d156bc6426c7cf503ff",
        "d547c096cabd03329d7be5562c5e14798aa39ed24b474157cef5e85ab9e49ef1",
    ),
    "convnext_small": (
        "ce1277d8f1ee5a0ef0e171469089c18f5233860ceaf9b168049cb9263fd7483c",
        "6fc8009faa2f00c1c1dfce59feea9b0745eb260a7dd11bee65c8e20843da6eab",
    ),
    "convnext_base": (
        "52cbb006d3dadd03f6e095a8ca1aca47aecdd75acb4bc74bce1f5c695d0086e6",
        "40a20c5548a5e9202f69735ecc06c990e6b7c9d2de39f0361e27baeb24cb7c45",
    ),
    "convnext_large": (
        "070c5ed9ed289581e477741d3b34beffa920db8cf590899d6d2c67fba2a198a6",
        "96f02b6f0753d4f543261bc9d09bed650f24dd6bc02ddde3066135b63d23a1cd",
    ),
    "convnext_xlarge": (
        "c1f5ccab661354fc3a79a10fa99af82f0fbf10ec65cb894a3ae0815f17a889ee",
        "de3f8a54174130e0cecdc71583354753d557fcf1f4487331558e2a16ba0cfe05",
    ),
}
MODEL_CONFIGS = {
    "tiny": {"depths": [3, 3, 9, 3], "projection_dims": [96, 192, 384, 768], "default_size": 224},
    "small": {"depths": [3, 3, 27, 3], "projection_dims": [96, 192, 384, 768], "default_size": 224},
    "base": {"depths": [3, 3, 27, 3], "projection_dims": [128, 256, 512, 1024], "default_size": 224},
    "large": {"depths": [3, 3, 27, 3], "projection_dims": [192, 384, 768, 1536], "default_size": 224},
    "xlarge": {"depths": [3, 3, 27, 3], "projection_dims": [256, 512, 1024, 2048], "default_size": 224},
}


def weights_file(weights_name: str, include_top: bool) -> _common.WeightsFile:
    fname = f"{weights_name}{'.h5' if include_top else '_notop.h5'}"
    return fname, BASE_WEIGHTS_PATH + fname, WEIGHTS_HASHES[weights_name][0 if include_top else 1]


class StochasticDepth(Layer):
    """Drops the whole residual branch of a sample with probability ``drop_path_rate`` while training.

    Kept samples are scaled by ``1 / (1 - drop_path_rate)``; at inference the layer is the identity.

    Args:
        drop_path_rate: probability of dropping a sample's branch.

    Example:
        >>> import torch
        >>> StochasticDepth(0.5)(torch.ones(2, 3)).tolist()
        [[1.0, 1.0, 1.0], [1.0, 1.0, 1.0]]
    """

    def __init__(self, drop_path_rate: float, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.drop_path_rate = drop_path_rate
        self.built = True

    def call(self, x: torch.Tensor, training: bool | None = None) -> torch.Tensor:
        if not training:
            return x
        keep_prob = 1.0 - self.drop_path_rate
        # one draw per sample, broadcast over the other axes: (N, 1, 1, ...)
        mask = torch.floor(keep_prob + torch.rand((x.shape[0],) + (1,) * (x.ndim - 1), dtype=x.dtype, device=x.device))
        return x / keep_prob * mask

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return input_shape

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "drop_path_rate": self.drop_path_rate}

    def extra_repr(self) -> str:
        return f"drop_path_rate={self.drop_path_rate}"


class LayerScale(Layer):
    """Multiplies the last axis by a learned per-channel ``gamma`` (initialized to ``init_values``).

    Args:
        init_values: initial value of every entry of ``gamma``.
        projection_dim: size of the last axis (and of ``gamma``).

    Example:
        >>> import torch
        >>> LayerScale(0.5, 2)(torch.ones(1, 2)).tolist()
        [[0.5, 0.5]]
    """

    def __init__(self, init_values: float, projection_dim: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.init_values = init_values
        self.projection_dim = projection_dim

    def build(self, input_shape: tuple) -> None:
        # unnamed, as in Keras: the weight is "variable" in its path and in weight files
        self.gamma = self.add_weight(
            shape=(self.projection_dim,), initializer=initializers.Constant(self.init_values), trainable=True
        )

    def call(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.gamma

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return input_shape

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "init_values": self.init_values, "projection_dim": self.projection_dim}

    def extra_repr(self) -> str:
        return f"init_values={self.init_values}, projection_dim={self.projection_dim}"


def ConvNeXtBlock(
    projection_dim: int, drop_path_rate: float = 0.0, layer_scale_init_value: float | None = 1e-6, name: str = ""
) -> Callable[[KerasTensor], KerasTensor]:
    """7x7 depthwise conv -> LayerNorm -> 4x MLP (gelu) -> LayerScale -> StochasticDepth, plus the input."""

    def apply(inputs: KerasTensor) -> KerasTensor:
        x = layers.Conv2D(
            filters=projection_dim, kernel_size=7, padding="same", groups=projection_dim, name=f"{name}_depthwise_conv"
        )(inputs)
        x = layers.LayerNormalization(epsilon=1e-6, name=f"{name}_layernorm")(x)
        x = layers.Dense(4 * projection_dim, name=f"{name}_pointwise_conv_1")(x)
        x = layers.Activation("gelu", name=f"{name}_gelu")(x)
        x = layers.Dense(projection_dim, name=f"{name}_pointwise_conv_2")(x)
        if layer_scale_init_value is not None:
            x = LayerScale(layer_scale_init_value, projection_dim, name=f"{name}_layer_scale")(x)
        if drop_path_rate:
            last = StochasticDepth(drop_path_rate, name=f"{name}_stochastic_depth")
        else:
            last = layers.Activation("linear", name=f"{name}_identity")
        return inputs + last(x)  # an operator, not an Add layer: Keras's graph has an `add` operation here

    return apply


def PreStem(name: str) -> Callable[[KerasTensor], KerasTensor]:
    """Normalizes [0, 255] pixels with ImageNet's mean and variance."""

    def apply(x: KerasTensor) -> KerasTensor:
        return layers.Normalization(
            mean=[0.485 * 255, 0.456 * 255, 0.406 * 255],
            variance=[(0.229 * 255) ** 2, (0.224 * 255) ** 2, (0.225 * 255) ** 2],
            name=f"{name}_prestem_normalization",
        )(x)

    return apply


def Head(num_classes: int = 1000, classifier_activation: Any = None, name: str = "") -> Callable:
    """Global average pool -> LayerNorm -> the classifier ``Dense``."""

    def apply(x: KerasTensor) -> KerasTensor:
        x = layers.GlobalAveragePooling2D(name=f"{name}_head_gap")(x)
        x = layers.LayerNormalization(epsilon=1e-6, name=f"{name}_head_layernorm")(x)
        return layers.Dense(num_classes, activation=classifier_activation, name=f"{name}_head_dense")(x)

    return apply


def _downsampling_layers(name: str, projection_dims: list[int]) -> list[Sequential]:
    """The patchify stem and the three 2x2 downsamplings, each a small Sequential (as in Keras's graph)."""
    stem = Sequential(
        [
            layers.Conv2D(projection_dims[0], kernel_size=4, strides=4, name=f"{name}_stem_conv"),
            layers.LayerNormalization(epsilon=1e-6, name=f"{name}_stem_layernorm"),
        ],
        name=f"{name}_stem",
    )
    downsampling = [
        Sequential(
            [
                layers.LayerNormalization(epsilon=1e-6, name=f"{name}_downsampling_layernorm_{i}"),
                layers.Conv2D(projection_dims[i + 1], kernel_size=2, strides=2, name=f"{name}_downsampling_conv_{i}"),
            ],
            name=f"{name}_downsampling_block_{i}",
        )
        for i in range(3)
    ]
    return [stem, *downsampling]


def _check_imagenet_config(weights_name: str, depths: list[int], projection_dims: list[int]) -> None:
    expected = MODEL_CONFIGS[weights_name.split("convnext_")[-1]]
    if list(depths) != expected["depths"] or list(projection_dims) != expected["projection_dims"]:
        raise ValueError(
            f"Architecture configuration does not match {weights_name} variant. When using pre-trained weights, "
            "the model architecture must match the pre-trained configuration exactly. "
            f"Expected depths: {expected['depths']}, got: {depths}. Expected projection_dims: "
            f"{expected['projection_dims']}, got: {projection_dims}."
        )


def ConvNeXt(
    depths: list[int],
    projection_dims: list[int],
    drop_path_rate: float = 0.0,
    layer_scale_init_value: float | None = 1e-6,
    default_size: int = 224,
    name: str = "convnext",
    include_preprocessing: bool = True,
    include_top: bool = True,
    weights: Any = None,
    input_tensor: Any = None,
    input_shape: tuple | None = None,
    pooling: str | None = None,
    classes: int = 1000,
    classifier_activation: Any = "softmax",
    weights_name: str | None = None,
) -> Model:
    """A ConvNeXt with ``depths[i]`` blocks of width ``projection_dims[i]`` in each of its four stages."""
    _common.require_channels_last("ConvNeXt")
    _common.check_weights(weights, include_top, classes)
    if weights == "imagenet" and weights_name:
        _check_imagenet_config(weights_name, depths, projection_dims)
    input_shape = imagenet_utils.obtain_input_shape(
        input_shape, default_size, 32, _common.data_format(), require_flatten=include_top, weights=weights
    )
    img_input = _common.image_input(input_tensor, input_shape)
    if input_tensor is not None:
        inputs, x = _common.get_source_inputs(input_tensor)[0], input_tensor
    else:
        inputs = x = img_input
    if include_preprocessing and input_shape[2] == 3:
        x = PreStem(name=name)(x)
    downsampling = _downsampling_layers(name, projection_dims)
    drop_rates = [float(r) for r in np.linspace(0.0, drop_path_rate, sum(depths))]
    cur = 0
    for i in range(4):
        x = downsampling[i](x)
        for j in range(depths[i]):
            x = ConvNeXtBlock(
                projection_dim=projection_dims[i],
                drop_path_rate=drop_rates[cur + j],
                layer_scale_init_value=layer_scale_init_value,
                name=f"{name}_stage_{i}_block_{j}",
            )(x)
        cur += depths[i]
    if include_top:
        imagenet_utils.validate_activation(classifier_activation, weights)
        x = Head(num_classes=classes, classifier_activation=classifier_activation, name=name)(x)
    else:
        x = _common.global_pool(x, pooling, named=False)
        x = layers.LayerNormalization(epsilon=1e-6)(x)
    wfile = weights_file(weights_name, include_top) if weights == "imagenet" and weights_name else None
    # the sources of `input_tensor` are already in `inputs` (Keras takes the first one)
    return _common.finish(inputs, None, x, name, weights, wfile)


def _variant(size: str, **kwargs: Any) -> Model:
    config = MODEL_CONFIGS[size]
    return ConvNeXt(
        weights_name=f"convnext_{size}",
        depths=config["depths"],
        projection_dims=config["projection_dims"],
        drop_path_rate=0.0,
        layer_scale_init_value=1e-6,
        default_size=config["default_size"],
        **kwargs,
    )


def ConvNeXtTiny(
    include_top: bool = True,
    include_preprocessing: bool = True,
    weights: Any = "imagenet",
    input_tensor: Any = None,
    input_shape: tuple | None = None,
    pooling: str | None = None,
    classes: int = 1000,
    classifier_activation: Any = "softmax",
    name: str = "convnext_tiny",
) -> Model:
    return _variant(
        "tiny",
        name=name,
        include_top=include_top,
        include_preprocessing=include_preprocessing,
        weights=weights,
        input_tensor=input_tensor,
        input_shape=input_shape,
        pooling=pooling,
        classes=classes,
        classifier_activation=classifier_activation,
    )


def ConvNeXtSmall(
    include_top: bool = True,
    include_preprocessing: bool = True,
    weights: Any = "imagenet",
    input_tensor: Any = None,
    input_shape: tuple | None = None,
    pooling: str | None = None,
    classes: int = 1000,
    classifier_activation: Any = "softmax",
    name: str = "convnext_small",
) -> Model:
    return _variant(
        "small",
        name=name,
        include_top=include_top,
        include_preprocessing=include_preprocessing,
        weights=weights,
        input_tensor=input_tensor,
        input_shape=input_shape,
        pooling=pooling,
        classes=classes,
        classifier_activation=classifier_activation,
    )


def ConvNeXtBase(
    include_top: bool = True,
    include_preprocessing: bool = True,
    weights: Any = "imagenet",
    input_tensor: Any = None,
    input_shape: tuple | None = None,
    pooling: str | None = None,
    classes: int = 1000,
    classifier_activation: Any = "softmax",
    name: str = "convnext_base",
) -> Model:
    return _variant(
        "base",
        name=name,
        include_top=include_top,
        include_preprocessing=include_preprocessing,
        weights=weights,
        input_tensor=input_tensor,
        input_shape=input_shape,
        pooling=pooling,
        classes=classes,
        classifier_activation=classifier_activation,
    )


def ConvNeXtLarge(
    include_top: bool = True,
    include_preprocessing: bool = True,
    weights: Any = "imagenet",
    input_tensor: Any = None,
    input_shape: tuple | None = None,
    pooling: str | None = None,
    classes: int = 1000,
    classifier_activation: Any = "softmax",
    name: str = "convnext_large",
) -> Model:
    return _variant(
        "large",
        name=name,
        include_top=include_top,
        include_preprocessing=include_preprocessing,
        weights=weights,
        input_tensor=input_tensor,
        input_shape=input_shape,
        pooling=pooling,
        classes=classes,
        classifier_activation=classifier_activation,
    )


def ConvNeXtXLarge(
    include_top: bool = True,
    include_preprocessing: bool = True,
    weights: Any = "imagenet",
    input_tensor: Any = None,
    input_shape: tuple | None = None,
    pooling: str | None = None,
    classes: int = 1000,
    classifier_activation: Any = "softmax",
    name: str = "convnext_xlarge",
) -> Model:
    return _variant(
        "xlarge",
        name=name,
        include_top=include_top,
        include_preprocessing=include_preprocessing,
        weights=weights,
        input_tensor=input_tensor,
        input_shape=input_shape,
        pooling=pooling,
        classes=classes,
        classifier_activation=classifier_activation,
    )


def preprocess_input(x: Any, data_format: str | None = None) -> Any:
    """A pass-through: ConvNeXt models normalize their inputs themselves (``include_preprocessing=True``).

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
    "[A ConvNet for the 2020s](https://arxiv.org/abs/2201.03545) (CVPR 2022)",
    "The model takes pixels in [0, 255] (`include_preprocessing=True` normalizes them). Default input 224x224; "
    "at least 32x32.",
    """
    include_preprocessing: start with a ``Normalization`` of [0, 255] pixels by ImageNet's mean and variance.""",
)
for _fn in (ConvNeXtTiny, ConvNeXtSmall, ConvNeXtBase, ConvNeXtLarge, ConvNeXtXLarge):
    _fn.__doc__ = _DOC.format(_fn.__name__)

# Keras writes these classes under its application module (with their class name as registered name).
serialization.register_builtins(
    "keras.src.applications.convnext",
    {"LayerScale": LayerScale, "StochasticDepth": StochasticDepth},
    self_registered=True,
)
