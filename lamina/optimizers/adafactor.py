"""Adafactor (factored second moments), Keras 3's update rule."""

from __future__ import annotations

from typing import Any

import torch

from lamina.optimizers.base_optimizer import Optimizer
from lamina.optimizers.optimizer_utils import base_optimizer_keyword_args, computed_once
from lamina.variable import Variable


def _rms(x: torch.Tensor) -> torch.Tensor:
    return torch.sqrt(torch.mean(torch.square(x)))


class Adafactor(Optimizer):
    """Adafactor (Shazeer & Stern, 2018): second moments kept as row/column factors for weights of rank >= 2.

    Args:
        learning_rate: float, schedule or callable. Defaults to ``0.001``.
        beta_2_decay: exponent of the second-moment decay. Defaults to ``-0.8``.
        epsilon_1: added to the squared gradients. Defaults to ``1e-30``.
        epsilon_2: lower bound of the parameter scale. Defaults to ``1e-3``.
        clip_threshold: the update's RMS is clipped to this. Defaults to ``1.0``.
        relative_step: with a float learning rate, cap it by ``1/sqrt(step)``. Defaults to ``True``.
        {{base_optimizer_keyword_args}}

    Example:
        >>> import torch, lamina
        >>> w = lamina.Variable([[1.0, 2.0], [3.0, 4.0]], name="w")
        >>> lamina.optimizers.Adafactor(learning_rate=0.1).apply([torch.ones(2, 2)], [w])
        >>> [[round(float(x), 4) for x in row] for row in w.numpy()]
        [[0.7261, 1.7261], [2.7261, 3.7261]]
    """

    def __init__(
        self,
        learning_rate: Any = 0.001,
        beta_2_decay: float = -0.8,
        epsilon_1: float = 1e-30,
        epsilon_2: float = 1e-3,
        clip_threshold: float = 1.0,
        relative_step: bool = True,
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
        self.beta_2_decay = beta_2_decay
        self.epsilon_1 = epsilon_1
        self.epsilon_2 = epsilon_2
        self.clip_threshold = clip_threshold
        self.relative_step = relative_step

    def build(self, var_list: list[Any]) -> None:
        if self.built:
            return
        super().build(var_list)
        self._r: list[Variable] = []
        self._c: list[Variable] = []
        self._v: list[Variable] = []
        for var in var_list:
            shape = tuple(var.shape)
            if len(shape) < 2:
                # Keras keeps int32 scalar placeholders (tracked, unscoped) for unfactored weights.
                for store in (self._r, self._c):
                    dummy = Variable(0, dtype="int32", trainable=False, name=var.name, device=self._device)
                    self._track_variable(dummy)
                    store.append(dummy)
            else:
                # Always factor the last 2 dimensions.
                self._r.append(self.add_variable(shape=shape[:-1], dtype=var.dtype, name=var.name))
                self._c.append(self.add_variable(shape=shape[:-2] + (shape[-1],), dtype=var.dtype, name=var.name))
            self._v.append(self.add_variable_from_reference(reference_variable=var, name="velocity"))

    def _parallel_update_step(self, grads: list[torch.Tensor], variables: list[Any], learning_rate: Any) -> None:
        idx, params = self._prepare(variables)
        for i, gradient, variable in zip(idx, grads, params):
            self._update_one(i, gradient, variable, learning_rate)

    def _update_one(self, i: int, gradient: torch.Tensor, variable: torch.Tensor, learning_rate: Any) -> None:
        lr = self._lr_tensor(variable, learning_rate)
        gradient = gradient.to(variable.dtype)
        epsilon_2 = self._const(self.epsilon_2, variable)
        one = self._const(1.0, variable)
        local_step = self._local_step(variable)
        if not callable(self._learning_rate) and self.relative_step:
            lr = torch.minimum(lr, 1 / torch.sqrt(local_step))
        r, c, v = self._r[i].value, self._c[i].value, self._v[i].value
        rho_t = computed_once(torch.minimum(lr, 1 / torch.sqrt(local_step)))
        alpha_t = torch.maximum(epsilon_2, _rms(variable)) * rho_t
        regulated_grad_square = torch.square(gradient) + self.epsilon_1
        beta_2_t = computed_once(1 - torch.pow(local_step, self._const(self.beta_2_decay, variable)))
        if variable.ndim >= 2:
            r.copy_(beta_2_t * r + (1 - beta_2_t) * torch.mean(regulated_grad_square, dim=-1))
            c.copy_(beta_2_t * c + (1 - beta_2_t) * torch.mean(regulated_grad_square, dim=-2))
            v.copy_((r / torch.mean(r, dim=-1, keepdim=True)).unsqueeze(-1) * c.unsqueeze(-2))
        else:
            v.copy_(beta_2_t * v + (1 - beta_2_t) * regulated_grad_square)
        u_t = gradient / torch.sqrt(v)
        u_t_hat = u_t / torch.maximum(one, _rms(u_t) / self.clip_threshold)
        variable.sub_(alpha_t * u_t_hat)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(
            {
                "beta_2_decay": self.beta_2_decay,
                "epsilon_1": self.epsilon_1,
                "epsilon_2": self.epsilon_2,
                "clip_threshold": self.clip_threshold,
                "relative_step": self.relative_step,
            }
        )
        return config


Adafactor.__doc__ = Adafactor.__doc__.replace("{{base_optimizer_keyword_args}}", base_optimizer_keyword_args)
