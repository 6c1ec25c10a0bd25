"""Nadam: Adam with Nesterov momentum, Keras 3's update rule."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from lamina import backend
from lamina.optimizers.base_optimizer import Optimizer
from lamina.optimizers.optimizer_utils import base_optimizer_keyword_args, computed_once
from lamina.variable import Variable


class Nadam(Optimizer):
    """Nadam: Adam with Nesterov momentum (Dozat, 2015), with Keras's momentum schedule ``0.96``.

    Args:
        learning_rate: float, schedule or callable. Defaults to ``0.001``.
        beta_1: decay of the first moment. Defaults to ``0.9``.
        beta_2: decay of the second moment. Defaults to ``0.999``.
        epsilon: added to ``sqrt(v_hat)``. Defaults to ``1e-7``.
        {{base_optimizer_keyword_args}}

    Example:
        >>> import torch, lamina
        >>> w = lamina.Variable([1.0], name="w")
        >>> lamina.optimizers.Nadam(learning_rate=0.1).apply([torch.tensor([2.0])], [w])
        >>> round(float(w.numpy()[0]), 4)
        0.8937
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
        dtype = var_list[0].dtype if var_list else backend.floatx()
        super().build(var_list)
        self._momentums, self._velocities = self.add_optimizer_variables(var_list, ["momentum", "velocity"])
        # Keras creates the running momentum product unnamed, outside the optimizer's name scope.
        self._u_product = Variable(1.0, dtype=dtype, trainable=False, name="variable", device=self._device)
        self._track_variable(self._u_product)

    def _tf_keras_variables(self) -> list[Any]:
        return [v for v in super()._tf_keras_variables() if v is not self._u_product]

    def _after_tf_keras_state(self) -> None:
        # tf.keras 2 does not save the running momentum product; it is the product of the step
        # factors so far, computed as the steps did (float32, in order). Past ~1000 steps it is 0.
        steps = min(int(self._iterations.numpy()), 5000)
        product = np.float32(1.0)
        for t in range(1, steps + 1):
            product = np.float32(product * np.float32(self.beta_1 * (1.0 - 0.5 * np.float32(0.96) ** np.float32(t))))
        self._u_product.assign(product)

    def _parallel_update_step(self, grads: list[torch.Tensor], variables: list[Any], learning_rate: Any) -> None:
        idx, params = self._prepare(variables)
        p0 = params[0]
        lr = self._lr_tensor(p0, learning_rate)
        local_step = self._local_step(p0, 1)
        next_step = self._local_step(p0, 2)
        decay = self._const(0.96, p0)
        beta_1 = self._const(self.beta_1, p0)
        beta_2 = self._const(self.beta_2, p0)
        u_t = computed_once(beta_1 * (1.0 - 0.5 * torch.pow(decay, local_step)))
        u_t_1 = computed_once(beta_1 * (1.0 - 0.5 * torch.pow(decay, next_step)))
        u_product = self._u_product.value
        u_product_t = u_product * u_t
        u_product_t_1 = u_product_t * u_t_1
        beta_2_power = computed_once(torch.pow(beta_2, local_step))
        u_product.copy_(u_product_t)

        m_list = self._slots(self._momentums, idx)
        v_list = self._slots(self._velocities, idx)
        torch._foreach_mul_(m_list, self.beta_1)
        torch._foreach_add_(m_list, grads, alpha=1 - self.beta_1)
        torch._foreach_mul_(v_list, self.beta_2)
        torch._foreach_add_(v_list, torch._foreach_mul(grads, grads), alpha=1 - self.beta_2)
        # m_hat = m * u_t_1 / (1 - u_product_t_1) + g * (1 - u_t) / (1 - u_product_t); temporaries in place
        m_hat_list = torch._foreach_mul(m_list, u_t_1)
        torch._foreach_div_(m_hat_list, 1 - u_product_t_1)
        grad_part = torch._foreach_mul(grads, 1 - u_t)
        torch._foreach_div_(grad_part, 1 - u_product_t)
        torch._foreach_add_(m_hat_list, grad_part)
        # w -= m_hat * lr / (sqrt(v / (1 - beta_2 ** t)) + epsilon)
        denominators = torch._foreach_div(v_list, 1 - beta_2_power)
        torch._foreach_sqrt_(denominators)
        torch._foreach_add_(denominators, self.epsilon)
        torch._foreach_mul_(m_hat_list, lr)
        torch._foreach_div_(m_hat_list, denominators)
        torch._foreach_add_(params, m_hat_list, alpha=-1)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update({"beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon})
        return config


Nadam.__doc__ = Nadam.__doc__.replace("{{base_optimizer_keyword_args}}", base_optimizer_keyword_args)
