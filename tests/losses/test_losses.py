"""Parity of lamina.losses with the real keras.losses (torch backend), configs, errors and fast paths."""

import warnings

import keras
import numpy as np
import pytest
import torch

import lamina
from lamina import losses

RNG = np.random.default_rng(1234)


def _np(x):
    if isinstance(x, torch.Tensor):
        return x.detach().cpu().numpy()
    return np.asarray(x)


def _probs(shape):
    p = RNG.random(shape).astype("float32") + 0.05
    return p / p.sum(-1, keepdims=True)


def _one_hot(n, c):
    return np.eye(c, dtype="float32")[RNG.integers(0, c, n)]


def _data(kind):
    """(y_true, y_pred) for a family of losses."""
    if kind == "regression":
        return RNG.normal(size=(6, 4)).astype("float32"), RNG.normal(size=(6, 4)).astype("float32")
    if kind == "positive":
        return RNG.random((6, 4)).astype("float32") * 3, RNG.random((6, 4)).astype("float32") * 3 + 0.01
    if kind == "binary":
        return RNG.integers(0, 2, (6, 4)).astype("float32"), RNG.random((6, 4)).astype("float32")
    if kind == "logits_binary":
        return RNG.integers(0, 2, (6, 4)).astype("float32"), RNG.normal(size=(6, 4)).astype("float32") * 3
    if kind == "categorical":
        return _one_hot(6, 5), _probs((6, 5))
    if kind == "logits_categorical":
        return _one_hot(6, 5), RNG.normal(size=(6, 5)).astype("float32") * 2
    if kind == "hinge":
        return RNG.choice([-1.0, 1.0], (6, 4)).astype("float32"), RNG.normal(size=(6, 4)).astype("float32")
    if kind == "seg":
        return RNG.integers(0, 2, (3, 4, 4, 1)).astype("float32"), RNG.random((3, 4, 4, 1)).astype("float32")
    raise ValueError(kind)


CASES = [
    ("MeanSquaredError", {}, "regression"),
    ("MeanAbsoluteError", {}, "regression"),
    ("MeanAbsolutePercentageError", {}, "regression"),
    ("MeanSquaredLogarithmicError", {}, "positive"),
    ("CosineSimilarity", {}, "regression"),
    ("CosineSimilarity", {"axis": 0}, "regression"),
    ("Huber", {}, "regression"),
    ("Huber", {"delta": 0.3}, "regression"),
    ("LogCosh", {}, "regression"),
    ("Hinge", {}, "hinge"),
    ("Hinge", {}, "binary"),
    ("SquaredHinge", {}, "binary"),
    ("CategoricalHinge", {}, "categorical"),
    ("KLDivergence", {}, "categorical"),
    ("Poisson", {}, "positive"),
    ("BinaryCrossentropy", {}, "binary"),
    ("BinaryCrossentropy", {"from_logits": True}, "logits_binary"),
    ("BinaryCrossentropy", {"label_smoothing": 0.2}, "binary"),
    ("BinaryCrossentropy", {"axis": 0}, "binary"),
    ("BinaryFocalCrossentropy", {}, "binary"),
    ("BinaryFocalCrossentropy", {"apply_class_balancing": True, "alpha": 0.4, "gamma": 1.5}, "binary"),
    ("BinaryFocalCrossentropy", {"from_logits": True, "label_smoothing": 0.1}, "logits_binary"),
    ("CategoricalCrossentropy", {}, "categorical"),
    ("CategoricalCrossentropy", {"from_logits": True}, "logits_categorical"),
    ("CategoricalCrossentropy", {"label_smoothing": 0.1}, "categorical"),
    ("CategoricalCrossentropy", {"axis": 0, "from_logits": True}, "logits_categorical"),
    ("CategoricalFocalCrossentropy", {}, "categorical"),
    ("CategoricalFocalCrossentropy", {"from_logits": True, "alpha": 0.5, "gamma": 3.0}, "logits_categorical"),
    ("Dice", {}, "seg"),
    ("Dice", {"axis": (1, 2, 3)}, "seg"),
    ("Tversky", {"alpha": 0.3, "beta": 0.7}, "seg"),
    ("Tversky", {"axis": (1, 2, 3)}, "seg"),
]


def _pair(cls_name, kwargs, **extra):
    return getattr(losses, cls_name)(**kwargs, **extra), getattr(keras.losses, cls_name)(**kwargs, **extra)


@pytest.mark.parametrize("name,kwargs,kind", CASES)
@pytest.mark.parametrize("reduction", ["sum_over_batch_size", "sum", "none", "mean_with_sample_weight"])
def test_loss_parity(name, kwargs, kind, reduction):
    ours, ref = _pair(name, kwargs, reduction=reduction)
    y_true, y_pred = _data(kind)
    np.testing.assert_allclose(_np(ours(y_true, y_pred)), _np(ref(y_true, y_pred)), rtol=1e-5, atol=1e-6)
    sw = RNG.random(y_true.shape[0]).astype("float32")
    if (name in ("Dice", "Tversky") and "axis" not in kwargs) or kwargs.get("axis") == 0:
        return  # no per-sample values: Keras cannot weight them per sample either
    np.testing.assert_allclose(
        _np(ours(y_true, y_pred, sample_weight=sw)), _np(ref(y_true, y_pred, sample_weight=sw)), rtol=1e-5, atol=1e-6
    )


@pytest.mark.parametrize("name,kwargs,kind", CASES)
def test_loss_config_round_trip(name, kwargs, kind):
    ours, ref = _pair(name, kwargs, name="my_loss")
    config = ours.get_config()
    assert config == ref.get_config()
    rebuilt_ref = getattr(keras.losses, name).from_config(config)
    rebuilt = getattr(losses, name).from_config(ref.get_config())
    y_true, y_pred = _data(kind)
    np.testing.assert_allclose(_np(rebuilt(y_true, y_pred)), _np(rebuilt_ref(y_true, y_pred)), rtol=1e-5, atol=1e-6)
    assert losses.serialize(ours) == keras.losses.serialize(ref)
    assert losses.deserialize(keras.losses.serialize(ref)).get_config() == config


FUNCTIONS = [
    ("mean_squared_error", {}, "regression"),
    ("mean_absolute_error", {}, "regression"),
    ("mean_absolute_percentage_error", {}, "regression"),
    ("mean_squared_logarithmic_error", {}, "positive"),
    ("cosine_similarity", {"axis": -1}, "regression"),
    ("huber", {"delta": 0.5}, "regression"),
    ("log_cosh", {}, "regression"),
    ("hinge", {}, "binary"),
    ("squared_hinge", {}, "hinge"),
    ("categorical_hinge", {}, "categorical"),
    ("kl_divergence", {}, "categorical"),
    ("poisson", {}, "positive"),
    ("binary_crossentropy", {"from_logits": True}, "logits_binary"),
    ("binary_focal_crossentropy", {"apply_class_balancing": True}, "binary"),
    ("categorical_crossentropy", {"label_smoothing": 0.3}, "categorical"),
    ("categorical_focal_crossentropy", {}, "categorical"),
    ("dice", {}, "seg"),
    ("tversky", {}, "seg"),
]


@pytest.mark.parametrize("name,kwargs,kind", FUNCTIONS)
def test_function_parity(name, kwargs, kind):
    y_true, y_pred = _data(kind)
    np.testing.assert_allclose(
        _np(getattr(losses, name)(y_true, y_pred, **kwargs)),
        _np(getattr(keras.losses, name)(y_true, y_pred, **kwargs)),
        rtol=1e-5,
        atol=1e-6,
    )


@pytest.mark.parametrize(
    "kwargs", [{}, {"from_logits": True}, {"ignore_class": 2}, {"from_logits": True, "ignore_class": 0}]
)
@pytest.mark.parametrize("label_shape", ["flat", "column", "float"])
@pytest.mark.parametrize("reduction", ["sum_over_batch_size", "sum", "none"])
def test_sparse_categorical_crossentropy_parity(kwargs, label_shape, reduction):
    labels = RNG.integers(0, 4, 8)
    y_pred = RNG.normal(size=(8, 4)).astype("float32") if kwargs.get("from_logits") else _probs((8, 4))
    y_true = {"flat": labels, "column": labels[:, None], "float": labels.astype("float32")}[label_shape]
    ours, ref = _pair("SparseCategoricalCrossentropy", kwargs, reduction=reduction)
    np.testing.assert_allclose(
        _np(ours(torch.as_tensor(y_true), torch.as_tensor(y_pred))), _np(ref(y_true, y_pred)), rtol=1e-5, atol=1e-6
    )
    sw = RNG.random(8).astype("float32")
    np.testing.assert_allclose(
        _np(ours(y_true, y_pred, sample_weight=sw)), _np(ref(y_true, y_pred, sample_weight=sw)), rtol=1e-5, atol=1e-6
    )


def test_sparse_categorical_crossentropy_sequence_and_axis():
    y_true = RNG.integers(0, 5, (3, 7))
    logits = RNG.normal(size=(3, 7, 5)).astype("float32")
    for kwargs in ({"from_logits": True}, {"from_logits": True, "ignore_class": 1}, {}):
        ours, ref = _pair("SparseCategoricalCrossentropy", kwargs)
        pred = logits if kwargs else _probs((3, 7, 5))
        np.testing.assert_allclose(_np(ours(y_true, pred)), _np(ref(y_true, pred)), rtol=1e-5)
    # class axis 1: (N, C, T)
    ours, ref = _pair("SparseCategoricalCrossentropy", {"from_logits": True, "axis": 1})
    pred = np.transpose(logits, (0, 2, 1)).copy()
    np.testing.assert_allclose(
        _np(ours(torch.as_tensor(y_true), torch.as_tensor(pred))), _np(ref(y_true, pred)), rtol=1e-5
    )


def test_sparse_fast_path_is_one_cross_entropy_call(monkeypatch):
    calls = []
    real = torch.nn.functional.cross_entropy

    def spy(*args, **kwargs):
        calls.append(kwargs.get("reduction"))
        return real(*args, **kwargs)

    monkeypatch.setattr(torch.nn.functional, "cross_entropy", spy)
    loss = losses.SparseCategoricalCrossentropy(from_logits=True)
    y_true, logits = torch.tensor([0, 2, 1]), torch.randn(3, 3, requires_grad=True)
    value = loss(y_true, logits)
    assert calls == ["mean"]
    value.backward()
    assert logits.grad is not None
    np.testing.assert_allclose(
        _np(value),
        _np(keras.losses.SparseCategoricalCrossentropy(from_logits=True)(y_true.numpy(), logits.detach().numpy())),
        rtol=1e-6,
    )


def test_loss_with_mask_matches_keras():
    y_true, y_pred = _data("regression")
    mask = np.array([1, 1, 0, 1, 0, 1], dtype=bool)
    for reduction in ("sum_over_batch_size", "sum", "mean_with_sample_weight"):
        ours, ref = _pair("MeanSquaredError", {}, reduction=reduction)
        p_ours, p_ref = torch.as_tensor(y_pred), torch.as_tensor(y_pred)
        p_ours._keras_mask = torch.as_tensor(mask)
        p_ref._keras_mask = torch.as_tensor(mask)
        sw = RNG.random(6).astype("float32")
        np.testing.assert_allclose(_np(ours(y_true, p_ours)), _np(ref(y_true, p_ref)), rtol=1e-5)
        np.testing.assert_allclose(_np(ours(y_true, p_ours, sw)), _np(ref(y_true, p_ref, sw)), rtol=1e-5)


def test_label_shape_squeeze_rules():
    y = RNG.random((5,)).astype("float32")
    p = RNG.random((5, 1)).astype("float32")
    for a, b in ((y, p), (p, y), (y[:, None], p)):
        np.testing.assert_allclose(_np(losses.MeanSquaredError()(a, b)), _np(keras.losses.MeanSquaredError()(a, b)))
        np.testing.assert_allclose(
            _np(losses.BinaryCrossentropy()(a, b)), _np(keras.losses.BinaryCrossentropy()(a, b)), rtol=1e-6
        )


def test_ctc_parity():
    y_true = np.array([[1, 2, 0], [2, 2, 1], [3, 0, 0]])
    y_pred = RNG.normal(size=(3, 6, 4)).astype("float32")
    np.testing.assert_allclose(_np(losses.CTC()(y_true, y_pred)), _np(keras.losses.CTC()(y_true, y_pred)), rtol=1e-5)
    np.testing.assert_allclose(_np(losses.ctc(y_true, y_pred)), _np(keras.losses.ctc(y_true, y_pred)), rtol=1e-5)


def test_circle_and_generalized_ce_parity():
    labels = np.array([0, 1, 0, 2, 1, 2])
    emb = RNG.normal(size=(6, 4)).astype("float32")
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    for kwargs in ({}, {"gamma": 10.0, "margin": 0.25, "remove_diagonal": False}):
        ours, ref = _pair("Circle", kwargs)
        np.testing.assert_allclose(_np(ours(labels, emb)), _np(ref(labels, emb)), rtol=1e-5)
    probs = _probs((6, 3))
    ours, ref = _pair("CategoricalGeneralizedCrossEntropy", {"q": 0.7})
    np.testing.assert_allclose(_np(ours(labels, probs)), _np(ref(labels, probs)), rtol=1e-5)
    with pytest.raises(ValueError, match="q"):
        losses.CategoricalGeneralizedCrossEntropy(q=1.5)


def test_custom_loss_subclass_and_plain_function():
    class Twice(lamina.losses.Loss):
        def call(self, y_true, y_pred):
            return 2 * torch.mean(torch.abs(y_true - y_pred), dim=-1)

    y_true, y_pred = _data("regression")
    expected = 2 * np.abs(y_true - y_pred).mean()
    twice = Twice()
    assert twice.name == "twice"
    np.testing.assert_allclose(_np(twice(y_true, y_pred)), expected, rtol=1e-6)
    wrapped = losses.resolve(lambda t, p: torch.mean((t - p) ** 2, dim=-1))
    np.testing.assert_allclose(_np(wrapped(y_true, y_pred)), ((y_true - y_pred) ** 2).mean(), rtol=1e-6)


def test_function_loss_wrapper_config_is_keras_compatible():
    ours = losses.LossFunctionWrapper(losses.binary_crossentropy, from_logits=True, name="w")
    ref = keras.src.losses.losses.LossFunctionWrapper(keras.losses.binary_crossentropy, from_logits=True, name="w")
    assert ours.get_config() == ref.get_config()
    rebuilt = keras.src.losses.losses.LossFunctionWrapper.from_config(ours.get_config())
    back = losses.LossFunctionWrapper.from_config(ref.get_config())
    assert back.fn is losses.binary_crossentropy
    y_true, y_pred = _data("logits_binary")
    np.testing.assert_allclose(_np(back(y_true, y_pred)), _np(rebuilt(y_true, y_pred)), rtol=1e-6)
    assert losses.serialize(losses.mse) == keras.losses.serialize(keras.losses.mean_squared_error)
    assert losses.deserialize(keras.losses.serialize(keras.losses.mean_squared_error)) is losses.mean_squared_error


def test_get():
    assert losses.get("mse") is losses.mean_squared_error
    assert losses.get("categorical_crossentropy") is losses.categorical_crossentropy
    assert isinstance(losses.get("CategoricalCrossentropy"), losses.CategoricalCrossentropy)
    assert isinstance(losses.get(losses.Huber), losses.Huber)
    obj = losses.get({"class_name": "CategoricalCrossentropy", "config": {"from_logits": True}})
    assert obj.from_logits is True
    assert losses.get(None) is None
    with pytest.raises(ValueError, match="Could not interpret loss identifier: 'msee'. Valid names: .*mse"):
        losses.get("msee")
    with pytest.raises(ValueError, match="loss identifier"):
        losses.get(3)


def test_resolve_crossentropy_shortcut():
    assert losses.resolve("crossentropy", (None, 1), (None, 1)).fn is losses.binary_crossentropy
    assert losses.resolve("ce", (None,), (None, 4)).fn is losses.sparse_categorical_crossentropy
    assert losses.resolve("ce", (None, 1), (None, 4)).fn is losses.sparse_categorical_crossentropy
    resolved = losses.resolve("crossentropy", (None, 4), (None, 4))
    assert resolved.fn is losses.categorical_crossentropy and resolved.name == "crossentropy"
    mse = losses.MeanSquaredError()
    assert losses.resolve(mse) is mse


def test_reduction_and_axis_errors():
    with pytest.raises(ValueError, match="reduction=.*avg"):
        losses.MeanSquaredError(reduction="avg")
    with pytest.raises(ValueError, match="axis"):
        losses.categorical_crossentropy(_one_hot(2, 3), _probs((2, 3)), axis=True)


def test_sparse_label_shape_error_names_both_shapes():
    loss = losses.SparseCategoricalCrossentropy(from_logits=True)
    with pytest.raises(ValueError, match=r"y_true.shape=\(4, 5\).*y_pred.shape=\(4, 10\).*categorical_crossentropy"):
        loss(torch.zeros(4, 5), torch.zeros(4, 10))
    with pytest.raises(ValueError, match=r"y_true.shape=\(4, 5\).*y_pred.shape=\(4, 10\)"):
        losses.SparseCategoricalCrossentropy()(np.zeros((4, 5)), np.full((4, 10), 0.1))


def test_categorical_shape_error_suggests_sparse():
    with pytest.raises(ValueError, match=r"y_true.shape=\(4,\).*y_pred.shape=\(4, 3\).*sparse_categorical"):
        losses.CategoricalCrossentropy()(np.zeros(4), _probs((4, 3)))


def test_categorical_width_one_warns():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        losses.categorical_crossentropy(np.ones((2, 1)), np.ones((2, 1)))
    assert any("binary_crossentropy" in str(w.message) for w in caught)


def test_names_dtype_and_mixed_policy():
    assert losses.Loss().name == "loss"
    assert losses.MeanSquaredError().name == "mean_squared_error"
    loss = losses.MeanSquaredError(dtype="mixed_float16")
    assert loss.dtype == "float16"
    assert loss(np.zeros((2, 2)), np.ones((2, 2))).dtype == torch.float16
    half_pred = torch.ones(2, 3, dtype=torch.float16)
    assert (
        losses.SparseCategoricalCrossentropy(from_logits=True)(torch.tensor([0, 1]), half_pred).dtype == torch.float32
    )


def test_gradients_flow_and_device_kept():
    logits = torch.randn(4, 3, requires_grad=True)
    for loss in (
        losses.CategoricalCrossentropy(from_logits=True),
        losses.BinaryCrossentropy(),
        losses.SparseCategoricalCrossentropy(ignore_class=0),
    ):
        target = (
            _one_hot(4, 3)
            if isinstance(loss, losses.CategoricalCrossentropy)
            else (
                RNG.integers(0, 2, (4, 3)).astype("float32")
                if isinstance(loss, losses.BinaryCrossentropy)
                else RNG.integers(0, 3, 4)
            )
        )
        pred = torch.softmax(logits, -1) if not isinstance(loss, losses.CategoricalCrossentropy) else logits
        value = loss(target, pred)
        assert value.device == logits.device
        (grad,) = torch.autograd.grad(value, logits)
        assert torch.isfinite(grad).all()
