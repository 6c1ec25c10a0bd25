"""The build arguments the application tests use, and the digests they compare.

Each model is built with ``include_top=True`` and the smallest input its family accepts, so the
classifier is counted too while the graph stays cheap (the count of weights does not depend on
the input size, except VGG's ``Flatten`` -> ``fc1``, which Keras counts at the same size).
"""

from __future__ import annotations

import hashlib
from typing import Any

_S32 = {"input_shape": (32, 32, 3)}

SPECS: dict[str, dict[str, Any]] = {
    "ConvNeXtTiny": _S32,
    "ConvNeXtSmall": _S32,
    "ConvNeXtBase": _S32,
    "ConvNeXtLarge": _S32,
    "ConvNeXtXLarge": _S32,
    "DenseNet121": _S32,
    "DenseNet169": _S32,
    "DenseNet201": _S32,
    "EfficientNetB0": _S32,
    "EfficientNetB1": _S32,
    "EfficientNetB2": _S32,
    "EfficientNetB3": _S32,
    "EfficientNetB4": _S32,
    "EfficientNetB5": _S32,
    "EfficientNetB6": _S32,
    "EfficientNetB7": _S32,
    "EfficientNetV2B0": _S32,
    "EfficientNetV2B1": _S32,
    "EfficientNetV2B2": _S32,
    "EfficientNetV2B3": _S32,
    "EfficientNetV2S": _S32,
    "EfficientNetV2M": _S32,
    "EfficientNetV2L": _S32,
    "InceptionResNetV2": {"input_shape": (75, 75, 3)},
    "InceptionV3": {"input_shape": (75, 75, 3)},
    "MobileNet": _S32,
    "MobileNetV2": _S32,
    "MobileNetV3Small": _S32,
    "MobileNetV3Large": _S32,
    "NASNetMobile": _S32,
    "NASNetLarge": _S32,
    "ResNet50": _S32,
    "ResNet101": _S32,
    "ResNet152": _S32,
    "ResNet50V2": _S32,
    "ResNet101V2": _S32,
    "ResNet152V2": _S32,
    "VGG16": _S32,
    "VGG19": _S32,
    "Xception": {"input_shape": (71, 71, 3)},
}

# Keras's constructor -> its family module, for the tests that compare module by module.
FAMILY = {
    **{n: "convnext" for n in ("ConvNeXtTiny", "ConvNeXtSmall", "ConvNeXtBase", "ConvNeXtLarge", "ConvNeXtXLarge")},
    **{n: "densenet" for n in ("DenseNet121", "DenseNet169", "DenseNet201")},
    **{f"EfficientNetB{i}": "efficientnet" for i in range(8)},
    **{f"EfficientNetV2{v}": "efficientnet_v2" for v in ("B0", "B1", "B2", "B3", "S", "M", "L")},
    "InceptionResNetV2": "inception_resnet_v2",
    "InceptionV3": "inception_v3",
    "MobileNet": "mobilenet",
    "MobileNetV2": "mobilenet_v2",
    "MobileNetV3Small": "mobilenet_v3",
    "MobileNetV3Large": "mobilenet_v3",
    "NASNetMobile": "nasnet",
    "NASNetLarge": "nasnet",
    **{n: "resnet" for n in ("ResNet50", "ResNet101", "ResNet152")},
    **{n: "resnet_v2" for n in ("ResNet50V2", "ResNet101V2", "ResNet152V2")},
    "VGG16": "vgg16",
    "VGG19": "vgg19",
    "Xception": "xception",
}


def _sha(lines: list[str]) -> str:
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()[:16]


def layer_names(model: Any) -> list[str]:
    return [f"{layer.name}:{type(layer).__name__}" for layer in model.layers]


def weight_rows(model: Any) -> list[str]:
    trainable = {id(w) for w in model.trainable_weights}
    return [f"{w.path}:{tuple(w.shape)}:{int(id(w) in trainable)}" for w in model.weights]


def digest_layers(model: Any) -> str:
    return _sha(layer_names(model))


def digest_weights(model: Any) -> str:
    return _sha(weight_rows(model))


def keras_constructor(name: str) -> Any:
    """Keras's constructor; NASNetMobile through ``nasnet.NASNet`` (Keras refuses it on torch, see below)."""
    import keras

    if name != "NASNetMobile":
        return getattr(keras.applications, name)
    from keras.src.applications import nasnet

    def nasnet_mobile(input_shape=None, include_top=True, weights=None, name="nasnet_mobile", **kwargs):
        # the arguments keras.applications.NASNetMobile passes on; it raises on the torch backend
        # ("not available ... due to an outstanding bug") before building anything.
        if not include_top and input_shape is None:
            input_shape = (224, 224, 3)
        return nasnet.NASNet(
            input_shape,
            penultimate_filters=1056,
            num_blocks=4,
            stem_block_filters=32,
            skip_reduction=False,
            filter_multiplier=2,
            include_top=include_top,
            weights=weights,
            default_size=224,
            name=name,
            **kwargs,
        )

    return nasnet_mobile
