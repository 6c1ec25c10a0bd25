"""Global dtype policy, as ``keras.mixed_precision``: ``"float32"``, ``"mixed_float16"``, ``"mixed_bfloat16"``.

Example:
    >>> import lamina
    >>> lamina.mixed_precision.global_policy_name()
    'float32'
"""

from __future__ import annotations

from typing import Any

from lamina import backend

_POLICY: str | None = None


def set_global_policy(policy: Any) -> None:
    """Sets the policy new layers use (a name or a ``DTypePolicy``)."""
    global _POLICY
    name = getattr(policy, "name", policy)
    if name is not None and name not in (
        "float16",
        "bfloat16",
        "float32",
        "float64",
        "mixed_float16",
        "mixed_bfloat16",
    ):
        raise ValueError(
            "Invalid dtype policy: expected float16, bfloat16, float32, float64, mixed_float16 or mixed_bfloat16. "
            f"Received: policy={name!r}"
        )
    _POLICY = name


def global_policy_name() -> str:
    return _POLICY or backend.floatx()


def global_policy() -> Any:
    from lamina.layers.layer import DTypePolicy

    return DTypePolicy(global_policy_name())


def dtype_policy() -> Any:
    return global_policy()


def __getattr__(name: str) -> Any:
    # Keras names: keras.mixed_precision.DTypePolicy / Policy / LossScaleOptimizer
    if name in ("DTypePolicy", "Policy"):
        from lamina.layers.layer import DTypePolicy

        return DTypePolicy
    if name == "LossScaleOptimizer":
        from lamina.optimizers import LossScaleOptimizer

        return LossScaleOptimizer
    raise AttributeError(name)
