"""Normalization layers: Batch, Layer, Group, Unit, RMS and Spectral normalization.

Weights, defaults and configs follow Keras 3. Statistics are computed in at least float32
(half-precision inputs are upcast and the result cast back), as Keras does.
"""

from lamina.layers.normalization.batch_normalization import BatchNormalization
from lamina.layers.normalization.group_normalization import GroupNormalization
from lamina.layers.normalization.layer_normalization import LayerNormalization
from lamina.layers.normalization.spectral_normalization import SpectralNormalization
from lamina.layers.normalization.unit_normalization import RMSNormalization, UnitNormalization

__all__ = [
    "BatchNormalization",
    "GroupNormalization",
    "LayerNormalization",
    "RMSNormalization",
    "SpectralNormalization",
    "UnitNormalization",
]
