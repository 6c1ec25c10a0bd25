"""AdamW: Adam with decoupled weight decay (default ``weight_decay=0.004``), as Keras 3."""

from __future__ import annotations

from typing import Any

from lamina.optimizers.adam import Adam
from lamina.optimizers.optimizer_utils import base_optimizer_keyword_args


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter, 2019).

    Before each Adam step, ``w -= w * weight_decay * learning_rate``.

    Args:
        learning_rate: float, schedule or callable. Defaults to ``0.001``.
        weight_decay: float. Defaults to ``0.004``.
        beta_1: decay of the first moment. Defaults to ``0.9``.
        beta_2: decay of the second moment. Defaults to ``0.999``.
        epsilon: added to ``sqrt(v)``. Defaults to ``1e-7``.
        amsgrad: use AMSGrad. Defaults to ``False``.
        {{base_optimizer_keyword_args}}

    Example:
        >>> import lamina
        >>> lamina.optimizers.AdamW().get_config()["weight_decay"]
        0.004
    """

    def __init__(
        self,
        learning_rate: Any = 0.001,
        weight_decay: float = 0.004,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-7,
        amsgrad: bool = False,
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
            beta_1=beta_1,
            beta_2=beta_2,
            epsilon=epsilon,
            amsgrad=amsgrad,
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
        if self.weight_decay is None:
            raise ValueError("Argument `weight_decay` must be a float. Received: weight_decay=None")


AdamW.__doc__ = AdamW.__doc__.replace("{{base_optimizer_keyword_args}}", base_optimizer_keyword_args)
