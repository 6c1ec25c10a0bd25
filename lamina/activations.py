"""Activation functions by Keras name, over torch tensors.

Example:
    >>> import torch, lamina
    >>> lamina.activations.get("relu")(torch.tensor([-1.0, 2.0])).tolist()
    [0.0, 2.0]
    >>> lamina.activations.serialize(lamina.activations.get("softmax"))
    'softmax'
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F

from lamina import serialization
from lamina.ops import nn as ops_nn


def relu(
    x: torch.Tensor, negative_slope: float = 0.0, max_value: float | None = None, threshold: float = 0.0
) -> torch.Tensor:
    """Keras's relu with optional ``negative_slope``, ``max_value`` and ``threshold``."""
    if negative_slope == 0.0 and threshold == 0.0:
        # relu6 and friends in one pass: clamp to [0, max_value] (NaN stays NaN, as with relu then clamp)
        return F.relu(x) if max_value is None else torch.clamp(x, min=0.0, max=max_value)
    if threshold != 0.0:
        y = torch.where(x > threshold, x, torch.zeros_like(x))
        if negative_slope != 0.0:
            y = y + negative_slope * torch.where(x > threshold, torch.zeros_like(x), x - threshold)
    elif negative_slope != 0.0:
        y = torch.where(x >= 0, x, negative_slope * x)
    else:
        y = F.relu(x)
    if max_value is not None:
        y = torch.clamp(y, max=max_value)
    return y


def relu6(x):
    return F.relu6(x)


def leaky_relu(x, negative_slope: float = 0.2):
    return F.leaky_relu(x, negative_slope)


def elu(x, alpha: float = 1.0):
    return F.elu(x, alpha)


def selu(x):
    return F.selu(x)


def celu(x, alpha: float = 1.0):
    return F.celu(x, alpha)


def sigmoid(x):
    return torch.sigmoid(x)


def tanh(x):
    return torch.tanh(x)


def softplus(x):
    return F.softplus(x)


def softsign(x):
    return F.softsign(x)


def silu(x):
    return F.silu(x)


def exponential(x):
    return torch.exp(x)


def linear(x):
    return x


def mish(x):
    return F.mish(x)


def log_sigmoid(x):
    return F.logsigmoid(x)


def hard_silu(x):
    return x * F.relu6(x + 3.0) / 6.0


def tanh_shrink(x):
    return x - torch.tanh(x)


def squareplus(x, b: float = 4.0):
    return (x + torch.sqrt(x * x + b)) / 2.0


def sparse_plus(x):
    return torch.where(x <= -1, torch.zeros_like(x), torch.where(x >= 1, x, (x + 1) ** 2 / 4))


def soft_shrink(x, threshold: float = 0.5):
    return F.softshrink(x, threshold)


def hard_shrink(x, threshold: float = 0.5):
    return F.hardshrink(x, threshold)


def hard_tanh(x):
    return F.hardtanh(x)


def hard_sigmoid(x: torch.Tensor) -> torch.Tensor:
    """Keras 3's hard sigmoid: ``relu6(x + 3) / 6``."""
    return F.relu6(x + 3.0) / 6.0


def gelu(x: torch.Tensor, approximate: bool = False) -> torch.Tensor:
    return F.gelu(x, approximate="tanh" if approximate else "none")


def softmax(x: torch.Tensor, axis: int = -1) -> torch.Tensor:
    return torch.softmax(x, dim=axis)


def log_softmax(x: torch.Tensor, axis: int = -1) -> torch.Tensor:
    return torch.log_softmax(x, dim=axis)


def glu(x: torch.Tensor, axis: int = -1) -> torch.Tensor:
    return F.glu(x, dim=axis)


def threshold(x: torch.Tensor, threshold: float, default_value: float) -> torch.Tensor:
    return torch.where(x > threshold, x, torch.full_like(x, default_value))


def sparse_sigmoid(x: torch.Tensor) -> torch.Tensor:
    """0 for ``x <= -1``, 1 for ``x >= 1``, ``(x + 1) / 2`` between (Blondel et al., 2019)."""
    return ops_nn.sparse_sigmoid(x)


def sparsemax(x: torch.Tensor, axis: int = -1) -> torch.Tensor:
    """The Euclidean projection of ``x`` onto the probability simplex along ``axis``: a softmax whose outputs
    can be exactly 0 (Martins et al., 2016)."""
    return ops_nn.sparsemax(x, axis)


swish = silu
hard_swish = hard_silu
_ = math

_ACTIVATIONS: dict[str, Callable[..., torch.Tensor]] = {
    f.__name__: f
    for f in (
        relu,
        relu6,
        leaky_relu,
        elu,
        selu,
        celu,
        sigmoid,
        tanh,
        softplus,
        softsign,
        silu,
        exponential,
        linear,
        mish,
        log_sigmoid,
        hard_silu,
        tanh_shrink,
        squareplus,
        sparse_plus,
        soft_shrink,
        hard_shrink,
        hard_tanh,
        hard_sigmoid,
        gelu,
        softmax,
        log_softmax,
        glu,
        sparse_sigmoid,
        sparsemax,
    )
}
_ALIASES = {"swish": silu, "hard_swish": hard_silu}


_FAMILY = serialization.ObjectFamily("keras.activations", "activation", {**_ACTIVATIONS, **_ALIASES})


def get(identifier: Any) -> Callable[..., torch.Tensor]:
    """Resolves ``None`` (linear), a name, a serialized dict or a callable to an activation function.

    Raises:
        ValueError: for an unknown name; the message lists the valid ones.
    """
    if identifier is None:
        return linear
    return _FAMILY.get(identifier)


def serialize(activation: Callable[..., Any]) -> Any:
    """Built-in activations serialize to their name, as in Keras configs."""
    home = serialization.builtin_home(activation)
    if home is not None and home[0] == "keras.activations":
        return home[1]
    return serialization.serialize_keras_object(activation)


def deserialize(config: Any, custom_objects: dict[str, Any] | None = None) -> Callable[..., torch.Tensor]:
    """Rebuilds an activation from :func:`serialize`'s output (a name or a config dict)."""
    return _FAMILY.deserialize(config, custom_objects)
