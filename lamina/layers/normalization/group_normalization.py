"""``GroupNormalization``: statistics per group of channels."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from lamina import backend, constraints, initializers, regularizers, serialization
from lamina.layers.input_spec import InputSpec
from lamina.layers.layer import Layer
from lamina.layers.normalization._utils import _check_axes_in_bounds, _upcast


class GroupNormalization(Layer):
    """Normalizes each sample over groups of channels (``groups=-1``: instance norm, ``1``: layer norm).

    Args:
        groups: number of groups; must divide the channel count. Default ``32``; ``-1`` means one
            group per channel.
        axis: the channels axis. Default ``-1``.
        epsilon: added to the variance. Default ``1e-3``.
        center / scale, initializers, regularizers, constraints: as ``LayerNormalization``.

    Input shape:
        Any rank >= 2; the output has the same shape.

    Example:
        >>> import torch, lamina
        >>> gn = lamina.layers.GroupNormalization(groups=2, epsilon=0.0)
        >>> gn(torch.tensor([[[1.0, 5.0], [3.0, 7.0]]])).tolist()
        [[[-1.0, -1.0], [1.0, 1.0]]]
    """

    def __init__(
        self,
        groups: int = 32,
        axis: int = -1,
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
        if isinstance(groups, bool) or not isinstance(groups, int) or (groups <= 0 and groups != -1):
            raise ValueError(
                "Received an invalid value for argument `groups`, expected a positive integer (or "
                f"`-1` for instance normalization). Received: groups={groups}"
            )
        super().__init__(**kwargs)
        self.supports_masking = True
        self.autocast = False
        self.groups = groups
        self.axis = axis
        self.epsilon = epsilon
        self.center = center
        self.scale = scale
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)
        self.beta_constraint = constraints.get(beta_constraint)
        self.gamma_constraint = constraints.get(gamma_constraint)
        self.gamma = None
        self.beta = None

    def build(self, input_shape: tuple) -> None:
        _check_axes_in_bounds(self, self.axis, input_shape)
        dim = input_shape[self.axis]
        if dim is None:
            raise ValueError(
                f"Axis {self.axis} of input tensor should have a defined dimension but the layer "
                f"received an input with shape {tuple(input_shape)}."
            )
        if self.groups == -1:
            self.groups = dim
        if dim < self.groups:
            raise ValueError(f"Number of groups ({self.groups}) cannot be more than the number of channels ({dim}).")
        if dim % self.groups != 0:
            raise ValueError(f"Number of groups ({self.groups}) must be a multiple of the number of channels ({dim}).")
        self.input_spec = InputSpec(ndim=len(input_shape), axes={self.axis: dim})
        if self.scale:
            self.gamma = self.add_weight(
                shape=(dim,),
                name="gamma",
                initializer=self.gamma_initializer,
                regularizer=self.gamma_regularizer,
                constraint=self.gamma_constraint,
                autocast=False,
            )
        if self.center:
            self.beta = self.add_weight(
                shape=(dim,),
                name="beta",
                initializer=self.beta_initializer,
                regularizer=self.beta_regularizer,
                constraint=self.beta_constraint,
                autocast=False,
            )
        self.built = True

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        x = _upcast(inputs)
        axis = self.axis % x.ndim
        gamma = None if self.gamma is None else self.gamma.to(x.dtype)
        beta = None if self.beta is None else self.beta.to(x.dtype)
        xc = x if axis == 1 else x.movedim(axis, 1)  # channels to dim 1, a view
        if not xc.is_contiguous() and not xc.requires_grad and torch.is_grad_enabled():
            # torch's CPU group_norm backward segfaults on a channels-last input that needs no gradient of its
            # own (the first layer of a model): give it a dense copy in that one case
            xc = xc.contiguous()
        out = F.group_norm(xc, self.groups, gamma, beta, self.epsilon)
        out = out if axis == 1 else out.movedim(1, axis)
        return out.to(inputs.dtype).to(backend.torch_dtype(self.compute_dtype))

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        _check_axes_in_bounds(self, self.axis, input_shape)
        return tuple(input_shape)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(
            {
                "groups": self.groups,
                "axis": self.axis,
                "epsilon": self.epsilon,
                "center": self.center,
                "scale": self.scale,
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
        return f"name={self.name!r}, groups={self.groups}, axis={self.axis}, epsilon={self.epsilon}"
