"""What the IMDB and Reuters loaders share: index shifting, length filtering, vocabulary cut."""

from __future__ import annotations

from collections.abc import Iterable, Sequence


def shift_indices(xs: Iterable, start_char: int | None, index_from: int) -> list[list[int]]:
    """Prepends ``start_char`` and adds ``index_from`` to each word index (lists of Python ints)."""
    if start_char is not None:
        return [[start_char] + [w + index_from for w in x] for x in xs]
    if index_from:
        return [[w + index_from for w in x] for x in xs]
    return [list(x) for x in xs]


def remove_long_seq(maxlen: int, seqs: Sequence, labels: Sequence) -> tuple[list, list]:
    """Keeps the sequences shorter than ``maxlen`` and their labels."""
    kept = [(x, y) for x, y in zip(seqs, labels, strict=True) if len(x) < maxlen]
    return [x for x, _ in kept], [y for _, y in kept]


def filter_and_encode(xs: list, num_words: int | None, skip_top: int, oov_char: int | None) -> list:
    """Words outside ``[skip_top, num_words)`` become ``oov_char``, or are dropped when it is None."""
    if not num_words:
        num_words = max(max(x) for x in xs)
    if oov_char is not None:
        return [[w if skip_top <= w < num_words else oov_char for w in x] for x in xs]
    return [[w for w in x if skip_top <= w < num_words] for x in xs]
