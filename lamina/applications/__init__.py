"""``keras.applications``: the 40 ImageNet architectures, with Keras's layer names and weight files.

Every constructor takes Keras's arguments (``include_top``, ``weights``, ``input_tensor``,
``input_shape``, ``pooling``, ``classes``, ``classifier_activation`` and the family's extras) and
builds a functional ``Model`` whose layers, weights and weight order are Keras's, so
``weights="imagenet"`` (Keras's own files, cached in ``~/.keras/models``) and weight files written
by Keras load unchanged. Each family module also has ``preprocess_input`` and ``decode_predictions``.

Example:
    >>> import lamina as keras
    >>> base = keras.applications.MobileNetV3Small(
    ...     weights=None, input_shape=(32, 32, 3), include_top=False, pooling="avg"
    ... )
    >>> base.trainable = False
    >>> model = keras.Sequential([base, keras.layers.Dense(10)])
    >>> model.output_shape, len(model.trainable_weights)
    ((None, 10), 2)
"""

from lamina.applications import (
    convnext,
    densenet,
    efficientnet,
    efficientnet_v2,
    imagenet_utils,
    inception_resnet_v2,
    inception_v3,
    mobilenet,
    mobilenet_v2,
    mobilenet_v3,
    nasnet,
    resnet,
    resnet50,
    resnet_v2,
    vgg16,
    vgg19,
    xception,
)
from lamina.applications.convnext import ConvNeXtBase, ConvNeXtLarge, ConvNeXtSmall, ConvNeXtTiny, ConvNeXtXLarge
from lamina.applications.densenet import DenseNet121, DenseNet169, DenseNet201
from lamina.applications.efficientnet import (
    EfficientNetB0,
    EfficientNetB1,
    EfficientNetB2,
    EfficientNetB3,
    EfficientNetB4,
    EfficientNetB5,
    EfficientNetB6,
    EfficientNetB7,
)
from lamina.applications.efficientnet_v2 import (
    EfficientNetV2B0,
    EfficientNetV2B1,
    EfficientNetV2B2,
    EfficientNetV2B3,
    EfficientNetV2L,
    EfficientNetV2M,
    EfficientNetV2S,
)
from lamina.applications.inception_resnet_v2 import InceptionResNetV2
from lamina.applications.inception_v3 import InceptionV3
from lamina.applications.mobilenet import MobileNet
from lamina.applications.mobilenet_v2 import MobileNetV2
from lamina.applications.mobilenet_v3 import MobileNetV3Large, MobileNetV3Small
from lamina.applications.nasnet import NASNetLarge, NASNetMobile
from lamina.applications.resnet import ResNet50, ResNet101, ResNet152
from lamina.applications.resnet_v2 import ResNet50V2, ResNet101V2, ResNet152V2
from lamina.applications.vgg16 import VGG16
from lamina.applications.vgg19 import VGG19
from lamina.applications.xception import Xception

__all__ = [
    "ConvNeXtBase",
    "ConvNeXtLarge",
    "ConvNeXtSmall",
    "ConvNeXtTiny",
    "ConvNeXtXLarge",
    "DenseNet121",
    "DenseNet169",
    "DenseNet201",
    "EfficientNetB0",
    "EfficientNetB1",
    "EfficientNetB2",
    "EfficientNetB3",
    "EfficientNetB4",
    "EfficientNetB5",
    "EfficientNetB6",
    "EfficientNetB7",
    "EfficientNetV2B0",
    "EfficientNetV2B1",
    "EfficientNetV2B2",
    "EfficientNetV2B3",
    "EfficientNetV2L",
    "EfficientNetV2M",
    "EfficientNetV2S",
    "InceptionResNetV2",
    "InceptionV3",
    "MobileNet",
    "MobileNetV2",
    "MobileNetV3Large",
    "MobileNetV3Small",
    "NASNetLarge",
    "NASNetMobile",
    "ResNet101",
    "ResNet101V2",
    "ResNet152",
    "ResNet152V2",
    "ResNet50",
    "ResNet50V2",
    "VGG16",
    "VGG19",
    "Xception",
    "convnext",
    "densenet",
    "efficientnet",
    "efficientnet_v2",
    "imagenet_utils",
    "inception_resnet_v2",
    "inception_v3",
    "mobilenet",
    "mobilenet_v2",
    "mobilenet_v3",
    "nasnet",
    "resnet",
    "resnet50",
    "resnet_v2",
    "vgg16",
    "vgg19",
    "xception",
]
