"""``LambdaCallback``: a callback from plain functions."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from lamina.callbacks.callback import Callback

_HOOKS = (
    "on_epoch_begin",
    "on_epoch_end",
    "on_train_begin",
    "on_train_end",
    "on_batch_begin",
    "on_batch_end",
    "on_train_batch_begin",
    "on_train_batch_end",
    "on_test_begin",
    "on_test_end",
    "on_test_batch_begin",
    "on_test_batch_end",
    "on_predict_begin",
    "on_predict_end",
    "on_predict_batch_begin",
    "on_predict_batch_end",
)


class LambdaCallback(Callback):
    """Calls the functions given for each hook, e.g. ``LambdaCallback(on_epoch_end=lambda epoch, logs: ...)``.

    Example:
        >>> import lamina
        >>> seen = []
        >>> cb = lamina.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: seen.append(epoch))
        >>> cb.on_epoch_end(0, {})
        >>> seen
        [0]
    """

    def __init__(
        self,
        on_epoch_begin: Callable[..., Any] | None = None,
        on_epoch_end: Callable[..., Any] | None = None,
        on_train_begin: Callable[..., Any] | None = None,
        on_train_end: Callable[..., Any] | None = None,
        on_train_batch_begin: Callable[..., Any] | None = None,
        on_train_batch_end: Callable[..., Any] | None = None,
        **kwargs: Callable[..., Any] | None,
    ) -> None:
        super().__init__()
        kwargs = {
            "on_epoch_begin": on_epoch_begin,
            "on_epoch_end": on_epoch_end,
            "on_train_begin": on_train_begin,
            "on_train_end": on_train_end,
            "on_train_batch_begin": on_train_batch_begin,
            "on_train_batch_end": on_train_batch_end,
            **kwargs,
        }
        unknown = set(kwargs) - set(_HOOKS)
        if unknown:
            raise ValueError(f"LambdaCallback got unknown hooks {sorted(unknown)}. Valid hooks: {', '.join(_HOOKS)}")
        for hook, fn in kwargs.items():
            if fn is not None and not callable(fn):
                raise TypeError(f"LambdaCallback's `{hook}` must be a function. Received: {hook}={fn!r}")
        self._given = {k: v for k, v in kwargs.items() if v is not None}
        for hook, fn in self._given.items():
            setattr(self, hook, fn)
        if "on_batch_begin" in self._given and "on_train_batch_begin" not in self._given:
            self.on_train_batch_begin = self._given["on_batch_begin"]
            self._given["on_train_batch_begin"] = self.on_train_batch_begin
        if "on_batch_end" in self._given and "on_train_batch_end" not in self._given:
            self.on_train_batch_end = self._given["on_batch_end"]
            self._given["on_train_batch_end"] = self.on_train_batch_end

    def _implements(self, hook: str) -> bool:
        return hook in self._given
