"""SGD with optional (Nesterov) momentum, Keras 3's update rule."""

from __future__ import annotations

from typing import Any

import torch

from lamina.optimizers.base_optimizer import Optimizer
from lamina.optimizers.optimizer_utils import base_optimizer_keyword_args


class SGD(Optimizer):
    """Gradient descent (with momentum).

    ``velocity = momentum * velocity - learning_rate * g``; ``w += velocity``
    (Nesterov: ``w += momentum * velocity - learning_rate * g``); without momentum
    ``w -= learning_rate * g``.

    Args:
        learning_rate: float, schedule or callable. Defaults to ``0.01``.
        momentum: float in ``[0, 1]``. Defaults to ``0.0``.
        nesterov: whether to use Nesterov momentum. Defaults to ``False``.
        {{base_optimizer_keyword_args}}

    Example:
        >>> import torch, lamina
        >>> w = lamina.Variable([1.0], name="w")
        >>> opt = lamina.optimizers.SGD(learning_rate=0.1, momentum=0.9)
        >>> for _ in range(2):
        ...     opt.apply([torch.tensor([1.0])], [w])
        >>> round(float(w.numpy()[0]), 4)
        0.71
    """

    def __init__(
        self,
        learning_rate: Any = 0.01,
        momentum: float = 0.0,
        nesterov: bool = False,
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
        if not isinstance(momentum, float) or momentum < 0 or momentum > 1:
            raise ValueError("`momentum` must be a float between [0, 1].")
        self.momentum = momentum
        self.nesterov = nesterov

    def build(self, variables: list[Any]) -> None:
        if self.built:
            return
        super().build(variables)
        self.momentums = []
        if self.momentum != 0:
            self.momentums = self.add_optimizer_variables(variables, "momentum")

    def _tf_keras_variables(self) -> list[Any]:
        if self.momentum != 0:
            return super()._tf_keras_variables()
        # tf.keras 2 keeps a momentum slot per variable even without momentum (it holds the last step, unused)
        return super()._tf_keras_variables() + [None] * len(self._trainable_variables)

    def _parallel_update_step(self, grads: list[torch.Tensor], variables: list[Any], learning_rate: Any) -> None:
        idx, params = self._prepare(variables)
        lr = self._lr_tensor(params[0], learning_rate)
        scaled = torch._foreach_mul(grads, lr)  # learning_rate * g
        if self.momentum != 0:
            bufs = self._slots(self.momentums, idx)
            torch._foreach_mul_(bufs, self.momentum)
            torch._foreach_sub_(bufs, scaled)
            if self.nesterov:
                torch._foreach_sub_(params, scaled)
                torch._foreach_add_(params, bufs, alpha=self.momentum)
            else:
                torch._foreach_add_(params, bufs)
        else:
            torch._foreach_sub_(params, scaled)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update({"momentum": self.momentum, "nesterov": self.nesterov})
        return config


SGD.__doc__ = SGD.__doc__.replace("{{base_optimizer_keyword_args}}", base_optimizer_keyword_args)
