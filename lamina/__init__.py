"""Lamina: the Keras experience on PyTorch.

``import lamina as keras`` and the Keras Sequential guide runs unchanged.

Example:
    >>> import numpy as np
    >>> import lamina as keras
    >>> from lamina import layers
    >>> model = keras.Sequential([keras.Input(shape=(4,)), layers.Dense(2)])
    >>> model.output_shape
    (None, 2)
"""

from lamina import (
    activations,
    applications,
    backend,
    callbacks,
    constraints,
    datasets,
    distribution,
    initializers,
    layers,
    losses,
    metrics,
    mixed_precision,
    models,
    ops,
    optimizers,
    preprocessing,
    random,
    regularizers,
    saving,
    utils,
)
from lamina.layers import Input, InputSpec, KerasTensor, Layer, Variable
from lamina.models import Model, Sequential

__version__ = "0.1.0"

__all__ = [
    "Input",
    "InputSpec",
    "KerasTensor",
    "Layer",
    "Model",
    "Sequential",
    "Variable",
    "activations",
    "applications",
    "backend",
    "callbacks",
    "constraints",
    "datasets",
    "distribution",
    "initializers",
    "layers",
    "losses",
    "metrics",
    "mixed_precision",
    "models",
    "ops",
    "optimizers",
    "preprocessing",
    "random",
    "regularizers",
    "saving",
    "utils",
]
