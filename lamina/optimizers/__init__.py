"""Optimizers with Keras 3's update rules, defaults, state layout and configs (``keras.optimizers``).

Example:
    >>> import lamina
    >>> opt = lamina.optimizers.get("adam")
    >>> type(opt).__name__, opt.get_config()["beta_1"]
    ('Adam', 0.9)
"""

from __future__ import annotations

from typing import Any

from lamina import serialization
from lamina.optimizers import legacy, schedules
from lamina.optimizers.adadelta import Adadelta
from lamina.optimizers.adafactor import Adafactor
from lamina.optimizers.adagrad import Adagrad
from lamina.optimizers.adam import Adam
from lamina.optimizers.adamax import Adamax
from lamina.optimizers.adamw import AdamW
from lamina.optimizers.base_optimizer import Optimizer
from lamina.optimizers.ftrl import Ftrl
from lamina.optimizers.lamb import Lamb
from lamina.optimizers.lion import Lion
from lamina.optimizers.loss_scale_optimizer import LossScaleOptimizer
from lamina.optimizers.multi_optimizer import MultiOptimizer, OptimizerMap
from lamina.optimizers.muon import Muon
from lamina.optimizers.nadam import Nadam
from lamina.optimizers.rmsprop import RMSprop
from lamina.optimizers.schedule_free_adamw import ScheduleFreeAdamW
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
    Lamb,
    Muon,
    ScheduleFreeAdamW,
    MultiOptimizer,
    OptimizerMap,
}
ALL_OBJECTS_DICT = {cls.__name__.lower(): cls for cls in ALL_OBJECTS}


_FAMILY = serialization.ObjectFamily(
    "keras.optimizers", "optimizer", {cls.__name__: cls for cls in ALL_OBJECTS}, base=Optimizer, lowercase=True
)
# Names `get` refuses: the base class and the wrapper cannot be made from a bare name.
_NOT_BY_NAME = ("optimizer", "lossscaleoptimizer", "multioptimizer", "optimizermap")


def serialize(optimizer: Optimizer) -> dict[str, Any]:
    """The optimizer's Keras config dict (``module``, ``class_name``, ``config``, ``registered_name``)."""
    return _FAMILY.serialize(optimizer)


def deserialize(config: dict[str, Any], custom_objects: dict | None = None) -> Optimizer:
    """Rebuilds an optimizer from its config dict; built-in class names are case-insensitive."""
    return _FAMILY.deserialize(config, custom_objects)


def get(identifier: Any) -> Optimizer | None:
    """An optimizer from a name (``"adam"``), a config dict, or an optimizer instance (returned as is).

    Raises:
        ValueError: for a name or object that is not an optimizer (the message lists the valid names).
    """
    if isinstance(identifier, str) and identifier.lower() in _NOT_BY_NAME:
        valid = sorted(k for k in ALL_OBJECTS_DICT if k not in _NOT_BY_NAME)
        raise ValueError(f"Could not interpret optimizer identifier: {identifier!r}. Valid names: {', '.join(valid)}.")
    obj = _FAMILY.get(identifier)
    if obj is None or isinstance(obj, Optimizer):
        return obj
    raise ValueError(f"Could not interpret optimizer identifier: {identifier!r}")


__all__ = [
    "SGD",
    "Adadelta",
    "Adafactor",
    "Adagrad",
    "Adam",
    "AdamW",
    "Adamax",
    "Ftrl",
    "Lamb",
    "Lion",
    "LossScaleOptimizer",
    "MultiOptimizer",
    "Muon",
    "Nadam",
    "Optimizer",
    "OptimizerMap",
    "RMSprop",
    "ScheduleFreeAdamW",
    "deserialize",
    "get",
    "legacy",
    "schedules",
    "serialize",
]
