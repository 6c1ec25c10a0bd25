import numpy as np
import pytest
import torch

import lamina
from lamina import layers
from tests.layers.harness import keras_layer_from_config, run_layer_test


@pytest.mark.parametrize(
    "cls,kwargs,shape",
    [
        (layers.Dropout, {"rate": 0.5}, (2, 3)),
        (layers.Dropout, {"rate": 0.2, "noise_shape": (None, 1, 4), "seed": 3}, (2, 3, 4)),
        (layers.Dropout, {"rate": 0.0}, (2, 3)),
        (layers.SpatialDropout1D, {"rate": 0.5}, (2, 3, 4)),
        (layers.SpatialDropout2D, {"rate": 0.5}, (2, 3, 4, 2)),
        (layers.SpatialDropout2D, {"rate": 0.5, "data_format": "channels_first", "seed": 1}, (2, 2, 3, 4)),
        (layers.SpatialDropout3D, {"rate": 0.3}, (1, 2, 3, 2, 2)),
        (layers.SpatialDropout3D, {"rate": 0.3, "data_format": "channels_first"}, (1, 2, 3, 2, 2)),
        (layers.GaussianNoise, {"stddev": 0.5}, (2, 3)),
        (layers.GaussianNoise, {"stddev": 0.1, "seed": 2}, (2, 3)),
        (layers.GaussianDropout, {"rate": 0.4}, (2, 3)),
        (layers.AlphaDropout, {"rate": 0.3}, (2, 3)),
        (layers.AlphaDropout, {"rate": 0.3, "noise_shape": (None, 1), "seed": 5}, (2, 3)),
        (layers.ActivityRegularization, {"l1": 0.1, "l2": 0.2}, (2, 3)),
    ],
)
def test_inference_is_identity_with_keras_parity(cls, kwargs, shape):
    layer = run_layer_test(cls, kwargs, shape)
    x = torch.randn(*shape)
    assert torch.equal(layer(x), x)


def test_spatial_dropout_config_schema_matches_keras():
    ours = layers.SpatialDropout2D(0.5, seed=1, name="sd").get_config()
    theirs = keras_layer_from_config("SpatialDropout2D", ours).get_config()
    assert ours == theirs
    assert set(ours) == {"rate", "seed", "name", "dtype", "data_format"}
    assert set(layers.SpatialDropout1D(0.5).get_config()) == {"rate", "seed", "name", "dtype"}


def test_dropout_training_fraction_and_scale():
    lamina.utils.set_random_seed(0)
    layer = layers.Dropout(0.3)
    y = layer(torch.ones(200, 100), training=True)
    dropped = (y == 0).float().mean().item()
    assert abs(dropped - 0.3) < 0.03
    kept = y[y != 0]
    assert torch.allclose(kept, torch.full_like(kept, 1 / 0.7))


@pytest.mark.parametrize("kwargs", [{"seed": 7}, {"noise_shape": (None, 100)}])
def test_dropout_mask_path_fraction_and_scale(kwargs):
    layer = layers.Dropout(0.25, **kwargs)
    y = layer(torch.ones(200, 100), training=True)
    assert abs((y == 0).float().mean().item() - 0.25) < 0.03
    assert torch.allclose(y[y != 0], torch.tensor(1 / 0.75))


def test_dropout_noise_shape_shares_mask():
    layer = layers.Dropout(0.5, noise_shape=(None, 1, 8))
    y = layer(torch.ones(4, 6, 8), training=True)
    assert torch.equal(y, y[:, :1].expand_as(y))
    assert (y == 0).any() and (y != 0).any()


def test_dropout_seed_reproducible_and_advancing():
    a, b = layers.Dropout(0.5, seed=11), layers.Dropout(0.5, seed=11)
    x = torch.ones(50, 50)
    ya1, yb1 = a(x, training=True), b(x, training=True)
    assert torch.equal(ya1, yb1)
    assert not torch.equal(a(x, training=True), ya1)  # the generator advances


def test_dropout_training_resolution():
    layer = layers.Dropout(0.5)
    x = torch.ones(20, 20)
    assert torch.equal(layer(x), x)  # default: inference
    assert torch.equal(layer(x, training=False), x)
    layer.train()
    assert not torch.equal(layer(x), x)  # module .train() mode
    layer.eval()
    model = lamina.Sequential([lamina.Input((20,)), layers.Dropout(0.5)])
    assert not torch.equal(model(x, training=True), x)  # outer call propagates
    assert torch.equal(model(x), x)


def test_dropout_rate_one_and_gradients():
    assert torch.equal(layers.Dropout(1.0)(torch.ones(3), training=True), torch.zeros(3))
    x = torch.ones(10, 10, requires_grad=True)
    layers.Dropout(0.5)(x, training=True).sum().backward()
    assert set(x.grad.unique().tolist()) <= {0.0, 2.0}


@pytest.mark.parametrize("cls", [layers.Dropout, layers.GaussianDropout, layers.AlphaDropout, layers.SpatialDropout1D])
@pytest.mark.parametrize("rate", [1.5, -0.1, "half"])
def test_bad_rate(cls, rate):
    with pytest.raises(ValueError, match="rate"):
        cls(rate)


def test_bad_noise_shape_and_seed():
    with pytest.raises(ValueError, match="noise_shape"):
        layers.Dropout(0.5, noise_shape="abc")
    with pytest.raises(ValueError, match="index 1: 0"):
        layers.Dropout(0.5, noise_shape=(None, 0))
    with pytest.raises(ValueError, match="seed"):
        layers.Dropout(0.5, seed=1.5)
    layer = layers.Dropout(0.5, noise_shape=(None, 3), name="dp")
    with pytest.raises(ValueError, match=r'Layer "dp" \(Dropout\) expects .*\(2, 4\)'):
        layer(torch.ones(2, 4), training=True)
    with pytest.raises(ValueError, match="stddev"):
        layers.GaussianNoise(2.0)


@pytest.mark.parametrize(
    "cls,shape,channel_axis",
    [
        (layers.SpatialDropout1D, (8, 10, 32), -1),
        (layers.SpatialDropout2D, (8, 5, 6, 32), -1),
        (layers.SpatialDropout3D, (8, 3, 4, 5, 32), -1),
    ],
)
def test_spatial_dropout_drops_whole_channels(cls, shape, channel_axis):
    lamina.utils.set_random_seed(1)
    y = cls(0.5)(torch.ones(shape), training=True)
    # move channels next to batch and flatten the spatial axes: each (sample, channel) is all 0 or all 2
    flat = y.movedim(channel_axis, 1).reshape(shape[0], shape[channel_axis], -1)
    assert torch.equal(flat.amin(-1), flat.amax(-1))
    assert set(flat.unique().tolist()) == {0.0, 2.0}
    assert abs((flat[..., 0] == 0).float().mean().item() - 0.5) < 0.15


def test_spatial_dropout2d_channels_first():
    y = layers.SpatialDropout2D(0.5, data_format="channels_first", seed=3)(torch.ones(4, 16, 3, 3), training=True)
    per_map = y.reshape(4, 16, 9)
    assert torch.equal(per_map.amin(-1), per_map.amax(-1))


def test_spatial_dropout_rank_checked():
    with pytest.raises(ValueError, match="rank 4"):
        layers.SpatialDropout2D(0.5)(torch.ones(2, 3, 4))


def test_gaussian_noise_statistics():
    lamina.utils.set_random_seed(0)
    y = layers.GaussianNoise(0.5)(torch.zeros(200, 200), training=True)
    assert abs(y.mean().item()) < 0.01
    assert abs(y.std().item() - 0.5) < 0.01


def test_gaussian_dropout_statistics():
    lamina.utils.set_random_seed(0)
    rate = 0.2
    y = layers.GaussianDropout(rate)(torch.ones(200, 200), training=True)
    assert abs(y.mean().item() - 1.0) < 0.01
    assert abs(y.std().item() - (rate / (1 - rate)) ** 0.5) < 0.01
    with pytest.raises(ValueError, match="rate < 1"):
        layers.GaussianDropout(1.0)(torch.ones(2), training=True)


def test_alpha_dropout_keeps_mean_and_variance():
    lamina.utils.set_random_seed(0)
    x = torch.randn(300, 300)
    y = layers.AlphaDropout(0.2)(x, training=True)
    assert abs(y.mean().item()) < 0.02
    assert abs(y.var().item() - 1.0) < 0.03
    assert (y != x).float().mean().item() > 0.15


def test_activity_regularization_loss():
    layer = layers.ActivityRegularization(l1=0.1, l2=0.5)
    x = torch.tensor([[1.0, -2.0], [3.0, 0.0]])
    assert torch.equal(layer(x), x)
    expected = (0.1 * 6 + 0.5 * 14) / 2  # divided by the batch size, as Keras does
    assert len(layer.losses) == 1
    assert float(layer.losses[0]) == pytest.approx(expected)
    config = layer.get_config()
    assert "activity_regularizer" not in config and config["l1"] == 0.1
    assert layers.ActivityRegularization.from_config(config).l2 == 0.5


def test_masks_pass_through():
    x = torch.ones(2, 3, 4)
    x._keras_mask = torch.tensor([[True, False, True], [True, True, False]])
    for layer in (layers.Dropout(0.5), layers.GaussianNoise(0.1), layers.ActivityRegularization()):
        assert torch.equal(layer(x)._keras_mask, x._keras_mask)


def test_keras_config_loads():
    kconfig = keras_layer_from_config("Dropout", {"rate": 0.3, "noise_shape": [None, 1], "seed": 4}).get_config()
    layer = layers.Dropout.from_config(kconfig)
    assert layer.rate == 0.3 and layer.noise_shape == (None, 1) and layer.seed == 4
    assert np.allclose(layer(np.ones((2, 3), "float32")), 1.0)
