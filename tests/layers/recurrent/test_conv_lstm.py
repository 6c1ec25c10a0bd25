"""ConvLSTM1D/2D/3D: harness, Keras parity with masks, initial and carried states, dropout, bad input."""

import numpy as np
import pytest
import torch

import lamina
from lamina import layers
from tests.layers.harness import make_input, run_layer_test
from tests.layers.recurrent.utils import assert_parity, built, random_mask


@pytest.mark.parametrize(
    "cls, kwargs, shape",
    [
        (
            layers.ConvLSTM2D,
            {"filters": 3, "kernel_size": 3, "padding": "same", "return_sequences": True},
            (2, 3, 5, 4, 2),
        ),
        (layers.ConvLSTM2D, {"filters": 2, "kernel_size": (2, 3), "strides": 2, "return_state": True}, (2, 3, 6, 7, 2)),
        (layers.ConvLSTM1D, {"filters": 2, "kernel_size": 2, "padding": "same", "go_backwards": True}, (2, 4, 6, 3)),
        (layers.ConvLSTM3D, {"filters": 2, "kernel_size": 2, "return_sequences": True}, (2, 3, 3, 4, 3, 1)),
    ],
)
def test_conv_lstm_harness(cls, kwargs, shape):
    run_layer_test(cls, kwargs, shape)


@pytest.mark.slow
@pytest.mark.parametrize(
    "cls, kwargs, shape",
    [
        (layers.ConvLSTM2D, {"filters": 3, "kernel_size": 3, "dilation_rate": 2, "padding": "same"}, (2, 3, 6, 6, 2)),
        (layers.ConvLSTM2D, {"filters": 2, "kernel_size": 2, "data_format": "channels_first"}, (2, 3, 2, 5, 4)),
        (
            layers.ConvLSTM2D,
            {
                "filters": 2,
                "kernel_size": 3,
                "activation": "relu",
                "recurrent_activation": "hard_sigmoid",
                "use_bias": False,
            },
            (2, 3, 5, 5, 1),
        ),
        (
            layers.ConvLSTM2D,
            {"filters": 2, "kernel_size": 2, "unit_forget_bias": False, "bias_initializer": "ones"},
            (2, 3, 4, 4, 1),
        ),
        (
            layers.ConvLSTM3D,
            {"filters": 2, "kernel_size": 2, "padding": "same", "data_format": "channels_first"},
            (2, 2, 1, 3, 4, 3),
        ),
    ],
)
def test_conv_lstm_harness_more(cls, kwargs, shape):
    run_layer_test(cls, kwargs, shape)


def test_conv_lstm2d_weights_layout_names_and_init():
    layer = layers.ConvLSTM2D(4, (3, 2), name="clstm")
    layer.build((None, 5, 8, 8, 3))
    assert [(w.path, w.shape) for w in layer.weights] == [
        ("clstm/conv_lstm_cell/kernel", (3, 2, 3, 16)),
        ("clstm/conv_lstm_cell/recurrent_kernel", (3, 2, 4, 16)),
        ("clstm/conv_lstm_cell/bias", (16,)),
    ]
    assert torch.equal(layer.cell.bias.detach(), torch.tensor([0.0] * 4 + [1.0] * 4 + [0.0] * 8))  # unit_forget_bias
    assert layer.filters == 4 and layer.kernel_size == (3, 2) and layer.padding == "valid"
    assert layer.compute_output_shape((None, 5, 8, 8, 3)) == (None, 6, 7, 4)


@pytest.mark.parametrize("return_sequences", [True, False])
def test_conv_lstm_mask_parity(return_sequences):
    layer, x = built(
        layers.ConvLSTM2D,
        {"filters": 2, "kernel_size": 3, "padding": "same", "return_sequences": return_sequences},
        (3, 5, 4, 4, 2),
    )
    assert_parity(layer, x, mask=random_mask(3, 5, first_true=True))


def test_conv_lstm_initial_state_parity():
    layer, x = built(
        layers.ConvLSTM2D, {"filters": 2, "kernel_size": 3, "padding": "same", "return_state": True}, (2, 3, 4, 5, 1)
    )
    rng = np.random.default_rng(3)
    h0, c0 = (rng.standard_normal((2, 4, 5, 2)).astype("float32") for _ in range(2))
    assert_parity(layer, x, initial_state=[h0, c0])


def test_conv_lstm_stateful_carries_states_between_calls():
    layer, x = built(
        layers.ConvLSTM1D, {"filters": 2, "kernel_size": 2, "stateful": True, "return_state": True}, (2, 3, 5, 1)
    )
    layer.reset_state()  # `built` called it once already
    first, h1, c1 = layer(x)
    second, h2, _ = layer(x)
    assert not torch.allclose(first, second)  # the second call started from the first call's final states
    fresh = layers.ConvLSTM1D(2, 2, return_state=True)
    fresh(x)
    fresh.set_weights(layer.get_weights())
    expected, _, _ = fresh(x, initial_state=[h1, c1])
    torch.testing.assert_close(second, expected)
    layer.reset_state()
    again, _, _ = layer(x)
    torch.testing.assert_close(again, first)


def test_conv_lstm_dropout_in_training_only_and_seeded():
    kwargs = {"filters": 2, "kernel_size": 3, "padding": "same", "dropout": 0.4, "recurrent_dropout": 0.3, "seed": 7}
    layer = layers.ConvLSTM2D(**kwargs)
    x = torch.as_tensor(make_input((2, 3, 5, 5, 2)))
    inference = layer(x)
    torch.testing.assert_close(layer(x, training=False), inference)
    trained = layer(x, training=True)
    assert trained.shape == inference.shape and not torch.allclose(trained, inference)
    twin = layers.ConvLSTM2D(**kwargs)
    twin(x)
    twin.set_weights(layer.get_weights())
    again = layers.ConvLSTM2D(**kwargs)
    again(x)
    again.set_weights(layer.get_weights())
    torch.testing.assert_close(twin(x, training=True), again(x, training=True))  # same seed, same masks


def test_conv_lstm_trains_in_a_model():
    model = lamina.Sequential(
        [lamina.Input((3, 6, 6, 1)), layers.ConvLSTM2D(2, 3, padding="same"), layers.Flatten(), layers.Dense(1)]
    )
    model.compile(optimizer="adam", loss="mse")
    x, y = make_input((4, 3, 6, 6, 1)), make_input((4, 1), seed=1)
    history = model.fit(x, y, epochs=3, verbose=0)
    assert len(history.history["loss"]) == 3 and history.history["loss"][-1] < history.history["loss"][0]


def test_conv_lstm_bad_input_names_the_layer():
    layer = layers.ConvLSTM2D(2, 3, name="clstm")
    with pytest.raises(ValueError, match=r'"clstm" \(ConvLSTM2D\) expects inputs of rank 5.*\(2, 3, 4, 4\)'):
        layer(torch.ones(2, 3, 4, 4))
    with pytest.raises(ValueError, match=r"defined size on every spatial axis.*\(None, None, 4, 1\)"):
        layers.ConvLSTM2D(2, 3)(lamina.Input((3, None, 4, 1)))
    with pytest.raises(ValueError, match=r"`strides > 1` is not compatible with `dilation_rate > 1`"):
        layers.ConvLSTM2D(2, 3, strides=2, dilation_rate=2)
    with pytest.raises(ValueError, match=r"ConvLSTM expects `filters` to be a positive integer.*filters=0"):
        layers.ConvLSTM1D(0, 3)
    with pytest.raises(ValueError, match=r"The `padding` argument must be one of.*padding='causal'"):
        layers.ConvLSTM1D(2, 3, padding="causal")
