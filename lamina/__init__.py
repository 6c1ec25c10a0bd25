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
    backend,
    callbacks,
    config,
    constraints,
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

# Loaded on first use, not with lamina (`lamina.applications`, `from lamina import datasets` and
# `import lamina.visualization` all work): `keras.wrappers` imports scikit-learn when it is installed, and the
# others are large (applications ~0.4 s) and needed by few programs.
_LAZY_SUBMODULES = ("applications", "datasets", "visualization", "wrappers")


def __getattr__(name: str) -> object:
    if name in _LAZY_SUBMODULES:
        import importlib

        return importlib.import_module(f"lamina.{name}")
    raise AttributeError(f"module 'lamina' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY_SUBMODULES))


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
