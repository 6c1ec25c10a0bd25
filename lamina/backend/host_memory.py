"""Freed host memory kept for the next step while a training or inference loop runs (glibc's ``malloc``, Linux).

glibc serves a request above its mmap threshold (128 KiB, raised as it goes up to 32 MiB) with a fresh ``mmap`` and
unmaps it when it is freed, and it hands the top of its heap back to the system beyond a trim threshold. A training
step frees and requests the same large tensors every step (activations, their gradients, oneDNN's workspaces), so
every step faults their pages in again, each zero-filled by the kernel. Measured on the 2-core CPU of issue 15
(``resource.getrusage`` around a warm epoch of ``benchmarks/bench_fit.py``'s workloads): seed_cnn 83,000-85,000
minor page faults and 0.23-0.29 s of system time per step, the LSTM 6,400-9,600; none for the mlp or mnist_cnn,
whose tensors stay under the threshold.

``reuse_freed_memory()`` is entered by ``fit``, ``evaluate`` and ``predict`` (batched path): while it is held,
``mallopt(M_MMAP_MAX, 0)`` serves every request from the heap and ``mallopt(M_TRIM_THRESHOLD, 2 GiB - 1)`` keeps
freed memory there, so the next step reuses the pages it already has (seed_cnn: 0 faults a step, 537-693 -> 414-573
ms/step; LSTM 53-61 -> 33-42 ms/step; peak RSS 717 -> 836 MB). When the outermost holder leaves, glibc's defaults
come back and ``malloc_trim(0)`` returns the free pages to the system.

Nothing changes where the C library is not glibc, where ``LD_PRELOAD`` brings another allocator (jemalloc,
tcmalloc, mimalloc), where the user tuned glibc already (``MALLOC_MMAP_MAX_``, ``MALLOC_TRIM_THRESHOLD_``,
``MALLOC_MMAP_THRESHOLD_``, ``GLIBC_TUNABLES``), or with ``LAMINA_REUSE_HOST_MEMORY=0``.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import platform
import threading
from collections.abc import Iterator
from typing import Any

M_TRIM_THRESHOLD = -1
M_MMAP_MAX = -4
DEFAULT_MMAP_MAX = 65536  # glibc's defaults, restored when the loop ends
DEFAULT_TRIM_THRESHOLD = 128 * 1024
KEEP_TRIM_THRESHOLD = 2**31 - 1  # mallopt takes a C int

_USER_TUNING = ("MALLOC_MMAP_MAX_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_MMAP_THRESHOLD_", "GLIBC_TUNABLES")
_lock = threading.Lock()
_depth = 0
_tuned = False
_libc: Any = None
_looked_up = False


def _glibc() -> Any:
    """glibc's ``mallopt``/``malloc_trim``, or ``None`` where another allocator (or C library) serves ``malloc``."""
    global _libc, _looked_up
    if not _looked_up:
        _looked_up = True
        preload = os.environ.get("LD_PRELOAD", "")
        if platform.system() == "Linux" and platform.libc_ver()[0] == "glibc" and "malloc" not in preload:
            try:
                libc = ctypes.CDLL(None)
                libc.mallopt.argtypes, libc.mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
                libc.malloc_trim.argtypes, libc.malloc_trim.restype = [ctypes.c_size_t], ctypes.c_int
                _libc = libc
            except (OSError, AttributeError):  # a static or unusual build without the symbols
                _libc = None
    return _libc


def enabled() -> bool:
    """Whether ``reuse_freed_memory`` tunes ``malloc`` in this process (see the module docstring)."""
    if os.environ.get("LAMINA_REUSE_HOST_MEMORY", "1").strip().lower() in ("0", "false", "no", "off"):
        return False
    if any(name in os.environ for name in _USER_TUNING):
        return False
    return _glibc() is not None


def held() -> bool:
    """Whether a loop holds ``reuse_freed_memory`` now."""
    return _depth > 0


@contextlib.contextmanager
def reuse_freed_memory() -> Iterator[None]:
    """Keeps freed host memory in ``malloc``'s heap for reuse until the outermost ``with`` ends (re-entrant).

    Example:
        >>> import torch
        >>> from lamina.backend import host_memory
        >>> with host_memory.reuse_freed_memory():
        ...     y = torch.ones(4_000_000).sum()  # a 16 MB block, kept for the next request of its size
        >>> host_memory.held()
        False
    """
    global _depth, _tuned
    with _lock:
        if _depth == 0 and enabled():
            libc = _glibc()
            libc.mallopt(M_MMAP_MAX, 0)
            libc.mallopt(M_TRIM_THRESHOLD, KEEP_TRIM_THRESHOLD)
            _tuned = True
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _tuned:  # the last holder leaves (in any thread): glibc's defaults come back
                _tuned = False
                libc = _glibc()
                libc.mallopt(M_MMAP_MAX, DEFAULT_MMAP_MAX)
                libc.mallopt(M_TRIM_THRESHOLD, DEFAULT_TRIM_THRESHOLD)
                libc.malloc_trim(0)
