"""``History``: records epoch logs; ``fit`` returns it."""

from __future__ import annotations

import os
from typing import Any

from lamina.backend.atomic import atomic_write
from lamina.callbacks.callback import Callback
from lamina.callbacks.progbar import in_notebook


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

    def plot(self, path: str | None = None, metrics: list[str] | None = None) -> Any:
        """Draws the loss and metric curves (needs matplotlib); see :func:`plot_history`.

        In a notebook it shows the figure inline and returns it; elsewhere it writes a PNG (default
        ``history.png``) and returns the path.
        """
        return plot_history(self, path=path, metrics=metrics)

    def __repr__(self) -> str:
        return f"<History epochs={len(self.epoch)} keys={list(self.history)}>"

    def __getstate__(self) -> dict[str, Any]:
        return {"history": self.history, "epoch": self.epoch}


def plot_history(history: Any, path: str | None = None, metrics: list[str] | None = None) -> Any:
    """Draws loss and metric curves per epoch (training and ``val_``), one panel per metric.

    In a Jupyter/IPython notebook the figure is shown inline (once, as ``image/png``) and returned, and
    written to ``path`` too if one is given. Elsewhere it is written to ``path`` (default
    ``history.png``) and the path is returned. matplotlib's backend and pyplot's figures are left
    alone either way: the figure is drawn with matplotlib's object API, never through pyplot.

    Needs matplotlib (``pip install "lamina[plot]"``).

    Args:
        history: a ``History`` (what ``fit`` returns) or its ``.history`` dict.
        path: output file (PNG, or any format matplotlib writes from the extension).
        metrics: which metrics to draw (default: all that have values, without ``val_`` prefixes).

    Returns:
        The ``matplotlib.figure.Figure`` in a notebook, else the path written.

    Raises:
        ValueError: if the history is empty or names a metric it does not have.
    """
    try:
        from matplotlib.figure import Figure
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
    fig = Figure(figsize=(4.5 * len(names), 3.5))
    axes = fig.subplots(1, len(names), squeeze=False)
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
    notebook = in_notebook()
    if path is not None or not notebook:
        path = "history.png" if path is None else os.fspath(path)
        with atomic_write(path) as tmp:
            fig.savefig(tmp, dpi=100, format=os.path.splitext(path)[1][1:].lower() or "png")
    if not notebook:
        return path
    _show_inline_once(fig)
    return fig


def _show_inline_once(fig: Any) -> None:
    """Shows ``fig`` in the notebook exactly once for this cell: as the cell's result if it is the last
    expression, else when the cell ends (as matplotlib's inline backend shows pyplot figures). Displayed
    again later (``fig`` in another cell), it draws again."""
    import io

    from IPython import get_ipython
    from IPython.display import Image, display

    buffer = io.BytesIO()
    fig.savefig(buffer, dpi=100, format="png")
    png = buffer.getvalue()
    shown = [False]

    def show() -> None:
        shown[0] = True
        display(Image(data=png, format="png"))

    def end_of_cell(*_: Any) -> None:
        shell.events.unregister("post_run_cell", end_of_cell)
        if not shown[0]:
            show()

    fig._ipython_display_ = show  # IPython calls this instead of its own Figure formatter
    shell = get_ipython()
    if shell is None:
        show()
    else:
        shell.events.register("post_run_cell", end_of_cell)
