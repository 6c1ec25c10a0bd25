"""``AdditiveAttention``: Bahdanau-style attention, ``sum(scale * tanh(query + key))`` scores."""

from __future__ import annotations

from typing import Any

import torch

from lamina.layers.attention.attention import Attention


class AdditiveAttention(Attention):
    """Additive attention: scores ``sum(scale * tanh(query + key), -1)``, then softmax and ``@ value``.

    Args:
        use_scale: learn a ``scale`` vector of the query's size (else 1).
        dropout: dropout rate on the attention probabilities (in training).
        seed: seed of that dropout.

    Call arguments:
        As ``Attention``: ``[query (B, Tq, dim), value (B, Tv, dim_v)(, key (B, Tv, dim))]``, ``mask``,
        ``return_attention_scores``, ``training``, ``use_causal_mask``.

    Output shape:
        ``(B, Tq, dim_v)``.

    Example:
        >>> import torch, lamina
        >>> layer = lamina.layers.AdditiveAttention()
        >>> layer([torch.ones(2, 3, 4), torch.ones(2, 5, 4)]).shape
        torch.Size([2, 3, 4])
        >>> [(w.name, tuple(w.shape)) for w in layer.weights]
        [('scale', (4,))]
    """

    def __init__(self, use_scale: bool = True, dropout: float = 0.0, **kwargs: Any) -> None:
        super().__init__(use_scale=use_scale, dropout=dropout, **kwargs)

    def build(self, input_shape: Any) -> None:
        query_shape, value_shape, key_shape = self._validate_inputs(input_shape)
        self._check_dims(query_shape, value_shape, key_shape)
        self.scale = None
        self.concat_score_weight = None
        if self.use_scale:
            self.scale = self.add_weight(name="scale", shape=(tuple(query_shape)[-1],), initializer="glorot_uniform")
        self.built = True

    def _calculate_scores(self, query: torch.Tensor, key: torch.Tensor) -> torch.Tensor:
        total = torch.tanh(query.unsqueeze(-2) + key.unsqueeze(-3))  # (B, Tq, Tv, dim)
        if self.scale is not None:
            total = self.scale * total
        return total.sum(-1)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        del config["score_mode"]
        return config
