"""Adagrad, Keras 3's update rule."""

from __future__ import annotations

from typing import Any

import torch

from lamina import initializers
from lamina.optimizers.base_optimizer import Optimizer
from lamina.optimizers.optimizer_utils import base_optimizer_keyword_args


class Adagrad(Optimizer):
    """Adagrad: per-parameter rates scaled by the accumulated squared gradients.

    ``acc += g^2``; ``w -= lr * g / sqrt(acc + epsilon)``.

    Args:
        learning_rate: float, schedule or callable. Defaults to ``0.001``.
        initial_accumulator_value: starting value of the accumulators. Defaults to ``0.1``.
        epsilon: added inside the square root. Defaults to ``1e-7``.
        {{base_optimizer_keyword_args}}

    Example:
        >>> import torch, lamina
        >>> w = lamina.Variable([1.0], name="w")
        >>> lamina.optimizers.Adagrad(learning_rate=0.1).apply([torch.tensor([2.0])], [w])
        >>> round(float(w.numpy()[0]), 4)
        0.9012
    """

    def __init__(
        self,
        learning_rate: Any = 0.001,
        initial_accumulator_value: float = 0.1,
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
        self.initial_accumulator_value = initial_accumulator_value
        self.epsilon = epsilon

    def build(self, var_list: list[Any]) -> None:
        if self.built:
            return
        super().build(var_list)
        initializer = initializers.Constant(self.initial_accumulator_value)
        self._accumulators = self.add_optimizer_variables(var_list, "accumulator", initializer=initializer)

    def _parallel_update_step(self, grads: list[torch.Tensor], variables: list[Any], learning_rate: Any) -> None:
        idx, params = self._prepare(variables)
        lr = self._lr_tensor(params[0], learning_rate)
        accumulators = self._slots(self._accumulators, idx)
        torch._foreach_add_(accumulators, torch._foreach_mul(grads, grads))
        # w -= (g * lr) / sqrt(acc + epsilon), with the temporaries updated in place
        denominators = torch._foreach_add(accumulators, self.epsilon)
        torch._foreach_sqrt_(denominators)
        updates = torch._foreach_mul(grads, lr)
        torch._foreach_div_(updates, denominators)
        torch._foreach_add_(params, updates, alpha=-1)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update({"initial_accumulator_value": self.initial_accumulator_value, "epsilon": self.epsilon})
        return config


Adagrad.__doc__ = Adagrad.__doc__.replace("{{base_optimizer_keyword_args}}", base_optimizer_keyword_args)
