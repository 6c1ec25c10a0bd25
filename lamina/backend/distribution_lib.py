"""Keras's distribution API on ``torch.distributed``: devices, process groups and the global distribution.

``set_distribution(DataParallel())`` under ``torchrun`` turns every ``fit``/``evaluate``/``predict``
into data-parallel training across the processes (see :mod:`lamina.distribution.data_parallel`).
Run without a launcher, the same script trains on one device unchanged.

The training loop asks :func:`active` once per ``fit``/``evaluate``/``predict``: it is ``None``
unless a distribution spanning several processes is set, so single-process training pays one ``if``.
"""

from __future__ import annotations

import contextlib
import datetime
import math
import os
from collections.abc import Iterator
from typing import Any

import numpy as np
import torch
import torch.distributed as dist

# The distribution ``distribution()`` returns, and the same object when it spans several processes
# (what the training loop checks).
_GLOBAL: Any = None
_ACTIVE: Any = None

DEFAULT_BATCH_DIM_NAME = "batch"
# Seconds a collective (or the start-up rendezvous) may wait for the other processes before failing.
DEFAULT_TIMEOUT_S = 600.0


# ---------------------------------------------------------------------------- devices
def _standard_type(device_type: str | None) -> str:
    if device_type is None:
        return "gpu" if torch.cuda.is_available() else "cpu"
    t = str(device_type).lower()
    if t in ("gpu", "cuda"):
        return "gpu"
    if t == "cpu":
        return "cpu"
    raise ValueError(
        f"`device_type` must be 'cpu' or 'gpu' (PyTorch has no TPU support). Received: device_type={device_type!r}"
    )


def list_devices(device_type: str | None = None) -> list[str]:
    """The devices of this machine as Keras names them (``"gpu:0"``, ``"cpu:0"``).

    Args:
        device_type: ``"cpu"`` or ``"gpu"``; by default GPUs when there are any, else the CPU.

    Example:
        >>> import lamina
        >>> lamina.distribution.list_devices("cpu")
        ['cpu:0']
    """
    t = _standard_type(device_type)
    if t == "gpu":
        return [f"gpu:{i}" for i in range(torch.cuda.device_count())]
    return ["cpu:0"]


def get_device_count(device_type: str | None = None) -> int:
    """How many devices :func:`list_devices` returns for ``device_type``.

    Example:
        >>> import lamina
        >>> lamina.distribution.get_device_count("cpu")
        1
    """
    return len(list_devices(device_type))


def _to_torch_device(name: Any) -> torch.device:
    if isinstance(name, torch.device):
        return name
    s = str(name).lower()
    if s.startswith("gpu"):
        s = "cuda" + s[3:]
    return torch.device(s)


# ---------------------------------------------------------------------------- processes
def _env_int(*names: str, default: int | None = None) -> int | None:
    for n in names:
        v = os.environ.get(n)
        if v not in (None, ""):
            return int(v)
    return default


def _timeout(timeout: float | None) -> datetime.timedelta:
    if timeout is None:
        timeout = float(os.environ.get("LAMINA_DISTRIBUTION_TIMEOUT", DEFAULT_TIMEOUT_S))
    return datetime.timedelta(seconds=float(timeout))


def _explain_init_error(e: Exception, where: str) -> RuntimeError:
    msg = str(e)
    low = msg.lower()
    if "eaddrinuse" in low or "address already in use" in low:
        return RuntimeError(
            f"Could not start the distributed process group: the rendezvous port of {where} is already in use "
            "(another job, or a previous run still exiting). Pick a free port (torchrun --master-port / "
            f"--rdzv-endpoint, or MASTER_PORT), or launch with `torchrun --standalone`. Original error: {msg}"
        )
    if "timed out" in low or "timeout" in low:
        return RuntimeError(
            f"Could not start the distributed process group at {where}: the other processes did not join in "
            "time. Check that every process was launched with the same address, port and world size, and that "
            f"no process crashed before reaching `set_distribution`. Original error: {msg}"
        )
    return RuntimeError(f"Could not start the distributed process group at {where}: {msg}")


def initialize(
    job_addresses: str | None = None,
    num_processes: int | None = None,
    process_id: int | None = None,
    *,
    backend: str | None = None,
    timeout: float | None = None,
) -> None:
    """Joins this process to the job's process group (``torch.distributed.init_process_group``).

    Under ``torchrun`` nothing needs to be passed: the launcher's environment (``MASTER_ADDR``,
    ``MASTER_PORT``, ``WORLD_SIZE``, ``RANK``) is used. Otherwise pass the coordinator address and
    the job size, or set ``KERAS_DISTRIBUTION_JOB_ADDRESSES``, ``KERAS_DISTRIBUTION_NUM_PROCESSES``
    and ``KERAS_DISTRIBUTION_PROCESS_ID`` as for Keras. Does nothing when already initialized.

    Args:
        job_addresses: comma-separated ``host:port`` list; the first is the coordinator (process 0).
        num_processes: total number of processes.
        process_id: this process's rank, from 0 to ``num_processes - 1``.
        backend: ``"nccl"`` (default with GPUs) or ``"gloo"`` (default on CPU).
        timeout: seconds to wait for the other processes (start-up and every collective); default 600
            or ``LAMINA_DISTRIBUTION_TIMEOUT``.

    Raises:
        RuntimeError: naming the cause when the port is taken or the other processes do not join in time.
    """
    if dist.is_initialized():
        return
    if job_addresses is None:
        job_addresses = os.environ.get("KERAS_DISTRIBUTION_JOB_ADDRESSES")
    if num_processes is None:
        num_processes = _env_int("KERAS_DISTRIBUTION_NUM_PROCESSES", "WORLD_SIZE")
    if process_id is None:
        process_id = _env_int("KERAS_DISTRIBUTION_PROCESS_ID", "RANK")
    if num_processes is None or num_processes < 1:
        raise ValueError(
            "`initialize` needs the number of processes: launch with torchrun, or pass "
            f"`num_processes` (or set KERAS_DISTRIBUTION_NUM_PROCESSES). Received: {num_processes!r}"
        )
    if process_id is None or not 0 <= process_id < num_processes:
        raise ValueError(f"`process_id` must be in [0, {num_processes}). Received: process_id={process_id!r}")
    if job_addresses:
        coordinator = job_addresses.split(",")[0].strip()
        if ":" not in coordinator:
            coordinator = f"{coordinator}:{os.environ.get('MASTER_PORT', '29500')}"
        init_method = f"tcp://{coordinator}"
        where = coordinator
    else:
        if "MASTER_ADDR" not in os.environ or "MASTER_PORT" not in os.environ:
            raise ValueError(
                "`initialize` needs the coordinator address: launch with torchrun, pass "
                "`job_addresses='host:port'`, or set MASTER_ADDR and MASTER_PORT."
            )
        init_method = "env://"
        where = f"{os.environ['MASTER_ADDR']}:{os.environ['MASTER_PORT']}"
    if backend is None:
        backend = "nccl" if torch.cuda.is_available() and dist.is_nccl_available() else "gloo"
    if backend == "nccl":
        local = _env_int("LOCAL_RANK", default=process_id % max(torch.cuda.device_count(), 1))
        torch.cuda.set_device(local)
    try:
        dist.init_process_group(
            backend=backend,
            init_method=init_method,
            world_size=num_processes,
            rank=process_id,
            timeout=_timeout(timeout),
        )
    except (RuntimeError, ValueError) as e:  # DistNetworkError / DistStoreError are RuntimeErrors
        raise _explain_init_error(e, where) from e


def _launched() -> bool:
    """Whether a launcher (torchrun, or the KERAS_DISTRIBUTION_* variables) started a multi-process job."""
    n = _env_int("KERAS_DISTRIBUTION_NUM_PROCESSES", "WORLD_SIZE", default=1)
    return bool(n and n > 1)


# ---------------------------------------------------------------------------- mesh
class DeviceMesh:
    """A named grid of devices (Keras's ``DeviceMesh``); data parallelism uses a 1-D mesh.

    Args:
        shape: the mesh shape, e.g. ``(8,)``.
        axis_names: one name per axis, e.g. ``["batch"]``.
        devices: device names (default :func:`list_devices`).

    Example:
        >>> import lamina
        >>> lamina.distribution.DeviceMesh((1,), ["batch"], devices=["cpu:0"]).shape
        (1,)
    """

    def __init__(self, shape: Any, axis_names: Any, devices: Any = None) -> None:
        if not shape or not axis_names:
            raise ValueError(f"Shape and axis_names cannot be empty. Received: shape={shape}, axis_names={axis_names}")
        if len(shape) != len(axis_names):
            raise ValueError(
                f"Shape and axis_names should have same size. Received: shape={shape}, axis_names={axis_names}"
            )
        if devices is None:
            devices = list_devices()
        devices = np.array(devices)
        if math.prod(shape) != devices.size:
            raise ValueError(
                f"Shape does not match the number of devices. Received: shape={shape}; devices.shape={devices.shape}"
            )
        self._shape = tuple(shape)
        self._axis_names = list(axis_names)
        self._devices = np.reshape(devices, shape)

    @property
    def shape(self) -> tuple:
        return self._shape

    @property
    def axis_names(self) -> list[str]:
        return self._axis_names

    @property
    def devices(self) -> np.ndarray:
        return self._devices

    def __repr__(self) -> str:
        return f"<DeviceMesh shape={self.shape}, axis_names={self.axis_names}>"


# ---------------------------------------------------------------------------- distributions
class Distribution:
    """Base class of distributions: where the model and the data live, across processes.

    Args:
        device_mesh: the :class:`DeviceMesh`.
        batch_dim_name: the mesh axis the batch is split along.
        auto_shard_dataset: split the data among processes (``False`` when each process already
            reads its own part).
    """

    def __init__(
        self, device_mesh: DeviceMesh | None, batch_dim_name: str | None = None, auto_shard_dataset: bool = True
    ) -> None:
        self._device_mesh = device_mesh
        self._batch_dim_name = batch_dim_name
        self._auto_shard_dataset = auto_shard_dataset
        if dist.is_available() and dist.is_initialized():
            self._num_processes = dist.get_world_size()
            self._process_id = dist.get_rank()
        else:
            self._num_processes = 1
            self._process_id = 0

    @property
    def num_processes(self) -> int:
        """Total number of processes in the job (1 without a launcher)."""
        return self._num_processes

    @property
    def process_id(self) -> int:
        """This process's rank (0 is the chief: it prints progress and writes files)."""
        return self._process_id

    @property
    def is_chief(self) -> bool:
        return self._process_id == 0

    @property
    def device_mesh(self) -> DeviceMesh | None:
        return self._device_mesh

    @property
    def batch_dim_name(self) -> str | None:
        return self._batch_dim_name

    @property
    def auto_shard_dataset(self) -> bool:
        return self._auto_shard_dataset

    @auto_shard_dataset.setter
    def auto_shard_dataset(self, value: bool) -> None:
        self._auto_shard_dataset = bool(value)

    @contextlib.contextmanager
    def scope(self) -> Iterator[None]:
        """Makes this distribution the current one inside the ``with`` block."""
        previous = distribution()
        set_distribution(self)
        try:
            yield
        finally:
            set_distribution(previous)

    def _is_multi_process(self) -> bool:
        return self._num_processes > 1

    def __repr__(self) -> str:
        return f"<{type(self).__name__} num_processes={self.num_processes}, process_id={self.process_id}>"


class ModelParallel(Distribution):
    """Sharding the model's weights across devices (Keras's ``ModelParallel``): not available yet.

    Lamina trains models that fit on one device with :class:`DataParallel`. Sharded weights
    (FSDP / ``torch.distributed.fsdp.fully_shard``) are planned.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise NotImplementedError(
            "`ModelParallel` (sharding weights across devices) is not available in Lamina yet. For models that fit "
            "on one device use `lamina.distribution.DataParallel()` with torchrun."
        )


def distribution() -> Distribution | None:
    """The current global distribution (``None`` if none was set).

    Example:
        >>> import lamina
        >>> lamina.distribution.distribution() is None
        True
    """
    return _GLOBAL


def set_distribution(value: Distribution | None) -> None:
    """Sets the global distribution used by ``fit``, ``evaluate`` and ``predict`` (``None`` to unset).

    Example:
        >>> import lamina
        >>> lamina.distribution.set_distribution(None)
    """
    global _GLOBAL, _ACTIVE
    if value is not None and not isinstance(value, Distribution):
        raise ValueError(f"Expected a `lamina.distribution.Distribution` or None. Received: {value!r}")
    _GLOBAL = value
    _ACTIVE = value if (value is not None and value._is_multi_process()) else None


def active() -> Any:
    """The distribution the training loop must honour: set and spanning several processes, else ``None``."""
    return _ACTIVE


def skips_writes() -> bool:
    """True in the processes that must not write files (every rank but 0 of a multi-process job)."""
    return _ACTIVE is not None and not _ACTIVE.is_chief


def barrier() -> None:
    """Waits until every process reaches this point (no-op in a single process).

    Useful after ``model.save`` (which only rank 0 performs) when the other ranks read the file.
    """
    if _ACTIVE is not None:
        _ACTIVE._barrier()
