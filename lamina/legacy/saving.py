"""Keras 2's (tf.keras) config format: ``{"class_name": ..., "config": ...}`` without ``module`` keys.

``serialize_keras_object`` writes that format, with nested objects marked ``__passive_serialization__``;
``deserialize_keras_object`` reads it back, looking names up in ``module_objects``, ``custom_objects`` and the
registered custom objects, as ``keras.legacy.saving`` does.

Example:
    >>> import lamina
    >>> from lamina.legacy import saving
    >>> config = saving.serialize_keras_object(lamina.regularizers.L2(0.5))
    >>> config
    {'class_name': 'L2', 'config': {'l2': 0.5}}
    >>> saving.deserialize_keras_object(config, module_objects={"L2": lamina.regularizers.L2}).l2
    0.5
"""

from __future__ import annotations

import inspect
from typing import Any

from lamina import serialization


def serialize_keras_object(instance: Any) -> Any:
    """The Keras 2 config of ``instance`` (a class name and its ``get_config()``), or a function's name.

    Raises:
        ValueError: for an object without ``get_config()`` that is not a named function.
    """
    instance = inspect.unwrap(instance) if callable(instance) else instance
    if instance is None:
        return None
    if hasattr(instance, "get_config"):
        name = serialization.get_registered_name(instance.__class__)
        serialized = {}
        for key, item in instance.get_config().items():
            if isinstance(item, str):
                serialized[key] = item
                continue
            try:
                value = serialize_keras_object(item)
                if isinstance(value, dict) and not isinstance(item, dict):
                    value["__passive_serialization__"] = True
                serialized[key] = value
            except ValueError:
                serialized[key] = item
        return {"class_name": name, "config": serialized}
    if hasattr(instance, "__name__"):
        return serialization.get_registered_name(instance)
    raise ValueError(f"Cannot serialize {instance!r} because it doesn't implement `get_config()`.")


def _lookup(name: str, module_objects: dict | None, custom_objects: dict | None) -> Any:
    return serialization.get_registered_object(name, custom_objects, module_objects)


def _unknown(kind: str, name: str) -> ValueError:
    return ValueError(
        f"Unknown {kind}: '{name}'. Please ensure you are using a `keras.utils.custom_object_scope` and that "
        "this object is included in the scope, or pass it in `custom_objects`."
    )


def deserialize_keras_object(
    identifier: Any,
    module_objects: dict | None = None,
    custom_objects: dict | None = None,
    printable_module_name: str = "object",
) -> Any:
    """Rebuilds an object from its Keras 2 config (or its name).

    Args:
        identifier: a ``{"class_name", "config"}`` dict, a name, a function, or ``None``.
        module_objects: the built-in objects to look names up in (name -> class or function).
        custom_objects: the user's objects (name -> class or function).
        printable_module_name: what the object is, for error messages (``"layer"``, ``"loss"``...).

    Raises:
        ValueError: for an unknown name or a config without ``class_name`` and ``config``.
    """
    if identifier is None:
        return None
    if isinstance(identifier, dict):
        if "class_name" not in identifier or "config" not in identifier:
            raise ValueError(
                f"Improper config format for {identifier}. Expecting python dict contains `class_name` and "
                "`config` as keys"
            )
        class_name = identifier["class_name"]
        cls = _lookup(class_name, module_objects, custom_objects)
        if cls is None:
            raise _unknown(printable_module_name, class_name)
        cls_config = identifier["config"]
        if isinstance(cls_config, dict):
            cls_config = dict(cls_config)
            for key, item in list(cls_config.items()):
                if key == "name":
                    continue
                if isinstance(item, dict) and "__passive_serialization__" in item:
                    item = {k: v for k, v in item.items() if k != "__passive_serialization__"}
                    cls_config[key] = deserialize_keras_object(item, module_objects, custom_objects, "config_item")
                elif isinstance(item, str) and inspect.isfunction(_lookup(item, module_objects, custom_objects)):
                    cls_config[key] = _lookup(item, module_objects, custom_objects)
        with serialization.custom_object_scope(custom_objects or {}):
            if hasattr(cls, "from_config"):
                params = inspect.signature(cls.from_config).parameters
                if "custom_objects" in params:
                    return cls.from_config(cls_config, custom_objects=custom_objects or {})
                return cls.from_config(cls_config)
            return cls(**cls_config)
    if isinstance(identifier, str):
        obj = _lookup(identifier, module_objects, custom_objects)
        if obj is None:
            raise _unknown(printable_module_name, identifier)
        return obj() if inspect.isclass(obj) else obj
    if inspect.isfunction(identifier):
        return identifier
    raise ValueError(f"Could not interpret serialized {printable_module_name}: {identifier!r}")
