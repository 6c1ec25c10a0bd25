"""Discretization: the harness with live Keras parity, ``adapt`` boundaries equal to Keras's, bad input."""

import keras
import numpy as np
import pytest
import torch

from lamina import layers
from tests.layers.harness import run_layer_test

X = np.array([[-1.5, 1.0, 3.4, 0.5], [0.0, 2.0, 2.5, -0.1]], "float32")


@pytest.mark.parametrize(
    "kwargs",
    [
        {"bin_boundaries": [0.0, 1.0, 2.0]},
        {"bin_boundaries": [0.0, 1.0, 2.0], "output_mode": "one_hot"},
        {"bin_boundaries": [0.0, 1.0, 2.0], "output_mode": "multi_hot"},
        {"bin_boundaries": [0.0, 1.0, 2.0], "output_mode": "count"},
        {"bin_boundaries": [-1.0, 2.5]},
    ],
)
def test_harness(kwargs):
    run_layer_test(layers.Discretization, kwargs, X.shape, input_data=X)


@pytest.mark.parametrize("num_bins,epsilon", [(4, 0.01), (3, 0.1), (7, 0.001), (2, 0.5)])
def test_adapt_boundaries_equal_keras(num_bins, epsilon):
    rng = np.random.default_rng(num_bins)
    data = rng.standard_normal((300, 2)).astype("float32") * 3 + 1
    ours = layers.Discretization(num_bins=num_bins, epsilon=epsilon)
    theirs = keras.layers.Discretization(num_bins=num_bins, epsilon=epsilon)

    def keras_adapt(batches):
        # Keras's adapt() probes for tf.data (it imports TensorFlow); its summary steps are NumPy: run them
        theirs.reset_state()
        for batch in batches:
            theirs.update_state(batch)
        theirs.finalize_state()

    ours.adapt(data)
    keras_adapt([data])
    assert ours.bin_boundaries == theirs.bin_boundaries
    # batches are summarized one by one and merged: same boundaries as Keras for the same batches
    batches = [data[i : i + 64] for i in range(0, 300, 64)]
    ours.adapt(iter(batches))
    keras_adapt(batches)
    assert ours.bin_boundaries == theirs.bin_boundaries
    np.testing.assert_array_equal(ours(data).numpy(), theirs(data).cpu().numpy())


def test_adapted_layer_round_trips_through_config_as_keras():
    layer = layers.Discretization(num_bins=3)
    layer.adapt(np.arange(30, dtype="float32"))
    config = layer.get_config()
    assert config == {
        "bin_boundaries": layer.bin_boundaries,
        "num_bins": 3,
        "epsilon": 0.01,
        "output_mode": "int",
        "sparse": False,
        "name": layer.name,
        "dtype": "float32",
    }
    clone = layers.Discretization.from_config(config)
    keras_clone = keras.layers.Discretization.from_config(config)
    assert clone.bin_boundaries == keras_clone.bin_boundaries == layer.bin_boundaries


def test_int_and_bool_inputs():
    layer = layers.Discretization(bin_boundaries=[1.5])
    assert layer(torch.tensor([[1, 2]])).tolist() == [[0, 1]]
    assert layer(torch.tensor([[True, False]])).tolist() == [[0, 0]]


def test_bad_input():
    with pytest.raises(ValueError, match=r"You need to set either `num_bins` or `bin_boundaries`"):
        layers.Discretization()
    with pytest.raises(ValueError, match=r"Both `num_bins` and `bin_boundaries` should not be set"):
        layers.Discretization(num_bins=2, bin_boundaries=[1.0])
    with pytest.raises(
        ValueError, match=r"Cannot adapt a Discretization layer that has been initialized with `bin_boundaries`"
    ):
        layers.Discretization(bin_boundaries=[1.0]).adapt(X)
    with pytest.raises(ValueError, match=r"Discretization\) cannot adapt on empty data"):
        layers.Discretization(num_bins=2).adapt(np.zeros((0, 3), "float32"))
    with pytest.raises(
        TypeError,
        match=r'"discretization.*" \(Discretization\) expects numeric inputs, but received string data \(dtype <U1\)',
    ):
        layers.Discretization(bin_boundaries=[1.0])(np.array([["a"]]))
    with pytest.raises(ValueError, match=r"Unknown value for `output_mode` argument of Discretization"):
        layers.Discretization(bin_boundaries=[1.0], output_mode="bins")
    with pytest.raises(ValueError, match=r"call `adapt\(dataset\)` before you can start using"):
        layers.Discretization(num_bins=3)(X)
