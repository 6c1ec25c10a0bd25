"""``Callback``: hooks into ``fit``/``evaluate``/``predict`` with every Keras hook name."""

from __future__ import annotations

from typing import Any

_BATCH_HOOKS = (
    "on_train_batch_begin",
    "on_train_batch_end",
    "on_test_batch_begin",
    "on_test_batch_end",
    "on_predict_batch_begin",
    "on_predict_batch_end",
    "on_batch_begin",
    "on_batch_end",
)


class Callback:
    """Base class for callbacks: override the hooks you need.

    ``self.model`` is the model being trained and ``self.params`` holds ``epochs``,
    ``steps`` and ``verbose``. Every hook receives ``logs`` as a dict, as in Keras: ``{}`` at the
    beginnings, the loss and metrics as Python floats (keys sorted) at batch and epoch ends, and
    ``{"outputs": ...}`` (NumPy) at the end of a predict batch.

    Example:
        >>> import lamina
        >>> class CountEpochs(lamina.callbacks.Callback):
        ...     def __init__(self):
        ...         super().__init__()
        ...         self.epochs = 0
        ...     def on_epoch_end(self, epoch, logs=None):
        ...         self.epochs += 1
        >>> CountEpochs().epochs
        0
    """

    # The progress bar reads batch logs only when it draws a line; every other callback gets a dict.
    _reads_lazy_logs = False

    def __init__(self) -> None:
        self.params: dict[str, Any] = {}
        self._model = None

    def set_params(self, params: dict[str, Any]) -> None:
        self.params = params

    def set_model(self, model: Any) -> None:
        self._model = model

    @property
    def model(self) -> Any:
        return self._model

    def on_batch_begin(self, batch: int, logs: dict | None = None) -> None: ...
    def on_batch_end(self, batch: int, logs: dict | None = None) -> None: ...
    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None: ...
    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None: ...

    def on_train_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        self.on_batch_begin(batch, logs=logs)

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        self.on_batch_end(batch, logs=logs)

    def on_test_batch_begin(self, batch: int, logs: dict | None = None) -> None: ...
    def on_test_batch_end(self, batch: int, logs: dict | None = None) -> None: ...
    def on_predict_batch_begin(self, batch: int, logs: dict | None = None) -> None: ...
    def on_predict_batch_end(self, batch: int, logs: dict | None = None) -> None: ...
    def on_train_begin(self, logs: dict | None = None) -> None: ...
    def on_train_end(self, logs: dict | None = None) -> None: ...
    def on_test_begin(self, logs: dict | None = None) -> None: ...
    def on_test_end(self, logs: dict | None = None) -> None: ...
    def on_predict_begin(self, logs: dict | None = None) -> None: ...
    def on_predict_end(self, logs: dict | None = None) -> None: ...

    def _implements(self, hook: str) -> bool:
        """Whether ``hook`` does something (is overridden) on this callback."""
        own = getattr(type(self), hook)
        if own is not getattr(Callback, hook):
            return True
        if hook == "on_train_batch_begin":
            return type(self).on_batch_begin is not Callback.on_batch_begin
        if hook == "on_train_batch_end":
            return type(self).on_batch_end is not Callback.on_batch_end
        return False
