"""Keras's live progress bar: ``32/32 ━━━━━━━━━━━━━━━━━━━━ 1s 3ms/step - accuracy: 0.9100 - loss: 0.2900``.

Drawing is throttled (``interval`` seconds), and values are only read when a line is drawn,
so a bar costs no host sync on the steps it does not draw.
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable
from typing import TextIO


def format_value(value: float) -> str:
    return f"{value:.4f}" if abs(value) > 1e-3 else f"{value:.4e}"


def format_time(seconds_per_unit: float, unit: str) -> str:
    if seconds_per_unit >= 1 or seconds_per_unit == 0:
        return f" {seconds_per_unit:.0f}s/{unit}"
    if seconds_per_unit >= 1e-3:
        return f" {seconds_per_unit * 1e3:.0f}ms/{unit}"
    return f" {seconds_per_unit * 1e6:.0f}us/{unit}"


class Progbar:
    """A progress bar for ``target`` steps.

    Args:
        target: number of steps, or None if unknown.
        width: bar width in characters.
        verbose: 1 draws the live bar (redrawn in place), 2 prints one line when finished.
        interval: minimum seconds between redraws.
        unit_name: ``"step"`` or ``"sample"``.
        stream: where to write (stdout by default).

    Example:
        >>> import io
        >>> out = io.StringIO()
        >>> bar = Progbar(2, verbose=2, stream=out)
        >>> bar.update(2, {"loss": 0.5})
        >>> out.getvalue().startswith("2/2 - ")
        True
    """

    def __init__(
        self,
        target: int | None,
        width: int = 20,
        verbose: int = 1,
        interval: float = 0.05,
        unit_name: str = "step",
        stream: TextIO | None = None,
    ) -> None:
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

    def _out(self) -> TextIO:
        return self.stream if self.stream is not None else sys.stdout

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
        values: dict[str, float] | Callable[[], dict[str, float]] | None = None,
        finalize: bool | None = None,
    ) -> None:
        """Moves the bar to ``current``; ``values`` may be a callable evaluated only if a line is drawn."""
        now = time.time()
        if current >= 1 and self._time_after_first_step is None and self._seen == 0:
            self._time_after_first_step = now
        self._seen = current
        if finalize is None:
            finalize = self.target is not None and current >= self.target
        if self.verbose == 1 and not finalize and now - self._last_update < self.interval:
            return
        if self.verbose == 2 and not finalize:
            return
        if callable(values):
            values = values()
        values = values or {}
        per_step = self._step_time(current, now)
        metrics = "".join(f" - {k}: {format_value(float(v))}" for k, v in values.items())
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
            self._out().write(line)
            self._out().flush()
            self._prev_width = width
        else:
            digits = int(math.log10(self.target)) + 1 if self.target else 1
            count = f"{current:{digits}d}/{self.target}" if self.target else f"{current}"
            self._out().write(f"{count} - {now - self._start:.0f}s -{format_time(per_step, self.unit_name)}{metrics}\n")
            self._out().flush()
        self._last_update = now
