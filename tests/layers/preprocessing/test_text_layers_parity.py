"""Lamina's string layers against Keras's recorded outputs (Keras needs TensorFlow for them; CI does not).

``tests/fixtures/make_text_preprocessing.py keras`` ran Keras 3.15.1 (TensorFlow backend) on every case
of ``layer_cases()``: the same constructor arguments, the same ``adapt`` data and call inputs. Here
Lamina must give the same vocabulary (order of equal counts included), vocabulary size, outputs (exact
for integers, 1e-6 for TF-IDF floats), output dtype, IDF weights and config, and must load Keras's config.
"""

import json
import os

import numpy as np
import pytest

import lamina
from tests.fixtures import make_text_preprocessing as fx

with open(os.path.join(fx.HERE, "layers.json"), encoding="utf-8") as _f:
    _RECORD = json.load(_f)
CASES = {case["id"]: case for case in _RECORD["cases"]}


def _run(case, layer=None):
    layer = layer or getattr(lamina.layers, case["class"])(**fx.resolve_kwargs(case["kwargs"]))
    if case["adapt"] is not None:
        layer.adapt(fx.adapt_data(case["adapt"]))
    return layer, layer(fx.call_input(case["call"]))


def _assert_same_output(case, out):
    got, want = fx.encode(out), case["output"]
    assert got["dtype"] == want["dtype"], case["id"]
    if want["dtype"] == "string":
        assert got["value"] == want["value"], case["id"]
    else:
        g, w = np.asarray(got["value"], "float64"), np.asarray(want["value"], "float64")
        assert g.shape == w.shape, (case["id"], g.shape, w.shape)
        if want["dtype"].startswith("int"):
            np.testing.assert_array_equal(g, w, err_msg=case["id"])
        else:
            np.testing.assert_allclose(g, w, rtol=1e-6, atol=1e-6, err_msg=case["id"])


def test_fixture_was_made_with_keras_3_15():
    assert _RECORD["versions"]["keras"] == "3.15.1"
    assert len(CASES) == 53


@pytest.mark.parametrize("case_id", sorted(CASES))
def test_same_as_keras(case_id):
    case = CASES[case_id]
    layer, out = _run(case)
    _assert_same_output(case, out)
    if "vocabulary" in case:
        assert layer.get_vocabulary() == case["vocabulary"]
        assert layer.vocabulary_size() == case["vocabulary_size"]
    if "idf_weights" in case:
        lookup = getattr(layer, "_lookup_layer", layer)
        np.testing.assert_allclose(lookup.idf_weights.cpu().numpy(), case["idf_weights"], rtol=1e-6, atol=1e-7)
    config = json.loads(json.dumps(layer.get_config()))
    keras_config = dict(case["config"])
    assert {k: v for k, v in config.items() if k != "name"} == {k: v for k, v in keras_config.items() if k != "name"}


@pytest.mark.parametrize("case_id", ["tv_tf_idf", "sl_mask_oov3", "il_farmhash_salt", "hash_salt_pair", "cross_three"])
def test_keras_config_builds_the_same_layer(case_id):
    case = CASES[case_id]
    layer = getattr(lamina.layers, case["class"]).from_config(case["config"])
    if case["adapt"] is not None:
        layer.adapt(fx.adapt_data(case["adapt"]))
    _assert_same_output(case, layer(fx.call_input(case["call"])))
