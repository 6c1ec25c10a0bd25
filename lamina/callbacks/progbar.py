"""Keras's live progress bar: ``32/32 ━━━━━━━━━━━━━━━━━━━━ 1s 3ms/step - accuracy: 0.9100 - loss: 0.2900``.

Drawing is throttled (``interval`` seconds), and values are only read when a line is drawn,
so a bar costs no host sync on the steps it does not draw.
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable, Iterable
from typing import TextIO

from lamina.backend.io_utils import print_msg
from lamina.callbacks.logs import display_value


def in_notebook() -> bool:
    """Whether output goes to a Jupyter/IPython kernel (a notebook, Colab, VS Code), which redraws ``\\r`` lines."""
    return "ipykernel" in sys.modules and type(sys.stdout).__module__.startswith("ipykernel")


def interactive_output() -> bool:
    """Whether a live progress bar can redraw in place: a terminal or a notebook (``verbose="auto"`` -> 1)."""
    return bool(getattr(sys.stdout, "isatty", lambda: False)()) or in_notebook()


def format_value(value: float) -> str:
    return f"{value:.4f}" if abs(value) > 1e-3 else f"{value:.4e}"


def _shown(value: object) -> str:
    value = display_value(value)
    return format_value(value) if isinstance(value, float) else value


def format_time(seconds_per_unit: float, unit: str) -> str:
    if seconds_per_unit >= 1 or seconds_per_unit == 0:
        return f" {seconds_per_unit:.0f}s/{unit}"
    if seconds_per_unit >= 1e-3:
        return f" {seconds_per_unit * 1e3:.0f}ms/{unit}"
    return f" {seconds_per_unit * 1e6:.0f}us/{unit}"


class Progbar:
    """A progress bar for ``target`` steps (``keras.utils.Progbar``).

    Values passed to ``update`` as a list of ``(name, value)`` pairs are averaged over the
    steps, as in Keras, except the names in ``stateful_metrics`` (shown as given); with
    ``stateless_metrics`` instead, only those are averaged. Values passed as a dict (or a
    callable returning one, read only when a line is drawn) are shown as given.

    Args:
        target: number of steps, or None if unknown.
        width: bar width in characters.
        verbose: 0 silent, 1 draws the live bar (redrawn in place), 2 prints one line when finished.
        interval: minimum seconds between redraws.
        stateful_metrics: names shown as given rather than averaged.
        stateless_metrics: names averaged (then every other name is shown as given).
        unit_name: ``"step"`` or ``"sample"``.
        stream: where to write (stdout by default).

    Example:
        >>> import io
        >>> out = io.StringIO()
        >>> bar = Progbar(2, verbose=2, stream=out)
        >>> bar.update(1, [("loss", 1.0)])
        >>> bar.update(2, [("loss", 0.0)], finalize=False)
        >>> bar.update(2, [("loss", 0.5)])
        >>> out.getvalue().startswith("2/2 - ") and "loss: 0.5000" in out.getvalue()
        True
    """

    def __init__(
        self,
        target: int | None,
        width: int = 20,
        verbose: int = 1,
        interval: float = 0.05,
        stateful_metrics: Iterable[str] | None = None,
        stateless_metrics: Iterable[str] | None = None,
        unit_name: str = "step",
        stream: TextIO | None = None,
    ) -> None:
        if stateful_metrics is not None and stateless_metrics is not None:
            raise ValueError(
                "Only one of `stateful_metrics` or `stateless_metrics` can be provided. "
                f"Received: stateful_metrics={stateful_metrics}, stateless_metrics={stateless_metrics}"
            )
        self.stateful_metrics = set(stateful_metrics) if stateful_metrics is not None else None
        self.stateless_metrics = set(stateless_metrics) if stateless_metrics is not None else None
        if self.stateful_metrics is None and self.stateless_metrics is None:
            self.stateful_metrics = set()
        self._values: dict[str, list[float]] = {}  # name -> [weighted sum, weight]
        self._seen_so_far = 0
        self.target = target
        self.width = width
        self.verbose = verbose
        self.interval = interval
        self.unit_name = unit_name
        self.stream = stream
        self._start = time.time()
        self._last_update = 0.0
        self._time_after_first_step: float | None = None
        self._prev_width = 0
        self._seen = 0

    def _write(self, text: str) -> None:
        """To ``stream`` if given, else stdout, or the ``logging`` module when interactive logging is off."""
        if self.stream is not None:
            self.stream.write(text)
            self.stream.flush()
        else:
            print_msg(text, line_break=False)

    def due(self, current: int) -> bool:
        """Whether ``update(current)`` would draw now (callers skip reading values otherwise)."""
        if self.verbose == 2:
            return self.target is not None and current >= self.target
        finalize = self.target is not None and current >= self.target
        return finalize or (time.time() - self._last_update >= self.interval)

    def _step_time(self, current: int, now: float) -> float:
        if current == 0:
            return 0.0
        if self._time_after_first_step is not None and current > 1:
            return (now - self._time_after_first_step) / (current - 1)
        return (now - self._start) / current

    def update(
        self,
        current: int,
        values: Iterable[tuple[str, float]] | dict[str, float] | Callable[[], dict[str, float]] | None = None,
        finalize: bool | None = None,
    ) -> None:
        """Moves the bar to ``current``; ``values`` may be a callable evaluated only if a line is drawn."""
        if finalize is None:
            finalize = self.target is not None and current >= self.target
        if values is not None and not callable(values) and not isinstance(values, dict):
            self._accumulate(current, values, finalize)
        self._seen_so_far = current
        now = time.time()
        if current >= 1 and self._time_after_first_step is None and self._seen == 0:
            self._time_after_first_step = now
        self._seen = current
        if not self.verbose:
            return
        if self.verbose == 1 and not finalize and now - self._last_update < self.interval:
            return
        if self.verbose == 2 and not finalize:
            return
        if callable(values):
            values = values()
        if isinstance(values, dict):
            for k, v in values.items():
                self._values[k] = [v, 1]
        values = {k: total if count <= 1 else total / count for k, (total, count) in self._values.items()}
        per_step = self._step_time(current, now)
        metrics = "".join(f" - {k}: {_shown(v)}" for k, v in values.items())
        if self.verbose == 1:
            if self.target is not None and self.target > 0:
                digits = int(math.log10(self.target)) + 1
                count = f"{current:{digits}d}/{self.target}"
                done = int(self.width * min(current, self.target) / self.target)
                bar = f"{count} {'━' * done}{'━' * (self.width - done)}"
                styled = f"\x1b[1m{count}\x1b[0m \x1b[32m{'━' * done}\x1b[0m\x1b[37m{'━' * (self.width - done)}\x1b[0m"
            else:
                bar = styled = f"{current:7d}/Unknown"
            if self.target is not None and self.target > 0 and not finalize:
                eta = per_step * (self.target - current)
                if eta > 3600:
                    eta_s = f"{int(eta // 3600)}:{int(eta % 3600 // 60):02d}:{int(eta % 60):02d}"
                elif eta > 60:
                    eta_s = f"{int(eta // 60)}:{int(eta % 60):02d}"
                else:
                    eta_s = f"{int(eta)}s"
            else:
                eta_s = f"{now - self._start:.0f}s"
            info = f" {eta_s}" + format_time(per_step, self.unit_name) + metrics
            width = len(bar) + len(info)
            line = "\r" + styled + info
            if self._prev_width > width:
                line += " " * (self._prev_width - width)
            if finalize:
                line += "\n"
            self._write(line)
            self._prev_width = width
        else:
            digits = int(math.log10(self.target)) + 1 if self.target else 1
            count = f"{current:{digits}d}/{self.target}" if self.target else f"{current}"
            self._write(f"{count} - {now - self._start:.0f}s -{format_time(per_step, self.unit_name)}{metrics}\n")
        self._last_update = now

    def _accumulate(self, current: int, values: Iterable[tuple[str, float]], finalize: bool) -> None:
        for k, v in values:
            if self.stateful_metrics is not None:
                averaged = k not in self.stateful_metrics
            else:
                averaged = k in self.stateless_metrics
            if not averaged or finalize:
                self._values[k] = [v, 1]
                continue
            weight = max(current - self._seen_so_far, 1)
            total, count = self._values.get(k, [0.0, 0])
            self._values[k] = [total + v * weight, count + weight]

    def add(self, n: int, values: Iterable[tuple[str, float]] | None = None) -> None:
        """Moves the bar ``n`` steps forward."""
        self.update(self._seen_so_far + n, values)
