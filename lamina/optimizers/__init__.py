"""Optimizers with Keras 3's update rules, defaults, state layout and configs (``keras.optimizers``).

Example:
    >>> import lamina
    >>> opt = lamina.optimizers.get("adam")
    >>> type(opt).__name__, opt.get_config()["beta_1"]
    ('Adam', 0.9)
"""

from __future__ import annotations

from typing import Any

from lamina.optimizers import schedules
from lamina.optimizers.adadelta import Adadelta
from lamina.optimizers.adafactor import Adafactor
from lamina.optimizers.adagrad import Adagrad
from lamina.optimizers.adam import Adam
from lamina.optimizers.adamax import Adamax
from lamina.optimizers.adamw import AdamW
from lamina.optimizers.base_optimizer import Optimizer
from lamina.optimizers.ftrl import Ftrl
from lamina.optimizers.lion import Lion
from lamina.optimizers.loss_scale_optimizer import LossScaleOptimizer
from lamina.optimizers.nadam import Nadam
from lamina.optimizers.rmsprop import RMSprop
from lamina.optimizers.sgd import SGD

ALL_OBJECTS = {
    Optimizer,
    Adam,
    SGD,
    RMSprop,
    Adadelta,
    AdamW,
    Adagrad,
    Adamax,
    Adafactor,
    Nadam,
    Ftrl,
    Lion,
    LossScaleOptimizer,
}
ALL_OBJECTS_DICT = {cls.__name__.lower(): cls for cls in ALL_OBJECTS}


def serialize(optimizer: Optimizer) -> dict[str, Any]:
    """The optimizer's Keras config dict (``module``, ``class_name``, ``config``, ``registered_name``)."""
    from lamina.saving.serialization import serialize_keras_object

    return serialize_keras_object(optimizer)


def deserialize(config: dict[str, Any], custom_objects: dict | None = None) -> Optimizer:
    """Rebuilds an optimizer from its config dict; built-in class names are case-insensitive."""
    from lamina.saving.serialization import deserialize_keras_object, get_registered_object

    config = dict(config)
    class_name = config.get("class_name")
    cls = ALL_OBJECTS_DICT.get(str(class_name).lower())
    if cls is not None and get_registered_object(class_name, custom_objects) is None:
        inner = config.get("config") or {}
        return cls.from_config(dict(inner), custom_objects=custom_objects)
    return deserialize_keras_object(config, custom_objects=custom_objects)


def get(identifier: Any) -> Optimizer | None:
    """An optimizer from a name (``"adam"``), a config dict, or an optimizer instance (returned as is).

    Raises:
        ValueError: for a name or object that is not an optimizer (the message lists the valid names).
    """
    if identifier is None:
        return None
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, str):
        if identifier.lower() not in ALL_OBJECTS_DICT or identifier.lower() in ("optimizer", "lossscaleoptimizer"):
            from lamina.saving.serialization import get_registered_object

            custom = get_registered_object(identifier)
            if isinstance(custom, type) and issubclass(custom, Optimizer):
                return custom()
            valid = sorted(k for k in ALL_OBJECTS_DICT if k not in ("optimizer", "lossscaleoptimizer"))
            raise ValueError(
                f"Could not interpret optimizer identifier: {identifier!r}. Valid names: {', '.join(valid)}."
            )
        obj = deserialize({"class_name": identifier, "config": {}})
    elif isinstance(identifier, dict):
        obj = deserialize(identifier)
    else:
        obj = identifier
    if isinstance(obj, Optimizer):
        return obj
    raise ValueError(f"Could not interpret optimizer identifier: {identifier}")


__all__ = [
    "SGD",
    "Adadelta",
    "Adafactor",
    "Adagrad",
    "Adam",
    "AdamW",
    "Adamax",
    "Ftrl",
    "Lion",
    "LossScaleOptimizer",
    "Nadam",
    "Optimizer",
    "RMSprop",
    "deserialize",
    "get",
    "schedules",
    "serialize",
]
