"""``keras.utils.pad_sequences`` (also ``keras.preprocessing.sequence.pad_sequences``)."""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np

_SIDES = ("pre", "post")


def _check_side(name: str, value: Any) -> None:
    if not isinstance(value, str) or value not in _SIDES:
        kind = "Padding" if name == "padding" else "Truncating"
        raise ValueError(
            f'{kind} type "{value}" not understood: `{name}` must be "pre" or "post". Received: {name}={value!r}'
        )


def _lengths_and_sample_shape(sequences: Sequence) -> tuple[list[int], tuple[int, ...]]:
    """Each sequence's length, and the shape of one step taken from the first non-empty sequence."""
    lengths: list[int] = []
    sample_shape: tuple[int, ...] | None = None
    for position, seq in enumerate(sequences):
        try:
            lengths.append(len(seq))
        except TypeError as e:
            raise ValueError(
                f"`sequences` must be a list of iterables. Found non-iterable: {seq!s} at position {position}."
            ) from e
        if sample_shape is None and len(seq):
            sample_shape = np.asarray(seq).shape[1:]
    return lengths, sample_shape or ()


def pad_sequences(
    sequences: Sequence,
    maxlen: int | None = None,
    dtype: Any = "int32",
    padding: str = "pre",
    truncating: str = "pre",
    value: float | str = 0.0,
) -> np.ndarray:
    """Pads (and truncates) a list of sequences to one length, giving a ``(num_samples, maxlen)`` array.

    Shorter sequences are filled with ``value`` at the start (``padding="pre"``) or the end
    (``"post"``); longer ones lose values at the start (``truncating="pre"``) or the end.
    Sequences of vectors give ``(num_samples, maxlen, *step_shape)``.

    Args:
        sequences: a list of sequences (lists or arrays).
        maxlen: the output length; ``None`` takes the longest sequence's length.
        dtype: the output dtype (``object`` or a string dtype to pad strings).
        padding: ``"pre"`` or ``"post"``: where to pad.
        truncating: ``"pre"`` or ``"post"``: where to cut sequences longer than ``maxlen``.
        value: the padding value (a number, or a string with ``dtype=object``).

    Returns:
        A NumPy array of shape ``(len(sequences), maxlen)``.

    Raises:
        ValueError: ``padding``/``truncating`` not ``"pre"``/``"post"``, a negative ``maxlen``,
            a non-iterable sequence, steps of different shapes, or a string ``value`` with a
            numeric ``dtype``.

    Example:
        >>> pad_sequences([[1], [2, 3], [4, 5, 6]])
        array([[0, 0, 1],
               [0, 2, 3],
               [4, 5, 6]], dtype=int32)
        >>> pad_sequences([[1], [2, 3], [4, 5, 6]], maxlen=2, padding="post")
        array([[1, 0],
               [2, 3],
               [5, 6]], dtype=int32)
    """
    if not hasattr(sequences, "__len__"):
        raise ValueError(f"`sequences` must be iterable (a list of sequences). Received: sequences={sequences!r}")
    _check_side("padding", padding)
    _check_side("truncating", truncating)
    if maxlen is not None:
        if isinstance(maxlen, bool) or not isinstance(maxlen, numbers.Integral):
            raise TypeError(f"`maxlen` must be an integer or None. Received: maxlen={maxlen!r}")
        if maxlen < 0:
            raise ValueError(f"`maxlen` must be a non-negative integer or None. Received: maxlen={maxlen}")
    lengths, sample_shape = _lengths_and_sample_shape(sequences)
    if maxlen is None:
        if not lengths:
            raise ValueError("`pad_sequences` cannot infer `maxlen` from an empty `sequences`; pass maxlen.")
        maxlen = max(lengths)
    maxlen = int(maxlen)
    is_str_dtype = np.issubdtype(dtype, np.str_) or np.issubdtype(dtype, np.bytes_)
    if isinstance(value, str) and dtype is not object and not is_str_dtype:
        raise ValueError(
            f"`dtype` {dtype} is not compatible with `value`'s type: {type(value)}\n"
            "You should set `dtype=object` for variable length strings."
        )
    out = np.full((len(sequences), maxlen) + sample_shape, value, dtype=dtype)
    if maxlen == 0:
        return out
    for position, seq in enumerate(sequences):
        if not len(seq):
            continue
        kept = np.asarray(seq[-maxlen:] if truncating == "pre" else seq[:maxlen], dtype=dtype)
        if kept.shape[1:] != sample_shape:
            raise ValueError(
                f"Shape of sample {kept.shape[1:]} of sequence at position {position} is different from "
                f"expected shape {sample_shape}"
            )
        if padding == "post":
            out[position, : len(kept)] = kept
        else:
            out[position, -len(kept) :] = kept
    return out
