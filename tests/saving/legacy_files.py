"""Helpers for the tests on files written by tf.keras 2 and Keras 3 (``tests/fixtures/legacy_files/``)."""

from __future__ import annotations

import functools
import json
import os
import zipfile
from typing import Any

import numpy as np
import torch

import lamina
from tests.fixtures.legacy_models import CASES_BY_NAME, EMBEDDING_ROWS, set_dropout_rate

FIXTURES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "fixtures", "legacy_files")

# float32 throughout: the systems compute the same functions with different kernels (oneDNN / XLA /
# ATen), so predictions agree to rounding, and weights after one more step to rounding times the step.
ATOL = 1e-5
RTOL = 1e-5


@functools.cache
def manifest(producer: str) -> dict[str, Any]:
    with open(os.path.join(FIXTURES, producer, "manifest.json")) as f:
        return json.load(f)


def params(producer: str, kinds: tuple[str, ...]) -> list[tuple[str, str]]:
    """``(case, kind)`` for every file of ``producer`` of one of ``kinds``, in manifest order."""
    cases = manifest(producer)["cases"]
    return [(name, kind) for name in cases for kind in kinds if kind in cases[name]["files"]]


def path(producer: str, case: str, kind: str) -> str:
    return os.path.join(FIXTURES, producer, manifest(producer)["cases"][case]["files"][kind])


def _group(npz: Any, prefix: str) -> Any:
    if prefix in npz.files:
        return npz[prefix]
    keys = [k for k in npz.files if k.startswith(prefix + ".")]
    suffixes = [k[len(prefix) + 1 :] for k in keys]
    if all(s.isdigit() for s in suffixes):
        return [npz[f"{prefix}.{i}"] for i in range(len(keys))]
    return {s: npz[k] for s, k in zip(suffixes, keys, strict=True)}


@functools.cache
def arrays(producer: str, case: str) -> dict[str, Any]:
    """The case's stored batches, the original system's predictions and its weights after one more step."""
    with np.load(os.path.join(FIXTURES, producer, f"{case}.npz")) as npz:
        out = {name: _group(npz, name) for name in ("x_pred", "pred", "x_step", "y_step")}
        out["weights"] = [npz[k] for k in sorted(k for k in npz.files if k.startswith("weights."))]
    return out


def lamina_model(case: str, compiled: bool = True) -> Any:
    """The case's model built (and compiled) in Lamina from the shared definition."""
    spec = CASES_BY_NAME[case]
    model = spec.build(lamina)
    if compiled:
        model.compile(**spec.compile_args(lamina))
    return model


def predictions(model: Any, x: Any) -> list[np.ndarray]:
    with torch.no_grad():
        out = model(x, training=False)
    outs = list(out) if isinstance(out, (list, tuple)) else [out]
    return [o.detach().cpu().numpy() for o in outs]


def assert_predictions(model: Any, producer: str, case: str) -> None:
    data = arrays(producer, case)
    expected = data["pred"] if isinstance(data["pred"], list) else [data["pred"]]
    got = predictions(model, data["x_pred"])
    assert len(got) == len(expected)
    for g, e in zip(got, expected, strict=True):
        np.testing.assert_allclose(g, e, rtol=RTOL, atol=ATOL)


def one_more_step(model: Any, producer: str, case: str) -> dict[str, float]:
    """Replays the original system's extra training step (Dropout off, as there); returns the logs."""
    data = arrays(producer, case)
    zeroed = set_dropout_rate(model, 0.0)
    assert zeroed == manifest(producer)["cases"][case]["dropout_layers_zeroed"]
    logs = model.train_on_batch(data["x_step"], data["y_step"], return_dict=True)
    return {k: float(v) for k, v in logs.items()}


# What the original system computed that Lamina (and Keras 3 on jax and torch) cannot reproduce, and why.
# Keras 3 on TensorFlow gets the embedding's gradient as tf.IndexedSlices with one row per lookup and
# updates Adam's velocity with the square of each lookup's gradient instead of the square of their sum,
# so an embedding row looked up more than once in the batch moves differently (measured: exactly those
# 11 of 20 rows differ; every other weight agrees to 1e-5).
KNOWN_DIFFERENCES = {("keras3_tensorflow", "embedding_lstm"): "rows looked up more than once (sparse Adam on TF)"}


def _embedding_rows_looked_up_once(producer: str, case: str) -> np.ndarray:
    rows, counts = np.unique(arrays(producer, case)["x_step"], return_counts=True)
    once = np.ones(EMBEDDING_ROWS, dtype=bool)
    once[rows[counts > 1]] = False
    return once


def assert_weights_after_step(model: Any, producer: str, case: str) -> None:
    expected = arrays(producer, case)["weights"]
    names = manifest(producer)["cases"][case]["weight_names"]
    got = [w.numpy() for w in model.weights]
    assert len(got) == len(expected) == len(names)
    for name, g, e in zip(names, got, expected, strict=True):
        if (producer, case) in KNOWN_DIFFERENCES and name.endswith("embeddings"):
            keep = _embedding_rows_looked_up_once(producer, case)
            assert 0 < keep.sum() < len(keep)
            g, e = g[keep], e[keep]
        np.testing.assert_allclose(g, e, rtol=RTOL, atol=ATOL, err_msg=f"{producer}/{case}: {name}")


def load(producer: str, case: str, kind: str) -> Any:
    """The file loaded as a user would: ``load_model`` for a whole model, else the case's model
    built and compiled in Lamina, then ``load_weights``."""
    if kind in ("h5", "keras"):
        return lamina.models.load_model(path(producer, case, kind))
    model = lamina_model(case)
    model.load_weights(path(producer, case, kind))
    return model


def saved_jit_compile(producer: str, case: str, kind: str) -> bool:
    """What the file's compile config says (Keras 3 on jax and tensorflow writes ``jit_compile: true``)."""
    if kind != "keras":
        return False  # h5 files: Keras's legacy loader does not take jit_compile from the file either
    with zipfile.ZipFile(path(producer, case, kind)) as zf:
        config = json.loads(zf.read("config.json"))
    return (config.get("compile_config") or {}).get("jit_compile") is True


def check_file(producer: str, case: str, kind: str, compiled: bool = False) -> None:
    """Loads one fixture file and checks predictions, compile state and one more training step.

    A ``.keras`` file Keras wrote on jax or tensorflow says ``jit_compile: true``; with ``compiled`` the extra step
    runs through ``torch.compile`` as the file asks. Without it the step runs eagerly, for speed only (compiling
    costs seconds per model on a CPU): ``tests/trainers/test_jit_compile.py`` replays every such file compiled.
    """
    record = manifest(producer)["cases"][case]
    model = load(producer, case, kind)
    assert_predictions(model, producer, case)
    if kind == "legacy_weights_h5":  # weights only: no optimizer state in the file
        return
    optimizer = model.optimizer
    assert type(optimizer).__name__ == record["optimizer"]
    assert int(optimizer.iterations) == record["iterations"]
    np.testing.assert_allclose(float(optimizer.learning_rate), record["learning_rate"], rtol=1e-7)
    if kind in ("h5", "keras"):
        assert_compiled_like_case(model, case)
        assert model.jit_compile is saved_jit_compile(producer, case, kind)
        if not compiled:
            model.jit_compile = False
    logs = one_more_step(model, producer, case)
    assert int(optimizer.iterations) == record["iterations_after_step"]
    expected_logs = record["step_logs"]
    assert sorted(logs) == sorted(expected_logs)
    for key in expected_logs:
        np.testing.assert_allclose(logs[key], expected_logs[key], rtol=RTOL, atol=ATOL, err_msg=key)
    assert_weights_after_step(model, producer, case)


def assert_compiled_like_case(model: Any, case: str) -> None:
    """The loss (and loss weights) the case compiled with, as Lamina would hold them."""
    spec = CASES_BY_NAME[case].compile_args(lamina)
    loss = spec["loss"]
    if isinstance(loss, (str, dict)):
        assert model.loss == loss
    else:
        assert type(model.loss).__name__ == type(loss).__name__
        assert model.loss.get_config() == loss.get_config()
