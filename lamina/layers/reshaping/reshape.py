"""Flatten, Reshape, Permute and RepeatVector: weightless layers that rearrange their input.

None of these layers has weights; ``Flatten`` and ``Permute`` honour ``data_format`` as Keras does.
"""

from __future__ import annotations

import math
from typing import Any

import torch

from lamina.layers.argument_validation import standardize_data_format
from lamina.layers.input_spec import InputSpec
from lamina.layers.layer import Layer


class Flatten(Layer):
    """Flattens every axis but the batch: ``(batch, ...) -> (batch, prod(...))``.

    Args:
        data_format: ``"channels_last"`` (default) or ``"channels_first"``; channels-first inputs are
            moved to channels-last before flattening, so both orders give the same feature order.

    Input shape:
        ``(batch, ...)``; a rank-1 input ``(batch,)`` becomes ``(batch, 1)``.

    Output shape:
        ``(batch, prod(non-batch dims))``.

    Example:
        >>> import torch, lamina
        >>> lamina.layers.Flatten()(torch.zeros(2, 3, 4)).shape
        torch.Size([2, 12])
    """

    def __init__(self, data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.data_format = standardize_data_format(data_format)
        self.input_spec = InputSpec(min_ndim=1)
        self.built = True

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        if inputs.ndim == 1:
            return inputs.unsqueeze(-1)
        if self.data_format == "channels_first" and inputs.ndim > 2:
            # (N, C, *spatial) -> (N, *spatial, C), a view; flatten then copies
            inputs = inputs.permute(0, *range(2, inputs.ndim), 1)
        return torch.flatten(inputs, 1)

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        dims = tuple(input_shape)[1:]
        if not dims:
            return (input_shape[0], 1)
        return (input_shape[0], None if any(d is None for d in dims) else math.prod(dims))

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config["data_format"] = self.data_format
        return config

    def extra_repr(self) -> str:
        return f"name={self.name!r}, data_format={self.data_format!r}"


class Reshape(Layer):
    """Reshapes every sample to ``target_shape`` (batch axis kept); one entry may be ``-1``.

    Args:
        target_shape: tuple of ints without the batch axis; at most one ``-1``, inferred from the size.

    Input shape:
        Anything whose per-sample size fits ``target_shape``.

    Output shape:
        ``(batch, *target_shape)``.

    Example:
        >>> import torch, lamina
        >>> lamina.layers.Reshape((-1, 2))(torch.zeros(3, 12)).shape
        torch.Size([3, 6, 2])
    """

    def __init__(self, target_shape: Any, **kwargs: Any) -> None:
        try:
            target = tuple(target_shape)
        except TypeError:
            raise ValueError(
                f"`target_shape` must be a tuple of integers. Received: target_shape={target_shape}"
            ) from None
        if any(isinstance(d, bool) or not isinstance(d, int) for d in target):
            raise ValueError(f"`target_shape` must be a tuple of integers. Received: target_shape={target}")
        if any(d < -1 for d in target) or target.count(-1) > 1:
            raise ValueError(
                "Each dimension in `target_shape` must be a non-negative integer, or `-1` for a single unknown "
                f"dimension. Received: target_shape={target}."
            )
        super().__init__(**kwargs)
        self.target_shape = target
        self.built = True

    def _resolve(self, sample_shape: tuple) -> tuple:
        """``target_shape`` with its ``-1`` resolved for ``sample_shape`` (``None`` where unknown)."""
        target = self.target_shape
        if any(d is None for d in sample_shape):
            return tuple(None if d == -1 else d for d in target)
        size = math.prod(sample_shape)
        if -1 not in target:
            if math.prod(target) != size:
                raise self._incompatible(sample_shape)
            return target
        known = math.prod(d for d in target if d != -1)
        if known == 0 or size % known:
            raise self._incompatible(sample_shape)
        return tuple(size // known if d == -1 else d for d in target)

    def _incompatible(self, sample_shape: tuple) -> Exception:
        return self._error(
            f"inputs whose per-sample size fits target_shape={self.target_shape}",
            f"inputs of per-sample shape {tuple(sample_shape)} ({math.prod(sample_shape)} values)",
            "The total size of the tensor must be unchanged: fix `target_shape` or the layer before.",
        )

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        return inputs.reshape(inputs.shape[0], *self._resolve(tuple(inputs.shape[1:])))

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return (input_shape[0], *self._resolve(tuple(input_shape)[1:]))

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config["target_shape"] = self.target_shape
        return config

    def extra_repr(self) -> str:
        return f"name={self.name!r}, target_shape={self.target_shape}"


class Permute(Layer):
    """Permutes the non-batch axes by ``dims`` (1-based; ``(2, 1)`` swaps the two axes after the batch).

    Args:
        dims: a permutation of ``1..n``.

    Input shape:
        ``(batch, d1, ..., dn)``.

    Output shape:
        ``(batch, d[dims[0]], ..., d[dims[n-1]])``.

    Example:
        >>> import torch, lamina
        >>> lamina.layers.Permute((2, 1))(torch.zeros(2, 3, 4)).shape
        torch.Size([2, 4, 3])
    """

    def __init__(self, dims: Any, **kwargs: Any) -> None:
        dims_t = tuple(dims)
        if sorted(dims_t) != list(range(1, len(dims_t) + 1)):
            raise ValueError(
                "Invalid permutation argument `dims` for Permute Layer. The set of indices in `dims` must be "
                f"consecutive and start from 1. Received dims={dims}"
            )
        super().__init__(**kwargs)
        self.dims = dims_t
        self.input_spec = InputSpec(ndim=len(dims_t) + 1)
        self.built = True

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        return inputs.permute(0, *self.dims)  # a view: no copy

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return (input_shape[0], *(input_shape[d] for d in self.dims))

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config["dims"] = self.dims
        return config

    def extra_repr(self) -> str:
        return f"name={self.name!r}, dims={self.dims}"


class RepeatVector(Layer):
    """Repeats a ``(batch, features)`` input ``n`` times: ``(batch, n, features)``.

    Args:
        n: positive int, the repetition factor.

    Example:
        >>> import torch, lamina
        >>> lamina.layers.RepeatVector(3)(torch.zeros(2, 5)).shape
        torch.Size([2, 3, 5])
    """

    def __init__(self, n: int, **kwargs: Any) -> None:
        if not isinstance(n, int) or isinstance(n, bool):
            raise TypeError(f"Expected an integer value for `n`, got {type(n)}.")
        if n <= 0:
            raise ValueError(f"Argument `n` should be a positive integer. Received: n={n}")
        super().__init__(**kwargs)
        self.n = n
        self.input_spec = InputSpec(ndim=2)
        self.built = True

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        return inputs.unsqueeze(1).repeat(1, self.n, 1)

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return (input_shape[0], self.n, input_shape[1])

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config["n"] = self.n
        return config

    def extra_repr(self) -> str:
        return f"name={self.name!r}, n={self.n}"
