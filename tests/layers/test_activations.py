import warnings

import numpy as np
import pytest
import torch

import lamina
from lamina import layers
from tests.layers.harness import keras_forward, keras_layer_from_config, run_layer_test


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"max_value": 6.0},
        {"max_value": 1.0},
        {"negative_slope": 0.1},
        {"threshold": 0.5},
        {"negative_slope": 0.2, "threshold": 0.3},
        {"negative_slope": 0.2, "max_value": 1.5},
        {"negative_slope": 0.1, "threshold": 0.2, "max_value": 1.0},
    ],
)
def test_relu(kwargs):
    run_layer_test(layers.ReLU, kwargs, (3, 5))


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"max_value": -1.0}, "max_value=-1.0"),
        ({"negative_slope": -0.1}, "negative_slope=-0.1"),
        ({"negative_slope": None}, "negative_slope=None"),
        ({"threshold": -1.0}, "threshold=-1.0"),
    ],
)
def test_relu_bad_args(kwargs, match):
    with pytest.raises(ValueError, match=match):
        layers.ReLU(**kwargs)


@pytest.mark.parametrize("kwargs", [{}, {"negative_slope": 0.05}, {"negative_slope": 0.0}])
def test_leaky_relu(kwargs):
    run_layer_test(layers.LeakyReLU, kwargs, (2, 3, 4))


def test_leaky_relu_default_and_deprecated_alpha():
    assert layers.LeakyReLU().negative_slope == 0.3
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        layer = layers.LeakyReLU(alpha=0.1)
    assert layer.negative_slope == 0.1 and "deprecated" in str(w[0].message)
    assert "alpha" not in layer.get_config()
    with pytest.raises(ValueError, match="negative_slope=-1"):
        layers.LeakyReLU(-1)


@pytest.mark.parametrize(
    "kwargs,shape",
    [
        ({}, (2, 4)),
        ({"shared_axes": [1, 2]}, (2, 3, 4, 5)),
        ({"shared_axes": 1}, (2, 3, 4)),
        ({"alpha_initializer": "ones", "alpha_regularizer": "l2"}, (2, 3, 4)),
        ({"alpha_constraint": "non_neg"}, (2, 4)),
    ],
)
def test_prelu(kwargs, shape):
    run_layer_test(layers.PReLU, kwargs, shape, expected_num_weights=1)


def test_prelu_weight_shape_name_and_spec():
    layer = layers.PReLU(shared_axes=[1, 2], name="pr")
    layer.build((None, 5, 6, 3))
    assert [(w.path, w.shape, w.trainable) for w in layer.weights] == [("pr/alpha", (1, 1, 3), True)]
    assert isinstance(layer.alpha, torch.nn.Parameter)
    layer(torch.ones(2, 7, 8, 3))  # shared axes may change size
    with pytest.raises(ValueError, match=r'Layer "pr" \(PReLU\) expects last axis 3'):
        layer(torch.ones(2, 7, 8, 4))
    assert layers.PReLU().get_config()["alpha_initializer"]["class_name"] == "Zeros"


def test_prelu_learns():
    layer = layers.PReLU()
    x = torch.tensor([[-1.0, -2.0]])
    layer(x)
    (layer(x) - torch.tensor([[-0.5, -1.0]])).square().sum().backward()
    assert layer.alpha.grad is not None and (layer.alpha.grad != 0).all()


@pytest.mark.parametrize("kwargs", [{}, {"alpha": 0.5}, {"alpha": 2.0}])
def test_elu(kwargs):
    layer = run_layer_test(layers.ELU, kwargs, (3, 4))
    assert layer.get_config()["alpha"] == kwargs.get("alpha", 1.0)


@pytest.mark.parametrize(
    "kwargs,shape",
    [
        ({}, (2, 5)),
        ({"axis": 1}, (2, 3, 4)),
        ({"axis": (1, 2)}, (2, 3, 4)),
        ({"axis": [-1]}, (2, 3, 4)),
    ],
)
def test_softmax(kwargs, shape):
    run_layer_test(layers.Softmax, kwargs, shape)


@pytest.mark.parametrize("mask_shape,axis", [((2, 3, 4), -1), ((2, 1, 4), -1), ((4,), -1), ((2, 3, 1), 1)])
def test_softmax_mask_parity(mask_shape, axis):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3, 4)).astype("float32")
    mask = rng.random(mask_shape) > 0.4
    layer = layers.Softmax(axis=axis)
    got = layer(x, mask=torch.as_tensor(mask)).numpy()
    klayer = keras_layer_from_config("Softmax", layer.get_config())
    import keras

    expected = keras_forward(klayer, x, mask=keras.ops.convert_to_tensor(mask))
    np.testing.assert_allclose(got, expected, atol=1e-6)
    assert np.all(got[np.broadcast_to(~mask, got.shape)] == 0)


def test_softmax_masked_positions_get_zero_and_rows_sum_to_one():
    x = torch.randn(2, 5)
    mask = torch.tensor([[True, True, False, True, False], [False] * 5])
    y = layers.Softmax()(x, mask=mask)
    assert torch.allclose(y[0].sum(), torch.tensor(1.0))
    assert (y[0, ~mask[0]] == 0).all()
    assert (y[1] == 0).all()  # fully masked row: zeros, not uniform
    # numeric masks: > 0.5 keeps
    y2 = layers.Softmax()(x, mask=mask.float())
    assert torch.allclose(y, y2)


def test_softmax_mask_from_keras_mask_attribute():
    x = torch.randn(2, 4)
    x._keras_mask = torch.tensor([[True, False, True, True], [True, True, True, False]])
    y = layers.Softmax()(x)
    assert (y[~x._keras_mask] == 0).all()
    assert torch.equal(y._keras_mask, x._keras_mask)


def test_softmax_bad_mask_names_layer():
    with pytest.raises(ValueError, match=r'Layer "sm" \(Softmax\) expects a mask broadcastable'):
        layers.Softmax(name="sm")(torch.randn(2, 3, 4), mask=torch.ones(2, 3, dtype=torch.bool))


def test_activation_layers_in_a_model():
    model = lamina.Sequential(
        [
            lamina.Input((4,)),
            layers.Dense(3),
            layers.PReLU(),
            layers.ReLU(max_value=1.0),
            layers.LeakyReLU(),
            layers.ELU(),
            layers.Softmax(),
        ]
    )
    y = model(np.ones((2, 4), "float32"))
    assert y.shape == (2, 3)
    assert torch.allclose(y.sum(-1), torch.ones(2))


@pytest.mark.parametrize(
    "cls,kwargs",
    [
        (layers.Softmax, {}),
        (layers.Softmax, {"axis": (1, 2)}),
        (layers.PReLU, {}),
        (layers.ReLU, {"max_value": 1.0}),
        (layers.ELU, {}),
        (layers.LeakyReLU, {}),
    ],
)
def test_mixed_precision_outputs_compute_dtype(cls, kwargs):
    layer = cls(dtype="mixed_bfloat16", **kwargs)
    y = layer(torch.randn(2, 3, 4))
    assert y.dtype == torch.bfloat16
    assert all(w.dtype == torch.float32 for w in layer.weights)


def test_relu_with_max_value_on_special_values_equals_keras():
    import keras

    x = np.array([[-np.inf, -2.0, -0.0, 0.0, 3.0, 6.0, 7.5, np.inf, np.nan]], "float32")
    for max_value in (6.0, 1.0):
        expected = keras.ops.convert_to_numpy(keras.layers.ReLU(max_value=max_value)(x))
        np.testing.assert_array_equal(layers.ReLU(max_value=max_value)(x).numpy(), expected)
