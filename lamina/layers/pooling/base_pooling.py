"""Windowed max/average pooling, 1D to 3D: ``MaxPooling*D`` and ``AveragePooling*D``.

Windowed pooling runs ``F.max_pool{n}d`` / ``F.avg_pool{n}d`` on a channels-first view of
the input. "same" padding reproduces Keras 3's torch backend number for number: when the
padding splits evenly it is torch's implicit padding (excluded from averages); when it does
not (the extra step goes at the end), the input is edge-replicated first and the replicated
values count in an average, exactly as Keras does on torch.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from lamina.layers.argument_validation import standardize_data_format, standardize_padding, standardize_tuple
from lamina.layers.convolutional._utils import (
    conv_output_length,
    same_padding_args,
    to_channels_first,
    to_channels_last,
)
from lamina.layers.input_spec import InputSpec
from lamina.layers.layer import Layer

_MAX_POOL = {1: F.max_pool1d, 2: F.max_pool2d, 3: F.max_pool3d}
_AVG_POOL = {1: F.avg_pool1d, 2: F.avg_pool2d, 3: F.avg_pool3d}


class BasePooling(Layer):
    """Rank-generic windowed pooling.

    Args:
        pool_size: int or ``pool_dimensions`` ints, the window size.
        strides: int or ints; ``None`` means ``pool_size``.
        pool_dimensions: 1, 2 or 3.
        pool_mode: ``"max"`` or ``"average"``.
        padding: ``"valid"`` or ``"same"``.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
    """

    def __init__(
        self,
        pool_size: Any,
        strides: Any,
        pool_dimensions: int,
        pool_mode: str = "max",
        padding: str = "valid",
        data_format: str | None = None,
        name: str | None = None,
        **kwargs: Any,
    ) -> None:
        pool_size = standardize_tuple(pool_size, pool_dimensions, "pool_size")
        strides = pool_size if strides is None else standardize_tuple(strides, pool_dimensions, "strides")
        padding = standardize_padding(padding)
        data_format = standardize_data_format(data_format)
        if pool_mode not in ("max", "average"):
            raise ValueError(f"`pool_mode` must be either 'max' or 'average'. Received: pool_mode={pool_mode!r}")
        super().__init__(name=name, **kwargs)
        self.rank = pool_dimensions
        self.pool_size = pool_size
        self.strides = strides
        self.pool_mode = pool_mode
        self.padding = padding
        self.data_format = data_format
        self.input_spec = InputSpec(ndim=pool_dimensions + 2)
        self.built = True

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        channels_last = self.data_format == "channels_last"
        # (N, *spatial, C) -> (N, C, *spatial), zero-copy
        x = to_channels_first(inputs, self.rank) if channels_last else inputs
        padding: Any = 0
        if self.padding == "same":
            x, padding = same_padding_args(x, self.pool_size, self.strides, mode="replicate")
        try:
            if self.pool_mode == "max":
                y = _MAX_POOL[self.rank](x, self.pool_size, self.strides, padding)
            else:
                y = _AVG_POOL[self.rank](x, self.pool_size, self.strides, padding, count_include_pad=False)
        except RuntimeError:
            self.compute_output_shape(tuple(inputs.shape))  # names the window that does not fit
            raise
        if self.__dict__.get("_relu_after"):  # the relu of the convolution before it (models/relu_pooling.py)
            y = torch.relu_(y)  # on pooling's fresh output, before the permute (its backward keeps only the indices)
        return to_channels_last(y, self.rank) if channels_last else y

    def compute_output_shape(self, input_shape: Any) -> tuple:
        shape = tuple(input_shape)
        if len(shape) != self.rank + 2:
            raise self._error(f"inputs of rank {self.rank + 2}", f"shape {shape} (rank {len(shape)})")
        channels_last = self.data_format == "channels_last"
        spatial = shape[1:-1] if channels_last else shape[2:]
        out = tuple(conv_output_length(n, k, s, self.padding) for n, k, s in zip(spatial, self.pool_size, self.strides))
        if any(n is not None and n <= 0 for n in out):
            raise self._error(
                "inputs at least as large as its pool_size",
                f"shape {shape} with pool_size={self.pool_size}, "
                f"strides={self.strides}, padding={self.padding!r}, so the computed output size would be zero or "
                "negative",
                'Use larger inputs, a smaller pool_size, or padding="same".',
            )
        return (shape[0], *out, shape[-1]) if channels_last else (shape[0], shape[1], *out)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(
            {
                "pool_size": self.pool_size,
                "padding": self.padding,
                "strides": self.strides,
                "data_format": self.data_format,
            }
        )
        return config

    def extra_repr(self) -> str:
        return (
            f"name={self.name!r}, pool_size={self.pool_size}, strides={self.strides}, padding={self.padding!r}, "
            f"data_format={self.data_format!r}"
        )


class MaxPooling1D(BasePooling):
    """Max pooling over steps.

    Args:
        pool_size: int, window size (default 2).
        strides: int or None (``pool_size``).
        padding: ``"valid"`` or ``"same"``.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.

    Input shape:
        ``(batch, steps, features)`` (``(batch, features, steps)`` if channels_first).

    Output shape:
        ``(batch, pooled_steps, features)`` (channels first if channels_first).

    Example:
        >>> import torch, lamina
        >>> x = torch.tensor([1.0, 2.0, 3.0, 4.0, 5.0]).reshape(1, 5, 1)
        >>> lamina.layers.MaxPooling1D(2, strides=1)(x).flatten().tolist()
        [2.0, 3.0, 4.0, 5.0]
    """

    def __init__(
        self,
        pool_size: Any = 2,
        strides: Any = None,
        padding: str = "valid",
        data_format: str | None = None,
        name: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            pool_size,
            strides,
            pool_dimensions=1,
            pool_mode="max",
            padding=padding,
            data_format=data_format,
            name=name,
            **kwargs,
        )


class MaxPooling2D(BasePooling):
    """Max pooling over height and width.

    Args:
        pool_size: int or 2 ints (default ``(2, 2)``).
        strides: int, 2 ints, or None (``pool_size``).
        padding: ``"valid"`` or ``"same"``.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.

    Input shape:
        ``(batch, height, width, channels)`` (channels first if channels_first).

    Output shape:
        ``(batch, pooled_height, pooled_width, channels)`` (channels first if channels_first).

    Example:
        >>> import torch, lamina
        >>> x = torch.arange(1.0, 10.0).reshape(1, 3, 3, 1)
        >>> lamina.layers.MaxPooling2D((2, 2), strides=(1, 1))(x).flatten().tolist()
        [5.0, 6.0, 8.0, 9.0]
    """

    def __init__(
        self,
        pool_size: Any = (2, 2),
        strides: Any = None,
        padding: str = "valid",
        data_format: str | None = None,
        name: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            pool_size,
            strides,
            pool_dimensions=2,
            pool_mode="max",
            padding=padding,
            data_format=data_format,
            name=name,
            **kwargs,
        )


class MaxPooling3D(BasePooling):
    """Max pooling over three spatial axes.

    Args:
        pool_size: int or 3 ints (default ``(2, 2, 2)``).
        strides: int, 3 ints, or None (``pool_size``).
        padding: ``"valid"`` or ``"same"``.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.

    Input shape:
        ``(batch, d1, d2, d3, channels)`` (channels first if channels_first).

    Output shape:
        ``(batch, pooled_d1, pooled_d2, pooled_d3, channels)`` (channels first if channels_first).

    Example:
        >>> import torch, lamina
        >>> lamina.layers.MaxPooling3D()(torch.ones(1, 4, 4, 4, 2)).shape
        torch.Size([1, 2, 2, 2, 2])
    """

    def __init__(
        self,
        pool_size: Any = (2, 2, 2),
        strides: Any = None,
        padding: str = "valid",
        data_format: str | None = None,
        name: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            pool_size,
            strides,
            pool_dimensions=3,
            pool_mode="max",
            padding=padding,
            data_format=data_format,
            name=name,
            **kwargs,
        )


class AveragePooling1D(BasePooling):
    """Average pooling over steps.

    Args:
        pool_size: int, window size.
        strides: int or None (``pool_size``).
        padding: ``"valid"`` or ``"same"``.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.

    Input shape:
        ``(batch, steps, features)`` (``(batch, features, steps)`` if channels_first).

    Output shape:
        ``(batch, pooled_steps, features)`` (channels first if channels_first).

    Example:
        >>> import torch, lamina
        >>> x = torch.tensor([1.0, 2.0, 3.0, 4.0, 5.0]).reshape(1, 5, 1)
        >>> lamina.layers.AveragePooling1D(2, strides=1)(x).flatten().tolist()
        [1.5, 2.5, 3.5, 4.5]
    """

    def __init__(
        self,
        pool_size: Any,
        strides: Any = None,
        padding: str = "valid",
        data_format: str | None = None,
        name: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            pool_size,
            strides,
            pool_dimensions=1,
            pool_mode="average",
            padding=padding,
            data_format=data_format,
            name=name,
            **kwargs,
        )


class AveragePooling2D(BasePooling):
    """Average pooling over height and width.

    Args:
        pool_size: int or 2 ints.
        strides: int, 2 ints, or None (``pool_size``).
        padding: ``"valid"`` or ``"same"``.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.

    Input shape:
        ``(batch, height, width, channels)`` (channels first if channels_first).

    Output shape:
        ``(batch, pooled_height, pooled_width, channels)`` (channels first if channels_first).

    Example:
        >>> import torch, lamina
        >>> x = torch.arange(1.0, 17.0).reshape(1, 4, 4, 1)
        >>> lamina.layers.AveragePooling2D(2)(x).flatten().tolist()
        [3.5, 5.5, 11.5, 13.5]
    """

    def __init__(
        self,
        pool_size: Any,
        strides: Any = None,
        padding: str = "valid",
        data_format: str | None = None,
        name: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            pool_size,
            strides,
            pool_dimensions=2,
            pool_mode="average",
            padding=padding,
            data_format=data_format,
            name=name,
            **kwargs,
        )


class AveragePooling3D(BasePooling):
    """Average pooling over three spatial axes.

    Args:
        pool_size: int or 3 ints.
        strides: int, 3 ints, or None (``pool_size``).
        padding: ``"valid"`` or ``"same"``.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.

    Input shape:
        ``(batch, d1, d2, d3, channels)`` (channels first if channels_first).

    Output shape:
        ``(batch, pooled_d1, pooled_d2, pooled_d3, channels)`` (channels first if channels_first).

    Example:
        >>> import torch, lamina
        >>> lamina.layers.AveragePooling3D(2)(torch.ones(1, 4, 4, 4, 2)).shape
        torch.Size([1, 2, 2, 2, 2])
    """

    def __init__(
        self,
        pool_size: Any,
        strides: Any = None,
        padding: str = "valid",
        data_format: str | None = None,
        name: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            pool_size,
            strides,
            pool_dimensions=3,
            pool_mode="average",
            padding=padding,
            data_format=data_format,
            name=name,
            **kwargs,
        )


MaxPool1D = MaxPooling1D
MaxPool2D = MaxPooling2D
MaxPool3D = MaxPooling3D
AvgPool1D = AveragePooling1D
AvgPool2D = AveragePooling2D
AvgPool3D = AveragePooling3D
