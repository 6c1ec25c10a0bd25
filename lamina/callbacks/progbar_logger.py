"""``ProgbarLogger``: Keras's progress output for ``verbose=1`` (live bar) and ``verbose=2`` (a line per epoch)."""

from __future__ import annotations

from typing import Any

from lamina.backend.io_utils import print_msg
from lamina.callbacks.callback import Callback
from lamina.callbacks.logs import LazyLogs
from lamina.callbacks.progbar import Progbar


def _floats(logs: Any) -> dict[str, Any]:
    if isinstance(logs, LazyLogs):
        return logs.materialize()  # a batch's logs are converted here, only when a line is drawn
    return dict(logs or {})  # the CallbackList's dict: already converted, in Keras's order


class ProgbarLogger(Callback):
    """Prints ``Epoch 1/2`` and the progress bar; values are read only when a line is drawn.

    ``verbose="auto"`` in ``fit`` becomes 1 (the live bar) on a terminal and in a Jupyter/IPython
    kernel, and 2 otherwise (output captured to files), so logs get one line per epoch instead of a flood.
    """

    _reads_lazy_logs = True

    def __init__(self, stream: Any = None) -> None:
        super().__init__()
        self.stream = stream
        self.verbose = 1
        self.epochs = 1
        self.target = None
        self.progbar: Progbar | None = None
        self._mode = "train"

    def set_params(self, params: dict[str, Any]) -> None:
        super().set_params(params)
        self.verbose = params.get("verbose", 1)
        self.epochs = params.get("epochs", 1)
        self.target = params.get("steps")

    def _new_bar(self, target: int | None) -> None:
        self.progbar = Progbar(target, verbose=self.verbose, stream=self.stream)

    def on_train_begin(self, logs=None):
        self._mode = "train"

    def on_epoch_begin(self, epoch, logs=None):
        self._mode = "train"
        self._new_bar(self.target)
        if self.verbose and self.epochs > 1:
            if self.stream is not None:
                self.stream.write(f"Epoch {epoch + 1}/{self.epochs}\n")
                self.stream.flush()
            else:
                print_msg(f"Epoch {epoch + 1}/{self.epochs}")

    def on_train_batch_end(self, batch, logs=None):
        self._batch_update(batch, logs)

    def on_test_begin(self, logs=None):
        if self._mode != "train" or self.progbar is None:
            self._mode = "test"
            self._new_bar(self.params.get("test_steps", self.target))

    def on_test_batch_end(self, batch, logs=None):
        if self._mode == "test":
            self._batch_update(batch, logs)

    def on_test_end(self, logs=None):
        bar = self.progbar
        if self._mode == "test" and bar is not None:
            current = bar.target if bar.target is not None else bar._seen  # the last batch was not drawn
            bar.update(current, lambda: _floats(logs), finalize=True)

    def on_predict_begin(self, logs=None):
        self._mode = "predict"
        self._new_bar(self.params.get("steps"))

    def on_predict_batch_end(self, batch, logs=None):
        self._batch_update(batch, None)  # predictions are not shown

    def on_predict_end(self, logs=None):
        bar = self.progbar
        if bar is not None:
            bar.update(bar.target if bar.target is not None else bar._seen, None, finalize=True)

    def _batch_update(self, batch: int, logs: Any) -> None:
        bar = self.progbar
        if bar is None or not self.verbose:
            return
        current = batch + 1
        if bar.target is not None and current >= bar.target:
            return  # the epoch-end line shows final values, with validation
        bar.update(current, lambda: _floats(logs))  # throttled: logs are read only when a line is drawn

    def on_epoch_end(self, epoch, logs=None):
        bar = self.progbar
        if bar is None or not self.verbose:
            return
        current = bar.target if bar.target is not None else bar._seen
        bar.update(current, lambda: _floats(logs), finalize=True)
