import keras
import numpy as np
import pytest

from lamina import metrics
from tests.metrics.parity import check_metric, to_np

RNG = np.random.default_rng(11)


def _sparse(n, c, column=False):
    y = RNG.integers(0, c, (n, 1) if column else n)
    return y, RNG.random((n, c)).astype("float32")


def _one_hot(n, c):
    return np.eye(c, dtype="float32")[RNG.integers(0, c, n)], RNG.random((n, c)).astype("float32")


def test_accuracy():
    batches = [(RNG.integers(0, 3, (5, 1)), RNG.integers(0, 3, (5, 1))) for _ in range(3)]
    check_metric("Accuracy", {}, batches, sample_weights=[RNG.random(5).astype("float32") for _ in range(3)])


@pytest.mark.parametrize("kwargs", [{}, {"threshold": 0.7}])
@pytest.mark.parametrize("label_shape", [(6, 1), (6,), (6, 3)])
def test_binary_accuracy(kwargs, label_shape):
    pred_shape = label_shape if len(label_shape) == 2 else (6, 1)
    batches = [
        (RNG.integers(0, 2, label_shape).astype("float32"), RNG.random(pred_shape).astype("float32")) for _ in range(3)
    ]
    check_metric("BinaryAccuracy", kwargs, batches, sample_weights=[None, RNG.random(6).astype("float32"), None])


def test_categorical_accuracy():
    check_metric(
        "CategoricalAccuracy",
        {},
        [_one_hot(6, 4) for _ in range(3)],
        sample_weights=[RNG.random(6).astype("float32"), None, None],
    )
    seq = [(np.eye(4, dtype="float32")[RNG.integers(0, 4, (2, 5))], RNG.random((2, 5, 4)).astype("float32"))]
    check_metric("CategoricalAccuracy", {}, seq)


@pytest.mark.parametrize("column", [False, True])
def test_sparse_categorical_accuracy(column):
    check_metric(
        "SparseCategoricalAccuracy",
        {},
        [_sparse(6, 4, column) for _ in range(3)],
        sample_weights=[None, RNG.random(6).astype("float32"), None],
    )
    seq = [(RNG.integers(0, 4, (2, 5)), RNG.random((2, 5, 4)).astype("float32")) for _ in range(2)]
    check_metric("SparseCategoricalAccuracy", {}, seq)


@pytest.mark.parametrize("k", [1, 2, 5])
def test_top_k(k):
    check_metric("TopKCategoricalAccuracy", {"k": k}, [_one_hot(8, 6) for _ in range(2)])
    check_metric(
        "SparseTopKCategoricalAccuracy",
        {"k": k},
        [_sparse(8, 6) for _ in range(2)],
        sample_weights=[RNG.random(8).astype("float32"), None],
    )
    seq = [(RNG.integers(0, 6, (2, 3)), RNG.random((2, 3, 6)).astype("float32"))]
    check_metric("SparseTopKCategoricalAccuracy", {"k": k}, seq)


def test_sparse_top_k_from_sorted_ids():
    ids = np.argsort(-RNG.random((8, 6)), axis=-1)[:, :4].astype("float32")
    batches = [(RNG.integers(0, 6, 8), ids)]
    check_metric("SparseTopKCategoricalAccuracy", {"k": 2, "from_sorted_ids": True}, batches)


def test_ties_count_as_in_top_k():
    y_pred = np.array([[0.5, 0.5, 0.1]], dtype="float32")
    ours = metrics.sparse_top_k_categorical_accuracy(np.array([1]), y_pred, k=1)
    ref = keras.metrics.sparse_top_k_categorical_accuracy(np.array([1]), y_pred, k=1)
    np.testing.assert_array_equal(to_np(ours), to_np(ref))


@pytest.mark.parametrize(
    "fn",
    [
        "binary_accuracy",
        "categorical_accuracy",
        "sparse_categorical_accuracy",
        "top_k_categorical_accuracy",
        "sparse_top_k_categorical_accuracy",
    ],
)
def test_functions(fn):
    if fn.startswith("sparse"):
        y_true, y_pred = _sparse(6, 5, column=True)
    elif fn == "binary_accuracy":
        y_true, y_pred = RNG.integers(0, 2, (6, 5)), RNG.random((6, 5)).astype("float32")
    else:
        y_true, y_pred = _one_hot(6, 5)
    np.testing.assert_array_equal(
        to_np(getattr(metrics, fn)(y_true, y_pred)), to_np(getattr(keras.metrics, fn)(y_true, y_pred))
    )
