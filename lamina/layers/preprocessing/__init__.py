"""Preprocessing layers (``keras.layers``): numeric, categorical, text, image (image_preprocessing/), audio
(audio/) and Pipeline."""

from lamina.layers.preprocessing.audio import MelSpectrogram, STFTSpectrogram
from lamina.layers.preprocessing.category_encoding import CategoryEncoding
from lamina.layers.preprocessing.discretization import Discretization
from lamina.layers.preprocessing.hashed_crossing import HashedCrossing
from lamina.layers.preprocessing.hashing import Hashing
from lamina.layers.preprocessing.image_preprocessing import (
    AugMix,
    AutoContrast,
    CenterCrop,
    ContrastLimitedAdaptiveHistogramEqualization,
    CutMix,
    Equalization,
    MaxNumBoundingBoxes,
    MixUp,
    RandAugment,
    RandomBrightness,
    RandomColorDegeneration,
    RandomColorJitter,
    RandomContrast,
    RandomCrop,
    RandomElasticTransform,
    RandomErasing,
    RandomFlip,
    RandomGaussianBlur,
    RandomGrayscale,
    RandomHue,
    RandomInvert,
    RandomPerspective,
    RandomPosterization,
    RandomRotation,
    RandomSaturation,
    RandomSharpness,
    RandomShear,
    RandomTranslation,
    RandomZoom,
    Resizing,
    Solarization,
)
from lamina.layers.preprocessing.integer_lookup import IntegerLookup
from lamina.layers.preprocessing.normalization import Normalization
from lamina.layers.preprocessing.pipeline import Pipeline
from lamina.layers.preprocessing.rescaling import Rescaling
from lamina.layers.preprocessing.string_lookup import StringLookup
from lamina.layers.preprocessing.text_vectorization import TextVectorization

__all__ = [
    "AugMix",
    "AutoContrast",
    "CategoryEncoding",
    "CenterCrop",
    "ContrastLimitedAdaptiveHistogramEqualization",
    "CutMix",
    "Discretization",
    "Equalization",
    "HashedCrossing",
    "Hashing",
    "IntegerLookup",
    "MaxNumBoundingBoxes",
    "MelSpectrogram",
    "MixUp",
    "Normalization",
    "Pipeline",
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
    "Rescaling",
    "Resizing",
    "STFTSpectrogram",
    "Solarization",
    "StringLookup",
    "TextVectorization",
]
