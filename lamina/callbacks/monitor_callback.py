"""``MonitorCallback``: the shared "is this value an improvement?" logic of EarlyStopping and friends."""

from __future__ import annotations

import operator
import warnings
from typing import Any

from lamina.callbacks.callback import Callback

_UP_WORDS = (
    "acc",
    "auc",
    "precision",
    "recall",
    "f1",
    "fbeta",
    "iou",
    "r2",
    "score",
    "true_positives",
    "true_negatives",
    "sensitivity",
    "specificity",
)


def _metric_direction(model: Any, name: str) -> str | None:
    for m in getattr(model, "metrics", []) or []:
        subs = getattr(m, "metrics", None)
        for sub in subs if isinstance(subs, list) else [m]:
            if getattr(sub, "name", None) == name:
                direction = getattr(sub, "_direction", None)
                if direction in ("up", "down"):
                    return direction
    if name == "loss" or name.endswith("_loss") or "error" in name or "crossentropy" in name:
        return "down"
    if any(w in name for w in _UP_WORDS):
        return "up"
    return None


class MonitorCallback(Callback):
    """Base for callbacks that watch ``monitor`` in ``mode`` ``"min"``, ``"max"`` or ``"auto"``."""

    def __init__(
        self, monitor: str = "val_loss", mode: str = "auto", baseline: float | None = None, min_delta: float = 0
    ) -> None:
        super().__init__()
        if mode not in ("auto", "min", "max"):
            warnings.warn(f"{type(self).__name__} mode '{mode}' is unknown, fallback to auto mode.", stacklevel=2)
            mode = "auto"
        self.monitor = monitor
        self.mode = mode
        self.best = baseline
        self.min_delta = abs(min_delta)
        self.monitor_op = None

    def _set_monitor_op(self) -> None:
        if self.mode == "min":
            self.monitor_op = operator.lt
        elif self.mode == "max":
            self.monitor_op = operator.gt
        else:
            direction = _metric_direction(self.model, self.monitor.removeprefix("val_"))
            if direction is None:
                raise ValueError(
                    f"{type(self).__name__} callback received monitor={self.monitor}, but Lamina isn't able to "
                    "automatically determine whether that metric should be maximized or minimized. Pass "
                    "`mode='max'` in order to monitor based on the highest metric value, or pass `mode='min'` "
                    "in order to use the lowest value."
                )
            self.monitor_op = operator.gt if direction == "up" else operator.lt
        if self.monitor_op is operator.lt:
            self.min_delta *= -1

    def _is_improvement(self, value: float, reference: float | None) -> bool:
        if reference is None:
            return True
        return bool(self.monitor_op(value - self.min_delta, reference))

    def get_monitor_value(self, logs: Any) -> float | None:
        logs = logs or {}
        value = logs.get(self.monitor)
        if value is None:
            warnings.warn(
                f"{type(self).__name__} is conditioned on metric `{self.monitor}` which is not available. "
                f"Available metrics are: {','.join(list(logs.keys()))}",
                stacklevel=2,
            )
            return None
        return float(value)
