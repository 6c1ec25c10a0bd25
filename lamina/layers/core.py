"""Core layers: Dense, Identity, Activation, and the symbolic-operator layer behind ``KerasTensor`` math."""

from __future__ import annotations

import operator
from typing import Any

import torch
import torch.nn.functional as F

from lamina import activations, constraints, initializers, regularizers
from lamina.layers.layer import InputSpec, Layer


def _ser(obj: Any, module: Any) -> Any:
    return None if obj is None else module.serialize(obj)


class Dense(Layer):
    """A densely connected layer: ``activation(inputs @ kernel + bias)`` on the last axis.

    Args:
        units: positive int, size of the output's last axis.
        activation: name or callable; default none (linear).
        use_bias: whether to add a bias vector.
        kernel_initializer / bias_initializer: default ``glorot_uniform`` / ``zeros``.
        kernel_regularizer / bias_regularizer / activity_regularizer: optional penalties.
        kernel_constraint / bias_constraint: optional projections after each update.

    Input shape:
        ``(batch, ..., input_dim)``.

    Output shape:
        ``(batch, ..., units)``.

    Example:
        >>> import numpy as np, lamina
        >>> layer = lamina.layers.Dense(2, activation="relu", name="layer1")
        >>> layer(np.ones((3, 3), "float32")).shape
        torch.Size([3, 2])
        >>> [(v.path, v.shape) for v in layer.weights]
        [('layer1/kernel', (3, 2)), ('layer1/bias', (2,))]
    """

    def __init__(self, units: int, activation: Any = None, use_bias: bool = True,
                 kernel_initializer: Any = "glorot_uniform", bias_initializer: Any = "zeros",
                 kernel_regularizer: Any = None, bias_regularizer: Any = None, activity_regularizer: Any = None,
                 kernel_constraint: Any = None, bias_constraint: Any = None, **kwargs: Any) -> None:
        if isinstance(units, bool) or not isinstance(units, int) or units <= 0:
            raise ValueError(
                f"Received an invalid value for `units`, expected a positive integer. Received: units={units!r}"
            )
        for key in ("lora_rank", "lora_alpha", "quantization_config"):
            if kwargs.pop(key, None) is not None:
                raise ValueError(f"Dense: `{key}` is not supported by Lamina.")
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        self.units = units
        self.activation = activations.get(activation)
        self.use_bias = use_bias
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.input_spec = InputSpec(min_ndim=2)
        self.supports_masking = True

    def build(self, input_shape: tuple) -> None:
        input_dim = input_shape[-1]
        if input_dim is None:
            raise self._error("a known last axis", f"input_shape={tuple(input_shape)}",
                              "Give the input a defined feature size.")
        self.kernel = self.add_weight(name="kernel", shape=(input_dim, self.units),
                                      initializer=self.kernel_initializer, regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint)
        if self.use_bias:
            self.bias = self.add_weight(name="bias", shape=(self.units,), initializer=self.bias_initializer,
                                        regularizer=self.bias_regularizer, constraint=self.bias_constraint)
        else:
            self.bias = None
        self.input_spec = InputSpec(min_ndim=2, axes={-1: input_dim})
        self.built = True

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        # kernel is Keras's (in, out); F.linear wants (out, in): the transpose is a view, no copy.
        x = F.linear(inputs, self.kernel.t(), self.bias)
        activation = self.activation
        return x if activation is activations.linear else activation(x)

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return (*tuple(input_shape)[:-1], self.units)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update({
            "units": self.units,
            "activation": activations.serialize(self.activation),
            "use_bias": self.use_bias,
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "kernel_regularizer": _ser(self.kernel_regularizer, regularizers),
            "bias_regularizer": _ser(self.bias_regularizer, regularizers),
            "kernel_constraint": _ser(self.kernel_constraint, constraints),
            "bias_constraint": _ser(self.bias_constraint, constraints),
            "quantization_config": None,
        })
        return config

    def extra_repr(self) -> str:
        in_dim = self.kernel.shape[0] if self.built else "?"
        act = activations.serialize(self.activation)
        return f"name={self.name!r}, in_features={in_dim}, units={self.units}, activation={act!r}"


class Identity(Layer):
    """Returns its input unchanged; a placeholder.

    Example:
        >>> import torch, lamina
        >>> lamina.layers.Identity()(torch.ones(2)).tolist()
        [1.0, 1.0]
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.supports_masking = True
        self.built = True

    def call(self, inputs: Any) -> Any:
        return inputs

    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape


class Activation(Layer):
    """Applies an activation function by name or callable.

    Example:
        >>> import torch, lamina
        >>> lamina.layers.Activation("relu")(torch.tensor([-1.0, 2.0])).tolist()
        [0.0, 2.0]
    """

    def __init__(self, activation: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.supports_masking = True
        self.activation = activations.get(activation)
        self.built = True

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        return self.activation(inputs)

    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config["activation"] = activations.serialize(self.activation)
        return config


_OPS = {
    "add": operator.add, "radd": lambda a, b: b + a, "sub": operator.sub, "rsub": lambda a, b: b - a,
    "mul": operator.mul, "rmul": lambda a, b: b * a, "truediv": operator.truediv,
    "rtruediv": lambda a, b: b / a, "matmul": operator.matmul, "pow": operator.pow, "neg": operator.neg,
    "getitem": operator.getitem,
}


class _SymbolicOp(Layer):
    """A Python operator applied to symbolic tensors in a functional graph (``x + 1``, ``x[:, 0]``)."""

    def __init__(self, op: str, **kwargs: Any) -> None:
        super().__init__(name=kwargs.pop("name", None) or None, **kwargs)
        self.op = op
        self.built = True

    def call(self, inputs: Any, *args: Any) -> Any:
        return _OPS[self.op](inputs, *args)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config["op"] = self.op
        return config
