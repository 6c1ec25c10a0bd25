"""Whole application models in ``.keras`` files cross both ways: Keras's load in Lamina, Lamina's load in Keras.

The cases carry the layers Keras defines in its application modules (LayerScale, StochasticDepth,
CustomScaleLayer), nested Sequential stages and operator nodes (ConvNeXt's ``+``).
"""

from __future__ import annotations

import keras
import pytest

import lamina
from tests.applications import parity
from tests.applications.test_parity import FAST_CASES

CASES = ["ConvNeXt-tiny", "Inception-blocks"]


@pytest.mark.parametrize("case", CASES)
def test_keras_model_file_loads_in_lamina(case, tmp_path):
    build, _ = FAST_CASES[case]
    path = str(tmp_path / "keras.keras")
    kmodel, x, expected = parity.keras_reference(build, path, "keras")
    lamina.backend.clear_session(free_memory=False)
    model = lamina.models.load_model(path)
    assert [layer.name for layer in model.layers] == [layer.name for layer in kmodel.layers]
    parity.assert_close(expected, parity.lamina_predict(model, x))


@pytest.mark.parametrize("case", CASES)
def test_lamina_model_file_loads_in_keras(case, tmp_path):
    build, _ = FAST_CASES[case]
    lamina.backend.clear_session(free_memory=False)
    model = build(parity.LAMINA, None)
    parity.randomize_state(model)
    path = str(tmp_path / "lamina.keras")
    model.save(path)
    x = parity.images(model)
    expected = parity.lamina_predict(model, x)
    keras.backend.clear_session(free_memory=False)
    kmodel = keras.saving.load_model(path)
    assert [layer.name for layer in kmodel.layers] == [layer.name for layer in model.layers]
    parity.assert_close(expected, parity.keras_predict(kmodel, x))
    reloaded = lamina.models.load_model(path)
    parity.assert_close(expected, parity.lamina_predict(reloaded, x))
