"""Bad files give one clear error (and change nothing): truncated, corrupt, mismatched, unknown, newer, bombs."""

from __future__ import annotations

import io
import json
import os
import zipfile

import h5py
import numpy as np
import pytest
import torch

import lamina
from lamina import layers
from lamina.saving import keras_format


def _model(units=4):
    return lamina.Sequential([lamina.Input((3,)), layers.Dense(units, activation="relu"), layers.Dense(2)])


def _rewrite(path, replace=None, drop=(), add=None, compression=zipfile.ZIP_STORED):
    """Rewrites the .keras zip at ``path`` with some members replaced, dropped or added."""
    with zipfile.ZipFile(path) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    members.update(replace or {})
    for name in drop:
        members.pop(name)
    members.update(add or {})
    with zipfile.ZipFile(path, "w", compression) as zf:
        for name, data in members.items():
            zf.writestr(name, data)


def _edit_weights(path, fn):
    with zipfile.ZipFile(path) as zf:
        data = zf.read("model.weights.h5")
    buf = io.BytesIO(data)
    with h5py.File(buf, "a") as f:
        fn(f)
    _rewrite(path, replace={"model.weights.h5": buf.getvalue()})


def test_truncated_zip(tmp_path):
    _model().save(tmp_path / "m.keras")
    data = (tmp_path / "m.keras").read_bytes()
    (tmp_path / "t.keras").write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="truncated or corrupt"):
        lamina.models.load_model(tmp_path / "t.keras")


def test_random_bytes_and_empty_file(tmp_path):
    (tmp_path / "r.keras").write_bytes(os.urandom(2000))
    with pytest.raises(ValueError, match="not a valid .keras file"):
        lamina.models.load_model(tmp_path / "r.keras")
    (tmp_path / "e.keras").write_bytes(b"")
    with pytest.raises(ValueError, match="not a valid .keras file"):
        lamina.models.load_model(tmp_path / "e.keras")


def test_corrupt_member_bytes(tmp_path):
    _model().save(tmp_path / "m.keras")
    data = bytearray((tmp_path / "m.keras").read_bytes())
    start = data.find(b"\x89HDF")  # inside the stored weights member: the CRC no longer matches
    data[start + 600 : start + 700] = os.urandom(100)
    (tmp_path / "c.keras").write_bytes(bytes(data))
    with pytest.raises(ValueError, match="corrupt"):
        lamina.models.load_model(tmp_path / "c.keras")


def test_truncated_weights_inside_a_valid_zip(tmp_path):
    _model().save(tmp_path / "m.keras")
    with zipfile.ZipFile(tmp_path / "m.keras") as zf:
        weights = zf.read("model.weights.h5")
    _rewrite(tmp_path / "m.keras", replace={"model.weights.h5": weights[:300]})
    with pytest.raises(ValueError, match="not a valid HDF5 file"):
        lamina.models.load_model(tmp_path / "m.keras")


def test_missing_members_and_bad_json(tmp_path):
    _model().save(tmp_path / "m.keras")
    _rewrite(tmp_path / "m.keras", drop=["config.json"])
    with pytest.raises(ValueError, match="no 'config.json'"):
        lamina.models.load_model(tmp_path / "m.keras")
    _model().save(tmp_path / "n.keras")
    _rewrite(tmp_path / "n.keras", drop=["model.weights.h5"])
    with pytest.raises(ValueError, match="no 'model.weights.h5'"):
        lamina.models.load_model(tmp_path / "n.keras")
    _model().save(tmp_path / "j.keras")
    _rewrite(tmp_path / "j.keras", replace={"config.json": b"{not json"})
    with pytest.raises(ValueError, match="not valid JSON"):
        lamina.models.load_model(tmp_path / "j.keras")


def test_all_mismatches_reported_once_and_nothing_changed(tmp_path):
    _model(units=4).save_weights(tmp_path / "m.weights.h5")
    other = lamina.Sequential([lamina.Input((3,)), layers.Dense(5, activation="relu"), layers.Dense(2)])
    before = [w.numpy().copy() for w in other.weights]
    with pytest.raises(ValueError) as info:
        other.load_weights(tmp_path / "m.weights.h5")
    message = str(info.value)
    assert "3 problem(s)" in message
    assert "layer 'dense_2' (Dense) at 'layers/dense'" in message
    assert "weight 'sequential_1/dense_2/kernel' expects shape (3, 5), the file has shape (3, 4)" in message
    assert "weight 'sequential_1/dense_2/bias' expects shape (5,), the file has shape (4,)" in message
    assert "expects shape (5, 2), the file has shape (4, 2)" in message
    assert "No weight was changed" in message
    for w, b in zip(other.weights, before, strict=True):
        np.testing.assert_array_equal(w.numpy(), b)


def test_missing_weight_in_h5(tmp_path):
    _model().save(tmp_path / "m.keras")
    _edit_weights(tmp_path / "m.keras", lambda f: f.__delitem__("layers/dense_1/vars/1"))
    with pytest.raises(ValueError, match=r"layer 'dense_1' \(Dense\) at 'layers/dense_1': the file has 1 weight"):
        lamina.models.load_model(tmp_path / "m.keras")
    _model().save(tmp_path / "g.keras")
    _edit_weights(tmp_path / "g.keras", lambda f: f.__delitem__("layers/dense"))
    with pytest.raises(ValueError, match="the file has no weights for it"):
        lamina.models.load_model(tmp_path / "g.keras")


def test_extra_weights_in_h5(tmp_path):
    _model().save(tmp_path / "m.keras")
    _edit_weights(tmp_path / "m.keras", lambda f: f["layers/dense/vars"].create_dataset("2", data=np.ones(3)))
    with pytest.raises(ValueError, match=r"the file has 3 weight\(s\) at 'layers/dense/vars', the layer has 2"):
        lamina.models.load_model(tmp_path / "m.keras")
    _model().save(tmp_path / "x.keras")
    _edit_weights(tmp_path / "x.keras", lambda f: f.create_dataset("layers/dense_7/vars/0", data=np.ones(3)))
    with pytest.raises(ValueError, match=r"weights no layer of the model uses: layers/dense_7/vars/0 \(3,\)"):
        lamina.models.load_model(tmp_path / "x.keras")


def test_wrong_shape_in_keras_file(tmp_path):
    _model().save(tmp_path / "m.keras")
    _edit_weights(
        tmp_path / "m.keras",
        lambda f: (
            f["layers/dense_1/vars"].__delitem__("0"),
            f["layers/dense_1/vars"].create_dataset("0", data=np.ones((4, 3))),
        ),
    )
    with pytest.raises(ValueError, match=r"dense_1.*expects shape \(4, 2\), the file has shape \(4, 3\)"):
        lamina.models.load_model(tmp_path / "m.keras")


def test_unknown_class_name(tmp_path):
    _model().save(tmp_path / "m.keras")
    with zipfile.ZipFile(tmp_path / "m.keras") as zf:
        config = json.loads(zf.read("config.json"))
    config["config"]["layers"][1]["class_name"] = "FancyDense"
    _rewrite(tmp_path / "m.keras", replace={"config.json": json.dumps(config).encode()})
    with pytest.raises(TypeError, match="Could not locate class 'FancyDense'.*custom_objects"):
        lamina.models.load_model(tmp_path / "m.keras")


def test_newer_format(tmp_path):
    _model().save(tmp_path / "m.keras")
    meta = {"keras_version": "4.0.0", "date_saved": "2030-01-01@00:00:00"}
    _rewrite(tmp_path / "m.keras", replace={"metadata.json": json.dumps(meta).encode()})
    with pytest.raises(ValueError, match="Keras 4.0.0, a newer file format"):
        lamina.models.load_model(tmp_path / "m.keras")


def test_unknown_config_key_names_the_layer(tmp_path):
    _model().save(tmp_path / "m.keras")
    with zipfile.ZipFile(tmp_path / "m.keras") as zf:
        config = json.loads(zf.read("config.json"))
    config["config"]["layers"][1]["config"]["future_option"] = True
    _rewrite(tmp_path / "m.keras", replace={"config.json": json.dumps(config).encode()})
    with pytest.raises(TypeError, match="Dense.*future_option"):
        lamina.models.load_model(tmp_path / "m.keras")


def test_zip_bomb_refused_before_reading(tmp_path, monkeypatch):
    monkeypatch.setattr(keras_format, "_ZIP_BOMB_FLOOR_BYTES", 1 << 20)
    _model().save(tmp_path / "m.keras")
    _rewrite(tmp_path / "m.keras", replace={"model.weights.h5": b"\0" * (4 << 20)}, compression=zipfile.ZIP_DEFLATED)
    with pytest.raises(ValueError, match="decompression bomb"):
        lamina.models.load_model(tmp_path / "m.keras")
    _model().save(tmp_path / "c.keras")
    _rewrite(tmp_path / "c.keras", replace={"config.json": b" " * (2 << 20)}, compression=zipfile.ZIP_DEFLATED)
    with pytest.raises(ValueError, match="decompression bomb"):
        lamina.models.load_model(tmp_path / "c.keras")


def test_member_names_are_never_used_as_paths(tmp_path):
    target = tmp_path / "sub"
    target.mkdir()
    model = _model()
    model.save(target / "m.keras")
    _rewrite(target / "m.keras", add={"../escaped.txt": b"x", "assets/../../escaped2.txt": b"x", "/abs.txt": b"x"})
    loaded = lamina.models.load_model(target / "m.keras")
    x = np.ones((2, 3), "float32")
    assert torch.equal(loaded(x), model(x))
    assert sorted(os.listdir(tmp_path)) == ["sub"] and sorted(os.listdir(target)) == ["m.keras"]


def test_h5_links_and_non_numeric_datasets_refused(tmp_path):
    _model().save_weights(tmp_path / "m.weights.h5")
    with h5py.File(tmp_path / "m.weights.h5", "a") as f:
        del f["layers/dense/vars/0"]
        f["layers/dense/vars/0"] = h5py.SoftLink("/layers/dense_1/vars/0")
    with pytest.raises(ValueError, match="Not allowed"):
        _model().load_weights(tmp_path / "m.weights.h5")
    _model().save_weights(tmp_path / "s.weights.h5")
    with h5py.File(tmp_path / "s.weights.h5", "a") as f:
        del f["layers/dense/vars/1"]
        f["layers/dense/vars"].create_dataset("1", data=np.array([b"abcd"] * 4))
    with pytest.raises(ValueError, match="non-numeric"):
        _model().load_weights(tmp_path / "s.weights.h5")


def test_weights_only_file_passed_to_load_model(tmp_path):
    _model().save_weights(tmp_path / "m.weights.h5")
    with pytest.raises(ValueError, match="weights-only file"):
        lamina.models.load_model(tmp_path / "m.weights.h5")
    with pytest.raises(ValueError, match="File format not supported"):
        lamina.models.load_model(__file__)
    with pytest.raises(ValueError, match="File not found"):
        lamina.models.load_model(tmp_path / "nope.keras")


def test_no_pickle_in_safe_mode(tmp_path):
    """A config can only name classes Lamina knows; nothing in a file is unpickled or evaluated."""
    _model().save(tmp_path / "m.keras")
    with zipfile.ZipFile(tmp_path / "m.keras") as zf:
        config = json.loads(zf.read("config.json"))
    config["config"]["layers"][1] = {
        "module": "os",
        "class_name": "system",
        "config": {"command": "touch pwned"},
        "registered_name": None,
    }
    _rewrite(tmp_path / "m.keras", replace={"config.json": json.dumps(config).encode()})
    with pytest.raises(TypeError, match="Could not locate class 'system'"):
        lamina.models.load_model(tmp_path / "m.keras")
    assert not os.path.exists("pwned")
