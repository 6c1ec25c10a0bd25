"""Adaptive max/average pooling 1D-3D: a fixed output size whatever the input size (``nn.AdaptiveAvgPool``)."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from lamina.layers.argument_validation import standardize_data_format, standardize_tuple
from lamina.layers.convolutional._utils import (
    to_channels_first,
    to_channels_last,
)
from lamina.layers.input_spec import InputSpec
from lamina.layers.layer import Layer

_ADAPTIVE_MAX = {1: F.adaptive_max_pool1d, 2: F.adaptive_max_pool2d, 3: F.adaptive_max_pool3d}


_ADAPTIVE_AVG = {1: F.adaptive_avg_pool1d, 2: F.adaptive_avg_pool2d, 3: F.adaptive_avg_pool3d}


class BaseAdaptivePooling(Layer):
    """Rank-generic adaptive pooling: windows chosen so the output has ``output_size`` spatial sizes.

    Args:
        output_size: int or ``rank`` ints, the spatial output size.
        rank: 1, 2 or 3.
        pool_mode: ``"max"`` or ``"average"``.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
    """

    def __init__(
        self, output_size: Any, rank: int, pool_mode: str, data_format: str | None = None, **kwargs: Any
    ) -> None:
        output_size = standardize_tuple(output_size, rank, "output_size")
        data_format = standardize_data_format(data_format)
        super().__init__(**kwargs)
        self.rank = rank
        self.pool_mode = pool_mode
        self.output_size = output_size
        self.data_format = data_format
        self.input_spec = InputSpec(ndim=rank + 2)
        self.built = True

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        channels_last = self.data_format == "channels_last"
        # (N, *spatial, C) -> (N, C, *spatial), zero-copy
        x = to_channels_first(inputs, self.rank) if channels_last else inputs
        size = self.output_size[0] if self.rank == 1 else self.output_size
        y = (_ADAPTIVE_MAX if self.pool_mode == "max" else _ADAPTIVE_AVG)[self.rank](x, size)
        return to_channels_last(y, self.rank) if channels_last else y

    def compute_output_shape(self, input_shape: Any) -> tuple:
        shape = tuple(input_shape)
        if len(shape) != self.rank + 2:
            raise self._error(f"inputs of rank {self.rank + 2}", f"shape {shape} (rank {len(shape)})")
        if self.data_format == "channels_last":
            return (shape[0], *self.output_size, shape[-1])
        return (shape[0], shape[1], *self.output_size)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update({"output_size": self.output_size, "data_format": self.data_format})
        return config

    def extra_repr(self) -> str:
        return f"name={self.name!r}, output_size={self.output_size}, data_format={self.data_format!r}"


class AdaptiveMaxPooling1D(BaseAdaptivePooling):
    """Max pooling to a fixed number of steps, whatever the input length.

    Example:
        >>> import torch, lamina
        >>> x = torch.arange(1.0, 7.0).reshape(1, 6, 1)
        >>> lamina.layers.AdaptiveMaxPooling1D(2)(x).flatten().tolist()
        [3.0, 6.0]
    """

    def __init__(self, output_size: Any, data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(output_size, 1, "max", data_format, **kwargs)


class AdaptiveMaxPooling2D(BaseAdaptivePooling):
    """Max pooling to a fixed ``(height, width)``, whatever the input size.

    Example:
        >>> import torch, lamina
        >>> lamina.layers.AdaptiveMaxPooling2D((2, 3))(torch.ones(1, 7, 8, 4)).shape
        torch.Size([1, 2, 3, 4])
    """

    def __init__(self, output_size: Any, data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(output_size, 2, "max", data_format, **kwargs)


class AdaptiveMaxPooling3D(BaseAdaptivePooling):
    """Max pooling to a fixed ``(depth, height, width)``, whatever the input size.

    Example:
        >>> import torch, lamina
        >>> lamina.layers.AdaptiveMaxPooling3D(2)(torch.ones(1, 5, 5, 5, 3)).shape
        torch.Size([1, 2, 2, 2, 3])
    """

    def __init__(self, output_size: Any, data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(output_size, 3, "max", data_format, **kwargs)


class AdaptiveAveragePooling1D(BaseAdaptivePooling):
    """Average pooling to a fixed number of steps, whatever the input length.

    Example:
        >>> import torch, lamina
        >>> x = torch.arange(1.0, 7.0).reshape(1, 6, 1)
        >>> lamina.layers.AdaptiveAveragePooling1D(2)(x).flatten().tolist()
        [2.0, 5.0]
    """

    def __init__(self, output_size: Any, data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(output_size, 1, "average", data_format, **kwargs)


class AdaptiveAveragePooling2D(BaseAdaptivePooling):
    """Average pooling to a fixed ``(height, width)``, whatever the input size.

    Example:
        >>> import torch, lamina
        >>> lamina.layers.AdaptiveAveragePooling2D(1)(torch.ones(1, 7, 8, 4)).shape
        torch.Size([1, 1, 1, 4])
    """

    def __init__(self, output_size: Any, data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(output_size, 2, "average", data_format, **kwargs)


class AdaptiveAveragePooling3D(BaseAdaptivePooling):
    """Average pooling to a fixed ``(depth, height, width)``, whatever the input size.

    Example:
        >>> import torch, lamina
        >>> lamina.layers.AdaptiveAveragePooling3D((1, 2, 2), data_format="channels_first")(
        ...     torch.ones(1, 3, 4, 4, 4)).shape
        torch.Size([1, 3, 1, 2, 2])
    """

    def __init__(self, output_size: Any, data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(output_size, 3, "average", data_format, **kwargs)
