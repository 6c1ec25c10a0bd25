"""Adam (with optional AMSGrad), Keras 3's update rule."""

from __future__ import annotations

import math
from typing import Any

import torch

from lamina.optimizers.base_optimizer import Optimizer
from lamina.optimizers.optimizer_utils import base_optimizer_keyword_args, computed_once


class Adam(Optimizer):
    """Adam: adaptive moment estimation (Kingma & Ba, 2014).

    ``m = b1*m + (1-b1)*g``; ``v = b2*v + (1-b2)*g^2``;
    ``w -= lr * sqrt(1-b2^t) / (1-b1^t) * m / (sqrt(v) + epsilon)``.

    Args:
        learning_rate: float, schedule or callable. Defaults to ``0.001``.
        beta_1: decay of the first moment. Defaults to ``0.9``.
        beta_2: decay of the second moment. Defaults to ``0.999``.
        epsilon: added to ``sqrt(v)``. Defaults to ``1e-7``.
        amsgrad: use the running maximum of ``v`` (AMSGrad). Defaults to ``False``.
        {{base_optimizer_keyword_args}}

    Example:
        >>> import torch, lamina
        >>> w = lamina.Variable([1.0], name="w")
        >>> opt = lamina.optimizers.Adam(learning_rate=0.1)
        >>> opt.apply([torch.tensor([3.0])], [w])
        >>> round(float(w.numpy()[0]), 4)
        0.9
    """

    def __init__(
        self,
        learning_rate: Any = 0.001,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-7,
        amsgrad: bool = False,
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
        self.amsgrad = amsgrad

    def build(self, var_list: list[Any]) -> None:
        if self.built:
            return
        super().build(var_list)
        self._momentums, self._velocities = self.add_optimizer_variables(var_list, ["momentum", "velocity"])
        if self.amsgrad:
            self._velocity_hats = self.add_optimizer_variables(var_list, "velocity_hat")

    def _parallel_update_step(self, grads: list[torch.Tensor], variables: list[Any], learning_rate: Any) -> None:
        idx, params = self._prepare(variables)
        p0 = params[0]
        m_list = self._slots(self._momentums, idx)
        v_list = self._slots(self._velocities, idx)
        if (
            p0.device.type == "cpu"
            and not self.amsgrad
            and not torch.compiler.is_compiling()
            and self._fusable(params, grads, m_list, v_list)
        ):
            # One fused pass per tensor instead of ~10 (CPU has no multi-tensor kernels: foreach loops per
            # tensor). torch's kernel adds eps to sqrt(v / (1 - beta_2^t)); Keras adds it to sqrt(v), so eps is
            # rescaled by 1 / sqrt(1 - beta_2^t) to give Keras's update. Reading scalars is free on the CPU, so the
            # step and learning rate are Python numbers here (no tensor ops for the bias corrections).
            t = float(self.iterations) + 1.0
            lr = self._get_current_learning_rate() if learning_rate is None else learning_rate
            eps = self.epsilon / math.sqrt(1.0 - self.beta_2**t)
            torch._fused_adam_(
                params,
                list(grads),
                m_list,
                v_list,
                [],
                [self._step_tensor(t)] * len(params),
                lr=float(lr),
                beta1=self.beta_1,
                beta2=self.beta_2,
                weight_decay=0.0,
                eps=eps,
                amsgrad=False,
                maximize=False,
            )
            return
        lr = self._lr_tensor(p0, learning_rate)
        local_step = self._local_step(p0)
        beta_1_power = torch.pow(self._const(self.beta_1, p0), local_step)
        beta_2_power = torch.pow(self._const(self.beta_2, p0), local_step)
        alpha = computed_once(lr * torch.sqrt(1 - beta_2_power) / (1 - beta_1_power))
        torch._foreach_mul_(m_list, self.beta_1)
        torch._foreach_add_(m_list, grads, alpha=1 - self.beta_1)
        torch._foreach_mul_(v_list, self.beta_2)
        torch._foreach_add_(v_list, torch._foreach_mul(grads, grads), alpha=1 - self.beta_2)
        if self.amsgrad:
            v_hat_list = self._slots(self._velocity_hats, idx)
            torch._foreach_maximum_(v_hat_list, v_list)
            v_list = v_hat_list
        # w -= (m * alpha) / (sqrt(v) + epsilon), with the temporaries updated in place
        denominators = torch._foreach_sqrt(v_list)
        torch._foreach_add_(denominators, self.epsilon)
        if p0.device.type == "cpu" and not torch.compiler.is_compiling():  # a Python scalar spares a copy per tensor
            # (no device to sync with); compiled, the scalar stays a tensor (``.item()`` would break the graph)
            alpha = alpha.item()
        updates = torch._foreach_mul(m_list, alpha)
        torch._foreach_div_(updates, denominators)
        torch._foreach_add_(params, updates, alpha=-1)

    def _step_tensor(self, t: float) -> torch.Tensor:
        """The fused kernel's step count (it computes the bias corrections from it): one cached float32 tensor."""
        step = self._cache.get("fused_step")
        if step is None:
            step = self._cache["fused_step"] = torch.zeros((), dtype=torch.float32)
        return step.fill_(t)

    @staticmethod
    def _fusable(*lists: list[torch.Tensor]) -> bool:
        dtype = lists[0][0].dtype
        return dtype in (torch.float32, torch.float64) and all(t.dtype == dtype for ts in lists for t in ts)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update({"beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon, "amsgrad": self.amsgrad})
        return config


Adam.__doc__ = Adam.__doc__.replace("{{base_optimizer_keyword_args}}", base_optimizer_keyword_args)
