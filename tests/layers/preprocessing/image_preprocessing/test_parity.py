"""Image layers against Keras's (torch backend): fixed transforms, deterministic layers, and seeded random
layers call after call, in both data formats, on batches and single images, with labels and boxes."""

import random

import keras
import numpy as np
import pytest
import torch

import lamina
from lamina import layers

RNG = np.random.default_rng(0)
X = RNG.uniform(0, 255, (4, 12, 10, 3)).astype("float32")
XC = np.ascontiguousarray(np.transpose(X, (0, 3, 1, 2)))

SEEDED = [
    ("RandomCrop", {"height": 6, "width": 7, "seed": 3}),
    ("RandomCrop", {"height": 16, "width": 7, "seed": 3}),
    ("RandomFlip", {"seed": 1}),
    ("RandomFlip", {"mode": "vertical", "seed": 2}),
    ("RandomRotation", {"factor": 0.2, "seed": 1}),
    (
        "RandomRotation",
        {"factor": 0.3, "fill_mode": "constant", "fill_value": 3.0, "interpolation": "nearest", "seed": 4},
    ),
    ("RandomZoom", {"height_factor": (-0.3, 0.2), "width_factor": 0.4, "fill_mode": "wrap", "seed": 1}),
    ("RandomTranslation", {"height_factor": 0.2, "width_factor": (0.1, 0.3), "fill_mode": "nearest", "seed": 1}),
    ("RandomShear", {"x_factor": 0.3, "y_factor": 0.2, "seed": 1}),
    ("RandomContrast", {"factor": 0.5, "seed": 1}),
    ("RandomBrightness", {"factor": 0.3, "seed": 1}),
    ("RandomHue", {"factor": 0.4, "seed": 1}),
    ("RandomSaturation", {"factor": 0.4, "seed": 1}),
    ("RandomColorDegeneration", {"factor": 0.5, "seed": 1}),
    ("RandomGrayscale", {"factor": 0.5, "seed": 1}),
    ("RandomInvert", {"factor": 0.5, "seed": 1}),
    ("RandomPosterization", {"factor": (1, 6), "seed": 1}),
    ("RandomSharpness", {"factor": 0.5, "seed": 1}),
    ("RandomGaussianBlur", {"factor": 0.7, "sigma": 0.8, "seed": 1}),
    ("RandomErasing", {"factor": 0.8, "fill_value": 3.0, "seed": 1}),
    ("RandomErasing", {"factor": 0.8, "seed": 1}),
    ("RandomPerspective", {"factor": 0.7, "scale": 0.6, "seed": 1}),
    ("Solarization", {"addition_factor": 0.3, "threshold_factor": 0.6, "seed": 1}),
    ("MixUp", {"seed": 1}),
    ("CutMix", {"seed": 1}),
    ("AugMix", {"seed": 1}),
]
# Keras's channels-first path is broken for these (RandomColorJitter's sub-layers ignore data_format) or
# has no data_format argument (Solarization, MixUp pass it through **kwargs to the base layer).
CHANNELS_LAST_ONLY = {"RandomColorJitter"}


def _pair(name, kwargs):
    random.seed(5)  # AugMix picks its chain steps with Python's random, as Keras does
    return getattr(layers, name)(**kwargs), getattr(keras.layers, name)(**kwargs)


def _np(x):
    return x.detach().cpu().numpy()


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("name,kwargs", SEEDED, ids=[f"{c[0]}-{i}" for i, c in enumerate(SEEDED)])
def test_seeded_layers_draw_keras_numbers(name, kwargs, data_format):
    data = X if data_format == "channels_last" else XC
    ours, theirs = _pair(name, {**kwargs, "data_format": data_format})
    for step in range(3):  # the generators advance in step
        random.seed(step)
        got = _np(ours(data))
        random.seed(step)
        expected = _np(theirs(data))
        assert got.shape == expected.shape
        np.testing.assert_allclose(got, expected, atol=1e-3, rtol=1e-5)


def test_color_jitter_equals_keras():
    kwargs = {"brightness_factor": 0.2, "contrast_factor": 0.3, "saturation_factor": 0.4, "hue_factor": 0.2, "seed": 1}
    ours, theirs = _pair("RandomColorJitter", kwargs)
    for _ in range(2):
        np.testing.assert_allclose(_np(ours(X)), _np(theirs(X)), atol=1e-3)


def test_rand_augment_picks_and_applies_keras_transforms():
    # Keras runs all eleven operations at each step and keeps the picked one, but its RandomBrightness adds in
    # place, so the unpicked brightness still changes Keras's images; compare with the picked ops composed.
    ours, theirs = _pair("RandAugment", {"seed": 3, "num_ops": 3})
    x = torch.as_tensor(X)
    got_t, expected_t = ours.get_random_transformation(x), theirs.get_random_transformation(x.clone())
    assert got_t["layer_idxes"] == expected_t["layer_idxes"].tolist()
    expected = x.clone()
    for pick in expected_t["layer_idxes"].tolist():
        key = ours._AUGMENT_LAYERS[pick]
        expected = getattr(theirs, key).transform_images(expected.clone(), expected_t["transforms"][key])
    np.testing.assert_allclose(_np(ours.transform_images(x, got_t)), _np(expected), atol=1e-3)


FIXED = [
    ("RandomRotation", {"factor": (0.25, 0.25)}),
    ("RandomRotation", {"factor": (-0.125, -0.125), "fill_mode": "constant"}),
    ("RandomZoom", {"height_factor": (0.2, 0.2), "width_factor": (-0.3, -0.3)}),
    ("RandomTranslation", {"height_factor": (0.25, 0.25), "width_factor": (-0.1, -0.1)}),
    ("RandomContrast", {"factor": 0.0}),
    ("RandomBrightness", {"factor": (0.1, 0.1)}),
    ("RandomHue", {"factor": 0.0}),
    ("RandomColorDegeneration", {"factor": (0.5, 0.5)}),
    ("RandomPosterization", {"factor": (3, 3)}),
    ("RandomSharpness", {"factor": (0.8, 0.8)}),
    ("RandomInvert", {"factor": (1.0, 1.0)}),
    ("RandomElasticTransform", {"factor": 0.0}),
    ("Resizing", {"height": 6, "width": 7, "interpolation": "bicubic", "antialias": True}),
    ("Resizing", {"height": 6, "width": 7, "pad_to_aspect_ratio": True, "fill_value": 2.0}),
    ("CenterCrop", {"height": 6, "width": 7}),
    ("CenterCrop", {"height": 16, "width": 7}),
    ("AutoContrast", {"value_range": (0, 255)}),
    ("Equalization", {}),
    ("Equalization", {"bins": 64}),
    ("ContrastLimitedAdaptiveHistogramEqualization", {"tile_grid_size": (3, 4)}),
    ("ContrastLimitedAdaptiveHistogramEqualization", {"tile_grid_size": (5, 3), "clip_limit": 0.0}),
]


@pytest.mark.parametrize("name,kwargs", FIXED, ids=[f"{c[0]}-{i}" for i, c in enumerate(FIXED)])
def test_fixed_transforms_equal_keras(name, kwargs):
    ours, theirs = _pair(name, kwargs)
    np.testing.assert_allclose(_np(ours(X)), _np(theirs(X)), atol=1e-3)
    np.testing.assert_allclose(_np(ours(X[0])), _np(theirs(X[0])), atol=1e-3)  # one image


def test_quarter_turn_is_exact_and_counter_clockwise():
    x = np.arange(9.0, dtype="float32").reshape(1, 3, 3, 1)
    out = layers.RandomRotation((0.25, 0.25))(x)[0, :, :, 0]
    assert out.round().tolist() == [[2.0, 5.0, 8.0], [1.0, 4.0, 7.0], [0.0, 3.0, 6.0]]
    expected = keras.layers.RandomRotation((0.25, 0.25))(x)[0, :, :, 0]
    assert torch.equal(out, expected.cpu())


def test_channels_first_is_channels_last_transposed():
    for name, kwargs in [
        ("RandomRotation", {"factor": 0.3, "seed": 2}),
        ("Equalization", {}),
        ("RandomHue", {"factor": 0.3, "seed": 2}),
    ]:
        last = getattr(layers, name)(data_format="channels_last", **kwargs)(X)
        first = getattr(layers, name)(data_format="channels_first", **kwargs)(XC)
        np.testing.assert_allclose(_np(first.permute(0, 2, 3, 1)), _np(last), atol=1e-4)


BOX_LAYERS = [
    ("RandomFlip", {"seed": 1}),
    ("RandomRotation", {"factor": 0.1, "seed": 1}),
    ("RandomZoom", {"height_factor": 0.2, "seed": 1}),
    ("RandomTranslation", {"height_factor": 0.2, "width_factor": 0.2, "seed": 1}),
    ("RandomShear", {"x_factor": 0.2, "y_factor": 0.2, "seed": 1}),
    ("RandomPerspective", {"scale": 0.3, "seed": 1}),
    ("Resizing", {"height": 10, "width": 12}),
    ("Resizing", {"height": 10, "width": 12, "pad_to_aspect_ratio": True}),
    ("Resizing", {"height": 10, "width": 12, "crop_to_aspect_ratio": True}),
    ("CenterCrop", {"height": 10, "width": 12}),
    ("CenterCrop", {"height": 30, "width": 12}),
    ("MaxNumBoundingBoxes", {"max_number": 3}),
    ("RandomContrast", {"factor": 0.2, "seed": 1}),
]
BOXES = np.array([[[2, 3, 10, 12], [5, 1, 15, 8]], [[0, 0, 6, 6], [4, 9, 14, 19]]], "float32")
BOX_LABELS = np.array([[1, 2], [3, 0]], "int32")


def _detection_batch():
    images = RNG.uniform(0, 255, (2, 20, 16, 3)).astype("float32")
    return lambda: {
        "images": images.copy(),
        "bounding_boxes": {"boxes": BOXES.copy(), "labels": BOX_LABELS.copy()},
        "labels": np.eye(4, dtype="float32")[:2],
    }


@pytest.mark.parametrize("name,kwargs", BOX_LAYERS, ids=[c[0] for c in BOX_LAYERS])
def test_boxes_move_as_keras_moves_them(name, kwargs):
    data = _detection_batch()
    ours, theirs = _pair(name, {**kwargs, "bounding_box_format": "xyxy"})
    got, expected = ours(data()), theirs(data())
    assert sorted(got) == sorted(expected)
    np.testing.assert_allclose(_np(got["images"]), _np(expected["images"]), atol=1e-3)
    np.testing.assert_allclose(_np(got["bounding_boxes"]["boxes"]), _np(expected["bounding_boxes"]["boxes"]), atol=1e-3)
    assert got["bounding_boxes"]["labels"].tolist() == expected["bounding_boxes"]["labels"].tolist()
    assert torch.equal(got["labels"], torch.as_tensor(expected["labels"]).cpu())


@pytest.mark.parametrize("fmt", ["center_xywh", "rel_yxyx", "xywh"])
@pytest.mark.parametrize("name,kwargs", BOX_LAYERS[:7], ids=[c[0] for c in BOX_LAYERS[:7]])
def test_boxes_in_any_format_move_like_xyxy(name, kwargs, fmt):
    # Keras applies some box moves to non-xyxy formats as if they were xyxy; here every format goes through xyxy.
    data = _detection_batch()
    base = getattr(layers, name)(bounding_box_format="xyxy", **kwargs)(data())["bounding_boxes"]["boxes"]
    sample = data()
    shape = {"height": 20, "width": 16}
    sample["bounding_boxes"]["boxes"] = lamina.utils.bounding_boxes.convert_format(BOXES, "xyxy", fmt, **shape)
    out = getattr(layers, name)(bounding_box_format=fmt, **kwargs)(sample)["bounding_boxes"]["boxes"]
    out_h, out_w = (10, 12) if name == "Resizing" else (20, 16)
    back = lamina.utils.bounding_boxes.convert_format(out, fmt, "xyxy", height=out_h, width=out_w)
    np.testing.assert_allclose(_np(back), _np(base), atol=1e-3)


def test_mixup_and_cutmix_mix_labels_like_keras():
    labels = np.eye(4, dtype="float32")
    for name in ("MixUp", "CutMix"):
        ours, theirs = _pair(name, {"seed": 2})
        got = ours({"images": X, "labels": labels})
        expected = theirs({"images": X, "labels": labels})
        np.testing.assert_allclose(_np(got["labels"]), _np(expected["labels"]), atol=1e-5)
        np.testing.assert_allclose(_np(got["labels"]).sum(-1), np.ones(4), atol=1e-5)


def test_mixup_keeps_each_images_boxes_and_adds_its_partners():
    data = _detection_batch()()
    out = layers.MixUp(bounding_box_format="xyxy", seed=1)(data)
    boxes, labels = out["bounding_boxes"]["boxes"], out["bounding_boxes"]["labels"]
    assert tuple(boxes.shape) == (2, 4, 4) and tuple(labels.shape) == (2, 4)  # Keras stacks labels on the batch axis
    assert torch.equal(boxes[:, :2], torch.as_tensor(BOXES))


def test_random_crop_moves_boxes_into_the_window():
    layer = layers.RandomCrop(10, 12, seed=1, bounding_box_format="xyxy")
    x = torch.as_tensor(_detection_batch()()["images"])
    top, left, _, _ = layer.get_random_transformation(x)
    layer.generator = lamina.random.SeedGenerator(1)
    out = layer({"images": x, "bounding_boxes": {"boxes": BOXES, "labels": BOX_LABELS}})
    shift = torch.tensor([left, top, left, top], dtype=torch.float32)
    assert torch.equal(out["bounding_boxes"]["boxes"], torch.clamp(torch.as_tensor(BOXES) - shift, min=0))
    assert torch.equal(out["images"], x[:, top : top + 10, left : left + 12])
