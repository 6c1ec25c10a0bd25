"""``LossScaleOptimizer``: dynamic loss scaling for ``mixed_float16``, as Keras 3."""

from __future__ import annotations

from typing import Any

import torch

from lamina import initializers
from lamina.optimizers.base_optimizer import Optimizer
from lamina.optimizers.optimizer_utils import _tensor
from lamina.serialization import deserialize_keras_object, serialize_keras_object
from lamina.variable import Variable


class LossScaleOptimizer(Optimizer):
    """Wraps an optimizer with dynamic loss scaling.

    The loss is multiplied by ``dynamic_scale`` (:meth:`scale_loss`) and the gradients
    divided by it. A step whose gradients are not all finite is skipped and the scale
    halved; after ``dynamic_growth_steps`` finite steps in a row the scale doubles.
    All of it is decided on the device (no host synchronisation).

    Args:
        inner_optimizer: the optimizer that applies the unscaled gradients.
        initial_scale: the starting scale. Defaults to ``2**15``.
        dynamic_growth_steps: finite steps before the scale doubles. Defaults to ``2000``.
        name: the optimizer's name.

    Example:
        >>> import torch, lamina
        >>> w = lamina.Variable([1.0], name="w")
        >>> opt = lamina.optimizers.LossScaleOptimizer(lamina.optimizers.SGD(0.5))
        >>> opt.apply([torch.tensor([float("inf")])], [w])
        >>> float(opt.dynamic_scale.numpy()), w.numpy().tolist()
        (16384.0, [1.0])
    """

    def __init__(
        self,
        inner_optimizer: Optimizer,
        initial_scale: float = 2.0**15,
        dynamic_growth_steps: int = 2000,
        name: str | None = None,
        **kwargs: Any,
    ) -> None:
        if not kwargs.pop("dynamic", True):
            raise ValueError(
                "LossScaleOptimizer no longer supports `dynamic=False`. Instead, simply set "
                "`loss_scale_factor` directly on the `inner_optimizer`."
            )
        base_defaults = {
            "weight_decay": None,
            "clipnorm": None,
            "global_clipnorm": None,
            "clipvalue": None,
            "use_ema": False,
            "ema_momentum": 0.99,
            "ema_overwrite_frequency": None,
            "loss_scale_factor": None,
            "gradient_accumulation_steps": None,
        }
        for arg_name, default_value in base_defaults.items():
            if arg_name not in kwargs:
                continue
            arg_value = kwargs.pop(arg_name)
            if (default_value is None and arg_value is not None) or arg_value != default_value:
                raise ValueError(
                    f"LossScaleOptimizer does not support `{arg_name}`. Instead, set `{arg_name}` on "
                    "the `inner_optimizer`."
                )
        if kwargs:
            raise ValueError(f"LossScaleOptimizer does not support arguments: `{'`, `'.join(kwargs.keys())}`.")
        super().__init__(learning_rate=0.0, name=name)
        self.inner_optimizer = inner_optimizer
        self.initial_scale = initial_scale
        self.dynamic_growth_steps = dynamic_growth_steps
        # The inner optimizer must not unscale a second time.
        self.inner_optimizer.loss_scale_factor = None

    def build(self, var_list: list[Any]) -> None:
        var_list = list(var_list)
        if var_list:
            device = _tensor(var_list[0]).device
            if device != self._device:
                self._move_to(device)
        self.step_counter = self.add_variable(
            shape=(), dtype="int32", initializer=initializers.Zeros(), name="step_counter"
        )
        self.dynamic_scale = self.add_variable(
            shape=(), dtype="float32", initializer=initializers.Constant(self.initial_scale), name="dynamic_scale"
        )
        self.inner_optimizer.build(var_list)
        super().build(var_list)

    @property
    def variables(self) -> list[Variable]:
        return self._variables + self.inner_optimizer.variables

    def check_finite(self, grads: list[Any]) -> torch.Tensor:
        """A 0-d bool tensor: whether every gradient is finite."""
        tensor_grads = [_tensor(g) for g in grads if g is not None]
        return torch.stack([torch.all(torch.isfinite(g)) for g in tensor_grads]).all()

    def apply(self, grads: list[Any], trainable_variables: list[Any] | None = None) -> None:
        grads = list(grads)
        if not self.built:
            self.build(trainable_variables)
            self.built = True
        with torch.no_grad():
            finite = self.check_finite(grads)
            scale = self.dynamic_scale.value
            tvs = list(trainable_variables) if trainable_variables is not None else self._trainable_variables
            unscaled = [None if g is None else _tensor(g) / scale for g in grads]
            # Skip the step where a gradient overflowed: keep the weights and the inner state.
            inner = self.inner_optimizer
            state = [_tensor(v) for v in tvs] + [
                v.value for v in inner._all_own_variables() if v is not inner._learning_rate
            ]
            self._masked_update(
                finite, state, lambda: self.inner_optimizer.apply(unscaled, trainable_variables=trainable_variables)
            )
            counter = self.step_counter.value
            grow = torch.eq(counter, self.dynamic_growth_steps - 1)
            new_scale = torch.where(finite, torch.where(grow, scale * 2.0, scale), scale * 0.5)
            new_counter = torch.where(finite & ~grow, counter + 1, torch.zeros_like(counter))
            scale.copy_(new_scale)
            counter.copy_(new_counter)

    def apply_gradients(self, grads_and_vars: Any) -> Any:
        grads, trainable_variables = zip(*grads_and_vars)
        self.apply(list(grads), list(trainable_variables))
        return self.iterations

    @property
    def learning_rate(self) -> Any:
        return self.inner_optimizer.learning_rate

    @learning_rate.setter
    def learning_rate(self, learning_rate: Any) -> None:
        self.inner_optimizer.learning_rate = learning_rate

    @property
    def iterations(self) -> Any:
        return self.inner_optimizer.iterations

    def scale_loss(self, loss: Any) -> Any:
        """``loss * dynamic_scale`` (``initial_scale`` before the first step)."""
        scale = self.dynamic_scale.value if self.built else self.initial_scale
        if isinstance(loss, torch.Tensor) and isinstance(scale, torch.Tensor):
            return loss * scale.to(loss.device)
        return loss * scale

    def finalize_variable_values(self, var_list: list[Any]) -> None:
        self.inner_optimizer.finalize_variable_values(var_list)

    def get_config(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "inner_optimizer": serialize_keras_object(self.inner_optimizer),
            "initial_scale": self.initial_scale,
            "dynamic_growth_steps": self.dynamic_growth_steps,
        }

    @classmethod
    def from_config(cls, config: dict[str, Any], custom_objects: dict | None = None) -> LossScaleOptimizer:
        config = dict(config)
        inner = deserialize_keras_object(config.pop("inner_optimizer"), custom_objects=custom_objects)
        return cls(inner, **config)
