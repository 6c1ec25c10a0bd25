"""keras.datasets loaders: Keras's origins, hashes, cache paths and return values.

Each test builds a tiny file in the upstream format, serves it from the loopback server,
points the loader's origin there, and compares Lamina's ``load_data`` with real Keras's
``load_data`` downloading the same file (Keras's own ``get_file``, origin and hash redirected).
"""

import hashlib
import importlib
import inspect
import os

import keras
import numpy as np
import pytest

import lamina
from lamina.datasets.safe_load import UnsafeFileError
from tests.datasets import upstream_files as files


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def env(http_server, tmp_path, monkeypatch):
    """Serves files, redirects Lamina's and Keras's loaders to them; Lamina caches under $KERAS_HOME."""
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "lamina_home"))
    keras_cache = tmp_path / "keras_home"
    keras_cache.mkdir()
    hashes = {}
    real_get_file = importlib.import_module("keras.src.utils.file_utils").get_file

    def keras_get_file(fname=None, origin=None, **kwargs):
        name = origin.rsplit("/", 1)[1]
        if kwargs.get("file_hash"):
            kwargs["file_hash"] = hashes[name]
        return real_get_file(fname, http_server.url(name), cache_dir=str(keras_cache), **kwargs)

    class Env:
        server = http_server
        home = tmp_path / "lamina_home"

        def serve(self, name, data, module, hash_attr=None):
            http_server.add(name, data)
            hashes[name] = _sha256(data)
            lamina_module = getattr(lamina.datasets, module)
            for attr in ("ORIGIN_FOLDER", "BASE"):
                if hasattr(lamina_module, attr):
                    monkeypatch.setattr(lamina_module, attr, http_server.base_url)
            if hasattr(lamina_module, "ORIGIN"):
                monkeypatch.setattr(lamina_module, "ORIGIN", http_server.url(name))
            if hash_attr:
                monkeypatch.setattr(lamina_module, hash_attr, hashes[name])
            monkeypatch.setattr(importlib.import_module(f"keras.src.datasets.{module}"), "get_file", keras_get_file)

    return Env()


def _same(ours, theirs):
    if isinstance(theirs, (tuple, list)) and not isinstance(theirs, np.ndarray):
        assert isinstance(ours, type(theirs)) and len(ours) == len(theirs)
        for a, b in zip(ours, theirs, strict=True):
            _same(a, b)
        return
    assert isinstance(ours, np.ndarray) and ours.dtype == theirs.dtype and ours.shape == theirs.shape
    if theirs.dtype == object:
        assert [list(x) for x in ours] == [list(x) for x in theirs]
    else:
        assert np.array_equal(ours, theirs)


def test_mnist(env):
    env.serve("mnist.npz", files.mnist(), "mnist", "FILE_HASH")
    ours = lamina.datasets.mnist.load_data()
    _same(ours, keras.datasets.mnist.load_data())
    assert ours[0][0].shape == (7, 28, 28) and ours[0][0].dtype == np.uint8
    assert os.path.exists(env.home / "datasets" / "mnist.npz")
    _same(lamina.datasets.mnist.load_data(), ours)  # from the cache
    assert env.server.hits("mnist.npz") == 2  # one download by Lamina, one by Keras


def test_fashion_mnist(env):
    for name, data in files.fashion_mnist().items():
        env.serve(name, data, "fashion_mnist")
    ours = lamina.datasets.fashion_mnist.load_data()
    _same(ours, keras.datasets.fashion_mnist.load_data())
    assert sorted(os.listdir(env.home / "datasets" / "fashion-mnist")) == sorted(files.fashion_mnist())


def test_cifar10(env):
    env.serve("cifar-10-python.tar.gz", files.cifar10(), "cifar10", "FILE_HASH")
    ours = lamina.datasets.cifar10.load_data()
    _same(ours, keras.datasets.cifar10.load_data())
    (x_train, y_train), (x_test, y_test) = ours
    assert x_train.shape == (50000, 32, 32, 3) and y_train.shape == (50000, 1) and x_test.shape == (4, 32, 32, 3)
    assert os.path.isdir(env.home / "datasets" / "cifar-10-batches-py-target" / "cifar-10-batches-py")


@pytest.mark.parametrize("label_mode", ["fine", "coarse"])
def test_cifar100(env, label_mode):
    env.serve("cifar-100-python.tar.gz", files.cifar100(), "cifar100", "FILE_HASH")
    ours = lamina.datasets.cifar100.load_data(label_mode=label_mode)
    _same(ours, keras.datasets.cifar100.load_data(label_mode=label_mode))
    assert ours[0][1].shape == (5, 1)


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"num_words": 20, "skip_top": 2},
        {"maxlen": 9, "seed": 5},
        {"start_char": None, "oov_char": None, "index_from": 0},
        {"start_char": None, "index_from": 2, "num_words": 30},
    ],
)
def test_imdb(env, kwargs):
    env.serve("imdb.npz", files.imdb(), "imdb", "FILE_HASH")
    _same(lamina.datasets.imdb.load_data(**kwargs), keras.datasets.imdb.load_data(**kwargs))


def test_imdb_word_index_and_maxlen_error(env, monkeypatch):
    env.serve("imdb_word_index.json", files.word_index(), "imdb")
    monkeypatch.setattr(lamina.datasets.imdb, "WORD_INDEX_HASH", hashlib.md5(files.word_index()).hexdigest())
    assert (
        lamina.datasets.imdb.get_word_index()
        == keras.datasets.imdb.get_word_index()
        == {"the": 1, "and": 2, "a": 3, "film": 19}
    )
    env.serve("imdb.npz", files.imdb(), "imdb", "FILE_HASH")
    with pytest.raises(ValueError, match="no sequence was kept"):
        keras.datasets.imdb.load_data(maxlen=1)
    with pytest.raises(ValueError, match=r"shorter than maxlen=1, no sequence was kept"):
        lamina.datasets.imdb.load_data(maxlen=1)
    with pytest.warns(UserWarning, match=r"ignores the arguments \['nb_words'\]"):
        lamina.datasets.imdb.load_data(nb_words=3)


@pytest.mark.parametrize("kwargs", [{}, {"test_split": 0.4, "num_words": 25}, {"maxlen": 8, "oov_char": None}])
def test_reuters(env, kwargs):
    env.serve("reuters.npz", files.reuters(), "reuters", "FILE_HASH")
    _same(lamina.datasets.reuters.load_data(**kwargs), keras.datasets.reuters.load_data(**kwargs))


def test_reuters_names_and_word_index(env, monkeypatch):
    assert lamina.datasets.reuters.get_label_names() == keras.datasets.reuters.get_label_names()
    env.serve("reuters_word_index.json", files.word_index(), "reuters")
    monkeypatch.setattr(lamina.datasets.reuters, "WORD_INDEX_HASH", hashlib.md5(files.word_index()).hexdigest())
    assert lamina.datasets.reuters.get_word_index() == keras.datasets.reuters.get_word_index()


@pytest.mark.parametrize("kwargs", [{}, {"test_split": 0.5, "seed": 1}, {"test_split": 0.0}])
def test_boston_housing(env, kwargs):
    env.serve("boston_housing.npz", files.housing(13, 20), "boston_housing", "FILE_HASH")
    _same(lamina.datasets.boston_housing.load_data(**kwargs), keras.datasets.boston_housing.load_data(**kwargs))


@pytest.mark.parametrize("kwargs", [{}, {"version": "small", "test_split": 0.3}])
def test_california_housing(env, kwargs):
    env.serve("california_housing.npz", files.housing(8, 700), "california_housing", "FILE_HASH")
    ours = lamina.datasets.california_housing.load_data(**kwargs)
    _same(ours, keras.datasets.california_housing.load_data(**kwargs))


@pytest.mark.parametrize(
    "module, kwargs, match",
    [
        ("boston_housing", {"test_split": 1.0}, r"Invalid `test_split` argument: 1\.0"),
        ("california_housing", {"test_split": -0.1}, r"Invalid `test_split` argument: -0\.1"),
        ("california_housing", {"version": "medium"}, r"Received: version=medium"),
        ("cifar100", {"label_mode": "superfine"}, r"Received: label_mode=superfine"),
    ],
)
def test_bad_arguments_before_any_download(http_server, module, kwargs, match):
    with pytest.raises(ValueError, match=match):
        getattr(lamina.datasets, module).load_data(**kwargs)
    assert sum(http_server.requests.values()) == 0


def test_wrong_file_is_refused_by_hash(env, monkeypatch):
    env.serve("mnist.npz", files.mnist(), "mnist")  # the real hash stays in place
    with pytest.raises(ValueError, match=r"mnist\.npz.*but file_hash=731c5ac6"):
        lamina.datasets.mnist.load_data()
    assert not os.path.exists(env.home / "datasets" / "mnist.npz")


def test_pickled_code_in_a_download_is_not_run(env, tmp_path):
    marker = tmp_path / "pwned"
    env.serve("imdb.npz", files.malicious_npz(str(marker)), "imdb", "FILE_HASH")
    with pytest.raises(UnsafeFileError, match=r"Refusing to deserialize `io\.open`"):
        lamina.datasets.imdb.load_data()
    with pytest.raises(ValueError, match="malicious"):
        lamina.datasets.imdb.load_data()
    assert not marker.exists()


CONSTANTS = [
    ("mnist", ["ORIGIN_FOLDER", "FILE_HASH"]),
    ("fashion_mnist", ["BASE", *[f"FILES[{i}]" for i in range(4)]]),
    ("cifar10", ["ORIGIN", "FILE_HASH"]),
    ("cifar100", ["ORIGIN", "FILE_HASH"]),
    ("imdb", ["ORIGIN_FOLDER", "FILE_HASH", "WORD_INDEX_HASH"]),
    ("reuters", ["ORIGIN_FOLDER", "FILE_HASH", "WORD_INDEX_HASH"]),
    ("boston_housing", ["ORIGIN_FOLDER", "FILE_HASH"]),
    ("california_housing", ["ORIGIN_FOLDER", "FILE_HASH"]),
]


@pytest.mark.parametrize("module, names", CONSTANTS)
def test_origins_and_hashes_are_keras(module, names):
    source = inspect.getsource(importlib.import_module(f"keras.src.datasets.{module}"))
    ours = importlib.import_module(f"lamina.datasets.{module}")
    for name in names:
        value = eval(name, vars(ours))  # noqa: S307 -- a constant of our own module
        assert isinstance(value, str) and f'"{value}"' in source, (module, name)


def test_signatures_equal_keras():
    for module, _ in CONSTANTS:
        for fn in ("load_data", "get_word_index", "get_label_names"):
            theirs = getattr(importlib.import_module(f"keras.datasets.{module}"), fn, None)
            if theirs is None:
                continue
            ours = getattr(importlib.import_module(f"lamina.datasets.{module}"), fn)
            k_params = [(p.name, p.default, p.kind) for p in inspect.signature(theirs).parameters.values()]
            l_params = [(p.name, p.default, p.kind) for p in inspect.signature(ours).parameters.values()]
            assert l_params == k_params, (module, fn)
