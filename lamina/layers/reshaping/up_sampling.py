"""``UpSampling1D``-``3D``: repeats (or interpolates) along the spatial axes."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from lamina.layers.argument_validation import standardize_data_format, standardize_tuple
from lamina.layers.input_spec import InputSpec
from lamina.layers.layer import Layer
from lamina.layers.reshaping._utils import _spatial_axes


class UpSampling1D(Layer):
    """Repeats each time step ``size`` times: ``(batch, steps, f) -> (batch, steps * size, f)``.

    Args:
        size: positive int, the upsampling factor.

    Example:
        >>> import torch, lamina
        >>> lamina.layers.UpSampling1D(2)(torch.tensor([[[1.0], [2.0]]])).flatten().tolist()
        [1.0, 1.0, 2.0, 2.0]
    """

    def __init__(self, size: int = 2, **kwargs: Any) -> None:
        if not isinstance(size, int) or isinstance(size, bool):
            raise TypeError(f"Expected an integer value for `size`, got {type(size)}.")
        if size <= 0:
            raise ValueError(f"Argument `size` should be a positive integer. Received: size={size}")
        super().__init__(**kwargs)
        self.size = size
        self.input_spec = InputSpec(ndim=3)
        self.built = True

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        return torch.repeat_interleave(inputs, self.size, dim=1)

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        steps = input_shape[1]
        return (input_shape[0], None if steps is None else steps * self.size, input_shape[2])

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config["size"] = self.size
        return config

    def extra_repr(self) -> str:
        return f"name={self.name!r}, size={self.size}"


_TORCH_MODES = {
    2: {"nearest": "nearest-exact", "bilinear": "bilinear", "bicubic": "bicubic"},
    3: {"nearest": "nearest-exact"},
}


class _UpSampling(Layer):
    """Rank-generic upsampling of the spatial axes by integer factors with ``F.interpolate``.

    ``"nearest"`` uses torch's ``nearest-exact`` mode, which for integer factors repeats each
    pixel exactly as Keras's ``ops.repeat`` does; ``"bilinear"``/``"bicubic"`` use
    ``align_corners=False`` and no antialias, like Keras's ``ops.image.resize`` on torch.
    """

    rank = 0

    def __init__(
        self, size: Any, data_format: str | None = None, interpolation: str = "nearest", **kwargs: Any
    ) -> None:
        size_t = standardize_tuple(size, self.rank, "size")
        mode = str(interpolation).lower()
        if mode not in _TORCH_MODES[self.rank]:
            raise ValueError(
                f"Invalid value for argument `interpolation`. Expected one of {sorted(_TORCH_MODES[self.rank])}. "
                f"Received: interpolation={interpolation}"
            )
        super().__init__(**kwargs)
        self.data_format = standardize_data_format(data_format)
        self.size = size_t
        self.interpolation = mode
        self.input_spec = InputSpec(ndim=self.rank + 2)
        self.built = True

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        channels_last = self.data_format == "channels_last"
        x = inputs.permute(0, -1, *range(1, self.rank + 1)) if channels_last else inputs  # (N,*S,C)->(N,C,*S) view
        out_size = [d * s for d, s in zip(x.shape[2:], self.size)]
        mode = _TORCH_MODES[self.rank][self.interpolation]
        if mode in ("bilinear", "bicubic"):
            y = F.interpolate(x, size=out_size, mode=mode, align_corners=False)
        else:
            y = F.interpolate(x, size=out_size, mode=mode)
        if y.dtype != x.dtype:  # CUDA autocast (mixed policies) upsamples in float32; keep the compute dtype
            y = y.to(x.dtype)
        return y.permute(0, *range(2, self.rank + 2), 1) if channels_last else y  # (N,C,*S)->(N,*S,C) view

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        shape = list(input_shape)
        for axis, s in zip(_spatial_axes(self.rank, self.data_format), self.size):
            if shape[axis] is not None:
                shape[axis] *= s
        return tuple(shape)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update({"size": self.size, "data_format": self.data_format})
        if self.rank == 2:
            config["interpolation"] = self.interpolation
        return config

    def extra_repr(self) -> str:
        return f"name={self.name!r}, size={self.size}, data_format={self.data_format!r}"


class UpSampling2D(_UpSampling):
    """Upsamples rows and columns by ``size``.

    Args:
        size: int or ``(rows, cols)`` positive factors; default ``(2, 2)``.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
        interpolation: ``"nearest"`` (default, repeats pixels), ``"bilinear"`` or ``"bicubic"``.

    Example:
        >>> import torch, lamina
        >>> x = torch.arange(4.0).reshape(1, 2, 2, 1)
        >>> lamina.layers.UpSampling2D((1, 2))(x)[0, :, :, 0].tolist()
        [[0.0, 0.0, 1.0, 1.0], [2.0, 2.0, 3.0, 3.0]]
    """

    rank = 2

    def __init__(
        self, size: Any = (2, 2), data_format: str | None = None, interpolation: str = "nearest", **kwargs: Any
    ) -> None:
        super().__init__(size, data_format, interpolation, **kwargs)


class UpSampling3D(_UpSampling):
    """Upsamples the three spatial axes by ``size`` (repeating voxels).

    Args:
        size: int or 3 positive factors; default ``(2, 2, 2)``.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.

    Example:
        >>> import torch, lamina
        >>> lamina.layers.UpSampling3D(2)(torch.zeros(1, 1, 2, 3, 4)).shape
        torch.Size([1, 2, 4, 6, 4])
    """

    rank = 3

    def __init__(self, size: Any = (2, 2, 2), data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(size, data_format, "nearest", **kwargs)
