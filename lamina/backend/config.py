"""Process-wide settings of ``keras.config`` that the lowest layers read: float type, epsilon, image layout.

Example:
    >>> from lamina.backend import config
    >>> config.floatx(), config.epsilon(), config.image_data_format()
    ('float32', 1e-07, 'channels_last')
"""

from __future__ import annotations

import os
from typing import Any

_FLOATX = "float32"
_EPSILON = 1e-7
_IMAGE_DATA_FORMAT = "channels_last"
_FLOAT_NAMES = ("bfloat16", "float16", "float32", "float64")
_FLOAT_ALIASES = {"half": "float16", "float": "float32", "double": "float64"}


def floatx() -> str:
    """The default float dtype name, ``"float32"`` unless changed."""
    return _FLOATX


def set_floatx(value: str) -> None:
    """Sets the default float dtype name (``"float16"``, ``"bfloat16"``, ``"float32"``, ``"float64"``)."""
    global _FLOATX
    name = getattr(value, "name", value) if not isinstance(value, str) else value
    name = _FLOAT_ALIASES.get(str(name).removeprefix("torch."), str(name).removeprefix("torch."))
    if name not in _FLOAT_NAMES:
        raise ValueError(f"Unknown floatx type: expected one of {', '.join(_FLOAT_NAMES)}. Received: floatx={value!r}")
    _FLOATX = name


def epsilon() -> float:
    """The fuzz factor added to denominators (``1e-7`` unless changed)."""
    return _EPSILON


def set_epsilon(value: float) -> None:
    """Sets the fuzz factor returned by :func:`epsilon`."""
    global _EPSILON
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"set_epsilon expects a number. Received: value={value!r}")
    _EPSILON = float(value)


def image_data_format() -> str:
    """``"channels_last"`` (default) or ``"channels_first"``: the layout image layers assume by default."""
    return _IMAGE_DATA_FORMAT


def set_image_data_format(data_format: str) -> None:
    """Sets the default image layout read by layers built with ``data_format=None``."""
    global _IMAGE_DATA_FORMAT
    value = str(data_format).lower() if isinstance(data_format, str) else data_format
    if value not in ("channels_last", "channels_first"):
        raise ValueError(
            "The `data_format` argument must be one of {'channels_first', 'channels_last'}. "
            f"Received: data_format={data_format}"
        )
    _IMAGE_DATA_FORMAT = value


def standardize_data_format(data_format: str | None) -> str:
    """``None`` -> :func:`image_data_format`; otherwise the checked, lower-cased name (Keras's rule and message).

    Example:
        >>> from lamina.backend import config
        >>> config.standardize_data_format(None), config.standardize_data_format("Channels_First")
        ('channels_last', 'channels_first')
    """
    if data_format is None:
        return image_data_format()
    value = str(data_format).lower()
    if value not in ("channels_first", "channels_last"):
        raise ValueError(
            "The `data_format` argument must be one of {'channels_first', 'channels_last'}. "
            f"Received: data_format={value}"
        )
    return value


# Keras's three states: ``None`` (the default, "use a flash kernel where one applies"), ``False`` (never).
# ``enable_flash_attention()`` goes back to ``None``, as in Keras, so layers built with ``flash_attention=None``
# keep choosing per call; only a layer's own ``flash_attention=True`` insists on the flash kernel.
_FLASH_ATTENTION: bool | None = None


def enable_flash_attention() -> None:
    """Lets attention layers use a flash kernel when the inputs allow one (the default)."""
    global _FLASH_ATTENTION
    _FLASH_ATTENTION = None


def disable_flash_attention() -> None:
    """Keeps attention layers built from now on away from flash kernels (``scaled_dot_product_attention``
    then runs its other kernels)."""
    global _FLASH_ATTENTION
    _FLASH_ATTENTION = False


def is_flash_attention_enabled() -> bool | None:
    """``False`` after :func:`disable_flash_attention`; otherwise ``None``, meaning enabled where possible."""
    return _FLASH_ATTENTION


# --------------------------------------------------------------------------- debugging caps on fit
def _env_int(name: str) -> int | None:
    value = os.environ.get(name)
    if not value:
        return None
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"The environment variable {name} must be an integer. Received: {name}={value!r}") from None


_MAX_EPOCHS: int | None = _env_int("KERAS_MAX_EPOCHS")
_MAX_STEPS_PER_EPOCH: int | None = _env_int("KERAS_MAX_STEPS_PER_EPOCH")


def _check_cap(name: str, value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"`{name}` must be a positive integer or None. Received: {name}={value!r}")
    return value


def max_epochs() -> int | None:
    """The cap on the epochs of any ``fit`` (``None``: no cap); also set by ``KERAS_MAX_EPOCHS``."""
    return _MAX_EPOCHS


def set_max_epochs(max_epochs: int | None) -> None:
    """Caps the epochs of every ``fit`` call (for quick debugging runs); ``None`` removes the cap.

    Example:
        >>> import lamina
        >>> lamina.config.set_max_epochs(1)
        >>> lamina.config.max_epochs()
        1
        >>> lamina.config.set_max_epochs(None)
    """
    global _MAX_EPOCHS
    _MAX_EPOCHS = _check_cap("max_epochs", max_epochs)


def max_steps_per_epoch() -> int | None:
    """The cap on the steps per epoch of ``fit``/``evaluate``/``predict``; also set by ``KERAS_MAX_STEPS_PER_EPOCH``."""
    return _MAX_STEPS_PER_EPOCH


def set_max_steps_per_epoch(max_steps_per_epoch: int | None) -> None:
    """Caps the steps of each epoch of ``fit``, ``evaluate`` and ``predict``; ``None`` removes the cap."""
    global _MAX_STEPS_PER_EPOCH
    _MAX_STEPS_PER_EPOCH = _check_cap("max_steps_per_epoch", max_steps_per_epoch)


# --------------------------------------------------------------------------- session settings
# Keras keeps these in its global state, so `clear_session()` sets them back to these defaults.
_INTERACTIVE_LOGGING = True
_TRACEBACK_FILTERING = True


def enable_interactive_logging() -> None:
    """Progress bars and summaries are written to stdout (the default)."""
    global _INTERACTIVE_LOGGING
    _INTERACTIVE_LOGGING = True


def disable_interactive_logging() -> None:
    """Progress bars and summaries go to the ``logging`` module (logger ``"lamina"``, level INFO) instead of
    stdout, for jobs whose output is a log, as Keras sends them to ``absl.logging``."""
    global _INTERACTIVE_LOGGING
    _INTERACTIVE_LOGGING = False


def is_interactive_logging_enabled() -> bool:
    """Whether progress output goes to stdout (``True``) or to ``logging`` (``False``).

    Example:
        >>> import lamina
        >>> lamina.config.is_interactive_logging_enabled()
        True
    """
    return _INTERACTIVE_LOGGING


def enable_traceback_filtering() -> None:
    """Errors raised inside ``fit``/``evaluate``/``predict`` and layer calls show the user's frames, not
    Lamina's internals (the default)."""
    global _TRACEBACK_FILTERING
    _TRACEBACK_FILTERING = True


def disable_traceback_filtering() -> None:
    """Tracebacks keep every frame, Lamina's own included (for debugging Lamina itself)."""
    global _TRACEBACK_FILTERING
    _TRACEBACK_FILTERING = False


def is_traceback_filtering_enabled() -> bool:
    """Whether Lamina's frames are removed from tracebacks of errors raised through its entry points."""
    return _TRACEBACK_FILTERING


def reset_session_settings() -> None:
    """Back to the defaults of the settings Keras keeps in its global state (``clear_session`` calls this)."""
    global _FLASH_ATTENTION, _INTERACTIVE_LOGGING, _TRACEBACK_FILTERING
    _FLASH_ATTENTION = None
    _INTERACTIVE_LOGGING = True
    _TRACEBACK_FILTERING = True
