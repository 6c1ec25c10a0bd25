"""``keras.datasets.imdb``: 25,000 + 25,000 movie reviews as word-index sequences, labelled by sentiment."""

from __future__ import annotations

import json
import warnings
from typing import Any

import numpy as np

from lamina.datasets.safe_load import load_npz
from lamina.datasets.sequences import filter_and_encode, remove_long_seq, shift_indices
from lamina.utils.file_utils import get_file

ORIGIN_FOLDER = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
FILE_HASH = "69664113be75683a8fe16e3ed0ab59fda8886cb3cd7ada244f7d9544e4676b9f"
WORD_INDEX_HASH = "bfafd718b763782e994055a2d397834f"


def load_data(
    path: str = "imdb.npz",
    num_words: int | None = None,
    skip_top: int = 0,
    maxlen: int | None = None,
    seed: int = 113,
    start_char: int | None = 1,
    oov_char: int | None = 2,
    index_from: int = 3,
    **kwargs: Any,
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Loads the IMDB review dataset (cached as ``~/.keras/datasets/imdb.npz``).

    Words are indexed by frequency (3 is the most frequent word, after ``index_from``);
    sequences start with ``start_char``; words outside ``[skip_top, num_words)`` become
    ``oov_char`` (or are dropped if it is None).

    Args:
        path: the file name in the cache.
        num_words: keep the ``num_words`` most frequent words (None: all).
        skip_top: also treat the ``skip_top`` most frequent words as out of vocabulary.
        maxlen: drop sequences of ``maxlen`` words or more.
        seed: the shuffling seed.
        start_char: the index that starts every sequence (None: none).
        oov_char: the index of out-of-vocabulary words (None: drop them).
        index_from: added to every word index.
        **kwargs: ignored with a warning (Keras accepts legacy arguments here).

    Returns:
        ``(x_train, y_train), (x_test, y_test)``: object arrays of lists of ints, int labels (0/1).
    """
    if kwargs:
        warnings.warn(f"imdb.load_data ignores the arguments {sorted(kwargs)}.", stacklevel=2)
    path = get_file(fname=path, origin=f"{ORIGIN_FOLDER}imdb.npz", file_hash=FILE_HASH)
    arrays = load_npz(path)
    # one generator shuffles train then test, as Keras
    rng = np.random.RandomState(seed)
    train_order = np.arange(len(arrays["x_train"]))
    rng.shuffle(train_order)
    test_order = np.arange(len(arrays["x_test"]))
    rng.shuffle(test_order)
    x_train, labels_train = arrays["x_train"][train_order], arrays["y_train"][train_order]
    x_test, labels_test = arrays["x_test"][test_order], arrays["y_test"][test_order]
    x_train = shift_indices(x_train, start_char, index_from)
    x_test = shift_indices(x_test, start_char, index_from)
    if maxlen:
        x_train, labels_train = remove_long_seq(maxlen, x_train, labels_train)
        x_test, labels_test = remove_long_seq(maxlen, x_test, labels_test)
        if not x_train or not x_test:
            raise ValueError(
                f"After filtering for sequences shorter than maxlen={maxlen}, no sequence was kept. Increase maxlen."
            )
    xs = filter_and_encode(x_train + x_test, num_words, skip_top, oov_char)
    labels = np.concatenate([labels_train, labels_test])
    cut = len(x_train)
    return (np.array(xs[:cut], dtype="object"), labels[:cut]), (np.array(xs[cut:], dtype="object"), labels[cut:])


def get_word_index(path: str = "imdb_word_index.json") -> dict[str, int]:
    """The word -> index dictionary of the IMDB dataset (indices before ``index_from`` is added)."""
    path = get_file(fname=path, origin=f"{ORIGIN_FOLDER}imdb_word_index.json", file_hash=WORD_INDEX_HASH)
    with open(path) as f:
        return json.load(f)
