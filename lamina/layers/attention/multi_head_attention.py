"""``MultiHeadAttention`` (Vaswani et al., 2017) with Keras's EinsumDense weight layout."""

from __future__ import annotations

import string
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
from lamina.layers.core.einsum_dense import EinsumDense
from lamina.layers.layer import build_child
from lamina.layers.regularization import Dropout


def _positive_int(cls_name: str, name: str | None, argument: str, value: Any, allow_none: bool = False) -> None:
    if value is None and allow_none:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise arg_error(cls_name, name, argument, "a positive integer" + (" or None" if allow_none else ""), value)


def projection_equation(free_dims: int, bound_dims: int, output_dims: int) -> tuple[str, str]:
    """``(equation, bias_axes)`` of a projection keeping ``free_dims`` axes, contracting ``bound_dims`` and
    adding ``output_dims``: ``(2, 1, 2)`` gives ``("abc,cde->abde", "de")`` (Keras's letters)."""
    letters = string.ascii_lowercase
    free = letters[:free_dims]
    bound = letters[free_dims : free_dims + bound_dims]
    out = letters[free_dims + bound_dims : free_dims + bound_dims + output_dims]
    return f"{free}{bound},{bound}{out}->{free}{out}", out


def attention_equations(rank: int, axes: tuple[int, ...]) -> tuple[str, str]:
    """Keras's ``(dot_product_equation, combine_equation)`` for projected tensors of ``rank`` attending over
    ``axes``: ``key,query->scores`` and ``scores,value->output``, with scores laid out as
    ``(<batch and other axes>, heads, <query attention axes>, <key attention axes>)``."""
    letters = string.ascii_lowercase
    target = letters[:rank]
    batch = [i for i in range(rank) if i not in axes and i != rank - 1]
    fresh = iter(letters[rank:])
    source = "".join(target[i] if i in batch or i == rank - 1 else next(fresh) for i in range(rank))
    product = "".join([target[i] for i in batch] + [target[i] for i in axes] + [source[i] for i in axes])
    return f"{source},{target}->{product}", f"{product},{source}->{target}"


class MultiHeadAttention(QKVAttention):
    """Multi-head attention: project ``query``, ``key``, ``value`` per head, attend, project back.

    Each of ``num_heads`` heads computes ``softmax(q k^T / sqrt(key_dim)) v`` over the attention axes; the
    heads are concatenated and projected to the query's last dimension (or ``output_shape``). The four
    projections are ``EinsumDense`` sub-layers named ``query``, ``key``, ``value`` and ``attention_output``
    with Keras's kernels, e.g. ``query/kernel`` of shape ``(dim, num_heads, key_dim)``, so weights and
    ``.keras`` files cross with Keras. Without ``return_attention_scores`` and with the default attention
    axes the attention runs in ``torch.nn.functional.scaled_dot_product_attention`` (flash and
    memory-efficient kernels on GPU, the fused kernel on CPU); self-attention projects q, k, v in one matmul.

    Args:
        num_heads: number of attention heads.
        key_dim: size of each head for query and key.
        value_dim: size of each head for value; default ``key_dim``.
        dropout: dropout rate on the attention probabilities (in training).
        use_bias: whether the projections have biases.
        output_shape: output shape besides the batch and sequence axes; default the query's last dimension.
        attention_axes: axes attention runs over; default all axes but batch, heads and features.
        sliding_window: if set, each position attends only to positions less than this far away.
        flash_attention: ``True`` insists on a flash kernel, ``False`` excludes it, ``None`` (default) follows
            ``lamina.backend.is_flash_attention_enabled()`` (flash where it applies).
        kernel_initializer / bias_initializer, kernel_regularizer / bias_regularizer / activity_regularizer,
        kernel_constraint / bias_constraint: for the four projections.
        use_gate: gate the attention output with ``sigmoid(query projection)`` (a ``gate`` projection).
        seed: seed of the attention dropout.

    Call arguments:
        query: ``(B, T, dim)``. value: ``(B, S, dim)``. key: optional ``(B, S, dim)``, default ``value``.
        attention_mask: booleans ``(B, T, S)``, True where query position t may attend to key position s.
        return_attention_scores: also return the ``(B, num_heads, T, S)`` attention probabilities.
        training: enables dropout. use_causal_mask: position t attends only to positions s <= t.
        Masks carried by the inputs (``Embedding(mask_zero=True)``) are combined as Keras does.

    Output shape:
        ``(B, T, dim)`` (or ``(B, T, *output_shape)``), and the scores when asked for.

    Example:
        >>> import torch, lamina
        >>> mha = lamina.layers.MultiHeadAttention(num_heads=2, key_dim=4)
        >>> x = torch.ones(3, 5, 8)
        >>> out, scores = mha(x, x, return_attention_scores=True)
        >>> out.shape, scores.shape
        (torch.Size([3, 5, 8]), torch.Size([3, 2, 5, 5]))
        >>> [(w.path, tuple(w.shape)) for w in mha.weights][:2]
        [('multi_head_attention/query/kernel', (8, 2, 4)), ('multi_head_attention/query/bias', (2, 4))]
    """

    _consumes_input_masks = True

    def __init__(
        self,
        num_heads: int,
        key_dim: int,
        value_dim: int | None = None,
        dropout: float = 0.0,
        use_bias: bool = True,
        output_shape: Any = None,
        attention_axes: Any = None,
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
        name = kwargs.get("name")
        _positive_int("MultiHeadAttention", name, "num_heads", num_heads)
        _positive_int("MultiHeadAttention", name, "key_dim", key_dim)
        _positive_int("MultiHeadAttention", name, "value_dim", value_dim, allow_none=True)
        _positive_int("MultiHeadAttention", name, "sliding_window", sliding_window, allow_none=True)
        if output_shape:
            if isinstance(output_shape, int):
                output_shape = (output_shape,)
            if not isinstance(output_shape, (list, tuple)):
                raise arg_error("MultiHeadAttention", name, "output_shape", "an int, tuple or list", output_shape)
            output_shape = tuple(output_shape)
        if isinstance(attention_axes, int):
            attention_axes = (attention_axes,)
        elif attention_axes and not isinstance(attention_axes, (list, tuple)):
            raise arg_error("MultiHeadAttention", name, "attention_axes", "an int, list or tuple", attention_axes)
        # An explicit `flash_attention=False` is honoured (Keras's `flash_attention or ...` would turn it into
        # "auto"); `None` follows the global switch.
        flash = flash_attention if flash_attention is not None else is_flash_attention_enabled()
        if flash and dropout > 0.0:
            raise arg_error(
                "MultiHeadAttention",
                name,
                "dropout",
                "0.0 with flash_attention=True (flash kernels have no dropout on the probabilities)",
                dropout,
            )
        super().__init__(**kwargs)
        self.supports_masking = True
        self._num_heads = num_heads
        self._key_dim = key_dim
        self._value_dim = value_dim if value_dim else key_dim
        self._dropout = dropout
        self._use_bias = use_bias
        self._use_gate = use_gate
        self._output_shape = output_shape or None
        self._attention_axes = tuple(attention_axes) if attention_axes else None
        self._sliding_window = sliding_window
        self._flash_attention = flash
        self._kernel_initializer = initializers.get(kernel_initializer)
        self._bias_initializer = initializers.get(bias_initializer)
        self._kernel_regularizer = regularizers.get(kernel_regularizer)
        self._bias_regularizer = regularizers.get(bias_regularizer)
        self._activity_regularizer = regularizers.get(activity_regularizer)
        self._kernel_constraint = constraints.get(kernel_constraint)
        self._bias_constraint = constraints.get(bias_constraint)
        self.seed = seed
        self._inverse_sqrt_key_dim = inverse_sqrt(key_dim)

    num_heads = property(lambda self: self._num_heads)
    key_dim = property(lambda self: self._key_dim)
    value_dim = property(lambda self: self._value_dim)
    dropout = property(lambda self: self._dropout)
    use_bias = property(lambda self: self._use_bias)
    attention_axes = property(lambda self: self._attention_axes)
    # Keras keeps the projections as `_query_dense`... and exposes `query_dense`...; the public names are the
    # module names here, because they are the paths Keras writes into `.weights.h5`.
    _query_dense = property(lambda self: self._modules["query_dense"])
    _key_dense = property(lambda self: self._modules["key_dense"])
    _value_dense = property(lambda self: self._modules["value_dense"])
    _output_dense = property(lambda self: self._modules["output_dense"])

    def _dropout_rate(self) -> float:
        return self._dropout

    # ------------------------------------------------------------------ build
    def build(self, query_shape: Any, value_shape: Any = None, key_shape: Any = None) -> None:
        if isinstance(query_shape, dict):  # from the call or a saved `shapes_dict`
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
        # the fused projections skip the sub-layers' input checks: `call` compares these feature sizes
        self.__dict__["_feature_sizes"] = (query_shape[-1], value_shape[-1], key_shape[-1])
        common = self._common_sublayer_kwargs
        rank = len(query_shape)
        self.query_dense = self._projection(rank, (self._num_heads, self._key_dim), "query", common())
        build_child(self, self.query_dense, query_shape)
        self.key_dense = self._projection(len(key_shape), (self._num_heads, self._key_dim), "key", common())
        build_child(self, self.key_dense, key_shape)
        if self._use_gate:
            self._gate_dense = self._projection(rank, (self._num_heads, self._value_dim), "gate", common(), "sigmoid")
            build_child(self, self._gate_dense, query_shape)
        self.value_dense = self._projection(len(value_shape), (self._num_heads, self._value_dim), "value", common())
        build_child(self, self.value_dense, value_shape)
        self._build_attention(rank + 1)
        out_shape = self._output_shape or (query_shape[-1],)
        equation, bias_axes = projection_equation(rank - 1, 2, len(out_shape))
        self.output_dense = EinsumDense(
            equation,
            output_shape=[None] * (rank - 2) + list(out_shape),
            bias_axes=bias_axes if self._use_bias else None,
            name="attention_output",
            **common(),
        )
        build_child(self, self.output_dense, (*query_shape[:-1], self._num_heads, self._value_dim))
        self.built = True

    def _check_shapes(self, query_shape: tuple, value_shape: tuple, key_shape: tuple) -> None:
        if value_shape[1:-1] != key_shape[1:-1]:
            raise self._error(
                "`value` and `key` of equal shapes except the last axis",
                f"value_shape={value_shape} and key_shape={key_shape}",
            )
        if len(query_shape) < 3 or len(value_shape) != len(query_shape):
            raise self._error(
                "query, value and key of the same rank >= 3 (batch, positions..., features)",
                f"query_shape={query_shape}, value_shape={value_shape}",
            )
        if query_shape[-1] is None or value_shape[-1] is None or key_shape[-1] is None:
            raise self._error(
                "a defined last (feature) axis on query, value and key",
                f"query_shape={query_shape}, value_shape={value_shape}, key_shape={key_shape}",
            )

    def _projection(self, rank: int, heads: tuple, name: str, common: dict, activation: Any = None) -> EinsumDense:
        equation, bias_axes = projection_equation(rank - 1, 1, 2)
        return EinsumDense(
            equation,
            output_shape=[None] * (rank - 2) + list(heads),
            bias_axes=bias_axes if self._use_bias else None,
            activation=activation,
            name=name,
            **common,
        )

    def _build_attention(self, rank: int) -> None:
        if self._attention_axes is None:
            self._attention_axes = tuple(range(1, rank - 2))
        else:
            self._attention_axes = tuple(a if a >= 0 else (rank - 1) + a for a in self._attention_axes)
        bad = [a for a in self._attention_axes if not 0 < a < rank - 2]
        if bad:
            raise self._error(
                f"attention_axes among the position axes 1..{rank - 3} of the inputs",
                f"attention_axes={self._attention_axes}",
            )
        self._dot_product_equation, self._combine_equation = attention_equations(rank, self._attention_axes)
        n = len(self._attention_axes)
        scores_rank = rank - 1 + n
        self._softmax = Softmax(axis=tuple(range(scores_rank - n, scores_rank)), dtype=self.dtype_policy)
        self._dropout_layer = Dropout(rate=self._dropout, dtype=self.dtype_policy, seed=self.seed)

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
        self_attention = key is None and query is value
        if key is None:
            key = value
        sizes = self.__dict__.get("_feature_sizes")
        if sizes is not None and (query.shape[-1], value.shape[-1], key.shape[-1]) != sizes:
            raise self._error(
                f"query, value and key with last axes {sizes} (as built)",
                f"query.shape={tuple(query.shape)}, value.shape={tuple(value.shape)}, key.shape={tuple(key.shape)}",
            )
        if attention_mask is not None:
            attention_mask = self._check_attention_mask(
                attention_mask,
                self._scores_shape(tuple(query.shape), tuple(key.shape)),
                len(self._attention_axes),
                (
                    query.shape[0],
                    *(query.shape[a] for a in self._attention_axes),
                    *(key.shape[a] for a in self._attention_axes),
                ),
            )
        # Causal masking alone runs the fused kernel's own causal mode instead of a (T, S) mask, as in Keras.
        causal_only = (
            use_causal_mask
            and query_mask is None
            and value_mask is None
            and key_mask is None
            and attention_mask is None
            and self._sliding_window is None
            and type(self)._compute_attention is MultiHeadAttention._compute_attention
        )
        if not causal_only:
            attention_mask = self._auto_mask(
                query, value, query_mask, value_mask, key_mask, attention_mask, use_causal_mask, self._sliding_window
            )
        gate = self._gate_dense(query) if self._use_gate else None
        q, k, v = self._project_qkv(query, key, value, self_attention)
        extra = {"use_causal_mask": True} if causal_only else {}
        output, scores = self._compute_attention(q, k, v, attention_mask, training, return_attention_scores, **extra)
        if gate is not None:
            output = output * gate
        output = self._project_output(output)
        if query_mask is not None:
            output._keras_mask = query_mask
        if return_attention_scores:
            return output, scores
        return output

    def _fast_projections(self, x: torch.Tensor) -> bool:
        # a (B, T, dim) input, and no activity regularizer that the sub-layer calls would have to add
        return x.ndim == 3 and self._activity_regularizer is None

    def _project_qkv(
        self, query: torch.Tensor, key: torch.Tensor, value: torch.Tensor, self_attention: bool
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        if not self._fast_projections(query):
            return self.query_dense(query), self.key_dense(key), self.value_dense(value)
        if not self_attention:
            return _project(query, self.query_dense), _project(key, self.key_dense), _project(value, self.value_dense)
        # self-attention: one (B*T, dim) x (dim, 3 projections) matmul instead of three
        layers = (self.query_dense, self.key_dense, self.value_dense)
        dim = query.shape[-1]
        kernel = torch.cat([la.kernel.reshape(dim, -1) for la in layers], dim=1)
        x = query.reshape(-1, dim)
        if self._use_bias:
            y = torch.addmm(torch.cat([la.bias.reshape(-1) for la in layers]), x, kernel)
        else:
            y = x @ kernel
        y = y.view(*query.shape[:-1], -1)
        sizes = [la.kernel.shape[1] * la.kernel.shape[2] for la in layers]
        return tuple(part.unflatten(-1, la.kernel.shape[1:]) for part, la in zip(y.split(sizes, -1), layers))

    def _project_output(self, x: torch.Tensor) -> torch.Tensor:
        dense = self.output_dense
        if x.ndim != 4 or self._activity_regularizer is not None:
            return dense(x)
        # (B, T, N, H) -> (B*T, N*H) x (N*H, out): a view when the attention wrote (B, T, N, H) memory
        kernel = dense.kernel.reshape(x.shape[-2] * x.shape[-1], -1)
        x2 = x.reshape(-1, kernel.shape[0])
        y = x2 @ kernel if dense.bias is None else torch.addmm(dense.bias.reshape(-1), x2, kernel)
        return y.view(*x.shape[:2], *dense.kernel.shape[2:])

    def _compute_attention(
        self,
        query: torch.Tensor,
        key: torch.Tensor,
        value: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        training: Any = None,
        return_attention_scores: bool = False,
        use_causal_mask: bool = False,
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Attention of the projected ``(B, T, N, H)`` tensors; returns ``(output, scores or None)``.

        Override it for a custom attention (Keras's hook); ``attention_mask`` is the combined boolean mask.
        """
        if self._flash_attention and return_attention_scores:
            raise self._error(
                "return_attention_scores=False when flash attention is on",
                "return_attention_scores=True",
                "Build the layer with flash_attention=False to get the scores.",
            )
        rank = query.ndim
        dropping = self._dropout > 0.0 and bool(training)
        default_axes = self._attention_axes == tuple(range(1, rank - 2))
        if not return_attention_scores and not dropping and default_axes and (rank == 4 or not use_causal_mask):
            # Keras runs dot_product_attention only for rank-4 projections without dropout; elsewhere its softmax
            # gives a query position with nothing to attend to a zero output, which the fused path reproduces.
            keras_fused = rank == 4 and self._dropout == 0.0
            out = self._fused_attention(
                query, key, value, attention_mask, use_causal_mask, self._inverse_sqrt_key_dim, not keras_fused
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
            self._inverse_sqrt_key_dim,
            self._dot_product_equation,
            self._combine_equation,
            True,
            len(self._attention_axes),
        )

    # ------------------------------------------------------------------ shapes / config
    def _scores_shape(self, query_shape: tuple, key_shape: tuple) -> tuple:
        rank = len(query_shape) + 1
        axes = self._attention_axes or tuple(range(1, rank - 2))
        q = (*query_shape[:-1], self._num_heads, self._key_dim)
        k = (*key_shape[:-1], self._num_heads, self._key_dim)
        batch = [i for i in range(rank) if i not in axes and i != rank - 1]
        return (*(q[i] for i in batch), *(q[a] for a in axes), *(k[a] for a in axes))

    def compute_output_shape(self, query_shape: Any, value_shape: Any = None, key_shape: Any = None) -> tuple:
        query_shape = tuple(query_shape)
        value_shape = query_shape if value_shape is None else tuple(value_shape)
        key_shape = value_shape if key_shape is None else tuple(key_shape)
        if value_shape[1:-1] != key_shape[1:-1]:
            raise self._error(
                "`value` and `key` of equal shapes except the last axis",
                f"value_shape={value_shape} and key_shape={key_shape}",
            )
        if self._output_shape:
            return query_shape[:-1] + tuple(self._output_shape)
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
        key_shape = None if key is None else tuple(key.shape)
        out_shape = self.compute_output_shape(query.shape, value.shape, key_shape)
        scores = None
        if return_attention_scores:
            scores = self._scores_shape(tuple(query.shape), key_shape or tuple(value.shape))
        return attention_output_spec(self, out_shape, scores)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(
            {
                "num_heads": self._num_heads,
                "key_dim": self._key_dim,
                "value_dim": self._value_dim,
                "dropout": self._dropout,
                "use_bias": self._use_bias,
                "use_gate": self._use_gate,
                "output_shape": self._output_shape,
                "attention_axes": self._attention_axes,
                "sliding_window": self._sliding_window,
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
            f"name={self.name!r}, num_heads={self._num_heads}, key_dim={self._key_dim}, "
            f"value_dim={self._value_dim}, dropout={self._dropout}"
        )


def _project(x: torch.Tensor, dense: EinsumDense) -> torch.Tensor:
    """``(B, T, dim) -> (B, T, N, H)`` with a ``(dim, N, H)`` kernel as one matmul (EinsumDense's numbers)."""
    kernel = dense.kernel.reshape(x.shape[-1], -1)
    x2 = x.reshape(-1, x.shape[-1])
    y = x2 @ kernel if dense.bias is None else torch.addmm(dense.bias.reshape(-1), x2, kernel)
    return y.view(*x.shape[:-1], *dense.kernel.shape[1:])
