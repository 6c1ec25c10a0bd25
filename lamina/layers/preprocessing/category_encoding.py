"""``CategoryEncoding``: integer category ids -> one-hot, multi-hot or count vectors."""

from __future__ import annotations

from typing import Any

import torch

from lamina import backend
from lamina.layers.layer import Layer
from lamina.layers.preprocessing import preprocessing_utils as utils
from lamina.ops.operation import KerasTensor


class CategoryEncoding(Layer):
    """Encodes integer features (ids in ``[0, num_tokens)``) as one-hot, multi-hot or count vectors.

    Args:
        num_tokens: the number of categories; every input must lie in ``[0, num_tokens)``.
        output_mode: ``"multi_hot"`` (default; the last axis is the sample), ``"one_hot"`` (each
            value; a trailing axis of size 1 is replaced) or ``"count"``.
        sparse: sparse outputs need TensorFlow; only ``False`` is accepted.

    Call arguments:
        inputs: integer ids.
        count_weights: in ``"count"`` mode, a weight per input added instead of 1.

    Input shape:
        ``(batch,)`` or ``(batch, samples)`` ids (a scalar is one id).

    Output shape:
        ``(batch, num_tokens)``; ``"one_hot"`` of ``(batch, n)`` ids: ``(batch, n, num_tokens)``.

    Example:
        >>> import lamina
        >>> layer = lamina.layers.CategoryEncoding(num_tokens=4, output_mode="count")
        >>> layer([[0, 1, 1], [3, 3, 2]]).tolist()
        [[1.0, 2.0, 0.0, 0.0], [0.0, 0.0, 1.0, 2.0]]
    """

    _autocast_inputs = False  # ids are ids: never cast to the float policy

    def __init__(
        self, num_tokens: int | None = None, output_mode: str = "multi_hot", sparse: bool = False, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        if output_mode == "binary":
            output_mode = "multi_hot"
        if output_mode not in ("count", "one_hot", "multi_hot"):
            raise ValueError(f"Unknown arg for output_mode: {output_mode}")
        if num_tokens is None:
            raise ValueError(
                "num_tokens must be set to use this layer. If the number of tokens is not known beforehand, "
                "use the IntegerLookup layer instead."
            )
        if num_tokens < 1:
            raise ValueError(f"`num_tokens` must be >= 1. Received: num_tokens={num_tokens}.")
        if sparse:
            raise ValueError("`sparse=True` needs the TensorFlow backend; Lamina gives dense outputs only.")
        self.num_tokens = num_tokens
        self.output_mode = output_mode
        self.sparse = sparse

    def _convert_inputs(self, x: Any) -> Any:
        utils.check_numeric(x, self, "integer category ids")
        return super()._convert_inputs(x)

    def call(self, inputs: torch.Tensor, count_weights: Any = None) -> torch.Tensor:
        if inputs.dtype == torch.bool or inputs.is_complex():
            raise self._error("integer category ids", f"dtype {backend.standardize_dtype(inputs.dtype)}", cls=TypeError)
        if inputs.numel():
            low, high = int(inputs.min()), int(inputs.max())  # host sync: out-of-range ids must raise, not vanish
            if low < 0 or high >= self.num_tokens:
                raise self._error(
                    f"input values in the range [0, {self.num_tokens}) (num_tokens={self.num_tokens})",
                    f"values from {low} to {high}",
                    "Use IntegerLookup to map arbitrary values to contiguous ids, or raise `num_tokens`.",
                )
        dtype = backend.torch_dtype(self.dtype)
        if count_weights is not None:
            if self.output_mode != "count":
                raise ValueError(
                    "`count_weights` is not used when `output_mode` is not `'count'`. "
                    f"Received `count_weights={count_weights}`."
                )
            count_weights = backend.convert_to_tensor(count_weights, dtype=self.compute_dtype, device=inputs.device)
        return utils.encode_categorical(inputs.long(), self.output_mode, self.num_tokens, dtype, count_weights)

    def compute_output_shape(self, input_shape: Any) -> tuple:
        return utils.categorical_output_shape(tuple(input_shape), self.output_mode, self.num_tokens)

    def compute_output_spec(self, inputs: Any, count_weights: Any = None) -> KerasTensor:
        return KerasTensor(self.compute_output_shape(inputs.shape), self.compute_dtype)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update({"num_tokens": self.num_tokens, "output_mode": self.output_mode})
        return config

    def extra_repr(self) -> str:
        return f"name={self.name!r}, num_tokens={self.num_tokens}, output_mode={self.output_mode!r}"
