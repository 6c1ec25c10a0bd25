"""Adamax: Adam with the infinity norm, Keras 3's update rule."""

from __future__ import annotations

from typing import Any

import torch

from lamina.optimizers.base_optimizer import Optimizer
from lamina.optimizers.optimizer_utils import base_optimizer_keyword_args, computed_once


class Adamax(Optimizer):
    """Adamax, the infinity-norm variant of Adam (Kingma & Ba, 2014, section 7).

    ``m = b1*m + (1-b1)*g``; ``u = max(b2*u, |g|)``; ``w -= lr * m / ((1-b1^t) * (u + epsilon))``.

    Args:
        learning_rate: float, schedule or callable. Defaults to ``0.001``.
        beta_1: decay of the first moment. Defaults to ``0.9``.
        beta_2: decay of the weighted infinity norm. Defaults to ``0.999``.
        epsilon: added to the norm. Defaults to ``1e-7``.
        {{base_optimizer_keyword_args}}

    Example:
        >>> import torch, lamina
        >>> w = lamina.Variable([1.0], name="w")
        >>> lamina.optimizers.Adamax(learning_rate=0.1).apply([torch.tensor([2.0])], [w])
        >>> round(float(w.numpy()[0]), 4)
        0.9
    """

    def __init__(
        self,
        learning_rate: Any = 0.001,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
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
            name=name,
            weight_decay=weight_decay,
            clipnorm=clipnorm,
            clipvalue=clipvalue,
            global_clipnorm=global_clipnorm,
            use_ema=use_ema,
            ema_momentum=ema_momentum,
            ema_overwrite_frequency=ema_overwrite_frequency,
            loss_scale_factor=loss_scale_factor,
            gradient_accumulation_steps=gradient_accumulation_steps,
            **kwargs,
        )
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon

    def build(self, var_list: list[Any]) -> None:
        if self.built:
            return
        super().build(var_list)
        self._m, self._u = self.add_optimizer_variables(var_list, ["momentum", "norm"])

    def _parallel_update_step(self, grads: list[torch.Tensor], variables: list[Any], learning_rate: Any) -> None:
        idx, params = self._prepare(variables)
        p0 = params[0]
        lr = self._lr_tensor(p0, learning_rate)
        local_step = self._local_step(p0)
        beta_1_power = computed_once(torch.pow(self._const(self.beta_1, p0), local_step))
        m_list = self._slots(self._m, idx)
        u_list = self._slots(self._u, idx)
        torch._foreach_mul_(m_list, self.beta_1)
        torch._foreach_add_(m_list, grads, alpha=1 - self.beta_1)
        torch._foreach_mul_(u_list, self.beta_2)
        torch._foreach_maximum_(u_list, torch._foreach_abs(grads))
        # w -= (lr * m) / ((u + epsilon) * (1 - beta_1 ** t)), with the temporaries updated in place
        denominators = torch._foreach_add(u_list, self.epsilon)
        torch._foreach_mul_(denominators, 1 - beta_1_power)
        updates = torch._foreach_mul(m_list, lr)
        torch._foreach_div_(updates, denominators)
        torch._foreach_add_(params, updates, alpha=-1)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update({"beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon})
        return config


Adamax.__doc__ = Adamax.__doc__.replace("{{base_optimizer_keyword_args}}", base_optimizer_keyword_args)
