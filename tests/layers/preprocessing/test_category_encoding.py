"""CategoryEncoding: the harness with live Keras parity (Keras runs it on torch), and bad input."""

import keras
import numpy as np
import pytest
import torch

from lamina import layers
from tests.layers.harness import run_layer_test

IDS = np.array([[0, 1, 3], [2, 2, 0]])


@pytest.mark.parametrize(
    "kwargs,data",
    [
        ({"num_tokens": 4}, IDS),
        ({"num_tokens": 4, "output_mode": "count"}, IDS),
        ({"num_tokens": 5, "output_mode": "one_hot"}, np.array([[1], [4], [0]])),
        ({"num_tokens": 5, "output_mode": "one_hot"}, np.array([[1, 2], [4, 0]])),
        ({"num_tokens": 4, "output_mode": "multi_hot"}, np.array([3, 1, 1])),
        ({"num_tokens": 3, "output_mode": "binary"}, np.array([[0, 2], [1, 1]])),
    ],
)
def test_harness(kwargs, data):
    run_layer_test(layers.CategoryEncoding, kwargs, data.shape, input_dtype="int64", input_data=data)


def test_count_weights_as_keras():
    x = np.array([[0, 1, 1], [3, 3, 2]])
    w = np.array([[0.5, 1.0, 2.0], [1.0, 1.0, 0.25]], "float32")
    ours = layers.CategoryEncoding(num_tokens=4, output_mode="count")(x, count_weights=w)
    theirs = keras.layers.CategoryEncoding(num_tokens=4, output_mode="count")(x, count_weights=w)
    np.testing.assert_allclose(ours.numpy(), theirs.cpu().numpy())


def test_config_is_keras():
    ours = layers.CategoryEncoding(num_tokens=3, output_mode="count", name="enc").get_config()
    theirs = keras.layers.CategoryEncoding(num_tokens=3, output_mode="count", name="enc").get_config()
    assert ours == theirs


def test_bad_input():
    layer = layers.CategoryEncoding(num_tokens=3)
    with pytest.raises(
        ValueError,
        match=r'"category_encoding.*" \(CategoryEncoding\) expects input values in the range \[0, 3\).*from 0 to 5',
    ):
        layer(np.array([[0, 5]]))
    with pytest.raises(
        ValueError, match=r"CategoryEncoding\) expects input values in the range \[0, 3\).*from -1 to 1"
    ):
        layer(torch.tensor([[-1, 1]]))
    with pytest.raises(TypeError, match=r"CategoryEncoding\) expects integer category ids, but received string data"):
        layer(np.array([["a"]]))
    with pytest.raises(ValueError, match=r"`count_weights` is not used when `output_mode` is not `'count'`"):
        layer(np.array([[0]]), count_weights=np.array([[1.0]]))
    with pytest.raises(ValueError, match=r"num_tokens must be set to use this layer"):
        layers.CategoryEncoding()
    with pytest.raises(ValueError, match=r"`num_tokens` must be >= 1. Received: num_tokens=0"):
        layers.CategoryEncoding(num_tokens=0)
    with pytest.raises(ValueError, match=r"Unknown arg for output_mode: bag"):
        layers.CategoryEncoding(num_tokens=2, output_mode="bag")
