"""``ReversibleEmbedding``: an ``Embedding`` that also projects hidden states back to vocabulary logits."""

from __future__ import annotations

from typing import Any

import torch

from lamina import backend
from lamina.layers.core.embedding import Embedding
from lamina.ops.operation import KerasTensor


class ReversibleEmbedding(Embedding):
    """Embedding whose ``reverse=True`` call maps ``(..., output_dim)`` back to ``(..., input_dim)`` logits.

    By default the reverse projection is the transposed embedding table (tied weights, Press & Wolf 2016);
    with ``tie_weights=False`` it is a separate trainable ``reverse_embeddings`` of shape
    ``(output_dim, input_dim)``. No bias.

    Args:
        input_dim: vocabulary size. output_dim: embedding size.
        tie_weights: share the table with the reverse projection (default True).
        embeddings_initializer / embeddings_regularizer / embeddings_constraint, mask_zero: as ``Embedding``.
        reverse_dtype: dtype of the reverse matmul (default the compute dtype).
        logit_soft_cap: if set, reverse logits become ``tanh(logits / cap) * cap``.

    Call arguments:
        inputs: token ids, or hidden states with ``reverse=True``.
        reverse: project hidden states to logits instead of embedding ids.

    Example:
        >>> import torch, lamina
        >>> emb = lamina.layers.ReversibleEmbedding(10, 4)
        >>> hidden = emb(torch.tensor([[1, 2, 3]]))
        >>> emb(hidden, reverse=True).shape
        torch.Size([1, 3, 10])
    """

    def __init__(
        self,
        input_dim: int,
        output_dim: int,
        tie_weights: bool = True,
        embeddings_initializer: Any = "uniform",
        embeddings_regularizer: Any = None,
        embeddings_constraint: Any = None,
        mask_zero: bool = False,
        reverse_dtype: Any = None,
        logit_soft_cap: float | None = None,
        **kwargs: Any,
    ) -> None:
        if reverse_dtype is not None:
            reverse_dtype = backend.standardize_dtype(reverse_dtype)
        initial_weights = kwargs.pop("weights", None)  # set below, once `tie_weights` says how many there are
        super().__init__(
            input_dim,
            output_dim,
            embeddings_initializer=embeddings_initializer,
            embeddings_regularizer=embeddings_regularizer,
            embeddings_constraint=embeddings_constraint,
            mask_zero=mask_zero,
            **kwargs,
        )
        self.tie_weights = tie_weights
        self.reverse_dtype = reverse_dtype
        self.logit_soft_cap = logit_soft_cap
        if initial_weights is not None:
            self.build()
            self.set_weights(initial_weights if isinstance(initial_weights, list) else [initial_weights])

    def build(self, input_shape: Any = None) -> None:
        if self.built:
            return
        super().build(input_shape)
        if not self.tie_weights:
            self.reverse_embeddings = self.add_weight(
                shape=(self.output_dim, self.input_dim),
                initializer=self.embeddings_initializer,
                name="reverse_embeddings",
            )
        self.built = True

    def call(self, inputs: torch.Tensor, reverse: bool = False) -> torch.Tensor:
        if not reverse:
            return super().call(inputs)
        kernel = self.embeddings.t() if self.tie_weights else self.reverse_embeddings
        dtype = backend.torch_dtype(self.reverse_dtype) if self.reverse_dtype is not None else self._compute_td
        # ids are embedded as integers; hidden states coming back are cast here (the layer keeps int inputs)
        logits = inputs.to(dtype) @ kernel.to(dtype)
        if self.logit_soft_cap is not None:
            logits = torch.tanh(logits / self.logit_soft_cap) * self.logit_soft_cap
        return logits

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        return None  # the forward call puts its mask on the output itself; reverse logits carry none (Keras)

    def compute_output_shape(self, input_shape: Any, reverse: bool = False) -> tuple:
        shape = tuple(input_shape)
        return (*shape[:-1], self.input_dim) if reverse else (*shape, self.output_dim)

    def compute_output_spec(self, inputs: Any, reverse: bool = False) -> KerasTensor:
        return KerasTensor(self.compute_output_shape(inputs.shape, reverse), self.compute_dtype)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(
            {
                "tie_weights": self.tie_weights,
                "reverse_dtype": self.reverse_dtype,
                "logit_soft_cap": self.logit_soft_cap,
            }
        )
        return config

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, tie_weights={self.tie_weights}"
