"""The Keras 3 ``.keras`` file: a zip of ``metadata.json``, ``config.json``, ``model.weights.h5`` and ``assets/``.

Written exactly as Keras 3.15 writes it (members stored uncompressed, in that order), so
Keras loads Lamina's files and Lamina loads Keras's. Reading is defensive: zip members
are read into memory by their fixed names (never extracted, never used as paths),
members that declare far more data than they store are refused, and a truncated or
corrupt archive gives one clear ``ValueError``.
"""

from __future__ import annotations

import contextlib
import datetime
import io
import json
import os
import tempfile
import warnings
import zipfile
from collections.abc import Iterator
from typing import Any

from lamina import serialization
from lamina.backend.atomic import atomic_write, scratch_file
from lamina.saving import assets, h5_reading, tf_keras_compat, weights_h5
from lamina.serialization import serialize_keras_object

KERAS_FORMAT_VERSION = "3.15.1"  # the Keras release whose file format Lamina writes
CONFIG_FILENAME = "config.json"
METADATA_FILENAME = "metadata.json"
WEIGHTS_FILENAME = "model.weights.h5"
_NPZ_WEIGHTS_FILENAME = "model.weights.npz"

_MAX_JSON_BYTES = 64 << 20  # config.json / metadata.json
_ZIP_BOMB_FLOOR_BYTES = 64 << 20  # below this, any compression ratio is accepted
_ZIP_MAX_EXPANSION = 100  # Keras stores members uncompressed (1:1); DEFLATE of real weights stays far below this
_ZIP_MAX_MEMBERS = 100_000


# ---------------------------------------------------------------------------- config / metadata
def model_config_json(model: Any, include_optimizer: bool = True) -> str:
    config = serialize_keras_object(model)
    if not include_optimizer and isinstance(config, dict):
        config.pop("compile_config", None)
    return json.dumps(config)


def metadata_json() -> str:
    return json.dumps(
        {"keras_version": KERAS_FORMAT_VERSION, "date_saved": datetime.datetime.now().strftime("%Y-%m-%d@%H:%M:%S")}
    )


# ---------------------------------------------------------------------------- save
def _write_zip(model: Any, target: Any, include_optimizer: bool, final_path: str | None) -> None:
    config = model_config_json(model, include_optimizer)
    meta = metadata_json()
    with zipfile.ZipFile(target, "w") as zf:  # ZIP_STORED, as Keras
        zf.writestr(METADATA_FILENAME, meta)
        zf.writestr(CONFIG_FILENAME, config)
        # The weights go through a scratch file next to the target, so a big model is never held twice in memory;
        # named after the target, so a save killed here leaves nothing the next save does not remove.
        with _scratch(final_path) as scratch:
            import h5py

            with h5py.File(scratch, "w") as f:
                weights_h5.save_state(model, f, include_optimizer=include_optimizer)
            zf.write(scratch, WEIGHTS_FILENAME)
        assets.write_assets_to_zip(model, zf)  # after the weights, as Keras (vocabularies of lookup layers)


@contextlib.contextmanager
def _scratch(final_path: str | None) -> Iterator[str]:
    if final_path is not None:
        with scratch_file(final_path) as scratch:
            yield scratch
        return
    fd, scratch = tempfile.mkstemp(prefix=".weights.", suffix=".h5.tmp")  # a file object: no target folder
    os.close(fd)
    try:
        yield scratch
    finally:
        with contextlib.suppress(OSError):
            os.remove(scratch)


def save_model(model: Any, filepath: Any, include_optimizer: bool = True) -> None:
    """Writes ``model`` as a ``.keras`` zip at ``filepath`` (a path, atomically, or a binary file object)."""
    if not getattr(model, "built", True):
        warnings.warn(
            "You are saving a model that has not yet been built. It might not contain any weights yet. "
            "Consider building the model first by calling it on some data.",
            stacklevel=3,
        )
    if isinstance(filepath, io.IOBase):
        _write_zip(model, filepath, include_optimizer, None)
        return
    path = os.fspath(filepath)
    with atomic_write(path) as tmp:
        _write_zip(model, tmp, include_optimizer, path)


def save_model_to_dir(model: Any, dirpath: Any, include_optimizer: bool = True) -> None:
    """The unzipped variant (``zipped=False``): a folder with the same three files."""
    dirpath = os.fspath(dirpath)
    os.makedirs(dirpath, exist_ok=True)
    for name, text in (
        (METADATA_FILENAME, metadata_json()),
        (CONFIG_FILENAME, model_config_json(model, include_optimizer)),
    ):
        with atomic_write(os.path.join(dirpath, name)) as tmp, open(tmp, "w") as f:
            f.write(text)
    with atomic_write(os.path.join(dirpath, WEIGHTS_FILENAME)) as tmp:
        import h5py

        with h5py.File(tmp, "w") as f:
            weights_h5.save_state(model, f, include_optimizer=include_optimizer)
    assets.write_assets_to_dir(model, dirpath)


# ---------------------------------------------------------------------------- safe reading
def open_archive(source: Any, what: str) -> zipfile.ZipFile:
    """Opens a ``.keras`` zip, turning any zip damage into one clear ``ValueError``."""
    try:
        zf = zipfile.ZipFile(source, "r")
    except FileNotFoundError:
        raise
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as e:
        raise ValueError(
            f"Cannot read {what}: it is not a valid .keras file (the zip archive is truncated or "
            f"corrupt: {e}). Re-save the model, or load an intact copy."
        ) from None
    if len(zf.infolist()) > _ZIP_MAX_MEMBERS:
        zf.close()
        raise ValueError(f"Not allowed: {what} holds {len(zf.infolist())} zip members; refusing to load it.")
    return zf


def check_member(zf: zipfile.ZipFile, name: str, what: str, cap: int | None = None) -> zipfile.ZipInfo:
    """Refuses a missing member, one over ``cap`` bytes, or a decompression bomb (checks declared sizes only)."""
    try:
        info = zf.getinfo(name)
    except KeyError:
        raise ValueError(
            f"Cannot read {what}: the archive has no '{name}', so it is not a Keras model file "
            f"(members: {sorted(zf.namelist())[:10]})."
        ) from None
    if info.file_size > _ZIP_BOMB_FLOOR_BYTES and info.file_size > _ZIP_MAX_EXPANSION * max(info.compress_size, 1):
        raise ValueError(
            f"Not allowed: zip member '{name}' of {what} declares {info.file_size} bytes but stores only "
            f"{info.compress_size}; refusing to load a potential decompression bomb."
        )
    if cap is not None and info.file_size > cap:
        raise ValueError(
            f"Not allowed: zip member '{name}' of {what} declares {info.file_size} bytes "
            f"(more than the {cap}-byte limit for it)."
        )
    return info


def read_member(zf: zipfile.ZipFile, name: str, what: str, cap: int | None = None) -> bytes:
    """A member's bytes, read into memory (never extracted), size-checked before and after reading."""
    info = check_member(zf, name, what, cap)
    try:
        with zf.open(info, "r") as f:
            data = f.read(info.file_size + 1)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, RuntimeError) as e:
        raise ValueError(f"Cannot read '{name}' from {what}: the archive is truncated or corrupt ({e}).") from None
    except Exception as e:  # zlib.error and friends
        raise ValueError(f"Cannot read '{name}' from {what}: the archive is corrupt ({e}).") from None
    if len(data) != info.file_size:
        raise ValueError(
            f"Cannot read '{name}' from {what}: it holds {len(data)} bytes, not the declared {info.file_size}."
        )
    return data


def _parse_json(data: bytes, name: str, what: str) -> Any:
    try:
        return json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ValueError(f"Cannot read {what}: '{name}' is not valid JSON ({e}).") from None
    except RecursionError:
        raise ValueError(f"Not allowed: '{name}' of {what} nests its JSON too deeply.") from None


def _version_tuple(version: Any) -> tuple[int, ...] | None:
    if not isinstance(version, str):
        return None
    parts = []
    for piece in version.split(".")[:3]:
        digits = "".join(ch for ch in piece if ch.isdigit())
        if not digits:
            break
        parts.append(int(digits))
    return tuple(parts) or None


def _newer(version: Any) -> bool:
    v = _version_tuple(version)
    return v is not None and v > _version_tuple(KERAS_FORMAT_VERSION)


def check_version(metadata: Any, what: str) -> None:
    """Refuses files written in a format newer than the Keras 3 one Lamina reads."""
    version = metadata.get("keras_version") if isinstance(metadata, dict) else None
    parsed = _version_tuple(version)
    if parsed is not None and parsed[0] > 3:
        raise ValueError(
            f"Cannot load {what}: it was written by Keras {version}, a newer file format than the "
            f"Keras 3 format Lamina reads (up to {KERAS_FORMAT_VERSION}). Save it again with Keras 3, "
            "or upgrade Lamina."
        )


# ---------------------------------------------------------------------------- load
def model_from_config_dict(
    config: Any, custom_objects: dict | None, compile: bool, safe_mode: bool, what: str, version: str | None = None
) -> Any:
    """Rebuilds the model from ``config.json``'s dict, naming the failing object on error."""
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(
            f"Cannot load {what}: config.json is not a Keras object config "
            "(expected a dict with 'class_name' and 'config')."
        )
    config = dict(config)
    if not compile:
        config["compile_config"] = None
    scope = getattr(serialization, "SafeModeScope", None)
    cm = scope(safe_mode) if scope is not None else contextlib.nullcontext()
    try:
        if tf_keras_compat.is_tf_keras_version(version):
            config = tf_keras_compat.convert_config(config)
        with cm:
            model = serialization.deserialize_keras_object(config, custom_objects=custom_objects, safe_mode=safe_mode)
    except (TypeError, ValueError) as e:
        hint = f" (the file says it was written by Keras {version})" if _newer(version) else ""
        root = e
        while root.__cause__ is not None and isinstance(root.__cause__, (TypeError, ValueError)):
            root = root.__cause__
        detail = f"{root}\n\nDetails: {e}" if root is not e else str(e)
        raise type(e)(f"Cannot rebuild the model from the config of {what}{hint}: {detail}") from e
    return model


def load_model(filepath: Any, custom_objects: dict | None = None, compile: bool = True, safe_mode: bool = True) -> Any:
    """Loads a ``.keras`` zip (path or binary file object): architecture, weights, compile state, optimizer."""
    what = repr(os.fspath(filepath)) if not isinstance(filepath, io.IOBase) else "the file object"
    with open_archive(filepath, what) as zf:
        metadata = {}
        if METADATA_FILENAME in zf.namelist():
            metadata = _parse_json(read_member(zf, METADATA_FILENAME, what, _MAX_JSON_BYTES), METADATA_FILENAME, what)
            check_version(metadata, what)
        config = _parse_json(read_member(zf, CONFIG_FILENAME, what, _MAX_JSON_BYTES), CONFIG_FILENAME, what)
        names = zf.namelist()
        if WEIGHTS_FILENAME not in names:
            if _NPZ_WEIGHTS_FILENAME in names:
                raise ValueError(
                    f"Cannot load {what}: its weights are in the npz format "
                    "(saved with weights_format='npz'), which Lamina does not read; save with the "
                    "default h5 weights format."
                )
            raise ValueError(f"Cannot load {what}: the archive has no '{WEIGHTS_FILENAME}'.")
        check_member(zf, WEIGHTS_FILENAME, what)  # refuse a bomb before building anything
        model = model_from_config_dict(
            config,
            custom_objects,
            compile,
            safe_mode,
            what,
            metadata.get("keras_version") if isinstance(metadata, dict) else None,
        )
        weights = read_member(zf, WEIGHTS_FILENAME, what)
        with h5_reading.open_h5_for_read(weights, f"the weights inside {what}") as f:
            weights_h5.load_state(model, f, source=what, load_optimizer=compile)
        assets.load_assets_from_zip(model, zf, what, read_member)
    return model


def load_model_from_dir(
    dirpath: Any, custom_objects: dict | None = None, compile: bool = True, safe_mode: bool = True
) -> Any:
    """Loads the unzipped variant (a folder with config.json and model.weights.h5)."""
    dirpath = os.fspath(dirpath)
    what = repr(dirpath)
    metadata: Any = {}
    meta_path = os.path.join(dirpath, METADATA_FILENAME)
    if os.path.exists(meta_path):
        with open(meta_path, "rb") as f:
            metadata = _parse_json(f.read(_MAX_JSON_BYTES + 1), METADATA_FILENAME, what)
        check_version(metadata, what)
    with open(os.path.join(dirpath, CONFIG_FILENAME), "rb") as f:
        data = f.read(_MAX_JSON_BYTES + 1)
    if len(data) > _MAX_JSON_BYTES:
        raise ValueError(f"Not allowed: config.json of {what} is larger than {_MAX_JSON_BYTES} bytes.")
    config = _parse_json(data, CONFIG_FILENAME, what)
    model = model_from_config_dict(
        config,
        custom_objects,
        compile,
        safe_mode,
        what,
        metadata.get("keras_version") if isinstance(metadata, dict) else None,
    )
    with h5_reading.open_h5_for_read(os.path.join(dirpath, WEIGHTS_FILENAME), f"the weights in {what}") as f:
        weights_h5.load_state(model, f, source=what, load_optimizer=compile)
    assets.load_assets_from_dir(model, dirpath)
    return model


def read_weights_bytes(filepath: Any) -> bytes:
    """The ``model.weights.h5`` member of a ``.keras`` file (for ``model.load_weights("m.keras")``)."""
    what = repr(os.fspath(filepath))
    with open_archive(filepath, what) as zf:
        return read_member(zf, WEIGHTS_FILENAME, what)
