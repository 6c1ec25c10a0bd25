import numpy as np
import pytest
import torch

import lamina
from lamina import layers
from tests.layers.harness import make_input, run_layer_test, to_numpy
from tests.layers.recurrent.utils import assert_parity, built, keras, random_mask


@pytest.mark.parametrize(
    "cell,kwargs",
    [
        ("LSTMCell", {"return_sequences": True}),
        ("GRUCell", {"return_state": True, "go_backwards": True}),
        ("SimpleRNNCell", {}),
    ],
)
def test_rnn_wrapping_builtin_cells_parity(cell, kwargs):
    # a cell instance is used once, so the harness's second (symbolic) instance is skipped
    layer = run_layer_test(layers.RNN, {"cell": getattr(layers, cell)(3), **kwargs}, (2, 5, 4), check_symbolic=False)
    assert layer.weights[0].path == f"rnn/{layer.cell.name}/kernel"


def test_stacked_cells_parity_and_paths():
    layer, x = built(layers.RNN, {"cell": [layers.LSTMCell(4), layers.GRUCell(3)], "return_sequences": True}, (2, 5, 3))
    assert [w.path for w in layer.weights] == [
        "rnn/stacked_rnn_cells/lstm_cell/kernel",
        "rnn/stacked_rnn_cells/lstm_cell/recurrent_kernel",
        "rnn/stacked_rnn_cells/lstm_cell/bias",
        "rnn/stacked_rnn_cells/gru_cell/kernel",
        "rnn/stacked_rnn_cells/gru_cell/recurrent_kernel",
        "rnn/stacked_rnn_cells/gru_cell/bias",
    ]
    assert_parity(layer, x)
    assert_parity(layer, x, mask=random_mask(2, 5))


def test_stacked_cells_return_state_structure():
    layer = layers.RNN([layers.LSTMCell(4), layers.SimpleRNNCell(3)], return_state=True)
    out, (h1, c1), [h2] = layer(torch.ones(2, 5, 3))  # as Keras: each cell keeps its state list
    assert out.shape == (2, 3) and h1.shape == c1.shape == (2, 4)
    torch.testing.assert_close(out, h2)


class MinimalRNNCell(lamina.layers.Layer):
    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.state_size = units

    def build(self, input_shape):
        self.kernel = self.add_weight(shape=(input_shape[-1], self.units), initializer="glorot_uniform", name="kernel")
        self.recurrent_kernel = self.add_weight(
            shape=(self.units, self.units), initializer="orthogonal", name="recurrent_kernel"
        )
        self.built = True

    def call(self, inputs, states):
        prev = states[0]
        out = inputs @ self.kernel + prev @ self.recurrent_kernel
        return out, [out]

    def get_config(self):
        return {**super().get_config(), "units": self.units}


def test_rnn_with_custom_cell_matches_keras_custom_cell():
    k = keras()

    class KMinimal(k.layers.Layer):
        def __init__(self, units, **kwargs):
            super().__init__(**kwargs)
            self.units = units
            self.state_size = units

        def build(self, input_shape):
            self.kernel = self.add_weight(shape=(input_shape[-1], self.units), name="kernel")
            self.recurrent_kernel = self.add_weight(shape=(self.units, self.units), name="recurrent_kernel")

        def call(self, inputs, states):
            out = k.ops.matmul(inputs, self.kernel) + k.ops.matmul(states[0], self.recurrent_kernel)
            return out, [out]

    x = make_input((2, 6, 3))
    mask = random_mask(2, 6, seed=5)
    ours = layers.RNN(MinimalRNNCell(4), return_sequences=True)
    y = ours(x, mask=mask)
    theirs = k.layers.RNN(KMinimal(4), return_sequences=True)
    theirs(k.ops.convert_to_tensor(x))
    theirs.set_weights(ours.get_weights())
    expected = theirs(k.ops.convert_to_tensor(x), mask=k.ops.convert_to_tensor(mask))
    np.testing.assert_allclose(to_numpy(y), to_numpy(expected), atol=1e-5)


def test_masked_steps_keep_state_and_repeat_output():
    layer, x = built(layers.SimpleRNN, {"units": 3, "return_sequences": True}, (1, 4, 2))
    mask = torch.tensor([[True, False, True, False]])
    y = layer(x, mask=mask)
    torch.testing.assert_close(y[:, 1], y[:, 0])
    torch.testing.assert_close(y[:, 3], y[:, 2])
    # the state after step 2 equals running steps 0 and 2 only
    torch.testing.assert_close(y[:, 2], layer(x[:, [0, 2]])[:, 1])
    z = layers.SimpleRNN.from_config({**layer.get_config(), "zero_output_for_mask": True})
    z(x)
    z.set_weights(layer.get_weights())
    yz = z(x, mask=mask)
    assert torch.all(yz[:, 1] == 0) and torch.all(yz[:, 3] == 0)
    torch.testing.assert_close(yz[:, 2], y[:, 2])


def test_compute_mask():
    x = torch.ones(2, 3, 4)
    x._keras_mask = torch.tensor([[True, True, False], [True, False, False]])
    seq = layers.GRU(2, return_sequences=True)(x)
    assert torch.equal(seq._keras_mask, x._keras_mask)
    last = layers.GRU(2)(x)
    assert getattr(last, "_keras_mask", None) is None
    out, h = layers.GRU(2, return_sequences=True, return_state=True)(x)
    assert torch.equal(out._keras_mask, x._keras_mask) and getattr(h, "_keras_mask", None) is None


def test_stateful_carries_and_resets_state():
    layer = layers.LSTM(3, stateful=True, return_state=True)
    x = torch.randn(2, 4, 5)
    y1, h1, c1 = layer(x)
    y2, _, _ = layer(x)
    assert not torch.allclose(y1, y2)
    fresh = layers.LSTM.from_config({**layer.get_config(), "stateful": False})
    fresh(x)
    fresh.set_weights(layer.get_weights())
    torch.testing.assert_close(y2, fresh(x, initial_state=[h1, c1])[0])
    layer.reset_state()
    torch.testing.assert_close(layer(x)[0], y1)
    with pytest.raises(ValueError, match="batch size"):
        layer(torch.randn(3, 4, 5))


def test_stateful_needs_static_batch():
    with pytest.raises(ValueError, match="stateful=True"):
        layers.GRU(2, stateful=True)(lamina.Input((4, 3)))
    out = layers.GRU(2, stateful=True)(lamina.Input(batch_shape=(3, 4, 3)))
    assert out.shape == (3, 2)


def test_rnn_config_round_trip_and_keras_reads_it():
    k = keras()
    layer = layers.RNN(layers.GRUCell(3, reset_after=False), go_backwards=True, name="r")
    config = layer.get_config()
    kcfg = k.layers.RNN(
        k.layers.GRUCell(3, reset_after=False, name=layer.cell.name), go_backwards=True, name="r"
    ).get_config()
    assert config == kcfg
    assert layers.RNN.from_config(config).get_config() == config


def test_rnn_bad_cells():
    with pytest.raises(ValueError, match="call"):
        layers.RNN(object())

    class NoState:
        def call(self, x, s):
            return x, s

    with pytest.raises(ValueError, match="state_size"):
        layers.RNN(NoState())


def test_symbolic_initial_state_in_functional_graph():
    inp = lamina.Input((5, 3))
    h0 = lamina.Input((4,))
    out = layers.GRU(4, return_sequences=True)(inp, initial_state=[h0])
    assert out.shape == (None, 5, 4)


def test_unroll_accepted_and_same_numbers():
    layer, x = built(layers.LSTM, {"units": 3, "unroll": True, "return_sequences": True}, (2, 4, 3))
    assert_parity(layer, x)


def test_cudnn_param_packing_is_views_of_one_buffer_with_gradients():
    from lamina.layers.recurrent.rnn import BaseRNNCell

    w = torch.randn(3, 8, requires_grad=True)
    b = torch.randn(8, requires_grad=True)
    packed = BaseRNNCell._pack_params([w.t(), b], torch.device("cuda"))  # the CUDA layout, built on CPU tensors
    assert packed[1].data_ptr() == packed[0].data_ptr() + packed[0].numel() * packed[0].element_size()
    torch.testing.assert_close(packed[0], w.t())
    (packed[0].sum() * 2 + packed[1].sum()).backward()
    torch.testing.assert_close(w.grad, torch.full_like(w, 2.0))
    torch.testing.assert_close(b.grad, torch.ones_like(b))


def test_fused_kernel_only_for_default_activations():
    x = torch.randn(2, 3, 4)
    assert not layers.LSTM(2).cell._can_fuse(x, False)  # unbuilt
    lstm = layers.LSTM(2)
    lstm(x)
    assert lstm.cell._can_fuse(x, False)
    relu = layers.LSTM(2, activation="relu")
    relu(x)
    assert not relu.cell._can_fuse(x, False)
    rdrop = layers.GRU(2, recurrent_dropout=0.5)
    rdrop(x)
    assert rdrop.cell._can_fuse(x, False) and not rdrop.cell._can_fuse(x, True)
    legacy = layers.GRU(2, reset_after=False)
    legacy(x)
    assert not legacy.cell._can_fuse(x, False)


@pytest.mark.parametrize(
    "name,kwargs",
    [
        ("LSTMCell", {"units": 3, "unit_forget_bias": False, "dropout": 0.2, "seed": 4}),
        ("GRUCell", {"units": 2, "reset_after": False}),
        ("SimpleRNNCell", {"units": 2, "activation": "relu", "recurrent_dropout": 0.1}),
    ],
)
def test_cell_configs_equal_keras(name, kwargs):
    k = keras()
    ours = getattr(layers, name)(**kwargs, name="c").get_config()
    theirs = getattr(k.layers, name)(**kwargs, name="c").get_config()
    assert list(ours) == list(theirs) and ours == theirs


def test_stacked_and_bidirectional_configs_equal_keras():
    k = keras()
    ours = layers.StackedRNNCells([layers.LSTMCell(2, name="a"), layers.GRUCell(3, name="b")], name="s").get_config()
    theirs = k.layers.StackedRNNCells(
        [k.layers.LSTMCell(2, name="a"), k.layers.GRUCell(3, name="b")], name="s"
    ).get_config()
    assert ours == theirs
    ours = layers.Bidirectional(layers.LSTM(3, name="x"), merge_mode="mul", name="b").get_config()
    theirs = k.layers.Bidirectional(k.layers.LSTM(3, name="x"), merge_mode="mul", name="b").get_config()
    assert ours == theirs
