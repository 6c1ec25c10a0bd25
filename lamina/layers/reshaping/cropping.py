"""``Cropping1D``-``3D``: trims the spatial axes."""

from __future__ import annotations

from typing import Any

import torch

from lamina.layers.argument_validation import standardize_data_format, standardize_tuple
from lamina.layers.input_spec import InputSpec
from lamina.layers.layer import Layer
from lamina.layers.reshaping._utils import _pairs_per_axis, _spatial_axes


class _Cropping(Layer):
    """Rank-generic cropping of the spatial axes; ``_pairs`` holds ``(before, after)`` per axis."""

    rank = 0

    def __init__(self, cropping: Any, data_format: str | None = None, **kwargs: Any) -> None:
        if self.rank == 1:
            pairs = (standardize_tuple(cropping, 2, "cropping", allow_zero=True),)
        else:
            pairs = _pairs_per_axis(cropping, self.rank, "cropping")
        super().__init__(**kwargs)
        self.data_format = standardize_data_format(data_format)
        self._pairs = pairs
        self.cropping = pairs[0] if self.rank == 1 else pairs
        self.input_spec = InputSpec(ndim=self.rank + 2)
        self.built = True

    def _check(self, shape: tuple) -> None:
        for axis, (before, after) in zip(_spatial_axes(self.rank, self.data_format), self._pairs):
            if shape[axis] is not None and before + after >= shape[axis]:
                raise self._error(
                    f"spatial axes larger than the cropping {self.cropping}",
                    f"inputs of shape {tuple(shape)} (axis {axis} has size {shape[axis]})",
                    "Values in `cropping` must be smaller than the corresponding spatial dimension of the input.",
                )

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        shape = tuple(inputs.shape)
        self._check(shape)
        index = [slice(None)] * inputs.ndim
        for axis, (before, after) in zip(_spatial_axes(self.rank, self.data_format), self._pairs):
            index[axis] = slice(before, shape[axis] - after)
        return inputs[tuple(index)]  # a view: no copy

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        self._check(tuple(input_shape))
        shape = list(input_shape)
        for axis, (before, after) in zip(_spatial_axes(self.rank, self.data_format), self._pairs):
            if shape[axis] is not None:
                shape[axis] -= before + after
        return tuple(shape)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config["cropping"] = self.cropping
        if self.rank > 1:
            config["data_format"] = self.data_format
        return config

    def extra_repr(self) -> str:
        return f"name={self.name!r}, cropping={self.cropping}, data_format={self.data_format!r}"


class Cropping1D(_Cropping):
    """Crops the time axis of ``(batch, steps, features)``.

    Args:
        cropping: int (both sides) or ``(before, after)``; default ``(1, 1)``.

    Example:
        >>> import torch, lamina
        >>> lamina.layers.Cropping1D((1, 2))(torch.ones(1, 6, 2)).shape
        torch.Size([1, 3, 2])
    """

    rank = 1

    def __init__(self, cropping: Any = (1, 1), **kwargs: Any) -> None:
        super().__init__(cropping, None, **kwargs)


class Cropping2D(_Cropping):
    """Crops the rows and columns of an image batch.

    Args:
        cropping: int, ``(sym_height, sym_width)`` or ``((top, bottom), (left, right))``.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.

    Example:
        >>> import torch, lamina
        >>> lamina.layers.Cropping2D(((1, 0), (1, 1)))(torch.ones(1, 4, 4, 3)).shape
        torch.Size([1, 3, 2, 3])
    """

    rank = 2

    def __init__(self, cropping: Any = ((0, 0), (0, 0)), data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(cropping, data_format, **kwargs)


class Cropping3D(_Cropping):
    """Crops the three spatial axes of a volume batch.

    Args:
        cropping: int, 3 ints (symmetric per axis) or 3 ``(before, after)`` pairs.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.

    Example:
        >>> import torch, lamina
        >>> lamina.layers.Cropping3D(1)(torch.ones(1, 4, 4, 4, 2)).shape
        torch.Size([1, 2, 2, 2, 2])
    """

    rank = 3

    def __init__(self, cropping: Any = ((1, 1), (1, 1), (1, 1)), data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(cropping, data_format, **kwargs)
