"""Muon (momentum orthogonalized by Newton-Schulz), Keras 3's update rule; AdamW for the other variables."""

from __future__ import annotations

import re
from typing import Any

import torch

from lamina.optimizers.base_optimizer import Optimizer
from lamina.optimizers.optimizer_utils import _tensor, base_optimizer_keyword_args, computed_once


class Muon(Optimizer):
    """Muon for 2-D weights, AdamW for the rest (Jordan et al., 2024; Liu et al., 2025).

    A 2-D variable whose path matches no ``exclude_layers`` pattern (and no ``"embedding"`` with
    ``exclude_embeddings``) takes the Muon step: SGD momentum, orthogonalized by ``ns_steps`` Newton-Schulz
    iterations and scaled by ``sqrt(max(rows, cols)) * rms_rate``. Every other variable takes an AdamW step
    with ``learning_rate * adam_lr_ratio``. Weight decay is ``weight_decay`` for Muon variables and
    ``adam_weight_decay`` for AdamW ones.

    Args:
        learning_rate: float, schedule or callable. Defaults to ``0.001``.
        adam_beta_1: AdamW's first-moment decay. Defaults to ``0.9``.
        adam_beta_2: AdamW's second-moment decay. Defaults to ``0.999``.
        adam_weight_decay: weight decay of the AdamW variables. Defaults to ``0.004``.
        epsilon: AdamW's epsilon. Defaults to ``1e-7``.
        exclude_layers: regular expressions; variables whose path matches one use AdamW.
        exclude_embeddings: variables with ``"embedding"`` in their path use AdamW. Defaults to ``True``.
        muon_a, muon_b, muon_c: the Newton-Schulz polynomial's coefficients.
        adam_lr_ratio: AdamW's learning rate over the main one. Defaults to ``1``.
        momentum: Muon's momentum. Defaults to ``0.95``.
        ns_steps: Newton-Schulz iterations. Defaults to ``5``.
        nesterov: Nesterov momentum. Defaults to ``True``.
        rms_rate: the update scale of Liu et al. (``None`` disables it). Defaults to ``0.2``.
        {{base_optimizer_keyword_args}}

    Example:
        >>> import torch, lamina
        >>> w = lamina.Variable(torch.eye(2), name="w")
        >>> opt = lamina.optimizers.Muon(learning_rate=0.1, weight_decay=None)
        >>> opt.apply([torch.ones(2, 2)], [w])
        >>> [[round(v, 3) for v in row] for row in w.numpy().tolist()]
        [[0.99, -0.01], [-0.01, 0.99]]
    """

    def __init__(
        self,
        learning_rate: Any = 0.001,
        adam_beta_1: float = 0.9,
        adam_beta_2: float = 0.999,
        adam_weight_decay: float | None = 0.004,
        epsilon: float = 1e-7,
        weight_decay: float | None = 0.004,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        global_clipnorm: float | None = None,
        use_ema: bool = False,
        ema_momentum: float = 0.99,
        ema_overwrite_frequency: int | None = None,
        loss_scale_factor: float | None = None,
        gradient_accumulation_steps: int | None = None,
        name: str | None = None,
        exclude_layers: list[str] | None = None,
        exclude_embeddings: bool = True,
        muon_a: float = 3.4445,
        muon_b: float = -4.7750,
        muon_c: float = 2.0315,
        adam_lr_ratio: float = 1,
        momentum: float = 0.95,
        ns_steps: int = 5,
        nesterov: bool = True,
        rms_rate: float | None = 0.2,
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
        if isinstance(ns_steps, bool) or not isinstance(ns_steps, int) or ns_steps < 0:
            raise ValueError(f"`ns_steps` must be a non-negative integer. Received: ns_steps={ns_steps!r}")
        if exclude_layers is not None and not isinstance(exclude_layers, (list, tuple)):
            raise TypeError(
                f"`exclude_layers` must be a list of regular expressions. Received: exclude_layers={exclude_layers!r}"
            )
        self.adam_beta_1 = adam_beta_1
        self.adam_beta_2 = adam_beta_2
        self.epsilon = epsilon
        self.muon_a = muon_a
        self.muon_b = muon_b
        self.muon_c = muon_c
        self.adam_lr_ratio = adam_lr_ratio
        self.momentum = momentum
        self.ns_steps = ns_steps
        self.nesterov = nesterov
        self.exclude_embeddings = exclude_embeddings
        self.exclude_layers = list(exclude_layers or [])
        self.adam_weight_decay = adam_weight_decay
        self.rms_rate = rms_rate

    def _should_use_adamw(self, variable: Any) -> bool:
        if len(variable.shape) != 2:
            return True
        path = getattr(variable, "path", "")
        if self.exclude_embeddings and "embedding" in path.lower():
            return True
        return any(re.search(keyword, path) for keyword in self.exclude_layers)

    def build(self, var_list: list[Any]) -> None:
        if self.built:
            return
        super().build(var_list)
        self.momentums: list[Any] = [None] * len(var_list)
        self.adam_velocities: list[Any] = [None] * len(var_list)
        for var in var_list:
            if getattr(var, "overwrite_with_gradient", False):
                continue
            index = self._get_variable_index(var)
            self.momentums[index] = self.add_variable_from_reference(var, name="momentum")
            if self._should_use_adamw(var):
                self.adam_velocities[index] = self.add_variable_from_reference(var, name="velocity")

    def update_step(self, gradient: torch.Tensor, variable: Any, learning_rate: Any) -> None:
        index = self._get_variable_index(variable)
        m = self.momentums[index]
        v = self.adam_velocities[index]
        p = _tensor(variable)
        lr = self._lr_tensor(p, learning_rate)
        if v is not None:
            self._adamw_update_step(gradient.to(p.dtype), p, lr * self.adam_lr_ratio, m.value, v.value)
        else:
            self._muon_update_step(gradient.to(p.dtype), p, lr, m.value)

    def _muon_update_step(self, g: torch.Tensor, p: torch.Tensor, lr: torch.Tensor, m: torch.Tensor) -> None:
        m.add_(g + m * (self.momentum - 1))
        direction = g + self.momentum * m if self.nesterov else m
        update = self.zeropower_via_newtonschulz5(direction, self.ns_steps)
        p.sub_(self.lr_adjust(lr * update))

    def _adamw_update_step(
        self, g: torch.Tensor, p: torch.Tensor, lr: torch.Tensor, m: torch.Tensor, v: torch.Tensor
    ) -> None:
        step = self._local_step(p)
        beta_1_power = torch.pow(self._const(self.adam_beta_1, p), step)
        beta_2_power = torch.pow(self._const(self.adam_beta_2, p), step)
        alpha = computed_once(lr * torch.sqrt(1 - beta_2_power) / (1 - beta_1_power))
        m.add_((g - m) * (1 - self.adam_beta_1))
        v.add_((torch.square(g) - v) * (1 - self.adam_beta_2))
        p.sub_((m * alpha) / (torch.sqrt(v) + self.epsilon))

    @staticmethod
    def transpose_last_axis(x: torch.Tensor) -> torch.Tensor:
        return x.transpose(-2, -1)

    def lr_adjust(self, x: torch.Tensor) -> torch.Tensor:
        """Scales a 2-D update by ``sqrt(max(rows, cols)) * rms_rate`` (Liu et al., 2025); as is with ``None``."""
        if self.rms_rate is None:
            return x
        scale = torch.sqrt(torch.tensor(float(max(x.shape[0], x.shape[1])), dtype=x.dtype, device=x.device))
        return x * scale * self.rms_rate

    def zeropower_via_newtonschulz5(self, x: torch.Tensor, steps: int) -> torch.Tensor:
        """Approximately orthogonalizes ``x`` (``U V^T`` of its SVD) by a quintic Newton-Schulz iteration."""
        if x.ndim < 2:
            raise ValueError(
                f"Expected gradient or momentum to have at least 2 dimensions. Received: shape={tuple(x.shape)}"
            )
        a, b, c = self.muon_a, self.muon_b, self.muon_c
        tall = x.shape[-2] > x.shape[-1]
        if tall:
            x = self.transpose_last_axis(x)
        x = x / (torch.linalg.matrix_norm(x, keepdim=True) + 1e-7)
        for _ in range(steps):
            temp_a = x @ self.transpose_last_axis(x)
            temp_b = b * temp_a + (c * temp_a) @ temp_a
            x = a * x + temp_b @ x
        return self.transpose_last_axis(x) if tall else x

    def _apply_weight_decay(self, variables: list[Any]) -> None:
        for variable in variables:
            if not self._use_weight_decay(variable):
                continue
            decay = self.adam_weight_decay if self._should_use_adamw(variable) else self.weight_decay
            if decay is None:
                continue
            p = _tensor(variable)
            lr = self._lr_tensor(p)
            p.copy_(p - p * self._const(float(decay), p) * lr)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(
            {
                "adam_beta_1": self.adam_beta_1,
                "adam_beta_2": self.adam_beta_2,
                "epsilon": self.epsilon,
                "exclude_layers": self.exclude_layers,
                "muon_a": self.muon_a,
                "muon_b": self.muon_b,
                "muon_c": self.muon_c,
                "adam_lr_ratio": self.adam_lr_ratio,
                "momentum": self.momentum,
                "ns_steps": self.ns_steps,
                "nesterov": self.nesterov,
                "exclude_embeddings": self.exclude_embeddings,
                "adam_weight_decay": self.adam_weight_decay,
                "rms_rate": self.rms_rate,
            }
        )
        return config


Muon.__doc__ = Muon.__doc__.replace("{{base_optimizer_keyword_args}}", base_optimizer_keyword_args)
