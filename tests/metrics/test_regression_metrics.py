import keras
import numpy as np
import pytest

from lamina import metrics
from tests.metrics.parity import check_metric, to_np

RNG = np.random.default_rng(9)


def _reg(shape=(6, 3), positive=False):
    a, b = RNG.normal(size=shape).astype("float32"), RNG.normal(size=shape).astype("float32")
    if positive:
        a, b = np.abs(a), np.abs(b)
    return a, b


@pytest.mark.parametrize(
    "cls_name",
    [
        "MeanSquaredError",
        "MeanAbsoluteError",
        "MeanAbsolutePercentageError",
        "MeanSquaredLogarithmicError",
        "RootMeanSquaredError",
        "CosineSimilarity",
        "LogCoshError",
    ],
)
def test_regression_metric(cls_name):
    positive = cls_name == "MeanSquaredLogarithmicError"
    check_metric(
        cls_name,
        {},
        [_reg(positive=positive) for _ in range(3)],
        sample_weights=[RNG.random(6).astype("float32"), None, RNG.random((6, 1)).astype("float32")],
    )
    check_metric(cls_name, {}, [(RNG.normal(size=6).astype("float32"), RNG.normal(size=(6, 1)).astype("float32"))])


def test_cosine_similarity_axis():
    y_true, y_pred = _reg((4, 5))
    ours, ref = metrics.CosineSimilarity(axis=0), keras.metrics.CosineSimilarity(axis=0)
    np.testing.assert_allclose(to_np(ours(y_true, y_pred)), to_np(ref(y_true, y_pred)), rtol=1e-5)


@pytest.mark.parametrize(
    "kwargs",
    [{}, {"class_aggregation": None}, {"class_aggregation": "variance_weighted_average"}, {"num_regressors": 2}],
)
def test_r2_score(kwargs):
    batches = [_reg((8, 3)) for _ in range(3)]
    batches = [(t, t + 0.3 * p) for t, p in batches]
    check_metric("R2Score", kwargs, batches, sample_weights=[None, RNG.random(8).astype("float32"), None])


def test_r2_score_errors_and_fallback():
    with pytest.raises(ValueError, match="class_aggregation"):
        metrics.R2Score(class_aggregation="median")
    with pytest.raises(ValueError, match="num_regressors"):
        metrics.R2Score(num_regressors=-1)
    with pytest.raises(ValueError, match="2D"):
        metrics.R2Score().update_state(np.zeros(3), np.zeros(3))
    m = metrics.R2Score(num_regressors=5)
    m.update_state(np.array([[1.0], [2.0], [4.0]]), np.array([[1.0], [2.5], [3.0]]))
    with pytest.warns(UserWarning, match="predictors"):
        m.result()
