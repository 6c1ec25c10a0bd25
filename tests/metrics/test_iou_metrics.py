import numpy as np
import pytest

from lamina import metrics
from tests.metrics.parity import check_metric

RNG = np.random.default_rng(5)


def _ids(shape, c):
    return RNG.integers(0, c, shape), RNG.integers(0, c, shape)


@pytest.mark.parametrize("kwargs", [{}, {"ignore_class": 0}, {"ignore_class": 2}])
def test_mean_iou(kwargs):
    batches = [_ids((2, 4, 4), 4) for _ in range(3)]
    check_metric(
        "MeanIoU", {"num_classes": 4, **kwargs}, batches, sample_weights=[None, RNG.integers(0, 3, (2, 4, 4)), None]
    )


def test_mean_iou_drops_out_of_range_and_absent_classes():
    y_true = np.array([0, 1, 7, -1, 1])
    y_pred = np.array([0, 1, 1, 0, 5])
    check_metric("MeanIoU", {"num_classes": 4}, [(y_true, y_pred)])


@pytest.mark.parametrize("target_class_ids", [[0], [1, 2], [0, 2, 3]])
def test_iou(target_class_ids):
    check_metric("IoU", {"num_classes": 4, "target_class_ids": target_class_ids}, [_ids((10,), 4) for _ in range(2)])


def test_iou_dense_inputs_and_axis():
    y_true = np.eye(3, dtype="float32")[RNG.integers(0, 3, (6,))]
    y_pred = RNG.random((6, 3)).astype("float32")
    check_metric(
        "IoU",
        {"num_classes": 3, "target_class_ids": [0, 1], "sparse_y_true": False, "sparse_y_pred": False},
        [(y_true, y_pred)],
    )
    check_metric("OneHotIoU", {"num_classes": 3, "target_class_ids": [1, 2]}, [(y_true, y_pred)])
    check_metric("OneHotMeanIoU", {"num_classes": 3}, [(y_true, y_pred)])
    check_metric("OneHotMeanIoU", {"num_classes": 3, "sparse_y_pred": True}, [(y_true, RNG.integers(0, 3, (6,)))])


@pytest.mark.parametrize("kwargs", [{}, {"threshold": 0.3}, {"target_class_ids": [1]}])
def test_binary_iou(kwargs):
    batches = [(RNG.integers(0, 2, (8,)), RNG.random((8,)).astype("float32")) for _ in range(2)]
    check_metric("BinaryIoU", kwargs, batches)


def test_iou_target_out_of_range():
    with pytest.raises(ValueError, match="Target class id 5 is out of range"):
        metrics.IoU(num_classes=3, target_class_ids=[0, 5])


def test_float_weights_warn():
    m = metrics.MeanIoU(num_classes=2)
    with pytest.warns(UserWarning, match="float"):
        m.update_state(np.array([0, 1]), np.array([0, 1]), sample_weight=np.array([0.5, 1.0], dtype="float32"))
