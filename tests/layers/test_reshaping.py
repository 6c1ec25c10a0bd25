import numpy as np
import pytest
import torch

import lamina
from lamina import layers
from tests.layers.harness import keras_layer_from_config, run_layer_test


@pytest.mark.parametrize(
    "kwargs,shape,expected",
    [
        ({}, (2, 3, 4), (2, 12)),
        ({}, (3,), (3, 1)),
        ({"data_format": "channels_first"}, (2, 3, 4, 5), (2, 60)),
        ({"data_format": "channels_last"}, (2, 3, 4, 5), (2, 60)),
    ],
)
def test_flatten(kwargs, shape, expected):
    run_layer_test(layers.Flatten, kwargs, shape, expected_output_shape=expected, check_symbolic=len(shape) > 1)


def test_flatten_channels_first_feature_order_matches_channels_last():
    x = torch.randn(2, 3, 4, 5)
    a = layers.Flatten(data_format="channels_first")(x)
    b = layers.Flatten()(x.permute(0, 2, 3, 1))
    assert torch.equal(a, b)


def test_flatten_symbolic_unknown_dim():
    inp = lamina.Input(shape=(None, 4))
    assert layers.Flatten()(inp).shape == (None, None)


@pytest.mark.parametrize(
    "target,shape,expected",
    [
        ((3, 4), (2, 12), (2, 3, 4)),
        ((-1, 2, 2), (2, 12), (2, 3, 2, 2)),
        ((6, -1), (2, 3, 4), (2, 6, 2)),
        ((12,), (2, 3, 2, 2), (2, 12)),
    ],
)
def test_reshape(target, shape, expected):
    run_layer_test(layers.Reshape, {"target_shape": target}, shape, expected_output_shape=expected)


def test_reshape_symbolic_infers_minus_one():
    inp = lamina.Input(shape=(12,))
    assert layers.Reshape((-1, 2, 2))(inp).shape == (None, 3, 2, 2)
    assert layers.Reshape((-1, 2))(lamina.Input(shape=(None, 4))).shape == (None, None, 2)


def test_reshape_incompatible_names_layer_and_shapes():
    layer = layers.Reshape((5, 2), name="rs")
    with pytest.raises(ValueError, match=r'Layer "rs" \(Reshape\) expects .*target_shape=\(5, 2\).*\(3, 4\)'):
        layer(np.zeros((2, 3, 4), "float32"))
    with pytest.raises(ValueError, match=r"target_shape=\(5, -1\).*\(12,\)"):
        layers.Reshape((5, -1))(lamina.Input(shape=(12,)))


@pytest.mark.parametrize("bad", [(-2, 3), (-1, -1), ("a", 2)])
def test_reshape_bad_target(bad):
    with pytest.raises(ValueError, match="target_shape"):
        layers.Reshape(bad)


@pytest.mark.parametrize("dims,shape", [((2, 1), (2, 3, 4)), ((3, 1, 2), (2, 3, 4, 5)), ((1,), (2, 3))])
def test_permute(dims, shape):
    layer = run_layer_test(layers.Permute, {"dims": dims}, shape)
    assert layer.get_config()["dims"] == dims


def test_permute_bad_dims():
    with pytest.raises(ValueError, match=r"dims=\(0, 1\)"):
        layers.Permute((0, 1))
    with pytest.raises(ValueError, match=r"rank 3"):
        layers.Permute((2, 1))(np.zeros((2, 3), "float32"))


def test_repeat_vector():
    run_layer_test(layers.RepeatVector, {"n": 3}, (2, 4), expected_output_shape=(2, 3, 4))
    with pytest.raises(TypeError, match="`n`"):
        layers.RepeatVector(2.0)
    with pytest.raises(ValueError, match="n=0"):
        layers.RepeatVector(0)


@pytest.mark.parametrize(
    "kwargs,shape",
    [
        ({}, (2, 3, 4)),
        ({"padding": 2}, (2, 3, 4)),
        ({"padding": (1, 3)}, (2, 3, 4)),
        ({"padding": (2, 0), "data_format": "channels_first"}, (2, 3, 4)),
    ],
)
def test_zero_padding1d(kwargs, shape):
    run_layer_test(layers.ZeroPadding1D, kwargs, shape)


@pytest.mark.parametrize(
    "kwargs,shape",
    [
        ({}, (2, 3, 4, 2)),
        ({"padding": 2}, (2, 3, 4, 2)),
        ({"padding": (1, 2)}, (2, 3, 4, 2)),
        ({"padding": ((1, 0), (0, 3))}, (2, 3, 4, 2)),
        ({"padding": ((1, 0), (2, 3)), "data_format": "channels_first"}, (2, 2, 3, 4)),
    ],
)
def test_zero_padding2d(kwargs, shape):
    run_layer_test(layers.ZeroPadding2D, kwargs, shape)


@pytest.mark.parametrize(
    "kwargs,shape",
    [
        ({}, (1, 2, 3, 2, 2)),
        ({"padding": (1, 0, 2)}, (1, 2, 3, 2, 2)),
        ({"padding": ((1, 0), (0, 2), (1, 1)), "data_format": "channels_first"}, (1, 2, 2, 3, 2)),
    ],
)
def test_zero_padding3d(kwargs, shape):
    run_layer_test(layers.ZeroPadding3D, kwargs, shape)


def test_zero_padding_values_and_config():
    y = layers.ZeroPadding2D(((1, 0), (0, 1)))(torch.ones(1, 1, 1, 1))
    assert y[0, :, :, 0].tolist() == [[0.0, 0.0], [1.0, 0.0]]
    assert layers.ZeroPadding2D(1).get_config()["padding"] == ((1, 1), (1, 1))
    assert layers.ZeroPadding1D(2).get_config()["padding"] == (2, 2)


@pytest.mark.parametrize(
    "cls,bad,match",
    [
        (layers.ZeroPadding2D, (1, 2, 3), "should have 2 elements"),
        (layers.ZeroPadding3D, (1, 2), "should have 3 elements"),
        (layers.ZeroPadding1D, (1, 2, 3), "padding"),
        (layers.ZeroPadding1D, -1, "padding"),
        (layers.ZeroPadding2D, ((1, -1), (0, 0)), "1st entry of padding"),
        (layers.ZeroPadding2D, "same", "padding"),
    ],
)
def test_zero_padding_bad_args(cls, bad, match):
    with pytest.raises(ValueError, match=match):
        cls(bad)


def test_bad_data_format():
    with pytest.raises(ValueError, match="data_format=channels_middle"):
        layers.ZeroPadding2D(data_format="channels_middle")


@pytest.mark.parametrize(
    "kwargs,shape",
    [
        ({}, (2, 5, 3)),
        ({"cropping": 2}, (2, 5, 3)),
        ({"cropping": (0, 3)}, (2, 5, 3)),
    ],
)
def test_cropping1d(kwargs, shape):
    run_layer_test(layers.Cropping1D, kwargs, shape)


@pytest.mark.parametrize(
    "kwargs,shape",
    [
        ({}, (2, 4, 5, 2)),
        ({"cropping": 1}, (2, 4, 5, 2)),
        ({"cropping": (1, 2)}, (2, 4, 5, 2)),
        ({"cropping": ((1, 0), (0, 2))}, (2, 4, 5, 2)),
        ({"cropping": ((0, 1), (2, 0)), "data_format": "channels_first"}, (2, 2, 4, 5)),
    ],
)
def test_cropping2d(kwargs, shape):
    run_layer_test(layers.Cropping2D, kwargs, shape)


@pytest.mark.parametrize(
    "kwargs,shape",
    [
        ({}, (1, 3, 4, 5, 2)),
        ({"cropping": (0, 1, 2)}, (1, 3, 4, 5, 2)),
        ({"cropping": ((1, 0), (0, 0), (0, 2)), "data_format": "channels_first"}, (1, 2, 3, 4, 5)),
    ],
)
def test_cropping3d(kwargs, shape):
    run_layer_test(layers.Cropping3D, kwargs, shape)


def test_cropping_too_large_names_layer():
    layer = layers.Cropping2D(((2, 2), (0, 0)), name="crop")
    with pytest.raises(ValueError, match=r'Layer "crop" \(Cropping2D\) expects .*\(1, 4, 5, 2\)'):
        layer(np.zeros((1, 4, 5, 2), "float32"))
    with pytest.raises(ValueError, match="Cropping1D"):
        layers.Cropping1D((2, 1))(lamina.Input(shape=(3, 2)))
    with pytest.raises(ValueError, match="should have 2 elements"):
        layers.Cropping2D((1, 1, 1))


def test_cropping_symbolic_unknown_spatial():
    assert layers.Cropping1D((1, 2))(lamina.Input(shape=(None, 3))).shape == (None, None, 3)


@pytest.mark.parametrize("size", [1, 2, 3])
def test_upsampling1d(size):
    run_layer_test(layers.UpSampling1D, {"size": size}, (2, 3, 4))


def test_upsampling1d_bad_size():
    with pytest.raises(TypeError, match="size"):
        layers.UpSampling1D((2,))
    with pytest.raises(ValueError, match="size=0"):
        layers.UpSampling1D(0)


@pytest.mark.parametrize(
    "kwargs,shape",
    [
        ({}, (2, 3, 4, 2)),
        ({"size": (3, 5)}, (2, 3, 4, 2)),
        ({"size": 2, "data_format": "channels_first"}, (2, 2, 3, 4)),
        ({"size": (2, 3), "interpolation": "bilinear"}, (2, 3, 4, 2)),
        ({"size": (3, 2), "interpolation": "bilinear", "data_format": "channels_first"}, (2, 2, 3, 4)),
        ({"size": (2, 2), "interpolation": "bicubic"}, (1, 3, 4, 2)),
        ({"size": (7, 3)}, (1, 3, 4, 1)),
    ],
)
def test_upsampling2d(kwargs, shape):
    run_layer_test(layers.UpSampling2D, kwargs, shape)


def test_upsampling2d_bad_args():
    with pytest.raises(ValueError, match="interpolation=lanczos3"):
        layers.UpSampling2D(interpolation="lanczos3")
    with pytest.raises(ValueError, match="size"):
        layers.UpSampling2D(size=(0, 2))
    assert layers.UpSampling2D(interpolation="BILINEAR").interpolation == "bilinear"


@pytest.mark.parametrize(
    "kwargs,shape",
    [
        ({}, (1, 2, 3, 2, 2)),
        ({"size": (1, 2, 3)}, (1, 2, 3, 2, 2)),
        ({"size": 2, "data_format": "channels_first"}, (1, 2, 2, 3, 2)),
    ],
)
def test_upsampling3d(kwargs, shape):
    run_layer_test(layers.UpSampling3D, kwargs, shape)


def test_keras_configs_load_here():
    """Configs written by Keras itself rebuild the same layers."""
    for name, kwargs in [
        ("Cropping2D", {"cropping": ((1, 2), (3, 4))}),
        ("ZeroPadding3D", {"padding": 2}),
        ("UpSampling2D", {"size": (2, 3), "interpolation": "bilinear"}),
        ("Reshape", {"target_shape": (2, -1)}),
        ("Flatten", {"data_format": "channels_first"}),
    ]:
        kconfig = keras_layer_from_config(name, {**kwargs}).get_config()
        ours = getattr(layers, name).from_config(kconfig)
        assert ours.get_config() == kconfig


@pytest.mark.parametrize("interpolation", ["nearest", "bilinear", "bicubic"])
def test_upsampling2d_mixed_precision_keeps_compute_dtype(interpolation):
    layer = layers.UpSampling2D(2, interpolation=interpolation, dtype="mixed_bfloat16")
    x = torch.randn(1, 3, 3, 2)
    y = layer(x)
    assert y.dtype == torch.bfloat16
    ref = layers.UpSampling2D(2, interpolation=interpolation)(x.bfloat16().float())
    torch.testing.assert_close(y.float(), ref, atol=0.05, rtol=0.02)


@pytest.mark.parametrize(
    "name, kwargs",
    [
        ("ZeroPadding2D", {"padding": ((1, 0), (0, 2))}),
        ("Cropping2D", {"cropping": ((1, 0), (0, 1))}),
        ("UpSampling2D", {"size": 2}),
        ("Flatten", {}),
        ("SpatialDropout2D", {"rate": 0.5}),
    ],
)
def test_default_data_format_follows_the_global_setting_as_in_keras(name, kwargs):
    import keras

    x = np.arange(2 * 3 * 4 * 5, dtype="float32").reshape(2, 3, 4, 5)
    keras.backend.set_image_data_format("channels_first")
    lamina.backend.set_image_data_format("channels_first")
    try:
        theirs, ours = getattr(keras.layers, name)(**kwargs), getattr(layers, name)(**kwargs)
        assert ours.data_format == theirs.data_format == "channels_first"
        expected = keras.ops.convert_to_numpy(theirs(x))
        np.testing.assert_array_equal(ours(x).numpy(), expected)
    finally:
        keras.backend.set_image_data_format("channels_last")
        lamina.backend.set_image_data_format("channels_last")
