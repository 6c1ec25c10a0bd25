"""``GroupedQueryAttention`` (Ainslie et al., 2023), public as ``GroupQueryAttention`` as in Keras."""

from __future__ import annotations

from typing import Any

import torch

from lamina import constraints, initializers, regularizers
from lamina.backend.config import is_flash_attention_enabled
from lamina.layers.activations import Softmax
from lamina.layers.attention._base import (
    QKVAttention,
    arg_error,
    attention_output_spec,
    causal_mask,
    inverse_sqrt,
)
from lamina.layers.attention.multi_head_attention import _positive_int, _project
from lamina.layers.core.einsum_dense import EinsumDense
from lamina.layers.layer import build_child
from lamina.layers.regularization import Dropout


class GroupedQueryAttention(QKVAttention):
    """Attention where groups of query heads share one key/value head (fewer key/value projections).

    ``num_query_heads`` query heads attend through ``num_key_value_heads`` key/value heads, each shared by
    ``num_query_heads // num_key_value_heads`` query heads; the output is projected back to the query's last
    dimension. Weights are Keras's: ``query/kernel`` ``(dim, num_query_heads, head_dim)``, ``key/kernel`` and
    ``value/kernel`` ``(dim, num_key_value_heads, head_dim)``, ``attention_output/kernel``
    ``(num_query_heads, head_dim, dim)``. Without ``return_attention_scores`` the attention runs in
    ``torch.nn.functional.scaled_dot_product_attention``.

    Args:
        head_dim: size of each attention head.
        num_query_heads: number of query heads.
        num_key_value_heads: number of key/value heads; must divide ``num_query_heads``.
        dropout: dropout rate on the attention probabilities (in training).
        use_bias: whether the projections have biases.
        sliding_window: if set, each position attends only to positions less than this far away.
        flash_attention: ``True`` / ``False`` / ``None`` as in ``MultiHeadAttention``.
        kernel_initializer / bias_initializer, kernel_regularizer / bias_regularizer / activity_regularizer,
        kernel_constraint / bias_constraint: for the projections.
        use_gate: gate the attention output with ``sigmoid(query projection)``.
        seed: seed of the attention dropout.

    Call arguments:
        query ``(B, T, dim)``, value ``(B, S, dim)``, key (optional), attention_mask ``(B, T, S)``,
        return_attention_scores, training, use_causal_mask: as in ``MultiHeadAttention``.

    Output shape:
        ``(B, T, dim)``; the scores are ``(B, num_query_heads, T, S)``.

    Example:
        >>> import torch, lamina
        >>> gqa = lamina.layers.GroupQueryAttention(head_dim=4, num_query_heads=4, num_key_value_heads=2)
        >>> x = torch.ones(2, 3, 8)
        >>> gqa(x, x).shape
        torch.Size([2, 3, 8])
        >>> [tuple(w.shape) for w in gqa.weights][::2]
        [(8, 4, 4), (8, 2, 4), (8, 2, 4), (4, 4, 8)]
    """

    def __init__(
        self,
        head_dim: int,
        num_query_heads: int,
        num_key_value_heads: int,
        dropout: float = 0.0,
        use_bias: bool = True,
        sliding_window: int | None = None,
        flash_attention: bool | None = None,
        kernel_initializer: Any = "glorot_uniform",
        bias_initializer: Any = "zeros",
        kernel_regularizer: Any = None,
        bias_regularizer: Any = None,
        activity_regularizer: Any = None,
        kernel_constraint: Any = None,
        bias_constraint: Any = None,
        use_gate: bool = False,
        seed: int | None = None,
        **kwargs: Any,
    ) -> None:
        cls, name = "GroupQueryAttention", kwargs.get("name")
        for arg, value in (
            ("head_dim", head_dim),
            ("num_query_heads", num_query_heads),
            ("num_key_value_heads", num_key_value_heads),
        ):
            _positive_int(cls, name, arg, value)
        _positive_int(cls, name, "sliding_window", sliding_window, allow_none=True)
        if num_query_heads % num_key_value_heads != 0:
            raise arg_error(
                cls,
                name,
                "num_key_value_heads",
                f"a divisor of num_query_heads={num_query_heads} (each key/value head serves a whole group)",
                num_key_value_heads,
            )
        flash = flash_attention if flash_attention is not None else is_flash_attention_enabled()
        if flash and dropout > 0.0:
            raise arg_error(cls, name, "dropout", "0.0 with flash_attention=True", dropout)
        super().__init__(**kwargs)
        self.supports_masking = True
        self.head_dim = head_dim
        self.num_query_heads = num_query_heads
        self.num_key_value_heads = num_key_value_heads
        self.num_repeats = num_query_heads // num_key_value_heads
        self.dropout = dropout
        self.use_bias = use_bias
        self.use_gate = use_gate
        self.sliding_window = sliding_window
        self._flash_attention = flash
        self._kernel_initializer = initializers.get(kernel_initializer)
        self._bias_initializer = initializers.get(bias_initializer)
        self._kernel_regularizer = regularizers.get(kernel_regularizer)
        self._bias_regularizer = regularizers.get(bias_regularizer)
        self._activity_regularizer = regularizers.get(activity_regularizer)
        self._kernel_constraint = constraints.get(kernel_constraint)
        self._bias_constraint = constraints.get(bias_constraint)
        self.seed = seed
        self._inverse_sqrt_head_dim = inverse_sqrt(head_dim)
        self._return_attention_scores = False

    kernel_initializer = property(lambda self: self._kernel_initializer)
    bias_initializer = property(lambda self: self._bias_initializer)

    def _dropout_rate(self) -> float:
        return self.dropout

    # ------------------------------------------------------------------ build
    def build(self, query_shape: Any, value_shape: Any = None, key_shape: Any = None) -> None:
        if isinstance(query_shape, dict):
            self._build_from_dict(query_shape)
            return
        if value_shape is None:
            raise self._error(
                "`value_shape` with `query_shape`", "only query_shape", "Build as build(q, v).", TypeError
            )
        self._record_build_shapes(query_shape, value_shape, key_shape)
        query_shape, value_shape = tuple(query_shape), tuple(value_shape)
        key_shape = value_shape if key_shape is None else tuple(key_shape)
        self._check_shapes(query_shape, value_shape, key_shape)
        self.feature_dim = query_shape[-1]
        common = self._common_sublayer_kwargs
        q_heads, kv_heads, h = self.num_query_heads, self.num_key_value_heads, self.head_dim
        bias = self.use_bias
        self._query_dense = EinsumDense(
            "bqm,muh->bquh", (None, q_heads, h), bias_axes="uh" if bias else None, name="query", **common()
        )
        build_child(self, self._query_dense, query_shape)
        self._key_dense = EinsumDense(
            "bkm,mvh->bkvh", (None, kv_heads, h), bias_axes="vh" if bias else None, name="key", **common()
        )
        build_child(self, self._key_dense, key_shape)
        if self.use_gate:
            self._gate_dense = EinsumDense(
                "bqm,muh->bquh",
                (None, q_heads, h),
                bias_axes="uh" if bias else None,
                activation="sigmoid",
                name="gate",
                **common(),
            )
            build_child(self, self._gate_dense, query_shape)
        self._value_dense = EinsumDense(
            "bkm,mvh->bkvh", (None, kv_heads, h), bias_axes="vh" if bias else None, name="value", **common()
        )
        build_child(self, self._value_dense, value_shape)
        self._softmax = Softmax(axis=-1, dtype=self.dtype_policy)
        self._dropout_layer = Dropout(rate=self.dropout, dtype=self.dtype_policy, seed=self.seed)
        self._dot_product_equation = "bquh,bkuh->buqk"
        self._combine_equation = "buqk,bkuh->bquh"
        self._output_dense = EinsumDense(
            "bquh,uhm->bqm",
            (None, self.feature_dim),
            bias_axes="m" if bias else None,
            name="attention_output",
            **common(),
        )
        build_child(self, self._output_dense, (None, None, q_heads, h))
        self.built = True

    def _check_shapes(self, query_shape: tuple, value_shape: tuple, key_shape: tuple) -> None:
        if len(query_shape) != 3 or len(value_shape) != 3 or len(key_shape) != 3:
            raise self._error(
                "query, value and key of rank 3 (batch, sequence, features)",
                f"query_shape={query_shape}, value_shape={value_shape}, key_shape={key_shape}",
            )
        if query_shape[-1] != value_shape[-1]:
            raise self._error(
                "query and value with the same last dimension",
                f"query_shape={query_shape} and value_shape={value_shape}",
                "The output is projected back to the query's dimension; give value the same features.",
            )
        if value_shape[1:-1] != key_shape[1:-1]:
            raise self._error(
                "`value` and `key` of equal shapes except the last axis",
                f"value_shape={value_shape} and key_shape={key_shape}",
            )

    # ------------------------------------------------------------------ call
    def call(
        self,
        query: torch.Tensor,
        value: torch.Tensor,
        key: torch.Tensor | None = None,
        query_mask: Any = None,
        value_mask: Any = None,
        key_mask: Any = None,
        attention_mask: Any = None,
        return_attention_scores: bool = False,
        training: Any = None,
        use_causal_mask: bool = False,
    ) -> Any:
        self._return_attention_scores = return_attention_scores
        if key is None:
            key = value
        if attention_mask is not None:
            b, t, s = query.shape[0], query.shape[1], key.shape[1]
            attention_mask = self._check_attention_mask(attention_mask, (b, self.num_query_heads, t, s), 1, (b, t, s))
        causal_only = (
            use_causal_mask
            and query_mask is None
            and value_mask is None
            and key_mask is None
            and attention_mask is None
            and self.sliding_window is None
            and type(self)._compute_attention is GroupedQueryAttention._compute_attention
        )
        if not causal_only:
            attention_mask = self._auto_mask(
                query, value, query_mask, value_mask, key_mask, attention_mask, use_causal_mask, self.sliding_window
            )
        gate = self._gate_dense(query) if self.use_gate else None
        direct = self._activity_regularizer is None
        if direct:
            q, k, v = (
                _project(query, self._query_dense),
                _project(key, self._key_dense),
                _project(value, self._value_dense),
            )
        else:
            q, k, v = self._query_dense(query), self._key_dense(key), self._value_dense(value)
        # (B, S, kv_heads, H) -> (B, S, q_heads, H): each key/value head serves its group of query heads
        k = k.repeat_interleave(self.num_repeats, dim=2)
        v = v.repeat_interleave(self.num_repeats, dim=2)
        extra = {"use_causal_mask": True} if causal_only else {}
        output, scores = self._compute_attention(q, k, v, attention_mask=attention_mask, training=training, **extra)
        if gate is not None:
            output = output * gate
        output = self._output_dense(output)
        if return_attention_scores:
            return output, scores
        return output

    def _compute_attention(
        self,
        query: torch.Tensor,
        key: torch.Tensor,
        value: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        training: Any = None,
        use_causal_mask: bool = False,
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Attention of the projected ``(B, T, heads, H)`` tensors (Keras's hook); ``(output, scores or None)``."""
        if self._flash_attention and self._return_attention_scores:
            raise self._error(
                "return_attention_scores=False when flash attention is on",
                "return_attention_scores=True",
                "Build the layer with flash_attention=False to get the scores.",
            )
        dropping = self.dropout > 0.0 and bool(training)
        if not self._return_attention_scores and not dropping:
            out = self._fused_attention(
                query, key, value, attention_mask, use_causal_mask, self._inverse_sqrt_head_dim, self.dropout > 0.0
            )
            return out, None
        if use_causal_mask:
            causal = causal_mask(query.shape[1], value.shape[1], query.device)
            attention_mask = causal if attention_mask is None else attention_mask & causal
        return self._explicit_attention(
            query,
            key,
            value,
            attention_mask,
            training,
            self._inverse_sqrt_head_dim,
            self._dot_product_equation,
            self._combine_equation,
            False,
            1,
        )

    # ------------------------------------------------------------------ shapes / config
    def compute_output_shape(self, query_shape: Any, value_shape: Any = None, key_shape: Any = None) -> tuple:
        query_shape = tuple(query_shape)
        value_shape = query_shape if value_shape is None else tuple(value_shape)
        self._check_shapes(query_shape, value_shape, value_shape if key_shape is None else tuple(key_shape))
        return query_shape

    def compute_output_spec(
        self,
        query: Any,
        value: Any,
        key: Any = None,
        query_mask: Any = None,
        value_mask: Any = None,
        key_mask: Any = None,
        attention_mask: Any = None,
        return_attention_scores: bool = False,
        training: Any = None,
        use_causal_mask: bool = False,
    ) -> Any:
        key = value if key is None else key
        out_shape = self.compute_output_shape(query.shape, value.shape, key.shape)
        scores = None
        if return_attention_scores:
            scores = (query.shape[0], self.num_query_heads, query.shape[1], key.shape[1])
        return attention_output_spec(self, out_shape, scores)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(
            {
                "head_dim": self.head_dim,
                "num_query_heads": self.num_query_heads,
                "num_key_value_heads": self.num_key_value_heads,
                "use_bias": self.use_bias,
                "use_gate": self.use_gate,
                "sliding_window": self.sliding_window,
                "dropout": self.dropout,
                "kernel_initializer": initializers.serialize(self._kernel_initializer),
                "bias_initializer": initializers.serialize(self._bias_initializer),
                "kernel_regularizer": regularizers.serialize(self._kernel_regularizer),
                "bias_regularizer": regularizers.serialize(self._bias_regularizer),
                "activity_regularizer": regularizers.serialize(self._activity_regularizer),
                "kernel_constraint": constraints.serialize(self._kernel_constraint),
                "bias_constraint": constraints.serialize(self._bias_constraint),
                "seed": self.seed,
            }
        )
        return config

    def extra_repr(self) -> str:
        return (
            f"name={self.name!r}, head_dim={self.head_dim}, num_query_heads={self.num_query_heads}, "
            f"num_key_value_heads={self.num_key_value_heads}"
        )


# Keras exports the class as `keras.layers.GroupQueryAttention` and writes that name into configs; the class name
# gives the layer's default name and its path in weights files (`grouped_query_attention`).
GroupQueryAttention = GroupedQueryAttention
