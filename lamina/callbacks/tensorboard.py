"""``TensorBoard``: scalars (and weight histograms) through ``torch.utils.tensorboard``."""

from __future__ import annotations

import os
from typing import Any

from lamina.callbacks.callback import Callback


class TensorBoard(Callback):
    """Writes epoch logs as scalars (and weight histograms every ``histogram_freq`` epochs) to ``log_dir``.

    Needs the ``tensorboard`` package: ``pip install "lamina[tensorboard]"``.

    Args:
        log_dir: where event files go; ``train/`` and ``validation/`` subfolders as in Keras.
        histogram_freq: epochs between weight histograms (0 = none).
        update_freq: ``"epoch"`` or a number of batches between batch-level scalars.
    """

    def __init__(
        self,
        log_dir: str = "logs",
        histogram_freq: int = 0,
        write_graph: bool = True,
        write_images: bool = False,
        write_steps_per_second: bool = False,
        update_freq: str | int = "epoch",
        profile_batch: int = 0,
        embeddings_freq: int = 0,
        embeddings_metadata: Any = None,
    ) -> None:
        super().__init__()
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError as e:
            raise ImportError(
                "The TensorBoard callback needs the `tensorboard` package, which is not installed. Install the "
                'extra with `pip install "lamina[tensorboard]"` (or `pip install tensorboard`).'
            ) from e
        self._writer_cls = SummaryWriter
        self.log_dir = os.fspath(log_dir)
        self.histogram_freq = histogram_freq
        self.update_freq = update_freq
        self._writers: dict[str, Any] = {}
        self._global_batch = 0

    def _writer(self, name: str) -> Any:
        if name not in self._writers:
            self._writers[name] = self._writer_cls(os.path.join(self.log_dir, name))
        return self._writers[name]

    def _implements(self, hook: str) -> bool:
        if hook == "on_train_batch_end":
            return self.update_freq != "epoch"
        return super()._implements(hook)

    def on_train_batch_end(self, batch: int, logs: Any = None) -> None:
        self._global_batch += 1
        if isinstance(self.update_freq, int) and self._global_batch % self.update_freq == 0:
            for k, v in (logs or {}).items():
                self._writer("train").add_scalar(f"batch_{k}", float(v), self._global_batch)

    def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
        for k, v in (logs or {}).items():
            if k.startswith("val_"):
                self._writer("validation").add_scalar(f"epoch_{k[4:]}", float(v), epoch)
            else:
                self._writer("train").add_scalar(f"epoch_{k}", float(v), epoch)
        if self.histogram_freq and epoch % self.histogram_freq == 0:
            for w in self.model.weights:
                self._writer("train").add_histogram(w.path, w.numpy(), epoch)
        for w in self._writers.values():
            w.flush()

    def on_train_end(self, logs: Any = None) -> None:
        for w in self._writers.values():
            w.close()
        self._writers.clear()
