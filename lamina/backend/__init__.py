"""The ground floor: device, dtypes, tensor conversion, names and process-wide settings (``keras.backend``).

Nothing here imports any other part of Lamina. ``lamina.backend`` is also the public ``keras.backend``
module.

Example:
    >>> import lamina
    >>> lamina.backend.floatx()
    'float32'
    >>> with lamina.backend.device_scope("cpu"):
    ...     str(lamina.backend.default_device())
    'cpu'
"""

from lamina.backend import config
from lamina.backend.config import (
    disable_flash_attention,
    enable_flash_attention,
    epsilon,
    floatx,
    image_data_format,
    is_flash_attention_enabled,
    set_epsilon,
    set_floatx,
    set_image_data_format,
)
from lamina.backend.core import (
    backend,
    clear_session,
    convert_to_tensor,
    default_device,
    device,
    device_scope,
    is_keras_tensor,
    on_clear_session,
    set_default_device,
    set_random_seed,
    to_numpy,
    torch_dtype,
)
from lamina.backend.dtypes import is_float_dtype, is_int_dtype, result_type, standardize_dtype
from lamina.backend.naming import get_uid, name_scope

on_clear_session(config.reset_session_settings)

__all__ = [
    "backend",
    "clear_session",
    "convert_to_tensor",
    "default_device",
    "device",
    "device_scope",
    "disable_flash_attention",
    "enable_flash_attention",
    "epsilon",
    "floatx",
    "get_uid",
    "image_data_format",
    "is_flash_attention_enabled",
    "is_float_dtype",
    "is_int_dtype",
    "is_keras_tensor",
    "name_scope",
    "result_type",
    "set_default_device",
    "set_epsilon",
    "set_floatx",
    "set_image_data_format",
    "set_random_seed",
    "standardize_dtype",
    "to_numpy",
    "torch_dtype",
]
