"""``History``: records epoch logs; ``fit`` returns it."""

from __future__ import annotations

from typing import Any

from lamina.callbacks.callback import Callback


class History(Callback):
    """Collects ``history.history[name] -> [value per epoch]`` and ``history.epoch``.

    Example:
        >>> import lamina
        >>> h = lamina.callbacks.History()
        >>> h.on_train_begin(); h.on_epoch_end(0, {"loss": 0.5})
        >>> h.history
        {'loss': [0.5]}
    """

    def __init__(self) -> None:
        super().__init__()
        self.history: dict[str, list[float]] = {}
        self.epoch: list[int] = []

    def on_train_begin(self, logs: dict | None = None) -> None:
        self.epoch = []

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        logs = logs or {}
        self.epoch.append(epoch)
        for k, v in logs.items():
            self.history.setdefault(k, []).append(float(v))
        if self.model is not None:
            self.model.history = self

    def plot(self, path: str = "history.png", metrics: list[str] | None = None) -> str:
        """Draws the loss and metric curves to a PNG (needs matplotlib); returns the path."""
        from lamina.utils.plotting import plot_history

        return plot_history(self, path=path, metrics=metrics)

    def __repr__(self) -> str:
        return f"<History epochs={len(self.epoch)} keys={list(self.history)}>"

    def __getstate__(self) -> dict[str, Any]:
        return {"history": self.history, "epoch": self.epoch}
