"""Checks of the scalar arguments of ``fit``/``evaluate``/``predict``, before any data is touched.

A bad ``batch_size``, ``steps`` or ``class_weight`` otherwise surfaces deep inside the data adapter as a
``ZeroDivisionError``, a slicing ``TypeError`` or, worst, a loop that silently runs no batch. Each check
names the argument, the value received and what is accepted (Keras's ``Received: name=value`` style).
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping
from typing import Any

import numpy as np
import torch


def _is_int(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def check_count(name: str, value: Any, minimum: int = 1, allow_none: bool = True) -> int | None:
    """``value`` as an ``int`` of at least ``minimum`` (``None`` passes when allowed).

    Raises:
        TypeError: for a non-integer (a float, a string, a bool).
        ValueError: for an integer below ``minimum``.
    """
    if value is None and allow_none:
        return None
    what = "a positive integer" if minimum == 1 else f"an integer >= {minimum}"
    if allow_none:
        what += " or None"
    if not _is_int(value):
        raise TypeError(f"`{name}` must be {what}. Received: {name}={value!r} (of type {type(value).__name__})")
    if value < minimum:
        raise ValueError(f"`{name}` must be {what}. Received: {name}={value!r}")
    return int(value)


def check_validation_split(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(
            "`validation_split` must be a float in [0, 1). "
            f"Received: validation_split={value!r} (of type {type(value).__name__})"
        )
    if not 0.0 <= float(value) < 1.0:
        raise ValueError(f"`validation_split` must be a float in [0, 1). Received: validation_split={value!r}")
    return float(value)


def check_validation_freq(value: Any) -> None:
    if isinstance(value, (list, tuple)):
        bad = [v for v in value if not _is_int(v) or v < 1]
        if bad:
            raise ValueError(
                "`validation_freq` as a list must hold positive epoch numbers. "
                f"Received: validation_freq={list(value)!r}"
            )
        return
    check_count("validation_freq", value, allow_none=False)


def check_validation_data(value: Any, needs_targets: bool = True) -> None:
    """``validation_data`` is ``(x, y)``, ``(x, y, sample_weight)`` or a dataset/generator/PyDataset; a model
    trained without a compiled loss (``add_loss`` only) may also take bare inputs."""
    accepted = (
        "Pass a tuple `(x_val, y_val)` or `(x_val, y_val, val_sample_weight)`, or a dataset, generator or "
        "PyDataset yielding such tuples"
    )
    if value is None:
        return
    if isinstance(value, (list, tuple)):
        if len(value) not in (2, 3):
            raise ValueError(
                f"`validation_data` must hold 2 or 3 items (x, y[, sample_weight]), but received a "
                f"{type(value).__name__} of {len(value)} item(s). {accepted}."
            )
        return
    bare_inputs = isinstance(value, (Mapping, np.ndarray, torch.Tensor))
    if isinstance(value, (str, bytes, numbers.Number)) or value is Ellipsis or (bare_inputs and needs_targets):
        shown = (
            repr(value)
            if not isinstance(value, (np.ndarray, torch.Tensor))
            else f"an array of shape {tuple(value.shape)}"
        )
        raise TypeError(f"`validation_data` has no targets. Received: validation_data={shown[:200]}. {accepted}.")


def check_class_weight(value: Any) -> None:
    """``class_weight`` maps integer class indices to numbers."""
    if value is None:
        return
    if not isinstance(value, Mapping):
        raise TypeError(
            "`class_weight` must be a dict mapping class indices (integers) to weights. "
            f"Received: class_weight={value!r} (of type {type(value).__name__})"
        )
    for k, v in value.items():
        if not _is_int(k) or k < 0:
            raise ValueError(
                "`class_weight` keys must be class indices (non-negative integers). "
                f"Received: class_weight={value!r} with key {k!r}"
            )
        if isinstance(v, bool) or not isinstance(v, numbers.Real):
            raise TypeError(f"`class_weight` values must be numbers. Received: class_weight={value!r}")


def check_sample_weight(value: Any) -> None:
    """``sample_weight`` is numeric data (an array, a tensor, a list, or a structure of them per output)."""
    if value is None:
        return
    if isinstance(value, (str, bytes)) or (isinstance(value, np.ndarray) and value.dtype.kind in "USO"):
        raise TypeError(
            "`sample_weight` must be numeric: an array of one weight per sample (or per output). "
            f"Received: sample_weight={value!r}"[:300]
        )


def check_data(name: str, value: Any, single_input: bool = True) -> None:
    """``x``/``y`` are arrays, tensors or structures of them: a path string or a ragged nested list is named
    here instead of failing later as "empty" or "a scalar"."""
    if isinstance(value, (str, bytes)):
        raise TypeError(
            f"`{name}` must be arrays or tensors (or a dataset, generator or PyDataset), not a string. "
            f"Received: {name}={value!r}"[:300]
            + ". To train on a file, read it first (e.g. pandas.read_csv)."
        )
    rows = value if single_input and isinstance(value, (list, tuple)) and value else None
    if rows is not None and all(isinstance(r, (list, tuple)) for r in rows):
        if all(isinstance(v, numbers.Number) for r in rows for v in r) and len({len(r) for r in rows}) > 1:
            lengths = sorted({len(r) for r in rows})
            raise ValueError(
                f"`{name}` is a ragged nested list (rows of lengths {lengths[:10]}); tensors need rows of one "
                "length. Pad them (keras.utils.pad_sequences) or pass a NumPy array. "
                f"Received: {name}={value!r}"[:400]
            )


def check_fit_arguments(
    batch_size: Any,
    epochs: Any,
    initial_epoch: Any,
    steps_per_epoch: Any,
    validation_steps: Any,
    validation_batch_size: Any,
    validation_freq: Any,
    validation_split: Any,
    validation_data: Any,
    class_weight: Any,
    sample_weight: Any,
    needs_targets: bool = True,
) -> None:
    """Every scalar argument of ``fit``, checked before any data is read."""
    check_count("batch_size", batch_size)
    check_count("epochs", epochs, minimum=0, allow_none=False)
    check_count("initial_epoch", initial_epoch, minimum=0, allow_none=False)
    check_count("steps_per_epoch", steps_per_epoch)
    check_count("validation_steps", validation_steps)
    check_count("validation_batch_size", validation_batch_size)
    check_validation_freq(validation_freq)
    check_validation_split(validation_split)
    check_validation_data(validation_data, needs_targets)
    check_class_weight(class_weight)
    check_sample_weight(sample_weight)
