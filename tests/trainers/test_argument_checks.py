"""fit/evaluate/predict arguments (issue 14): bad values name the argument; edge values behave as in Keras."""

from __future__ import annotations

import os

import numpy as np
import pytest

import lamina
from lamina.trainers.argument_checks import check_count, check_validation_data

os.environ.setdefault("KERAS_BACKEND", "torch")
import keras  # noqa: E402

X = np.ones((4, 3), "float32")
Y = np.ones((4, 2), "float32")


def _model(K):
    m = K.Sequential([K.layers.Input((3,)), K.layers.Dense(2)])
    m.compile(optimizer="sgd", loss="mse")
    return m


@pytest.mark.parametrize("kw", [{"epochs": 0}, {"epochs": 1, "initial_epoch": 3}])
def test_no_epoch_to_run_returns_an_empty_history_as_keras(kw):
    ours = _model(lamina).fit(X, Y, verbose=0, **kw)
    theirs = _model(keras).fit(X, Y, verbose=0, **kw)
    assert type(ours).__name__ == type(theirs).__name__ == "History"
    assert ours.history == theirs.history == {}


def test_valid_values_still_pass():
    m = _model(lamina)
    history = m.fit(X, Y, batch_size=np.int64(2), epochs=2, validation_data=[X, Y], validation_freq=[2], verbose=0)
    assert sorted(history.history) == ["loss", "val_loss"]
    assert len(history.history["val_loss"]) == 1
    assert m.predict(X, batch_size=np.int32(3), verbose=0).shape == (4, 2)


def test_counts():
    assert check_count("steps", None) is None
    assert check_count("steps", np.int64(3)) == 3
    with pytest.raises(TypeError, match=r"`steps` must be a positive integer or None\. Received: steps=True"):
        check_count("steps", True)
    with pytest.raises(ValueError, match=r"Received: epochs=-1"):
        check_count("epochs", -1, minimum=0, allow_none=False)


def test_bare_validation_inputs_only_without_a_compiled_loss():
    check_validation_data(X, needs_targets=False)  # an add_loss-only model validates on inputs alone
    with pytest.raises(TypeError, match=r"`validation_data` has no targets. Received: validation_data=an array"):
        check_validation_data(X, needs_targets=True)
    with pytest.raises(TypeError, match=r"Received: validation_data='val.csv'"):
        check_validation_data("val.csv", needs_targets=False)


def _two_outputs(K):
    i = K.layers.Input((3,), name="x")
    return K.Model(i, [K.layers.Dense(1, name="head_a")(i), K.layers.Dense(1, name="head_b")(i)])


def test_one_loss_and_one_target_for_two_outputs_raises():
    """Keras refuses it too (with a KeyError); before, Lamina trained head_a and silently left head_b."""
    y = np.ones((4, 1), "float32")
    theirs = _two_outputs(keras)
    theirs.compile(optimizer="sgd", loss="mse")
    with pytest.raises(KeyError, match="can't be found"):
        theirs.fit(X, y, verbose=0)
    ours = _two_outputs(lamina)
    ours.compile(optimizer="sgd", loss="mse")
    with pytest.raises(ValueError, match=r"outputs \['head_a', 'head_b'\].*\['head_b'\]"):
        ours.fit(X, y, verbose=0)


def test_targets_for_only_the_outputs_with_a_loss():
    m = _two_outputs(lamina)
    m.compile(optimizer="sgd", loss={"head_a": "mse"})
    before = [w.copy() for w in m.get_layer("head_b").get_weights()]
    m.fit(X, {"head_a": np.ones((4, 1), "float32")}, verbose=0)
    for got, want in zip(m.get_layer("head_b").get_weights(), before, strict=True):
        np.testing.assert_array_equal(got, want)  # no loss on head_b: untouched, as asked


def test_bad_sample_weight_shape_is_named_after_the_failed_step():
    m = _model(lamina)
    with pytest.raises(ValueError, match=r"`sample_weight`.*shape \(4, 5\)"):
        m.train_on_batch(X, Y, sample_weight=np.ones((4, 5), "float32"))
    np.testing.assert_equal(m.train_on_batch(X, Y, sample_weight=np.ones((4,), "float32")) >= 0, True)
