"""The Metric base: variables, device placement, custom metrics, get / resolve / serialization."""

import keras
import numpy as np
import pytest
import torch

import lamina
from lamina import metrics


class CountPositives(metrics.Metric):
    def __init__(self, name="count_positives", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.count = self.add_variable(shape=(), initializer="zeros", name="count")

    def update_state(self, y_true, y_pred, sample_weight=None):
        self.count.assign_add(torch.sum(y_pred > 0).to(self.count.value.dtype))

    def result(self):
        return self.count.value.clone()


def test_custom_metric_variables_reset_and_call():
    m = CountPositives()
    assert [v.path for v in m.variables] == ["count_positives/count"]
    assert float(m(None, torch.tensor([1.0, -1.0, 2.0]))) == 2.0
    m.update_state(None, torch.tensor([3.0]))
    assert float(m.result()) == 3.0
    m.reset_state()
    assert float(m.result()) == 0.0
    assert m.get_config() == {"name": "count_positives", "dtype": "float32"}
    assert repr(m) == "<CountPositives name=count_positives>"


def test_forgot_super_init():
    class Broken(metrics.Metric):
        def __init__(self):
            pass

    with pytest.raises(RuntimeError, match="super"):
        Broken().add_variable((), "zeros")


def test_state_moves_lazily_to_data_device():
    # "meta" stands in for an accelerator: tensors there have shapes but no data.
    m = metrics.Mean()
    assert m.total.device == lamina.backend.default_device()
    m.update_state(torch.ones(4, 2, device="meta"))
    assert m.total.device.type == "meta" and m.count.device.type == "meta" and m.device.type == "meta"
    assert m.result().device.type == "meta"
    auc = metrics.AUC(num_thresholds=4)  # the cached thresholds follow too
    auc.update_state(torch.ones(3, device="meta"), torch.ones(3, device="meta"))
    assert {v.device.type for v in auc.variables} == {"meta"}
    with lamina.backend.device_scope("meta"):
        m2 = metrics.Sum()
    assert m2.total.device.type == "meta"


def test_sub_metrics_are_tracked():
    class Pair(metrics.Metric):
        def __init__(self):
            super().__init__(name="pair")
            self.a = metrics.Mean(name="a")
            self.b = metrics.Sum(name="b")

        def update_state(self, values):
            self.a.update_state(values)
            self.b.update_state(values)

        def result(self):
            return self.a.result() + self.b.result()

    p = Pair()
    assert [v.path for v in p.variables] == ["a/total", "a/count", "b/total"]
    p.update_state([1.0, 3.0])
    assert float(p.result()) == 6.0
    p.reset_state()
    assert float(p.result()) == 0.0


def test_dtype_and_mixed_policy():
    assert metrics.Mean(dtype="float64").total.dtype == torch.float64  # a Variable is a torch tensor
    assert metrics.Mean(dtype="mixed_float16").get_config() == keras.metrics.Mean(dtype="mixed_float16").get_config()
    assert metrics.MeanIoU(3).dtype == keras.metrics.MeanIoU(3).dtype == "int32"


def test_get_names_and_errors():
    assert isinstance(metrics.get("accuracy"), metrics.Accuracy)
    assert isinstance(metrics.get("mse"), metrics.MeanSquaredError)
    assert isinstance(metrics.get("AUC"), metrics.AUC)
    assert isinstance(metrics.get("sparse_top_k_categorical_accuracy"), metrics.SparseTopKCategoricalAccuracy)
    assert metrics.get(lamina.losses.mean_absolute_error) is lamina.losses.mean_absolute_error
    assert metrics.get({"class_name": "AUC", "config": {"num_thresholds": 5}}).num_thresholds == 5
    with pytest.raises(ValueError, match="Could not interpret metric identifier: 'acuracy'. Valid names: .*accuracy"):
        metrics.get("acuracy")
    for name in ("auc", "mean_io_u", "bce", "MAPE", "r2_score", "f1_score", "one_hot_mean_io_u"):
        assert (
            type(metrics.get(name)).__name__ == type(keras.metrics.get(name)).__name__
            if name not in ("mean_io_u", "one_hot_mean_io_u")
            else True
        )


def test_serialize_round_trip_through_keras():
    for m in (
        metrics.AUC(name="a", curve="PR"),
        metrics.Precision(thresholds=[0.2, 0.7], name="p"),
        metrics.BinaryAccuracy(threshold=0.3),
        metrics.MeanIoU(4, name="iou"),
        metrics.F1Score(average="macro"),
    ):
        config = metrics.serialize(m)
        ref = keras.metrics.deserialize(config)
        assert type(ref).__name__ == type(m).__name__
        assert ref.get_config() == m.get_config()
        back = metrics.deserialize(keras.metrics.serialize(ref))
        assert type(back) is type(m) and back.get_config() == m.get_config()


@pytest.mark.parametrize(
    "loss,output_shape,expected",
    [
        ("sparse_categorical_crossentropy", (None, 10), "SparseCategoricalAccuracy"),
        (lamina.losses.SparseCategoricalCrossentropy(from_logits=True), (None, 10), "SparseCategoricalAccuracy"),
        ("categorical_crossentropy", (None, 10), "CategoricalAccuracy"),
        (lamina.losses.CategoricalCrossentropy(), (None, 10), "CategoricalAccuracy"),
        ("binary_crossentropy", (None, 1), "BinaryAccuracy"),
        (lamina.losses.BinaryCrossentropy(from_logits=True), (None, 4), "BinaryAccuracy"),
        ("mse", (None, 1), "BinaryAccuracy"),
        ("mse", (None, 3), "CategoricalAccuracy"),
    ],
)
def test_resolve_accuracy_from_loss_and_shape(loss, output_shape, expected):
    m = metrics.resolve("accuracy", loss=loss, output_shape=output_shape)
    assert type(m).__name__ == expected and m.name == "accuracy"


@pytest.mark.parametrize(
    "y_true_shape,y_pred_shape,expected",
    [
        ((8,), (8, 3), "SparseCategoricalAccuracy"),
        ((8, 1), (8, 3), "SparseCategoricalAccuracy"),
        ((8, 3), (8, 3), "CategoricalAccuracy"),
        ((8, 1), (8, 1), "BinaryAccuracy"),
        ((8,), (8, 1), "BinaryAccuracy"),
    ],
)
def test_resolve_accuracy_matches_keras_rule(y_true_shape, y_pred_shape, expected):
    from keras.src.trainers.compile_utils import get_metric

    ref = get_metric("acc", np.zeros(y_true_shape), np.zeros(y_pred_shape))
    ours = metrics.resolve("acc", output_shape=y_pred_shape, y_true_shape=y_true_shape)
    assert type(ours).__name__ == type(ref).__name__ == expected
    assert ours.name == ref.name == "acc"


def test_resolve_other_identifiers():
    m = metrics.resolve("mse")
    assert isinstance(m, metrics.MeanSquaredError) and m.name == "mse"
    w = metrics.resolve(lamina.losses.mean_absolute_error)
    assert isinstance(w, metrics.MeanMetricWrapper) and w.name == "mean_absolute_error"
    auc = metrics.AUC(name="my_auc")
    assert metrics.resolve(auc) is auc and auc.name == "my_auc"
    with pytest.raises(ValueError, match="None"):
        metrics.resolve(None)
