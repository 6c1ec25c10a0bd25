"""Schedule-Free AdamW (Defazio et al., 2024), Keras 3's update rule on its torch backend."""

from __future__ import annotations

from typing import Any

import torch

from lamina.optimizers.base_optimizer import Optimizer
from lamina.optimizers.optimizer_utils import _tensor, base_optimizer_keyword_args, computed_once


class ScheduleFreeAdamW(Optimizer):
    """AdamW without a learning-rate schedule: the weights interpolate between an Adam iterate ``z`` (the
    ``momentum`` slot) and a running average ``x`` of it (Defazio et al., 2024).

    Each step: ``v`` is Adam's second moment; ``z -= lr * g / (sqrt(v / (1 - beta_2^t)) + epsilon)``; then
    ``x = (1 - 1/t) * x + z / t`` with ``x`` recovered from the weights ``y = (1 - beta_1) * z + beta_1 * x``,
    and the weights become ``(1 - beta_1) * z + beta_1 * x``. As in Keras 3.15 on torch, ``x`` is recovered
    with the ``z`` of this step (Keras reads the momentum slot after updating it in place there; its JAX and
    TensorFlow backends read the one before), so weights match Keras on torch step for step.

    Args:
        learning_rate: float, schedule or callable. Defaults to ``0.0025``.
        beta_1: interpolation between ``z`` and its average. Defaults to ``0.9``.
        beta_2: decay of the second moment. Defaults to ``0.999``.
        epsilon: added to the root of the second moment. Defaults to ``1e-8``.
        warmup_steps: steps over which the learning rate rises linearly to its value. Defaults to ``0``.
        {{base_optimizer_keyword_args}}

    Example:
        >>> import torch, lamina
        >>> w = lamina.Variable([1.0], name="w")
        >>> lamina.optimizers.ScheduleFreeAdamW(learning_rate=0.1).apply([torch.tensor([0.5])], [w])
        >>> round(float(w.numpy()[0]), 4)
        0.9
    """

    def __init__(
        self,
        learning_rate: Any = 0.0025,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-8,
        warmup_steps: int = 0,
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
        if isinstance(warmup_steps, bool) or not isinstance(warmup_steps, int) or warmup_steps < 0:
            raise ValueError(f"`warmup_steps` must be a non-negative integer. Received: warmup_steps={warmup_steps!r}")
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.warmup_steps = warmup_steps

    def build(self, var_list: list[Any]) -> None:
        if self.built:
            return
        super().build(var_list)
        self._momentums, self._velocities = self.add_optimizer_variables(var_list, ["momentum", "velocity"])
        with torch.no_grad():
            for momentum, var in zip(self._momentums, var_list, strict=True):
                momentum.value.copy_(_tensor(var))  # z starts at the weights

    def update_step(self, gradient: torch.Tensor, variable: Any, learning_rate: Any) -> None:
        y = _tensor(variable)
        lr = self._lr_tensor(y, learning_rate)
        g = gradient.to(y.dtype)
        step = self._local_step(y)
        if self.warmup_steps > 0:
            lr = lr * torch.minimum(step / self._const(float(self.warmup_steps), y), self._const(1.0, y))
        index = self._get_variable_index(variable)
        z = self._momentums[index].value
        v = self._velocities[index].value
        # beta_1/beta_2 as float32 tensors, as Keras casts them: `1 - beta` then rounds as Keras's does
        beta_1, beta_2 = self._const(self.beta_1, y), self._const(self.beta_2, y)
        bias_correction_2 = computed_once(1 - torch.pow(beta_2, step))
        v.add_((torch.square(g) - v) * (1 - beta_2))
        denom = torch.sqrt(v / bias_correction_2) + self._const(self.epsilon, y)
        z.sub_((lr * g) / denom)
        weight = 1.0 / step
        x_old = (y - (1 - beta_1) * z) / beta_1  # z after this step's update: Keras on torch
        x_new = (1 - weight) * x_old + weight * z
        y.copy_((1 - beta_1) * z + beta_1 * x_new)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(
            {"beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon, "warmup_steps": self.warmup_steps}
        )
        return config


ScheduleFreeAdamW.__doc__ = ScheduleFreeAdamW.__doc__.replace(
    "{{base_optimizer_keyword_args}}", base_optimizer_keyword_args
)
