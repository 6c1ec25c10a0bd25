"""Weight constraints applied after each optimizer step (MaxNorm, MinMaxNorm, NonNeg, UnitNorm).

Example:
    >>> import torch, lamina
    >>> lamina.constraints.get("non_neg")(torch.tensor([-1.0, 2.0])).tolist()
    [0.0, 2.0]
"""

from __future__ import annotations

from typing import Any

import torch

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


def serialize(c: Constraint) -> dict[str, Any]:
    return {
        "module": "keras.constraints",
        "class_name": type(c).__name__,
        "config": c.get_config(),
        "registered_name": None,
    }


def get(identifier: Any) -> Constraint | None:
    """Resolves ``None``, a name, a config dict or a callable to a constraint."""
    if identifier is None:
        return None
    if isinstance(identifier, dict):
        cls = _BY_NAME.get(identifier.get("class_name"))
        if cls is None:
            from lamina.saving import serialization

            return serialization.deserialize_keras_object(identifier)
        return cls.from_config(identifier.get("config") or {})
    if isinstance(identifier, str):
        cls = _BY_NAME.get(identifier)
        if cls is None:
            raise ValueError(
                f"Unknown constraint: {identifier!r}. Valid names: max_norm, min_max_norm, non_neg, unit_norm."
            )
        return cls()
    if callable(identifier):
        return identifier
    raise ValueError(f"Could not interpret constraint identifier: {identifier!r}")


deserialize = get
