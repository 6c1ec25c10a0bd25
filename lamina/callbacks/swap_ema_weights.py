"""``SwapEMAWeights``: evaluate and predict with the optimizer's moving average of the weights."""

from __future__ import annotations

from typing import Any

import torch

from lamina.callbacks.callback import Callback


class SwapEMAWeights(Callback):
    """Swaps the model's weights with the optimizer's exponential moving average (EMA) around evaluation.

    The optimizer needs ``use_ema=True``. During ``evaluate``/``predict`` (and the validation of ``fit``)
    the model holds the EMA weights, and its own weights come back afterwards. With
    ``swap_on_epoch=True`` the EMA weights are also swapped in at the end of every epoch (so other
    callbacks such as ``ModelCheckpoint`` see them) and out at the start of the next; after the last
    epoch the model keeps them.

    Args:
        swap_on_epoch: also swap at epoch boundaries, as described above.

    Example:
        >>> import numpy as np, lamina
        >>> model = lamina.Sequential([lamina.Input((2,)), lamina.layers.Dense(1)])
        >>> model.compile(optimizer=lamina.optimizers.SGD(use_ema=True), loss="mse")
        >>> x, y = np.ones((8, 2), "float32"), np.zeros((8, 1), "float32")
        >>> _ = model.fit(x, y, epochs=1, verbose=0)
        >>> loss = model.evaluate(x, y, verbose=0, callbacks=[lamina.callbacks.SwapEMAWeights()])
    """

    def __init__(self, swap_on_epoch: bool = False) -> None:
        super().__init__()
        if not isinstance(swap_on_epoch, bool):
            raise TypeError(f"`swap_on_epoch` must be a bool. Received: swap_on_epoch={swap_on_epoch!r}")
        self.swap_on_epoch = swap_on_epoch
        self._ema_weights_in_model = False

    def _ema_optimizers(self) -> list[Any]:
        optimizer = self.model.optimizer
        optimizer = getattr(optimizer, "inner_optimizer", optimizer)
        inner = getattr(optimizer, "optimizers", None)
        if inner is not None:  # a MultiOptimizer: every inner optimizer with an EMA
            chosen = [opt for opt in inner if getattr(opt, "use_ema", False)]
            if not chosen:
                raise ValueError(
                    "SwapEMAWeights must be used when at least one inner optimizer has `use_ema=True` set. "
                    "Received a MultiOptimizer with all inner optimizers having `use_ema=False`."
                )
        else:
            chosen = [optimizer]
        for opt in chosen:
            if not getattr(opt, "use_ema", False) or not getattr(opt, "_model_variables_moving_average", None):
                raise ValueError(
                    "SwapEMAWeights must be used when `use_ema=True` is set on the optimizer (and the optimizer "
                    f"has been built by training). Received: use_ema={getattr(opt, 'use_ema', None)}"
                )
        return chosen

    def _swap_variables(self) -> None:
        for opt in self._ema_optimizers():
            with torch.no_grad():
                for var, average in zip(opt._trainable_variables, opt._model_variables_moving_average, strict=True):
                    held = var.value.detach().clone()
                    var.value.copy_(average.value)
                    average.value.copy_(held)

    def _finalize_ema_values(self) -> None:
        for opt in self._ema_optimizers():
            with torch.no_grad():
                for var, average in zip(opt._trainable_variables, opt._model_variables_moving_average, strict=True):
                    average.value.copy_(var.value)

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        if self.swap_on_epoch and self._ema_weights_in_model:
            self._swap_variables()
            self._ema_weights_in_model = False

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if self.swap_on_epoch and not self._ema_weights_in_model:
            self._swap_variables()
            self._ema_weights_in_model = True
            if epoch == self.params["epochs"] - 1:
                self._finalize_ema_values()

    def on_test_begin(self, logs: dict | None = None) -> None:
        if not self._ema_weights_in_model:
            self._swap_variables()
            self._ema_weights_in_model = True

    def on_test_end(self, logs: dict | None = None) -> None:
        if self._ema_weights_in_model:
            self._swap_variables()
            self._ema_weights_in_model = False

    def on_predict_begin(self, logs: dict | None = None) -> None:
        if not self._ema_weights_in_model:
            self._swap_variables()
            self._ema_weights_in_model = True

    def on_predict_end(self, logs: dict | None = None) -> None:
        # Keras 3.15 tests `not self._ema_weights_in_model` here, so its model keeps the EMA weights after
        # `predict`; Lamina puts the trained weights back, as `on_test_end` does.
        if self._ema_weights_in_model:
            self._swap_variables()
            self._ema_weights_in_model = False
