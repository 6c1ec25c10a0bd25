"""``UnitNormalization`` and ``RMSNormalization``: scale by the L2 norm or the root mean square."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from lamina.layers.layer import Layer
from lamina.layers.normalization._utils import _check_axes_in_bounds, _upcast


class UnitNormalization(Layer):
    """Scales each sample to unit L2 norm over ``axis``: ``x * min(rsqrt(sum(x**2)), 1e12)``.

    Args:
        axis: int or list of ints. Default ``-1``.

    Example:
        >>> import torch, lamina
        >>> lamina.layers.UnitNormalization()(torch.tensor([[3.0, 4.0]])).tolist()
        [[0.6000000238418579, 0.800000011920929]]
    """

    def __init__(self, axis: Any = -1, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if isinstance(axis, (list, tuple)):
            self.axis = list(axis)
        elif isinstance(axis, int) and not isinstance(axis, bool):
            self.axis = axis
        else:
            raise TypeError(
                f"Invalid value for `axis` argument: expected an int or a list/tuple of ints. Received: axis={axis}"
            )
        self.supports_masking = True
        self.built = True

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        axes = self.axis if isinstance(self.axis, list) else [self.axis]
        inv = torch.rsqrt(inputs.square().sum(axes, keepdim=True))
        return inputs * torch.clamp(inv, max=1e12)

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        _check_axes_in_bounds(self, self.axis, input_shape)
        return tuple(input_shape)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config["axis"] = self.axis
        return config


class RMSNormalization(Layer):
    """Root-mean-square normalization (Zhang & Sennrich 2019): ``x * rsqrt(mean(x**2) + epsilon) * scale``.

    Args:
        axis: int or list of ints to normalize over. Default ``-1``.
        epsilon: added to the mean square. Default ``1e-6``.

    Example:
        >>> import torch, lamina
        >>> layer = lamina.layers.RMSNormalization(epsilon=0.0)
        >>> layer(torch.tensor([[3.0, 4.0, 0.0, 0.0]])).tolist()
        [[1.2000000476837158, 1.600000023841858, 0.0, 0.0]]
        >>> [w.name for w in layer.weights]
        ['scale']
    """

    def __init__(self, axis: Any = -1, epsilon: float = 1e-6, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.axis = list(axis) if isinstance(axis, tuple) else axis
        self.epsilon = epsilon
        self.scale = None

    def build(self, input_shape: tuple) -> None:
        _check_axes_in_bounds(self, self.axis, input_shape)
        self.axis = sorted(self.axis) if isinstance(self.axis, list) else [self.axis]
        shape = tuple(input_shape[d] for d in self.axis)
        self.scale = self.add_weight(name="scale", shape=shape, initializer="ones")
        self.built = True

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        x = _upcast(inputs)
        axes = sorted(a % x.ndim for a in self.axis)
        scale = self.scale.to(x.dtype)
        if axes == list(range(x.ndim - len(axes), x.ndim)):
            out = F.rms_norm(x, tuple(x.shape[a] for a in axes), scale, self.epsilon)
        else:
            out = x * torch.rsqrt(x.square().mean(axes, keepdim=True) + self.epsilon)
            shape = [1] * x.ndim
            for a in axes:
                shape[a] = x.shape[a]
            out = out * scale.reshape(shape)
        return out.to(inputs.dtype)

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        _check_axes_in_bounds(self, self.axis, input_shape)
        return tuple(input_shape)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update({"axis": self.axis, "epsilon": self.epsilon})
        return config
