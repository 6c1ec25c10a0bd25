"""preprocess_input, obtain_input_shape, correct_pad and validate_activation against Keras's own functions."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import torch
from keras.src.applications import imagenet_utils as keras_utils

import lamina
from lamina.applications import imagenet_utils

FAMILIES = [
    "convnext",
    "densenet",
    "efficientnet",
    "efficientnet_v2",
    "inception_resnet_v2",
    "inception_v3",
    "mobilenet",
    "mobilenet_v2",
    "mobilenet_v3",
    "nasnet",
    "resnet",
    "resnet50",
    "resnet_v2",
    "vgg16",
    "vgg19",
    "xception",
]


def _images(shape, dtype="float32", seed=0):
    return np.random.default_rng(seed).uniform(0, 255, shape).astype(dtype)


@pytest.mark.parametrize("mode", ["caffe", "tf", "torch"])
@pytest.mark.parametrize(
    "shape, data_format",
    [((2, 5, 4, 3), "channels_last"), ((5, 4, 3), "channels_last"), ((2, 3, 5, 4), "channels_first"),
     ((3, 5, 4), "channels_first")],
)  # fmt: skip
def test_numpy_preprocessing_equals_keras_and_writes_in_place_like_keras(mode, shape, data_format):
    ours, theirs = _images(shape), _images(shape)
    out = imagenet_utils.preprocess_input(ours, data_format=data_format, mode=mode)
    expected = keras_utils.preprocess_input(theirs, data_format=data_format, mode=mode)
    np.testing.assert_allclose(out, expected, rtol=1e-6, atol=1e-5)
    np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-5)  # the caller's array, changed the same way


@pytest.mark.parametrize("mode", ["caffe", "tf", "torch"])
def test_integer_images_become_float(mode):
    x = _images((2, 4, 4, 3)).astype("uint8")
    out = imagenet_utils.preprocess_input(x.copy(), mode=mode)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, keras_utils.preprocess_input(x.copy(), mode=mode), rtol=1e-6, atol=1e-5)


@pytest.mark.parametrize("mode", ["caffe", "tf", "torch"])
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_tensor_preprocessing_equals_keras_and_leaves_the_input(mode, data_format):
    x = torch.as_tensor(_images((2, 3, 5, 3) if data_format == "channels_last" else (2, 3, 5, 5)))
    before = x.clone()
    out = imagenet_utils.preprocess_input(x, data_format=data_format, mode=mode)
    expected = keras_utils.preprocess_input(x.clone(), data_format=data_format, mode=mode)  # Keras writes in place
    np.testing.assert_allclose(out.numpy(), keras.ops.convert_to_numpy(expected), rtol=1e-6, atol=1e-5)
    assert torch.equal(x, before)


@pytest.mark.parametrize("mode", ["caffe", "tf", "torch"])
def test_symbolic_preprocessing_builds_a_model(mode):
    inputs = lamina.Input(shape=(4, 4, 3))
    model = lamina.Model(inputs, imagenet_utils.preprocess_input(inputs, mode=mode))
    x = _images((2, 4, 4, 3))
    expected = keras_utils.preprocess_input(x.copy(), mode=mode)
    np.testing.assert_allclose(model(x).detach().numpy(), expected, rtol=1e-6, atol=1e-5)


@pytest.mark.parametrize("family", FAMILIES)
def test_each_family_preprocesses_as_keras(family):
    ours = getattr(lamina.applications, family).preprocess_input
    theirs = getattr(keras.applications, family).preprocess_input
    x = _images((2, 6, 6, 3))
    np.testing.assert_allclose(np.asarray(ours(x.copy())), np.asarray(theirs(x.copy())), rtol=1e-6, atol=1e-5)


def test_bad_mode_and_data_format_raise_keras_errors():
    x = _images((1, 2, 2, 3))
    with pytest.raises(ValueError, match="Expected mode to be one of `caffe`, `tf` or `torch`. Received: mode=bgr"):
        imagenet_utils.preprocess_input(x, mode="bgr")
    with pytest.raises(ValueError, match="Received: data_format=NHWC"):
        imagenet_utils.preprocess_input(x, data_format="NHWC")


@pytest.mark.parametrize(
    "args",
    [
        ((None, 224, 32, "channels_last", True), {}),
        ((None, 224, 32, "channels_last", False), {}),
        (((200, 150, 3), 224, 32, "channels_last", False), {}),
        (((200, 150, 1), 224, 32, "channels_last", False), {}),
        (((None, None, 3), 299, 71, "channels_last", False), {"weights": "imagenet"}),
        ((None, 224, 32, "channels_last", True), {"weights": "imagenet"}),
        ((None, 224, 32, "channels_first", False), {}),
        (((3, 64, 64), 224, 32, "channels_first", True), {}),
    ],
)
def test_obtain_input_shape_equals_keras(args):
    positional, kwargs = args
    assert imagenet_utils.obtain_input_shape(*positional, **kwargs) == keras_utils.obtain_input_shape(
        *positional, **kwargs
    )


@pytest.mark.parametrize(
    "args, match",
    [
        (((16, 16, 3), 224, 32, "channels_last", False), "Input size must be at least 32x32"),
        (((64, 64, 1), 224, 32, "channels_last", False, "imagenet"), "The input must have 3 channels"),
        (((200, 200, 3), 224, 32, "channels_last", True, "imagenet"), "`input_shape` should be \\(224, 224, 3\\)"),
        (((None, None, 3), 224, 32, "channels_last", True), "you should specify a static `input_shape`"),
        (((64, 64), 224, 32, "channels_last", False), "`input_shape` must be a tuple of three integers"),
    ],
)
def test_obtain_input_shape_errors_as_keras(args, match):
    with pytest.raises(ValueError, match=match):
        keras_utils.obtain_input_shape(*args)
    with pytest.raises(ValueError, match=match):
        imagenet_utils.obtain_input_shape(*args)


def test_unusual_channel_count_warns_as_keras():
    with pytest.warns(UserWarning, match="usually expects 1 or 3 input channels"):
        assert imagenet_utils.obtain_input_shape((64, 64, 4), 224, 32, "channels_last", False) == (64, 64, 4)


@pytest.mark.parametrize("size, kernel", [((8, 8), 3), ((7, 9), 3), ((None, None), 5), ((10, 10), (3, 5))])
def test_correct_pad_equals_keras(size, kernel):
    ours = imagenet_utils.correct_pad(lamina.Input(shape=(*size, 3)), kernel)
    assert ours == keras_utils.correct_pad(keras.Input(shape=(*size, 3)), kernel)


def test_validate_activation_as_keras():
    for activation in (None, "softmax", "linear"):
        imagenet_utils.validate_activation(activation, "imagenet")
    imagenet_utils.validate_activation("sigmoid", None)
    with pytest.raises(ValueError, match="Only `None` and `softmax` activations are allowed"):
        keras_utils.validate_activation("sigmoid", "imagenet")
    with pytest.raises(ValueError, match="Only `None` and `softmax` activations are allowed"):
        imagenet_utils.validate_activation("sigmoid", "imagenet")


def test_decode_predictions_rejects_other_shapes():
    with pytest.raises(ValueError, match=r"Received array with shape: \(2, 10\)"):
        imagenet_utils.decode_predictions(np.zeros((2, 10)))
