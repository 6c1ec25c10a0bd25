"""The ``logs`` dicts callbacks receive: Keras's ``pythonify_logs``, and a lazy view for the progress bar.

Keras hands every hook a plain dict whose keys are sorted, whose nested dicts (a custom ``train_step``
returning ``{m.name: m.result() for m in self.metrics}`` holds the compiled metrics as one dict) are
flattened into it, and whose scalar tensors are Python floats. ``LazyLogs`` defers that conversion
(and its host sync) until someone reads a value, so a throttled progress bar costs nothing on the
batches it does not draw.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import numpy as np
import torch


def _python_value(value: Any) -> Any:
    """A scalar as a Python float; a larger tensor as a NumPy array; anything else as it is (Keras's rule)."""
    if isinstance(value, float):
        return value
    if isinstance(value, torch.Tensor):
        value = value.detach()
        if value.numel() != 1:
            return value.cpu().numpy()  # host sync: only where a hook reads the value
        return float(value)  # host sync
    with contextlib.suppress(TypeError, ValueError, RuntimeError):
        return float(value)  # ints, NumPy scalars, a Variable a custom metric returns
    return value


def check_logs(logs: Any) -> None:
    """Raises a clear ``TypeError`` unless ``logs`` is a mapping (what a train/test step must return)."""
    if not isinstance(logs, Mapping):
        raise TypeError(
            "Logs must be a dict of names to values, as `compute_metrics` returns (a custom `train_step` or "
            f"`test_step` returns one). Received: {type(logs).__name__} {logs!r:.80}"
        )


def pythonify_logs(logs: Mapping[str, Any] | None) -> dict[str, Any]:
    """``logs`` as Keras passes them to callbacks: keys sorted, nested dicts flattened, scalars as floats.

    Args:
        logs: a mapping of names to values (tensors, floats, nested mappings), or None.

    Returns:
        A new dict (``{}`` for None).

    Raises:
        TypeError: if ``logs`` is not a mapping (a step that returns a bare tensor).

    Example:
        >>> import torch
        >>> pythonify_logs({"loss": torch.tensor(0.5), "compile_metrics": {"mae": torch.tensor(0.25)}})
        {'mae': 0.25, 'loss': 0.5}
    """
    result: dict[str, Any] = {}
    if logs is None:
        return result
    if isinstance(logs, LazyLogs):
        return dict(logs.materialize())
    check_logs(logs)
    for key, value in sorted(logs.items()):
        if isinstance(value, Mapping):
            result.update(pythonify_logs(value))
        else:
            result[key] = _python_value(value)
    return result


class LazyLogs(Mapping):
    """Logs read only when someone reads them: ``source()`` is called and pythonified on first access.

    The dict it materializes is the one every reader shares (as Keras shares one dict between callbacks).

    Args:
        source: a callable returning the raw logs (a mapping of tensors, maybe nested).
    """

    __slots__ = ("_source", "_values")

    def __init__(self, source: Callable[[], Mapping[str, Any] | None]) -> None:
        self._source = source
        self._values: dict[str, Any] | None = None

    @classmethod
    def of(cls, logs: Any) -> LazyLogs:
        """``logs`` itself if already lazy, else a lazy view of the given mapping (None reads as ``{}``)."""
        return logs if isinstance(logs, LazyLogs) else cls(lambda: logs)

    def materialize(self) -> dict[str, Any]:
        if self._values is None:
            raw = self._source()
            self._values = {} if raw is None else pythonify_logs(raw)
        return self._values

    def __getitem__(self, key: str) -> Any:
        return self.materialize()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.materialize())

    def __len__(self) -> int:
        return len(self.materialize())

    def __repr__(self) -> str:
        return repr(self.materialize())


def display_value(value: Any) -> float | str:
    """What a progress bar shows for a log value: a number, the mean of an array (as Keras), else its text."""
    if isinstance(value, (int, float, np.number)) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, np.ndarray) and value.dtype.kind in "fiub" and value.size:
        return float(np.mean(value))
    return str(value)
