import numpy as np
import pytest

from tests.metrics.parity import check_metric

RNG = np.random.default_rng(21)


def _probs(shape):
    p = RNG.random(shape).astype("float32") + 0.05
    return p / p.sum(-1, keepdims=True)


@pytest.mark.parametrize("kwargs", [{}, {"from_logits": True}, {"label_smoothing": 0.2}])
def test_binary_crossentropy(kwargs):
    pred = (
        (lambda s: RNG.normal(size=s).astype("float32"))
        if kwargs.get("from_logits")
        else (lambda s: RNG.random(s).astype("float32"))
    )
    check_metric(
        "BinaryCrossentropy",
        kwargs,
        [(RNG.integers(0, 2, (6, 2)).astype("float32"), pred((6, 2))) for _ in range(3)],
        sample_weights=[None, RNG.random(6).astype("float32"), None],
    )


@pytest.mark.parametrize("kwargs", [{}, {"from_logits": True}, {"label_smoothing": 0.1}])
def test_categorical_crossentropy(kwargs):
    batches = [
        (
            np.eye(4, dtype="float32")[RNG.integers(0, 4, 6)],
            RNG.normal(size=(6, 4)).astype("float32") if kwargs.get("from_logits") else _probs((6, 4)),
        )
        for _ in range(2)
    ]
    check_metric("CategoricalCrossentropy", kwargs, batches, sample_weights=[RNG.random(6).astype("float32"), None])


@pytest.mark.parametrize("kwargs", [{}, {"from_logits": True}, {"ignore_class": 1}])
def test_sparse_categorical_crossentropy(kwargs):
    batches = [
        (
            RNG.integers(0, 4, (6, 1)),
            RNG.normal(size=(6, 4)).astype("float32") if kwargs.get("from_logits") else _probs((6, 4)),
        )
        for _ in range(2)
    ]
    check_metric(
        "SparseCategoricalCrossentropy", kwargs, batches, sample_weights=[None, RNG.random(6).astype("float32")]
    )


@pytest.mark.parametrize("cls_name", ["KLDivergence", "Poisson"])
def test_kl_poisson(cls_name):
    check_metric(
        cls_name,
        {},
        [(_probs((5, 3)), _probs((5, 3))) for _ in range(2)],
        sample_weights=[RNG.random(5).astype("float32"), None],
    )


@pytest.mark.parametrize("cls_name", ["Hinge", "SquaredHinge", "CategoricalHinge"])
def test_hinge_metrics(cls_name):
    if cls_name == "CategoricalHinge":
        batches = [(np.eye(3, dtype="float32")[RNG.integers(0, 3, 5)], RNG.normal(size=(5, 3)).astype("float32"))]
    else:
        batches = [
            (RNG.integers(0, 2, (5, 3)).astype("float32"), RNG.normal(size=(5, 3)).astype("float32")),
            (RNG.choice([-1.0, 1.0], (5, 3)).astype("float32"), RNG.normal(size=(5, 3)).astype("float32")),
        ]
    check_metric(cls_name, {}, batches, sample_weights=[RNG.random(5).astype("float32")] + [None] * (len(batches) - 1))
