"""Hashing and HashedCrossing: the harness, TensorFlow's hash values, and bad input.

Keras needs TensorFlow for both layers: ``test_text_layers_parity.py`` checks them against Keras's
recorded outputs (strings, ints, floats, masks, salts, every output mode, crosses of 2 and 3 features).
"""

import numpy as np
import pytest
import torch

from lamina import layers
from tests.layers.harness import run_layer_test


@pytest.mark.parametrize(
    "kwargs,data",
    [
        ({"num_bins": 7}, np.array([["a"], ["b"], ["école"]])),
        ({"num_bins": 7, "mask_value": ""}, np.array([["a", ""], ["b", "c"]])),
        ({"num_bins": 7, "salt": [3, 4]}, np.array([[1, 2], [3, 4]])),
        ({"num_bins": 5, "output_mode": "one_hot"}, np.array([["a"], ["b"], ["c"]])),
        ({"num_bins": 5, "output_mode": "multi_hot"}, np.array([[1, 2], [3, 3]])),
        ({"num_bins": 5, "output_mode": "count"}, np.array([["x", "x"], ["y", "z"]])),
    ],
)
def test_hashing_harness(kwargs, data):
    # no live Keras parity (Keras needs TensorFlow here); the fixture parity covers the values. In "int" mode
    # the dtype must be an integer one (Keras refuses a float policy), so there is no mixed-precision check.
    dtype = "string" if data.dtype.kind == "U" else "int64"
    mixed = kwargs.get("output_mode", "int") != "int"
    run_layer_test(
        layers.Hashing,
        kwargs,
        data.shape,
        input_dtype=dtype,
        input_data=data,
        keras_parity=False,
        run_mixed_precision_check=mixed,
    )


def test_hashed_crossing_outputs_and_config():
    layer = layers.HashedCrossing(num_bins=5, name="cross")
    assert layer((np.array(["A", "B", "A", "B", "A"]), np.array([101, 101, 101, 102, 102]))).tolist() == [1, 4, 1, 1, 3]
    assert layer.get_config() == {
        "num_bins": 5,
        "output_mode": "int",
        "sparse": False,
        "name": "cross",
        "dtype": "int64",
    }
    one_hot = layers.HashedCrossing(num_bins=5, output_mode="one_hot")(([[1], [2]], [["a"], ["b"]]))
    assert tuple(one_hot.shape) == (2, 5) and one_hot.dtype == torch.float32 and one_hot.sum().item() == 2


def test_hashing_numbers_hash_as_their_text():
    layer = layers.Hashing(num_bins=1000)
    ints = layer(np.array([[5, -12]])).tolist()
    assert ints == layer(np.array([["5", "-12"]])).tolist()
    assert layer(np.array([[5.9, -12.2]], "float32")).tolist() == ints  # floats are truncated first, as in Keras


def test_bad_input():
    with pytest.raises(ValueError, match=r"The `num_bins` for `Hashing` cannot be `None` or non-positive"):
        layers.Hashing(num_bins=0)
    with pytest.raises(ValueError, match=r"When `output_mode=\"int\"`, `dtype` should be an integer type"):
        layers.Hashing(num_bins=3, dtype="float32")
    with pytest.raises(ValueError, match=r"The `salt` argument for `Hashing` can only be a tuple of size 2"):
        layers.Hashing(num_bins=3, salt=[1, 2, 3])
    with pytest.raises(TypeError, match=r'"hashing.*" \(Hashing\) expects strings or numbers, but received dtype bool'):
        layers.Hashing(num_bins=3)(torch.tensor([[True]]))
    cross = layers.HashedCrossing(num_bins=3)
    with pytest.raises(ValueError, match=r"`HashedCrossing` should be called on at least two inputs"):
        cross([np.array([1])])
    with pytest.raises(ValueError, match=r"All `HashedCrossing` inputs should have equal shape"):
        cross((np.array([1, 2]), np.array([1])))
    with pytest.raises(
        ValueError, match=r'integer or string dtype. Layer "hashed_crossing.*" received an input of dtype float32'
    ):
        cross((np.array([1.5], "float32"), np.array([1])))
    with pytest.raises(ValueError, match=r"shape `\(\)`, `\(batch_size\)` or `\(batch_size, 1\)`"):
        cross((np.ones((2, 3), "int64"), np.ones((2, 3), "int64")))


@pytest.mark.parametrize("output_mode", ["int", "one_hot"])
def test_hashed_crossing_harness(output_mode):
    # no live Keras parity (Keras needs TensorFlow here); the fixture parity covers the values. Its outputs keep
    # the variable dtype under a mixed policy (as Keras's), which the symbolic call reports too.
    data = [np.array([[1], [2], [3]]), np.array([["a"], ["b"], ["a"]])]
    run_layer_test(
        layers.HashedCrossing,
        {"num_bins": 4, "output_mode": output_mode},
        [(3, 1), (3, 1)],
        input_data=data,
        keras_parity=False,
        run_mixed_precision_check=output_mode != "int",
    )
