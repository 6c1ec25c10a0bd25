"""``LayerNormalization``: per-sample statistics over the chosen axes."""

from __future__ import annotations

import warnings
from typing import Any

import torch
import torch.nn.functional as F

from lamina import backend, constraints, initializers, regularizers, serialization
from lamina.layers.layer import Layer
from lamina.layers.normalization._utils import _check_axes_in_bounds, _upcast


class LayerNormalization(Layer):
    """Normalizes each sample over ``axis`` (mean 0, variance 1), then scales by ``gamma`` and shifts by ``beta``.

    Args:
        axis: int or list of ints, the axes to normalize over. Default ``-1``.
        epsilon: added to the variance. Default ``1e-3``.
        center / scale: whether to use ``beta`` / ``gamma``.
        rms_scaling: deprecated Keras option: ``x * rsqrt(var(x) + epsilon) * gamma`` (no centering, no beta).
        beta_initializer / gamma_initializer / regularizers / constraints: as in Keras.

    Input shape:
        Any; the output has the same shape.

    Example:
        >>> import torch, lamina
        >>> ln = lamina.layers.LayerNormalization(epsilon=0.0)
        >>> ln(torch.tensor([[1.0, 3.0]])).tolist()
        [[-1.0, 1.0]]
    """

    def __init__(
        self,
        axis: Any = -1,
        epsilon: float = 1e-3,
        center: bool = True,
        scale: bool = True,
        beta_initializer: Any = "zeros",
        gamma_initializer: Any = "ones",
        beta_regularizer: Any = None,
        gamma_regularizer: Any = None,
        beta_constraint: Any = None,
        gamma_constraint: Any = None,
        **kwargs: Any,
    ) -> None:
        rms_scaling = kwargs.pop("rms_scaling", False)
        if rms_scaling:
            warnings.warn(
                "You passed `rms_scaling=True`, which is deprecated. This argument incorrectly scales the "
                "input by the variance, not the root mean square. To correctly use RMS Normalization, "
                "please use `keras.layers.RMSNormalization` instead.",
                stacklevel=2,
            )
        if isinstance(axis, (list, tuple)):
            axis = list(axis)
        elif not isinstance(axis, int) or isinstance(axis, bool):
            raise TypeError(f"Expected an int or a list/tuple of ints for the argument 'axis', but received: {axis!r}")
        super().__init__(**kwargs)
        self.axis = axis
        self.epsilon = epsilon
        self.center = center
        self.scale = scale
        self.rms_scaling = rms_scaling
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)
        self.beta_constraint = constraints.get(beta_constraint)
        self.gamma_constraint = constraints.get(gamma_constraint)
        self.supports_masking = True
        self.autocast = False
        self.gamma = None
        self.beta = None

    def build(self, input_shape: tuple) -> None:
        _check_axes_in_bounds(self, self.axis, input_shape)
        self.axis = sorted(self.axis) if isinstance(self.axis, list) else [self.axis]
        shape = tuple(input_shape[d] for d in self.axis)
        if any(d is None for d in shape):
            raise self._error(
                f"known sizes on axes {self.axis}",
                f"input_shape={tuple(input_shape)}",
                "Give the normalized axes a defined size.",
            )
        if self.scale or self.rms_scaling:
            self.gamma = self.add_weight(
                name="gamma",
                shape=shape,
                initializer=self.gamma_initializer,
                regularizer=self.gamma_regularizer,
                constraint=self.gamma_constraint,
                trainable=True,
                autocast=False,
            )
        if self.center and not self.rms_scaling:
            self.beta = self.add_weight(
                name="beta",
                shape=shape,
                initializer=self.beta_initializer,
                regularizer=self.beta_regularizer,
                constraint=self.beta_constraint,
                trainable=True,
                autocast=False,
            )
        self.built = True

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        x = _upcast(inputs)
        nd = x.ndim
        axes = sorted(a % nd for a in self.axis)
        gamma = None if self.gamma is None else self.gamma.to(x.dtype)
        beta = None if self.beta is None else self.beta.to(x.dtype)
        trailing = axes == list(range(nd - len(axes), nd))
        if self.rms_scaling:
            var = torch.var(x, dim=axes, keepdim=True, correction=0)
            out = x * torch.rsqrt(var + self.epsilon)
            if gamma is not None:
                out = out * self._broadcast(gamma, x, axes)
        elif trailing:
            out = F.layer_norm(x, tuple(x.shape[a] for a in axes), gamma, beta, self.epsilon)
        else:
            mean = x.mean(axes, keepdim=True)
            var = x.square().mean(axes, keepdim=True) - mean.square()
            inv = torch.rsqrt(var + self.epsilon)
            if gamma is not None:
                inv = inv * self._broadcast(gamma, x, axes)
            res = -mean * inv
            if beta is not None:
                res = res + self._broadcast(beta, x, axes)
            out = x * inv + res
        return out.to(backend.torch_dtype(self.compute_dtype))

    @staticmethod
    def _broadcast(v: torch.Tensor, x: torch.Tensor, axes: list[int]) -> torch.Tensor:
        shape = [1] * x.ndim
        for a in axes:
            shape[a] = x.shape[a]
        return v.reshape(shape)

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        _check_axes_in_bounds(self, self.axis, input_shape)
        return tuple(input_shape)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(
            {
                "axis": self.axis,
                "epsilon": self.epsilon,
                "center": self.center,
                "scale": self.scale,
                "rms_scaling": self.rms_scaling,
                "beta_initializer": initializers.serialize(self.beta_initializer),
                "gamma_initializer": initializers.serialize(self.gamma_initializer),
                "beta_regularizer": serialization.serialize_keras_object(self.beta_regularizer),
                "gamma_regularizer": serialization.serialize_keras_object(self.gamma_regularizer),
                "beta_constraint": serialization.serialize_keras_object(self.beta_constraint),
                "gamma_constraint": serialization.serialize_keras_object(self.gamma_constraint),
            }
        )
        return config

    def extra_repr(self) -> str:
        return f"name={self.name!r}, axis={self.axis}, epsilon={self.epsilon}"
