"""Weight regularizers (L1, L2, L1L2, OrthogonalRegularizer) by Keras name.

A regularizer maps a weight tensor to a scalar penalty that ``fit`` adds to the loss.

Example:
    >>> import torch, lamina
    >>> float(lamina.regularizers.L2(0.5)(torch.tensor([1.0, 2.0])))
    2.5
"""

from __future__ import annotations

from typing import Any

import torch

from lamina import serialization
from lamina.backend.naming import to_snake_case


class Regularizer:
    """Base class: ``__call__(x) -> scalar tensor`` plus ``get_config``."""

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return torch.zeros((), device=x.device)

    def get_config(self) -> dict[str, Any]:
        return {}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Regularizer:
        return cls(**config)


def _check(name: str, value: Any) -> float:
    value = float(value)
    if value < 0 or value != value:
        raise ValueError(f"Value for `{name}` must be a non-negative float. Received: {name}={value}")
    return value


class L1L2(Regularizer):
    """``l1 * sum(|x|) + l2 * sum(x**2)``."""

    def __init__(self, l1: float = 0.0, l2: float = 0.0) -> None:
        self.l1 = _check("l1", l1)
        self.l2 = _check("l2", l2)

    def __call__(self, x):
        out = torch.zeros((), device=x.device, dtype=x.dtype)
        if self.l1:
            out = out + self.l1 * x.abs().sum()
        if self.l2:
            out = out + self.l2 * x.square().sum()
        return out

    def get_config(self):
        return {"l1": self.l1, "l2": self.l2}


class L1(Regularizer):
    """``l1 * sum(|x|)``."""

    def __init__(self, l1: float = 0.01) -> None:
        self.l1 = _check("l1", l1)

    def __call__(self, x):
        return self.l1 * x.abs().sum()

    def get_config(self):
        return {"l1": self.l1}


class L2(Regularizer):
    """``l2 * sum(x**2)``."""

    def __init__(self, l2: float = 0.01) -> None:
        self.l2 = _check("l2", l2)

    def __call__(self, x):
        return self.l2 * x.square().sum()

    def get_config(self):
        return {"l2": self.l2}


class OrthogonalRegularizer(Regularizer):
    """Pushes rows (or columns) of a 2D kernel towards orthonormality."""

    def __init__(self, factor: float = 0.01, mode: str = "rows") -> None:
        if mode not in ("rows", "columns"):
            raise ValueError(f"OrthogonalRegularizer expects mode 'rows' or 'columns'. Received: mode={mode!r}")
        self.factor = _check("factor", factor)
        self.mode = mode

    def __call__(self, x):
        if x.ndim != 2:
            raise ValueError(f"OrthogonalRegularizer needs a 2D weight. Received shape {tuple(x.shape)}")
        if self.mode == "columns":
            x = x.T
        x = torch.nn.functional.normalize(x, dim=1)
        size = x.shape[0]
        product = torch.abs(x @ x.T) - torch.eye(size, device=x.device, dtype=x.dtype)
        return self.factor * product.sum() / (size * (size - 1)) if size > 1 else product.sum() * 0

    def get_config(self):
        return {"factor": self.factor, "mode": self.mode}


l1, l2, l1_l2, orthogonal_regularizer = L1, L2, L1L2, OrthogonalRegularizer
_BY_NAME = {c.__name__: c for c in (L1, L2, L1L2, OrthogonalRegularizer)}
_BY_NAME.update({to_snake_case(k): v for k, v in list(_BY_NAME.items())})
_BY_NAME.update({"l1": L1, "l2": L2, "l1_l2": L1L2})


_FAMILY = serialization.ObjectFamily("keras.regularizers", "regularizer", _BY_NAME, base=Regularizer)


def serialize(regularizer: Regularizer) -> dict[str, Any]:
    """Keras's serialized form: ``{"module", "class_name", "config", "registered_name"}``."""
    return _FAMILY.serialize(regularizer)


def deserialize(config: Any, custom_objects: dict[str, Any] | None = None) -> Regularizer:
    """Rebuilds a regularizer from :func:`serialize`'s output."""
    return _FAMILY.deserialize(config, custom_objects)


def get(identifier: Any) -> Regularizer | None:
    """Resolves ``None``, a name, a config dict or a callable to a regularizer.

    Raises:
        ValueError: for an unknown name; the message lists the valid ones.
    """
    return _FAMILY.get(identifier)
