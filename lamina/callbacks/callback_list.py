"""``CallbackList``: calls every callback's hook; skips batch hooks nobody implements."""

from __future__ import annotations

from typing import Any

from lamina.callbacks.callback import Callback
from lamina.callbacks.history import History
from lamina.callbacks.logs import LazyLogs, pythonify_logs
from lamina.callbacks.progbar_logger import ProgbarLogger


class CallbackList(Callback):
    """A container that fans each hook out to its callbacks, in order.

    Adds ``History`` and ``ProgbarLogger`` as Keras does. Every hook receives a dict for ``logs``
    (``{}`` where Keras passes nothing), pythonified as Keras does: keys sorted, nested dicts
    flattened, scalar tensors as Python floats.

    ``needs(hook)`` tells the training loop whether any callback implements a batch hook, so that
    the loop can skip building per-batch logs (and their host sync) when nobody reads them. A batch's
    logs are converted once, and only if a callback other than the progress bar (which reads them
    lazily, when it draws) implements the hook.
    """

    def __init__(
        self,
        callbacks: list[Callback] | None = None,
        add_history: bool = False,
        add_progbar: bool = False,
        model: Any = None,
        **params: Any,
    ) -> None:
        super().__init__()

        if callbacks is not None and not isinstance(callbacks, (list, tuple)):
            raise TypeError(
                "`callbacks` must be a list of lamina.callbacks.Callback instances. "
                f"Received: callbacks={callbacks!r} (of type {type(callbacks).__name__})"
            )
        self.callbacks: list[Callback] = list(callbacks or [])
        for cb in self.callbacks:
            if not isinstance(cb, Callback):
                raise TypeError(f"`callbacks` must be lamina.callbacks.Callback instances. Received: {cb!r}")
        if add_progbar and not any(isinstance(cb, ProgbarLogger) for cb in self.callbacks):
            self.callbacks.append(ProgbarLogger())
        if add_history and not any(isinstance(cb, History) for cb in self.callbacks):
            self.callbacks.append(History())
        if model is not None:
            self.set_model(model)
        if params:
            self.set_params(params)
        self._needed: dict[str, list[Callback]] = {}

    def set_model(self, model: Any) -> None:
        super().set_model(model)
        for cb in self.callbacks:
            cb.set_model(model)
        history = next((cb for cb in self.callbacks if isinstance(cb, History)), None)
        if history is not None and model is not None:
            # as Keras: `fit` returns this History even when no epoch runs (epochs=0)
            model.history = history

    def set_params(self, params: dict[str, Any]) -> None:
        super().set_params(params)
        for cb in self.callbacks:
            cb.set_params(params)

    def append(self, callback: Callback) -> None:
        self.callbacks.append(callback)
        self._needed.clear()

    def needs(self, hook: str) -> list[Callback]:
        found = self._needed.get(hook)
        if found is None:
            found = self._needed[hook] = [cb for cb in self.callbacks if cb._implements(hook)]
        return found

    def _call(self, hook: str, *args: Any) -> None:
        for cb in self.needs(hook):
            getattr(cb, hook)(*args)

    def _call_batch(self, hook: str, batch: int, logs: Any) -> None:
        callbacks = self.needs(hook)
        if not callbacks:
            return
        lazy = LazyLogs.of(logs)
        for cb in callbacks:
            # One dict for every callback (as in Keras); the progress bar gets the lazy view of it.
            getattr(cb, hook)(batch, lazy if cb._reads_lazy_logs else lazy.materialize())

    def on_epoch_begin(self, epoch, logs=None):
        self._call("on_epoch_begin", epoch, pythonify_logs(logs))

    def on_epoch_end(self, epoch, logs=None):
        self._call("on_epoch_end", epoch, pythonify_logs(logs))

    def on_train_batch_begin(self, batch, logs=None):
        self._call_batch("on_train_batch_begin", batch, logs)

    def on_train_batch_end(self, batch, logs=None):
        self._call_batch("on_train_batch_end", batch, logs)

    def on_test_batch_begin(self, batch, logs=None):
        self._call_batch("on_test_batch_begin", batch, logs)

    def on_test_batch_end(self, batch, logs=None):
        self._call_batch("on_test_batch_end", batch, logs)

    def on_predict_batch_begin(self, batch, logs=None):
        self._call_batch("on_predict_batch_begin", batch, logs)

    def on_predict_batch_end(self, batch, logs=None):
        self._call_batch("on_predict_batch_end", batch, logs)

    def on_train_begin(self, logs=None):
        self._call("on_train_begin", pythonify_logs(logs))

    def on_train_end(self, logs=None):
        self._call("on_train_end", pythonify_logs(logs))

    def on_test_begin(self, logs=None):
        self._call("on_test_begin", pythonify_logs(logs))

    def on_test_end(self, logs=None):
        self._call("on_test_end", pythonify_logs(logs))

    def on_predict_begin(self, logs=None):
        self._call("on_predict_begin", pythonify_logs(logs))

    def on_predict_end(self, logs=None):
        self._call("on_predict_end", pythonify_logs(logs))
