"""lamina.utils.bounding_boxes against keras.utils.bounding_boxes (torch backend)."""

import inspect
import itertools

import keras
import numpy as np
import pytest
import torch

from lamina.utils import bounding_boxes as B

KB = keras.utils.bounding_boxes
BOXES = np.array(
    [[[2.0, 3.0, 10.0, 12.0], [5.0, 1.0, 15.0, 8.0]], [[0.0, 0.0, 6.0, 6.0], [4.0, 9.0, 14.0, 19.0]]], "float32"
)
FORMATS = ["xyxy", "yxyx", "xywh", "center_xywh", "center_yxhw", "rel_xyxy", "rel_yxyx", "rel_xywh", "rel_center_xywh"]


def _np(x):
    return x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)


@pytest.mark.parametrize("source,target", list(itertools.product(FORMATS, FORMATS)))
def test_convert_format_equals_keras(source, target):
    got = B.convert_format(BOXES, source, target, height=20, width=16)
    expected = KB.convert_format(BOXES, source, target, height=20, width=16)
    np.testing.assert_allclose(_np(got), _np(expected), rtol=1e-6)


def test_convert_format_dict_and_dtype():
    data = {"boxes": BOXES.copy(), "labels": np.array([[1, 2], [3, 4]])}
    out = B.convert_format(data, "xyxy", "XYWH", dtype="float64")
    assert out is data and out["boxes"].dtype == torch.float64
    assert out["boxes"][0, 0].tolist() == [2.0, 3.0, 8.0, 9.0]


@pytest.mark.parametrize("fmt", ["xyxy", "rel_xyxy"])
def test_clip_to_image_size_equals_keras(fmt):
    boxes = np.array([[[-5.0, 2.0, 8.0, 30.0], [12.0, 0.0, 25.0, 5.0]]], "float32")
    if fmt == "rel_xyxy":
        boxes = boxes / 10.0
    labels = np.array([[1, 2]], "int32")
    got = B.clip_to_image_size({"boxes": boxes, "labels": labels}, height=10, width=10, bounding_box_format=fmt)
    expected = KB.clip_to_image_size({"boxes": boxes, "labels": labels}, height=10, width=10, bounding_box_format=fmt)
    np.testing.assert_allclose(_np(got["boxes"]), _np(expected["boxes"]))
    assert _np(got["labels"]).tolist() == _np(expected["labels"]).tolist()


def test_affine_crop_pad_equal_keras():
    args = [torch.tensor([30.0, -45.0]), torch.tensor([0.1, 0.0]), torch.tensor([0.0, -0.2])]
    args += [torch.tensor([1.2, 0.9]), torch.tensor([5.0, 0.0]), torch.tensor([0.0, 10.0])]
    got = B.affine_transform(BOXES, *args, height=20, width=16)
    expected = KB.affine_transform(BOXES, *args, height=20, width=16)
    np.testing.assert_allclose(_np(got), _np(expected), atol=1e-4)
    np.testing.assert_allclose(_np(B.crop(BOXES, 2, 3, 10, 8)), _np(KB.crop(BOXES, 2, 3, 10, 8)))
    np.testing.assert_allclose(_np(B.pad(BOXES, 2, 3)), _np(KB.pad(BOXES, 2, 3)))


@pytest.mark.parametrize("fmt", ["xyxy", "center_xywh", "rel_yxyx"])
def test_compute_iou_equals_keras(fmt):
    shape = (20, 16, 3)
    b1 = B.convert_format(BOXES, "xyxy", fmt, height=20, width=16).numpy()
    b2 = b1[:, ::-1].copy() + 0.5
    for pair in ((b1[0], b2[0]), (b1, b2), (b1[0], b2)):
        got = B.compute_iou(*pair, fmt, image_shape=shape)
        expected = KB.compute_iou(*pair, fmt, image_shape=shape)
        np.testing.assert_allclose(_np(got), _np(expected), atol=1e-6)
    padded = b2.copy()
    padded[0, 1] = -1.0
    got = B.compute_iou(b1, padded, fmt, use_masking=True, mask_val=-7, image_shape=shape)
    expected = KB.compute_iou(b1, padded, fmt, use_masking=True, mask_val=-7, image_shape=shape)
    np.testing.assert_allclose(_np(got), _np(expected), atol=1e-6)


def test_compute_ciou_equals_keras():
    other = BOXES + np.array([1.0, -1.0, 2.0, 0.5], "float32")
    for fmt in ("xyxy", "center_xywh"):
        np.testing.assert_allclose(
            _np(B.compute_ciou(BOXES, other, fmt)), _np(KB.compute_ciou(BOXES, other, fmt)), atol=1e-5
        )


@pytest.mark.parametrize("encoding", ["center_yxhw", "center_xywh"])
def test_box_deltas_equal_keras_and_invert(encoding):
    anchors = BOXES[0]
    boxes = BOXES[1] + 1.0
    variance = [0.1, 0.1, 0.2, 0.2]
    deltas = B.encode_box_to_deltas(anchors, boxes, "xyxy", "xyxy", encoding, variance)
    expected = KB.encode_box_to_deltas(anchors, boxes, "xyxy", "xyxy", encoding, variance)
    np.testing.assert_allclose(_np(deltas), _np(expected), atol=1e-5)
    decoded = B.decode_deltas_to_boxes(anchors, deltas, "xyxy", "xyxy", encoding, variance)
    np.testing.assert_allclose(
        _np(decoded), _np(KB.decode_deltas_to_boxes(anchors, expected, "xyxy", "xyxy", encoding, variance)), atol=1e-4
    )
    np.testing.assert_allclose(_np(decoded), boxes, atol=1e-4)
    levels = B.decode_deltas_to_boxes({"p3": anchors}, {"p3": deltas}, "xyxy", "xyxy", encoding, variance)
    assert list(levels) == ["p3"]


def test_names_and_signatures_match_keras():
    assert sorted(B.__all__) == sorted(n for n in dir(KB) if not n.startswith("_"))
    for name in B.__all__:
        ours = list(inspect.signature(getattr(B, name)).parameters)
        assert ours == list(inspect.signature(getattr(KB, name)).parameters), name


def test_bad_arguments():
    with pytest.raises(ValueError, match="last dimension of 4"):
        B.convert_format(np.zeros((2, 3)), "xyxy", "yxyx")
    with pytest.raises(ValueError, match="Invalid source or target format"):
        B.convert_format(BOXES, "xyxy", "polar")
    with pytest.raises(ValueError, match="must receive `height` and `width`"):
        B.convert_format(BOXES, "xyxy", "rel_xyxy")
    with pytest.raises(ValueError, match="`height` and `width` must be set"):
        B.clip_to_image_size({"boxes": BOXES})
    with pytest.raises(ValueError, match="expects boxes1 to be batched"):
        B.compute_iou(np.zeros(4), BOXES, "xyxy")
    with pytest.raises(ValueError, match="`image_shape` argument must be provided"):
        B.compute_iou(BOXES, BOXES, "rel_xyxy")
    with pytest.raises(ValueError, match="`variance` must be length 4"):
        B.encode_box_to_deltas(BOXES[0], BOXES[1], "xyxy", "xyxy", variance=[1.0, 1.0])
    with pytest.raises(ValueError, match="`encoding_format` should be one of"):
        B.encode_box_to_deltas(BOXES[0], BOXES[1], "xyxy", "xyxy", encoding_format="xyxy")
