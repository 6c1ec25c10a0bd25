"""``CallbackList``: calls every callback's hook; skips batch hooks nobody implements."""

from __future__ import annotations

import contextlib
from typing import Any

from lamina.callbacks.callback import Callback
from lamina.callbacks.history import History
from lamina.callbacks.progbar_logger import ProgbarLogger


def _pythonify(logs: Any) -> Any:
    """Epoch-level logs as Keras passes them: keys sorted, scalar tensors as Python floats.

    Batch logs are left as they come (the trainer's lazy logs already read as sorted floats).
    """
    if not isinstance(logs, dict):
        return logs
    out = {}
    for k, v in sorted(logs.items()):
        if not isinstance(v, (float, str)):
            with contextlib.suppress(TypeError, ValueError, RuntimeError):
                v = float(v)  # a scalar tensor or Variable: host sync, once per logging point
        out[k] = v
    return out


class CallbackList(Callback):
    """A container that fans each hook out to its callbacks, in order.

    Adds ``History`` and ``ProgbarLogger`` as Keras does. ``needs(hook)`` tells the
    training loop whether any callback implements a batch hook, so that the loop can
    skip building per-batch logs (and their host sync) when nobody reads them.
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

        self.callbacks: list[Callback] = list(callbacks or [])
        for cb in self.callbacks:
            if not isinstance(cb, Callback):
                raise TypeError(f"callbacks must be lamina.callbacks.Callback instances. Received: {cb!r}")
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

    def on_epoch_begin(self, epoch, logs=None):
        self._call("on_epoch_begin", epoch, _pythonify(logs))

    def on_epoch_end(self, epoch, logs=None):
        self._call("on_epoch_end", epoch, _pythonify(logs))

    def on_train_batch_begin(self, batch, logs=None):
        self._call("on_train_batch_begin", batch, logs)

    def on_train_batch_end(self, batch, logs=None):
        self._call("on_train_batch_end", batch, logs)

    def on_test_batch_begin(self, batch, logs=None):
        self._call("on_test_batch_begin", batch, logs)

    def on_test_batch_end(self, batch, logs=None):
        self._call("on_test_batch_end", batch, logs)

    def on_predict_batch_begin(self, batch, logs=None):
        self._call("on_predict_batch_begin", batch, logs)

    def on_predict_batch_end(self, batch, logs=None):
        self._call("on_predict_batch_end", batch, logs)

    def on_train_begin(self, logs=None):
        self._call("on_train_begin", _pythonify(logs))

    def on_train_end(self, logs=None):
        self._call("on_train_end", _pythonify(logs))

    def on_test_begin(self, logs=None):
        self._call("on_test_begin", _pythonify(logs))

    def on_test_end(self, logs=None):
        self._call("on_test_end", _pythonify(logs))

    def on_predict_begin(self, logs=None):
        self._call("on_predict_begin", _pythonify(logs))

    def on_predict_end(self, logs=None):
        self._call("on_predict_end", _pythonify(logs))
