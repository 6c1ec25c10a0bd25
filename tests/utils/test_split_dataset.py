"""split_dataset: the split Keras makes on the torch backend, and its checks."""

import keras
import numpy as np
import pytest
import torch

from lamina.utils import split_dataset

X = np.arange(40, dtype="float32").reshape(20, 2)
Y = np.arange(20)


def _samples(subset):
    return [tuple(np.asarray(t).tolist() for t in subset[i]) for i in range(len(subset))]


@pytest.mark.parametrize(
    "dataset, kwargs",
    [
        (X, {"left_size": 0.8, "shuffle": True, "seed": 1}),
        ((X, Y), {"left_size": 5, "shuffle": True, "seed": 7}),
        ([X, Y], {"right_size": 0.25, "shuffle": True, "seed": 3}),
        ((X, Y), {"left_size": 0.5, "right_size": 0.5, "shuffle": True, "seed": 11}),
        (torch.utils.data.TensorDataset(torch.arange(10)), {"left_size": 3, "shuffle": True, "seed": 0}),
    ],
)
def test_seeded_split_equals_keras(dataset, kwargs):
    left, right = split_dataset(dataset, **kwargs)
    k_left, k_right = keras.utils.split_dataset(dataset, **kwargs)
    assert type(left) is type(k_left)
    assert _samples(left) == _samples(k_left) and _samples(right) == _samples(k_right)


def test_unshuffled_split_is_contiguous_and_partial_totals_drop_the_middle():
    left, right = split_dataset((X, Y), left_size=0.75)
    assert [int(s[1]) for s in left] == list(range(15)) and [int(s[1]) for s in right] == list(range(15, 20))
    left, right = split_dataset(X, left_size=4, right_size=3)
    assert len(left) == 4 and len(right) == 3 and float(right[0][0][0]) == X[17, 0]
    left, right = split_dataset(X, left_size=4, right_size=3, shuffle=True, seed=2)
    assert not {float(s[0][0]) for s in left} & {float(s[0][0]) for s in right}


@pytest.mark.parametrize(
    "kwargs, error",
    [
        ({}, ValueError),
        ({"left_size": 0, "right_size": 0}, ValueError),
        ({"left_size": 25}, ValueError),
        ({"left_size": 1.5}, ValueError),
        ({"left_size": 0.6, "right_size": 0.6}, ValueError),
        ({"left_size": "half"}, TypeError),
        ({"left_size": 15, "right_size": 10}, ValueError),
        ({"left_size": 0.01}, ValueError),
    ],
)
def test_bad_sizes_error_as_keras(kwargs, error):
    with pytest.raises(error) as keras_error:
        keras.utils.split_dataset(X, **kwargs)
    first_words = str(keras_error.value)[:25]
    with pytest.raises(error, match=first_words.replace("(", r"\(").replace("[", r"\[")):
        split_dataset(X, **kwargs)


def test_bad_datasets():
    with pytest.raises(TypeError, match=r"Received: dataset=5 of type <class 'int'>"):
        split_dataset(5, left_size=0.5)
    with pytest.raises(ValueError, match="different lengths"):
        split_dataset((X, Y[:5]), left_size=0.5)
    with pytest.raises(ValueError, match=r"Received: <class 'list'> at index 1"):
        split_dataset((X, [1, 2]), left_size=0.5)
    with pytest.raises(ValueError, match=r"Received: preferred_backend='tensorflow'"):
        split_dataset(X, left_size=0.5, preferred_backend="tensorflow")
    from lamina.utils import timeseries_dataset_from_array

    with pytest.raises(TypeError, match="use `validation_split` with `subset`"):
        split_dataset(timeseries_dataset_from_array(np.zeros(10), None, 2), left_size=0.5)
