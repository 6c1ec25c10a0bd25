import numpy as np
import pytest

from tests.metrics.parity import check_metric

RNG = np.random.default_rng(17)


@pytest.mark.parametrize("cls_name", ["PearsonCorrelation", "ConcordanceCorrelation"])
@pytest.mark.parametrize("axis", [-1, 0])
def test_correlation(cls_name, axis):
    batches = []
    for _ in range(2):
        y_true = RNG.normal(size=(6, 5)).astype("float32")
        batches.append((y_true, y_true + RNG.normal(size=(6, 5)).astype("float32")))
    check_metric(
        cls_name,
        {"axis": axis},
        batches,
        sample_weights=[None, None] if axis == 0 else [RNG.random(6).astype("float32"), None],
    )
