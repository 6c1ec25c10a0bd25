"""Preprocessing layers (``keras.layers``): numeric today; structured, text, image and audio as they land."""

from lamina.layers.preprocessing.normalization import Normalization
from lamina.layers.preprocessing.rescaling import Rescaling

__all__ = ["Normalization", "Rescaling"]
