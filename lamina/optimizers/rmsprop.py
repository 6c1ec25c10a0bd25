"""RMSprop (optionally centered, with momentum), Keras 3's update rule."""

from __future__ import annotations

from typing import Any

import torch

from lamina.optimizers.base_optimizer import Optimizer
from lamina.optimizers.optimizer_utils import base_optimizer_keyword_args


class RMSprop(Optimizer):
    """RMSprop: divide the gradient by a running RMS of recent gradients.

    ``v = rho*v + (1-rho)*g^2``; ``w -= lr * g / sqrt(v + epsilon)`` (centered: ``v - mean_g^2``;
    with momentum the increment feeds a momentum buffer).

    Args:
        learning_rate: float, schedule or callable. Defaults to ``0.001``.
        rho: discount of the running average. Defaults to ``0.9``.
        momentum: momentum factor. Defaults to ``0.0``.
        epsilon: added inside the square root. Defaults to ``1e-7``.
        centered: normalise by the estimated variance instead of the second moment. Defaults to ``False``.
        {{base_optimizer_keyword_args}}

    Example:
        >>> import torch, lamina
        >>> w = lamina.Variable([1.0], name="w")
        >>> lamina.optimizers.RMSprop(learning_rate=0.1).apply([torch.tensor([2.0])], [w])
        >>> round(float(w.numpy()[0]), 4)
        0.6838
    """

    def __init__(
        self,
        learning_rate: Any = 0.001,
        rho: float = 0.9,
        momentum: float = 0.0,
        epsilon: float = 1e-7,
        centered: bool = False,
        weight_decay: float | None = None,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        global_clipnorm: float | None = None,
        use_ema: bool = False,
        ema_momentum: float = 0.99,
        ema_overwrite_frequency: int | None = None,
        loss_scale_factor: float | None = None,
        gradient_accumulation_steps: int | None = None,
        name: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            learning_rate=learning_rate,
            weight_decay=weight_decay,
            clipnorm=clipnorm,
            clipvalue=clipvalue,
            global_clipnorm=global_clipnorm,
            use_ema=use_ema,
            ema_momentum=ema_momentum,
            ema_overwrite_frequency=ema_overwrite_frequency,
            loss_scale_factor=loss_scale_factor,
            gradient_accumulation_steps=gradient_accumulation_steps,
            name=name,
            **kwargs,
        )
        self.rho = rho
        self.momentum = momentum
        self.epsilon = epsilon
        self.centered = centered

    def build(self, var_list: list[Any]) -> None:
        if self.built:
            return
        super().build(var_list)
        self._velocities = self.add_optimizer_variables(var_list, "velocity")
        self._momentums = []
        if self.momentum > 0:
            self._momentums = self.add_optimizer_variables(var_list, "momentum")
        self._average_gradients = []
        if self.centered:
            self._average_gradients = self.add_optimizer_variables(var_list, "average_gradient")

    def _parallel_update_step(self, grads: list[torch.Tensor], variables: list[Any], learning_rate: Any) -> None:
        idx, params = self._prepare(variables)
        lr = self._lr_tensor(params[0], learning_rate)
        rho = self.rho
        velocities = self._slots(self._velocities, idx)
        torch._foreach_mul_(velocities, rho)
        torch._foreach_add_(velocities, torch._foreach_mul(grads, grads), alpha=1 - rho)
        denominators = torch._foreach_add(velocities, self.epsilon)
        if self.centered:
            average_grads = self._slots(self._average_gradients, idx)
            torch._foreach_mul_(average_grads, rho)
            torch._foreach_add_(average_grads, grads, alpha=1 - rho)
            torch._foreach_add_(denominators, torch._foreach_mul(average_grads, average_grads), alpha=-1)
        torch._foreach_sqrt_(denominators)
        increments = torch._foreach_mul(grads, lr)
        torch._foreach_div_(increments, denominators)
        if self.momentum > 0:
            momentum_list = self._slots(self._momentums, idx)
            torch._foreach_mul_(momentum_list, self.momentum)
            torch._foreach_add_(momentum_list, increments)
            torch._foreach_add_(params, momentum_list, alpha=-1)
        else:
            torch._foreach_add_(params, increments, alpha=-1)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update({"rho": self.rho, "momentum": self.momentum, "epsilon": self.epsilon, "centered": self.centered})
        return config


RMSprop.__doc__ = RMSprop.__doc__.replace("{{base_optimizer_keyword_args}}", base_optimizer_keyword_args)
