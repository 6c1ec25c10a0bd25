"""Builds one architecture in real Keras and in Lamina, moves Keras's weights through a file, compares outputs.

A case is ``build(side, weights)`` where ``side`` gives the library (``side.lib``: ``keras`` or
``lamina``) and its application modules (``side.app("resnet")``), so one description drives both.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

import h5py
import keras
import numpy as np

import lamina

FORMATS = ("h5", "weights.h5", "keras")


@dataclass(frozen=True)
class Side:
    lib: Any
    package: str

    def app(self, family: str) -> Any:
        return importlib.import_module(f"{self.package}.{family}")


KERAS = Side(keras, "keras.src.applications")
LAMINA = Side(lamina, "lamina.applications")


def randomize_state(model: Any, seed: int = 0) -> None:
    """Moves normalization statistics, scales and offsets off their defaults, so loading them is checked too."""
    rng = np.random.default_rng(seed)
    for w in model.weights:
        value = keras.ops.convert_to_numpy(w.value)
        if not np.issubdtype(value.dtype, np.floating):
            continue
        if w.name in ("moving_variance", "variance", "gamma") or w.name.startswith("variable"):
            w.assign(rng.uniform(0.5, 1.5, value.shape).astype(value.dtype))
        elif w.name in ("moving_mean", "mean", "beta"):
            w.assign(rng.normal(0.0, 0.1, value.shape).astype(value.dtype))


def save_keras_weights(model: Any, path: str, fmt: str) -> None:
    """``h5``: the legacy layout of the files Keras publishes (``layer_names`` / ``weight_names``)."""
    if fmt == "h5":
        from keras.src.legacy.saving import legacy_h5_format

        with h5py.File(path, "w") as f:
            legacy_h5_format.save_weights_to_hdf5_group(f, model)
    elif fmt == "weights.h5":
        model.save_weights(path)
    else:
        model.save(path)


def images(model: Any, n: int = 2, seed: int = 1) -> np.ndarray:
    shape = tuple(model.input_shape[1:])
    return np.random.default_rng(seed).uniform(0.0, 255.0, (n, *shape)).astype("float32")


def keras_predict(model: Any, x: np.ndarray) -> np.ndarray:
    return keras.ops.convert_to_numpy(model(x, training=False))


def lamina_predict(model: Any, x: np.ndarray) -> np.ndarray:
    return model(x, training=False).detach().cpu().numpy()


def assert_close(expected: np.ndarray, actual: np.ndarray, tol: float = 1e-4) -> None:
    assert expected.shape == actual.shape
    scale = max(1.0, float(np.abs(expected).max()))
    np.testing.assert_allclose(actual, expected, rtol=tol, atol=tol * scale)


def keras_reference(build: Any, path: str, fmt: str, seed: int = 0) -> tuple[Any, np.ndarray, np.ndarray]:
    """Keras's model (seeded, statistics randomized), saved to ``path``; its inputs and outputs."""
    keras.backend.clear_session(free_memory=False)
    keras.utils.set_random_seed(seed)
    model = build(KERAS, None)
    randomize_state(model, seed)
    save_keras_weights(model, path, fmt)
    x = images(model)
    return model, x, keras_predict(model, x)


def check_case(build: Any, tmp_path: Any, fmt: str) -> Any:
    """Keras builds and saves; Lamina builds with ``weights=<the file>``; same names, same outputs."""
    path = str(tmp_path / f"reference.{fmt}")
    kmodel, x, expected = keras_reference(build, path, fmt)
    lamina.backend.clear_session(free_memory=False)
    lmodel = build(LAMINA, path)
    assert [layer.name for layer in lmodel.layers] == [layer.name for layer in kmodel.layers]
    assert lmodel.count_params() == kmodel.count_params()
    assert_close(expected, lamina_predict(lmodel, x))
    return lmodel
