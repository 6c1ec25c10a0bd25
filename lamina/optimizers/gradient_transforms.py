"""What the optimizer does to gradients and weights around the update rule: clipping (by value, norm and
global norm), decoupled weight decay, and the exponential moving average of the weights (``use_ema``).

A mixin of :class:`lamina.optimizers.Optimizer`; it reads the optimizer's configuration attributes.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import torch

from lamina.optimizers.optimizer_utils import _scalar, _tensor, clip_by_global_norm


class GradientTransforms:
    """Gradient clipping, weight decay and the weights' moving average, for :class:`Optimizer`."""

    def _clip_gradients(self, grads: list[torch.Tensor]) -> list[torch.Tensor]:
        if self.clipnorm and self.clipnorm > 0:
            return [self._clip_by_norm(g) for g in grads]
        if self.global_clipnorm and self.global_clipnorm > 0:
            return clip_by_global_norm(grads, self.global_clipnorm)
        if self.clipvalue and self.clipvalue > 0:
            v = self.clipvalue
            return [torch.clip(g, -v, v) for g in grads]
        return grads

    def _clip_by_norm(self, values: torch.Tensor) -> torch.Tensor:
        l2sum = torch.sum(torch.square(values), dim=tuple(range(values.ndim)), keepdim=True)
        pred = l2sum > 0
        l2sum_safe = torch.where(pred, l2sum, torch.ones_like(l2sum))
        l2norm = torch.where(pred, torch.sqrt(l2sum_safe), l2sum)
        intermediate = values * self.clipnorm
        return intermediate / torch.maximum(l2norm, _scalar(self.clipnorm, l2norm))

    # ------------------------------------------------------------------ weight decay
    def exclude_from_weight_decay(
        self, var_list: Sequence[Any] | None = None, var_names: Sequence[str] | None = None
    ) -> None:
        """Excludes variables (or those whose name contains one of ``var_names``) from weight decay."""
        self._exclude_from_weight_decay = {self._var_key(v) for v in var_list} if var_list else set()
        if var_names and len(var_names) > 0:
            self._exclude_from_weight_decay_pattern = re.compile("|".join(set(var_names)))
        else:
            self._exclude_from_weight_decay_pattern = None
        self._exclude_from_weight_decay_cache: dict[int, bool] = {}

    def _use_weight_decay(self, variable: Any) -> bool:
        key = self._var_key(variable)
        cache = self.__dict__.setdefault("_exclude_from_weight_decay_cache", {})
        if key in cache:
            return cache[key]
        use = True
        if key in getattr(self, "_exclude_from_weight_decay", set()):
            use = False
        pattern = getattr(self, "_exclude_from_weight_decay_pattern", None)
        if use and pattern is not None and re.search(pattern, variable.name) is not None:
            use = False
        cache[key] = use
        return use

    def _apply_weight_decay(self, variables: list[Any]) -> None:
        if self.weight_decay is None:
            return
        params = [_tensor(v) for v in variables if self._use_weight_decay(v)]
        if params:
            lr = self._lr_tensor(params[0])
            torch._foreach_mul_(params, 1 - self.weight_decay * lr)

    # ------------------------------------------------------------------ EMA
    def _update_model_variables_moving_average(self, trainable_variables: list[Any]) -> None:
        if not self.use_ema:
            return
        params = [_tensor(v) for v in trainable_variables]
        averages = [a.value for a in self._model_variables_moving_average]
        not_first_step = torch.ne(_tensor(self.iterations), 0)
        momentum = not_first_step.to(params[0].dtype) * self.ema_momentum
        new = torch._foreach_mul(averages, momentum)
        torch._foreach_add_(new, torch._foreach_mul(params, 1 - momentum))
        torch._foreach_copy_(averages, new)

    def _overwrite_model_variables_with_average_value(self, trainable_variables: Sequence[Any]) -> None:
        if len(trainable_variables) != len(self._model_variables_moving_average):
            raise ValueError(
                f"The length of model variables ({len(trainable_variables)}) to override does not match the length "
                f"of model variables stored in the optimizer ({len(self._model_variables_moving_average)}). Please "
                "check if the optimizer was called on your model."
            )
        with torch.no_grad():
            for var, avg in zip(trainable_variables, self._model_variables_moving_average):
                _tensor(var).copy_(avg.value)

    def finalize_variable_values(self, var_list: Sequence[Any]) -> None:
        """At the end of training: with ``use_ema``, sets the weights to their moving averages."""
        if self.use_ema:
            self._overwrite_model_variables_with_average_value(var_list)
