"""FTRL-Proximal, Keras 3's update rule."""

from __future__ import annotations

from typing import Any

import torch

from lamina import initializers
from lamina.optimizers.base_optimizer import Optimizer
from lamina.optimizers.optimizer_utils import base_optimizer_keyword_args


class Ftrl(Optimizer):
    """Follow The Regularized Leader (McMahan et al., 2013), with L1/L2 and shrinkage regularisation.

    Args:
        learning_rate: float, schedule or callable. Defaults to ``0.001``.
        learning_rate_power: ``<= 0``; how the rate decreases during training (``0`` is fixed). Defaults to ``-0.5``.
        initial_accumulator_value: starting value of the accumulators, ``>= 0``. Defaults to ``0.1``.
        l1_regularization_strength: ``>= 0``. Defaults to ``0.0``.
        l2_regularization_strength: ``>= 0`` (stabilisation penalty). Defaults to ``0.0``.
        l2_shrinkage_regularization_strength: ``>= 0`` (magnitude penalty). Defaults to ``0.0``.
        beta: as in the paper. Defaults to ``0.0``.
        {{base_optimizer_keyword_args}}

    Example:
        >>> import torch, lamina
        >>> w = lamina.Variable([1.0], name="w")
        >>> lamina.optimizers.Ftrl(learning_rate=0.1).apply([torch.tensor([2.0])], [w])
        >>> round(float(w.numpy()[0]), 4)
        0.7451
    """

    def __init__(
        self,
        learning_rate: Any = 0.001,
        learning_rate_power: float = -0.5,
        initial_accumulator_value: float = 0.1,
        l1_regularization_strength: float = 0.0,
        l2_regularization_strength: float = 0.0,
        l2_shrinkage_regularization_strength: float = 0.0,
        beta: float = 0.0,
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
        if initial_accumulator_value < 0.0:
            raise ValueError(
                "`initial_accumulator_value` needs to be positive or zero. "
                f"Received: initial_accumulator_value={initial_accumulator_value}."
            )
        if learning_rate_power > 0.0:
            raise ValueError(
                "`learning_rate_power` needs to be negative or zero. "
                f"Received: learning_rate_power={learning_rate_power}."
            )
        if l1_regularization_strength < 0.0:
            raise ValueError(
                "`l1_regularization_strength` needs to be positive or zero. "
                f"Received: l1_regularization_strength={l1_regularization_strength}."
            )
        if l2_regularization_strength < 0.0:
            raise ValueError(
                "`l2_regularization_strength` needs to be positive or zero. "
                f"Received: l2_regularization_strength={l2_regularization_strength}."
            )
        if l2_shrinkage_regularization_strength < 0.0:
            raise ValueError(
                "`l2_shrinkage_regularization_strength` needs to be positive or zero. "
                f"Received: l2_shrinkage_regularization_strength={l2_shrinkage_regularization_strength}."
            )
        self.learning_rate_power = learning_rate_power
        self.initial_accumulator_value = initial_accumulator_value
        self.l1_regularization_strength = l1_regularization_strength
        self.l2_regularization_strength = l2_regularization_strength
        self.l2_shrinkage_regularization_strength = l2_shrinkage_regularization_strength
        self.beta = beta

    def build(self, var_list: list[Any]) -> None:
        if self.built:
            return
        super().build(var_list)
        self._accumulators, self._linears = self.add_optimizer_variables(
            var_list,
            ["accumulator", "linear"],
            initializer=[initializers.Constant(self.initial_accumulator_value), "zeros"],
        )

    def _parallel_update_step(self, grads: list[torch.Tensor], variables: list[Any], learning_rate: Any) -> None:
        idx, params = self._prepare(variables)
        lr = self._lr_tensor(params[0], learning_rate)
        # Keras raises to a 0-d tensor power (true ``pow``; a Python 0.5 would take torch's ``sqrt`` shortcut).
        power = self._const(-self.learning_rate_power, params[0])
        l1 = self.l1_regularization_strength
        l2_reg = self.l2_regularization_strength + self.beta / (2.0 * lr)
        for i, gradient, variable in zip(idx, grads, params):
            accum = self._accumulators[i].value
            linear = self._linears[i].value
            grad_to_use = gradient + 2 * self.l2_shrinkage_regularization_strength * variable
            new_accum = accum + torch.square(gradient)
            linear.add_(grad_to_use - (torch.pow(new_accum, power) - torch.pow(accum, power)) / lr * variable)
            quadratic = torch.pow(new_accum, power) / lr + 2 * l2_reg
            linear_clipped = torch.clip(linear, -l1, l1)
            variable.copy_((linear_clipped - linear) / quadratic)
            accum.copy_(new_accum)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(
            {
                "learning_rate_power": self.learning_rate_power,
                "initial_accumulator_value": self.initial_accumulator_value,
                "l1_regularization_strength": self.l1_regularization_strength,
                "l2_regularization_strength": self.l2_regularization_strength,
                "l2_shrinkage_regularization_strength": self.l2_shrinkage_regularization_strength,
                "beta": self.beta,
            }
        )
        return config


Ftrl.__doc__ = Ftrl.__doc__.replace("{{base_optimizer_keyword_args}}", base_optimizer_keyword_args)
