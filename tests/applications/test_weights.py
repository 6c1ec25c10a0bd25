"""``weights="imagenet"``: Keras's file names, URLs and hashes, fetched through ``get_file`` into Keras's cache.

No test touches the network: the files are written by real Keras and served from a loopback
HTTP server that stands in for storage.googleapis.com, or placed in the cache as Keras leaves them.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import shutil
import warnings

import keras
import numpy as np
import pytest
import torch
from keras.src.applications import imagenet_utils as keras_imagenet_utils

import lamina
from lamina.applications import _weights, imagenet_utils
from tests.applications import parity
from tests.applications.specs import FAMILY, keras_constructor

CLASS_INDEX_FILE = "/work/shared/data/imagenet_class_index.json"


@pytest.fixture
def keras_home(tmp_path, monkeypatch):
    """One cache for both libraries, as on a machine where Keras already downloaded the files."""
    from keras.src.backend import config

    home = tmp_path / "keras_home"
    home.mkdir()  # an absent (unwritable) home sends both libraries to /tmp/.keras instead
    monkeypatch.setenv("KERAS_HOME", str(home))
    monkeypatch.setattr(config, "_KERAS_DIR", str(home))  # Keras read KERAS_HOME when it was imported
    return home


def _serve_weights(http_server, monkeypatch, data: bytes, fname: str) -> str:
    """Points both libraries' MobileNetV3 origin at the server and its no-top hash at ``data``."""
    md5 = hashlib.md5(data).hexdigest()
    http_server.add(fname, data)
    for module in (importlib.import_module("keras.src.applications.mobilenet_v3"), lamina.applications.mobilenet_v3):
        monkeypatch.setattr(module, "BASE_WEIGHT_PATH", http_server.base_url)
        hashes = dict(module.WEIGHTS_HASHES)
        hashes["small_224_1.0_float"] = (hashes["small_224_1.0_float"][0], md5)
        monkeypatch.setattr(module, "WEIGHTS_HASHES", hashes)
    return md5


def test_imagenet_weights_come_from_keras_cache_or_origin(http_server, keras_home, monkeypatch, tmp_path):
    fname = "weights_mobilenet_v3_small_224_1.0_float_no_top_v2.h5"
    reference = tmp_path / fname

    def build(side, weights):
        return side.lib.applications.MobileNetV3Small(
            input_shape=(32, 32, 3), include_top=False, pooling="avg", weights=weights
        )

    _, x, expected = parity.keras_reference(build, str(reference), "h5")
    _serve_weights(http_server, monkeypatch, reference.read_bytes(), fname)

    with pytest.warns(UserWarning, match="Weights for input shape \\(224, 224\\) will be loaded"):
        keras_model = build(parity.KERAS, "imagenet")  # Keras downloads into the shared cache
    assert http_server.hits(fname) == 1
    cached = keras_home / "models" / fname
    assert cached.read_bytes() == reference.read_bytes()
    parity.assert_close(expected, parity.keras_predict(keras_model, x))

    with pytest.warns(UserWarning, match="Weights for input shape \\(224, 224\\) will be loaded"):
        model = build(parity.LAMINA, "imagenet")
    assert http_server.hits(fname) == 1  # found in Keras's cache: nothing downloaded
    parity.assert_close(expected, parity.lamina_predict(model, x))

    cached.unlink()
    with pytest.warns(UserWarning, match="will be loaded as the default"):
        model = build(parity.LAMINA, "imagenet")
    assert http_server.hits(fname) == 2 and cached.read_bytes() == reference.read_bytes()
    parity.assert_close(expected, parity.lamina_predict(model, x))


def test_a_file_that_fails_its_hash_is_refused(http_server, keras_home, monkeypatch):
    fname = "weights_mobilenet_v3_small_224_1.0_float_no_top_v2.h5"
    _serve_weights(http_server, monkeypatch, b"not the weights", fname)
    hashes = dict(lamina.applications.mobilenet_v3.WEIGHTS_HASHES)
    hashes["small_224_1.0_float"] = (hashes["small_224_1.0_float"][0], "0" * 32)
    monkeypatch.setattr(lamina.applications.mobilenet_v3, "WEIGHTS_HASHES", hashes)
    with pytest.raises(ValueError, match="hash"):
        lamina.applications.MobileNetV3Small(input_shape=(224, 224, 3), include_top=False, weights="imagenet")
    assert not (keras_home / "models" / fname).exists()


def test_decode_predictions_reads_keras_class_index_once(http_server, keras_home, monkeypatch):
    with open(CLASS_INDEX_FILE, "rb") as f:
        data = f.read()
    url = http_server.add("imagenet_class_index.json", data)
    monkeypatch.setattr(imagenet_utils, "CLASS_INDEX_PATH", url)
    monkeypatch.setattr(imagenet_utils, "CLASS_INDEX", None)
    monkeypatch.setattr(keras_imagenet_utils, "CLASS_INDEX", json.loads(data))
    preds = np.random.default_rng(0).random((3, 1000)).astype("float32")
    for _ in range(2):
        ours = lamina.applications.resnet.decode_predictions(preds, top=4)
        assert ours == keras.applications.resnet.decode_predictions(preds, top=4)
    assert http_server.hits("imagenet_class_index.json") == 1
    assert [row[1] for row in ours[0]][:1] == [json.loads(data)[str(int(preds[0].argmax()))][1]]
    assert lamina.applications.vgg16.decode_predictions(torch.as_tensor(preds), top=4) == ours


def test_class_index_constants_are_keras():
    assert imagenet_utils.CLASS_INDEX_PATH == keras_imagenet_utils.CLASS_INDEX_PATH
    with open(CLASS_INDEX_FILE, "rb") as f:
        assert hashlib.md5(f.read()).hexdigest() == imagenet_utils.CLASS_INDEX_HASH


# --------------------------------------------------------------------------- tables against Keras's
_HASH_TABLES = ["resnet", "mobilenet_v3", "efficientnet", "efficientnet_v2", "convnext"]


@pytest.mark.parametrize("family", _HASH_TABLES)
def test_hash_tables_are_keras(family):
    ours = getattr(lamina.applications, family)
    theirs = importlib.import_module(f"keras.src.applications.{family}")
    assert ours.WEIGHTS_HASHES == theirs.WEIGHTS_HASHES
    base = "BASE_WEIGHT_PATH" if family == "mobilenet_v3" else "BASE_WEIGHTS_PATH"
    assert getattr(ours, base) == getattr(theirs, base)


class _Fetch(Exception):
    """Raised in place of a download: carries what would have been fetched."""


def _keras_fetch(name: str, include_top: bool, monkeypatch) -> tuple:
    from keras.src.utils import file_utils

    def capture(fname=None, origin=None, **kwargs):
        raise _Fetch(fname, origin, kwargs.get("cache_subdir"), kwargs.get("file_hash"))

    monkeypatch.setattr(file_utils, "get_file", capture)
    keras.backend.clear_session(free_memory=False)
    with pytest.raises(_Fetch) as info, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # MobileNets warn when the 224 files stand in for another size
        keras_constructor(name)(weights="imagenet", **_imagenet_kwargs(name, include_top))
    return info.value.args


def _lamina_fetch(name: str, include_top: bool, monkeypatch) -> tuple:
    def capture(fname, origin, cache_subdir="datasets", file_hash=None, **kwargs):
        raise _Fetch(fname, origin, cache_subdir, file_hash)

    monkeypatch.setattr(_weights, "get_file", capture)
    module = importlib.import_module(f"lamina.applications.{FAMILY[name]}")
    with (
        torch.device("meta"),
        lamina.backend.device_scope("meta"),
        pytest.raises(_Fetch) as info,
        warnings.catch_warnings(),
    ):
        warnings.simplefilter("ignore")
        getattr(module, name)(weights="imagenet", **_imagenet_kwargs(name, include_top))
    return info.value.args


def _imagenet_kwargs(name: str, include_top: bool) -> dict:
    """The cheapest legal ImageNet build: the default shape with the top, a small one without."""
    if include_top:
        return {"include_top": True}
    small = {"Xception": 71, "InceptionV3": 75, "InceptionResNetV2": 75}.get(name, 32)
    return {"include_top": False, "input_shape": (small, small, 3)}


def _check_fetch(name, include_top, monkeypatch):
    expected = _keras_fetch(name, include_top, monkeypatch)
    assert _lamina_fetch(name, include_top, monkeypatch) == expected
    assert expected[2] == "models"


@pytest.mark.parametrize("name, include_top", [("MobileNetV3Small", True), ("MobileNet", False), ("ResNet50", False)])
def test_imagenet_file_name_origin_and_hash_are_keras(name, include_top, monkeypatch):
    _check_fetch(name, include_top, monkeypatch)


@pytest.mark.slow
@pytest.mark.parametrize("include_top", [True, False])
@pytest.mark.parametrize("name", sorted(FAMILY))
def test_every_imagenet_file_is_keras(name, include_top, monkeypatch):
    if name == "NASNetMobile":
        pytest.skip("Keras refuses NASNetMobile on torch before fetching; the NASNet builder is checked below")
    _check_fetch(name, include_top, monkeypatch)


@pytest.mark.slow
def test_nasnet_mobile_imagenet_file_is_keras(monkeypatch):
    """Keras's torch backend refuses NASNetMobile, so its builder is asked with NASNetMobile's arguments."""
    from keras.src.utils import file_utils

    def capture(fname=None, origin=None, **kwargs):
        raise _Fetch(fname, origin, kwargs.get("cache_subdir"), kwargs.get("file_hash"))

    monkeypatch.setattr(file_utils, "get_file", capture)
    for include_top in (True, False):
        keras.backend.clear_session(free_memory=False)
        with pytest.raises(_Fetch) as info:
            keras_constructor("NASNetMobile")(weights="imagenet", include_top=include_top)
        assert lamina.applications.nasnet.weights_file(224, include_top) == info.value.args[:2] + info.value.args[3:]


def test_cache_copy_from_keras_is_used_as_is(keras_home, monkeypatch, tmp_path):
    """A user who has Keras's file (same name in ~/.keras/models) downloads nothing: no server at all here."""
    fname = "weights_mobilenet_v3_small_224_1.0_float_no_top_v2.h5"
    path = tmp_path / fname

    def build(side, weights):
        return side.lib.applications.MobileNetV3Small(input_shape=(224, 224, 3), include_top=False, weights=weights)

    _, x, expected = parity.keras_reference(build, str(path), "h5")
    (keras_home / "models").mkdir()
    shutil.copy(path, keras_home / "models" / fname)
    hashes = dict(lamina.applications.mobilenet_v3.WEIGHTS_HASHES)
    hashes["small_224_1.0_float"] = (hashes["small_224_1.0_float"][0], hashlib.md5(path.read_bytes()).hexdigest())
    monkeypatch.setattr(lamina.applications.mobilenet_v3, "WEIGHTS_HASHES", hashes)
    monkeypatch.setattr(lamina.applications.mobilenet_v3, "BASE_WEIGHT_PATH", "http://127.0.0.1:9/unreachable/")
    model = build(parity.LAMINA, "imagenet")
    parity.assert_close(expected, parity.lamina_predict(model, x))
