import numpy as np
import pytest
import torch

import lamina
from lamina import layers
from tests.layers.harness import make_input, run_layer_test

# Keras's torch backend warns about cross-backend conv-transpose padding; not our concern here.
pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


# ---------------------------------------------------------------- forward parity grid (Keras 3, atol 1e-5)
@pytest.mark.parametrize(
    "kwargs,shape",
    [
        ({"filters": 4, "kernel_size": 3}, (2, 9, 3)),
        ({"filters": 4, "kernel_size": 3, "padding": "same", "strides": 2}, (2, 9, 3)),
        ({"filters": 4, "kernel_size": 4, "padding": "same"}, (2, 9, 3)),
        ({"filters": 4, "kernel_size": 3, "padding": "causal", "dilation_rate": 2, "activation": "relu"}, (2, 9, 2)),
        ({"filters": 4, "kernel_size": 2, "padding": "causal", "strides": 2}, (2, 9, 2)),
        ({"filters": 6, "kernel_size": 3, "groups": 2, "use_bias": False}, (2, 8, 4)),
        ({"filters": 4, "kernel_size": 3, "padding": "same", "data_format": "channels_first"}, (2, 3, 8)),
        ({"filters": 4, "kernel_size": 3, "padding": "causal", "data_format": "channels_first"}, (2, 3, 8)),
    ],
)
def test_conv1d(kwargs, shape):
    run_layer_test(layers.Conv1D, kwargs, shape)


@pytest.mark.parametrize(
    "kwargs,shape",
    [
        ({"filters": 4, "kernel_size": 3}, (2, 7, 6, 3)),
        ({"filters": 4, "kernel_size": (2, 3), "strides": (2, 1), "activation": "tanh"}, (2, 7, 6, 3)),
        ({"filters": 4, "kernel_size": 2, "padding": "same"}, (2, 7, 6, 3)),
        ({"filters": 4, "kernel_size": 3, "padding": "same", "strides": 2}, (2, 8, 7, 3)),
        ({"filters": 4, "kernel_size": 4, "padding": "same", "strides": 3}, (2, 8, 7, 3)),
        ({"filters": 4, "kernel_size": 3, "dilation_rate": 2}, (2, 8, 7, 3)),
        ({"filters": 4, "kernel_size": 2, "dilation_rate": (2, 1), "padding": "same"}, (2, 8, 7, 3)),
        ({"filters": 6, "kernel_size": 3, "groups": 3, "padding": "same"}, (2, 6, 6, 6)),
        ({"filters": 4, "kernel_size": 3, "data_format": "channels_first"}, (2, 3, 7, 6)),
        (
            {"filters": 4, "kernel_size": 2, "padding": "same", "strides": 2, "data_format": "channels_first"},
            (2, 3, 7, 6),
        ),
        ({"filters": 4, "kernel_size": 3, "groups": 2, "data_format": "channels_first"}, (2, 4, 6, 6)),
    ],
)
def test_conv2d(kwargs, shape):
    run_layer_test(layers.Conv2D, kwargs, shape)


@pytest.mark.parametrize(
    "kwargs,shape",
    [
        ({"filters": 3, "kernel_size": 2}, (1, 4, 5, 3, 2)),
        ({"filters": 3, "kernel_size": 2, "padding": "same", "strides": 2}, (1, 5, 4, 3, 2)),
        ({"filters": 4, "kernel_size": (1, 2, 3), "groups": 2, "padding": "same"}, (1, 4, 4, 4, 2)),
        ({"filters": 3, "kernel_size": 2, "dilation_rate": 2, "data_format": "channels_first"}, (1, 2, 4, 5, 3)),
    ],
)
def test_conv3d(kwargs, shape):
    run_layer_test(layers.Conv3D, kwargs, shape)


@pytest.mark.parametrize(
    "kwargs,shape",
    [
        ({"filters": 3, "kernel_size": 3}, (2, 5, 2)),
        ({"filters": 3, "kernel_size": 3, "strides": 2, "padding": "same"}, (2, 5, 2)),
        ({"filters": 3, "kernel_size": 2, "strides": 3}, (2, 5, 2)),  # stride > kernel: zero gaps at the end
        ({"filters": 3, "kernel_size": 4, "strides": 2, "padding": "same", "output_padding": 1}, (2, 5, 2)),
        ({"filters": 3, "kernel_size": 3, "strides": 3, "output_padding": 2}, (2, 5, 2)),
        ({"filters": 3, "kernel_size": 3, "dilation_rate": 2, "padding": "same", "activation": "relu"}, (2, 5, 2)),
        ({"filters": 3, "kernel_size": 5, "strides": 2, "padding": "same", "data_format": "channels_first"}, (2, 2, 6)),
    ],
)
def test_conv1d_transpose(kwargs, shape):
    run_layer_test(layers.Conv1DTranspose, kwargs, shape)


@pytest.mark.parametrize(
    "kwargs,shape",
    [
        ({"filters": 3, "kernel_size": 3}, (2, 4, 5, 2)),
        ({"filters": 3, "kernel_size": 3, "strides": 2, "padding": "same"}, (2, 4, 5, 2)),
        ({"filters": 3, "kernel_size": (2, 3), "strides": (2, 1), "padding": "same"}, (2, 4, 5, 2)),
        ({"filters": 3, "kernel_size": 3, "strides": 2, "padding": "same", "output_padding": (1, 0)}, (2, 4, 5, 2)),
        ({"filters": 3, "kernel_size": 2, "strides": 3, "use_bias": True}, (2, 4, 5, 2)),
        ({"filters": 3, "kernel_size": 3, "strides": 2, "output_padding": 1}, (2, 4, 5, 2)),
        ({"filters": 3, "kernel_size": 2, "dilation_rate": 2}, (2, 4, 5, 2)),
        (
            {"filters": 3, "kernel_size": 4, "strides": 2, "padding": "same", "data_format": "channels_first"},
            (2, 2, 4, 5),
        ),
    ],
)
def test_conv2d_transpose(kwargs, shape):
    run_layer_test(layers.Conv2DTranspose, kwargs, shape)


@pytest.mark.parametrize(
    "kwargs,shape",
    [
        ({"filters": 2, "kernel_size": 2, "strides": 2}, (1, 2, 3, 2, 2)),
        ({"filters": 2, "kernel_size": 3, "strides": (1, 2, 2), "padding": "same"}, (1, 2, 3, 2, 2)),
        ({"filters": 2, "kernel_size": 3, "dilation_rate": 2, "padding": "same"}, (1, 3, 3, 2, 2)),
        (
            {"filters": 2, "kernel_size": 3, "strides": 2, "output_padding": 1, "data_format": "channels_first"},
            (1, 2, 2, 3, 2),
        ),
    ],
)
def test_conv3d_transpose(kwargs, shape):
    run_layer_test(layers.Conv3DTranspose, kwargs, shape)


@pytest.mark.parametrize(
    "kwargs,shape",
    [
        ({"kernel_size": 3}, (2, 8, 3)),
        ({"kernel_size": 3, "depth_multiplier": 2, "padding": "same", "strides": 2}, (2, 9, 3)),
        ({"kernel_size": 2, "dilation_rate": 2, "padding": "same", "use_bias": False}, (2, 8, 3)),
        ({"kernel_size": 3, "depth_multiplier": 3, "data_format": "channels_first"}, (2, 3, 8)),
    ],
)
def test_depthwise_conv1d(kwargs, shape):
    run_layer_test(layers.DepthwiseConv1D, kwargs, shape)


@pytest.mark.parametrize(
    "kwargs,shape",
    [
        ({"kernel_size": 3}, (2, 6, 7, 3)),
        (
            {"kernel_size": 3, "depth_multiplier": 2, "padding": "same", "strides": 2, "activation": "relu"},
            (2, 7, 6, 3),
        ),
        ({"kernel_size": (2, 3), "dilation_rate": 2, "padding": "same"}, (2, 7, 6, 3)),
        ({"kernel_size": 3, "strides": 2, "dilation_rate": 2}, (2, 9, 9, 2)),  # allowed for depthwise, as in Keras
        ({"kernel_size": 3, "depth_multiplier": 2, "data_format": "channels_first"}, (2, 3, 6, 7)),
    ],
)
def test_depthwise_conv2d(kwargs, shape):
    run_layer_test(layers.DepthwiseConv2D, kwargs, shape)


@pytest.mark.parametrize(
    "kwargs,shape",
    [
        ({"filters": 4, "kernel_size": 3}, (2, 9, 3)),
        ({"filters": 4, "kernel_size": 3, "depth_multiplier": 2, "strides": 2, "padding": "same"}, (2, 9, 3)),
        ({"filters": 4, "kernel_size": 2, "dilation_rate": 2, "data_format": "channels_first"}, (2, 3, 9)),
    ],
)
def test_separable_conv1d(kwargs, shape):
    run_layer_test(layers.SeparableConv1D, kwargs, shape)


@pytest.mark.parametrize(
    "kwargs,shape",
    [
        ({"filters": 4, "kernel_size": 3}, (2, 6, 7, 3)),
        ({"filters": 4, "kernel_size": 3, "depth_multiplier": 2, "padding": "same", "strides": 2}, (2, 7, 6, 3)),
        ({"filters": 4, "kernel_size": 2, "padding": "same", "use_bias": False, "activation": "relu"}, (2, 6, 7, 3)),
        ({"filters": 4, "kernel_size": 3, "data_format": "channels_first"}, (2, 3, 6, 7)),
    ],
)
def test_separable_conv2d(kwargs, shape):
    run_layer_test(layers.SeparableConv2D, kwargs, shape)


# ---------------------------------------------------------------- weights: names, order, layouts
@pytest.mark.parametrize(
    "layer,in_shape,expected",
    [
        (layers.Conv2D(8, (3, 2), groups=2), (None, 9, 9, 4), [("kernel", (3, 2, 2, 8)), ("bias", (8,))]),
        (layers.Conv1D(8, 3, data_format="channels_first"), (None, 5, 9), [("kernel", (3, 5, 8)), ("bias", (8,))]),
        (layers.Conv2DTranspose(8, 3), (None, 4, 4, 5), [("kernel", (3, 3, 8, 5)), ("bias", (8,))]),
        (layers.DepthwiseConv2D(3, depth_multiplier=2), (None, 6, 6, 5), [("kernel", (3, 3, 5, 2)), ("bias", (10,))]),
        (
            layers.SeparableConv2D(8, 3, depth_multiplier=2, use_bias=True),
            (None, 6, 6, 5),
            [("depthwise_kernel", (3, 3, 5, 2)), ("pointwise_kernel", (1, 1, 10, 8)), ("bias", (8,))],
        ),
        (layers.Conv3D(2, 2, use_bias=False), (None, 3, 3, 3, 1), [("kernel", (2, 2, 2, 1, 2))]),
    ],
)
def test_weight_names_order_and_keras_layouts(layer, in_shape, expected):
    assert layer.weights == []
    layer.build(in_shape)
    assert [(w.name, w.shape) for w in layer.weights] == expected
    assert [n for n, _ in layer.named_parameters()] == [name for name, _ in expected]
    assert all(w.path == f"{layer.name}/{w.name}" for w in layer.weights)


def test_keras_config_loads_into_lamina_and_back():
    import keras

    for klayer, ours in [
        (keras.layers.Conv2D(4, 3, strides=2, padding="same", activation="relu", name="c"), layers.Conv2D),
        (keras.layers.Conv1D(4, 3, padding="causal", dilation_rate=2, groups=2, name="c1"), layers.Conv1D),
        (keras.layers.Conv3DTranspose(2, 3, strides=2, output_padding=1, name="t"), layers.Conv3DTranspose),
        (keras.layers.DepthwiseConv2D(3, depth_multiplier=2, name="d"), layers.DepthwiseConv2D),
        (keras.layers.SeparableConv1D(3, 3, depth_multiplier=2, name="s"), layers.SeparableConv1D),
    ]:
        config = klayer.get_config()
        assert ours.from_config(config).get_config() == config


def test_keras_weights_give_keras_outputs():
    import keras

    x = make_input((2, 8, 8, 3))
    k = keras.layers.Conv2D(4, 3, strides=2, padding="same")
    expected = keras.ops.convert_to_numpy(k(x))
    ours = layers.Conv2D.from_config(k.get_config())
    ours.build(x.shape)
    ours.set_weights(k.get_weights())
    np.testing.assert_allclose(ours(x).detach().numpy(), expected, atol=1e-5)


def test_aliases_match_keras_exports():
    import keras

    for name in [
        "Convolution1D",
        "Convolution2D",
        "Convolution3D",
        "Convolution1DTranspose",
        "Convolution2DTranspose",
        "Convolution3DTranspose",
        "SeparableConvolution1D",
        "SeparableConvolution2D",
    ]:
        assert hasattr(keras.layers, name)
        alias = getattr(layers, name)
        assert alias.__name__ == getattr(keras.layers, name).__name__


# ---------------------------------------------------------------- inputs and layout
def test_non_contiguous_channels_last_input():
    torch.manual_seed(0)
    conv = layers.Conv2D(4, 3, strides=2, padding="same")
    nchw = torch.randn(2, 3, 9, 8)
    nhwc_view = nchw.permute(0, 2, 3, 1)  # NHWC values, non-contiguous
    assert not nhwc_view.is_contiguous()
    out = conv(nhwc_view)
    expected = conv(nhwc_view.contiguous())
    torch.testing.assert_close(out, expected)
    wide = torch.randn(2, 9, 16, 3)[:, :, ::2, :]  # strided slice
    torch.testing.assert_close(conv(wide), conv(wide.contiguous()))
    # the same numbers as the channels_first layer with the same weights on the NCHW tensor
    cf = layers.Conv2D(4, 3, strides=2, padding="same", data_format="channels_first")
    cf.build((None, 3, 9, 8))
    cf.set_weights(conv.get_weights())
    torch.testing.assert_close(out, cf(nchw).permute(0, 2, 3, 1))


def test_non_contiguous_input_transpose_and_separable():
    torch.manual_seed(0)
    x = torch.randn(2, 3, 5, 6).permute(0, 2, 3, 1)
    for layer in (
        layers.Conv2DTranspose(2, 3, strides=2, padding="same"),
        layers.SeparableConv2D(2, 3),
        layers.DepthwiseConv2D(3, padding="same"),
    ):
        torch.testing.assert_close(layer(x), layer(x.contiguous()))


def test_symbolic_unknown_spatial_dims():
    inp = lamina.Input((None, None, 3))
    out = layers.Conv2D(5, 3, strides=2, padding="same")(inp)
    assert out.shape == (None, None, None, 5)
    out = layers.Conv2DTranspose(2, 3, strides=2)(inp)
    assert out.shape == (None, None, None, 2)
    assert layers.Conv1D(2, 3, padding="causal")(lamina.Input((None, 4))).shape == (None, None, 2)


def test_transpose_output_shape_formula():
    import keras

    cases = [
        ({"padding": "valid"}, (None, 11, 16, 2)),  # (n-1)*s + max(k, s)
        ({"padding": "same"}, (None, 10, 15, 2)),  # n*s
        ({"padding": "same", "output_padding": (1, 2)}, (None, 10, 14, 2)),  # (n-1)*s + k%2 + op
        ({"padding": "valid", "output_padding": (0, 1)}, (None, 11, 17, 2)),
    ]  # (n-1)*s + k + op
    for kwargs, expected in cases:
        layer = layers.Conv2DTranspose(2, (3, 4), strides=(2, 3), **kwargs)
        assert layer.compute_output_shape((None, 5, 5, 1)) == expected
        klayer = keras.layers.Conv2DTranspose(2, (3, 4), strides=(2, 3), **kwargs)
        assert tuple(klayer.compute_output_shape((None, 5, 5, 1))) == expected
        assert tuple(layer(torch.ones(1, 5, 5, 1)).shape) == (1, *expected[1:])


def test_gradients_flow_and_regularizer_losses():
    layer = layers.Conv2DTranspose(2, 3, strides=2, padding="same", kernel_regularizer="l2")
    x = torch.randn(1, 3, 3, 2, requires_grad=True)
    layer(x).sum().backward()
    assert layer.kernel.grad is not None and x.grad is not None
    assert len(layer.losses) == 1
    sep = layers.SeparableConv1D(2, 3, depthwise_regularizer="l1", pointwise_regularizer="l2")
    sep(torch.ones(1, 5, 2))
    assert len(sep.losses) == 2


def test_float64_layer():
    layer = layers.Conv1D(2, 3, dtype="float64")
    out = layer(np.ones((1, 5, 2)))
    assert out.dtype == torch.float64 and layer.kernel.dtype == torch.float64


# ---------------------------------------------------------------- the Sequential guide's convnet
def test_guide_convnet_shapes_and_params():
    model = lamina.Sequential(
        [
            lamina.Input(shape=(250, 250, 3)),
            layers.Conv2D(32, 5, strides=2, activation="relu"),
            layers.Conv2D(32, 3, activation="relu"),
            layers.MaxPooling2D(3),
            layers.Conv2D(32, 3, activation="relu"),
            layers.Conv2D(32, 3, activation="relu"),
            layers.MaxPooling2D(3),
            layers.Conv2D(32, 3, activation="relu"),
            layers.Conv2D(32, 3, activation="relu"),
            layers.MaxPooling2D(2),
            layers.GlobalMaxPooling2D(),
            layers.Dense(10),
        ]
    )
    expected = [
        ((None, 123, 123, 32), 2432),
        ((None, 121, 121, 32), 9248),
        ((None, 40, 40, 32), 0),
        ((None, 38, 38, 32), 9248),
        ((None, 36, 36, 32), 9248),
        ((None, 12, 12, 32), 0),
        ((None, 10, 10, 32), 9248),
        ((None, 8, 8, 32), 9248),
        ((None, 4, 4, 32), 0),
        ((None, 32), 0),
        ((None, 10), 330),
    ]
    assert [(tuple(layer.output.shape), layer.count_params()) for layer in model.layers] == expected
    assert model.count_params() == 49002
    shape = (None, 250, 250, 3)
    for layer, (out_shape, _) in zip(model.layers, expected, strict=True):
        shape = layer.compute_output_shape(shape)
        assert tuple(shape) == out_shape
    assert tuple(model(torch.zeros(1, 250, 250, 3)).shape) == (1, 10)


# ---------------------------------------------------------------- argument and input errors
@pytest.mark.parametrize(
    "make,match",
    [
        (lambda: layers.Conv2D(0, 3), r"filters.*Received: filters=0"),
        (lambda: layers.Conv2D(-2, 3), r"filters=-2"),
        (lambda: layers.Conv2D(2, 0), r"kernel_size.*Received: kernel_size=0"),
        (lambda: layers.Conv2D(2, (3, 3, 3)), r"`kernel_size` argument must be a tuple of 2 integers"),
        (lambda: layers.Conv2D(2, 3, padding="wrong"), r"padding.*Received: padding='wrong'"),
        (lambda: layers.Conv2D(2, 3, padding="causal"), r"padding.*Received: padding='causal'"),
        (lambda: layers.Conv2D(2, 3, strides=0), r"strides.*Received: strides=0"),
        (lambda: layers.Conv2D(2, 3, dilation_rate=(1, 0)), r"dilation_rate"),
        (lambda: layers.Conv2D(3, 3, groups=2), r"groups=2, filters=3"),
        (lambda: layers.Conv2D(2, 3, groups=0), r"groups=0"),
        (lambda: layers.Conv2D(2, 3, strides=2, dilation_rate=2), r"strides > 1.*dilation_rate > 1"),
        (lambda: layers.Conv2D(2, 3, data_format="nhwc"), r"data_format.*Received: data_format=nhwc"),
        (lambda: layers.Conv1D(2, 3, bogus=1), r"bogus"),
        (lambda: layers.Conv2DTranspose(2, 3, strides=2, output_padding=2), r"output_padding"),
        (lambda: layers.Conv2DTranspose(2, 3, output_padding=-1), r"output_padding"),
        (lambda: layers.Conv1DTranspose(0, 3), r"filters=0"),
        (lambda: layers.Conv1DTranspose(2, 3, padding="causal"), r"padding"),
        (lambda: layers.DepthwiseConv2D(3, depth_multiplier=0), r"depth_multiplier=0"),
        (lambda: layers.DepthwiseConv1D(0), r"kernel_size"),
        (lambda: layers.SeparableConv2D(0, 3), r"filters=0"),
        (lambda: layers.SeparableConv1D(2, 3, depth_multiplier=-1), r"depth_multiplier=-1"),
    ],
)
def test_invalid_arguments_raise_value_error_naming_the_argument(make, match):
    with pytest.raises((ValueError, TypeError), match=match):
        make()


def test_groups_must_divide_input_channels():
    layer = layers.Conv2D(4, 3, groups=2)
    with pytest.raises(ValueError, match=r"groups=2, but the input has 3 channels"):
        layer(torch.ones(1, 5, 5, 3))


def test_wrong_rank_and_channels_use_layer_error():
    layer = layers.Conv2D(2, 3, name="c")
    with pytest.raises(
        ValueError,
        match=r'Layer "c" \(Conv2D\) expects inputs of rank 4, but received shape '
        r"\(2, 5, 3\) \(rank 3\)",
    ):
        layer(torch.ones(2, 5, 3))
    layer(torch.ones(2, 5, 5, 3))
    with pytest.raises(ValueError, match=r'Layer "c" \(Conv2D\) expects last axis 3, but received shape'):
        layer(torch.ones(2, 5, 5, 4))
    with pytest.raises(ValueError, match=r"expects inputs of rank 4"):
        layer(torch.ones(2, 5, 5, 5, 3))
    cf = layers.Conv1D(2, 3, data_format="channels_first", name="cf")
    cf(torch.ones(1, 4, 6))
    with pytest.raises(ValueError, match=r'Layer "cf" \(Conv1D\) expects axis 1 of size 4'):
        cf(torch.ones(1, 5, 6))


def test_input_too_small_for_kernel():
    with pytest.raises(ValueError, match=r'Layer "c" \(Conv2D\) expects inputs at least as large.*zero or negative'):
        layers.Conv2D(2, 5, name="c")(torch.ones(1, 3, 8, 1))
    with pytest.raises(ValueError, match=r"zero or negative"):
        layers.Conv1D(2, 3, dilation_rate=3)(lamina.Input((6, 2)))


def test_unknown_channels_raise():
    with pytest.raises(ValueError, match=r"defined channel dimension"):
        layers.Conv2D(2, 3)(lamina.Input((5, 5, None)))


def test_lora_not_supported():
    with pytest.raises(ValueError, match="lora_rank"):
        layers.Conv2D(2, 3, lora_rank=4)


def test_repr_mentions_config():
    text = repr(layers.Conv2D(4, 3, name="c"))
    assert "filters=4" in text and "kernel_size=(3, 3)" in text
