"""Helpers for the saving tests: the real Keras 3 (torch backend), file dumps, predictions."""

from __future__ import annotations

import io
import os
import zipfile

os.environ.setdefault("KERAS_BACKEND", "torch")

from typing import Any  # noqa: E402

import h5py  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402


def keras():
    import keras as k

    return k


def h5_tree(source: Any) -> dict[str, tuple]:
    """``{dataset path: shape}`` of an h5 file, a ``.keras`` zip's weights, or bytes."""
    if isinstance(source, (str, os.PathLike)) and str(source).endswith(".keras"):
        with zipfile.ZipFile(source) as zf:
            source = io.BytesIO(zf.read("model.weights.h5"))
    out: dict[str, tuple] = {}
    with h5py.File(source, "r") as f:
        f.visititems(
            lambda name, obj: out.__setitem__(name, tuple(obj.shape)) if isinstance(obj, h5py.Dataset) else None
        )
    return out


def h5_group_names(source: Any) -> dict[str, Any]:
    """``{group path: attrs["name"]}`` for every ``vars`` group."""
    if isinstance(source, (str, os.PathLike)) and str(source).endswith(".keras"):
        with zipfile.ZipFile(source) as zf:
            source = io.BytesIO(zf.read("model.weights.h5"))
    out: dict[str, Any] = {}
    with h5py.File(source, "r") as f:

        def visit(name: str, obj: Any) -> None:
            if isinstance(obj, h5py.Group) and name.split("/")[-1] == "vars":
                out[name] = obj.attrs.get("name")

        f.visititems(visit)
    return out


def lamina_predict(model: Any, x: Any) -> np.ndarray:
    with torch.no_grad():
        out = model(x)
    if isinstance(out, (list, tuple)):
        return [o.detach().cpu().numpy() for o in out]
    return out.detach().cpu().numpy()


def keras_predict(model: Any, x: Any) -> np.ndarray:
    out = model(x, training=False)
    if isinstance(out, (list, tuple)):
        return [np.asarray(o.detach().cpu().numpy()) for o in out]
    return np.asarray(out.detach().cpu().numpy())
