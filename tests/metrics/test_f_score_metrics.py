import numpy as np
import pytest

from lamina import metrics
from tests.metrics.parity import check_metric

RNG = np.random.default_rng(13)


def _batch():
    return RNG.integers(0, 2, (7, 4)).astype("float32"), RNG.random((7, 4)).astype("float32")


@pytest.mark.parametrize("average", [None, "micro", "macro", "weighted"])
@pytest.mark.parametrize("threshold", [None, 0.4])
def test_f1_and_fbeta(average, threshold):
    weights = [RNG.random(7).astype("float32"), None]
    check_metric("F1Score", {"average": average, "threshold": threshold}, [_batch(), _batch()], sample_weights=weights)
    check_metric(
        "FBetaScore",
        {"average": average, "threshold": threshold, "beta": 0.5},
        [_batch(), _batch()],
        sample_weights=weights,
    )


def test_argument_errors():
    with pytest.raises(ValueError, match="average"):
        metrics.F1Score(average="mean")
    with pytest.raises(ValueError, match="beta"):
        metrics.FBetaScore(beta=2)
    with pytest.raises(ValueError, match="threshold"):
        metrics.FBetaScore(threshold=1.5)
    with pytest.raises(ValueError, match="2D"):
        metrics.F1Score().update_state(np.zeros(3), np.zeros(3))
