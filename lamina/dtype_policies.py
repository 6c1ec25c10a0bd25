"""Dtype policies (``keras.dtype_policies``): the variable and compute dtypes of a layer, and the global policy.

``"float32"`` keeps everything in float32; ``"mixed_float16"`` / ``"mixed_bfloat16"`` keep float32 weights
and compute matmuls and convolutions in the half type. New layers take the global policy unless given
``dtype=``.

Example:
    >>> from lamina import dtype_policies
    >>> p = dtype_policies.DTypePolicy("mixed_float16")
    >>> p.variable_dtype, p.compute_dtype
    ('float32', 'float16')
    >>> dtype_policies.global_policy().name
    'float32'
"""

from __future__ import annotations

from typing import Any

from lamina import backend, serialization

_POLICY_NAMES = ("float16", "bfloat16", "float32", "float64", "mixed_float16", "mixed_bfloat16")
_GLOBAL: list[str | None] = [None]  # None: follow backend.floatx()


class DTypePolicy:
    """Variable and compute dtypes of a layer (``"float32"``, ``"mixed_float16"``, ``"mixed_bfloat16"``, ...).

    Args:
        name: a policy name or a dtype name; ``None`` takes the global policy.

    Example:
        >>> from lamina.dtype_policies import DTypePolicy
        >>> DTypePolicy("mixed_bfloat16")
        <DTypePolicy "mixed_bfloat16">
    """

    def __init__(self, name: str | None = None) -> None:
        if name is None:
            name = global_policy_name()
        if not isinstance(name, str):
            raise TypeError(f"A dtype policy name must be a string. Received: name={name!r}")
        if name in ("mixed_float16", "mixed_bfloat16"):
            self.compute_dtype = name.removeprefix("mixed_")
            self.variable_dtype = "float32"
        else:
            name = backend.standardize_dtype(name)
            self.compute_dtype = self.variable_dtype = name
        self.name = name

    @property
    def is_mixed(self) -> bool:
        return self.name.startswith("mixed_")

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> DTypePolicy:
        return cls(**config)

    def serialize(self) -> dict[str, Any]:
        return {"module": "keras", "class_name": "DTypePolicy", "config": {"name": self.name}, "registered_name": None}

    def __repr__(self) -> str:
        return f'<DTypePolicy "{self.name}">'

    def __eq__(self, other: Any) -> bool:
        return isinstance(other, DTypePolicy) and other.name == self.name

    def __hash__(self) -> int:
        return hash(self.name)


FloatDTypePolicy = DTypePolicy  # Keras's older name for the same policy


def get(identifier: Any) -> DTypePolicy:
    """A policy from a policy, a name, a dtype, a serialized dict, or ``None`` (the global policy)."""
    if isinstance(identifier, DTypePolicy):
        return identifier
    if isinstance(identifier, dict):  # serialized policy from a config
        cfg = identifier.get("config", {})
        return DTypePolicy(cfg.get("name", backend.floatx()) if isinstance(cfg, dict) else cfg)
    if identifier is not None and not isinstance(identifier, str):
        identifier = backend.standardize_dtype(identifier)
    return DTypePolicy(identifier)


def serialize(dtype_policy: DTypePolicy) -> dict[str, Any]:
    """Keras's config dict of a policy."""
    return dtype_policy.serialize()


def deserialize(config: Any, custom_objects: dict[str, Any] | None = None) -> DTypePolicy:
    """Rebuilds a policy from :func:`serialize`'s output."""
    del custom_objects
    return get(config)


def set_global_policy(policy: Any) -> None:
    """Sets the policy new layers use (a name or a ``DTypePolicy``; ``None`` goes back to ``floatx()``)."""
    name = getattr(policy, "name", policy)
    if name is not None and name not in _POLICY_NAMES:
        raise ValueError(f"Invalid dtype policy: expected one of {', '.join(_POLICY_NAMES)}. Received: policy={name!r}")
    _GLOBAL[0] = name


def global_policy_name() -> str:
    return _GLOBAL[0] or backend.floatx()


def global_policy() -> DTypePolicy:
    """The policy new layers take when built without ``dtype=``."""
    return DTypePolicy(global_policy_name())


set_dtype_policy = set_global_policy
dtype_policy = global_policy
backend.on_clear_session(lambda: set_global_policy(None))  # Keras keeps the policy in its session state

serialization.register_builtins("keras", {"DTypePolicy": DTypePolicy, "FloatDTypePolicy": FloatDTypePolicy})
