"""Attention layers: ``MultiHeadAttention``, ``GroupQueryAttention``, ``Attention``, ``AdditiveAttention``."""

from lamina.layers.attention.additive_attention import AdditiveAttention
from lamina.layers.attention.attention import Attention
from lamina.layers.attention.grouped_query_attention import GroupedQueryAttention, GroupQueryAttention
from lamina.layers.attention.multi_head_attention import MultiHeadAttention

__all__ = [
    "AdditiveAttention",
    "Attention",
    "GroupQueryAttention",
    "GroupedQueryAttention",
    "MultiHeadAttention",
]
