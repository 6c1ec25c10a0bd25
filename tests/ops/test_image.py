"""lamina.ops.image against keras.ops.image (torch backend) on the same inputs."""

import inspect

import keras
import numpy as np
import pytest
import torch

import lamina
from lamina.ops import image as L

K = keras.ops.image
RNG = np.random.default_rng(0)
X = RNG.uniform(0, 255, (3, 10, 12, 3)).astype("float32")
XC = np.ascontiguousarray(np.transpose(X, (0, 3, 1, 2)))
T = RNG.normal(size=(3, 8)).astype("float32") * 0.3
T[:, 0] += 1
T[:, 4] += 1
T[:, 2] *= 10
T[:, 5] *= 10
T[:, 6:] = 0


def check(got, expected, atol=1e-4):
    got = got.detach().cpu().numpy()
    expected = expected.detach().cpu().numpy() if hasattr(expected, "detach") else np.asarray(expected)
    assert got.shape == expected.shape
    assert got.dtype == expected.dtype
    np.testing.assert_allclose(got, expected, atol=atol, rtol=1e-5)


def test_color_ops():
    check(L.rgb_to_grayscale(X), K.rgb_to_grayscale(X))
    check(L.rgb_to_grayscale(XC, "channels_first"), K.rgb_to_grayscale(XC, "channels_first"))
    check(L.rgb_to_grayscale(X.astype("uint8")), K.rgb_to_grayscale(X.astype("uint8")))
    check(L.rgb_to_hsv(X / 255), K.rgb_to_hsv(X / 255), 1e-6)
    check(L.hsv_to_rgb(X / 255), K.hsv_to_rgb(X / 255), 1e-6)
    check(L.rgb_to_hsv(XC / 255, "channels_first"), K.rgb_to_hsv(XC / 255, "channels_first"), 1e-6)


@pytest.mark.parametrize("interpolation", ["bilinear", "nearest", "bicubic"])
@pytest.mark.parametrize("antialias", [False, True])
@pytest.mark.parametrize(
    "kwargs", [{}, {"crop_to_aspect_ratio": True}, {"pad_to_aspect_ratio": True, "fill_value": 3.0}]
)
def test_resize(interpolation, antialias, kwargs):
    check(
        L.resize(X, (7, 5), interpolation, antialias, **kwargs), K.resize(X, (7, 5), interpolation, antialias, **kwargs)
    )


def test_resize_dtypes_layouts_and_single_images():
    check(L.resize(X.astype("uint8"), (7, 5), "bicubic"), K.resize(X.astype("uint8"), (7, 5), "bicubic"))
    check(L.resize(XC, (7, 5), data_format="channels_first"), K.resize(XC, (7, 5), data_format="channels_first"))
    check(L.resize(X[0], (14, 20)), K.resize(X[0], (14, 20)))


@pytest.mark.parametrize("interpolation", ["bilinear", "nearest"])
@pytest.mark.parametrize("fill_mode", ["constant", "nearest", "wrap", "mirror", "reflect"])
def test_affine_transform_is_bit_equal(interpolation, fill_mode):
    got = L.affine_transform(X, T, interpolation, fill_mode, fill_value=7.0)
    check(got, K.affine_transform(X, T, interpolation, fill_mode, fill_value=7.0), atol=0)


def test_affine_transform_layouts_dtypes_single():
    check(
        L.affine_transform(XC, T, data_format="channels_first"), K.affine_transform(XC, T, data_format="channels_first")
    )
    check(L.affine_transform(X[0], T[0]), K.affine_transform(X[0], T[0]))
    check(L.affine_transform(X.astype("uint8"), T), K.affine_transform(X.astype("uint8"), T), atol=0)
    shift = torch.tensor([1.0, 0, 1, 0, 1, 0, 0, 0])
    out = L.affine_transform(torch.arange(9.0).reshape(1, 3, 3, 1), shift)
    assert out[0, :, :, 0].tolist() == [[1.0, 2.0, 0.0], [4.0, 5.0, 0.0], [7.0, 8.0, 0.0]]


def test_affine_transform_projective_terms_divide():
    # Keras's torch backend ignores c0/c1; TensorFlow's divides by k = c0 x + c1 y + 1, as Lamina does.
    t = torch.tensor([1.0, 0, 0, 0, 1.0, 0, 0.5, 0.0])
    x = torch.arange(16.0).reshape(1, 4, 4, 1)
    out = L.affine_transform(x, t, "nearest", "nearest")
    # output (x=2, y=1) reads input (2 / 2, 1 / 2) = (1, 0.5) -> rounds to row 0, column 1
    assert out[0, 1, 2, 0].item() == x[0, 0, 1, 0].item()


@pytest.mark.parametrize("fill_mode", ["constant", "nearest", "wrap", "mirror", "reflect"])
@pytest.mark.parametrize("order", [0, 1])
def test_map_coordinates(fill_mode, order):
    coords = RNG.uniform(-2, 12, (2, 5, 6)).astype("float32")
    check(
        L.map_coordinates(X[0, :, :, 0], coords, order, fill_mode, 2.0),
        K.map_coordinates(X[0, :, :, 0], coords, order, fill_mode, 2.0),
    )


@pytest.mark.parametrize("interpolation", ["bilinear", "nearest"])
def test_perspective_transform(interpolation):
    start = np.array([[0, 0], [11, 0], [0, 9], [11, 9]], "float32")
    end = start + RNG.uniform(-2, 2, (4, 2)).astype("float32")
    check(
        L.perspective_transform(X, start, end, interpolation, 1.0),
        K.perspective_transform(X, start, end, interpolation, 1.0),
    )
    check(
        L.perspective_transform(XC, start, end, data_format="channels_first"),
        K.perspective_transform(XC, start, end, data_format="channels_first"),
    )


def test_filters():
    check(
        L.gaussian_blur(X, (3, 3), (1.0, 2.0), "channels_last"), K.gaussian_blur(X, (3, 3), (1.0, 2.0), "channels_last")
    )
    check(
        L.gaussian_blur(XC, (5, 5), (1.5, 1.5), "channels_first"),
        K.gaussian_blur(XC, (5, 5), (1.5, 1.5), "channels_first"),
    )
    check(L.sobel_edges(X), K.sobel_edges(X))
    check(L.sobel_edges(XC, "channels_first"), K.sobel_edges(XC, "channels_first"))
    noisy = X + RNG.normal(size=X.shape).astype("float32") * 5
    check(L.ssim(X, noisy, 255.0, filter_size=5), K.ssim(X, noisy, 255.0, filter_size=5), 1e-5)
    check(L.ssim(X[0], noisy[0], 255.0, filter_size=5), K.ssim(X[0], noisy[0], 255.0, filter_size=5), 1e-5)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"size": 3},
        {"size": (2, 3), "strides": (1, 2)},
        {"size": 3, "padding": "same", "strides": 2},
        {"size": 2, "dilation_rate": 2, "strides": 1},
    ],
)
def test_extract_patches(kwargs):
    check(L.extract_patches(X, **kwargs), K.extract_patches(X, **kwargs), 0)
    check(
        L.extract_patches(XC, data_format="channels_first", **kwargs),
        K.extract_patches(XC, data_format="channels_first", **kwargs),
        0,
    )


def test_extract_patches_3d_pad_crop():
    v = RNG.normal(size=(2, 6, 6, 6, 2)).astype("float32")
    check(L.extract_patches_3d(v, 2), K.extract_patches_3d(v, 2), 0)
    check(
        L.extract_patches(v, (3, 2, 2), strides=2, padding="same"),
        K.extract_patches_3d(v, (3, 2, 2), strides=2, padding="same"),
        0,
    )
    check(
        L.pad_images(X, 1, 2, target_height=14, target_width=16),
        K.pad_images(X, 1, 2, target_height=14, target_width=16),
    )
    check(
        L.pad_images(XC[0], None, None, 1, 2, 13, 15, "channels_first"),
        K.pad_images(XC[0], None, None, 1, 2, 13, 15, "channels_first"),
    )
    check(
        L.crop_images(X, 1, 2, target_height=5, target_width=6), K.crop_images(X, 1, 2, target_height=5, target_width=6)
    )
    check(L.crop_images(X, None, None, 1, 2, 5, 6), K.crop_images(X, None, None, 1, 2, 5, 6))


@pytest.mark.parametrize("method", ["linear", "cubic", "lanczos3", "lanczos5"])
def test_scale_and_translate(method):
    scale, shift = np.array([0.6, 0.4], "float32"), np.array([0.5, -1.0], "float32")
    for antialias in (True, False):
        got = L.scale_and_translate(X, (3, 6, 5, 3), scale, shift, (1, 2), method, antialias)
        check(got, K.scale_and_translate(X, (3, 6, 5, 3), scale, shift, (1, 2), method, antialias))


def test_elastic_transform_repeats_with_a_seed():
    a = L.elastic_transform(X, seed=1)
    assert torch.equal(a, L.elastic_transform(X, seed=1))
    assert not torch.equal(a, L.elastic_transform(X, seed=2))
    assert a.shape == X.shape and not torch.equal(a, torch.as_tensor(X))
    gen = lamina.random.SeedGenerator(4)
    assert not torch.equal(L.elastic_transform(X, seed=gen), L.elastic_transform(X, seed=gen))
    still = L.elastic_transform(X, alpha=0.0, seed=1)  # no displacement: bilinear sampling at the pixels
    np.testing.assert_allclose(still.numpy(), X, atol=1e-4)


def test_symbolic_inputs_record_graph_nodes():
    inputs = lamina.Input((10, 12, 3))
    out = L.resize(inputs, (5, 6))
    assert out.shape == (None, 5, 6, 3)
    model = lamina.Model(inputs, L.rgb_to_grayscale(out))
    assert tuple(model(X).shape) == (3, 5, 6, 1)


def test_names_and_signatures_match_keras():
    assert sorted(L.__all__) == sorted(n for n in dir(K) if not n.startswith("_"))
    for name in L.__all__:
        ours = list(inspect.signature(getattr(L, name)).parameters)
        assert ours == list(inspect.signature(getattr(K, name)).parameters), name
    assert lamina.ops.image is L


def test_bad_arguments():
    with pytest.raises(ValueError, match="Invalid images rank"):
        L.resize(np.zeros((4, 4), "float32"), (2, 2))
    with pytest.raises(ValueError, match="Lanczos"):
        L.resize(X, (2, 2), "lanczos3")
    with pytest.raises(ValueError, match="Only one of `pad_to_aspect_ratio`"):
        L.resize(X, (2, 2), crop_to_aspect_ratio=True, pad_to_aspect_ratio=True)
    with pytest.raises(ValueError, match="Invalid value for argument `fill_mode`"):
        L.affine_transform(X, T, fill_mode="bogus")
    with pytest.raises(ValueError, match="Invalid value for argument `interpolation`"):
        L.affine_transform(X, T, interpolation="bicubic")
    with pytest.raises(ValueError, match="Invalid transform rank"):
        L.affine_transform(X, np.zeros((1, 1, 8)))
    with pytest.raises(ValueError, match="expected float dtype"):
        L.rgb_to_hsv(X.astype("uint8"))
    with pytest.raises(ValueError, match="Invalid channel size"):
        L.rgb_to_grayscale(np.zeros((2, 4, 4, 2), "float32"))
    with pytest.raises(ValueError, match="Must specify exactly two of"):
        L.pad_images(X, 1, 1)
    with pytest.raises(ValueError, match="top_cropping must be >= 0"):
        L.crop_images(X, -1, 0, target_height=2, target_width=2)
    with pytest.raises(ValueError, match="does not fit"):
        L.crop_images(X, 8, 0, target_height=5, target_width=2)
    with pytest.raises(ValueError, match="Invalid start_points shape"):
        L.perspective_transform(X, np.zeros((3, 2)), np.zeros((3, 2)))
    with pytest.raises(NotImplementedError, match="order<=1"):
        L.map_coordinates(X[0, :, :, 0], np.zeros((2, 3)), 3)
    with pytest.raises(ValueError, match="rank 4"):
        L.sobel_edges(X[0])
    with pytest.raises(TypeError, match="Expected an int or a tuple"):
        L.extract_patches(X, "3")
