"""``save_model`` / ``load_model`` / ``save_weights`` / ``load_weights``: pick the format from the path.

* ``.keras``: the Keras 3 zip (config, metadata, weights and optimizer state);
* ``.weights.h5``: Keras 3's weights file;
* ``.h5`` / ``.hdf5``: the legacy (tf.keras 2) HDF5 format, read and written;
* a folder with ``config.json``: the unzipped Keras 3 format.

Every write is atomic (see :func:`lamina.backend.atomic_write`).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import struct
import sys
import warnings
import zipfile
import zlib
from collections.abc import Iterator
from typing import Any

from lamina.backend.atomic import atomic_write
from lamina.saving import h5_reading, keras_format, legacy_h5, weights_h5
from lamina.serialization import deserialize_keras_object, serialize_keras_object

_LEGACY_SUFFIXES = (".h5", ".hdf5")


def _ask_to_overwrite(filepath: str) -> bool:
    if not sys.stdin or not sys.stdin.isatty():
        warnings.warn(f"Not overwriting {filepath!r}: it exists and overwrite=False.", stacklevel=4)
        return False
    answer = input(f"[WARNING] {filepath} already exists - overwrite? [y/n] ").strip().lower()
    while answer not in ("y", "n"):
        answer = input('Enter "y" (overwrite) or "n" (cancel).').strip().lower()
    return answer == "y"


def _fspath(filepath: Any) -> str:
    """``filepath`` as a string path; anything that is not a path names the argument."""
    try:
        return os.fspath(filepath)
    except TypeError:
        raise TypeError(
            "`filepath` must be a string or a path-like object (pathlib.Path). "
            f"Received: filepath={filepath!r} (of type {type(filepath).__name__})"
        ) from None


# What a damaged or hostile file can make the readers underneath raise (zipfile, h5py, json, the config
# walkers): reported as a ValueError naming the file, never as the internal type.
_DAMAGE_ERRORS = (
    KeyError,
    IndexError,
    AttributeError,
    RuntimeError,  # RecursionError included
    OverflowError,
    EOFError,
    zipfile.BadZipFile,
    zlib.error,
    struct.error,
    OSError,
)


@contextlib.contextmanager
def _reading(what: str) -> Iterator[None]:
    """Turns damage found while reading ``what`` into one ``ValueError`` that names the file."""
    try:
        yield
    except FileNotFoundError:
        raise
    except (ValueError, TypeError) as e:
        if what.strip("'\"") in str(e) or what in str(e):
            raise
        # a reader deep inside (an h5 group, a layer's config) did not know the file's name: add it
        cls = TypeError if isinstance(e, TypeError) else ValueError
        raise cls(f"Cannot load {what}: {e}") from e
    except _DAMAGE_ERRORS as e:
        if isinstance(e, RecursionError):
            detail = "it nests its data too deeply"
        else:
            detail = f"{type(e).__name__}: {e}"[:300]
        raise ValueError(f"Cannot load {what}: the file is damaged or is not a file Keras wrote ({detail}).") from e


def _check_custom_objects(custom_objects: Any) -> None:
    if custom_objects is not None and not isinstance(custom_objects, dict):
        raise TypeError(
            "`custom_objects` must be a dict mapping names to classes or functions. "
            f"Received: custom_objects={custom_objects!r} (of type {type(custom_objects).__name__})"
        )


def save_model(model: Any, filepath: Any, overwrite: bool = True, zipped: bool | None = None, **kwargs: Any) -> None:
    """Saves a model as a ``.keras`` file (or legacy ``.h5``, or an unzipped folder with ``zipped=False``).

    Args:
        model: the model to save.
        filepath: ``str`` / ``pathlib.Path`` ending in ``.keras`` (or ``.h5``), or a binary file object.
        overwrite: whether to replace an existing file (otherwise ask).
        zipped: ``False`` writes a folder instead of the zip.
        include_optimizer: keyword; whether the optimizer state is saved (default True).

    Example:
        >>> import os, tempfile, numpy as np, lamina
        >>> model = lamina.Sequential([lamina.Input((3,)), lamina.layers.Dense(2)])
        >>> path = os.path.join(tempfile.mkdtemp(), "model.keras")
        >>> model.save(path)
        >>> restored = lamina.models.load_model(path)
        >>> x = np.ones((1, 3), "float32")
        >>> bool((restored(x) == model(x)).all())
        True
    """
    include_optimizer = kwargs.pop("include_optimizer", True)
    save_format = kwargs.pop("save_format", None)
    if save_format and not str(filepath).endswith((".keras", *_LEGACY_SUFFIXES)):
        raise ValueError(
            "The `save_format` argument is deprecated in Keras 3. Please remove this argument and pass "
            f"a file path with either `.keras` or `.h5` extension.Received: save_format={save_format}"
        )
    if kwargs:
        raise ValueError(f"The following argument(s) are not supported: {list(kwargs.keys())}")
    if isinstance(filepath, io.IOBase):
        keras_format.save_model(model, filepath, include_optimizer)
        return
    path = _fspath(filepath)
    if zipped is None:
        zipped = True
    if os.path.exists(path) and not overwrite and not _ask_to_overwrite(path):
        return
    if not zipped:
        if path.endswith(".keras"):
            raise ValueError(
                "When using `zipped=False`, the `filepath` argument should not end in `.keras`. "
                f"Received: filepath={path}"
            )
        keras_format.save_model_to_dir(model, path, include_optimizer)
        return
    if path.endswith(".keras"):
        keras_format.save_model(model, path, include_optimizer)
        return
    if path.endswith(_LEGACY_SUFFIXES):
        legacy_h5.save_model_to_hdf5(model, path, include_optimizer)
        return
    raise ValueError(
        "Invalid filepath extension for saving. Please add either a `.keras` extension for the native "
        "Keras format (recommended) or a `.h5` extension. Use `model.export(filepath)` to export for "
        f"inference (ONNX, torch.export). Received: filepath={path}."
    )


def load_model(filepath: Any, custom_objects: dict | None = None, compile: bool = True, safe_mode: bool = True) -> Any:
    """Loads a model saved by ``model.save()``: Lamina's, Keras 3's (any backend) or tf.keras 2's.

    tf.keras 2 files (``.h5`` and ``.keras``) come back compiled with their optimizer state, as
    Keras 3 files do: their Keras-2-only configs and optimizer-state layout are converted on the
    way in (see ``lamina.saving.tf_keras_compat``).

    Args:
        filepath: path to a ``.keras`` file, a legacy ``.h5`` file or an unzipped model folder; or a
            binary file object holding a ``.keras`` zip.
        custom_objects: ``{"Name": class_or_function}`` for custom layers, losses, ... not registered
            with ``@register_keras_serializable``.
        compile: whether to compile the model from the saved compile config and restore the optimizer.
        safe_mode: refuse to deserialize Python bytecode (``Lambda`` layers with lambdas). Set it to
            ``False`` only for files you trust.

    Returns:
        The model, compiled if it was saved compiled and ``compile=True``.

    Raises:
        ValueError: for a truncated or corrupt file, a file of a newer format, or weights that do not fit.
        TypeError: for a class that cannot be found (register it or pass ``custom_objects``).
    """
    _check_custom_objects(custom_objects)
    if isinstance(filepath, io.IOBase):
        with _reading("the file object"):
            return keras_format.load_model(filepath, custom_objects, compile, safe_mode)
    path = _fspath(filepath)
    with _reading(repr(path)):
        return _load_model_from_path(path, custom_objects, compile, safe_mode)


def _load_model_from_path(path: str, custom_objects: Any, compile: bool, safe_mode: bool) -> Any:
    if os.path.isdir(path):
        if os.path.exists(os.path.join(path, keras_format.CONFIG_FILENAME)):
            return keras_format.load_model_from_dir(path, custom_objects, compile, safe_mode)
        raise ValueError(
            f"File format not supported: {path!r} is a folder without config.json. Received: filepath={path!r}"
        )
    if not os.path.exists(path):
        raise ValueError(
            f"File not found: filepath={path}. Please ensure the file is an accessible `.keras` zip file."
            if path.endswith(".keras")
            else f"File not found: filepath={path}."
        )
    if path.endswith(".keras") or zipfile.is_zipfile(path):
        return keras_format.load_model(path, custom_objects, compile, safe_mode)
    if path.endswith(_LEGACY_SUFFIXES):
        return legacy_h5.load_model_from_hdf5(path, custom_objects, compile, safe_mode)
    raise ValueError(
        f"File format not supported: filepath={path}. Lamina reads Keras 3 `.keras` files and legacy "
        "H5 files (`.h5` extension); TensorFlow SavedModel folders are not supported."
    )


def save_weights(model: Any, filepath: Any, overwrite: bool = True, max_shard_size: Any = None, **kwargs: Any) -> None:
    """Saves all weights (and optimizer state) to a Keras 3 ``.weights.h5`` file, atomically."""
    path = _fspath(filepath)
    if max_shard_size is not None:
        raise NotImplementedError(
            "Sharded weight files (max_shard_size) are not supported by Lamina yet; save a single `.weights.h5` file."
        )
    if not path.endswith(".weights.h5"):
        raise ValueError(f"The filename must end in `.weights.h5`. Received: filepath={path}")
    objects_to_skip = kwargs.pop("objects_to_skip", None)
    if kwargs:
        raise ValueError(f"Invalid keyword arguments: {kwargs}")
    if not getattr(model, "built", True):
        raise ValueError(
            "You are saving a model that has not yet been built. Try building the model first by "
            "calling it on some data or by using `build()`."
        )
    if os.path.exists(path) and not overwrite and not _ask_to_overwrite(path):
        return
    with atomic_write(path) as tmp:
        weights_h5.save_weights_to_file(model, tmp, objects_to_skip=objects_to_skip)


def load_weights(model: Any, filepath: Any, skip_mismatch: bool = False, **kwargs: Any) -> None:
    """Loads weights from a ``.weights.h5``, ``.keras`` or legacy ``.h5`` file into a built model.

    Every missing, extra or wrongly shaped weight is reported in one ``ValueError`` and
    nothing is changed, unless ``skip_mismatch=True`` (then those are skipped with a warning).
    """
    path = _fspath(filepath)
    by_name = kwargs.pop("by_name", None)
    objects_to_skip = kwargs.pop("objects_to_skip", None)
    if kwargs:
        raise ValueError(f"Invalid keyword arguments: {kwargs}")
    if not getattr(model, "built", True):
        raise ValueError(
            "You are loading weights into a model that has not yet been built. Try building the model "
            "first by calling it on some data or by using `build()`."
        )
    if not os.path.exists(path):
        raise ValueError(f"File not found: filepath={path}.")
    with _reading(repr(path)):
        _load_weights_from_path(model, path, skip_mismatch, by_name, objects_to_skip)


def _load_weights_from_path(model: Any, path: str, skip_mismatch: bool, by_name: Any, objects_to_skip: Any) -> None:
    what = repr(path)
    if path.endswith(".keras"):
        if by_name is not None:
            raise ValueError(f"`by_name` only supports loading legacy '.h5' or '.hdf5' files. Received: {path}")
        data = keras_format.read_weights_bytes(path)
        with h5_reading.open_h5_for_read(data, f"the weights inside {what}") as f:
            weights_h5.load_state(
                model,
                f,
                source=what,
                skip_mismatch=skip_mismatch,
                objects_to_skip=objects_to_skip,
                load_optimizer=_has_optimizer(model),
            )
        return
    if not path.endswith(_LEGACY_SUFFIXES):
        raise ValueError(
            f"File format not supported: filepath={path}. Lamina reads `.keras` files, `.weights.h5` "
            "files and legacy H5 files (`.h5` extension)."
        )
    with h5_reading.open_h5_for_read(path, what) as f:
        if weights_h5.is_legacy_h5(f):
            legacy_h5.load_weights(model, f, skip_mismatch=skip_mismatch, by_name=bool(by_name), source=what)
            return
        if by_name:
            raise ValueError(f"`by_name` only supports loading legacy '.h5' or '.hdf5' files. Received: {path}")
        weights_h5.load_state(
            model,
            f,
            source=what,
            skip_mismatch=skip_mismatch,
            objects_to_skip=objects_to_skip,
            load_optimizer=_has_optimizer(model),
        )


def _has_optimizer(model: Any) -> bool:
    return weights_h5.is_optimizer(getattr(model, "optimizer", None))


def model_to_json(model: Any, **kwargs: Any) -> str:
    return json.dumps(serialize_keras_object(model), **kwargs)


def model_from_json(json_string: str, custom_objects: dict | None = None) -> Any:
    """Rebuilds a model (fresh weights) from ``model.to_json()``'s string.

    Example:
        >>> import lamina
        >>> model = lamina.Sequential([lamina.Input((3,)), lamina.layers.Dense(2, name="out")])
        >>> clone = lamina.models.model_from_json(model.to_json())
        >>> [layer.name for layer in clone.layers]
        ['out']
    """
    try:
        config = json.loads(json_string)
    except json.JSONDecodeError as e:
        raise ValueError(f"model_from_json expects a JSON string from `model.to_json()`: {e}") from None
    return deserialize_keras_object(config, custom_objects=custom_objects)
