"""What a step returns and how the loop reads it: logs read lazily from the metrics, converted as Keras does."""

from __future__ import annotations

from typing import Any

from lamina.callbacks.logs import LazyLogs
from lamina.tree import flatten


class _LazyLogs(LazyLogs):
    """The built-in steps' logs: the model's metric results, computed only if someone reads them
    (so unread batches cost no metric math and no host sync)."""

    __slots__ = ()

    def __init__(self, model: Any) -> None:
        super().__init__(model.get_metrics_result)


def _batch_size(x: Any) -> int:
    for t in flatten(x):
        if hasattr(t, "shape") and len(t.shape):
            return int(t.shape[0])
    return 1
