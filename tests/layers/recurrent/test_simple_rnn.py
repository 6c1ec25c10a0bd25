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
        {"units": 4, "return_sequences": True, "go_backwards": True},
        {"units": 3, "return_state": True, "activation": "relu"},
        {"units": 3, "use_bias": False, "activation": None, "return_sequences": True, "return_state": True},
    ],
)
def test_simple_rnn_parity(kwargs):
    run_layer_test(layers.SimpleRNN, kwargs, (2, 5, 4))


@pytest.mark.parametrize(
    "kwargs",
    [
        {"units": 3, "return_sequences": True},
        {"units": 3, "go_backwards": True, "return_state": True},
    ],
)
def test_simple_rnn_mask_parity(kwargs):
    layer, x = built(layers.SimpleRNN, kwargs, (3, 6, 4))
    mask = random_mask(3, 6, seed=4)
    mask[2] = False  # a fully masked sample: outputs zeros, state stays the initial one
    out = assert_parity(layer, x, mask=mask)
    last = out[0] if isinstance(out, list) else out
    if not kwargs.get("return_sequences"):
        assert torch.all(last[2] == 0)


def test_simple_rnn_initial_state_parity():
    layer, x = built(layers.SimpleRNN, {"units": 3}, (2, 4, 5))
    assert_parity(layer, x, initial_state=[np.ones((2, 3), "float32")])


def test_simple_rnn_config_matches_keras():
    k = keras()
    ours = layers.SimpleRNN(5, dropout=0.1, name="a").get_config()
    theirs = k.layers.SimpleRNN(5, dropout=0.1, name="a").get_config()
    assert list(ours) == list(theirs) and ours == theirs


def test_simple_rnn_cell_standalone_parity():
    k = keras()
    cell = layers.SimpleRNNCell(3)
    x = np.random.default_rng(0).standard_normal((2, 4)).astype("float32")
    h = np.random.default_rng(1).standard_normal((2, 3)).astype("float32")
    out, [h1] = cell(x, [torch.as_tensor(h)])
    kcell = k.layers.SimpleRNNCell.from_config(cell.get_config())
    kcell.build((2, 4))
    kcell.set_weights(cell.get_weights())
    kout, _ = kcell(k.ops.convert_to_tensor(x), [k.ops.convert_to_tensor(h)])
    np.testing.assert_allclose(out.detach().numpy(), kout.detach().numpy(), atol=1e-6)
    torch.testing.assert_close(out, h1)


def test_simple_rnn_units_error():
    with pytest.raises(ValueError, match="units"):
        layers.SimpleRNNCell(-1)
