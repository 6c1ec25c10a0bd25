"""The one owner of device, default float type and random seeds.

Layers take ``dtype=``, never ``device=``; weights are created on the device of
the first input they see (or on :func:`default_device` when built from a
shape). A built model moves with ``model.to(...)``.
"""

from __future__ import annotations

import contextlib
import gc
import random
import sys
import threading
from collections.abc import Callable, Iterator

import numpy as np
import torch

from lamina.backend import naming
from lamina.backend.config import floatx
from lamina.backend.dtypes import standardize_dtype

_state = threading.local()


def torch_dtype(dtype: object) -> torch.dtype:
    """The ``torch.dtype`` for a Keras dtype name (or anything :func:`standardize_dtype` takes)."""
    if isinstance(dtype, torch.dtype):
        return dtype
    name = standardize_dtype(dtype)
    if name == "string":
        raise ValueError(
            "The dtype 'string' has no torch dtype: text stays in NumPy arrays of Python strings "
            "and only text layers (TextVectorization, StringLookup, Hashing, ...) take it."
        )
    value = getattr(torch, name, None)
    if not isinstance(value, torch.dtype):
        raise ValueError(f"The dtype {name!r} has no torch dtype in this torch version. Received: dtype={dtype!r}")
    return value


def _auto_device() -> torch.device:
    if torch.cuda.is_available():
        return torch.device("cuda")
    return torch.device("cpu")


_DEFAULT_DEVICE: torch.device | None = None

# The process-wide ``SeedGenerator`` that ``lamina.random`` uses for unseeded draws; it is created there on
# first use and held here so that ``set_random_seed`` can drop it (Keras recreates it from the new seed).
GLOBAL_SEED_GENERATOR: list = [None]


def default_device() -> torch.device:
    """Where new weights and batches go: the innermost :func:`device_scope`, else the GPU if any."""
    scoped = getattr(_state, "device", None)
    if scoped is not None:
        return scoped
    global _DEFAULT_DEVICE
    if _DEFAULT_DEVICE is None:
        _DEFAULT_DEVICE = _auto_device()
    return _DEFAULT_DEVICE


def set_default_device(device: str | torch.device | None) -> None:
    """Sets the process-wide default device (``None`` goes back to automatic choice)."""
    global _DEFAULT_DEVICE
    _DEFAULT_DEVICE = None if device is None else torch.device(device)


@contextlib.contextmanager
def device_scope(device: str | torch.device) -> Iterator[None]:
    """Within the block, new weights and batches are placed on ``device``."""
    previous = getattr(_state, "device", None)
    _state.device = torch.device(device)
    try:
        yield
    finally:
        _state.device = previous


def set_random_seed(seed: int) -> None:
    """Seeds Python, NumPy and torch so initialisation and shuffling repeat.

    Example:
        >>> import lamina
        >>> lamina.utils.set_random_seed(1)
        >>> a = lamina.layers.Dense(2); a.build((None, 3))
        >>> lamina.utils.set_random_seed(1)
        >>> b = lamina.layers.Dense(2); b.build((None, 3))
        >>> bool((a.kernel == b.kernel).all())
        True
    """
    if not isinstance(seed, int):
        raise ValueError(f"set_random_seed expects an integer seed. Received: seed={seed!r}")
    random.seed(seed)
    np.random.seed(seed % (2**32))
    torch.manual_seed(seed)
    GLOBAL_SEED_GENERATOR[0] = None


def backend() -> str:
    """The name of the compute backend: always ``"torch"``."""
    return "torch"


def convert_to_tensor(x: object, dtype: object = None, device: torch.device | None = None) -> torch.Tensor:
    """Turns arrays, lists and scalars into a torch tensor on ``device``.

    float64 NumPy data becomes ``floatx()`` as Keras does, unless ``dtype`` says otherwise.
    """
    target = None if dtype is None else torch_dtype(dtype)
    if isinstance(x, torch.Tensor):
        if target is not None and x.dtype != target:
            x = x.to(target)
        if device is not None and x.device != device:
            x = x.to(device)
        return x
    if hasattr(x, "__array__") and not isinstance(x, np.ndarray) and hasattr(x, "numpy"):
        x = np.asarray(x)
    if isinstance(x, (list, tuple)) or np.isscalar(x):
        x = np.asarray(x)
        if target is None and x.dtype == np.float64:
            target = torch_dtype(floatx())
    if isinstance(x, np.ndarray):
        if target is None and x.dtype == np.float64:
            target = torch_dtype(floatx())
        if x.dtype == object:
            raise TypeError(f"Cannot convert an object array to a tensor. Received dtype=object, shape={x.shape}")
        t = torch.from_numpy(np.ascontiguousarray(x).reshape(x.shape))  # ascontiguousarray makes 0-d arrays 1-d
    else:
        t = torch.as_tensor(x)
    if target is not None and t.dtype != target:
        t = t.to(target)
    dev = device if device is not None else default_device()
    if t.device != dev:
        t = t.to(dev)
    return t


def to_numpy(x: object) -> np.ndarray:
    """A NumPy copy of a tensor (any device, grad or not)."""
    if isinstance(x, torch.Tensor):
        x = x.detach()
        if x.dtype == torch.bfloat16:
            x = x.float()
        return x.cpu().numpy()
    return np.asarray(x)


_SESSION_RESETS: list[Callable[[], None]] = []


def on_clear_session(reset: Callable[[], None]) -> Callable[[], None]:
    """Registers ``reset`` to run on :func:`clear_session` (settings Keras keeps in its global state)."""
    _SESSION_RESETS.append(reset)
    return reset


def clear_session(free_memory: bool = True) -> None:
    """Resets the state Keras keeps per session, as ``keras.backend.clear_session`` does.

    Forgets the names handed out (the next ``Dense`` is ``dense`` again), the name scopes, and the settings
    Keras keeps in its global state: the global dtype policy, interactive logging, flash attention and
    traceback filtering go back to their defaults (``floatx``, ``epsilon`` and ``image_data_format`` stay).
    Compiled functions' caches are dropped (``torch._dynamo.reset()``), as Keras does on torch.

    Args:
        free_memory: also run Python's garbage collector (and release cached GPU memory), so memory held
            by deleted models is freed at once.

    Example:
        >>> import lamina
        >>> _ = lamina.layers.Dense(1), lamina.layers.Dense(1)
        >>> lamina.backend.clear_session()
        >>> lamina.layers.Dense(1).name
        'dense'
    """
    if not isinstance(free_memory, bool):
        raise TypeError(f"`free_memory` must be a bool. Received: free_memory={free_memory!r}")
    naming.reset_uids()
    naming.reset_name_scopes()
    for reset in _SESSION_RESETS:
        reset()
    dynamo = sys.modules.get("torch._dynamo")  # only loaded once something was compiled
    if dynamo is not None:
        dynamo.reset()
    if free_memory:
        gc.collect()
        if torch.cuda.is_available():
            torch.cuda.empty_cache()


def device(device_name: str) -> contextlib.AbstractContextManager[None]:
    """``with keras.device("gpu:0"):`` places new weights and batches on that device (Keras's names).

    ``"gpu"`` is read as ``"cuda"``, as Keras does on torch; ``"cpu"``, ``"cuda:1"``, ``"mps"`` are torch's.

    Raises:
        ValueError: for anything but a device name string.

    Example:
        >>> import lamina
        >>> with lamina.device("cpu"):
        ...     str(lamina.backend.default_device())
        'cpu'
    """
    if not isinstance(device_name, str):
        raise ValueError(
            "Invalid value for argument `device_name`. Expected a string like 'gpu:0' or 'cpu'. "
            f"Received: device_name={device_name!r}"
        )
    name = device_name.lower().replace("gpu", "cuda")
    try:
        parsed = torch.device(name)
    except RuntimeError as e:
        raise ValueError(
            f"Invalid value for argument `device_name`: {device_name!r} is not a device. "
            "Expected a string like 'gpu:0', 'cuda:1' or 'cpu'."
        ) from e
    return device_scope(parsed)


# The symbolic tensor type lives in `lamina.ops` (above this floor); it registers itself here, so this
# check imports nothing from above.
_SYMBOLIC_TYPES: tuple[type, ...] = ()


def register_symbolic_type(cls: type) -> None:
    """Declares ``cls`` (Lamina's ``KerasTensor``) as the symbolic tensor type :func:`is_keras_tensor` knows."""
    global _SYMBOLIC_TYPES
    if cls not in _SYMBOLIC_TYPES:
        _SYMBOLIC_TYPES = (*_SYMBOLIC_TYPES, cls)


def is_keras_tensor(x: object) -> bool:
    """Whether ``x`` is a symbolic ``KerasTensor`` (what ``keras.Input`` and layers called on it return).

    Example:
        >>> import torch, lamina
        >>> lamina.backend.is_keras_tensor(lamina.Input((3,))), lamina.backend.is_keras_tensor(torch.ones(3))
        (True, False)
    """
    return isinstance(x, _SYMBOLIC_TYPES)
