"""``TerminateOnNaN``: stop (or raise) when the loss becomes NaN or infinite."""

from __future__ import annotations

import math
from typing import Any

from lamina.callbacks.callback import Callback


class TerminateOnNaN(Callback):
    """Checks the batch loss after every batch (one host sync per batch, by design).

    Args:
        raise_error: raise ``RuntimeError`` naming the batch instead of stopping gracefully.

    Example:
        >>> import lamina
        >>> lamina.callbacks.TerminateOnNaN(raise_error=True).raise_error
        True
    """

    def __init__(self, raise_error: bool = False) -> None:
        super().__init__()
        self.raise_error = raise_error

    def on_batch_end(self, batch: int, logs: Any = None) -> None:
        logs = logs or {}
        loss = logs.get("loss")
        if loss is None:
            return
        loss = float(loss)  # host sync: the point of this callback
        if math.isnan(loss) or math.isinf(loss):
            if self.raise_error:
                raise RuntimeError(
                    f"NaN or Inf loss encountered at batch {batch}. Loss value: {loss}. Terminating training "
                    "immediately."
                )
            print(f"Batch {batch}: Invalid loss, terminating training")
            self.model.stop_training = True
