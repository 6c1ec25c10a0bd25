import numpy as np
import pytest
import torch

import lamina
from lamina import layers
from tests.layers.harness import run_layer_test
from tests.layers.recurrent.utils import assert_parity, built, keras, random_mask


@pytest.mark.parametrize("merge_mode", ["concat", "sum", "mul", "ave", None])
def test_bidirectional_merge_modes_parity(merge_mode):
    kwargs = {"layer": layers.LSTM(3, return_sequences=True), "merge_mode": merge_mode}
    layer = run_layer_test(layers.Bidirectional, kwargs, (2, 5, 4), check_symbolic=False)
    width = 6 if merge_mode == "concat" else 3
    out = layer(np.ones((2, 5, 4), "float32"))
    shapes = [tuple(o.shape) for o in out] if merge_mode is None else [tuple(out.shape)]
    assert all(s == (2, 5, width) for s in shapes)


@pytest.mark.parametrize(
    "inner",
    [
        lambda: layers.GRU(3, return_state=True),
        lambda: layers.SimpleRNN(3, return_sequences=True, return_state=True),
        lambda: layers.LSTM(2, return_state=True, return_sequences=True),
    ],
)
def test_bidirectional_return_state_parity(inner):
    layer, x = built(layers.Bidirectional, {"layer": inner()}, (2, 4, 3))
    out = assert_parity(layer, x)
    n_states = len(layer.forward_layer.state_size)
    assert len(out) == 1 + 2 * n_states


@pytest.mark.parametrize("merge_mode", ["concat", None])
def test_bidirectional_mask_parity(merge_mode):
    layer, x = built(
        layers.Bidirectional, {"layer": layers.GRU(3, return_sequences=True), "merge_mode": merge_mode}, (3, 6, 2)
    )
    assert_parity(layer, x, mask=random_mask(3, 6, seed=7))
    # masked steps are zeros in both directions (zero_output_for_mask is forced on)
    assert layer.forward_layer.zero_output_for_mask and layer.backward_layer.zero_output_for_mask


def test_bidirectional_initial_state_parity():
    layer, x = built(layers.Bidirectional, {"layer": layers.LSTM(3)}, (2, 4, 3))
    rng = np.random.default_rng(0)
    states = [rng.standard_normal((2, 3)).astype("float32") for _ in range(4)]
    assert_parity(layer, x, initial_state=states)


def test_bidirectional_weights_order_and_names():
    bi = layers.Bidirectional(layers.LSTM(3, name="enc"), name="bi")
    bi.build((None, 5, 2))
    assert [w.path for w in bi.weights] == [
        "bi/forward_enc/lstm_cell/kernel",
        "bi/forward_enc/lstm_cell/recurrent_kernel",
        "bi/forward_enc/lstm_cell/bias",
        "bi/backward_enc/lstm_cell/kernel",
        "bi/backward_enc/lstm_cell/recurrent_kernel",
        "bi/backward_enc/lstm_cell/bias",
    ]
    assert bi.backward_layer.go_backwards and not bi.forward_layer.go_backwards


def test_bidirectional_custom_backward_layer_parity_and_checks():
    fwd = layers.LSTM(3, return_sequences=True)
    bwd = layers.GRU(3, return_sequences=True, go_backwards=True)
    layer, x = built(layers.Bidirectional, {"layer": fwd, "backward_layer": bwd, "merge_mode": "sum"}, (2, 4, 3))
    assert_parity(layer, x)
    with pytest.raises(ValueError, match="go_backwards"):
        layers.Bidirectional(layers.LSTM(3), backward_layer=layers.LSTM(3))
    with pytest.raises(ValueError, match="return_sequences"):
        layers.Bidirectional(layers.LSTM(3), backward_layer=layers.LSTM(3, go_backwards=True, return_sequences=True))
    with pytest.raises(ValueError, match="merge mode"):
        layers.Bidirectional(layers.LSTM(3), merge_mode="max")
    with pytest.raises(ValueError, match="Layer"):
        layers.Bidirectional("lstm")


def test_bidirectional_symbolic_shapes():
    inp = lamina.Input((7, 4))
    assert layers.Bidirectional(layers.LSTM(3))(inp).shape == (None, 6)
    outs = layers.Bidirectional(layers.GRU(3, return_state=True, return_sequences=True), merge_mode=None)(inp)
    assert [o.shape for o in outs] == [(None, 7, 3), (None, 7, 3), (None, 3), (None, 3)]
    model = lamina.Sequential(
        [
            lamina.Input((7, 4)),
            layers.Bidirectional(layers.LSTM(3, return_sequences=True)),
            layers.Bidirectional(layers.LSTM(2)),
        ]
    )
    assert model.output_shape == (None, 4)
    assert model(np.ones((2, 7, 4), "float32")).shape == (2, 4)


def test_bidirectional_config_read_by_keras():
    k = keras()
    bi = layers.Bidirectional(layers.GRU(3, return_sequences=True), merge_mode="ave", name="b")
    config = bi.get_config()
    kbi = k.layers.Bidirectional.from_config(config)
    assert kbi.merge_mode == "ave" and kbi.forward_layer.name == bi.forward_layer.name
    assert layers.Bidirectional.from_config(config).get_config() == config


def test_bidirectional_gradients():
    bi = layers.Bidirectional(layers.LSTM(2))
    bi(torch.randn(3, 4, 2)).sum().backward()
    assert all(p.grad is not None for p in bi.parameters())
