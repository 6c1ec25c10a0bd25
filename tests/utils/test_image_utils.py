"""load_img / img_to_array / array_to_img / save_img / smart_resize against Keras on the same inputs."""

import io
import os
import sys

import keras
import numpy as np
import pytest
import torch

import lamina
from lamina.utils import array_to_img, img_to_array, load_img, save_img
from lamina.utils.image_utils import smart_resize

RNG = np.random.RandomState(0)


def _png(path, shape, mode="RGB"):
    from PIL import Image

    data = RNG.randint(0, 256, shape).astype("uint8")
    Image.fromarray(data, mode).save(path)
    return path


@pytest.mark.parametrize(
    "x, kwargs",
    [
        (RNG.random_sample((4, 5, 3)), {}),
        (RNG.random_sample((4, 5, 4)), {}),
        (RNG.random_sample((4, 5, 1)), {}),
        (RNG.random_sample((3, 4, 5)), {"data_format": "channels_first"}),
        (RNG.randint(0, 255, (4, 5, 3)).astype("float32"), {"scale": False}),
        (RNG.randint(0, 60000, (4, 5, 1)).astype("float32"), {"scale": False}),  # "I" mode
        (np.zeros((2, 2, 3)), {}),
        (RNG.random_sample((4, 5, 3)), {"dtype": "float64"}),
    ],
)
def test_array_to_img_and_back_equal_keras(x, kwargs):
    ours, theirs = array_to_img(x, **kwargs), keras.utils.array_to_img(x, **kwargs)
    assert (ours.mode, ours.size) == (theirs.mode, theirs.size)
    np.testing.assert_array_equal(np.asarray(ours), np.asarray(theirs))
    fmt = {"data_format": kwargs["data_format"]} if "data_format" in kwargs else {}
    for dtype in (None, "uint8"):
        a, b = img_to_array(ours, dtype=dtype, **fmt), keras.utils.img_to_array(theirs, dtype=dtype, **fmt)
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(
    "x, match",
    [
        (np.zeros((4, 5)), r"rank 3 \(single image\)\. Got array with shape: \(4, 5\)"),
        (np.zeros((4, 5, 2)), r"Unsupported channel number: 2"),
    ],
)
def test_array_to_img_bad_shapes(x, match):
    with pytest.raises(ValueError):
        keras.utils.array_to_img(x)
    with pytest.raises(ValueError, match=match):
        array_to_img(x)


def test_bad_data_format():
    with pytest.raises(ValueError, match="Received: data_format=channels_middle"):
        array_to_img(np.zeros((2, 2, 3)), data_format="channels_middle")


@pytest.mark.parametrize("color_mode", ["rgb", "rgba", "grayscale"])
@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"target_size": (7, 5)},
        {"target_size": (7, 5), "interpolation": "bilinear"},
        {"target_size": (9, 12), "interpolation": "bicubic"},
        {"target_size": (4, 4), "interpolation": "lanczos", "keep_aspect_ratio": True},
        {"target_size": (6, 3), "interpolation": "box", "keep_aspect_ratio": True},
        {"target_size": (10, 13)},  # the image's own size: returned unchanged
    ],
)
def test_load_img_equals_keras(tmp_path, color_mode, kwargs):
    path = _png(tmp_path / "x.png", (10, 13, 3))
    ours = load_img(path, color_mode=color_mode, **kwargs)
    theirs = keras.utils.load_img(path, color_mode=color_mode, **kwargs)
    assert (ours.mode, ours.size) == (theirs.mode, theirs.size)
    np.testing.assert_array_equal(np.asarray(ours), np.asarray(theirs))


def test_load_img_sources(tmp_path):
    path = _png(tmp_path / "x.png", (3, 4), mode="L")
    expected = np.asarray(load_img(str(path), color_mode="grayscale"))
    np.testing.assert_array_equal(np.asarray(load_img(path, color_mode="grayscale")), expected)
    buf = io.BytesIO(path.read_bytes())
    np.testing.assert_array_equal(np.asarray(load_img(buf, color_mode="grayscale")), expected)
    assert load_img(path).mode == "RGB"


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"color_mode": "cmyk"}, ValueError, r"Received: color_mode='cmyk'"),
        ({"target_size": (2, 2), "interpolation": "cubic"}, ValueError, r"Received: interpolation='cubic'"),
    ],
)
def test_load_img_bad_arguments(tmp_path, kwargs, error, match):
    path = _png(tmp_path / "x.png", (3, 4, 3))
    with pytest.raises(error, match=match):
        load_img(path, **kwargs)


def test_load_img_bad_path_type():
    with pytest.raises(TypeError, match="path should be path-like or io.BytesIO, not <class 'int'>"):
        load_img(3)


@pytest.mark.parametrize("ext", ["png", "jpg", "bmp"])
def test_save_img_equals_keras(tmp_path, ext):
    x = RNG.random_sample((6, 7, 3))
    save_img(tmp_path / f"ours.{ext}", x)
    keras.utils.save_img(str(tmp_path / f"keras.{ext}"), x)
    assert (tmp_path / f"ours.{ext}").read_bytes() == (tmp_path / f"keras.{ext}").read_bytes()
    assert sorted(os.listdir(tmp_path)) == sorted([f"ours.{ext}", f"keras.{ext}"])  # no temporary file left


def test_save_img_rgba_as_jpeg_warns_and_file_objects(tmp_path):
    with pytest.warns(UserWarning, match="JPEG format does not support RGBA"):
        save_img(tmp_path / "x.jpg", RNG.random_sample((4, 4, 4)))
    assert load_img(tmp_path / "x.jpg").size == (4, 4)
    buf = io.BytesIO()
    save_img(buf, RNG.random_sample((4, 3, 1)), file_format="png")
    buf.seek(0)
    assert load_img(buf, color_mode="grayscale").size == (3, 4)


def test_missing_pillow_names_the_extra(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "PIL", None)
    with pytest.raises(ImportError, match=r'`load_img` needs Pillow.*pip install "lamina\[image\]"'):
        load_img(tmp_path / "x.png")
    with pytest.raises(ImportError, match=r"`array_to_img` needs Pillow"):
        array_to_img(np.zeros((2, 2, 3)))
    with pytest.raises(ImportError, match=r"`image_dataset_from_directory` needs Pillow"):
        lamina.utils.image_dataset_from_directory(tmp_path)


@pytest.mark.parametrize(
    "x, size, kwargs",
    [
        (RNG.random_sample((34, 50, 3)).astype("float32"), (20, 20), {}),
        (RNG.random_sample((34, 50, 3)).astype("float32"), (20, 20), {"interpolation": "nearest"}),
        (RNG.random_sample((34, 50, 3)).astype("float32"), (15, 40), {"interpolation": "bicubic"}),
        (RNG.random_sample((34, 50, 3)), (20, 20), {}),  # float64 stays float64
        (RNG.randint(0, 256, (30, 20, 3)).astype("uint8"), (12, 12), {"interpolation": "bicubic"}),
        (RNG.random_sample((2, 30, 20, 1)).astype("float32"), (8, 10), {}),
        (RNG.random_sample((2, 3, 30, 20)).astype("float32"), (8, 10), {"data_format": "channels_first"}),
        (torch.rand(30, 20, 3), (9, 9), {}),
    ],
)
def test_smart_resize_equals_keras(x, size, kwargs):
    ours = smart_resize(x, size, **kwargs)
    theirs = keras.preprocessing.image.smart_resize(x, size, **kwargs)
    assert type(ours) is type(theirs)
    assert ours.dtype == theirs.dtype and tuple(ours.shape) == tuple(theirs.shape)
    np.testing.assert_allclose(np.asarray(ours), np.asarray(theirs), rtol=1e-6, atol=1e-6)
    assert lamina.preprocessing.image.smart_resize is smart_resize


@pytest.mark.parametrize(
    "x, size, kwargs, error, match",
    [
        (np.zeros((4, 4)), (2, 2), {}, ValueError, r"incorrect rank, of shape \(4, 4\)"),
        (np.zeros((4, 4, 3)), (2, 2, 2), {}, ValueError, r"tuple of 2 integers, but got: \(2, 2, 2\)"),
        (np.zeros((4, 4, 3)), (2, 2), {"interpolation": "lanczos3"}, ValueError, r"interpolation='lanczos3'"),
        (np.zeros((4, 4, 3)), (2, 2), {"antialias": True}, TypeError, r"unexpected keyword arguments: \['antialias'\]"),
    ],
)
def test_smart_resize_bad_input(x, size, kwargs, error, match):
    with pytest.raises(error, match=match):
        smart_resize(x, size, **kwargs)
