"""``Embedding``: integer ids to dense vectors, with ``mask_zero``."""

from __future__ import annotations

import warnings
from typing import Any

import torch
import torch.nn.functional as F

from lamina import constraints, initializers, regularizers, serialization
from lamina.layers.layer import Layer

# ---------------------------------------------------------------------------------------------- Embedding


class EmbeddingIndexError(IndexError, ValueError):
    """A token id outside ``[0, input_dim)``: an ``IndexError`` as Keras's torch backend raises, and a
    ``ValueError`` as every other bad input in Lamina."""


class Embedding(Layer):
    """Maps integer indices to dense vectors: row ``i`` of an ``(input_dim, output_dim)`` table.

    Args:
        input_dim: vocabulary size (largest index + 1).
        output_dim: size of each vector.
        embeddings_initializer: default ``"uniform"`` (uniform on ``[-0.05, 0.05]``).
        embeddings_regularizer / activity_regularizer / embeddings_constraint: optional.
        mask_zero: whether index 0 is padding; the output then carries the mask ``inputs != 0``
            for mask-aware layers downstream (``input_dim`` should count index 0).
        weights: optional initial table ``[array of shape (input_dim, output_dim)]``.

    Input shape:
        Integer indices of any shape ``(batch, ...)``; float inputs are truncated to int64.

    Output shape:
        ``(batch, ..., output_dim)``.

    Example:
        >>> import torch, lamina
        >>> layer = lamina.layers.Embedding(10, 3, mask_zero=True)
        >>> y = layer(torch.tensor([[4, 0, 2]]))
        >>> y.shape, y._keras_mask.tolist()
        (torch.Size([1, 3, 3]), [[True, False, True]])
        >>> [(w.path, tuple(w.shape)) for w in layer.weights]
        [('embedding/embeddings', (10, 3))]
    """

    _autocast_inputs = False  # indices stay integers; floats are truncated in call
    _keep_int_inputs = True

    def __init__(
        self,
        input_dim: int,
        output_dim: int,
        embeddings_initializer: Any = "uniform",
        embeddings_regularizer: Any = None,
        embeddings_constraint: Any = None,
        mask_zero: bool = False,
        weights: Any = None,
        **kwargs: Any,
    ) -> None:
        if not isinstance(input_dim, int) or isinstance(input_dim, bool) or input_dim <= 0:
            raise ValueError(
                f"`input_dim` must be a positive integer. Received: input_dim={input_dim} "
                f"(of type {type(input_dim).__name__})."
            )
        if not isinstance(output_dim, int) or isinstance(output_dim, bool) or output_dim <= 0:
            raise ValueError(
                f"`output_dim` must be a positive integer. Received: output_dim={output_dim} "
                f"(of type {type(output_dim).__name__})."
            )
        for key in ("lora_rank", "lora_alpha", "quantization_config"):
            if kwargs.pop(key, None) is not None:
                raise ValueError(f"Embedding: `{key}` is not supported by Lamina.")
        if kwargs.pop("input_length", None) is not None:
            warnings.warn("Argument `input_length` is deprecated. Just remove it.", stacklevel=2)
        super().__init__(**kwargs)
        self.input_dim = input_dim
        self.output_dim = output_dim
        self.embeddings_initializer = initializers.get(embeddings_initializer)
        self.embeddings_regularizer = regularizers.get(embeddings_regularizer)
        self.embeddings_constraint = constraints.get(embeddings_constraint)
        self.mask_zero = mask_zero
        self.supports_masking = mask_zero
        if weights is not None:
            self.build()
            if not (isinstance(weights, list) and len(weights) == 1):
                weights = [weights]
            self.set_weights(weights)

    def build(self, input_shape: Any = None) -> None:
        if self.built:
            return
        self.embeddings = self.add_weight(
            name="embeddings",
            shape=(self.input_dim, self.output_dim),
            initializer=self.embeddings_initializer,
            regularizer=self.embeddings_regularizer,
            constraint=self.embeddings_constraint,
        )
        self.built = True

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        indices = inputs
        if indices.dtype not in (torch.int64, torch.int32):
            if indices.is_complex():
                raise self._error("integer indices", f"dtype {indices.dtype}", "Pass integer token ids.", TypeError)
            indices = indices.long()
        try:
            out = F.embedding(indices, self.embeddings)
        except (IndexError, RuntimeError) as e:
            lo, hi = int(indices.min()), int(indices.max())
            raise self._error(
                f"indices in [0, {self.input_dim})",
                f"indices in [{lo}, {hi}]",
                "Increase `input_dim` to the vocabulary size or fix the token ids.",
                EmbeddingIndexError,
            ) from e
        if out.dtype != self._compute_tdtype():
            out = out.to(self._compute_tdtype())
        if self.mask_zero:
            out._keras_mask = indices != 0
        return out

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        if not self.mask_zero:
            return None
        return inputs != 0

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return (*tuple(input_shape), self.output_dim)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(
            {
                "input_dim": self.input_dim,
                "output_dim": self.output_dim,
                "embeddings_initializer": initializers.serialize(self.embeddings_initializer),
                "embeddings_regularizer": serialization.serialize_keras_object(self.embeddings_regularizer),
                "activity_regularizer": serialization.serialize_keras_object(self.activity_regularizer),
                "embeddings_constraint": serialization.serialize_keras_object(self.embeddings_constraint),
                "mask_zero": self.mask_zero,
                "quantization_config": None,
            }
        )
        return config

    def extra_repr(self) -> str:
        return f"name={self.name!r}, input_dim={self.input_dim}, output_dim={self.output_dim}"
