"""``Identity``: returns its input unchanged (a placeholder in a graph)."""

from __future__ import annotations

from typing import Any

from lamina.layers.layer import Layer


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
