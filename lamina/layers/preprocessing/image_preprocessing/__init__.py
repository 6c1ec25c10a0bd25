"""Image preprocessing and augmentation layers (Keras's ``keras.layers`` image family), on ``lamina.ops.image``.

Every layer works on a batch ``(N, H, W, C)`` (or ``(N, C, H, W)`` channels-first) or one image, on
the images' device, in a handful of batched torch ops; random layers draw from their own
:class:`~lamina.random.SeedGenerator`, the same numbers Keras draws for the same seed.
"""

from lamina.layers.preprocessing.image_preprocessing.affine import (
    RandomRotation,
    RandomShear,
    RandomTranslation,
    RandomZoom,
)
from lamina.layers.preprocessing.image_preprocessing.base import BaseImagePreprocessingLayer
from lamina.layers.preprocessing.image_preprocessing.blur_erase import RandomErasing, RandomGaussianBlur
from lamina.layers.preprocessing.image_preprocessing.color_adjust import (
    RandomBrightness,
    RandomColorJitter,
    RandomContrast,
    RandomHue,
    RandomSaturation,
)
from lamina.layers.preprocessing.image_preprocessing.color_effects import (
    RandomColorDegeneration,
    RandomGrayscale,
    RandomInvert,
    RandomPosterization,
    RandomSharpness,
    Solarization,
)
from lamina.layers.preprocessing.image_preprocessing.histogram import (
    AutoContrast,
    ContrastLimitedAdaptiveHistogramEqualization,
    Equalization,
)
from lamina.layers.preprocessing.image_preprocessing.max_num_bounding_boxes import MaxNumBoundingBoxes
from lamina.layers.preprocessing.image_preprocessing.mixing import CutMix, MixUp
from lamina.layers.preprocessing.image_preprocessing.policies import AugMix, RandAugment
from lamina.layers.preprocessing.image_preprocessing.random_flip import RandomFlip
from lamina.layers.preprocessing.image_preprocessing.resizing import CenterCrop, RandomCrop, Resizing
from lamina.layers.preprocessing.image_preprocessing.warp import RandomElasticTransform, RandomPerspective

__all__ = [
    "AugMix",
    "AutoContrast",
    "BaseImagePreprocessingLayer",
    "CenterCrop",
    "ContrastLimitedAdaptiveHistogramEqualization",
    "CutMix",
    "Equalization",
    "MaxNumBoundingBoxes",
    "MixUp",
    "RandAugment",
    "RandomBrightness",
    "RandomColorDegeneration",
    "RandomColorJitter",
    "RandomContrast",
    "RandomCrop",
    "RandomElasticTransform",
    "RandomErasing",
    "RandomFlip",
    "RandomGaussianBlur",
    "RandomGrayscale",
    "RandomHue",
    "RandomInvert",
    "RandomPerspective",
    "RandomPosterization",
    "RandomRotation",
    "RandomSaturation",
    "RandomSharpness",
    "RandomShear",
    "RandomTranslation",
    "RandomZoom",
    "Resizing",
    "Solarization",
]
