"""LAMB (layer-wise adaptive moments), Keras 3's update rule."""

from __future__ import annotations

from typing import Any

import torch

from lamina.optimizers.base_optimizer import Optimizer
from lamina.optimizers.optimizer_utils import _tensor, base_optimizer_keyword_args, computed_once


class Lamb(Optimizer):
    """LAMB: Adam's direction, rescaled per variable by ``||w|| / ||update||`` (You et al., 2019).

    Args:
        learning_rate: float, schedule or callable. Defaults to ``0.001``.
        beta_1: decay of the first moment. Defaults to ``0.9``.
        beta_2: decay of the second moment. Defaults to ``0.999``.
        epsilon: added to the root of the second moment. Defaults to ``1e-7``.
        {{base_optimizer_keyword_args}}

    Example:
        >>> import torch, lamina
        >>> w = lamina.Variable([3.0, 4.0], name="w")
        >>> lamina.optimizers.Lamb(learning_rate=0.1).apply([torch.tensor([1.0, 1.0])], [w])
        >>> [round(x, 4) for x in w.numpy().tolist()]
        [2.6464, 3.6464]
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
        self._momentums, self._velocities = self.add_optimizer_variables(var_list, ["momentum", "velocity"])

    def update_step(self, gradient: torch.Tensor, variable: Any, learning_rate: Any) -> None:
        p = _tensor(variable)
        lr = self._lr_tensor(p, learning_rate)
        g = gradient.to(p.dtype)
        step = self._local_step(p)
        beta_1_power = computed_once(torch.pow(self._const(self.beta_1, p), step))
        beta_2_power = computed_once(torch.pow(self._const(self.beta_2, p), step))
        index = self._get_variable_index(variable)
        m = self._momentums[index].value
        v = self._velocities[index].value
        m.add_((g - m) * (1 - self.beta_1))
        v.add_((torch.square(g) - v) * (1 - self.beta_2))
        m_hat = m / (1.0 - beta_1_power)
        v_sqrt = torch.sqrt(v / (1.0 - beta_2_power)) + self.epsilon
        update = m_hat / v_sqrt
        w_norm = torch.sqrt(torch.sum(torch.pow(p, 2)))
        g_norm = torch.sqrt(torch.sum(torch.pow(update, 2)))
        one = self._const(1.0, p)
        ratio = torch.where(w_norm > 0, torch.where(g_norm > 0, w_norm / g_norm, one), one)
        p.sub_(ratio * lr * update)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update({"beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon})
        return config


Lamb.__doc__ = Lamb.__doc__.replace("{{base_optimizer_keyword_args}}", base_optimizer_keyword_args)
