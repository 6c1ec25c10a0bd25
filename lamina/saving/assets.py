"""The ``assets/`` part of a ``.keras`` file: files that objects write themselves (vocabularies).

Keras 3 gives every saveable object with ``save_assets(dir_path)`` a folder named by its path in
the weights walk (``assets/layers/text_vectorization/``, ``.../_lookup_layer/``) and zips whatever
it writes there, after ``model.weights.h5``. On load, an object with ``load_assets(dir_path)``
gets its folder back (``None`` if the file has none), after its variables are loaded; when the
archive has no assets at all, Keras calls no ``load_assets``, and neither does Lamina.

Reading stays defensive: only members under ``assets/`` whose every path component is a plain
name are written, one at a time through the size-checked reader, into a private temporary
folder that is removed afterwards.
"""

from __future__ import annotations

import os
import re
import tempfile
import zipfile
from typing import Any

from lamina.backend.atomic import atomic_write
from lamina.saving import weights_h5

ASSETS_DIRNAME = "assets"
_SAFE_COMPONENT = re.compile(r"^[A-Za-z0-9_.\-]+$")


def _asset_nodes(model: Any, method: str) -> list[weights_h5.Node]:
    return [n for n in weights_h5.walk(model) if n.kind != "optimizer" and callable(getattr(n.obj, method, None))]


def _save_into(model: Any, folder: str) -> bool:
    """Runs every ``save_assets`` into ``folder/<path>``; True if any object has assets to save."""
    nodes = _asset_nodes(model, "save_assets")
    for node in nodes:
        target = os.path.join(folder, *node.path.split("/")) if node.path else folder
        os.makedirs(target, exist_ok=True)
        node.obj.save_assets(target)
    return bool(nodes)


def write_assets_to_zip(model: Any, zf: zipfile.ZipFile) -> None:
    """Adds ``assets/<path>/<file>`` members for every object that saves assets (stored, as Keras)."""
    with tempfile.TemporaryDirectory(prefix="lamina-assets-") as tmp:
        if not _save_into(model, tmp):
            return
        for root, dirs, files in os.walk(tmp):
            dirs.sort()
            for name in sorted(files):
                full = os.path.join(root, name)
                rel = os.path.relpath(full, tmp).replace(os.sep, "/")
                zf.write(full, f"{ASSETS_DIRNAME}/{rel}")


def write_assets_to_dir(model: Any, dirpath: str) -> None:
    """The unzipped format: the same files under ``dirpath/assets``."""
    folder = os.path.join(dirpath, ASSETS_DIRNAME)
    with tempfile.TemporaryDirectory(prefix="lamina-assets-") as tmp:
        if not _save_into(model, tmp):
            return
        for root, dirs, files in os.walk(tmp):
            dirs.sort()
            for name in sorted(files):
                full = os.path.join(root, name)
                rel = os.path.relpath(full, tmp)
                dest = os.path.join(folder, rel)
                os.makedirs(os.path.dirname(dest), exist_ok=True)
                with atomic_write(dest) as out, open(full, "rb") as src, open(out, "wb") as f:
                    f.write(src.read())


def _load_from(model: Any, root: str) -> None:
    for node in _asset_nodes(model, "load_assets"):
        folder = os.path.join(root, *node.path.split("/")) if node.path else root
        node.obj.load_assets(folder if os.path.isdir(folder) else None)


def load_assets_from_zip(model: Any, zf: zipfile.ZipFile, what: str, read_member: Any) -> None:
    """Hands each object with ``load_assets`` its folder from the archive's ``assets/`` members."""
    prefix = f"{ASSETS_DIRNAME}/"
    members = [n for n in zf.namelist() if n.startswith(prefix) and not n.endswith("/")]
    if not members or not _asset_nodes(model, "load_assets"):
        return  # nothing reads assets: the members are never touched
    with tempfile.TemporaryDirectory(prefix="lamina-assets-") as tmp:
        for name in members:
            parts = name[len(prefix) :].split("/")
            if any(p in ("", ".", "..") or not _SAFE_COMPONENT.match(p) for p in parts):
                raise ValueError(
                    f"Not allowed: {what} holds the asset '{name}', whose path is not a plain relative path; "
                    "refusing to load it."
                )
            dest = os.path.join(tmp, *parts)
            os.makedirs(os.path.dirname(dest), exist_ok=True)
            with open(dest, "wb") as f:
                f.write(read_member(zf, name, what))
        _load_from(model, tmp)


def load_assets_from_dir(model: Any, dirpath: str) -> None:
    """The unzipped format: ``dirpath/assets``, if the folder has one."""
    folder = os.path.join(dirpath, ASSETS_DIRNAME)
    if os.path.isdir(folder) and any(files for _, _, files in os.walk(folder)):
        _load_from(model, folder)
