"""What ``MultiHeadAttention`` and ``GroupedQueryAttention`` share.

* The call contract ``layer(query, value, key=None, ...)``: three tensor arguments, each of which may carry a
  Keras mask (``Embedding(mask_zero=True)``, ``Masking``) that becomes ``query_mask`` / ``value_mask`` /
  ``key_mask``, as Keras fills ``<argument>_mask`` for layers called on several tensors; the layer is built from
  all three shapes (``build(query_shape, value_shape, key_shape)``, saved as Keras's ``shapes_dict``).
* The attention mask Keras derives from those masks, ``use_causal_mask`` and ``sliding_window``, and the check
  that an explicit ``attention_mask`` broadcasts to the attention scores.
* One call of ``torch.nn.functional.scaled_dot_product_attention`` honouring the flash-attention switch
  (``flash_attention=`` and ``lamina.backend.disable_flash_attention()``), and the explicit softmax path that
  also returns the scores.
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F
from torch.nn.attention import SDPBackend, sdpa_kernel

from lamina import backend
from lamina.layers.layer import Layer
from lamina.ops.operation import KerasTensor, any_symbolic

_TENSOR_ARGS = ("query", "value", "key")
# Keras's torch backend turns a boolean mask into this additive bias for scaled_dot_product_attention (-0.7 x the
# largest bfloat16 / float16): a fully masked row then averages the values uniformly, as in Keras.
_LARGE_NEGATIVE = {torch.float16: -0.7 * 65500.0}
_DEFAULT_LARGE_NEGATIVE = -0.7 * 3.38953e38
_NOT_FLASH = [SDPBackend.EFFICIENT_ATTENTION, SDPBackend.CUDNN_ATTENTION, SDPBackend.MATH]


def arg_error(cls_name: str, name: str | None, argument: str, expected: str, value: Any) -> ValueError:
    """The project's error format for a bad constructor argument (the layer has no auto-name yet)."""
    who = f'Layer "{name}" ({cls_name})' if name else cls_name
    return ValueError(f"{who} expects `{argument}` to be {expected}, but received {argument}={value!r}.")


def additive_mask(mask: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """Boolean ``True`` = attend -> ``0`` / a large negative number, in ``dtype``."""
    neg = _LARGE_NEGATIVE.get(dtype, _DEFAULT_LARGE_NEGATIVE)
    return torch.zeros(mask.shape, dtype=dtype, device=mask.device).masked_fill_(~mask, neg)


def scaled_dot_product(
    layer: Layer,
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    mask: torch.Tensor | None,
    is_causal: bool,
    scale: float,
    flash: bool | None,
) -> torch.Tensor:
    """``softmax(q k^T * scale + mask) v`` on ``(batch, heads, seq, dim)`` tensors through torch's fused kernels.

    ``flash=None`` lets torch pick (its flash kernel where it applies), ``False`` excludes flash kernels,
    ``True`` insists on one and names the layer if none applies to these inputs.
    """
    attn_mask = None if mask is None else additive_mask(mask, q.dtype)
    if flash is None:
        return F.scaled_dot_product_attention(q, k, v, attn_mask=attn_mask, is_causal=is_causal, scale=scale)
    try:
        with sdpa_kernel([SDPBackend.FLASH_ATTENTION] if flash else _NOT_FLASH):
            return F.scaled_dot_product_attention(q, k, v, attn_mask=attn_mask, is_causal=is_causal, scale=scale)
    except RuntimeError as e:
        if not flash:
            raise
        raise layer._error(
            "inputs a flash-attention kernel accepts (with `flash_attention=True`)",
            f"query of shape {tuple(q.shape)} and dtype {backend.standardize_dtype(q.dtype)} on {q.device}",
            f"Pass flash_attention=None to let torch choose a kernel. torch says: {str(e).splitlines()[0]}",
        ) from None


def expand_mask(mask: torch.Tensor, scores_rank: int, n_attention_axes: int) -> torch.Tensor:
    """Keras's expansion of an attention mask to the scores' rank: new axes go just before the query and key
    attention axes (a ``(B, T, S)`` mask becomes ``(B, 1, T, S)``: one mask for every head)."""
    axis = -2 * n_attention_axes - 1
    while mask.ndim < scores_rank:
        mask = mask.unsqueeze(axis)
    return mask


def attention_softmax(
    layer: Layer, scores: torch.Tensor, mask: torch.Tensor | None, n_attention_axes: int
) -> torch.Tensor:
    """Keras's masked softmax over the key attention axes (masked scores get probability 0)."""
    if mask is not None:
        mask = expand_mask(mask, scores.ndim, n_attention_axes)
    return layer._softmax(scores, mask=mask)


class QKVAttention(Layer):
    """Base of the layers called as ``layer(query, value, key=None, ...)`` (see the module docstring).

    Subclasses implement ``build(query_shape, value_shape, key_shape=None)`` and ``call``.
    """

    # Keras's MultiHeadAttention reads the query mask from the tensor only and then removes the three inputs'
    # masks (so a residual `inputs + attention` downstream carries none); GroupedQueryAttention does neither.
    _consumes_input_masks = False

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        tensors = dict(zip(_TENSOR_ARGS, args))
        if len(args) > len(_TENSOR_ARGS):
            raise self._error(
                "at most 3 positional tensors (query, value, key)",
                f"{len(args)}",
                "Pass the masks by keyword.",
                TypeError,
            )
        for name in _TENSOR_ARGS:
            if name in kwargs:
                if name in tensors:
                    raise self._error(f"`{name}` once", f"`{name}` twice (by position and by keyword)", "", TypeError)
                tensors[name] = kwargs.pop(name)
        query, value, key = (tensors.get(n) for n in _TENSOR_ARGS)
        if query is None or value is None:
            raise self._error(
                "`query` and `value` tensors",
                f"query={_describe(query)}, value={_describe(value)}",
                "Call it as layer(query, value) or layer(query, value, key).",
                TypeError,
            )
        query, value, key = (None if t is None else self._as_input(t) for t in (query, value, key))
        if not any_symbolic((query, value, key)):
            self._collect_masks(query, value, key, kwargs)
        if not self.built:
            shapes = {"query_shape": tuple(query.shape), "value_shape": tuple(value.shape)}
            if key is not None:
                shapes["key_shape"] = tuple(key.shape)
            self._maybe_build(shapes, query.device if isinstance(query, torch.Tensor) else None)
        if key is not None:
            kwargs["key"] = key
        return super().__call__(query, value, **kwargs)

    def _as_input(self, x: Any) -> Any:
        x = self._convert_inputs(x)
        if isinstance(x, torch.Tensor) and self.autocast and x.dtype != self._compute_td:
            mask = getattr(x, "_keras_mask", None)
            x = self._cast_input(x)
            if mask is not None:
                x._keras_mask = mask
        return x

    def _collect_masks(self, query: Any, value: Any, key: Any, kwargs: dict) -> None:
        for name, tensor in (("query", query), ("value", value), ("key", key)):
            mask = getattr(tensor, "_keras_mask", None)
            if name == "query" and self._consumes_input_masks:
                kwargs["query_mask"] = mask
            elif mask is not None and kwargs.get(f"{name}_mask") is None:
                kwargs[f"{name}_mask"] = mask
        if self._consumes_input_masks:
            for tensor in (query, value, key):
                if getattr(tensor, "_keras_mask", None) is not None:
                    tensor._keras_mask = None
        if kwargs.get("query_mask") is None:
            kwargs.pop("query_mask", None)

    def build(self, query_shape: Any, value_shape: Any = None, key_shape: Any = None) -> None:
        raise NotImplementedError

    def _build_from_dict(self, shapes: dict[str, Any]) -> None:
        self.build(**{k: None if v is None else tuple(v) for k, v in shapes.items()})

    def _record_build_shapes(self, query_shape: Any, value_shape: Any, key_shape: Any) -> None:
        shapes = {"query_shape": tuple(query_shape), "value_shape": tuple(value_shape)}
        if key_shape is not None:
            shapes["key_shape"] = tuple(key_shape)
        self.__dict__["_build_shapes"] = shapes

    def get_build_config(self) -> dict[str, Any] | None:
        shapes = self._build_shapes
        if not isinstance(shapes, dict):
            return None
        return {"shapes_dict": {k: list(v) for k, v in shapes.items() if v is not None}}

    def build_from_config(self, config: dict[str, Any]) -> None:
        shapes = (config or {}).get("shapes_dict")
        if shapes:
            self._maybe_build({k: tuple(v) for k, v in shapes.items()})

    # ------------------------------------------------------------------ masks
    def _check_attention_mask(self, mask: Any, scores_shape: tuple, n_attention_axes: int, expected: tuple) -> Any:
        """The user's ``attention_mask`` as a bool tensor, after checking that it broadcasts to the scores."""
        mask = torch.as_tensor(mask, device=self._device())
        shape = tuple(mask.shape)
        ok = 2 * n_attention_axes <= mask.ndim <= len(scores_shape)
        if ok:
            full = shape[: mask.ndim - 2 * n_attention_axes]
            full = full + (1,) * (len(scores_shape) - mask.ndim) + shape[mask.ndim - 2 * n_attention_axes :]
            ok = all(m in (1, s) for m, s in zip(full, scores_shape))
        if not ok:
            raise self._error(
                f"an attention_mask of shape {expected} (batch, target, source; size-1 axes broadcast) or "
                f"broadcastable to the attention scores {tuple(scores_shape)}",
                f"attention_mask.shape={shape}",
                "True marks the key positions each query position may attend to.",
            )
        return mask if mask.dtype == torch.bool else mask.bool()

    def _auto_mask(
        self,
        query: torch.Tensor,
        value: torch.Tensor,
        query_mask: Any,
        value_mask: Any,
        key_mask: Any,
        attention_mask: Any,
        use_causal_mask: bool,
        sliding_window: int | None,
    ) -> torch.Tensor | None:
        """Keras's ``_compute_attention_mask``: the input masks, causal and sliding-window masks and the explicit
        mask, AND-ed (``[B, T, 1]``, ``[B, 1, S]``, ``[1, T, S]`` and ``[B, T, S]``)."""
        auto = None
        if query_mask is not None:
            auto = _as_bool(query_mask, query.device).unsqueeze(-1)
        for mask in (value_mask, key_mask):
            if mask is not None:
                m = _as_bool(mask, query.device).unsqueeze(-2)
                auto = m if auto is None else auto & m
        if use_causal_mask:
            m = causal_mask(query.shape[1], value.shape[1], query.device)
            auto = m if auto is None else auto & m
        if sliding_window is not None:
            rows = torch.arange(query.shape[1], device=query.device).view(1, -1, 1)
            cols = torch.arange(value.shape[1], device=query.device).view(1, 1, -1)
            m = (rows - cols).abs() < sliding_window
            auto = m if auto is None else auto & m
        if auto is None:
            return attention_mask
        return auto if attention_mask is None else attention_mask & auto

    # ------------------------------------------------------------------ attention
    def _fused_attention(
        self,
        query: torch.Tensor,
        key: torch.Tensor,
        value: torch.Tensor,
        mask: torch.Tensor | None,
        is_causal: bool,
        scale: float,
        zero_empty_rows: bool,
    ) -> torch.Tensor:
        """Attention of ``(B, *positions, heads, dim)`` projections over all position axes at once, through
        ``scaled_dot_product_attention``; returns ``(B, *query positions, heads, value dim)``.

        ``zero_empty_rows`` gives a query position that may attend to nothing a zero output, as Keras's
        explicit softmax does (its dot-product-attention path averages the values instead).
        """
        batch, heads = query.shape[0], query.shape[-2]
        positions = query.shape[1:-2]
        # (B, *T, N, H) -> (B, T', N, H) -> (B, N, T', H): views when the positions are contiguous
        q = query.reshape(batch, -1, heads, query.shape[-1]).transpose(1, 2)
        k = key.reshape(batch, -1, key.shape[-2], key.shape[-1]).transpose(1, 2)
        v = value.reshape(batch, -1, value.shape[-2], value.shape[-1]).transpose(1, 2)
        if mask is not None:
            n_axes = len(positions)
            mask = expand_mask(mask, 2 + 2 * n_axes, n_axes)
            if n_axes > 1:  # (b, n, *T, *S) -> (b, n, T', S')
                target = (*mask.shape[:2], *positions, *key.shape[1:-2])
                mask = mask.expand(target).reshape(*mask.shape[:2], q.shape[2], k.shape[2])
        out = scaled_dot_product(self, q, k, v, mask, is_causal and mask is None, scale, self._flash_attention)
        if zero_empty_rows and mask is not None:
            out = out.masked_fill(~mask.any(-1, keepdim=True), 0.0)
        return out.transpose(1, 2).reshape(*query.shape[:-2], heads, value.shape[-1])

    def _explicit_attention(
        self,
        query: torch.Tensor,
        key: torch.Tensor,
        value: torch.Tensor,
        mask: torch.Tensor | None,
        training: Any,
        scale: float,
        dot_equation: str,
        combine_equation: str,
        key_first: bool,
        n_attention_axes: int,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Keras's einsum path, which also gives the scores: ``softmax(q k^T * scale)`` (masked), dropout, ``@ v``."""
        query = query * torch.tensor(scale, dtype=query.dtype, device=query.device)
        operands = (key, query) if key_first else (query, key)
        scores = torch.einsum(dot_equation, *operands)
        scores = attention_softmax(self, scores, mask, n_attention_axes)
        dropped = self._dropout_layer(scores, training=training) if self._dropout_rate() > 0.0 else scores
        return torch.einsum(combine_equation, dropped, value), scores

    def _dropout_rate(self) -> float:
        raise NotImplementedError

    def _common_sublayer_kwargs(self) -> dict[str, Any]:
        """The arguments every projection gets; each its own initializer instance, as in Keras (a stateless
        seeded initializer shared by the four projections would give them equal kernels)."""
        kernel_init, bias_init = self._kernel_initializer, self._bias_initializer
        return {
            "kernel_regularizer": self._kernel_regularizer,
            "bias_regularizer": self._bias_regularizer,
            "activity_regularizer": self._activity_regularizer,
            "kernel_constraint": self._kernel_constraint,
            "bias_constraint": self._bias_constraint,
            "dtype": self.dtype_policy,
            "kernel_initializer": type(kernel_init).from_config(kernel_init.get_config()),
            "bias_initializer": type(bias_init).from_config(bias_init.get_config()),
        }


def causal_mask(target: int, source: int, device: torch.device) -> torch.Tensor:
    """``(1, T, S)`` booleans, True on and below the diagonal (position i attends to j <= i)."""
    return torch.ones(target, source, dtype=torch.bool, device=device).tril().unsqueeze(0)


def _as_bool(mask: Any, device: torch.device) -> torch.Tensor:
    mask = torch.as_tensor(mask, device=device)
    return mask if mask.dtype == torch.bool else mask.bool()


def _describe(x: Any) -> str:
    if x is None:
        return "None"
    shape = getattr(x, "shape", None)
    return f"{type(x).__name__} of shape {tuple(shape)}" if shape is not None else type(x).__name__


def attention_output_spec(layer: Layer, output_shape: tuple, scores_shape: tuple | None) -> Any:
    """Symbolic outputs: the attention output and, when asked for, the scores (both in the compute dtype)."""
    out = KerasTensor(tuple(output_shape), layer.compute_dtype)
    if scores_shape is None:
        return out
    return out, KerasTensor(tuple(scores_shape), layer.compute_dtype)


def inverse_sqrt(dim: int) -> float:
    return 1.0 / math.sqrt(float(dim))
