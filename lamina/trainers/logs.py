"""What a step returns and how the loop reads it: logs read lazily from the metrics, converted to Python floats."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from typing import Any

import torch

from lamina.tree import flatten


class _LazyLogs(Mapping):
    """Batch logs computed only if someone reads them (so unread batches cost no metric math)."""

    __slots__ = ("_model", "_values")

    def __init__(self, model: Any) -> None:
        self._model = model
        self._values: dict[str, Any] | None = None

    def _get(self) -> dict[str, Any]:
        if self._values is None:  # Python floats in sorted order, as Keras hands batch logs to callbacks
            self._values = _to_python(self._model.get_metrics_result())
        return self._values

    def __getitem__(self, key: str) -> Any:
        return self._get()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._get())

    def __len__(self) -> int:
        return len(self._get())

    def __repr__(self) -> str:
        return repr(self._get())


def _to_python(logs: Mapping[str, Any]) -> dict[str, float]:
    out = {}
    for k, v in sorted(logs.items()):  # Keras's pythonify_logs sorts the keys
        if isinstance(v, torch.Tensor):
            v = float(v.detach())  # host sync (one per logging point)
        elif not isinstance(v, (float, str)):  # a Variable a custom metric returns, NumPy values, ints
            with contextlib.suppress(TypeError, ValueError):
                v = float(v)
        out[k] = v
    return out


def _batch_size(x: Any) -> int:
    for t in flatten(x):
        if hasattr(t, "shape") and len(t.shape):
            return int(t.shape[0])
    return 1
