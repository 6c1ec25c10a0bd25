"""``.keras`` files with text and structured preprocessing cross between Keras 3 and Lamina, both ways.

* Keras -> Lamina: files saved by Keras 3.15.1 (TensorFlow backend; ``tests/fixtures/make_text_preprocessing.py
  keras``) load in Lamina and give Keras's recorded outputs: vocabularies come from ``assets/``, TF-IDF
  weights from the layer's ``vars``, a FeatureSpace and a model on its encoded features included.
* Lamina -> Keras: the fixture script loaded the committed Lamina-written files in Keras/TensorFlow and
  recorded that every one loaded with Lamina's outputs; here, today's Lamina must still write the same files
  (members, config, weights layout and values, asset bytes), so that record still holds.
"""

import io
import json
import os
import zipfile

import h5py
import numpy as np
import pytest

import lamina
from tests.fixtures import make_text_preprocessing as fx

KERAS_DIR = os.path.join(fx.HERE, "keras_models")
LAMINA_DIR = os.path.join(fx.HERE, "lamina_models")


def _load_json(name):
    with open(os.path.join(fx.HERE, name), encoding="utf-8") as f:
        return json.load(f)


KERAS_RECORD = _load_json("keras_models.json")["models"]
LAMINA_RECORD = _load_json("lamina_models.json")
KERAS_CHECK = _load_json("lamina_models_in_keras.json")


def _assert_outputs(got, want, name):
    got, want = fx.decode(fx.encode(got)), fx.decode(want)
    assert got.shape == want.shape, (name, got.shape, want.shape)
    np.testing.assert_allclose(np.asarray(got, "float64"), np.asarray(want, "float64"), atol=1e-5, err_msg=name)


@pytest.mark.parametrize("name", sorted(KERAS_RECORD))
def test_keras_file_loads_in_lamina_with_keras_outputs(name):
    model = lamina.saving.load_model(os.path.join(KERAS_DIR, f"{name}.keras"))
    entry = KERAS_RECORD[name]
    _assert_outputs(model(fx.decode_inputs(entry["inputs"])), entry["output"], name)


def test_keras_text_model_vocabulary_comes_from_assets():
    model = lamina.saving.load_model(os.path.join(KERAS_DIR, "text_classifier.keras"))
    vectorize = model.get_layer("vectorize")
    assert vectorize.get_config()["vocabulary"] is None
    with zipfile.ZipFile(os.path.join(KERAS_DIR, "text_classifier.keras")) as zf:
        text = zf.read("assets/layers/text_vectorization/vocabulary.txt").decode()
    assert vectorize.get_vocabulary() == text.split("\n")
    assert vectorize._lookup_layer.get_vocabulary() == text.split("\n")


def test_every_lamina_file_was_checked_in_keras():
    assert KERAS_CHECK["versions"]["keras"] == "3.15.1"
    assert sorted(KERAS_CHECK["models"]) == sorted(LAMINA_RECORD)
    for name, result in KERAS_CHECK["models"].items():
        assert result["loaded"] and result["equal"], (name, result)
        assert result["max_abs_diff"] <= 1e-5


def _h5_layout(data):
    layout = {}
    with h5py.File(io.BytesIO(data), "r") as f:

        def visit(path, obj):
            if isinstance(obj, h5py.Dataset):
                layout[path] = (obj.shape, obj.dtype.str, obj[()].tolist())
            else:
                layout[path] = dict(obj.attrs)

        f.visititems(visit)
    return layout


@pytest.fixture(scope="module")
def fresh_lamina_files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("lamina_models")
    record = {}
    for name, (model, inputs) in fx.build_lamina_models().items():
        model.save(folder / f"{name}.keras")
        record[name] = {"inputs": fx.encode(inputs), "output": fx.model_outputs(model, inputs)}
    fx.save_feature_space_files(lamina, str(folder), record, lambda d: d)
    return folder, record


@pytest.mark.parametrize("name", sorted(LAMINA_RECORD))
def test_lamina_still_writes_the_checked_files(name, fresh_lamina_files):
    folder, record = fresh_lamina_files
    with (
        zipfile.ZipFile(folder / f"{name}.keras") as new,
        zipfile.ZipFile(os.path.join(LAMINA_DIR, f"{name}.keras")) as old,
    ):
        assert new.namelist() == old.namelist()
        assert all(i.compress_type == zipfile.ZIP_STORED for i in new.infolist())
        assert json.loads(new.read("config.json")) == json.loads(old.read("config.json"))
        assert (
            json.loads(new.read("metadata.json"))["keras_version"]
            == json.loads(old.read("metadata.json"))["keras_version"]
        )
        assert _h5_layout(new.read("model.weights.h5")) == _h5_layout(old.read("model.weights.h5"))
        for member in new.namelist():
            if member.startswith("assets/"):
                assert new.read(member) == old.read(member), member
    _assert_outputs(fx.decode(record[name]["output"]), LAMINA_RECORD[name]["output"], name)


@pytest.mark.parametrize("name", sorted(LAMINA_RECORD))
def test_committed_lamina_files_load_back(name):
    model = lamina.saving.load_model(os.path.join(LAMINA_DIR, f"{name}.keras"))
    entry = LAMINA_RECORD[name]
    _assert_outputs(model(fx.decode_inputs(entry["inputs"])), entry["output"], name)


def test_unzipped_format_keeps_assets(tmp_path):
    model, inputs = fx.build_lamina_models()["text_classifier"]
    lamina.saving.save_model(model, tmp_path / "m", zipped=False)
    assert (tmp_path / "m" / "assets" / "layers" / "text_vectorization" / "vocabulary.txt").exists()
    loaded = lamina.saving.load_model(tmp_path / "m")
    np.testing.assert_allclose(loaded(inputs).detach().numpy(), model(inputs).detach().numpy())


def test_asset_paths_that_escape_are_refused(tmp_path):
    source = os.path.join(LAMINA_DIR, "text_classifier.keras")
    bad = tmp_path / "bad.keras"
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(bad, "w") as zout:
        for item in zin.infolist():
            zout.writestr(item, zin.read(item.filename))
        zout.writestr("assets/../../evil.txt", b"x")
    with pytest.raises(ValueError, match=r"holds the asset 'assets/\.\./\.\./evil\.txt'.*refusing to load it"):
        lamina.saving.load_model(bad)
    assert not (tmp_path.parent / "evil.txt").exists()


def test_missing_vocabulary_asset_is_a_clear_error(tmp_path):
    source = os.path.join(LAMINA_DIR, "lookups.keras")
    stripped = tmp_path / "stripped.keras"
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(stripped, "w") as zout:
        for item in zin.infolist():
            if item.filename != "assets/layers/string_lookup/vocabulary.txt":
                zout.writestr(item, zin.read(item.filename))
    with pytest.raises(ValueError, match=r'"colors" \(StringLookup\) expects its vocabulary in the assets'):
        lamina.saving.load_model(stripped)
