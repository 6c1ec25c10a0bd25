import keras
import numpy as np
import pytest
import torch

import lamina
from lamina import layers
from tests.layers.harness import keras_layer_from_config, run_layer_test


@pytest.mark.parametrize(
    "kwargs,shape",
    [
        ({"scale": 1 / 255}, (2, 3)),
        ({"scale": 1 / 127.5, "offset": -1.0}, (2, 4, 4, 3)),
        ({"scale": np.array([0.5, 2.0, 3.0], "float32"), "offset": np.array([1.0, 0.0, -1.0])}, (2, 4, 3)),
        ({"scale": 2, "offset": 1}, (2, 3)),
    ],
)
def test_rescaling(kwargs, shape):
    run_layer_test(layers.Rescaling, kwargs, shape)


def test_rescaling_array_config_is_keras_numpy_form():
    config = layers.Rescaling(np.array([1.0, 2.0])).get_config()
    assert config["scale"] == {"class_name": "__numpy__", "config": {"value": [1.0, 2.0], "dtype": "float64"}}
    assert config == keras.layers.Rescaling(np.array([1.0, 2.0]), name=config["name"]).get_config()
    assert np.array_equal(layers.Rescaling.from_config(config).scale, [1.0, 2.0])


def test_rescaling_int_input_becomes_float():
    y = layers.Rescaling(0.5)(np.array([[2, 4]], "uint8"))
    assert y.dtype == torch.float32 and y.tolist() == [[1.0, 2.0]]


@pytest.mark.parametrize(
    "kwargs,shape",
    [
        ({}, (4, 3)),
        ({"axis": None}, (4, 3)),
        ({"axis": (1, 2)}, (2, 3, 4)),
        ({"axis": 1}, (2, 3, 4)),
        ({"invert": True}, (4, 3)),
        ({"mean": [1.0, 2.0, 3.0], "variance": [1.0, 4.0, 9.0]}, (2, 3)),
        ({"mean": 2.0, "variance": 4.0}, (2, 3)),
        ({"mean": 2.0, "variance": 4.0, "axis": None}, (2, 3)),
        ({"mean": [[1.0], [2.0]], "variance": [[1.0], [0.5]], "axis": (1, 2)}, (2, 2, 3)),
        ({"mean": [0.5, 1.0], "variance": [2.0, 3.0], "invert": True}, (3, 2)),
    ],
)
def test_normalization(kwargs, shape):
    run_layer_test(layers.Normalization, kwargs, shape)


def test_normalization_weights_as_keras():
    layer = layers.Normalization(name="norm")
    layer.build((None, 3))
    std = lamina.backend.standardize_dtype
    assert [(w.path, w.shape, std(w.dtype), w.trainable) for w in layer.weights] == [
        ("norm/mean", (3,), "float32", False),
        ("norm/variance", (3,), "float32", False),
        ("norm/count", (), "int32", False),
    ]
    assert layer.trainable_weights == [] and list(layer.parameters()) == []
    klayer = keras.layers.Normalization()
    klayer.build((None, 3))
    assert [(w.name, tuple(w.shape), w.dtype) for w in klayer.weights] == [
        (w.name, tuple(w.shape), std(w.dtype)) for w in layer.weights
    ]
    assert layers.Normalization(mean=[1.0], variance=[2.0]).weights == []


def _keras_adapted(data, **kwargs):
    k = keras.layers.Normalization(**kwargs)
    k.adapt(data)
    return k


@pytest.mark.parametrize(
    "kwargs,shape",
    [
        ({}, (50, 4)),
        ({"axis": None}, (20, 3)),
        ({"axis": (1, 2)}, (10, 2, 3)),
        ({"axis": 1}, (10, 3, 2)),
        ({"invert": True}, (30, 2)),
    ],
)
def test_normalization_adapt_numpy_parity(kwargs, shape):
    data = (np.random.default_rng(0).standard_normal(shape) * 3 + 5).astype("float32")
    layer = layers.Normalization(**kwargs)
    layer.adapt(data)
    k = _keras_adapted(data, **kwargs)
    for ours, theirs in zip(layer.weights, k.weights, strict=True):
        np.testing.assert_allclose(ours.numpy(), keras.ops.convert_to_numpy(theirs), rtol=1e-6)
    np.testing.assert_allclose(layer(data).numpy(), keras.ops.convert_to_numpy(k(data)), rtol=1e-5, atol=1e-5)
    if not kwargs.get("invert"):
        out = layer(data).numpy()
        reduce = tuple(d for d in range(len(shape)) if d not in layer._keep_axis)
        np.testing.assert_allclose(out.mean(axis=reduce), 0, atol=1e-4)
        np.testing.assert_allclose(out.std(axis=reduce), 1, atol=1e-3)


def test_normalization_adapt_tensor_and_batches_parity():
    data = (np.random.default_rng(1).standard_normal((60, 3)) * [1, 2, 3] + [0, 5, -5]).astype("float32")
    k = _keras_adapted(data)
    expected = [keras.ops.convert_to_numpy(w) for w in k.weights[:2]]
    batches = [data[i : i + 16] for i in range(0, 60, 16)]  # uneven last batch
    loader = torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(torch.as_tensor(data), torch.zeros(60)), batch_size=7
    )
    for source in (torch.as_tensor(data), batches, iter(batches), [(b, b[:, :1]) for b in batches], loader):
        layer = layers.Normalization()
        layer.adapt(source)
        for ours, theirs in zip(layer.get_weights()[:2], expected, strict=True):
            np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-6)


def test_normalization_readapt_and_set_weights_take_effect():
    layer = layers.Normalization()
    layer.adapt(np.array([[0.0], [2.0]], "float32"))
    assert layer(np.array([[1.0]], "float32")).item() == pytest.approx(0.0)
    layer.adapt(np.array([[10.0], [12.0]], "float32"))  # re-adapt on the built layer
    assert layer(np.array([[11.0]], "float32")).item() == pytest.approx(0.0)
    mean_v, var_v = layer.weights[:2]
    mean_v.assign([1.0])
    var_v.assign([4.0])
    assert layer(np.array([[5.0]], "float32")).item() == pytest.approx(2.0)
    assert layer.mean.shape == (1, 1) and layer.variance.tolist() == [[4.0]]


def test_normalization_in_a_model_and_symbolic():
    norm = layers.Normalization()
    norm.adapt(np.random.default_rng(0).standard_normal((20, 4)).astype("float32"))
    model = lamina.Sequential([lamina.Input((4,)), norm, layers.Dense(2)])
    assert model(np.zeros((3, 4), "float32")).shape == (3, 2)


def test_normalization_errors():
    with pytest.raises(ValueError, match="both `mean` and `variance`"):
        layers.Normalization(mean=[1.0])
    with pytest.raises(ValueError, match="same shape"):
        layers.Normalization(mean=[1.0, 2.0], variance=[1.0])
    with pytest.raises(ValueError, match="rank of `mean`"):
        layers.Normalization(mean=[[1.0]], variance=[[1.0]])
    with pytest.raises(ValueError, match="empty iterable"):
        layers.Normalization().adapt([])
    with pytest.raises(TypeError, match="Unsupported data type"):
        layers.Normalization().adapt(3.0)
    layer = layers.Normalization(name="n")
    layer.adapt(np.zeros((4, 3), "float32"))
    with pytest.raises(ValueError, match=r'Layer "n" \(Normalization\) expects adapt\(\) data matching'):
        layer.adapt(np.zeros((4, 5), "float32"))
    with pytest.raises(ValueError, match="range"):
        layers.Normalization(axis=3).adapt(np.zeros((4, 3), "float32"))
    with pytest.raises(ValueError, match="without fixed"):
        layers.Normalization(mean=1.0, variance=1.0).adapt(np.zeros((4, 3), "float32"))


def test_normalization_config_matches_keras():
    for kwargs in ({}, {"axis": (1, 2), "invert": True}, {"mean": [1.0, 2.0], "variance": [3.0, 4.0]}):
        ours = layers.Normalization(**kwargs, name="n").get_config()
        assert ours == keras.layers.Normalization(**kwargs, name="n").get_config()
        assert keras_layer_from_config("Normalization", ours).get_config() == ours
