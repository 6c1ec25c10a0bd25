"""``BatchNormalization``: batch statistics in training, moving averages at inference.

With ``synchronized=True`` the statistics are summed across processes."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from lamina import constraints, initializers, regularizers, serialization
from lamina.layers.input_spec import InputSpec
from lamina.layers.layer import Layer
from lamina.layers.normalization._utils import _KERAS_EPSILON, _check_axes_in_bounds, _upcast
from lamina.variable import update_state


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
            update_state(mm, mm * m + mean.detach().to(mm.dtype) * (1.0 - m))
            update_state(mv, mv * m + var.detach().to(mv.dtype) * (1.0 - m))

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
            update_state(self.renorm_mean, new_renorm_mean)
            update_state(self.renorm_stddev, new_renorm_stddev)
            update_state(self.moving_mean, new_moving_mean)
            update_state(self.moving_stddev, new_moving_stddev)
            update_state(self.moving_variance, torch.relu(new_moving_stddev * new_moving_stddev - self.epsilon))
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
                "beta_regularizer": serialization.serialize_keras_object(self.beta_regularizer),
                "gamma_regularizer": serialization.serialize_keras_object(self.gamma_regularizer),
                "beta_constraint": serialization.serialize_keras_object(self.beta_constraint),
                "gamma_constraint": serialization.serialize_keras_object(self.gamma_constraint),
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
