"""pad_sequences: same inputs as Keras, equal outputs; bad input named."""

import keras
import numpy as np
import pytest

from lamina.utils import pad_sequences

SEQS = [[1], [2, 3], [4, 5, 6], []]


@pytest.mark.parametrize(
    "sequences, kwargs",
    [
        (SEQS, {}),
        (SEQS, {"value": -1}),
        (SEQS, {"padding": "post"}),
        (SEQS, {"maxlen": 2}),
        (SEQS, {"maxlen": 2, "truncating": "post"}),
        (SEQS, {"maxlen": 2, "truncating": "post", "padding": "post"}),
        (SEQS, {"maxlen": 5, "dtype": "float32", "value": 0.5}),
        (SEQS, {"dtype": "int64", "maxlen": np.int64(3)}),
        ([np.array([1, 2]), np.array([3])], {}),
        ([[[1, 2], [3, 4]], [[5, 6]]], {}),  # sequences of vectors
        ([[[1, 2], [3, 4]], [[5, 6]]], {"maxlen": 1, "padding": "post"}),
        ([["a", "b"], ["c"]], {"dtype": object, "value": "<pad>"}),
        ([["a", "b"], ["c"]], {"dtype": "<U5", "value": "_"}),
        ([[1.5, 2.5], [3.5]], {"dtype": "float64"}),
        ((np.arange(3), np.arange(5)), {}),
        ([[], []], {"maxlen": 3}),
    ],
)
def test_pad_sequences_equals_keras(sequences, kwargs):
    ours = pad_sequences(sequences, **kwargs)
    theirs = keras.utils.pad_sequences(sequences, **kwargs)
    assert ours.dtype == theirs.dtype
    assert ours.shape == theirs.shape
    np.testing.assert_array_equal(ours, theirs)


def test_preprocessing_alias():
    import lamina

    assert lamina.preprocessing.sequence.pad_sequences is pad_sequences


@pytest.mark.parametrize(
    "sequences, kwargs, match",
    [
        (SEQS, {"padding": "middle"}, r'Padding type "middle" not understood.*Received: padding=\'middle\''),
        (SEQS, {"truncating": "both"}, r'Truncating type "both" not understood.*Received: truncating=\'both\''),
        ([[1], 2], {}, "Found non-iterable: 2"),
        ([[[1, 2]], [[1, 2, 3]]], {}, r"Shape of sample \(3,\) of sequence at position 1"),
        ([["a"]], {"value": "x"}, "not compatible with `value`'s type"),
        (5, {}, "`sequences` must be iterable"),
    ],
)
def test_bad_input_errors_like_keras(sequences, kwargs, match):
    with pytest.raises(ValueError):
        keras.utils.pad_sequences(sequences, **kwargs)
    with pytest.raises(ValueError, match=match):
        pad_sequences(sequences, **kwargs)


def test_padding_checked_even_when_nothing_is_padded():
    # Keras only looks at `padding` when a sequence is non-empty; Lamina checks it up front
    with pytest.raises(ValueError, match=r"Received: padding='middle'"):
        pad_sequences([[], []], padding="middle")


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"maxlen": -1}, ValueError, r"Received: maxlen=-1"),
        ({"maxlen": 2.5}, TypeError, r"Received: maxlen=2\.5"),
    ],
)
def test_bad_maxlen(kwargs, error, match):
    with pytest.raises(error, match=match):
        pad_sequences(SEQS, **kwargs)


def test_empty_list_needs_maxlen():
    with pytest.raises(ValueError, match="cannot infer `maxlen`"):
        pad_sequences([])
    assert pad_sequences([], maxlen=3).shape == (0, 3)
    assert keras.utils.pad_sequences([], maxlen=3).shape == (0, 3)
