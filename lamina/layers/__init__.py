"""Layers, channels-last by default, one family per module."""

from lamina.layers.core import Activation, Dense, Identity
from lamina.layers.input_layer import Input, InputLayer
from lamina.layers.keras_tensor import KerasTensor
from lamina.layers.layer import InputSpec, Layer
from lamina.layers.normalization import BatchNormalization, GroupNormalization, LayerNormalization, UnitNormalization
from lamina.layers.variable import Variable

__all__ = [
    "Activation",
    "BatchNormalization",
    "Dense",
    "GroupNormalization",
    "Identity",
    "Input",
    "InputLayer",
    "InputSpec",
    "KerasTensor",
    "Layer",
    "LayerNormalization",
    "UnitNormalization",
    "Variable",
]
