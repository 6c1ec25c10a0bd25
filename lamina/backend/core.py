"""The one owner of device, default float type and random seeds.

Layers take ``dtype=``, never ``device=``; weights are created on the device of
the first input they see (or on :func:`default_device` when built from a
shape). A built model moves with ``model.to(...)``.
"""

from __future__ import annotations

import contextlib
import random
import threading
from collections.abc import Iterator

import numpy as np
import torch

from lamina.backend import naming
from lamina.backend.config import floatx

_state = threading.local()

_DTYPE_ALIASES = {
    "float": "float32",
    "double": "float64",
    "half": "float16",
    "int": "int64",
    "long": "int64",
}


def standardize_dtype(dtype: object) -> str:
    """Turns a torch dtype, numpy dtype or string into a Keras dtype name.

    Text is Keras's ``"string"`` (also from ``str`` and NumPy's unicode/bytes dtypes): it has no
    torch dtype, and lives in NumPy arrays of Python strings (see :func:`torch_dtype`).
    """
    if dtype is None:
        return floatx()
    if isinstance(dtype, torch.dtype):
        return str(dtype).removeprefix("torch.")
    if dtype is str or dtype in ("string", "str"):
        return "string"
    if isinstance(dtype, str) and dtype.lstrip("<>|=")[:1] in ("U", "S") and dtype.lstrip("<>|=")[1:].isdigit():
        return "string"  # NumPy's "<U5" / "|S3"
    if isinstance(dtype, np.dtype) and dtype.kind in "US":
        return "string"
    if isinstance(dtype, str):
        name = _DTYPE_ALIASES.get(dtype, dtype)
    elif hasattr(dtype, "name") and not callable(dtype.name):
        name = str(dtype.name)
    else:
        try:
            name = np.dtype(dtype).name
        except TypeError as e:
            raise ValueError(f"Invalid dtype: {dtype!r}") from e
    name = _DTYPE_ALIASES.get(name, name)
    if not hasattr(torch, name) or not isinstance(getattr(torch, name), torch.dtype):
        raise ValueError(f"Invalid dtype: {dtype!r}")
    return name


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
    return getattr(torch, name)


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


def is_float_dtype(dtype: torch.dtype) -> bool:
    return dtype.is_floating_point


def to_numpy(x: object) -> np.ndarray:
    """A NumPy copy of a tensor (any device, grad or not)."""
    if isinstance(x, torch.Tensor):
        x = x.detach()
        if x.dtype == torch.bfloat16:
            x = x.float()
        return x.cpu().numpy()
    return np.asarray(x)


def clear_session() -> None:
    """Resets name counters (``dense``, ``dense_1``, ...) as ``keras.backend.clear_session`` does."""
    naming.reset_uids()
