"""``GlobalMaxPooling1D``-``3D`` and ``GlobalAveragePooling1D``-``3D`` (masks honoured in 1-D averages)."""

from __future__ import annotations

from typing import Any

import torch

from lamina.layers.argument_validation import standardize_data_format
from lamina.layers.input_spec import InputSpec
from lamina.layers.layer import Layer


class BaseGlobalPooling(Layer):
    """Rank-generic global pooling over every spatial axis.

    Args:
        pool_dimensions: 1, 2 or 3.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
        keepdims: keep the spatial axes with size 1.
    """

    def __init__(
        self, pool_dimensions: int, data_format: str | None = None, keepdims: bool = False, **kwargs: Any
    ) -> None:
        data_format = standardize_data_format(data_format)
        super().__init__(**kwargs)
        self.rank = pool_dimensions
        self.data_format = data_format
        self.keepdims = keepdims
        self.input_spec = InputSpec(ndim=pool_dimensions + 2)
        self.built = True

    @property
    def _spatial_axes(self) -> tuple[int, ...]:
        start = 1 if self.data_format == "channels_last" else 2
        return tuple(range(start, start + self.rank))

    def compute_output_shape(self, input_shape: Any) -> tuple:
        shape = tuple(input_shape)
        if len(shape) != self.rank + 2:
            raise self._error(f"inputs of rank {self.rank + 2}", f"shape {shape} (rank {len(shape)})")
        if self.data_format == "channels_last":
            return (shape[0], *(1,) * self.rank, shape[-1]) if self.keepdims else (shape[0], shape[-1])
        return (shape[0], shape[1], *(1,) * self.rank) if self.keepdims else (shape[0], shape[1])

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update({"data_format": self.data_format, "keepdims": self.keepdims})
        return config

    def extra_repr(self) -> str:
        return f"name={self.name!r}, data_format={self.data_format!r}, keepdims={self.keepdims}"


class _GlobalMax(BaseGlobalPooling):
    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        return torch.amax(inputs, dim=self._spatial_axes, keepdim=self.keepdims)


class _GlobalAverage(BaseGlobalPooling):
    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        return torch.mean(inputs, dim=self._spatial_axes, keepdim=self.keepdims)


class GlobalMaxPooling1D(_GlobalMax):
    """Max over steps.

    Args:
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
        keepdims: keep the steps axis with size 1.

    Input shape:
        ``(batch, steps, features)`` (``(batch, features, steps)`` if channels_first).

    Output shape:
        ``(batch, features)``; with ``keepdims``, ``(batch, 1, features)`` (or ``(batch, features, 1)``).

    Example:
        >>> import torch, lamina
        >>> lamina.layers.GlobalMaxPooling1D()(torch.tensor([[[1.0, 5.0], [3.0, 2.0]]])).tolist()
        [[3.0, 5.0]]
    """

    def __init__(self, data_format: str | None = None, keepdims: bool = False, **kwargs: Any) -> None:
        super().__init__(1, data_format=data_format, keepdims=keepdims, **kwargs)


class GlobalMaxPooling2D(_GlobalMax):
    """Max over height and width.

    Args:
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
        keepdims: keep the spatial axes with size 1.

    Input shape:
        ``(batch, height, width, channels)`` (channels first if channels_first).

    Output shape:
        ``(batch, channels)``; with ``keepdims``, ``(batch, 1, 1, channels)`` (or ``(batch, channels, 1, 1)``).

    Example:
        >>> import torch, lamina
        >>> lamina.layers.GlobalMaxPooling2D(keepdims=True)(torch.ones(2, 4, 5, 3)).shape
        torch.Size([2, 1, 1, 3])
    """

    def __init__(self, data_format: str | None = None, keepdims: bool = False, **kwargs: Any) -> None:
        super().__init__(2, data_format=data_format, keepdims=keepdims, **kwargs)


class GlobalMaxPooling3D(_GlobalMax):
    """Max over three spatial axes.

    Args:
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
        keepdims: keep the spatial axes with size 1.

    Input shape:
        ``(batch, d1, d2, d3, channels)`` (channels first if channels_first).

    Output shape:
        ``(batch, channels)``; with ``keepdims``, the spatial axes stay with size 1.

    Example:
        >>> import torch, lamina
        >>> lamina.layers.GlobalMaxPooling3D()(torch.ones(2, 3, 3, 3, 4)).shape
        torch.Size([2, 4])
    """

    def __init__(self, data_format: str | None = None, keepdims: bool = False, **kwargs: Any) -> None:
        super().__init__(3, data_format=data_format, keepdims=keepdims, **kwargs)


class GlobalAveragePooling1D(_GlobalAverage):
    """Mean over steps; masked steps (``mask`` of shape ``(batch, steps)``) are left out of the mean.

    Args:
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
        keepdims: keep the steps axis with size 1.

    Input shape:
        ``(batch, steps, features)`` (``(batch, features, steps)`` if channels_first).

    Output shape:
        ``(batch, features)``; with ``keepdims``, ``(batch, 1, features)`` (or ``(batch, features, 1)``).

    Example:
        >>> import torch, lamina
        >>> x = torch.tensor([[[1.0], [3.0], [8.0]]])
        >>> lamina.layers.GlobalAveragePooling1D()(x, mask=torch.tensor([[True, True, False]])).tolist()
        [[2.0]]
    """

    def __init__(self, data_format: str | None = None, keepdims: bool = False, **kwargs: Any) -> None:
        super().__init__(1, data_format=data_format, keepdims=keepdims, **kwargs)
        self.supports_masking = True

    def call(self, inputs: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        if mask is None:
            return super().call(inputs)
        axis = self._spatial_axes[0]
        # (batch, steps) -> broadcastable over the feature axis
        keep = torch.as_tensor(mask, device=inputs.device).to(torch.bool)
        keep = keep.unsqueeze(2 if self.data_format == "channels_last" else 1)
        total = torch.where(keep, inputs, 0).sum(dim=axis, keepdim=self.keepdims)
        return total / keep.to(inputs.dtype).sum(dim=axis, keepdim=self.keepdims)

    def compute_mask(self, inputs: Any, mask: Any = None) -> None:
        return None


class GlobalAveragePooling2D(_GlobalAverage):
    """Mean over height and width.

    Args:
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
        keepdims: keep the spatial axes with size 1.

    Input shape:
        ``(batch, height, width, channels)`` (channels first if channels_first).

    Output shape:
        ``(batch, channels)``; with ``keepdims``, ``(batch, 1, 1, channels)`` (or ``(batch, channels, 1, 1)``).

    Example:
        >>> import torch, lamina
        >>> lamina.layers.GlobalAveragePooling2D()(torch.ones(2, 4, 5, 3)).shape
        torch.Size([2, 3])
    """

    def __init__(self, data_format: str | None = None, keepdims: bool = False, **kwargs: Any) -> None:
        super().__init__(2, data_format=data_format, keepdims=keepdims, **kwargs)


class GlobalAveragePooling3D(_GlobalAverage):
    """Mean over three spatial axes.

    Args:
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
        keepdims: keep the spatial axes with size 1.

    Input shape:
        ``(batch, d1, d2, d3, channels)`` (channels first if channels_first).

    Output shape:
        ``(batch, channels)``; with ``keepdims``, the spatial axes stay with size 1.

    Example:
        >>> import torch, lamina
        >>> lamina.layers.GlobalAveragePooling3D(data_format="channels_first")(torch.ones(2, 4, 3, 3, 3)).shape
        torch.Size([2, 4])
    """

    def __init__(self, data_format: str | None = None, keepdims: bool = False, **kwargs: Any) -> None:
        super().__init__(3, data_format=data_format, keepdims=keepdims, **kwargs)


GlobalMaxPool1D = GlobalMaxPooling1D


GlobalMaxPool2D = GlobalMaxPooling2D


GlobalMaxPool3D = GlobalMaxPooling3D


GlobalAvgPool1D = GlobalAveragePooling1D


GlobalAvgPool2D = GlobalAveragePooling2D


GlobalAvgPool3D = GlobalAveragePooling3D
