"""Process-wide settings (``keras.config``): float type, epsilon, image layout, dtype policy, logging, caps.

The settings live where the code that reads them sits (``lamina.backend.config`` for the ground floor,
``lamina.dtype_policies``, ``lamina.serialization``); this module is Keras's public face for all of them.

Example:
    >>> import lamina as keras
    >>> keras.config.floatx(), keras.config.image_data_format(), keras.config.backend()
    ('float32', 'channels_last', 'torch')
    >>> keras.config.set_max_epochs(2)   # `fit` runs at most 2 epochs from now on
    >>> keras.config.max_epochs()
    2
    >>> keras.config.set_max_epochs(None)
"""

from __future__ import annotations

from lamina.backend.config import (
    disable_flash_attention,
    disable_interactive_logging,
    disable_traceback_filtering,
    enable_flash_attention,
    enable_interactive_logging,
    enable_traceback_filtering,
    epsilon,
    floatx,
    image_data_format,
    is_flash_attention_enabled,
    is_interactive_logging_enabled,
    is_traceback_filtering_enabled,
    max_epochs,
    max_steps_per_epoch,
    set_epsilon,
    set_floatx,
    set_image_data_format,
    set_max_epochs,
    set_max_steps_per_epoch,
)
from lamina.backend.core import backend
from lamina.dtype_policies import dtype_policy, set_dtype_policy
from lamina.serialization import enable_unsafe_deserialization

__all__ = [
    "backend",
    "disable_flash_attention",
    "disable_interactive_logging",
    "disable_traceback_filtering",
    "dtype_policy",
    "enable_flash_attention",
    "enable_interactive_logging",
    "enable_traceback_filtering",
    "enable_unsafe_deserialization",
    "epsilon",
    "floatx",
    "image_data_format",
    "is_flash_attention_enabled",
    "is_interactive_logging_enabled",
    "is_nnx_enabled",
    "is_traceback_filtering_enabled",
    "max_epochs",
    "max_steps_per_epoch",
    "set_backend",
    "set_dtype_policy",
    "set_epsilon",
    "set_floatx",
    "set_image_data_format",
    "set_max_epochs",
    "set_max_steps_per_epoch",
]


def is_nnx_enabled() -> bool:
    """Whether Flax NNX features are on: always ``False`` (NNX belongs to Keras's JAX backend).

    Example:
        >>> import lamina
        >>> lamina.config.is_nnx_enabled()
        False
    """
    return False


def set_backend(backend: str) -> None:
    """Keras reloads itself on another backend here; Lamina runs on PyTorch only, so ``"torch"`` is the one
    accepted value (and changes nothing).

    Raises:
        ValueError: for any other backend name.

    Example:
        >>> import lamina
        >>> lamina.config.set_backend("torch")
        >>> lamina.config.set_backend("jax")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        ValueError: Lamina runs Keras programs on PyTorch only: ... Received: backend='jax'
    """
    if backend != "torch":
        raise ValueError(
            "Lamina runs Keras programs on PyTorch only: the backend cannot be changed. Expected 'torch'. "
            f"Received: backend={backend!r}"
        )
