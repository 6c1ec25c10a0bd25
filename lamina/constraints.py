"""Weight constraints applied after each optimizer step (MaxNorm, MinMaxNorm, NonNeg, UnitNorm).

Example:
    >>> import torch, lamina
    >>> lamina.constraints.get("non_neg")(torch.tensor([-1.0, 2.0])).tolist()
    [0.0, 2.0]
"""

from __future__ import annotations

from typing import Any

import torch

from lamina import serialization
from lamina.backend.naming import to_snake_case

_EPS = 1e-7


class Constraint:
    """Base class: ``__call__(w) -> projected w`` plus ``get_config``."""

    def __call__(self, w: torch.Tensor) -> torch.Tensor:
        return w

    def get_config(self) -> dict[str, Any]:
        return {}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Constraint:
        return cls(**config)


class MaxNorm(Constraint):
    """Caps the norm along ``axis`` at ``max_value``."""

    def __init__(self, max_value: float = 2.0, axis: int = 0) -> None:
        self.max_value, self.axis = max_value, axis

    def __call__(self, w):
        norms = torch.sqrt(torch.sum(w * w, dim=self.axis, keepdim=True))
        desired = torch.clamp(norms, 0, self.max_value)
        return w * (desired / (_EPS + norms))

    def get_config(self):
        return {"max_value": self.max_value, "axis": self.axis}


class NonNeg(Constraint):
    """Zeroes negative weights."""

    def __call__(self, w):
        return torch.where(w >= 0, w, torch.zeros_like(w))


class UnitNorm(Constraint):
    """Unit norm along ``axis``."""

    def __init__(self, axis: int = 0) -> None:
        self.axis = axis

    def __call__(self, w):
        return w / (_EPS + torch.sqrt(torch.sum(w * w, dim=self.axis, keepdim=True)))

    def get_config(self):
        return {"axis": self.axis}


class MinMaxNorm(Constraint):
    """Keeps the norm along ``axis`` in ``[min_value, max_value]``, moved at ``rate``."""

    def __init__(self, min_value: float = 0.0, max_value: float = 1.0, rate: float = 1.0, axis: int = 0) -> None:
        self.min_value, self.max_value, self.rate, self.axis = min_value, max_value, rate, axis

    def __call__(self, w):
        norms = torch.sqrt(torch.sum(w * w, dim=self.axis, keepdim=True))
        desired = self.rate * torch.clamp(norms, self.min_value, self.max_value) + (1 - self.rate) * norms
        return w * (desired / (_EPS + norms))

    def get_config(self):
        return {"min_value": self.min_value, "max_value": self.max_value, "rate": self.rate, "axis": self.axis}


max_norm, non_neg, unit_norm, min_max_norm = MaxNorm, NonNeg, UnitNorm, MinMaxNorm
_BY_NAME = {c.__name__: c for c in (MaxNorm, NonNeg, UnitNorm, MinMaxNorm)}
_BY_NAME.update({to_snake_case(k): v for k, v in list(_BY_NAME.items())})


_FAMILY = serialization.ObjectFamily("keras.constraints", "constraint", _BY_NAME, base=Constraint)


def serialize(constraint: Constraint) -> dict[str, Any]:
    """Keras's serialized form: ``{"module", "class_name", "config", "registered_name"}``."""
    return _FAMILY.serialize(constraint)


def deserialize(config: Any, custom_objects: dict[str, Any] | None = None) -> Constraint:
    """Rebuilds a constraint from :func:`serialize`'s output."""
    return _FAMILY.deserialize(config, custom_objects)


def get(identifier: Any) -> Constraint | None:
    """Resolves ``None``, a name, a config dict or a callable to a constraint.

    Raises:
        ValueError: for an unknown name; the message lists the valid ones.
    """
    return _FAMILY.get(identifier)
