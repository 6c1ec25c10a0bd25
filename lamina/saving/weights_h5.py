"""Keras 3's ``.weights.h5`` layout: where each layer's and the optimizer's variables live.

Keras 3 walks a model like this (``saving_lib._save_state``) and Lamina walks it the same
way, so the files are interchangeable:

* every object that owns variables gets a group ``<path>/vars`` holding datasets
  ``"0"``, ``"1"``, ... in the order of its own variables (trainable ones first, in
  creation order, then the non-trainable ones); layers and optimizers tag that group
  with ``attrs["name"]`` and create it even when they own no variable;
* the model's own variables are at ``vars``; a ``Sequential`` or functional model's
  layers come first, under ``layers/<snake_case class name>`` deduplicated per model
  (``layers/dense``, ``layers/dense_1``, ...), never under the layer's ``name``;
* then the other attributes, sorted by name with private ones (``_x``) last: a
  sub-layer stored as ``self.cell`` is at ``<path>/cell``, a list or dict of layers
  at ``<path>/<attr>/<class>``, nested lists at ``<path>/<attr>/container``; the
  compiled optimizer at ``optimizer/vars`` (``iterations``, ``learning_rate``, slots);
* an object reached a second time (shared layer) is stored once, at its first path.

tf.keras 2 writes the same layout for layers; its optimizer state (``iteration`` then the slots) is
matched by the optimizer (``Optimizer._match_saved_state``), and the compiled metrics' state it adds
under ``metrics/`` is not read (metrics start afresh after loading, as in Keras 3).

Reading never trusts the file: links, external or virtual datasets and datasets that
declare far more data than they store are refused; every mismatch (missing, extra or
wrongly shaped weight) is collected and reported in one error before anything changes.
"""

from __future__ import annotations

import io
import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn

from lamina.backend.naming import to_snake_case
from lamina.layers.layer import Layer
from lamina.models.model import Model
from lamina.models.sequential import Sequential
from lamina.saving.h5_reading import _h5py, _numeric_keys, read_dataset, safe_group


# ---------------------------------------------------------------------------- object kinds
def _layer_cls() -> type:
    return Layer


def _is_metric_or_loss(obj: Any) -> bool:
    mod = type(obj).__module__ or ""
    return mod.startswith(("lamina.metrics", "lamina.losses")) or bool(getattr(obj, "_is_metric", False))


def is_optimizer(obj: Any) -> bool:
    """True for a Lamina (or Keras-like) optimizer: it has ``variables`` and applies gradients."""
    if isinstance(obj, (nn.Module, type)) or obj is None:
        return False
    return (
        hasattr(obj, "get_config")
        and any(hasattr(obj, a) for a in ("apply_gradients", "apply"))
        and _safe_getattr(obj, "variables") is not None
    )


def _safe_getattr(obj: Any, name: str) -> Any:
    try:
        return getattr(obj, name)
    except Exception:  # noqa: BLE001 - properties of half-built objects may raise; Keras skips them too
        return None


def _is_saveable(obj: Any) -> bool:
    if isinstance(obj, _layer_cls()):
        return not _is_metric_or_loss(obj)
    if isinstance(obj, nn.Module):
        return True
    return is_optimizer(obj)


def _is_container(value: Any) -> bool:
    """Keras's saving walks into lists, tuples and dicts (subclasses included, such as tracked lists)."""
    return isinstance(value, (list, tuple, dict))


def _container_items(container: Any) -> list[Any]:
    """The items of a container in Keras's saving order: a dict's values as inserted, a sequence in order.
    (Not ``lamina.tree``'s order: the file paths Keras writes follow insertion order.)"""
    return list(container.values()) if isinstance(container, dict) else list(container)


def _has_saveable(container: Any, depth: int = 0) -> bool:
    if depth > 8:
        return False
    return any(
        _is_saveable(item) or (_is_container(item) and _has_saveable(item, depth + 1))
        for item in _container_items(container)
    )


_MODULE_INTERNALS: set[str] = set(nn.Module().__dict__)
# Lamina-internal containers that hold layers Keras does not walk (Sequential's stack with its InputLayer,
# a functional model's graph bookkeeping).
_INTERNAL_CONTAINERS = {
    "_seq",
    "_keys",
    "_inbound_nodes",
    "_operations",
    "_nodes",
    "_nodes_by_depth",
    "_input_layers",
    "_output_layers",
    "_inputs_list",
    "_outputs_list",
    "_layers_by_depth",
    "_graph_layers",
    "_plan",
}


def _name_key(name: str) -> str:
    """Private attributes are visited last, as in Keras."""
    return f"~{name}" if name.startswith("_") else name


def _graph_model_layers(model: Any) -> list[Any] | None:
    """The ``layers`` Keras walks first for Sequential (no InputLayer) and functional models (InputLayers too)."""
    if isinstance(model, Sequential):
        return list(model.layers)
    if type(model).__name__ == "Functional" or any(c.__name__ == "Functional" for c in type(model).__mro__):
        ops = _safe_getattr(model, "_operations")
        if isinstance(ops, (list, tuple)):
            return [op for op in ops if isinstance(op, _layer_cls())]
        layers = list(model.layers)
        inputs = [la for la in (_safe_getattr(model, "_input_layers") or []) if la not in layers]
        return inputs + layers
    return None


def _children(obj: Any) -> Iterator[tuple[str, Any]]:
    """``(attribute name, value)`` pairs Keras's ``_walk_saveable`` would visit, in its order."""
    layer_cls = _layer_cls()
    if isinstance(obj, layer_cls):
        graph_layers = _graph_model_layers(obj)
        if graph_layers is not None:
            yield "layers", graph_layers
    candidates: dict[str, Any] = {}
    d = obj.__dict__
    container_attrs = set()
    # a layer saving a child's state as its own variables (TorchModuleWrapper's module) names it here
    unsaved = set(getattr(obj, "_unsaved_children", ()))
    if isinstance(obj, nn.Module):
        for name, value in d.items():
            if name in _MODULE_INTERNALS or name in _INTERNAL_CONTAINERS or name.startswith("__") or name in unsaved:
                continue
            if _is_container(value):
                if _has_saveable(value):
                    candidates[name] = value
                    container_attrs.add(name)
            elif _is_saveable(value):
                candidates[name] = value
        prefixes = tuple(f"{a}__" for a in container_attrs)
        for name, module in obj._modules.items():
            if module is None or name in unsaved or (prefixes and name.startswith(prefixes)):
                continue
            candidates.setdefault(name, module)

        if isinstance(obj, Model):
            candidates["layers"] = list(obj.layers)
            opt = _safe_getattr(obj, "optimizer")
            if opt is not None and is_optimizer(opt):
                candidates["optimizer"] = opt
    else:  # optimizer: an inner optimizer (loss scaling) is a child
        for name, value in d.items():
            if not name.startswith("__") and is_optimizer(value):
                candidates[name] = value
    for name in sorted(candidates, key=_name_key):
        yield name, candidates[name]


@dataclass
class Node:
    """One saveable object met by the walk: where it lives in the file and what it is."""

    path: str
    obj: Any
    kind: str  # "layer", "optimizer" or "module"
    children: list[Node] = field(default_factory=list)

    @property
    def vars_path(self) -> str:
        return f"{self.path}/vars" if self.path else "vars"

    def describe(self) -> str:
        name = getattr(self.obj, "name", None)
        where = self.path or "<root>"
        if self.kind == "optimizer":
            return f"optimizer '{name}' ({type(self.obj).__name__}) at '{where}'"
        if self.kind == "module":
            return f"torch module {type(self.obj).__name__} at '{where}'"
        return f"layer '{name}' ({type(self.obj).__name__}) at '{where}'"


def _kind(obj: Any) -> str:
    if isinstance(obj, _layer_cls()):
        return "layer"
    if isinstance(obj, nn.Module):
        return "module"
    return "optimizer"


def walk(root: Any, objects_to_skip: Any = None) -> list[Node]:
    """Every saveable object under ``root`` with its Keras path, in Keras's visiting order."""
    visited: set[int] = {id(o) for o in (objects_to_skip or [])}
    out: list[Node] = []

    def visit(obj: Any, path: str) -> None:
        if id(obj) in visited:
            return
        visited.add(id(obj))
        out.append(Node(path, obj, _kind(obj)))
        for attr, child in _children(obj):
            child_path = f"{path}/{attr}" if path else attr
            if _is_saveable(child):
                visit(child, child_path)
            elif _is_container(child):
                visit_container(child, child_path, set())

    def visit_container(container: Any, path: str, seen: set[int]) -> None:
        if id(container) in seen:
            return
        seen.add(id(container))
        used: dict[str, int] = {}
        for item in _container_items(container):
            if _is_saveable(item):
                visit(item, f"{path}/{_unique(to_snake_case(type(item).__name__), used)}")
            elif _is_container(item):
                visit_container(item, f"{path}/{_unique('container', used)}", seen)

    visit(root, "")
    return out


def _unique(name: str, used: dict[str, int]) -> str:
    if name in used:
        used[name] += 1
        return f"{name}_{used[name]}"
    used[name] = 0
    return name


# ---------------------------------------------------------------------------- variables of one object
def own_variables(node: Node) -> list[Any]:
    obj = node.obj
    if node.kind == "layer":
        return list(obj._trainable_vars) + list(obj._non_trainable_vars)
    if node.kind == "optimizer":
        return list(obj.variables)
    params = [p for p in obj._parameters.values() if p is not None]
    buffers = [b for n, b in obj._buffers.items() if b is not None and n not in obj._non_persistent_buffers_set]
    return params + buffers


def _var_label(var: Any, index: int) -> str:
    path = getattr(var, "path", None) or getattr(var, "name", None)
    return f"'{path}'" if path else f"#{index}"


def _shape(var: Any) -> tuple[int, ...]:
    return tuple(int(d) for d in var.shape)


def to_numpy(value: Any) -> np.ndarray:
    if hasattr(value, "value") and isinstance(getattr(value, "value", None), torch.Tensor):
        value = value.value
    if isinstance(value, torch.Tensor):
        t = value.detach()
        if t.dtype == torch.bfloat16:
            t = t.float()
        return t.cpu().numpy()
    if hasattr(value, "numpy"):
        return np.asarray(value.numpy())
    return np.asarray(value)


def is_bfloat16(value: Any) -> bool:
    t = value.value if hasattr(value, "value") and isinstance(getattr(value, "value", None), torch.Tensor) else value
    return isinstance(t, torch.Tensor) and t.dtype == torch.bfloat16


def assign(var: Any, array: np.ndarray) -> None:
    if hasattr(var, "assign"):
        var.assign(array)
        return
    with torch.no_grad():
        var.copy_(torch.as_tensor(np.asarray(array)).to(dtype=var.dtype, device=var.device))


# ---------------------------------------------------------------------------- save
def save_state(root: Any, h5file: Any, objects_to_skip: Any = None, include_optimizer: bool = True) -> None:
    """Writes every variable under ``root`` into the open ``h5file`` in Keras's layout."""
    for node in walk(root, objects_to_skip):
        if node.kind == "optimizer" and not include_optimizer:
            continue
        obj = node.obj
        custom_save = getattr(obj, "save_own_variables", None) if node.kind == "layer" else None
        if custom_save is not None:
            store: dict[str, Any] = {}
            custom_save(store)
            entries = [(str(k), v) for k, v in store.items()]
        else:
            entries = [(str(i), v) for i, v in enumerate(own_variables(node))]
        name = getattr(obj, "name", None) if node.kind != "module" else None
        if not isinstance(name, str):
            name = None
        if name is None and not entries:
            continue
        group = h5file.require_group(node.path).create_group("vars") if node.path else h5file.create_group("vars")
        if name is not None:
            group.attrs["name"] = name
        for key, value in entries:
            ds = group.create_dataset(key, data=to_numpy(value))
            if is_bfloat16(value):
                ds.attrs["dtype"] = "bfloat16"


def save_weights_to_file(model: Any, path: str, objects_to_skip: Any = None) -> None:
    """Writes ``model``'s weights (and optimizer state) to the ``.weights.h5`` file at ``path``."""
    with _h5py().File(path, "w") as f:
        save_state(model, f, objects_to_skip=objects_to_skip)


def weights_to_bytes(model: Any, include_optimizer: bool = True) -> bytes:
    buf = io.BytesIO()
    with _h5py().File(buf, "w") as f:
        save_state(model, f, include_optimizer=include_optimizer)
    return buf.getvalue()


# ---------------------------------------------------------------------------- load
class _ReadStore:
    """The dict-like store a layer's own ``load_own_variables(store)`` reads from."""

    def __init__(self, group: Any, consumed: set[str]) -> None:
        self._group = group
        self._consumed = consumed

    def keys(self) -> list[str]:
        return _numeric_keys(self._group)

    def __len__(self) -> int:
        return len(self.keys())

    def __contains__(self, key: str) -> bool:
        return self._group is not None and key in self._group

    def __getitem__(self, key: str) -> np.ndarray:
        if self._group is None:
            raise KeyError(key)
        self._consumed.add(f"{self._group.name.lstrip('/')}/{key}")
        return read_dataset(self._group, key)


class WeightLoadingError(ValueError):
    """All the mismatches between a weights file and a model, reported at once."""


def load_state(
    root: Any,
    h5file: Any,
    source: str = "the weights file",
    skip_mismatch: bool = False,
    objects_to_skip: Any = None,
    load_optimizer: bool = True,
) -> None:
    """Loads the Keras-layout ``h5file`` into ``root``; checks everything, then assigns.

    Raises:
        ValueError: listing every layer / weight that is missing, extra or of the wrong
            shape (expected and found shapes); nothing is assigned in that case.
    """
    plan: list[tuple[Any, np.ndarray]] = []
    deferred: list[tuple[Any, _ReadStore]] = []
    errors: list[str] = []
    consumed: set[str] = set()
    optimizer_paths: list[str] = []
    finishers: list[Any] = []
    nodes = walk(root, objects_to_skip)
    for node in nodes:
        if node.kind == "optimizer":
            optimizer_paths.append(node.path)
            if not load_optimizer:
                continue
            after = _plan_optimizer(root, node, h5file, plan, errors, consumed)
            if after is not None:
                finishers.append(after)
            continue
        group = safe_group(h5file, node.vars_path)
        if node.kind == "layer" and hasattr(node.obj, "load_own_variables"):
            deferred.append((node.obj, _ReadStore(group, consumed)))
            consumed.update(f"{node.vars_path}/{k}" for k in _numeric_keys(group))  # the layer's loader reads them
            continue
        _plan_layer(node, group, plan, errors, consumed)
    tolerated = list(optimizer_paths)
    if objects_to_skip:  # the file may hold weights for the skipped objects: that is expected
        skip_ids = {id(o) for o in objects_to_skip}
        tolerated += [n.path for n in walk(root) if id(n.obj) in skip_ids]
    extra = _unconsumed(h5file, consumed, tolerated)
    if extra:
        listed = ", ".join(extra[:20]) + (f", ... ({len(extra)} in all)" if len(extra) > 20 else "")
        errors.append(f"the file has weights no layer of the model uses: {listed}.")
    if errors and not skip_mismatch:
        raise WeightLoadingError(_format_errors(root, source, errors))
    if errors:
        warnings.warn(_format_errors(root, source, errors, skipped=True), stacklevel=3)
    for var, array in plan:
        assign(var, array)
    for finish in finishers:
        finish()
    _run_custom_loaders(deferred, source, skip_mismatch)


def _run_custom_loaders(deferred: list, source: str, skip_mismatch: bool) -> None:
    """Layers with their own ``load_own_variables`` read their group last; errors name the layer."""
    for obj, store in deferred:
        try:
            obj.load_own_variables(store)
        except Exception as e:  # noqa: BLE001 - a custom loader's error gets the layer's name
            if not skip_mismatch:
                raise ValueError(
                    f"Layer '{getattr(obj, 'name', obj)}' ({type(obj).__name__}) could not load its "
                    f"weights from {source}: {e}"
                ) from e
            warnings.warn(f"Skipped layer '{getattr(obj, 'name', obj)}': {e}", stacklevel=4)


def _plan_layer(node: Node, group: Any, plan: list, errors: list, consumed: set) -> None:
    """Checks one object's weights in the file against its variables; plans the assignments."""
    variables = own_variables(node)
    keys = _numeric_keys(group)
    if len(keys) != len(variables):
        expected = ", ".join(f"{_var_label(v, i)} {_shape(v)}" for i, v in enumerate(variables)) or "none"
        found = ", ".join(f"{k} {tuple(group[k].shape)}" for k in keys if _is_dataset(group, k)) or "none"
        if group is None and variables:
            errors.append(
                f"{node.describe()}: the file has no weights for it "
                f"(group '{node.vars_path}' is missing); expected {len(variables)}: {expected}."
            )
        else:
            errors.append(
                f"{node.describe()}: the file has {len(keys)} weight(s) at '{node.vars_path}', "
                f"the layer has {len(variables)}. Expected: {expected}. Found: {found}."
            )
        for k in keys:
            consumed.add(f"{node.vars_path}/{k}")
        return
    for i, (var, key) in enumerate(zip(variables, keys, strict=True)):
        consumed.add(f"{node.vars_path}/{key}")
        try:
            array = read_dataset(group, key)
        except (KeyError, ValueError) as e:
            errors.append(f"{node.describe()}: weight {_var_label(var, i)}: {e}")
            continue
        if tuple(array.shape) != _shape(var):
            errors.append(
                f"{node.describe()}: weight {_var_label(var, i)} expects shape {_shape(var)}, "
                f"the file has shape {tuple(array.shape)} (at '{node.vars_path}/{key}')."
            )
            continue
        plan.append((var, array))


def _is_dataset(group: Any, key: str) -> bool:
    return group is not None and group.get(key, getclass=True) is _h5py().Dataset


def _plan_optimizer(root: Any, node: Node, h5file: Any, plan: list, errors: list, consumed: set) -> Any:
    """Plans the optimizer's state (Keras 3's layout or tf.keras 2's); returns what to run after assigning."""
    group = safe_group(h5file, node.vars_path)
    keys = _numeric_keys(group)
    for k in keys:
        consumed.add(f"{node.vars_path}/{k}")
    if not keys:
        return None
    opt = node.obj
    variables = list(opt.variables)
    if not getattr(opt, "built", True) and hasattr(opt, "build"):
        trainable = getattr(root, "trainable_variables", None)
        if trainable is not None:
            opt.build(list(trainable))
            variables = list(opt.variables)
    try:
        arrays = [read_dataset(group, k) for k in keys]
    except (KeyError, ValueError) as e:
        errors.append(f"{node.describe()}: {e}")
        return None
    matched = opt._match_saved_state(arrays) if hasattr(opt, "_match_saved_state") else None
    if matched is not None:
        pairs, from_tf_keras = matched
        plan.extend(pairs)
        return opt._after_tf_keras_state if from_tf_keras else None
    if len(keys) == len(variables):  # Keras 3's layout, shapes that do not fit: Keras's assign() refuses them
        for i, (var, array, key) in enumerate(zip(variables, arrays, keys, strict=True)):
            if tuple(np.shape(array)) != _shape(var):
                errors.append(
                    f"{node.describe()}: optimizer variable {_var_label(var, i)} expects shape {_shape(var)}, "
                    f"the file has shape {tuple(np.shape(array))} (at '{node.vars_path}/{key}')."
                )
        return None
    if len(keys) < len(variables) and _saved_before_first_step(group, keys, variables):
        # saved compiled but never trained (optimizer not built yet): its slots would be zeros anyway
        for var, array in zip(variables, arrays):
            plan.append((var, array))
        return None
    warnings.warn(
        f"Skipping variable loading for optimizer '{getattr(opt, 'name', '')}', because it has "
        f"{len(variables)} variables whereas the saved optimizer has {len(keys)} variables "
        "(in neither Keras 3's nor tf.keras 2's layout). Its state starts fresh.",
        stacklevel=4,
    )
    return None


def _saved_before_first_step(group: Any, keys: list[str], variables: list[Any]) -> bool:
    try:
        first = [read_dataset(group, k) for k in keys]
    except (KeyError, ValueError):
        return False
    if any(tuple(a.shape) != _shape(v) for a, v in zip(first, variables)):
        return False
    return first[0].shape == () and int(first[0]) == 0  # iterations == 0


def _unconsumed(h5file: Any, consumed: set[str], tolerated_paths: list[str]) -> list[str]:
    h5py = _h5py()
    found: list[str] = []
    # tf.keras 2 also saves its compiled metrics' state under metrics/; Keras 3 (and Lamina) restart
    # the metrics after loading, so it is not read.
    tolerated = tuple(f"{p}/" for p in tolerated_paths) + ("optimizer/", "metrics/")

    def visit(name: str, obj: Any) -> None:
        if isinstance(obj, h5py.Dataset) and name not in consumed and not name.startswith(tolerated):
            found.append(f"{name} {tuple(obj.shape)}")

    h5file.visititems(visit)
    return found


def _format_errors(root: Any, source: str, errors: list[str], skipped: bool = False) -> str:
    head = f"Cannot load {source} into {type(root).__name__} '{getattr(root, 'name', '')}': {len(errors)} problem(s):\n"
    body = "\n".join(f"  - {e}" for e in errors)
    tail = (
        "\nThe mismatched weights were skipped; the others were loaded."
        if skipped
        else "\nNo weight was changed. Make sure the model is built like the one that was saved "
        "(same layers, same input shape), or pass skip_mismatch=True to load only the weights that match."
    )
    return head + body + tail


def is_legacy_h5(h5file: Any) -> bool:
    """True for the tf.keras / Keras 2 layout (``layer_names`` attribute, ``model_weights`` group)."""
    return (
        "layer_names" in h5file.attrs
        or "model_weights" in h5file
        or any(re.match(r"layer_names\d+$", k) for k in h5file.attrs)
    )
