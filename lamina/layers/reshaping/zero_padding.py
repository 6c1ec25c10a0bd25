"""``ZeroPadding1D``-``3D``: zeros around the spatial axes."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from lamina.layers.argument_validation import standardize_data_format, standardize_tuple
from lamina.layers.input_spec import InputSpec
from lamina.layers.layer import Layer
from lamina.layers.reshaping._utils import _pairs_per_axis, _spatial_axes


class _ZeroPadding(Layer):
    """Rank-generic zero padding of the spatial axes; ``_pairs`` holds ``(before, after)`` per axis."""

    rank = 0

    def __init__(self, padding: Any, data_format: str | None = None, **kwargs: Any) -> None:
        if self.rank == 1:
            pairs = (standardize_tuple(padding, 2, "padding", allow_zero=True),)
        else:
            pairs = _pairs_per_axis(padding, self.rank, "padding")
        super().__init__(**kwargs)
        self.data_format = standardize_data_format(data_format)
        self._pairs = pairs
        self.padding = pairs[0] if self.rank == 1 else pairs
        self.input_spec = InputSpec(ndim=self.rank + 2)
        self.built = True

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        # F.pad lists (before, after) from the LAST axis backwards
        pad: list[int] = [] if self.data_format == "channels_first" else [0, 0]
        for before, after in reversed(self._pairs):
            pad += [before, after]
        return F.pad(inputs, pad)

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        shape = list(input_shape)
        for axis, (before, after) in zip(_spatial_axes(self.rank, self.data_format), self._pairs):
            if shape[axis] is not None:
                shape[axis] += before + after
        return tuple(shape)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update({"padding": self.padding, "data_format": self.data_format})
        return config

    def extra_repr(self) -> str:
        return f"name={self.name!r}, padding={self.padding}, data_format={self.data_format!r}"


class ZeroPadding1D(_ZeroPadding):
    """Pads the time axis of ``(batch, steps, features)`` with zeros.

    Args:
        padding: int (both sides) or ``(before, after)``.
        data_format: ``"channels_last"`` (default, ``(batch, steps, features)``) or ``"channels_first"``.

    Example:
        >>> import torch, lamina
        >>> lamina.layers.ZeroPadding1D((1, 2))(torch.ones(1, 3, 2)).shape
        torch.Size([1, 6, 2])
    """

    rank = 1

    def __init__(self, padding: Any = 1, data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(padding, data_format, **kwargs)


class ZeroPadding2D(_ZeroPadding):
    """Pads the rows and columns of an image batch with zeros.

    Args:
        padding: int, ``(sym_height, sym_width)`` or ``((top, bottom), (left, right))``.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.

    Example:
        >>> import torch, lamina
        >>> lamina.layers.ZeroPadding2D(((1, 0), (2, 2)))(torch.ones(1, 3, 3, 2)).shape
        torch.Size([1, 4, 7, 2])
    """

    rank = 2

    def __init__(self, padding: Any = (1, 1), data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(padding, data_format, **kwargs)


class ZeroPadding3D(_ZeroPadding):
    """Pads the three spatial axes of a volume batch with zeros.

    Args:
        padding: int, 3 ints (symmetric per axis) or 3 ``(before, after)`` pairs.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.

    Example:
        >>> import torch, lamina
        >>> lamina.layers.ZeroPadding3D(1)(torch.ones(1, 2, 2, 2, 3)).shape
        torch.Size([1, 4, 4, 4, 3])
    """

    rank = 3

    def __init__(self, padding: Any = ((1, 1), (1, 1), (1, 1)), data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(padding, data_format, **kwargs)
