"""Reading what tf.keras 2 wrote: its configs and compile state, brought to the Keras 3 schema Lamina reads.

tf.keras 2 (``tf_keras``, TensorFlow 2.x's ``tf.keras``) and Keras 3 store the same layers with the
same weights, but their configs differ in ways a Keras 3 reader trips on:

* Keras-2-only layer arguments, written with the only value Keras 3 behaves as: ``time_major: false``
  on every RNN, ``groups: 1`` on depthwise, separable and transposed convolutions (and unused
  ``kernel_*`` arguments on separable ones, inherited from tf.keras's ``Conv``);
* ``axis`` of BatchNormalization as a one-element list, ``batch_input_shape`` on InputLayer,
  functional models with one input written as a one-element list;
* module paths of tf.keras's own classes (``tf_keras.src.engine.functional``);
* losses with tf.keras's ``reduction: "auto"`` and a ``fn`` entry; optimizer class names written as
  ``Custom>Adam`` with the keys ``jit_compile``/``is_legacy_optimizer`` (and ``lr``/``decay`` in
  old files); compile configs with ``None`` for the arguments left at their defaults.

:func:`convert_config` rewrites those, and only those, so the config deserializes as Keras 3 would
have written it; a value Keras 3 cannot honour (``time_major: true``, ``groups: 2`` on a transposed
convolution) is refused with a ``ValueError`` naming the layer. The optimizer-state layout
(``iteration`` then the slots) is matched by the optimizer itself
(``Optimizer._match_saved_state``), and the compiled metrics' state tf.keras 2 adds under
``metrics/`` in its weight files is skipped by the weights reader: Keras 3 and Lamina start the
metrics afresh after loading.
"""

from __future__ import annotations

import warnings
from typing import Any

from lamina import optimizers

_TIME_MAJOR_LAYERS = {"RNN", "SimpleRNN", "GRU", "LSTM", "CuDNNGRU", "CuDNNLSTM"}
# Classes tf.keras 2 gives a ``groups`` argument (inherited from Conv) that Keras 3 dropped.
_NO_GROUPS_LAYERS = {
    "DepthwiseConv1D",
    "DepthwiseConv2D",
    "Conv1DTranspose",
    "Conv2DTranspose",
    "Conv3DTranspose",
    "SeparableConv1D",
    "SeparableConv2D",
}
_SEPARABLE_UNUSED = ("kernel_initializer", "kernel_regularizer", "kernel_constraint")
_OPTIMIZER_ONLY_KEYS = ("is_legacy_optimizer", "jit_compile")
_COMPILE_DEFAULTED = ("run_eagerly", "steps_per_execution", "jit_compile")


def is_tf_keras_version(version: Any) -> bool:
    """True for a file written by Keras 1/2 or tf.keras 2 (its ``keras_version`` is below 3)."""
    if not isinstance(version, str) or not version[:1].isdigit():
        return False
    return int(version.split(".")[0]) < 3


def _drop_keras2_arg(layer: dict, inner: dict, key: str, allowed: Any) -> None:
    if key not in inner:
        return
    value = inner.pop(key)
    if value != allowed:
        raise ValueError(
            f"Layer '{inner.get('name')}' ({layer.get('class_name')}) was saved by tf.keras 2 with an "
            f"argument Keras 3 (and so Lamina) does not support; only {key}={allowed!r} can be loaded. "
            f"Received: {key}={value!r}"
        )


def _convert_layer_config(class_name: str, out: dict, inner: dict) -> None:
    if class_name in _TIME_MAJOR_LAYERS:
        _drop_keras2_arg(out, inner, "time_major", False)
    if class_name in _NO_GROUPS_LAYERS:
        _drop_keras2_arg(out, inner, "groups", 1)
    if class_name in ("SeparableConv1D", "SeparableConv2D"):
        for key in _SEPARABLE_UNUSED:  # tf.keras 2 keeps Conv's kernel_* here; the layer never used them
            inner.pop(key, None)
    if class_name == "BatchNormalization" and isinstance(inner.get("axis"), list) and len(inner["axis"]) == 1:
        inner["axis"] = int(inner["axis"][0])
    if class_name == "InputLayer" and "batch_input_shape" in inner and "batch_shape" not in inner:
        inner["batch_shape"] = inner.pop("batch_input_shape")
    if inner.get("reduction") == "auto":  # a tf.keras loss: "auto" is the sum over the batch size
        inner["reduction"] = "sum_over_batch_size"
        inner.pop("fn", None)


def _convert_lambda(inner: dict) -> None:
    code, defaults, closure = (inner["function"] + [None, None])[:3]
    inner["function"] = {"class_name": "__lambda__", "config": {"code": code, "defaults": defaults, "closure": closure}}
    for key in ("module", "function_type", "output_shape_type", "output_shape_module"):
        inner.pop(key, None)


def _convert_functional_io(inner: dict) -> None:
    for key in ("input_layers", "output_layers"):  # tf.keras wrote one input/output as a 1-element list
        io = inner.get(key)
        if isinstance(io, list) and len(io) == 1 and isinstance(io[0], list) and len(io[0]) == 3:
            if isinstance(io[0][0], str):
                inner[key] = io[0]


def convert_config(config: Any) -> Any:
    """A tf.keras 2 (or Keras 1/2) config rewritten to the Keras 3 schema; other values are kept.

    Raises:
        ValueError: for a Keras-2-only argument with a value Keras 3 cannot honour, naming the layer.

    Example:
        >>> from lamina.saving.tf_keras_compat import convert_config
        >>> convert_config({"class_name": "LSTM", "config": {"name": "lstm", "units": 2, "time_major": False}})
        {'class_name': 'LSTM', 'config': {'name': 'lstm', 'units': 2}}
    """
    if isinstance(config, list):
        return [convert_config(c) for c in config]
    if not isinstance(config, dict):
        return config
    out = {k: convert_config(v) for k, v in config.items()}
    class_name = out.get("class_name")
    inner = out.get("config")
    module = out.get("module")
    if isinstance(module, str) and module.startswith(("tf_keras", "keras.src.engine", "keras.engine")):
        out["module"] = None  # tf.keras's own module paths: find the class by its name among Keras's
    if class_name == "Model" and isinstance(inner, dict) and "input_layers" in inner:  # tf.keras: functional
        out["class_name"] = "Functional"
    if class_name == "Sequential" and isinstance(inner, list):  # Keras <= 2.2: the config was the layer list
        out["config"] = {"name": "sequential", "layers": inner}
    elif isinstance(inner, dict) and isinstance(class_name, str):
        _convert_layer_config(class_name, out, inner)
        if class_name == "Lambda" and isinstance(inner.get("function"), list):
            _convert_lambda(inner)
        if out.get("class_name") in ("Functional", "Model"):
            _convert_functional_io(inner)
    if isinstance(out.get("compile_config"), dict):
        out["compile_config"] = convert_compile_config(out["compile_config"])
    return out


def convert_optimizer_config(optimizer_config: Any) -> Any:
    """A tf.keras 2 optimizer config (``Custom>Adam``, ``jit_compile``, ``lr``, ``decay``) for Keras 3."""
    if isinstance(optimizer_config, str) or not isinstance(optimizer_config, dict):
        return optimizer_config
    out = dict(optimizer_config)
    class_name = out.get("class_name")
    if isinstance(class_name, str) and class_name.startswith("Custom>") and _is_builtin_optimizer(class_name[7:]):
        # tf.keras 2.11+ registers its own optimizers under the "Custom" package
        out["class_name"] = class_name[7:]
        out.pop("registered_name", None)
    config = dict(out.get("config") or {})
    if "lr" in config and "learning_rate" not in config:
        config["learning_rate"] = config.pop("lr")
    decay = config.pop("decay", None)
    if decay:
        warnings.warn(
            f"The saved optimizer used decay={decay}, which Keras 3 optimizers no longer take; "
            "use a learning-rate schedule instead. It was dropped.",
            stacklevel=4,
        )
    for key in _OPTIMIZER_ONLY_KEYS:
        config.pop(key, None)
    out["config"] = config
    return out


def is_v2_optimizer(optimizer_config: Any) -> bool:
    """True for tf.keras's legacy ``optimizer_v2`` (TF <= 2.10, or ``tf.keras.optimizers.legacy``): its
    config has ``decay`` (or says ``is_legacy_optimizer``), and it saves its slots grouped by kind."""
    config = optimizer_config.get("config") if isinstance(optimizer_config, dict) else None
    return isinstance(config, dict) and (config.get("is_legacy_optimizer") is True or "decay" in config)


def _is_builtin_optimizer(name: str) -> bool:
    cls = getattr(optimizers, name, None)
    return isinstance(cls, type) and issubclass(cls, optimizers.Optimizer)


def convert_compile_config(compile_config: dict) -> dict:
    """tf.keras 2's ``.keras`` compile config: ``None`` for defaulted arguments, its optimizer's keys."""
    out = {k: v for k, v in compile_config.items() if not (k in _COMPILE_DEFAULTED and v is None)}
    if "optimizer" in out:
        out["optimizer"] = convert_optimizer_config(out["optimizer"])
    return out
