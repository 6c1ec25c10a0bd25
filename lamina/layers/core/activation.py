"""``Activation``: applies an activation function by name or callable."""

from __future__ import annotations

from typing import Any

import torch

from lamina import activations
from lamina.layers.layer import Layer


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
