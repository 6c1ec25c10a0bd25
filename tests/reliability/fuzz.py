"""The file-mutation fuzz: damaged and hostile variants of a ``.keras``, a ``.weights.h5`` and a legacy ``.h5``.

Each mutant is ``Mutant(id, fmt, op, seed)``; ``make(mutant, folder)`` writes it (deterministically: the seed
drives every choice) and ``try_mutant(mutant, folder)`` loads it and says how that ended:

* ``loaded``: it still loads (a flipped byte in padding, a JSON edit that is still a valid model: fine);
* ``clean``: ``ValueError``/``TypeError`` whose message names the file;
* ``unnamed``: the right type, but the file is not named;
* ``internal``: any other exception type;
* ``leak``: a file other than the mutant is left in its folder;
* ``ran``: code from the file ran (an audit event such as ``marshal.loads``/``os.system``, or the
  sentinel file that the injected code would write).

Used by ``tests/reliability/test_file_fuzz.py`` and by ``tools/reliability_sweep.py``.
"""

from __future__ import annotations

import copy
import functools
import io
import json
import marshal
import os
import random
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from typing import Any

import numpy as np

FORMATS = ("keras", "weights", "h5")
_EXT = {"keras": "m.keras", "weights": "m.weights.h5", "h5": "m.h5"}
_OPS = {
    "keras": ("flip", "truncate", "member_drop", "member_garbage", "member_rename", "json_edit", "weights_edit"),
    "weights": ("flip", "truncate", "h5_edit"),
    "h5": ("flip", "truncate", "json_attr_edit", "h5_edit", "attr_edit"),
}
# Hostile values a JSON edit puts in place of a config entry.
_VALUES: list[Any] = [None, -1, 0, 10**12, 1e308, "x", "", [], {}, True, [[[]]], "../../etc/passwd", {"a": 1}]

# Audit events that mean code from a file is being run (or unpickled).
_CODE_EVENTS = ("marshal.loads", "pickle.find_class", "os.system", "subprocess.Popen", "os.exec", "os.posix_spawn")
_SEEN: list[str] = []
_WATCH = [False]


def _audit(event: str, args: Any) -> None:
    if _WATCH[0] and event.startswith(_CODE_EVENTS):
        if event == "marshal.loads" and _from_import_system():
            return  # a module imported lazily (its .pyc): not code from the file
        _SEEN.append(event)


def _from_import_system() -> bool:
    frame = sys._getframe(2)
    for _ in range(6):
        if frame is None:
            return False
        if frame.f_code.co_filename.startswith("<frozen importlib"):
            return True
        frame = frame.f_back
    return False


sys.addaudithook(_audit)  # audit hooks cannot be removed; this one only records while _WATCH is set


@dataclass(frozen=True)
class Mutant:
    id: str
    fmt: str
    op: str
    seed: int


def mutants(per_op: int = 8, first_seed: int = 0) -> list[Mutant]:
    """``per_op`` seeded mutants of every operation on every format, plus the hostile ones."""
    out = [
        Mutant(f"{fmt}-{op}-{seed}", fmt, op, seed)
        for fmt in FORMATS
        for op in _OPS[fmt]
        for seed in range(first_seed, first_seed + per_op)
    ]
    out += [Mutant(f"{fmt}-{op}", fmt, op, 0) for fmt, op in _HOSTILE]
    return out


# ---------------------------------------------------------------------------- the intact files
def _model(K: Any) -> Any:
    i = K.Input((3,), name="x")
    h = K.layers.Dense(4, name="d1")(i)
    m = K.Model(i, K.layers.Dense(2, name="d2")(h))
    m.compile(optimizer="adam", loss="mse")
    return m


@functools.cache
def originals() -> dict[str, bytes]:
    """The intact files, made once per process by the library under test."""
    import lamina as K

    m = _model(K)
    m.fit(np.ones((4, 3), "float32"), np.ones((4, 2), "float32"), verbose=0)
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        m.save(os.path.join(tmp, _EXT["keras"]))
        m.save_weights(os.path.join(tmp, _EXT["weights"]))
        m.save(os.path.join(tmp, _EXT["h5"]))
        for fmt, name in _EXT.items():
            with open(os.path.join(tmp, name), "rb") as f:
                out[fmt] = f.read()
    return out


# ---------------------------------------------------------------------------- mutations
def _flip(data: bytes, rng: random.Random) -> bytes:
    b = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        i = rng.randrange(len(b))
        b[i] ^= 1 << rng.randrange(8)
    return bytes(b)


def _truncate(data: bytes, rng: random.Random) -> bytes:
    return data[: rng.randrange(len(data))]


def _json_paths(node: Any, path: tuple = ()) -> list[tuple]:
    out = [path]
    if isinstance(node, dict):
        for k, v in node.items():
            out += _json_paths(v, (*path, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += _json_paths(v, (*path, i))
    return out


def _edit_json(obj: Any, rng: random.Random) -> Any:
    """One random edit: delete an entry, or replace it with a hostile value."""
    obj = copy.deepcopy(obj)
    paths = [p for p in _json_paths(obj) if p]
    path = rng.choice(paths)
    parent = obj
    for key in path[:-1]:
        parent = parent[key]
    if rng.random() < 0.3:
        del parent[path[-1]]
    else:
        parent[path[-1]] = copy.deepcopy(rng.choice(_VALUES))
    return obj


def _zip_rewrite(data: bytes, edit: Any) -> bytes:
    """The zip with its members passed through ``edit(name, bytes) -> [(name, bytes), ...]``."""
    src = zipfile.ZipFile(io.BytesIO(data))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as dst:
        for info in src.infolist():
            for name, payload in edit(info.filename, src.read(info.filename)):
                dst.writestr(name, payload)
    return buf.getvalue()


def _h5_edit(data: bytes, rng: random.Random, folder: str) -> bytes:
    """One random edit of a dataset (or attribute) of an h5 file, written with h5py."""
    import h5py

    path = os.path.join(folder, "edit.h5")
    with open(path, "wb") as f:
        f.write(data)
    with h5py.File(path, "r+") as f:
        names: list[str] = []
        f.visititems(lambda n, o: names.append(n) if isinstance(o, h5py.Dataset) else None)
        name = rng.choice(names)
        ds = f[name]
        shape, parent, leaf = ds.shape, ds.parent, name.rsplit("/", 1)[-1]
        op = rng.choice(("reshape", "strings", "group", "delete", "extra", "soft", "external", "bomb", "nan"))
        if op != "extra":
            del parent[leaf]
        if op == "reshape":
            parent.create_dataset(leaf, data=np.zeros(tuple(d + 1 for d in shape) or (2,), "float32"))
        elif op == "strings":
            parent.create_dataset(leaf, data=np.array([b"a"] * max(1, int(np.prod(shape)))))
        elif op == "group":
            parent.create_group(leaf)
        elif op == "extra":
            parent.create_dataset(f"{leaf}_extra", data=np.zeros(3, "float32"))
        elif op == "soft":
            parent[leaf] = h5py.SoftLink("/" + rng.choice(names))
        elif op == "external":
            parent[leaf] = h5py.ExternalLink("/etc/passwd", "/x")
        elif op == "bomb":  # declares 16 GB, stores almost nothing
            parent.create_dataset(leaf, shape=(1 << 32,), dtype="float32", chunks=(1 << 20,), compression="gzip")
        elif op == "nan":
            parent.create_dataset(leaf, data=np.full(shape, np.nan, "float32"))
    with open(path, "rb") as f:
        out = f.read()
    os.remove(path)
    return out


def _h5_attr_edit(
    data: bytes, rng: random.Random, folder: str, attribute: str | None = None, value: Any = None
) -> bytes:
    import h5py

    path = os.path.join(folder, "edit.h5")
    with open(path, "wb") as f:
        f.write(data)
    with h5py.File(path, "r+") as f:
        groups: list[Any] = [f]
        f.visititems(lambda n, o: groups.append(o) if isinstance(o, h5py.Group) else None)
        if attribute is not None:
            f.attrs[attribute] = value
        else:
            g = rng.choice([g for g in groups if len(g.attrs)] or [f])
            key = rng.choice(sorted(g.attrs)) if len(g.attrs) else "x"
            if rng.random() < 0.4:
                del g.attrs[key]
            else:
                g.attrs[key] = rng.choice(["x", "{", "[]", "null", 7, np.array([b"a", b"b"]), "4.0.0"])
    with open(path, "rb") as f:
        out = f.read()
    os.remove(path)
    return out


def _lambda_config(sentinel: str) -> dict:
    """A Lambda layer whose function, if ever run, writes ``sentinel``: safe mode must refuse it."""
    code = compile(f"lambda x: (open({sentinel!r}, 'w').close(), x)[1]", "<fuzz>", "eval")
    raw = marshal.dumps(code).hex()
    return {
        "module": "keras.layers",
        "class_name": "Lambda",
        "config": {
            "name": "d1",
            "function": {"class_name": "__lambda__", "config": {"code": raw, "defaults": None, "closure": None}},
        },
        "registered_name": None,
    }


def _replace_layer(config: dict, sentinel: str) -> dict:
    config = copy.deepcopy(config)
    for layer in config["config"]["layers"]:
        if layer.get("name") == "d1":
            layer.update({k: v for k, v in _lambda_config(sentinel).items()})
    return config


def _deep(levels: int) -> bytes:
    return ("[" * levels + "]" * levels).encode()


def _keras_json(data: bytes, member: str, fn: Any) -> bytes:
    return _zip_rewrite(data, lambda n, b: [(n, fn(b) if n == member else b)])


# Hand-written hostile files: (format, op). All but the zip member named like a path must be refused (that
# member is never read, so the model loads, as in Keras).
_HOSTILE = [
    ("keras", "lambda_bytecode"),
    ("keras", "deep_config"),
    ("keras", "deep_metadata"),
    ("keras", "newer_version"),
    ("keras", "builtin_from_os"),
    ("keras", "path_member"),
    ("h5", "lambda_bytecode"),
    ("h5", "newer_version"),
    ("h5", "training_config_not_json"),
    ("h5", "deep_config"),
]


def make(m: Mutant, folder: str) -> str:
    """Writes the mutant into ``folder`` and returns its path."""
    rng = random.Random(f"{m.fmt}-{m.op}-{m.seed}")
    data = originals()[m.fmt]
    sentinel = os.path.join(folder, "CODE_RAN")
    op = m.op
    if op == "flip":
        data = _flip(data, rng)
    elif op == "truncate":
        data = _truncate(data, rng)
    elif op == "member_drop":
        victim = rng.choice(["metadata.json", "config.json", "model.weights.h5"])
        data = _zip_rewrite(data, lambda n, b: [] if n == victim else [(n, b)])
    elif op == "member_garbage":
        victim = rng.choice(["metadata.json", "config.json", "model.weights.h5"])
        junk = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 200)))
        data = _zip_rewrite(data, lambda n, b: [(n, junk if n == victim else b)])
    elif op == "member_rename":
        victim = rng.choice(["metadata.json", "config.json", "model.weights.h5"])
        data = _zip_rewrite(data, lambda n, b: [(n + "x" if n == victim else n, b)])
    elif op == "json_edit":
        member = rng.choice(["config.json", "config.json", "config.json", "metadata.json"])
        data = _keras_json(data, member, lambda b: json.dumps(_edit_json(json.loads(b), rng)).encode())
    elif op == "weights_edit":
        data = _zip_rewrite(data, lambda n, b: [(n, _h5_edit(b, rng, folder) if n == "model.weights.h5" else b)])
    elif op == "h5_edit":
        data = _h5_edit(data, rng, folder)
    elif op == "attr_edit":
        data = _h5_attr_edit(data, rng, folder)
    elif op == "json_attr_edit":
        attribute = rng.choice(["model_config", "model_config", "training_config"])
        import h5py

        with h5py.File(io.BytesIO(data), "r") as f:
            raw = f.attrs[attribute]
        edited = json.dumps(_edit_json(json.loads(raw), rng))
        data = _h5_attr_edit(data, rng, folder, attribute, edited)
    elif m.fmt == "keras":
        data = _hostile_keras(op, data, sentinel)
    else:
        data = _hostile_h5(op, data, sentinel, folder)
    path = os.path.join(folder, _EXT[m.fmt])
    with open(path, "wb") as f:
        f.write(data)
    return path


def _hostile_keras(op: str, data: bytes, sentinel: str) -> bytes:
    if op == "lambda_bytecode":
        return _keras_json(data, "config.json", lambda b: json.dumps(_replace_layer(json.loads(b), sentinel)).encode())
    if op == "deep_config":
        return _keras_json(data, "config.json", lambda b: _deep(100_000))
    if op == "deep_metadata":
        return _keras_json(data, "metadata.json", lambda b: _deep(100_000))
    if op == "newer_version":
        return _keras_json(data, "metadata.json", lambda b: json.dumps({"keras_version": "9.0.0"}).encode())
    if op == "builtin_from_os":

        def to_os(b: bytes) -> bytes:
            cfg = json.loads(b)
            layer = cfg["config"]["layers"][1]
            layer["module"], layer["registered_name"] = "os", "os>system"
            return json.dumps(cfg).encode()

        return _keras_json(data, "config.json", to_os)
    if op == "path_member":
        return _zip_rewrite(data, lambda n, b: [(n, b)] + ([("../../escape.txt", b"x")] if n == "config.json" else []))
    raise ValueError(op)


def _hostile_h5(op: str, data: bytes, sentinel: str, folder: str) -> bytes:
    import h5py

    with h5py.File(io.BytesIO(data), "r") as f:
        config = json.loads(f.attrs["model_config"])
    if op == "lambda_bytecode":
        return _h5_attr_edit(data, None, folder, "model_config", json.dumps(_replace_layer(config, sentinel)))
    if op == "newer_version":
        return _h5_attr_edit(data, None, folder, "keras_version", "4.1.0")
    if op == "training_config_not_json":
        return _h5_attr_edit(data, None, folder, "training_config", "{'loss': 'mse'")
    if op == "deep_config":
        return _h5_attr_edit(data, None, folder, "model_config", _deep(100_000).decode())
    raise ValueError(op)


# ---------------------------------------------------------------------------- loading a mutant
def load(m: Mutant, path: str) -> Any:
    import lamina as K

    if m.fmt == "weights":
        return _model(K).load_weights(path)
    return K.models.load_model(path)


def outcome(m: Mutant, path: str, error: BaseException | None, folder: str) -> str:
    if _SEEN or os.path.exists(os.path.join(folder, "CODE_RAN")):
        return "ran"
    if sorted(os.listdir(folder)) != [os.path.basename(path)]:
        return "leak"  # loading wrote or left a file
    if error is None:
        return "loaded"
    if not isinstance(error, (ValueError, TypeError)):
        return "internal"
    return "clean" if os.path.basename(path) in str(error) else "unnamed"


def try_mutant(m: Mutant, folder: str) -> tuple[str, str]:
    """Makes and loads the mutant; returns (outcome, detail)."""
    import warnings

    path = make(m, folder)
    _SEEN.clear()
    error = None
    _WATCH[0] = True
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            load(m, path)
    except Exception as e:  # noqa: BLE001 - every kind is counted
        error = e
    finally:
        _WATCH[0] = False
    result = outcome(m, path, error, folder)
    detail = "" if error is None else f"{type(error).__name__}: {str(error)[:200]}"
    if result == "ran":
        detail = f"events {sorted(set(_SEEN))} {detail}"
    return result, detail
