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
        for k, v in logs.items():  # already Python floats (or arrays) from the CallbackList, as in Keras
            self.history.setdefault(k, []).append(v)
        if self.model is not None:
            self.model.history = self

    def plot(self, path: str = "history.png", metrics: list[str] | None = None) -> str:
        """Draws the loss and metric curves to a PNG (needs matplotlib); returns the path."""
        return plot_history(self, path=path, metrics=metrics)

    def __repr__(self) -> str:
        return f"<History epochs={len(self.epoch)} keys={list(self.history)}>"

    def __getstate__(self) -> dict[str, Any]:
        return {"history": self.history, "epoch": self.epoch}


def plot_history(history: Any, path: str = "history.png", metrics: list[str] | None = None) -> str:
    """Draws loss and metric curves per epoch (training and ``val_``) to a PNG; returns ``path``.

    Needs matplotlib (``pip install "lamina[plot]"``).

    Args:
        history: a ``History`` (what ``fit`` returns) or its ``.history`` dict.
        path: output file (PNG, or any format matplotlib writes from the extension).
        metrics: which metrics to draw (default: all that have values, without ``val_`` prefixes).
    """
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as e:
        raise ImportError(
            'plot_history needs matplotlib: `pip install "lamina[plot]"` (or `pip install matplotlib`).'
        ) from e
    data = getattr(history, "history", history)
    if not data:
        raise ValueError("The history is empty: train with `fit` first.")
    names = metrics or [k for k in data if not k.startswith("val_") and k != "learning_rate"]
    unknown = [m for m in names if m not in data]
    if unknown:
        raise ValueError(f"No such metric in the history: {unknown}. Available: {sorted(data)}")
    fig, axes = plt.subplots(1, len(names), figsize=(4.5 * len(names), 3.5), squeeze=False)
    for ax, name in zip(axes[0], names):
        epochs = range(1, len(data[name]) + 1)
        ax.plot(epochs, data[name], marker="o", label=name)
        if f"val_{name}" in data:
            ax.plot(range(1, len(data[f"val_{name}"]) + 1), data[f"val_{name}"], marker="o", label=f"val_{name}")
        ax.set_xlabel("epoch")
        ax.set_title(name)
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
