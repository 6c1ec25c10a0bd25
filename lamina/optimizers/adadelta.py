"""Adadelta, Keras 3's update rule."""

from __future__ import annotations

from typing import Any

import torch

from lamina.optimizers.base_optimizer import Optimizer
from lamina.optimizers.optimizer_utils import base_optimizer_keyword_args


class Adadelta(Optimizer):
    """Adadelta: adaptive rates from running averages of squared gradients and updates (Zeiler, 2012).

    Args:
        learning_rate: float, schedule or callable. Defaults to ``0.001``.
        rho: decay rate. Defaults to ``0.95``.
        epsilon: added inside the square roots. Defaults to ``1e-7``.
        {{base_optimizer_keyword_args}}

    Example:
        >>> import torch, lamina
        >>> w = lamina.Variable([1.0], name="w")
        >>> lamina.optimizers.Adadelta(learning_rate=1.0).apply([torch.tensor([2.0])], [w])
        >>> round(float(w.numpy()[0]), 4)
        0.9986
    """

    def __init__(
        self,
        learning_rate: Any = 0.001,
        rho: float = 0.95,
        epsilon: float = 1e-7,
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
        self.epsilon = epsilon

    def build(self, var_list: list[Any]) -> None:
        if self.built:
            return
        super().build(var_list)
        self._accumulated_grads, self._accumulated_delta_vars = self.add_optimizer_variables(
            var_list, ["accumulated_grad", "accumulated_delta_var"]
        )

    def _parallel_update_step(self, grads: list[torch.Tensor], variables: list[Any], learning_rate: Any) -> None:
        idx, params = self._prepare(variables)
        lr = self._lr_tensor(params[0], learning_rate)
        rho = self.rho
        accumulated_grads = self._slots(self._accumulated_grads, idx)
        accumulated_delta_vars = self._slots(self._accumulated_delta_vars, idx)
        torch._foreach_mul_(accumulated_grads, rho)
        torch._foreach_add_(accumulated_grads, torch._foreach_mul(grads, grads), alpha=1 - rho)

        def rms(x: list[torch.Tensor]) -> list[torch.Tensor]:
            out = torch._foreach_add(x, self.epsilon)
            torch._foreach_sqrt_(out)
            return out

        # delta = -(rms(acc_delta) * g / rms(acc_grad)), with the temporaries updated in place
        delta_vars = rms(accumulated_delta_vars)
        torch._foreach_mul_(delta_vars, grads)
        torch._foreach_div_(delta_vars, rms(accumulated_grads))
        torch._foreach_neg_(delta_vars)
        torch._foreach_mul_(accumulated_delta_vars, rho)
        torch._foreach_add_(accumulated_delta_vars, torch._foreach_mul(delta_vars, delta_vars), alpha=1 - rho)
        torch._foreach_mul_(delta_vars, lr)
        torch._foreach_add_(params, delta_vars)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update({"rho": self.rho, "epsilon": self.epsilon})
        return config


Adadelta.__doc__ = Adadelta.__doc__.replace("{{base_optimizer_keyword_args}}", base_optimizer_keyword_args)
