"""Reads the Keras reference outputs of tests/fixtures/make_dataset_utils.py and compares datasets with them."""

import json
import os

import numpy as np
import torch

from tests.fixtures import make_dataset_utils as maker

HERE = maker.HERE
REFS = json.load(open(os.path.join(HERE, "references.json")))
ARRAYS = np.load(os.path.join(HERE, "references.npz"))


def ref_batches(name: str) -> list[list]:
    """Keras's batches of a case: per batch, a list of components (arrays, or lists of strings)."""
    entry = REFS[name]
    out = []
    for b in range(entry["num_batches"]):
        parts = []
        for c in range(entry["components"]):
            key = f"{b}_{c}"
            if key in entry.get("strings", {}):
                parts.append(entry["strings"][key])
            else:
                parts.append(ARRAYS[f"{name}/{b}/{c}"])
        out.append(parts)
    return out


def our_batches(ds) -> list[list]:
    out = []
    for batch in ds:
        parts = batch if isinstance(batch, tuple) else (batch,)
        out.append([p.numpy() if isinstance(p, torch.Tensor) else list(np.asarray(p).reshape(-1)) for p in parts])
    return out


def relative(paths, directory) -> list[str]:
    return [os.path.relpath(p, directory) for p in paths]


def torch_dtype_name(dtype) -> str:
    return str(dtype).replace("torch.", "")
