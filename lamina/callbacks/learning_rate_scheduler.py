"""``LearningRateScheduler``: set the learning rate from ``schedule(epoch, lr)`` at each epoch start."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from lamina.callbacks.callback import Callback


def _get_lr(model: Any) -> float:
    return float(model.optimizer.learning_rate)


class LearningRateScheduler(Callback):
    """Calls ``schedule(epoch, current_lr)`` before each epoch and sets the optimizer's learning rate.

    Example:
        >>> import lamina
        >>> cb = lamina.callbacks.LearningRateScheduler(lambda epoch, lr: lr * 0.5)
        >>> cb.verbose
        0
    """

    def __init__(self, schedule: Callable[..., float], verbose: int = 0) -> None:
        super().__init__()
        self.schedule = schedule
        self.verbose = verbose

    def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
        if not hasattr(self.model.optimizer, "learning_rate"):
            raise ValueError('Optimizer must have a "learning_rate" attribute.')
        try:
            lr = self.schedule(epoch, _get_lr(self.model))
        except TypeError:  # old-style schedule(epoch)
            lr = self.schedule(epoch)
        if not isinstance(lr, (float, int)) and not hasattr(lr, "__float__"):
            raise ValueError(f'The output of the "schedule" function should be a float. Got: {lr}')
        self.model.optimizer.learning_rate = float(lr)
        if self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: LearningRateScheduler setting learning rate to {float(lr)}.")

    def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
        if logs is not None:
            logs["learning_rate"] = _get_lr(self.model)
