"""Files tf.keras 2.21 (``tf_keras``) wrote load in Lamina and resume training where they stopped.

The fixtures (``tests/fixtures/legacy_files/tf_keras/``, made by
``tests/fixtures/make_legacy_files.py``): per model, ``model.save("m.h5")``, ``model.save("m.keras")``,
``save_weights("m.weights.h5")`` and the weights-only legacy ``save_weights("m_weights.h5")``.
"""

from __future__ import annotations

import json
import os
import shutil

import h5py
import numpy as np
import pytest

import lamina
from tests.saving.kx import keras, keras_predict
from tests.saving.legacy_files import (
    ATOL,
    FIXTURES,
    RTOL,
    arrays,
    assert_predictions,
    check_file,
    lamina_model,
    manifest,
    params,
    path,
    predictions,
)

KINDS = ("h5", "keras", "weights_h5", "legacy_weights_h5")
FILES = params("tf_keras", KINDS)


def test_every_format_is_covered():
    assert len(FILES) == 4 * 16
    assert {kind for _, kind in FILES} == set(KINDS)


@pytest.mark.parametrize(("case", "kind"), FILES, ids=[f"{c}-{k}" for c, k in FILES])
def test_tf_keras2_file_loads_and_resumes_training(case, kind):
    check_file("tf_keras", case, kind)


# A file saved by tf.keras 2, loaded in Lamina and saved again, is a Keras 3 file: real Keras 3 loads it.
ROUND_TRIP = [case for case, kind in FILES if kind == "h5"]


@pytest.mark.parametrize("case", ROUND_TRIP)
def test_lamina_resaves_tf_keras2_model_for_keras3(case, tmp_path):
    model = lamina.models.load_model(path("tf_keras", case, "h5"))
    target = tmp_path / f"{case}.keras"
    model.save(target)
    restored = keras().models.load_model(target)
    data = arrays("tf_keras", case)
    expected = data["pred"] if isinstance(data["pred"], list) else [data["pred"]]
    got = keras_predict(restored, data["x_pred"])
    got = got if isinstance(got, list) else [got]
    assert len(got) == len(expected)
    for g, e in zip(got, expected, strict=True):
        np.testing.assert_allclose(g, e, rtol=RTOL, atol=ATOL)
    assert type(restored.optimizer).__name__ == type(model.optimizer).__name__
    assert int(restored.optimizer.iterations) == manifest("tf_keras")["cases"][case]["iterations"]
    lamina_state = [v.numpy() for v in model.optimizer.variables]
    keras_state = [np.asarray(v.numpy()) for v in restored.optimizer.variables]
    assert len(keras_state) == len(lamina_state)
    for k, lam in zip(keras_state, lamina_state, strict=True):
        np.testing.assert_array_equal(k, lam)


# ---------------------------------------------------------------------------- code in files, bad files
def _lambda_file(kind):
    return os.path.join(FIXTURES, "tf_keras", manifest("tf_keras")["lambda"]["files"][kind])


@pytest.mark.parametrize("kind", ["h5", "keras"])
def test_tf_keras2_lambda_needs_safe_mode_off(kind):
    with pytest.raises(ValueError, match="safe_mode=False"):
        lamina.models.load_model(_lambda_file(kind))
    model = lamina.models.load_model(_lambda_file(kind), safe_mode=False, compile=False)
    with np.load(os.path.join(FIXTURES, "tf_keras", "with_lambda.npz")) as npz:
        x, expected = npz["x_pred"], npz["pred"]
    np.testing.assert_allclose(predictions(model, x)[0], expected, rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("kind", ["h5", "keras", "weights_h5"])
def test_truncated_tf_keras2_file_names_the_file(kind, tmp_path):
    source = path("tf_keras", "mlp", kind)
    target = tmp_path / f"broken_{os.path.basename(source)}"
    with open(source, "rb") as f:
        data = f.read()
    target.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="broken_mlp"):
        if kind == "weights_h5":
            lamina_model("mlp").load_weights(target)
        else:
            lamina.models.load_model(target)


def test_keras2_only_argument_with_another_value_is_refused(tmp_path):
    source = path("tf_keras", "simple_rnn", "h5")
    target = tmp_path / "time_major.h5"
    shutil.copy(source, target)
    with h5py.File(target, "r+") as f:
        f.attrs["model_config"] = f.attrs["model_config"].replace('"time_major": false', '"time_major": true')
    with pytest.raises(ValueError, match=r"time_major\.h5.*'simple_rnn' \(SimpleRNN\).*Received: time_major=True"):
        lamina.models.load_model(target)


def test_optimizer_state_of_another_optimizer_is_not_half_loaded():
    model = lamina_model("mlp", compiled=False)
    model.compile(optimizer=lamina.optimizers.RMSprop(centered=True), loss="mse")  # the file holds Adam's state
    with pytest.warns(UserWarning, match="Skipping variable loading for optimizer"):
        model.load_weights(path("tf_keras", "mlp", "weights_h5"))
    assert int(model.optimizer.iterations) == 0
    assert_predictions(model, "tf_keras", "mlp")


def test_legacy_optimizer_v2_state_is_not_misread(tmp_path):
    # optimizer_v2 (TF <= 2.10) saves its slots grouped by kind, not per variable: not loaded, with a warning
    target = tmp_path / "v2.h5"
    shutil.copy(path("tf_keras", "mlp", "h5"), target)
    with h5py.File(target, "r+") as f:
        training = json.loads(f.attrs["training_config"])
        training["optimizer_config"] = {"class_name": "Adam", "config": {"learning_rate": 0.01, "decay": 0.0}}
        f.attrs["training_config"] = json.dumps(training)
    with pytest.warns(UserWarning, match="legacy optimizer"):
        model = lamina.models.load_model(target)
    assert type(model.optimizer).__name__ == "Adam"
    assert int(model.optimizer.iterations) == 0
    assert_predictions(model, "tf_keras", "mlp")
