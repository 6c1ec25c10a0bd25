"""keras.visualization: the same signatures, masks and galleries as Keras; boxes drawn without OpenCV."""

import inspect

import keras
import numpy as np
import pytest

from lamina import visualization

pytest.importorskip("matplotlib")
from PIL import Image  # noqa: E402 - Pillow is a test extra

NAMES = [
    "draw_bounding_boxes",
    "draw_segmentation_masks",
    "plot_bounding_box_gallery",
    "plot_image_gallery",
    "plot_segmentation_mask_gallery",
]
RNG = np.random.default_rng(0)


@pytest.mark.parametrize("name", NAMES)
def test_signatures_equal_keras(name):
    ours = inspect.signature(getattr(visualization, name))
    theirs = inspect.signature(getattr(keras.visualization, name))
    assert list(ours.parameters) == list(theirs.parameters)
    for (n, a), b in zip(ours.parameters.items(), theirs.parameters.values(), strict=True):
        assert a.default == b.default, n


def _keras_masks(*args, **kwargs):
    return keras.ops.convert_to_numpy(keras.visualization.draw_segmentation_masks(*args, **kwargs))


@pytest.mark.parametrize("blend", [True, False])
@pytest.mark.parametrize(
    "kwargs", [{"num_classes": 4}, {"num_classes": 4, "alpha": 0.5}, {"ignore_index": 0, "num_classes": 4}]
)
def test_segmentation_masks_equal_keras(blend, kwargs):
    images = RNG.uniform(0, 255, (2, 5, 6, 3)).astype("float32")
    masks = RNG.integers(0, 4, (2, 5, 6, 1)).astype("int32")
    ours = visualization.draw_segmentation_masks(images, masks, blend=blend, **kwargs)
    theirs = _keras_masks(images, masks, blend=blend, **kwargs)
    assert ours.dtype == theirs.dtype and ours.shape == theirs.shape
    np.testing.assert_array_equal(ours, theirs)


def test_inferred_num_classes_colors_every_class_present():
    images = np.zeros((1, 2, 2, 3), "float32")
    masks = np.array([[[[0], [1]], [[2], [2]]]], "int32")
    # Keras counts the largest value itself as the number of classes: on torch its one-hot fails
    with pytest.raises(RuntimeError, match="smaller than num_classes"):
        _keras_masks(images, masks)
    ours = visualization.draw_segmentation_masks(images, masks, alpha=1.0)
    np.testing.assert_array_equal(ours, _keras_masks(images, masks, num_classes=3, alpha=1.0))
    assert (ours[0, 1, 0] != 0).any()  # class 2 is painted


def test_segmentation_masks_channels_first_and_color_mapping_equal_keras():
    images = RNG.uniform(0, 255, (1, 3, 4, 4)).astype("float32")
    masks = RNG.integers(0, 2, (1, 1, 4, 4)).astype("int32")
    mapping = {0: (255, 0, 0), 1: (0, 0, 255)}
    kw = dict(num_classes=2, color_mapping=mapping, data_format="channels_first")
    ours = visualization.draw_segmentation_masks(images, masks, **kw)
    theirs = _keras_masks(images, masks, **kw)
    np.testing.assert_array_equal(ours, theirs)


def _pixels(path):
    return np.asarray(Image.open(path).convert("RGBA"))


def test_image_gallery_file_equals_keras(tmp_path):
    images = RNG.uniform(0, 1, (6, 8, 8, 3)).astype("float32")
    labels, preds = np.array([0, 1, 2, 0, 1, 2]), np.array([0, 2, 2, 1, 1, 0])
    label_map = {0: "cat", 1: "dog", 2: "bird"}
    kw = dict(y_true=labels, y_pred=preds, label_map=label_map, value_range=(0, 1), rows=2, cols=3)
    visualization.plot_image_gallery(images, path=tmp_path / "ours.png", **kw)
    keras.visualization.plot_image_gallery(images, path=str(tmp_path / "keras.png"), **kw)
    ours, theirs = _pixels(tmp_path / "ours.png"), _pixels(tmp_path / "keras.png")
    assert ours.shape == theirs.shape and ours.shape[0] > 0
    np.testing.assert_array_equal(ours, theirs)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keras.png", "ours.png"]  # no temp file left


def test_segmentation_gallery_file_equals_keras(tmp_path):
    images = RNG.uniform(0, 255, (2, 6, 6, 3)).astype("float32")
    y_true = RNG.integers(0, 3, (2, 6, 6, 1)).astype("int32")
    y_pred = RNG.integers(0, 3, (2, 6, 6, 1)).astype("int32")
    visualization.plot_segmentation_mask_gallery(images, 3, y_true=y_true, y_pred=y_pred, path=tmp_path / "o.png")
    keras.visualization.plot_segmentation_mask_gallery(
        images, 3, y_true=y_true, y_pred=y_pred, path=str(tmp_path / "k.png")
    )
    np.testing.assert_array_equal(_pixels(tmp_path / "o.png"), _pixels(tmp_path / "k.png"))


def test_keras_needs_opencv_for_boxes_lamina_does_not():
    images = np.zeros((1, 10, 10, 3), "uint8")
    boxes = {"boxes": np.array([[[2, 2, 7, 7]]], "float32"), "labels": np.array([[1]])}
    try:
        import cv2  # noqa: F401
    except ImportError:
        with pytest.raises(ImportError, match="requires the `cv2` package"):
            keras.visualization.draw_bounding_boxes(images, boxes, "xyxy")
    out = visualization.draw_bounding_boxes(images, boxes, "xyxy", color=(255, 0, 0), line_thickness=1)
    red = (out[0] == [255, 0, 0]).all(-1)
    expected = np.zeros((10, 10), bool)
    expected[2, 2:8] = expected[7, 2:8] = expected[2:8, 2] = expected[2:8, 7] = True
    np.testing.assert_array_equal(red, expected)
    assert images.max() == 0  # the input is not drawn on


def test_boxes_formats_thickness_padding_and_labels():
    images = np.full((2, 3, 12, 12), 0.5, "float32")  # channels-first floats in [0, 1]
    boxes = {
        "boxes": np.array([[[0.25, 0.25, 0.75, 0.75], [0, 0, 0.1, 0.1]], [[0, 0, 1, 1], [0, 0, 0, 0]]], "float32"),
        "labels": np.array([[3, -1], [0, -1]]),  # -1: padding, not drawn
        "confidences": np.array([[0.9, 0.1], [0.5, 0.0]], "float32"),
    }
    out = visualization.draw_bounding_boxes(
        images,
        boxes,
        "rel_xyxy",
        class_mapping={0: "a"},
        color=(0, 255, 0),
        line_thickness=3,
        data_format="channels_first",
    )
    assert out.shape == (2, 12, 12, 3) and out.dtype == np.uint8
    green = (out == [0, 255, 0]).all(-1)
    assert green[0, 3, 3:10].all() and green[0, 2:5, 6].all() and not green[0, 6, 6]  # 3-pixel band around y=3
    assert not green[0, 0, 0] and green[1, 0, 0]
    assert (out[0][~green[0]] == 127).all()  # 0.5 -> 127, as Keras scales floats
    gray = visualization.draw_bounding_boxes(
        images[:1], {k: v[:1] for k, v in boxes.items()}, "rel_xyxy", data_format="channels_first"
    )
    assert ((gray[0] == 128).all(-1)).sum() > 0


IMG = np.zeros((1, 4, 4, 3))
BOX = {"boxes": np.zeros((1, 1, 4)), "labels": np.zeros((1, 1))}
MASK = np.zeros((1, 4, 4, 1), "int32")
draw_boxes, draw_masks = visualization.draw_bounding_boxes, visualization.draw_segmentation_masks
gallery = visualization.plot_image_gallery


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda: draw_boxes(IMG[0], BOX, "xyxy"), ValueError, r"images.shape=\(4, 4, 3\)"),
        (lambda: draw_boxes(IMG, [1], "xyxy"), TypeError, "should be a dict"),
        (lambda: draw_boxes(IMG, {"boxes": BOX["boxes"]}, "xyxy"), ValueError, "'boxes' and 'labels'"),
        (lambda: draw_boxes(IMG, BOX, "xyxy", line_thickness=0), ValueError, "line_thickness=0"),
        (lambda: draw_boxes(IMG, {**BOX, "labels": np.zeros((1, 3))}, "xyxy"), ValueError, r"labels.shape=\(1, 3\)"),
        (lambda: draw_masks(IMG, MASK.astype("float32")), TypeError, "integer dtype"),
        (lambda: draw_masks(IMG, MASK[:, :3]), ValueError, r"segmentation_masks.shape=\(1, 3, 4, 1\)"),
        (lambda: draw_masks(IMG, MASK, num_classes=2, color_mapping={0: (1, 2, 3)}), ValueError, r"Missing: \[1\]"),
        (lambda: draw_masks(IMG, MASK + 2, num_classes=2), ValueError, "holds class 2, outside 0..1"),
        (lambda: draw_masks(IMG, MASK, alpha=2), ValueError, "alpha=2"),
        (lambda: gallery(IMG, path="x.png", show=True), ValueError, "either `path`"),
        (lambda: gallery(IMG, y_true=[0, 1]), ValueError, "label_map"),
        (lambda: gallery(IMG, rows=2, cols=2, path="x.png"), ValueError, "needs 4 images"),
        (
            lambda: visualization.plot_bounding_box_gallery(IMG, "xyxy", legend=True, legend_handles=[1], path="x.png"),
            ValueError,
            "Only pass `legend` OR",
        ),
    ],
)
def test_bad_arguments_are_named(call, error, match):
    with pytest.raises(error, match=match):
        call()
