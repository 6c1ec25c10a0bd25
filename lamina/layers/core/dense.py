"""``Dense``: the densely connected layer, ``activation(inputs @ kernel + bias)``."""

from __future__ import annotations

from typing import Any

import torch

from lamina import activations, constraints, initializers, regularizers, serialization
from lamina.layers.input_spec import InputSpec
from lamina.layers.layer import Layer


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
        >>> [(v.path, tuple(v.shape)) for v in layer.weights]
        [('layer1/kernel', (3, 2)), ('layer1/bias', (2,))]
    """

    def __init__(
        self,
        units: int,
        activation: Any = None,
        use_bias: bool = True,
        kernel_initializer: Any = "glorot_uniform",
        bias_initializer: Any = "zeros",
        kernel_regularizer: Any = None,
        bias_regularizer: Any = None,
        activity_regularizer: Any = None,
        kernel_constraint: Any = None,
        bias_constraint: Any = None,
        **kwargs: Any,
    ) -> None:
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
        if not input_shape:
            raise self._error(
                "inputs of rank >= 1", f"a scalar (input_shape={input_shape})", "Pass a batch of vectors."
            )
        input_dim = input_shape[-1]
        if input_dim is None:
            raise self._error(
                "a known last axis", f"input_shape={tuple(input_shape)}", "Give the input a defined feature size."
            )
        self.kernel = self.add_weight(
            name="kernel",
            shape=(input_dim, self.units),
            initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint,
        )
        if self.use_bias:
            self.bias = self.add_weight(
                name="bias",
                shape=(self.units,),
                initializer=self.bias_initializer,
                regularizer=self.bias_regularizer,
                constraint=self.bias_constraint,
            )
        else:
            self.bias = None
        self.input_spec = InputSpec(min_ndim=2, axes={-1: input_dim})
        self.built = True

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        # kernel is Keras's (in, out): x @ kernel directly, bias fused into the same GEMM for 2D inputs.
        kernel, bias = self.kernel, self.bias
        if inputs.ndim == 2:
            x = torch.addmm(bias, inputs, kernel) if bias is not None else inputs.mm(kernel)
        else:
            x = torch.matmul(inputs, kernel)
            if bias is not None:
                x = x + bias
        activation = self.activation
        if activation is activations.relu:
            return torch.relu_(x)  # x is this call's own fresh output: in place saves an allocation and a pass
        return x if activation is activations.linear else activation(x)

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return (*tuple(input_shape)[:-1], self.units)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(
            {
                "units": self.units,
                "activation": activations.serialize(self.activation),
                "use_bias": self.use_bias,
                "kernel_initializer": initializers.serialize(self.kernel_initializer),
                "bias_initializer": initializers.serialize(self.bias_initializer),
                "kernel_regularizer": serialization.serialize_keras_object(self.kernel_regularizer),
                "bias_regularizer": serialization.serialize_keras_object(self.bias_regularizer),
                "kernel_constraint": serialization.serialize_keras_object(self.kernel_constraint),
                "bias_constraint": serialization.serialize_keras_object(self.bias_constraint),
                "quantization_config": None,
            }
        )
        return config

    def extra_repr(self) -> str:
        in_dim = self.kernel.shape[0] if self.built else "?"
        act = activations.serialize(self.activation)
        return f"name={self.name!r}, in_features={in_dim}, units={self.units}, activation={act!r}"
