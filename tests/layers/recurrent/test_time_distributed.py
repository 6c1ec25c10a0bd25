import numpy as np
import pytest
import torch

import lamina
from lamina import layers
from tests.layers.harness import make_input, run_layer_test, to_numpy
from tests.layers.recurrent.utils import keras


def test_time_distributed_dense_parity():
    layer = run_layer_test(
        layers.TimeDistributed, {"layer": layers.Dense(3, activation="relu")}, (2, 4, 5), check_symbolic=False
    )
    assert [w.path for w in layer.weights] == [
        f"time_distributed/{layer.layer.name}/kernel",
        f"time_distributed/{layer.layer.name}/bias",
    ]


def test_time_distributed_conv2d_parity():
    run_layer_test(
        layers.TimeDistributed, {"layer": layers.Conv2D(4, 3, padding="same")}, (2, 3, 6, 6, 2), check_symbolic=False
    )


def test_time_distributed_symbolic_and_model():
    model = lamina.Sequential([lamina.Input((4, 5)), layers.TimeDistributed(layers.Dense(2)), layers.LSTM(3)])
    assert model.layers[0].compute_output_shape((None, 4, 5)) == (None, 4, 2)
    assert model.output_shape == (None, 3)
    assert model(np.ones((2, 4, 5), "float32")).shape == (2, 3)


def test_time_distributed_batchnorm_training_per_timestep_like_keras():
    k = keras()
    x = make_input((4, 3, 2)) * 2 + np.arange(3, dtype="float32")[None, :, None]
    td = layers.TimeDistributed(layers.BatchNormalization(momentum=0.5))
    td(x)
    y = td(x, training=True)
    ktd = k.layers.TimeDistributed.from_config(td.get_config())
    ktd(k.ops.convert_to_tensor(x))
    ky = ktd(k.ops.convert_to_tensor(x), training=True)
    np.testing.assert_allclose(to_numpy(y), to_numpy(ky), atol=1e-5)
    for w, kw in zip(td.weights, ktd.weights, strict=True):
        np.testing.assert_allclose(w.numpy(), to_numpy(kw.value), atol=1e-5)


def test_time_distributed_passes_mask_and_keeps_it():
    class MaskSum(lamina.layers.Layer):
        def call(self, x, mask=None):
            return x * mask[:, None].to(x.dtype)

        def compute_output_shape(self, s):
            return s

    x = torch.ones(2, 3, 4)
    mask = torch.tensor([[True, False, True], [False, True, True]])
    y = layers.TimeDistributed(MaskSum())(x, mask=mask)
    torch.testing.assert_close(y.sum(-1), mask.float() * 4)
    x._keras_mask = mask
    assert torch.equal(layers.TimeDistributed(layers.Dense(2))(x)._keras_mask, mask)


def test_time_distributed_errors():
    with pytest.raises(ValueError, match="Layer"):
        layers.TimeDistributed("dense")
    td = layers.TimeDistributed(layers.Dense(2), name="td")
    with pytest.raises(ValueError, match=r'Layer "td" \(TimeDistributed\) expects inputs of rank >= 3'):
        td(np.ones((2, 3), "float32"))
    td(np.ones((2, 3, 4), "float32"))
    with pytest.raises(ValueError, match="mask"):
        td(np.ones((2, 3, 4), "float32"), mask=np.ones((2, 4), bool))


def test_time_distributed_config_round_trip():
    k = keras()
    td = layers.TimeDistributed(layers.Dense(2, name="d"), name="t")
    config = td.get_config()
    assert config == k.layers.TimeDistributed(k.layers.Dense(2, name="d"), name="t").get_config()
    assert layers.TimeDistributed.from_config(config).get_config() == config
