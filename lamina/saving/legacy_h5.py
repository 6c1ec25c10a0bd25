"""The legacy HDF5 format of tf.keras 2 (and of Keras 3's ``model.save("x.h5")``).

Layout: root attributes ``model_config`` (JSON), ``training_config`` (JSON),
``keras_version`` and ``backend``; group ``model_weights`` with attribute
``layer_names`` and, per layer, a group with attribute ``weight_names`` whose datasets
(``<layer>/<weight name>``) hold that layer's weights, trainable ones first;
``optimizer_weights`` with the optimizer's variables. Weights are matched to layers by
order (or by layer name with ``by_name=True``), as Keras does.
"""

from __future__ import annotations

import json
import os
import warnings
from typing import Any

import numpy as np

from lamina import metrics, tree
from lamina.backend.atomic import atomic_write
from lamina.saving import h5_reading, tf_keras_compat, weights_h5
from lamina.saving.keras_format import KERAS_FORMAT_VERSION, check_version, model_from_config_dict
from lamina.serialization import deserialize_keras_object, serialize_keras_object

_HDF5_OBJECT_HEADER_LIMIT = 64512


# ---------------------------------------------------------------------------- attributes
def load_attributes(group: Any, name: str) -> list[str]:
    """A list attribute, also when Keras split it into ``name0``, ``name1``, ... chunks."""

    def decode(values: Any) -> list[str]:
        return [v.decode("utf8") if hasattr(v, "decode") else str(v) for v in np.atleast_1d(values)]

    if name in group.attrs:
        return decode(group.attrs[name])
    data: list[str] = []
    chunk = 0
    while f"{name}{chunk}" in group.attrs:
        data.extend(decode(group.attrs[f"{name}{chunk}"]))
        chunk += 1
    return data


def save_attributes(group: Any, name: str, data: list[bytes]) -> None:
    array = np.asarray(data) if data else np.asarray([], dtype="S1")
    chunks = 1
    parts = np.array_split(array, chunks)
    while any(p.nbytes > _HDF5_OBJECT_HEADER_LIMIT for p in parts):
        chunks += 1
        parts = np.array_split(array, chunks)
    if chunks > 1:
        for i, part in enumerate(parts):
            group.attrs[f"{name}{i}"] = part
    else:
        group.attrs[name] = array


def _attr_text(value: Any) -> str | None:
    if value is None:
        return None
    if hasattr(value, "decode"):
        return value.decode("utf-8")
    return str(value)


# ---------------------------------------------------------------------------- weights
def _legacy_weights(layer: Any) -> list[Any]:
    return list(layer.trainable_weights) + list(layer.non_trainable_weights)


def _read_subset(group: Any) -> list[tuple[str, np.ndarray]]:
    names = load_attributes(group, "weight_names")
    return [(n, h5_reading.read_dataset(group, n)) for n in names]


def _check_and_plan(
    label: str, variables: list[Any], values: list[tuple[str, np.ndarray]], plan: list, errors: list[str]
) -> None:
    if len(values) != len(variables):
        expected = ", ".join(f"{getattr(v, 'path', i)} {tuple(v.shape)}" for i, v in enumerate(variables)) or "none"
        found = ", ".join(f"{n} {a.shape}" for n, a in values) or "none"
        errors.append(
            f"{label}: expects {len(variables)} weight(s), the file has {len(values)}. "
            f"Expected: {expected}. Found: {found}."
        )
        return
    for var, (name, array) in zip(variables, values):
        if tuple(var.shape) != tuple(array.shape):
            errors.append(
                f"{label}: weight '{getattr(var, 'path', name)}' expects shape {tuple(var.shape)}, "
                f"the file has shape {tuple(array.shape)} (saved as '{name}')."
            )
            continue
        plan.append((var, array))


def load_weights_from_hdf5_group(
    group: Any, model: Any, skip_mismatch: bool = False, by_name: bool = False, source: str = "the legacy h5 file"
) -> None:
    """Loads a ``model_weights`` group (by layer order, or by layer name), checking everything first."""
    plan: list[tuple[Any, np.ndarray]] = []
    errors: list[str] = []
    layer_names = load_attributes(group, "layer_names")
    saved: dict[str, list[tuple[str, np.ndarray]]] = {}
    for name in layer_names:
        layer_group = h5_reading.safe_group(group, name)
        if layer_group is None:
            errors.append(f"layer_names lists '{name}' but the file has no group for it.")
            continue
        saved[name] = _read_subset(layer_group)
    if by_name:
        index: dict[str, list[Any]] = {}
        for layer in model.layers:
            index.setdefault(layer.name, []).append(layer)
        for k, name in enumerate(layer_names):
            for layer in index.get(name, []):
                _check_and_plan(
                    f"layer #{k} '{name}' ({type(layer).__name__})",
                    _legacy_weights(layer),
                    saved.get(name, []),
                    plan,
                    errors,
                )
    else:
        layers = [la for la in model.layers if _legacy_weights(la)]
        names = [n for n in layer_names if saved.get(n)]
        if len(names) != len(layers):
            errors.append(
                f"layer count mismatch: the model has {len(layers)} layers with weights "
                f"({[la.name for la in layers]}), the file has {len(names)} ({names})."
            )
        else:
            for k, (layer, name) in enumerate(zip(layers, names)):
                label = f"layer #{k} '{layer.name}' ({type(layer).__name__}, '{name}' in the file)"
                _check_and_plan(label, _legacy_weights(layer), saved[name], plan, errors)
    top = h5_reading.safe_group(group, "top_level_model_weights") if "top_level_model_weights" in group else None
    if top is not None:
        own = list(model._trainable_vars) + list(model._non_trainable_vars)
        _check_and_plan(f"the top-level weights of model '{model.name}'", own, _read_subset(top), plan, errors)
    if errors:
        message = (
            f"Cannot load {source} into {type(model).__name__} '{model.name}': {len(errors)} problem(s):\n"
            + "\n".join(f"  - {e}" for e in errors)
        )
        if not skip_mismatch:
            raise weights_h5.WeightLoadingError(
                message + "\nNo weight was changed. Pass skip_mismatch=True to load only the weights that match."
            )
        warnings.warn(message + "\nThe mismatched weights were skipped.", stacklevel=3)
    for var, array in plan:
        weights_h5.assign(var, array)


def load_weights(
    model: Any, h5file: Any, skip_mismatch: bool = False, by_name: bool = False, source: str = "the legacy h5 file"
) -> None:
    group = h5file
    if "layer_names" not in h5file.attrs and "model_weights" in h5file:
        group = h5_reading.safe_group(h5file, "model_weights")
    load_weights_from_hdf5_group(group, model, skip_mismatch=skip_mismatch, by_name=by_name, source=source)


def _json_attr(raw: str, attribute: str, what: str) -> Any:
    try:
        return json.loads(raw)
    except (json.JSONDecodeError, RecursionError) as e:
        raise ValueError(f"Cannot load {what}: its attribute {attribute!r} is not valid JSON ({e}).") from None


# ---------------------------------------------------------------------------- whole model
def load_model_from_hdf5(
    filepath: Any, custom_objects: dict | None = None, compile: bool = True, safe_mode: bool = True
) -> Any:
    """Loads a whole model from a legacy ``.h5`` file: architecture, weights, compile state, optimizer."""
    what = repr(os.fspath(filepath)) if isinstance(filepath, (str, os.PathLike)) else "the h5 file"
    with h5_reading.open_h5_for_read(filepath, what) as f:
        raw = _attr_text(f.attrs.get("model_config"))
        if raw is None:
            if "vars" in f or "layers" in f:
                raise ValueError(
                    f"Cannot load {what} as a model: it is a weights-only file "
                    "(Keras 3 .weights.h5 layout). Build the model, then call model.load_weights()."
                )
            raise ValueError(f"Cannot load {what}: no model config found in the file (attribute 'model_config').")
        config = _json_attr(raw, "model_config", what)
        version = _attr_text(f.attrs.get("keras_version"))
        check_version({"keras_version": version}, what)  # as for a .keras file claiming a newer format
        try:
            config = tf_keras_compat.convert_config(config)
        except ValueError as e:
            raise ValueError(f"Cannot load {what}: {e}") from None
        model = model_from_config_dict(config, custom_objects, False, safe_mode, what, version)
        if "model_weights" not in f:
            raise ValueError(f"Cannot load {what}: it has no 'model_weights' group.")
        load_weights_from_hdf5_group(h5_reading.safe_group(f, "model_weights"), model, source=what)
        training = _attr_text(f.attrs.get("training_config"))
        if not compile:
            return model
        if training is None:
            warnings.warn(
                "No training configuration found in the save file, so the model was *not* compiled. "
                "Compile it manually.",
                stacklevel=3,
            )
            return model
        training = _json_attr(training, "training_config", what)
        if not isinstance(training, dict):
            raise ValueError(
                f"Cannot load {what}: its attribute 'training_config' must hold a JSON object. "
                f"Received: training_config={training!r}"[:300]
            )
        _compile_from_training_config(model, training, custom_objects)
        if "optimizer_weights" in f:
            if tf_keras_compat.is_v2_optimizer(training.get("optimizer_config")):
                warnings.warn(
                    f"The optimizer state of {what} was saved by a tf.keras legacy optimizer (optimizer_v2), "
                    "which orders its slots differently; it is not loaded and the optimizer starts fresh.",
                    stacklevel=2,
                )
            else:
                _load_optimizer_weights(model, h5_reading.safe_group(f, "optimizer_weights"), what)
    return model


def _compile_from_training_config(model: Any, training: dict, custom_objects: dict | None) -> None:
    if not hasattr(model, "compile"):
        return
    try:
        model.compile(**compile_args_from_training_config(model, training, custom_objects))
    except (TypeError, ValueError, NotImplementedError) as e:
        warnings.warn(
            f"The model was loaded but could not be compiled from the saved training config ({e}). "
            "Compile it manually.",
            stacklevel=4,
        )


def compile_args_from_training_config(model: Any, training: dict, custom_objects: dict | None = None) -> dict:
    """``compile()`` arguments from an h5 ``training_config`` (Keras 3's, or tf.keras 2's with its metrics
    written per output as lists of ``MeanMetricWrapper`` configs)."""
    training = tf_keras_compat.convert_config(training)
    optimizer_config = tf_keras_compat.convert_optimizer_config(training.get("optimizer_config"))
    optimizer = None
    if optimizer_config is not None:
        optimizer = deserialize_keras_object(optimizer_config, custom_objects=custom_objects)
    output_names = [str(n) for n in (getattr(model, "output_names", None) or [])]
    return {
        "optimizer": optimizer,
        "loss": _deserialize_nested(training.get("loss"), custom_objects),
        "metrics": _compile_metrics(training.get("metrics"), output_names, custom_objects),
        "weighted_metrics": _compile_metrics(training.get("weighted_metrics"), output_names, custom_objects),
        "loss_weights": training.get("loss_weights"),
    }


def _deserialize_nested(value: Any, custom_objects: dict | None) -> Any:
    """Strings stay strings (as Keras resolves ``"accuracy"`` by the output's shape); configs become objects."""

    def deserialize(node: Any) -> Any:
        if isinstance(node, dict) and "class_name" in node:
            return deserialize_keras_object(node, custom_objects=custom_objects)
        return None  # not a config: descend into it

    return tree.traverse(deserialize, value)


def _compile_metrics(value: Any, output_names: list[str], custom_objects: dict | None) -> Any:
    if isinstance(value, list) and value and all(isinstance(v, list) for v in value):
        if len(value) == 1 and len(output_names) <= 1:  # tf.keras 2: one list per output
            value = value[0]
        elif len(value) == len(output_names):
            value = {name: [_metric_identifier(m, name) for m in ms] for name, ms in zip(output_names, value)}
    if isinstance(value, list):
        value = [_metric_identifier(m, output_names[0] if len(output_names) == 1 else None) for m in value]
    return _deserialize_nested(value, custom_objects)


def _metric_identifier(metric: Any, output_name: str | None) -> Any:
    """tf.keras 2 saves ``metrics=["mae"]`` as a ``MeanMetricWrapper`` named ``"<output>_mae"``: back to ``"mae"``."""
    if not (isinstance(metric, dict) and metric.get("class_name") == "MeanMetricWrapper"):
        return metric
    config = metric.get("config") or {}
    name, fn = config.get("name"), config.get("fn")
    if isinstance(name, str) and output_name and name.startswith(f"{output_name}_"):
        name = name[len(output_name) + 1 :]
    for candidate in (name, fn):
        if isinstance(candidate, str) and _is_metric_identifier(candidate):
            return candidate
    return metric


def _is_metric_identifier(name: str) -> bool:
    if name in ("accuracy", "acc", "crossentropy", "ce"):  # resolved by compile from the output's shape
        return True
    try:
        metrics.get(name)
    except (TypeError, ValueError):
        return False
    return True


def _load_optimizer_weights(model: Any, group: Any, what: str) -> None:
    optimizer = getattr(model, "optimizer", None)
    if optimizer is None or not weights_h5.is_optimizer(optimizer):
        return
    values = [array for _, array in _read_subset(group)]
    if hasattr(optimizer, "build") and not getattr(optimizer, "built", True):
        optimizer.build(list(model.trainable_variables))
    matched = optimizer._match_saved_state(values) if hasattr(optimizer, "_match_saved_state") else None
    if matched is None:
        warnings.warn(
            f"Error in loading the saved optimizer state of {what} (the saved variables do not match this "
            f"optimizer's: {len(values)} saved, {len(optimizer.variables)} here, in neither Keras 3's nor "
            "tf.keras 2's layout). The model starts with a freshly initialized optimizer.",
            stacklevel=4,
        )
        return
    optimizer._load_matched_state(matched)


def save_model_to_hdf5(model: Any, filepath: Any, include_optimizer: bool = True) -> None:
    """Writes the legacy ``.h5`` layout Keras 3's ``model.save("x.h5")`` writes (atomically)."""
    import h5py

    config = serialize_keras_object(model)
    model_config = {"class_name": config["class_name"], "config": config["config"]}
    with atomic_write(os.fspath(filepath)) as tmp, h5py.File(tmp, "w") as f:
        f.attrs["keras_version"] = KERAS_FORMAT_VERSION
        f.attrs["backend"] = "torch"
        f.attrs["model_config"] = json.dumps(model_config)
        compile_config = config.get("compile_config")
        optimizer = getattr(model, "optimizer", None)
        if include_optimizer and compile_config and optimizer is not None:
            training = {k: v for k, v in compile_config.items() if k != "optimizer"}
            opt = compile_config.get("optimizer")
            if isinstance(opt, dict):
                training["optimizer_config"] = {
                    "class_name": opt.get("registered_name") or opt.get("class_name"),
                    "config": opt.get("config"),
                }
            f.attrs["training_config"] = json.dumps(training)
        group = f.create_group("model_weights")
        save_weights_to_hdf5_group(group, model)
        if include_optimizer and optimizer is not None and weights_h5.is_optimizer(optimizer):
            variables = list(optimizer.variables)
            if variables:
                _save_subset(f.create_group("optimizer_weights"), variables)


def _unique_names(variables: list[Any]) -> list[str]:
    names, seen = [], set()
    for i, v in enumerate(variables):
        name = str(getattr(v, "path", None) or getattr(v, "name", None) or f"variable_{i}")
        base, k = name, 1
        while name in seen:
            name = f"{base}_{k}"
            k += 1
        seen.add(name)
        names.append(name)
    return names


def _save_subset(group: Any, variables: list[Any]) -> None:
    names = _unique_names(variables)
    save_attributes(group, "weight_names", [n.encode("utf8") for n in names])
    for name, var in zip(names, variables):
        group.create_dataset(name, data=weights_h5.to_numpy(var))


def save_weights_to_hdf5_group(group: Any, model: Any) -> None:
    save_attributes(group, "layer_names", [layer.name.encode("utf8") for layer in model.layers])
    group.attrs["backend"] = "torch"
    group.attrs["keras_version"] = KERAS_FORMAT_VERSION
    for layer in sorted(model.layers, key=lambda la: la.name):
        _save_subset(group.create_group(layer.name), _legacy_weights(layer))
    _save_subset(
        group.create_group("top_level_model_weights"), list(model._trainable_vars) + list(model._non_trainable_vars)
    )
