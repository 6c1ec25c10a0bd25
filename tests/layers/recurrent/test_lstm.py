import numpy as np
import pytest
import torch

import lamina
from lamina import layers
from tests.layers.harness import make_input, run_layer_test
from tests.layers.recurrent.utils import assert_parity, built, keras, random_mask


@pytest.mark.parametrize(
    "kwargs",
    [
        {"units": 3},
        {"units": 4, "return_sequences": True},
        {"units": 3, "return_state": True},
        {"units": 3, "return_sequences": True, "return_state": True, "go_backwards": True},
        {"units": 2, "go_backwards": True, "unroll": True},
        {"units": 3, "activation": "relu", "recurrent_activation": "hard_sigmoid", "use_bias": False},
        {"units": 3, "unit_forget_bias": False, "bias_initializer": "ones"},
    ],
)
def test_lstm_parity(kwargs):
    run_layer_test(layers.LSTM, kwargs, (2, 5, 4))


@pytest.mark.parametrize(
    "kwargs",
    [
        {"units": 3, "return_sequences": True},
        {"units": 3, "return_sequences": True, "go_backwards": True, "return_state": True},
        {"units": 3},
        {"units": 3, "return_sequences": True, "zero_output_for_mask": True},
    ],
)
def test_lstm_mask_parity(kwargs):
    layer, x = built(layers.LSTM, kwargs, (3, 6, 4))
    assert_parity(layer, x, mask=random_mask(3, 6))


def test_lstm_mask_through_keras_mask_attribute_and_masking_layer():
    k = keras()
    x = make_input((2, 5, 3))
    x[0, 3:] = 0.0
    x[1, 1] = 0.0
    layer, _ = built(layers.LSTM, {"units": 4, "return_sequences": True}, (2, 5, 3))
    xt = torch.as_tensor(x)
    xt._keras_mask = torch.as_tensor(np.any(x != 0, axis=-1))
    ours = layer(xt)
    assert torch.equal(ours._keras_mask, xt._keras_mask)  # return_sequences keeps the mask
    kmodel = k.Sequential([k.Input((5, 3)), k.layers.Masking(0.0), k.layers.LSTM.from_config(layer.get_config())])
    kmodel.layers[-1].set_weights(layer.get_weights())
    np.testing.assert_allclose(ours.detach().numpy(), kmodel(x).detach().numpy(), atol=1e-5)


def test_lstm_initial_state_parity():
    layer, x = built(layers.LSTM, {"units": 3, "return_state": True}, (2, 4, 5))
    rng = np.random.default_rng(3)
    h0, c0 = (rng.standard_normal((2, 3)).astype("float32") for _ in range(2))
    assert_parity(layer, x, initial_state=[h0, c0])


def test_lstm_weights_layout_names_and_init():
    layer = layers.LSTM(3, name="enc")
    layer.build((None, 7, 5))
    assert [(w.path, w.shape) for w in layer.weights] == [
        ("enc/lstm_cell/kernel", (5, 12)),
        ("enc/lstm_cell/recurrent_kernel", (3, 12)),
        ("enc/lstm_cell/bias", (12,)),
    ]
    bias = layer.cell.bias.detach()
    assert torch.equal(bias, torch.tensor([0.0] * 3 + [1.0] * 3 + [0.0] * 6))  # unit_forget_bias
    rk = layer.cell.recurrent_kernel.detach()
    torch.testing.assert_close(rk @ rk.T, torch.eye(3), atol=1e-5, rtol=0)  # orthogonal rows
    assert [n for n, _ in layer.named_parameters()] == ["cell.kernel", "cell.recurrent_kernel", "cell.bias"]


def test_lstm_gate_order_i_f_c_o():
    # with zero kernels and a bias that only opens the input & output gates, c = tanh(b_c) after one step
    layer = layers.LSTM(1, return_state=True, kernel_initializer="zeros", recurrent_initializer="zeros")
    layer.build((None, 1, 1))
    layer.cell.bias.data = torch.tensor([100.0, -100.0, 0.5, 100.0])  # i, f, c, o
    h, _, c = layer(torch.zeros(1, 1, 1))
    torch.testing.assert_close(c, torch.tanh(torch.tensor([[0.5]])))
    torch.testing.assert_close(h, torch.tanh(c))


def test_lstm_config_matches_keras_and_round_trips():
    k = keras()
    ours = layers.LSTM(5, dropout=0.1, seed=2, return_sequences=True, name="a").get_config()
    theirs = k.layers.LSTM(5, dropout=0.1, seed=2, return_sequences=True, name="a").get_config()
    assert list(ours) == list(theirs)
    assert ours == theirs
    assert layers.LSTM.from_config(ours).get_config() == ours


def test_lstm_rank_error_names_layer():
    layer = layers.LSTM(3, name="enc")
    with pytest.raises(ValueError, match=r'Layer "enc" \(LSTM\) expects inputs of rank 3.*received shape \(2, 4\)'):
        layer(np.ones((2, 4), "float32"))
    assert not layer.built
    layer(np.ones((2, 3, 4), "float32"))
    with pytest.raises(ValueError, match=r'Layer "enc" \(LSTM\) expects inputs of rank 3'):
        layer(np.ones((2, 4), "float32"))


def test_lstm_bad_arguments():
    with pytest.raises(ValueError, match="units"):
        layers.LSTM(0)
    with pytest.raises(ValueError, match="use_cudnn"):
        layers.LSTM(2, use_cudnn="yes")
    with pytest.raises(ValueError, match="2 initial state"):
        layers.LSTM(2)(np.ones((1, 3, 2), "float32"), initial_state=[np.zeros((1, 2), "float32")])


def test_lstm_dropout_only_in_training_and_same_mask_each_step():
    layer = layers.LSTM(4, dropout=0.5, recurrent_dropout=0.3, return_sequences=True, seed=1)
    x = torch.randn(3, 6, 5)
    inference = layer(x)
    plain = layers.LSTM.from_config({**layer.get_config(), "dropout": 0.0, "recurrent_dropout": 0.0})
    plain(x)
    plain.set_weights(layer.get_weights())
    torch.testing.assert_close(inference, plain(x))
    lamina.utils.set_random_seed(0)
    trained = layer(x, training=True)
    assert not torch.allclose(trained, inference)
    # input dropout alone: one seeded mask for the whole sequence == masking the inputs once
    layer2 = layers.LSTM(4, dropout=0.5, return_sequences=True, seed=7)
    layer2(x)
    y = layer2(x, training=True)
    g = torch.Generator().manual_seed(7)
    mask = torch.bernoulli(torch.full((3, 5), 0.5), generator=g) / 0.5
    plain.set_weights(layer2.get_weights())
    torch.testing.assert_close(y, plain(x * mask[:, None]))
    assert layer2.cell._dropout_mask is None  # masks are per call


@pytest.mark.parametrize("cls", [layers.LSTM, layers.GRU])
def test_fused_kernel_path_matches_step_loop(cls):
    layer, x = built(cls, {"units": 5, "return_sequences": True, "return_state": True, "go_backwards": True}, (3, 7, 4))
    everything = np.ones((3, 7), bool)  # an all-true mask takes the per-step loop
    fused = layer(x)
    looped = layer(x, mask=everything)
    for a, b in zip(fused, looped, strict=True):
        torch.testing.assert_close(a, b, atol=1e-6, rtol=1e-5)
    xt = torch.as_tensor(x).requires_grad_()
    layer(xt)[0].sum().backward()
    g_fused = [p.grad.clone() for p in layer.parameters()] + [xt.grad.clone()]
    layer.zero_grad()
    xt.grad = None
    layer(xt, mask=everything)[0].sum().backward()
    g_loop = [p.grad.clone() for p in layer.parameters()] + [xt.grad.clone()]
    for a, b in zip(g_fused, g_loop, strict=True):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-4)


def test_lstm_trains_with_gradients():
    layer = layers.LSTM(3)
    x = torch.randn(4, 5, 2)
    layer(x).sum().backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in layer.parameters())


def test_lstm_symbolic_and_sequential():
    model = lamina.Sequential([lamina.Input((None, 4)), layers.LSTM(8, return_sequences=True), layers.LSTM(2)])
    assert model.output_shape == (None, 2)
    assert model(np.ones((3, 7, 4), "float32")).shape == (3, 2)
    inp = lamina.Input((5, 4))
    outs = layers.LSTM(3, return_state=True)(inp)
    assert [o.shape for o in outs] == [(None, 3)] * 3
