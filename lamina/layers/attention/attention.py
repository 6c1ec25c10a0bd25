"""``Attention``: dot-product (Luong-style) attention of a query sequence over a value sequence."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from lamina.layers.attention._base import causal_mask
from lamina.layers.layer import Layer
from lamina.layers.regularization import _check_seed
from lamina.ops.operation import KerasTensor


class Attention(Layer):
    """Dot-product attention: ``softmax(query @ key^T) @ value``, called on ``[query, value]`` or
    ``[query, value, key]``.

    Without returned scores and with ``score_mode="dot"`` it runs in
    ``torch.nn.functional.scaled_dot_product_attention``; the numbers are Keras's.

    Args:
        use_scale: learn a scalar ``scale`` multiplying the scores.
        score_mode: ``"dot"`` (``q . k``) or ``"concat"`` (``sum(tanh(q + k))``, scaled by a learned
            ``concat_score_weight``).
        dropout: dropout rate on the attention probabilities (in training).
        seed: seed of that dropout.

    Call arguments:
        inputs: ``[query (B, Tq, dim), value (B, Tv, dim_v)]`` or ``[query, value, key (B, Tv, dim)]``.
        mask: ``[query_mask (B, Tq), value_mask (B, Tv)]``; masked values get no attention, masked query
            positions a zero output. Masks carried by the inputs are used when none is given.
        return_attention_scores: also return the ``(B, Tq, Tv)`` probabilities.
        training: enables dropout. use_causal_mask: position i attends only to positions j <= i.

    Output shape:
        ``(B, Tq, dim_v)``.

    Example:
        >>> import torch, lamina
        >>> q, v = torch.ones(2, 3, 4), torch.ones(2, 5, 4)
        >>> out, scores = lamina.layers.Attention()([q, v], return_attention_scores=True)
        >>> out.shape, scores.shape
        (torch.Size([2, 3, 4]), torch.Size([2, 3, 5]))
    """

    def __init__(
        self, use_scale: bool = False, score_mode: str = "dot", dropout: float = 0.0, seed: int | None = None, **kwargs
    ) -> None:
        if score_mode not in ("dot", "concat"):
            raise ValueError(
                f"{type(self).__name__} expects `score_mode` to be one of {{'dot', 'concat'}}, but received "
                f"score_mode={score_mode!r}."
            )
        _check_seed(seed)
        super().__init__(**kwargs)
        self.use_scale = use_scale
        self.score_mode = score_mode
        self.dropout = dropout
        self.seed = seed
        self.supports_masking = True

    # ------------------------------------------------------------------ build
    def build(self, input_shape: Any) -> None:
        query_shape, value_shape, key_shape = self._validate_inputs(input_shape)
        self._check_dims(query_shape, value_shape, key_shape)
        self.scale = None
        self.concat_score_weight = None
        if self.use_scale:
            self.scale = self.add_weight(name="scale", shape=(), initializer="ones")
        if self.score_mode == "concat":
            self.concat_score_weight = self.add_weight(name="concat_score_weight", shape=(), initializer="ones")
        self.built = True

    def _validate_inputs(self, inputs: Any, mask: Any = None) -> tuple:
        """``(query, value, key)`` from the list (key defaults to value); Keras's checks, with the layer named."""
        if not isinstance(inputs, (list, tuple)) or (inputs and isinstance(inputs[0], int)):
            raise self._error(
                "a list of inputs [query, value] or [query, value, key]",
                f"{type(inputs).__name__}",
                "Call it as layer([query, value]).",
            )
        if not 2 <= len(inputs) <= 3:
            raise self._error("a list of 2 or 3 inputs [query, value(, key)]", f"a list of length {len(inputs)}")
        if mask is not None and (not isinstance(mask, (list, tuple)) or not 2 <= len(mask) <= 3):
            raise self._error("a mask list [query_mask, value_mask]", f"mask={mask!r}")
        return inputs[0], inputs[1], inputs[2] if len(inputs) > 2 else inputs[1]

    def _check_dims(self, query_shape: Any, value_shape: Any, key_shape: Any) -> None:
        q, v, k = (tuple(s) for s in (query_shape, value_shape, key_shape))
        if q[-1] is not None and k[-1] is not None and q[-1] != k[-1]:
            raise self._error(
                "query and key with the same last dimension (the scores are query . key)",
                f"query shape {q} and {'key' if k is not v else 'value'} shape {k}",
                "Project one of them to the other's size (e.g. with a Dense layer).",
            )
        if k[-2] is not None and v[-2] is not None and k[-2] != v[-2]:
            raise self._error("key and value of the same length", f"key shape {k} and value shape {v}")

    # ------------------------------------------------------------------ call
    def _calculate_scores(self, query: torch.Tensor, key: torch.Tensor) -> torch.Tensor:
        """``(B, Tq, Tv)`` scores of ``query (B, Tq, dim)`` against ``key (B, Tv, dim)``."""
        if self.score_mode == "dot":
            scores = query @ key.transpose(-2, -1)
            return scores if self.scale is None else scores * self.scale
        total = query.unsqueeze(-2) + key.unsqueeze(-3)
        if self.scale is not None:
            total = self.scale * total
        return self.concat_score_weight * torch.tanh(total).sum(-1)

    def _apply_scores(
        self, scores: torch.Tensor, value: torch.Tensor, scores_mask: Any = None, training: Any = False
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Masks the scores (Keras subtracts a large number), softmax, dropout, ``@ value``."""
        if scores_mask is not None:
            padding = ~scores_mask
            if padding.ndim == 2:
                padding = padding.unsqueeze(-2)
            scores = scores - padding.to(scores.dtype) * _max_value(scores.dtype)
        weights = torch.softmax(scores, dim=-1)
        if training and self.dropout > 0:
            weights = self._drop(weights)
        return weights @ value, weights

    def _drop(self, weights: torch.Tensor) -> torch.Tensor:
        keep = 1.0 - self.dropout
        if self.seed is None:
            return F.dropout(weights, self.dropout, training=True)
        gen = self.__dict__.get("_generator")
        if gen is None or gen.device != weights.device:
            gen = self.__dict__["_generator"] = torch.Generator(device=weights.device).manual_seed(self.seed)
        noise = torch.rand(weights.shape, generator=gen, device=weights.device, dtype=weights.dtype)
        return torch.where(noise < keep, weights / keep, torch.zeros((), dtype=weights.dtype, device=weights.device))

    def _score_mask(self, scores_shape: tuple, value_mask: Any, use_causal_mask: bool, device: Any) -> Any:
        if use_causal_mask:
            causal = causal_mask(scores_shape[-2], scores_shape[-1], device)
            return causal if value_mask is None else value_mask.unsqueeze(-2) & causal
        return value_mask

    def call(
        self,
        inputs: list,
        mask: Any = None,
        training: Any = False,
        return_attention_scores: bool = False,
        use_causal_mask: bool = False,
    ) -> Any:
        query, value, key = self._validate_inputs(inputs, mask)
        self._check_dims(query.shape, value.shape, key.shape)
        q_mask = _bool_or_none(mask[0], query.device) if mask else None
        v_mask = _bool_or_none(mask[1], query.device) if mask else None
        dropping = bool(training) and self.dropout > 0
        fusable = self.score_mode == "dot" and type(self)._calculate_scores is Attention._calculate_scores
        if fusable and not return_attention_scores and not dropping:
            output = self._fused(query, key, value, v_mask, use_causal_mask)
            scores = None
        else:
            scores = self._calculate_scores(query, key)
            scores_mask = self._score_mask(tuple(scores.shape), v_mask, use_causal_mask, scores.device)
            output, scores = self._apply_scores(scores, value, scores_mask, training)
        if q_mask is not None:
            output = torch.where(
                q_mask.unsqueeze(-1), output, torch.zeros((), dtype=output.dtype, device=output.device)
            )
        return (output, scores) if return_attention_scores else output

    def _fused(
        self, query: torch.Tensor, key: torch.Tensor, value: torch.Tensor, v_mask: Any, use_causal_mask: bool
    ) -> torch.Tensor:
        # the learned scale multiplies the query (q*s . k == (q . k)*s) so it stays a tensor with a gradient
        q = query if self.scale is None else query * self.scale
        bias = None
        if v_mask is not None or use_causal_mask:
            shape = (*query.shape[:-2], query.shape[-2], key.shape[-2])
            keep = self._score_mask(shape, v_mask, use_causal_mask, query.device)
            if keep.ndim == query.ndim - 1:  # a (B, Tv) value mask
                keep = keep.unsqueeze(-2)
            bias = (~keep).to(query.dtype) * -_max_value(query.dtype)
        return F.scaled_dot_product_attention(q, key, value, attn_mask=bias, scale=1.0)

    # ------------------------------------------------------------------ shapes / masks / config
    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        self._validate_inputs(inputs, mask)
        if mask is None or mask[0] is None:
            return None
        return mask[0]

    def compute_output_shape(self, input_shape: Any) -> tuple:
        query_shape, value_shape, _ = self._validate_inputs(input_shape)
        return (*tuple(query_shape)[:-1], tuple(value_shape)[-1])

    def compute_output_spec(
        self,
        inputs: Any,
        mask: Any = None,
        return_attention_scores: bool = False,
        training: Any = None,
        use_causal_mask: bool = False,
    ) -> Any:
        query, value, key = self._validate_inputs(inputs, mask)
        self._check_dims(query.shape, value.shape, key.shape)
        out = KerasTensor(self.compute_output_shape([query.shape, value.shape, key.shape]), self.compute_dtype)
        if not return_attention_scores:
            return out
        return out, KerasTensor((*query.shape[:-1], key.shape[-2]), self.compute_dtype)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update({"use_scale": self.use_scale, "score_mode": self.score_mode, "dropout": self.dropout})
        config["seed"] = self.seed
        return config

    def extra_repr(self) -> str:
        return f"name={self.name!r}, use_scale={self.use_scale}, score_mode={self.score_mode!r}"


def _max_value(dtype: torch.dtype) -> float:
    # what Keras subtracts from masked scores
    return 65504.0 if dtype == torch.float16 else 1.0e9


def _bool_or_none(mask: Any, device: torch.device) -> torch.Tensor | None:
    if mask is None:
        return None
    mask = torch.as_tensor(mask, device=device)
    return mask if mask.dtype == torch.bool else mask.bool()
