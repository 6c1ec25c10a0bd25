import numpy as np
import pytest
import torch

import lamina
from lamina import layers
from tests.layers.harness import keras_forward, make_input, run_layer_test


# ---------------------------------------------------------------- windowed pooling, parity with Keras 3 (torch)
@pytest.mark.parametrize("cls", [layers.MaxPooling1D, layers.AveragePooling1D])
@pytest.mark.parametrize(
    "kwargs,shape",
    [
        ({"pool_size": 2}, (2, 9, 3)),
        ({"pool_size": 3, "strides": 1}, (2, 9, 3)),
        ({"pool_size": 3, "strides": 2, "padding": "same"}, (2, 9, 3)),  # symmetric "same"
        ({"pool_size": 2, "strides": 1, "padding": "same"}, (2, 9, 3)),  # asymmetric "same" (extra at the end)
        ({"pool_size": 4, "strides": 3, "padding": "same"}, (2, 10, 3)),
        ({"pool_size": 2, "strides": 3}, (2, 10, 3)),  # stride > pool
        ({"pool_size": 3, "padding": "same", "data_format": "channels_first"}, (2, 3, 8)),
    ],
)
def test_pooling1d(cls, kwargs, shape):
    run_layer_test(cls, kwargs, shape)


@pytest.mark.parametrize("cls", [layers.MaxPooling2D, layers.AveragePooling2D])
@pytest.mark.parametrize(
    "kwargs,shape",
    [
        ({"pool_size": 2}, (2, 7, 6, 3)),
        ({"pool_size": (2, 3), "strides": (1, 2)}, (2, 7, 6, 3)),
        ({"pool_size": 3, "strides": 2, "padding": "same"}, (2, 7, 7, 3)),
        ({"pool_size": 4, "strides": 1, "padding": "same"}, (2, 6, 7, 3)),
        ({"pool_size": (2, 3), "strides": 2, "padding": "same"}, (2, 8, 7, 3)),
        ({"pool_size": 2, "padding": "same", "data_format": "channels_first"}, (2, 3, 5, 7)),
        ({"pool_size": 3, "strides": 2, "data_format": "channels_first"}, (2, 3, 7, 8)),
    ],
)
def test_pooling2d(cls, kwargs, shape):
    run_layer_test(cls, kwargs, shape)


@pytest.mark.parametrize("cls", [layers.MaxPooling3D, layers.AveragePooling3D])
@pytest.mark.parametrize(
    "kwargs,shape",
    [
        ({"pool_size": 2}, (1, 4, 5, 4, 2)),
        ({"pool_size": 2, "strides": 1, "padding": "same"}, (1, 3, 4, 3, 2)),
        ({"pool_size": (3, 2, 2), "strides": 2, "padding": "same", "data_format": "channels_first"}, (1, 2, 5, 4, 3)),
    ],
)
def test_pooling3d(cls, kwargs, shape):
    run_layer_test(cls, kwargs, shape)


def test_default_pool_sizes_and_strides():
    assert layers.MaxPooling1D().pool_size == (2,) and layers.MaxPooling1D().strides == (2,)
    assert layers.MaxPooling2D().pool_size == (2, 2)
    assert layers.MaxPooling3D().strides == (2, 2, 2)
    assert layers.AveragePooling2D(3, strides=1).strides == (1, 1)
    config = layers.MaxPooling2D(3, padding="SAME").get_config()
    assert (config["pool_size"], config["strides"], config["padding"]) == ((3, 3), (3, 3), "same")


def test_same_average_pooling_matches_keras_torch_numbers():
    """Symmetric "same" padding is left out of the mean; asymmetric padding replicates edges (Keras on torch)."""
    x = np.arange(1.0, 6.0, dtype="float32").reshape(1, 5, 1)
    sym = layers.AveragePooling1D(3, strides=1, padding="same")(x).flatten().tolist()
    assert sym == pytest.approx([1.5, 2.0, 3.0, 4.0, 4.5])
    asym = layers.AveragePooling1D(2, strides=1, padding="same")(x).flatten().tolist()
    assert asym == pytest.approx([1.5, 2.5, 3.5, 4.5, 5.0])
    import keras

    for pool in (2, 3, 4):
        ours = layers.AveragePooling1D(pool, strides=1, padding="same")(x).numpy()
        np.testing.assert_allclose(ours, keras_forward(keras.layers.AveragePooling1D(pool, 1, "same"), x), atol=1e-6)


def test_max_pooling_same_with_negative_values():
    x = -np.arange(1.0, 8.0, dtype="float32").reshape(1, 7, 1)
    out = layers.MaxPooling1D(2, strides=2, padding="same")(x).flatten().tolist()
    assert out == [-1.0, -3.0, -5.0, -7.0]


def test_pooling_non_contiguous_input():
    x = torch.randn(2, 3, 8, 7).permute(0, 2, 3, 1)
    for layer in (
        layers.MaxPooling2D(3, strides=2, padding="same"),
        layers.AveragePooling2D(2, padding="same"),
        layers.GlobalAveragePooling2D(),
        layers.GlobalMaxPooling2D(),
    ):
        torch.testing.assert_close(layer(x), layer(x.contiguous()))


def test_pooling_symbolic_unknown_dims():
    assert layers.MaxPooling2D(3, padding="same")(lamina.Input((None, 10, 4))).shape == (None, None, 4, 4)
    assert layers.AveragePooling1D(2)(lamina.Input((None, 4))).shape == (None, None, 4)
    assert layers.GlobalMaxPooling2D()(lamina.Input((None, None, 4))).shape == (None, 4)


def test_pooling_is_built_without_weights():
    layer = layers.MaxPooling2D()
    assert layer.built and layer.weights == [] and layer.count_params() == 0


# ---------------------------------------------------------------- global pooling
@pytest.mark.parametrize(
    "cls,shape",
    [
        (layers.GlobalMaxPooling1D, (2, 5, 3)),
        (layers.GlobalAveragePooling1D, (2, 5, 3)),
        (layers.GlobalMaxPooling2D, (2, 4, 5, 3)),
        (layers.GlobalAveragePooling2D, (2, 4, 5, 3)),
        (layers.GlobalMaxPooling3D, (2, 3, 4, 2, 3)),
        (layers.GlobalAveragePooling3D, (2, 3, 4, 2, 3)),
    ],
)
@pytest.mark.parametrize(
    "kwargs",
    [{}, {"keepdims": True}, {"data_format": "channels_first"}, {"data_format": "channels_first", "keepdims": True}],
)
def test_global_pooling(cls, shape, kwargs):
    run_layer_test(cls, kwargs, shape)


@pytest.mark.parametrize(
    "kwargs,shape,mask_axis",
    [
        ({}, (2, 5, 3), 1),
        ({"keepdims": True}, (2, 5, 3), 1),
        ({"data_format": "channels_first"}, (2, 3, 5), 2),
    ],
)
def test_global_average_pooling1d_mask_parity(kwargs, shape, mask_axis):
    mask = np.array([[True, True, False, True, False], [True, False, False, False, False]])
    run_layer_test(layers.GlobalAveragePooling1D, kwargs, shape, call_kwargs={"mask": mask})
    x = make_input(shape)
    out = layers.GlobalAveragePooling1D(**kwargs)(x, mask=torch.as_tensor(mask)).numpy()
    mean0 = np.take(x[0], [0, 1, 3], axis=mask_axis - 1).mean(axis=mask_axis - 1)
    np.testing.assert_allclose(out[0].reshape(-1), mean0, rtol=1e-6)


def test_global_average_pooling1d_ignores_masked_nan_and_uses_keras_mask():
    x = torch.tensor([[[1.0], [3.0], [float("nan")]]])
    x._keras_mask = torch.tensor([[True, True, False]])
    out = layers.GlobalAveragePooling1D()(x)
    assert out.tolist() == [[2.0]]
    assert getattr(out, "_keras_mask", None) is None


def test_global_pooling_output_shapes():
    assert layers.GlobalAveragePooling2D(keepdims=True).compute_output_shape((None, 4, 5, 3)) == (None, 1, 1, 3)
    assert layers.GlobalMaxPooling3D(data_format="channels_first", keepdims=True).compute_output_shape(
        (None, 3, 4, 5, 6)
    ) == (None, 3, 1, 1, 1)
    assert layers.GlobalMaxPooling1D().compute_output_shape((None, None, 7)) == (None, 7)


def test_aliases_are_the_same_classes_as_in_keras():
    import keras

    for alias, name in [
        ("MaxPool1D", "MaxPooling1D"),
        ("MaxPool2D", "MaxPooling2D"),
        ("MaxPool3D", "MaxPooling3D"),
        ("AvgPool1D", "AveragePooling1D"),
        ("AvgPool2D", "AveragePooling2D"),
        ("AvgPool3D", "AveragePooling3D"),
        ("GlobalMaxPool1D", "GlobalMaxPooling1D"),
        ("GlobalMaxPool2D", "GlobalMaxPooling2D"),
        ("GlobalMaxPool3D", "GlobalMaxPooling3D"),
        ("GlobalAvgPool1D", "GlobalAveragePooling1D"),
        ("GlobalAvgPool2D", "GlobalAveragePooling2D"),
        ("GlobalAvgPool3D", "GlobalAveragePooling3D"),
    ]:
        assert getattr(keras.layers, alias) is getattr(keras.layers, name)
        assert getattr(layers, alias) is getattr(layers, name)


def test_keras_configs_load():
    import keras

    for klayer in (
        keras.layers.MaxPooling2D(3, strides=1, padding="same", name="p"),
        keras.layers.AveragePooling3D(2, data_format="channels_first", name="a"),
        keras.layers.GlobalAveragePooling1D(keepdims=True, name="g"),
    ):
        config = klayer.get_config()
        assert getattr(layers, type(klayer).__name__).from_config(config).get_config() == config


# ---------------------------------------------------------------- errors
@pytest.mark.parametrize(
    "make,match",
    [
        (lambda: layers.MaxPooling2D(padding="full"), r"padding.*Received: padding='full'"),
        (lambda: layers.MaxPooling2D(0), r"pool_size.*Received: pool_size=0"),
        (lambda: layers.AveragePooling1D((2, 2)), r"`pool_size` argument must be a tuple of 1 integers"),
        (lambda: layers.AveragePooling2D(2, strides=0), r"strides.*Received: strides=0"),
        (lambda: layers.MaxPooling3D(data_format="NCHW"), r"data_format.*Received: data_format=nchw"),
        (lambda: layers.GlobalMaxPooling2D(data_format="wrong"), r"data_format"),
    ],
)
def test_invalid_arguments(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_wrong_rank_and_too_small_inputs():
    with pytest.raises(
        ValueError,
        match=r'Layer "p" \(MaxPooling2D\) expects inputs of rank 4, but received shape '
        r"\(2, 5, 3\) \(rank 3\)",
    ):
        layers.MaxPooling2D(name="p")(torch.ones(2, 5, 3))
    with pytest.raises(ValueError, match=r'Layer "g" \(GlobalAveragePooling1D\) expects inputs of rank 3'):
        layers.GlobalAveragePooling1D(name="g")(torch.ones(2, 5, 3, 1))
    with pytest.raises(ValueError, match=r"zero or negative"):
        layers.MaxPooling2D(4)(lamina.Input((3, 8, 2)))


# ---------------------------------------------------------------- adaptive pooling
@pytest.mark.parametrize(
    "cls,kwargs,shape",
    [
        (layers.AdaptiveMaxPooling1D, {"output_size": 3}, (2, 8, 3)),
        (layers.AdaptiveAveragePooling1D, {"output_size": 3}, (2, 7, 3)),
        (layers.AdaptiveAveragePooling1D, {"output_size": 4, "data_format": "channels_first"}, (2, 3, 9)),
        (layers.AdaptiveMaxPooling2D, {"output_size": (2, 3)}, (2, 7, 8, 3)),
        (layers.AdaptiveAveragePooling2D, {"output_size": 3}, (2, 7, 5, 3)),
        (layers.AdaptiveMaxPooling2D, {"output_size": 2, "data_format": "channels_first"}, (2, 3, 5, 5)),
        (layers.AdaptiveMaxPooling3D, {"output_size": 2}, (1, 5, 4, 3, 2)),
        (layers.AdaptiveAveragePooling3D, {"output_size": (1, 2, 3)}, (1, 5, 4, 7, 2)),
    ],
)
def test_adaptive_pooling(cls, kwargs, shape):
    run_layer_test(cls, kwargs, shape)


def test_adaptive_pooling_errors():
    with pytest.raises(ValueError, match=r"output_size"):
        layers.AdaptiveMaxPooling2D((2, 2, 2))
    with pytest.raises(ValueError, match=r"output_size"):
        layers.AdaptiveAveragePooling1D(0)
