"""Normalization layers: BatchNormalization, LayerNormalization, GroupNormalization, UnitNormalization.

Weights, defaults and configs follow Keras 3. Statistics are computed in at least float32
(half-precision inputs are upcast and the result cast back), as Keras does.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from lamina import backend, constraints, initializers, regularizers
from lamina.layers.layer import InputSpec, Layer

_KERAS_EPSILON = 1e-7  # keras.backend.epsilon(), used by the masked moments


def _ser(obj: Any, module: Any) -> Any:
    return None if obj is None else module.serialize(obj)


def _upcast(x: torch.Tensor) -> torch.Tensor:
    return x.float() if x.dtype in (torch.float16, torch.bfloat16) else x


def _check_axes_in_bounds(layer: Layer, axis: Any, input_shape: tuple) -> None:
    axes = [axis] if isinstance(axis, int) else list(axis)
    rank = len(input_shape)
    for a in axes:
        if a >= rank or a < -rank:
            raise ValueError(f"Axis {a} is out of bounds for input shape {tuple(input_shape)}. Received: axis={axis}")


class _AllReduceSum(torch.autograd.Function):
    """Sum over all processes; the gradient of each process's input is the sum of all upstream gradients."""

    @staticmethod
    def forward(ctx: Any, x: torch.Tensor) -> torch.Tensor:
        import torch.distributed as dist

        x = x.clone()
        dist.all_reduce(x)
        return x

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> torch.Tensor:
        import torch.distributed as dist

        grad = grad.clone()
        dist.all_reduce(grad)
        return grad


def _sync_enabled() -> bool:
    import torch.distributed as dist

    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


class BatchNormalization(Layer):
    """Normalizes its inputs with batch statistics in training and moving statistics in inference.

    Training (``training=True``) returns ``gamma * (x - mean(x)) / sqrt(var(x) + epsilon) + beta``
    with the statistics of the current batch (biased variance) and updates
    ``moving = moving * momentum + batch * (1 - momentum)``. Inference uses the moving
    statistics. A layer with ``trainable = False`` always runs in inference mode (Keras 3).

    Args:
        axis: the features axis (``1`` after a ``channels_first`` convolution). Default ``-1``.
        momentum: momentum of the moving averages. Default ``0.99``.
        epsilon: added to the variance. Default ``1e-3``.
        center / scale: whether to use ``beta`` / ``gamma``.
        beta_initializer / gamma_initializer / moving_mean_initializer / moving_variance_initializer:
            defaults ``zeros`` / ``ones`` / ``zeros`` / ``ones``.
        beta_regularizer / gamma_regularizer / beta_constraint / gamma_constraint: optional.
        renorm / renorm_clipping / renorm_momentum: Batch Renormalization, as in Keras.
        synchronized: all-reduce the batch statistics across processes when a
            ``torch.distributed`` process group is initialized (otherwise local statistics).

    Call arguments:
        inputs: tensor of any rank. ``mask``: optional ``inputs.shape[:-1]`` boolean tensor; masked
            positions are left out of the batch statistics.

    Input shape:
        Any; the output has the same shape.

    Example:
        >>> import torch, lamina
        >>> bn = lamina.layers.BatchNormalization()
        >>> y = bn(torch.tensor([[0.0, 2.0], [2.0, 4.0]]), training=True)
        >>> [round(v, 4) for v in bn.moving_mean.tolist()]
        [0.01, 0.03]
        >>> [w.name for w in bn.weights]
        ['gamma', 'beta', 'moving_mean', 'moving_variance']
    """

    def __init__(
        self,
        axis: int = -1,
        momentum: float = 0.99,
        epsilon: float = 1e-3,
        center: bool = True,
        scale: bool = True,
        beta_initializer: Any = "zeros",
        gamma_initializer: Any = "ones",
        moving_mean_initializer: Any = "zeros",
        moving_variance_initializer: Any = "ones",
        beta_regularizer: Any = None,
        gamma_regularizer: Any = None,
        beta_constraint: Any = None,
        gamma_constraint: Any = None,
        renorm: bool = False,
        renorm_clipping: dict | None = None,
        renorm_momentum: float = 0.99,
        synchronized: bool = False,
        **kwargs: Any,
    ) -> None:
        if isinstance(axis, bool) or not isinstance(axis, int):
            raise TypeError(f"BatchNormalization expects an integer `axis`. Received: axis={axis!r}")
        if renorm:
            renorm_clipping = renorm_clipping or {}
            keys = ["rmax", "rmin", "dmax"]
            if set(renorm_clipping) - set(keys):
                raise ValueError(
                    f"Received invalid keys for `renorm_clipping` argument: {renorm_clipping}. "
                    f"Supported values: {keys}."
                )
            rmax, rmin, dmax = (renorm_clipping.get(k) for k in ("rmax", "rmin", "dmax"))
            if rmax is not None and rmin is not None and rmax < rmin:
                raise ValueError(
                    "rmax should be greater than rmin in the `renorm_clipping` argument. "
                    f"Received: rmax={rmax}, rmin={rmin}."
                )
            if dmax is not None and dmax < 0:
                raise ValueError(
                    f"dmax should be non-negative in the `renorm_clipping` argument. Received: dmax={dmax}."
                )
        super().__init__(**kwargs)
        self.axis = int(axis)
        self.momentum = float(momentum)
        self.epsilon = float(epsilon)
        self.center = center
        self.scale = scale
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.moving_mean_initializer = initializers.get(moving_mean_initializer)
        self.moving_variance_initializer = initializers.get(moving_variance_initializer)
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)
        self.beta_constraint = constraints.get(beta_constraint)
        self.gamma_constraint = constraints.get(gamma_constraint)
        self.renorm = renorm
        self.renorm_clipping = renorm_clipping
        self.renorm_momentum = renorm_momentum
        self.synchronized = synchronized
        self.supports_masking = True
        self.gamma = None
        self.beta = None
        self.moving_mean = None
        self.moving_variance = None

    def build(self, input_shape: tuple) -> None:
        rank = len(input_shape)
        if not -rank <= self.axis < rank:
            raise self._error(
                f"an input with axis {self.axis}",
                f"input_shape={tuple(input_shape)}",
                "Pass the features axis of the input as `axis`.",
            )
        dim = input_shape[self.axis]
        if dim is None:
            raise self._error(
                f"a known size on axis {self.axis}",
                f"input_shape={tuple(input_shape)}",
                "Give the input a defined features axis.",
            )
        shape = (dim,)
        if self.scale:
            self.gamma = self.add_weight(
                shape=shape,
                name="gamma",
                initializer=self.gamma_initializer,
                regularizer=self.gamma_regularizer,
                constraint=self.gamma_constraint,
                trainable=True,
                autocast=False,
            )
        if self.center:
            self.beta = self.add_weight(
                shape=shape,
                name="beta",
                initializer=self.beta_initializer,
                regularizer=self.beta_regularizer,
                constraint=self.beta_constraint,
                trainable=True,
                autocast=False,
            )
        self.moving_mean = self.add_weight(
            shape=shape, name="moving_mean", initializer=self.moving_mean_initializer, trainable=False, autocast=False
        )
        self.moving_variance = self.add_weight(
            shape=shape,
            name="moving_variance",
            initializer=self.moving_variance_initializer,
            trainable=False,
            autocast=False,
        )
        if self.renorm:
            var_init = self.moving_variance_initializer

            def stddev_init(shape: tuple, dtype: Any = None) -> torch.Tensor:
                return torch.sqrt(torch.as_tensor(var_init(shape, dtype=dtype)))

            self.moving_stddev = self.add_weight(
                shape=shape, name="moving_stddev", initializer=stddev_init, trainable=False, autocast=False
            )
            self.renorm_mean = self.add_weight(
                shape=shape,
                name="renorm_mean",
                initializer=self.moving_mean_initializer,
                trainable=False,
                autocast=False,
            )
            self.renorm_stddev = self.add_weight(
                shape=shape, name="renorm_stddev", initializer=stddev_init, trainable=False, autocast=False
            )
        self.input_spec = InputSpec(ndim=rank, axes={self.axis: dim})
        self.built = True

    def call(self, inputs: torch.Tensor, training: bool | None = None, mask: Any = None) -> torch.Tensor:
        if mask is not None and not isinstance(mask, torch.Tensor):
            mask = torch.as_tensor(np.asarray(mask), device=inputs.device)
        if mask is not None and mask.ndim != inputs.ndim - 1:
            raise ValueError(
                "The mask provided should be one dimension less than the inputs. Received: "
                f"mask.shape={tuple(mask.shape)}, inputs.shape={tuple(inputs.shape)}"
            )
        x = _upcast(inputs)
        axis = self.axis % x.ndim
        gamma = None if self.gamma is None else self.gamma.to(x.dtype)
        beta = None if self.beta is None else self.beta.to(x.dtype)
        if not (training and self.trainable) and x.ndim >= 2:
            # (N, ..., C, ...) -> channels on dim 1, a view
            xc = x if axis == 1 else x.movedim(axis, 1)
            out = F.batch_norm(
                xc,
                self.moving_mean.to(x.dtype),
                self.moving_variance.to(x.dtype),
                gamma,
                beta,
                False,
                0.0,
                self.epsilon,
            )
            out = out if axis == 1 else out.movedim(1, axis)
            return out.to(inputs.dtype)
        reduce = [d for d in range(x.ndim) if d != axis]
        count = x.numel() // max(x.shape[axis], 1)
        if not (training and self.trainable):  # rank-1 input in inference: plain formula
            return (
                (x - self.moving_mean)
                * torch.rsqrt(self.moving_variance + self.epsilon)
                * (1 if gamma is None else gamma)
                + (0 if beta is None else beta)
            ).to(inputs.dtype)
        manual = mask is not None or self.renorm or count <= 1 or x.ndim < 2 or (self.synchronized and _sync_enabled())
        if not manual:
            xc = x if axis == 1 else x.movedim(axis, 1)
            # momentum=1 makes F.batch_norm write this batch's mean and unbiased variance into the scratch buffers.
            mean = torch.zeros(x.shape[axis], dtype=x.dtype, device=x.device)
            var = torch.ones(x.shape[axis], dtype=x.dtype, device=x.device)
            out = F.batch_norm(xc, mean, var, gamma, beta, True, 1.0, self.epsilon)
            out = out if axis == 1 else out.movedim(1, axis)
            var = var * ((count - 1) / count)  # unbiased -> biased, as Keras
            self._update_moving(mean, var)
            return out.to(inputs.dtype)
        mean, var = self._moments(x, reduce, mask)
        if self.renorm:
            gamma, beta = self._renorm_transform(mean, var, gamma, beta)
        shape = [1] * x.ndim
        shape[axis] = x.shape[axis]
        inv = torch.rsqrt(var.reshape(shape) + self.epsilon)
        if gamma is not None:
            inv = inv * gamma.reshape(shape)
        out = (x - mean.reshape(shape)) * inv
        if beta is not None:
            out = out + beta.reshape(shape)
        if not self.renorm:
            self._update_moving(mean, var)
        return out.to(inputs.dtype)

    def _moments(self, x: torch.Tensor, reduce: list[int], mask: Any) -> tuple[torch.Tensor, torch.Tensor]:
        if mask is None:
            if self.synchronized and _sync_enabled():
                n = torch.tensor(float(x.numel() // x.shape[self.axis]), dtype=x.dtype, device=x.device)
                stats = torch.cat([x.sum(reduce), x.square().sum(reduce), n.reshape(1)])
                stats = _AllReduceSum.apply(stats)
                c = x.shape[self.axis]
                mean = stats[:c] / stats[-1]
                return mean, stats[c : 2 * c] / stats[-1] - mean.square()
            mean = x.mean(reduce)
            return mean, x.square().mean(reduce) - mean.square()  # Keras's E[x^2] - E[x]^2
        m = mask.to(torch.bool).unsqueeze(-1).expand_as(x)
        weights = m.to(x.dtype).sum(reduce, keepdim=True) + _KERAS_EPSILON
        mean = torch.where(m, x, 0).sum(reduce, keepdim=True) / weights
        var = torch.where(m, x - mean, 0).square().sum(reduce, keepdim=True) / weights
        return mean.reshape(-1), var.reshape(-1)

    def _update_moving(self, mean: torch.Tensor, var: torch.Tensor) -> None:
        m = self.momentum
        with torch.no_grad():
            mm, mv = self.moving_mean, self.moving_variance
            mm.copy_(mm * m + mean.detach().to(mm.dtype) * (1.0 - m))
            mv.copy_(mv * m + var.detach().to(mv.dtype) * (1.0 - m))

    def _renorm_transform(self, mean: torch.Tensor, var: torch.Tensor, gamma: Any, beta: Any) -> tuple[Any, Any]:
        clip = self.renorm_clipping or {}
        with torch.no_grad():
            mean_d, var_d = mean.detach(), var.detach()
            stddev = torch.sqrt(var_d + self.epsilon)
            renorm_mean = self.renorm_mean.to(mean.dtype)
            renorm_stddev = torch.clamp(self.renorm_stddev.to(mean.dtype), min=self.epsilon**0.5)
            r = stddev / renorm_stddev
            d = (mean_d - renorm_mean) / renorm_stddev
            if clip.get("rmin") is not None:
                r = torch.clamp(r, min=clip["rmin"])
            if clip.get("rmax") is not None:
                r = torch.clamp(r, max=clip["rmax"])
            if clip.get("dmax") is not None:
                d = torch.clamp(d, -clip["dmax"], clip["dmax"])
            # statistics updates
            rm = self.renorm_momentum
            new_renorm_mean = self.renorm_mean * rm + mean_d * (1.0 - rm)
            new_renorm_stddev = self.renorm_stddev * rm + stddev * (1.0 - rm)
            m = self.momentum
            new_moving_mean = self.moving_mean * m + mean_d * (1.0 - m)
            new_moving_stddev = self.moving_stddev * m + stddev * (1.0 - m)
            self.renorm_mean.copy_(new_renorm_mean)
            self.renorm_stddev.copy_(new_renorm_stddev)
            self.moving_mean.copy_(new_moving_mean)
            self.moving_stddev.copy_(new_moving_stddev)
            self.moving_variance.copy_(torch.relu(new_moving_stddev * new_moving_stddev - self.epsilon))
        if gamma is not None:
            new_gamma, new_beta = r * gamma, d * gamma
        else:
            new_gamma, new_beta = r, d
        if beta is not None:
            new_beta = new_beta + beta
        return new_gamma, new_beta

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        _check_axes_in_bounds(self, self.axis, input_shape)
        return tuple(input_shape)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(
            {
                "axis": self.axis,
                "momentum": self.momentum,
                "epsilon": self.epsilon,
                "center": self.center,
                "scale": self.scale,
                "beta_initializer": initializers.serialize(self.beta_initializer),
                "gamma_initializer": initializers.serialize(self.gamma_initializer),
                "moving_mean_initializer": initializers.serialize(self.moving_mean_initializer),
                "moving_variance_initializer": initializers.serialize(self.moving_variance_initializer),
                "beta_regularizer": _ser(self.beta_regularizer, regularizers),
                "gamma_regularizer": _ser(self.gamma_regularizer, regularizers),
                "beta_constraint": _ser(self.beta_constraint, constraints),
                "gamma_constraint": _ser(self.gamma_constraint, constraints),
                "synchronized": self.synchronized,
                "renorm": self.renorm,
                "renorm_clipping": self.renorm_clipping,
                "renorm_momentum": self.renorm_momentum,
            }
        )
        return config

    def extra_repr(self) -> str:
        dim = self.moving_mean.shape[0] if self.built else "?"
        return f"name={self.name!r}, features={dim}, axis={self.axis}, momentum={self.momentum}, epsilon={self.epsilon}"


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
                "beta_regularizer": _ser(self.beta_regularizer, regularizers),
                "gamma_regularizer": _ser(self.gamma_regularizer, regularizers),
                "beta_constraint": _ser(self.beta_constraint, constraints),
                "gamma_constraint": _ser(self.gamma_constraint, constraints),
            }
        )
        return config

    def extra_repr(self) -> str:
        return f"name={self.name!r}, axis={self.axis}, epsilon={self.epsilon}"


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
                "beta_regularizer": _ser(self.beta_regularizer, regularizers),
                "gamma_regularizer": _ser(self.gamma_regularizer, regularizers),
                "beta_constraint": _ser(self.beta_constraint, constraints),
                "gamma_constraint": _ser(self.gamma_constraint, constraints),
            }
        )
        return config

    def extra_repr(self) -> str:
        return f"name={self.name!r}, groups={self.groups}, axis={self.axis}, epsilon={self.epsilon}"


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


def _wrapper_base() -> type:
    from lamina.layers.recurrent.time_distributed import Wrapper

    return Wrapper


class SpectralNormalization(_wrapper_base()):
    """Spectral normalization (Miyato et al. 2018) of a wrapped layer's ``kernel`` (or ``embeddings``).

    In training, each call runs ``power_iterations`` of the power method with the persistent
    vector ``vector_u`` and rescales the wrapped kernel in place by its largest singular value,
    as Keras does. Inference uses the kernel as it is.

    Args:
        layer: a layer with a ``kernel`` or ``embeddings`` weight (``Dense``, ``Conv2D``, ``Embedding``...).
        power_iterations: positive int. Default ``1``.

    Example:
        >>> import torch, lamina
        >>> sn = lamina.layers.SpectralNormalization(lamina.layers.Dense(3, name="d"), name="sn")
        >>> sn(torch.ones(2, 4), training=True).shape
        torch.Size([2, 3])
        >>> [w.path for w in sn.weights]
        ['sn/d/kernel', 'sn/vector_u', 'sn/d/bias']
    """

    def __init__(self, layer: Layer, power_iterations: int = 1, **kwargs: Any) -> None:
        super().__init__(layer, **kwargs)
        if power_iterations <= 0:
            raise ValueError(
                f"`power_iterations` should be greater than zero. Received: `power_iterations={power_iterations}`"
            )
        self.power_iterations = power_iterations
        self.vector_u = None

    def _kernel_attr(self) -> str:
        for attr in ("kernel", "embeddings"):
            if getattr(self.layer, attr, None) is not None:
                return attr
        raise ValueError(f"{type(self.layer).__name__} object has no attribute 'kernel' nor 'embeddings'")

    @property
    def kernel(self) -> torch.Tensor:
        """The wrapped layer's kernel (its ``embeddings`` for an ``Embedding``)."""
        return getattr(self.layer, self._kernel_attr())

    def _kernel_variable(self) -> Any:
        tensor = self.kernel
        return next(v for v in self.layer.weights if v.value is tensor)

    def build(self, input_shape: tuple) -> None:
        super().build(input_shape)
        self.input_spec = InputSpec(min_ndim=1, axes={-1: input_shape[-1]})
        kernel = self.kernel
        self.vector_u = self.add_weight(
            shape=(1, kernel.shape[-1]),
            initializer=initializers.TruncatedNormal(stddev=0.02),
            trainable=False,
            name="vector_u",
            dtype=backend.standardize_dtype(kernel.dtype),
        )
        self.built = True

    @property
    def weights(self) -> list[Any]:
        # Keras tracks the wrapped kernel as this layer's own first weight: kernel, vector_u, then the rest
        ws = Layer.weights.fget(self)
        if not self.built:
            return ws
        kv = self._kernel_variable()
        return [kv] + [w for w in ws if w is not kv]

    def normalized_weights(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The updated ``vector_u`` and the kernel divided by its estimated spectral norm."""
        kernel = self.kernel
        w = kernel.reshape(-1, kernel.shape[-1])
        u = self.vector_u
        v = u
        for _ in range(self.power_iterations):
            v = _l2_normalize(u @ w.T)
            u = _l2_normalize(v @ w)
        u, v = u.detach(), v.detach()
        sigma = (v @ w) @ u.T
        return u.to(self.vector_u.dtype), (kernel / sigma).reshape(kernel.shape).to(kernel.dtype)

    def call(self, inputs: torch.Tensor, training: bool = False) -> torch.Tensor:
        if training:
            with torch.no_grad():
                if not torch.all(self.kernel == 0):
                    new_u, new_kernel = self.normalized_weights()
                    self.vector_u.copy_(new_u)
                    self.kernel.copy_(new_kernel)
        out = self.layer(inputs)
        return out.to(inputs.dtype) if inputs.dtype.is_floating_point else out

    def compute_output_shape(self, input_shape: tuple) -> Any:
        return self.layer.compute_output_shape(input_shape)

    def save_own_variables(self, store: dict) -> None:
        # Keras's file holds this layer's own variables as [kernel, vector_u]
        store["0"] = self.kernel.detach()
        store["1"] = self.vector_u.detach()

    def load_own_variables(self, store: Any) -> None:
        with torch.no_grad():
            self.kernel.copy_(torch.as_tensor(np.asarray(store["0"])))
            self.vector_u.copy_(torch.as_tensor(np.asarray(store["1"])))

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config["power_iterations"] = self.power_iterations
        return config


def _l2_normalize(x: torch.Tensor) -> torch.Tensor:
    """``x * min(rsqrt(sum(x**2)), 1/epsilon)`` over all elements, as ``keras.ops.normalize(axis=None)``."""
    return x * torch.clamp(torch.rsqrt(x.square().sum()), max=1.0 / _KERAS_EPSILON)
