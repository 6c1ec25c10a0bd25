import numpy as np
import pytest
import torch

from lamina import layers
from tests.layers.harness import run_layer_test
from tests.layers.recurrent.utils import assert_parity, built, keras, random_mask


@pytest.mark.parametrize(
    "kwargs",
    [
        {"units": 3},
        {"units": 4, "return_sequences": True},
        {"units": 3, "return_state": True, "go_backwards": True},
        {"units": 3, "reset_after": False, "return_sequences": True},
        {"units": 3, "reset_after": False, "use_bias": False, "return_state": True},
        {"units": 2, "use_bias": False, "activation": "relu"},
    ],
)
def test_gru_parity(kwargs):
    run_layer_test(layers.GRU, kwargs, (2, 5, 4))


@pytest.mark.parametrize(
    "kwargs",
    [
        {"units": 3, "return_sequences": True},
        {"units": 3, "reset_after": False, "go_backwards": True, "return_state": True},
        {"units": 3, "return_sequences": True, "zero_output_for_mask": True},
    ],
)
def test_gru_mask_parity(kwargs):
    layer, x = built(layers.GRU, kwargs, (3, 6, 4))
    assert_parity(layer, x, mask=random_mask(3, 6, seed=2))


def test_gru_initial_state_parity():
    layer, x = built(layers.GRU, {"units": 3, "return_sequences": True}, (2, 4, 5))
    assert_parity(layer, x, initial_state=[np.random.default_rng(0).standard_normal((2, 3)).astype("float32")])


def test_gru_weights_layout():
    layer = layers.GRU(3, name="g")
    layer.build((None, 4, 2))
    assert [(w.path, w.shape) for w in layer.weights] == [
        ("g/gru_cell/kernel", (2, 9)),
        ("g/gru_cell/recurrent_kernel", (3, 9)),
        ("g/gru_cell/bias", (2, 9)),
    ]
    legacy = layers.GRU(3, reset_after=False)
    legacy.build((None, 4, 2))
    assert legacy.weights[-1].shape == (9,)


def test_gru_gate_order_z_r_h():
    # zero kernels; z gate bias very negative -> h = candidate = tanh(b_h)
    layer = layers.GRU(1, kernel_initializer="zeros", recurrent_initializer="zeros")
    layer.build((None, 1, 1))
    layer.cell.bias.data = torch.tensor([[-100.0, 0.0, 0.7], [0.0, 0.0, 0.0]])
    torch.testing.assert_close(layer(torch.zeros(1, 1, 1)), torch.tanh(torch.tensor([[0.7]])))


def test_gru_config_matches_keras():
    k = keras()
    ours = layers.GRU(5, reset_after=False, recurrent_dropout=0.2, name="a").get_config()
    theirs = k.layers.GRU(5, reset_after=False, recurrent_dropout=0.2, name="a").get_config()
    assert list(ours) == list(theirs) and ours == theirs
    assert layers.GRU.from_config(ours).get_config() == ours


def test_gru_recurrent_dropout_training_differs_inference_matches():
    layer = layers.GRU(4, dropout=0.3, recurrent_dropout=0.3, return_sequences=True)
    x = torch.randn(2, 5, 3)
    a = layer(x)
    torch.testing.assert_close(layer(x, training=False), a)
    assert not torch.allclose(layer(x, training=True), a)
    assert layer.cell.implementation == 1


def test_gru_rank_error():
    with pytest.raises(ValueError, match=r"\(GRU\) expects inputs of rank 3"):
        layers.GRU(2)(np.ones((2, 3, 4, 5), "float32"))
