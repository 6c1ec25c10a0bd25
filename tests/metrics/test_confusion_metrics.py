import keras
import numpy as np
import pytest

from lamina import metrics
from tests.metrics.parity import check_metric, to_np

RNG = np.random.default_rng(3)


def _binary(n=16, shape=None):
    shape = shape or (n,)
    return RNG.integers(0, 2, shape).astype("float32"), RNG.random(shape).astype("float32")


def _weights(n=16):
    return RNG.random(n).astype("float32")


@pytest.mark.parametrize("cls_name", ["TruePositives", "FalsePositives", "TrueNegatives", "FalseNegatives"])
@pytest.mark.parametrize("thresholds", [None, 0.3, [0.1, 0.6, 0.9], [0.0, 0.25, 0.5, 0.75, 1.0]])
def test_counts(cls_name, thresholds):
    check_metric(
        cls_name,
        {"thresholds": thresholds},
        [_binary() for _ in range(3)],
        sample_weights=[_weights(), None, _weights()],
    )


@pytest.mark.parametrize("cls_name", ["Precision", "Recall"])
@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"thresholds": [0.2, 0.5, 0.8]},
        {"thresholds": [0.0, 0.5, 1.0]},
        {"top_k": 2},
        {"class_id": 1},
        {"top_k": 2, "class_id": 3},
        {"thresholds": 0.4, "class_id": 2},
    ],
)
def test_precision_recall(cls_name, kwargs):
    if "top_k" in kwargs or "class_id" in kwargs:
        batches = [
            (RNG.integers(0, 2, (8, 5)).astype("float32"), RNG.random((8, 5)).astype("float32")) for _ in range(3)
        ]
        weights = [RNG.random(8).astype("float32"), None, None]
    else:
        batches = [_binary(shape=(8, 2)) for _ in range(3)]
        weights = [RNG.random((8, 1)).astype("float32"), None, RNG.random((8, 2)).astype("float32")]
    check_metric(cls_name, kwargs, batches, sample_weights=weights)


@pytest.mark.parametrize(
    "cls_name,value_arg",
    [
        ("SensitivityAtSpecificity", "specificity"),
        ("SpecificityAtSensitivity", "sensitivity"),
        ("PrecisionAtRecall", "recall"),
        ("RecallAtPrecision", "precision"),
    ],
)
@pytest.mark.parametrize("extra", [{}, {"num_thresholds": 1}, {"num_thresholds": 7, "class_id": 1}])
def test_at_metrics(cls_name, value_arg, extra):
    if "class_id" in extra:
        batches = [
            (RNG.integers(0, 2, (10, 3)).astype("float32"), RNG.random((10, 3)).astype("float32")) for _ in range(2)
        ]
    else:
        batches = [_binary(20) for _ in range(2)]
    check_metric(
        cls_name,
        {value_arg: 0.6, **extra},
        batches,
        sample_weights=[None, RNG.random(len(batches[1][0])).astype("float32")],
    )


@pytest.mark.parametrize(
    "cls_name,value_arg", [("SensitivityAtSpecificity", "specificity"), ("PrecisionAtRecall", "recall")]
)
def test_at_metrics_validate_value(cls_name, value_arg):
    with pytest.raises(ValueError, match=value_arg):
        getattr(metrics, cls_name)(**{value_arg: 1.5})
    with pytest.raises(ValueError, match="num_thresholds"):
        getattr(metrics, cls_name)(**{value_arg: 0.5, "num_thresholds": 0})


AUC_CASES = [
    {},
    {"curve": "PR"},
    {"curve": "PRGAIN"},
    {"summation_method": "majoring"},
    {"summation_method": "minoring"},
    {"curve": "PR", "summation_method": "minoring"},
    {"num_thresholds": 13},
    {"thresholds": [0.3, 0.1, 0.7]},
    {"thresholds": [0.25, 0.5, 0.75]},
    {"from_logits": True},
    {"multi_label": True},
    {"multi_label": True, "num_labels": 3, "curve": "PR"},
    {"multi_label": True, "thresholds": [0.2, 0.6]},
    {"multi_label": True, "label_weights": [0.2, 0.5, 0.3]},
]


@pytest.mark.parametrize("kwargs", AUC_CASES)
def test_auc(kwargs):
    logits = kwargs.get("from_logits", False)
    batches = []
    for _ in range(3):
        y_true = RNG.integers(0, 2, (12, 3)).astype("float32")
        y_pred = RNG.normal(size=(12, 3)).astype("float32") * 2 if logits else RNG.random((12, 3)).astype("float32")
        batches.append((y_true, y_pred))
    weights = [RNG.random(12).astype("float32"), None, RNG.random((12, 3)).astype("float32")]
    if "label_weights" in kwargs:
        ours, ref = metrics.AUC(**kwargs), keras.metrics.AUC(**kwargs)
        for (y_true, y_pred), sw in zip(batches, weights, strict=True):
            ours.update_state(y_true, y_pred, sample_weight=sw)
            ref.update_state(y_true, y_pred, sample_weight=sw)
        np.testing.assert_allclose(to_np(ours.result()), to_np(ref.result()), rtol=1e-5, atol=1e-6)
        assert ours.get_config()["label_weights"] == pytest.approx(kwargs["label_weights"])
        return
    check_metric("AUC", kwargs, batches, sample_weights=weights)


def test_auc_label_weights_not_multi_label_and_prediction_edges():
    y_true = np.array([0, 0, 1, 1, 1, 0], dtype="float32")
    y_pred = np.array([0.0, 1.0, 1.0, 0.0, 0.5, 0.5], dtype="float32")  # exactly on the end points
    for kwargs in ({}, {"curve": "PR"}, {"num_thresholds": 3}):
        check_metric("AUC", kwargs, [(y_true, y_pred)])
    batches = [(RNG.integers(0, 2, (8, 2)).astype("float32"), RNG.random((8, 2)).astype("float32"))]
    ours, ref = metrics.AUC(label_weights=[0.3, 0.7]), keras.metrics.AUC(label_weights=[0.3, 0.7])
    ours.update_state(*batches[0])
    ref.update_state(*batches[0])
    np.testing.assert_allclose(to_np(ours.result()), to_np(ref.result()), rtol=1e-5)


def test_auc_errors():
    with pytest.raises(ValueError, match="num_thresholds"):
        metrics.AUC(num_thresholds=1)
    with pytest.raises(ValueError, match="curve"):
        metrics.AUC(curve="XYZ")
    with pytest.raises(ValueError, match="summation"):
        metrics.AUC(summation_method="avg")
    with pytest.raises(ValueError, match="num_labels"):
        metrics.AUC(num_labels=3)
    with pytest.raises(ValueError, match="rank 2"):
        metrics.AUC(multi_label=True).update_state(np.zeros((2, 2, 2)), np.zeros((2, 2, 2)))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        metrics.Precision(thresholds=[0.5, 1.5])


def test_auc_thresholds_property_matches_keras():
    assert metrics.AUC(num_thresholds=5).thresholds == pytest.approx(keras.metrics.AUC(num_thresholds=5).thresholds)
