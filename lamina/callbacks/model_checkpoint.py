"""``ModelCheckpoint``: save the model or its weights during training (atomically)."""

from __future__ import annotations

import os
import re
from typing import Any

from lamina.callbacks.monitor_callback import MonitorCallback


class ModelCheckpoint(MonitorCallback):
    """Saves the model (``.keras``) or its weights (``.weights.h5``) every epoch or every ``save_freq`` batches.

    ``filepath`` may contain ``{epoch:02d}`` and any log key, e.g. ``"ckpt-{epoch:02d}-{val_loss:.2f}.keras"``.
    Every write is atomic: a crash never leaves a half-written checkpoint under the final name.

    Args:
        filepath: where to save (``.keras``/``.h5``, or ``.weights.h5`` with ``save_weights_only``).
        monitor: the quantity for ``save_best_only``.
        save_best_only: only save when ``monitor`` improves.
        save_weights_only: save weights only.
        mode: ``"auto"``, ``"min"`` or ``"max"``.
        save_freq: ``"epoch"`` or a number of batches.
        initial_value_threshold: the value to beat for the first save.

    Example:
        >>> import lamina
        >>> lamina.callbacks.ModelCheckpoint("best.keras", save_best_only=True).save_best_only
        True
    """

    def __init__(
        self,
        filepath: str,
        monitor: str = "val_loss",
        verbose: int = 0,
        save_best_only: bool = False,
        save_weights_only: bool = False,
        mode: str = "auto",
        save_freq: str | int = "epoch",
        initial_value_threshold: float | None = None,
    ) -> None:
        super().__init__(monitor, mode, initial_value_threshold)
        self.verbose = verbose
        self.filepath = os.fspath(filepath)
        self.save_best_only = save_best_only
        self.save_weights_only = save_weights_only
        self.save_freq = save_freq
        self._batches_seen = 0
        self._last_batch_seen: int | None = None
        self._current_epoch = 0
        if save_freq != "epoch" and not isinstance(save_freq, int):
            raise ValueError(f"Unrecognized save_freq: {save_freq}. Expected save_freq are 'epoch' or integer values")
        if save_weights_only:
            if not self.filepath.endswith(".weights.h5"):
                raise ValueError(
                    "When using `save_weights_only=True` in `ModelCheckpoint`, the filepath provided must end in "
                    f"`.weights.h5` (Keras weights format). Received: filepath={self.filepath}"
                )
        elif not self.filepath.endswith((".keras", ".h5")):
            raise ValueError(
                f"The filepath provided must end in `.keras` (Keras model format). Received: filepath={self.filepath}"
            )

    def _implements(self, hook: str) -> bool:
        if hook == "on_train_batch_end":
            return self.save_freq != "epoch"
        return super()._implements(hook)

    def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
        self._current_epoch = epoch

    def on_train_batch_end(self, batch: int, logs: Any = None) -> None:
        if self.save_freq == "epoch":
            return
        if self._last_batch_seen is None or batch <= self._last_batch_seen:
            add = batch + 1
        else:
            add = batch - self._last_batch_seen
        self._batches_seen += add
        self._last_batch_seen = batch
        if self._batches_seen >= self.save_freq:
            self._batches_seen = 0
            self._save(self._current_epoch, batch, logs)

    def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
        if self.monitor_op is None:
            self._set_monitor_op()
        if self.save_freq == "epoch":
            self._save(epoch, None, logs)

    def _format_path(self, epoch: int, batch: int | None, logs: Any) -> str:
        values = {k: float(v) for k, v in (logs or {}).items() if hasattr(v, "__float__")}
        try:
            if batch is None or "batch" in values:
                return self.filepath.format(epoch=epoch + 1, **values)
            return self.filepath.format(epoch=epoch + 1, batch=batch + 1, **values)
        except KeyError as e:
            raise KeyError(
                f'Failed to format this callback filepath: "{self.filepath}". Reason: {e}. Available keys: '
                f"{sorted(values)}"
            ) from e

    def _save(self, epoch: int, batch: int | None, logs: Any) -> None:
        path = self._format_path(epoch, batch, logs)
        folder = os.path.dirname(path)
        if folder:
            os.makedirs(folder, exist_ok=True)
        if self.save_best_only:
            current = (logs or {}).get(self.monitor)
            if current is None:
                self.get_monitor_value(logs)  # warns
                return
            current = float(current)
            if not self._is_improvement(current, self.best):
                if self.verbose > 0:
                    print(f"\nEpoch {epoch + 1}: {self.monitor} did not improve from {self.best:.5f}")
                return
            if self.verbose > 0:
                best = "inf" if self.best is None else f"{self.best:.5f}"
                print(
                    f"\nEpoch {epoch + 1}: {self.monitor} improved from {best} to {current:.5f}, saving model to {path}"
                )
            self.best = current
        elif self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: saving model to {path}")
        if self.save_weights_only:
            self.model.save_weights(path, overwrite=True)
        else:
            self.model.save(path, overwrite=True)

    @staticmethod
    def _pattern_to_regex(pattern: str) -> str:
        return re.sub(r"\{[^}]*\}", ".*", re.escape(pattern).replace(r"\{", "{").replace(r"\}", "}"))
