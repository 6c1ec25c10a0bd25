"""Lamina: the Keras experience on PyTorch.

``import lamina as keras`` and the Keras Sequential guide runs unchanged.

Example:
    >>> import numpy as np
    >>> import lamina as keras
    >>> from lamina import layers
    >>> model = keras.Sequential([keras.Input(shape=(4,)), layers.Dense(2)])
    >>> model.output_shape
    (None, 2)
    >>> keras.version()   # the Keras release whose API Lamina follows
    '3.15.1'
"""

from lamina import (
    activations,
    applications,
    backend,
    callbacks,
    config,
    constraints,
    datasets,
    distribution,
    dtype_policies,
    initializers,
    layers,
    legacy,
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
    visualization,
)
from lamina.backend.core import device
from lamina.backend.naming import name_scope
from lamina.backend.remat import RematScope, remat
from lamina.backend.symbolic_scope import SymbolicScope
from lamina.dtype_policies import DTypePolicy, FloatDTypePolicy
from lamina.initializers import Initializer
from lamina.layers import Input, InputSpec, KerasTensor, Layer, Variable
from lamina.losses import Loss
from lamina.metrics import Metric
from lamina.models import Model, Sequential
from lamina.ops.function import Function
from lamina.ops.operation import Operation
from lamina.optimizers import Optimizer
from lamina.regularizers import Regularizer
from lamina.variable import StatelessScope
from lamina.version import LAMINA_VERSION as __lamina_version__
from lamina.version import __version__, version


def __getattr__(name: str) -> object:
    # `keras.wrappers` imports scikit-learn when it is installed: loaded on first use, not with lamina
    if name == "wrappers":
        import importlib

        return importlib.import_module("lamina.wrappers")
    raise AttributeError(f"module 'lamina' has no attribute {name!r}")


__all__ = [
    "DTypePolicy",
    "FloatDTypePolicy",
    "Function",
    "Initializer",
    "Input",
    "InputSpec",
    "KerasTensor",
    "Layer",
    "Loss",
    "Metric",
    "Model",
    "Operation",
    "Optimizer",
    "Regularizer",
    "RematScope",
    "Sequential",
    "StatelessScope",
    "SymbolicScope",
    "Variable",
    "__lamina_version__",
    "__version__",
    "activations",
    "applications",
    "backend",
    "callbacks",
    "config",
    "constraints",
    "datasets",
    "device",
    "distribution",
    "dtype_policies",
    "initializers",
    "legacy",
    "layers",
    "losses",
    "metrics",
    "mixed_precision",
    "models",
    "name_scope",
    "ops",
    "optimizers",
    "preprocessing",
    "random",
    "regularizers",
    "remat",
    "saving",
    "utils",
    "visualization",
    "version",
    "wrappers",
]
