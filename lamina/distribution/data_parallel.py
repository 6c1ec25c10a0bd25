"""``DataParallel``: the same model on every process, each process on its slice of every global batch.

Under ``torchrun`` (one process per GPU, or per CPU worker with gloo) ``fit`` then:

* wraps the model once in ``DistributedDataParallel`` (rank 0's weights are broadcast to all);
* feeds each process ``1/world_size`` of every global batch (:mod:`lamina.distribution.sharding`);
* averages gradients during the backward pass with a DDP communication hook that weights each
  process by its share of the global batch (``local_count / global_count``), so that the step equals
  the single-process step on the whole global batch even for a ragged last batch (for the default
  ``"sum_over_batch_size"`` loss reduction; with ``reduction="sum"`` the local sums are added);
* all-reduces the metric *state* (totals and counts) at every logging point, so the epoch logs,
  ``History``, validation and ``evaluate`` are the global values, identical on every rank;
* prints progress and writes files (``ModelCheckpoint``, ``BackupAndRestore``, ``CSVLogger``,
  ``TensorBoard``, ``model.save``) on rank 0 only; ``predict`` gathers the full result in order.

Batch-level logs (what a callback sees in ``on_train_batch_end``) are the process's own values:
exchanging them every step would cost a synchronization per step.
"""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np
import torch
import torch.distributed as dist

from lamina import backend
from lamina.backend import distribution_lib
from lamina.backend.distribution_lib import (
    DEFAULT_BATCH_DIM_NAME,
    DeviceMesh,
    Distribution,
    _launched,
    _to_torch_device,
    list_devices,
)
from lamina.callbacks import (
    BackupAndRestore,
    Callback,
    CallbackList,
    CSVLogger,
    ModelCheckpoint,
    ProgbarLogger,
    TensorBoard,
)
from lamina.distribution import sharding
from lamina.distribution.collectives import (
    ProcessCollectives,
    _explain_peer_error,
    _HookState,
    _weighted_allreduce_hook,
)
from lamina.trainers.trainer import Trainer

_DDP_HAS_FORWARD_SYNC = (
    "forward_sync_buffers" in inspect.signature(torch.nn.parallel.DistributedDataParallel.__init__).parameters
)


class _ForwardLoss(torch.nn.Module):
    """The module DDP wraps: forward pass and loss of the model (what ``train_step`` calls)."""

    def __init__(self, model: Any) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: Any, y: Any, sample_weight: Any) -> Any:
        return self.model._forward_loss(x, y, sample_weight)


class _DDPHolder:
    """The model's DDP wrapper, kept in ``model.__dict__``; copies and pickles of the model drop it."""

    __slots__ = ("key", "ddp", "fwd")

    def __reduce__(self) -> Any:
        return (_DDPHolder, ())


def _metric_objects(model: Any) -> list[Any]:
    out = []
    for m in model.metrics:
        if hasattr(m, "variables"):
            out.append(m)
        else:  # CompileMetrics: a container of metrics
            out.extend(getattr(m, "metrics", []))
    return out


def _metric_variables(model: Any) -> list[Any]:
    return [v for m in _metric_objects(model) for v in m.variables]


class _FrozenMetrics:
    """Runs a step whose metric updates must be discarded (a stand-in sample): restores the metric state."""

    def __init__(self, model: Any) -> None:
        self.model = model

    def __enter__(self) -> None:
        self.saved = {id(v.value): v.value.detach().clone() for v in _metric_variables(self.model)}

    def __exit__(self, *exc: Any) -> None:
        with torch.no_grad():
            for v in _metric_variables(self.model):
                t = v.value
                saved = self.saved.get(id(t))
                if saved is None:
                    t.zero_()  # created (or moved) during the step: back to its initial zeros
                else:
                    t.copy_(saved)


class DataParallel(ProcessCollectives, Distribution):
    """Data-parallel training over ``torch.distributed`` (DDP; NCCL on GPUs, gloo on CPUs).

    Under ``torchrun`` it joins the process group from the launcher's environment and puts this
    process on GPU ``LOCAL_RANK`` (or the CPU). ``batch_size`` stays the *global* batch: each of
    the ``world_size`` processes computes ``batch_size / world_size`` samples per step. Without a
    launcher it is a single process and training is unchanged.

    Args:
        device_mesh: a 1-D :class:`DeviceMesh` (alternative to ``devices``).
        devices: the devices of the job, e.g. ``["gpu:0", "gpu:1"]``; process ``LOCAL_RANK`` uses
            ``devices[LOCAL_RANK]``. Default: GPU ``LOCAL_RANK`` if there are GPUs, else the CPU.
        auto_shard_dataset: split every global batch among the processes (default). ``False`` when
            each process already feeds its own data: then ``batch_size`` is per process, gradients
            are averaged with equal weights, and ``predict`` returns each process's own outputs.
        backend: ``"nccl"`` or ``"gloo"`` (default: NCCL for GPUs, gloo for the CPU).
        timeout: seconds any collective may wait for the other processes before raising (default
            600, or the ``LAMINA_DISTRIBUTION_TIMEOUT`` environment variable), so a crashed or stuck
            peer ends the job with an error instead of a hang.
        find_unused_parameters: passed to DDP, for models whose loss does not use every trainable weight.
        broadcast_buffers: DDP's option: rank 0's non-trainable weights (BatchNormalization moving
            statistics) are copied to all processes before each forward pass.

    Example:
        >>> import lamina
        >>> dp = lamina.distribution.DataParallel(devices=["cpu:0"])   # no launcher: one process
        >>> dp.num_processes, dp.process_id
        (1, 0)
    """

    def __init__(
        self,
        device_mesh: DeviceMesh | None = None,
        devices: Any = None,
        auto_shard_dataset: bool = True,
        *,
        backend: str | None = None,
        timeout: float | None = None,
        find_unused_parameters: bool = False,
        broadcast_buffers: bool = True,
    ) -> None:
        if device_mesh is not None:
            if not isinstance(device_mesh, DeviceMesh):
                raise ValueError(
                    f"Expect `mesh` to be an instance of `DeviceMesh`. Received: mesh={device_mesh} "
                    f"(of type {type(device_mesh)})"
                )
            devices = list(np.asarray(device_mesh.devices).reshape(-1))
            batch_dim = device_mesh.axis_names[0]
        else:
            batch_dim = DEFAULT_BATCH_DIM_NAME
        if devices is not None and len(devices) == 0:
            raise ValueError("`devices` must not be empty. Received: devices=[]")
        if backend is None and devices is not None and all(str(d).lower().startswith("cpu") for d in devices):
            backend = "gloo"
        if _launched() and not dist.is_initialized():
            distribution_lib.initialize(backend=backend, timeout=timeout)
        local_rank = distribution_lib._env_int("LOCAL_RANK", default=0) or 0
        self._device = self._pick_device(devices, local_rank)
        if device_mesh is None:
            mesh_devices = list(devices) if devices is not None else self._default_mesh_devices()
            device_mesh = DeviceMesh((len(mesh_devices),), [batch_dim], mesh_devices)
        super().__init__(device_mesh, batch_dim, auto_shard_dataset)
        self.find_unused_parameters = bool(find_unused_parameters)
        self.broadcast_buffers = bool(broadcast_buffers)
        self._timeout_s = timeout
        self._hook_state = _HookState(None)
        self._last_weight = 1.0  # this process's share of the last batch (weights plain-dict logs)
        if self._is_multi_process():
            self._backend = dist.get_backend()
            self._comm_device = (
                torch.device("cuda", torch.cuda.current_device()) if self._backend == "nccl" else torch.device("cpu")
            )
            if self._device.type == "cuda":
                torch.cuda.set_device(self._device)
            _set_default_device(self._device)
        else:
            self._backend = None
            self._comm_device = torch.device("cpu")

    # ------------------------------------------------------------------ devices
    def _default_mesh_devices(self) -> list[str]:
        if dist.is_initialized() and dist.get_world_size() > 1:
            kind = "gpu" if self._device.type == "cuda" else "cpu"
            return [f"{kind}:{i}" for i in range(dist.get_world_size())]
        return list_devices()[:1] if self._device.type == "cuda" else ["cpu:0"]

    @staticmethod
    def _pick_device(devices: Any, local_rank: int) -> torch.device:
        if devices is not None:
            devices = list(devices)
            name = devices[local_rank] if local_rank < len(devices) else devices[local_rank % len(devices)]
            device = _to_torch_device(name)
            if device.type == "cpu":
                return torch.device("cpu")  # every process uses "the" CPU (its own cores)
            if device.type == "cuda" and device.index is None:
                device = torch.device("cuda", local_rank)
            return device
        if torch.cuda.is_available() and (not dist.is_initialized() or dist.get_backend() == "nccl"):
            count = torch.cuda.device_count()
            if _launched() and local_rank >= count:
                raise ValueError(
                    f"Process with LOCAL_RANK={local_rank} has no GPU: this machine has {count}. Launch "
                    f"at most {count} processes per node (torchrun --nproc_per_node={count})."
                )
            return torch.device("cuda", local_rank)
        return torch.device("cpu")

    @property
    def device(self) -> torch.device:
        """The device this process trains on."""
        return self._device

    @property
    def num_model_replicas(self) -> int:
        return self.num_processes

    @property
    def data_shard_id(self) -> int:
        return self.process_id

    def _sync_model_state(self, model: Any, buffers_only: bool = False) -> None:
        tensors = [] if buffers_only else [p for p in model.parameters()]
        tensors += [b for b in model.buffers() if b.is_floating_point() or not buffers_only]
        if tensors:
            self._broadcast_tensors(tensors)

    def reduce_metrics(self, model: Any) -> None:
        """Replaces every metric's state by its sum over the processes (one collective per dtype)."""
        variables = _metric_variables(model)
        if not variables:
            return
        groups: dict[tuple, list[Any]] = {}
        for v in variables:
            t = v.value
            groups.setdefault((t.dtype, t.device), []).append(v)
        with torch.no_grad():
            for vs in groups.values():
                ts = [v.value for v in vs]
                flat = torch.cat([t.reshape(-1) for t in ts]).to(self._comm_device)
                dist.all_reduce(flat)
                flat = flat.to(ts[0].device)
                offset = 0
                for v, t in zip(vs, ts):
                    n = t.numel()
                    part = flat[offset : offset + n].view_as(t)
                    if getattr(v, "aggregation", "sum") == "mean":
                        part = part / self.num_processes
                    t.copy_(part)
                    offset += n

    # ------------------------------------------------------------------ data
    def _shard(self, adapter: Any, seed: int) -> Any:
        if adapter is None or not self.auto_shard_dataset:
            return adapter

        return sharding.shard_adapter(adapter, self.process_id, self.num_processes, seed, self._broadcast_ints)

    def _agree(self, adapters: list[Any]) -> int:
        """One collective: rank 0's data seed, and a clear error if the processes disagree on the batch counts."""
        seed = getattr(adapters[0], "seed", None)
        seed = int(seed) if seed is not None else 0  # no draw here: the random streams stay as in one process
        counts = [-1 if a is None or a.num_batches is None else int(a.num_batches) for a in adapters]
        try:
            gathered = self._all_gather_ints([seed, *counts])
        except RuntimeError as e:
            raise RuntimeError(
                "Under DataParallel, `fit`, `evaluate` and `predict` are collective: every process must call them, "
                "with the same data. To run one on a single process (e.g. `if rank == 0: model.evaluate(...)`), "
                "call `keras.distribution.set_distribution(None)` before it and set the distribution back after. "
                f"Original error: {e}"
            ) from e
        for i in range(len(adapters)):
            per_rank = [g[1 + i] for g in gathered]
            if len(set(per_rank)) > 1:
                what = "training" if i == 0 else "validation"
                raise ValueError(
                    f"The processes disagree on the number of {what} batches per epoch: {per_rank} (one entry per "
                    "rank). Every process must see the same data (same length, `batch_size` and `steps`); with "
                    "`auto_shard_dataset=False`, give every process the same number of batches."
                )
        return gathered[0][0]

    def _check_model_device(self, model: Any) -> None:
        for p in model.parameters():
            if p.device != self._device:
                raise ValueError(
                    f"This process trains on {self._device}, but the model's weights are on {p.device}. Call "
                    "`set_distribution(DataParallel())` before creating the model (or move it with "
                    f"`model.to('{self._device}')`)."
                )
            return

    def _filter_callbacks(self, callbacks: Any) -> Any:
        """On ranks other than 0: no file writers; BackupAndRestore only restores."""
        if self.is_chief or callbacks is None:
            return callbacks

        if isinstance(callbacks, CallbackList):
            return callbacks
        out = []
        for cb in callbacks:
            if isinstance(cb, (ModelCheckpoint, CSVLogger, TensorBoard, ProgbarLogger)):
                continue
            out.append(_RestoreOnly(cb) if isinstance(cb, BackupAndRestore) else cb)
        return out

    # ------------------------------------------------------------------ trainer hooks
    def _fit_begin(self, model: Any, adapter: Any, val_adapter: Any, callbacks: Any) -> tuple[Any, Any, Any]:
        """Start of ``fit``: shard both adapters (shared seed), check agreement, filter rank>0 callbacks."""
        self._check_model_device(model)
        seed = self._agree([adapter, val_adapter])
        return self._shard(adapter, seed), self._shard(val_adapter, seed), self._filter_callbacks(callbacks)

    def _eval_begin(self, model: Any, adapter: Any, callbacks: Any) -> tuple[Any, Any]:
        """Start of ``evaluate``/``predict``: every process gets rank 0's weights, then its data shard."""
        self._check_model_device(model)
        seed = self._agree([adapter])
        if model.built:
            self._sync_model_state(model)
        return self._shard(adapter, seed), self._filter_callbacks(callbacks)

    def _loss_is_summed(self, model: Any) -> bool:
        cl = getattr(model, "_compile_loss", None)
        fns = [f for f in getattr(cl, "losses", []) if f is not None]
        return bool(fns) and all(getattr(f, "reduction", None) == "sum" for f in fns)

    def _install_ddp(self, model: Any) -> None:
        params = [p for p in model.parameters() if p.requires_grad]
        saved = model.__dict__.get("_compiled_fwd")
        model.__dict__["_dist_saved_fwd"] = saved
        if not params:  # nothing to train: no gradients to average
            self._sync_model_state(model)
            return

        if type(model).train_step is not Trainer.train_step:
            # A user-written train_step may not call the forward pass DDP wraps: average the gradients
            # where every step ends instead, in the optimizer's ``apply``.
            self._sync_model_state(model)
            self._patch_optimizer(model)
            return
        key = (tuple(id(p) for p in params), bool(getattr(model, "_jit_compile", False)))
        holder = model.__dict__.get("_lamina_ddp")
        if holder is None or getattr(holder, "key", None) != key:
            from torch.nn.parallel import DistributedDataParallel

            device_ids = [self._device.index] if self._device.type == "cuda" else None
            self._hook_state = _HookState(None)
            sync = (
                {"forward_sync_buffers": self.broadcast_buffers}
                if _DDP_HAS_FORWARD_SYNC
                else {"broadcast_buffers": self.broadcast_buffers}
            )
            ddp = DistributedDataParallel(  # broadcasts rank 0's weights and buffers to every process
                _ForwardLoss(model), device_ids=device_ids, find_unused_parameters=self.find_unused_parameters, **sync
            )
            ddp.register_comm_hook(self._hook_state, _weighted_allreduce_hook)
            holder = _DDPHolder()
            holder.key = key
            holder.ddp = ddp
            # A bound method, not the module: the trainer tests it for truth (compiled modules reject len()).
            holder.fwd = (torch.compile(ddp) if key[1] else ddp).__call__
            model.__dict__["_lamina_ddp"] = holder
        else:  # wrapped in an earlier fit: bring every process back to rank 0's state
            self._sync_model_state(model)
        model.__dict__["_compiled_fwd"] = holder.fwd

    def _patch_optimizer(self, model: Any) -> None:
        opt = model.optimizer
        if opt is None or "apply" in opt.__dict__:
            return
        original = opt.apply
        me = self

        def apply(grads: Any, trainable_variables: Any = None) -> Any:
            grads = list(grads)
            present = [g for g in grads if g is not None]
            if present:
                me._all_reduce_weighted(present, me._hook_state.weight)
            return original(grads, trainable_variables)

        opt.__dict__["apply"] = apply
        model.__dict__["_dist_patched_opt"] = opt

    def _wrap_train_function(self, model: Any, train_fn: Any, adapter: Any) -> Any:
        """The train step, run through DDP with this process's gradient weight for the batch."""
        installed = False
        summed = self._loss_is_summed(model)
        world = self.num_processes
        state_holder = self

        def step(batch: Any) -> Any:
            nonlocal installed
            if not installed:
                state_holder._install_ddp(model)
                installed = True
            count, total = getattr(adapter, "current", (None, None))
            if count is None or total is None:  # data not sharded by us: equal weights
                w = 1.0 if summed else 1.0 / world
            else:
                w = (1.0 if count else 0.0) if summed else count / total
            state_holder._hook_state.weight = state_holder._last_weight = w
            try:
                if count == 0:
                    with _FrozenMetrics(model):
                        return train_fn(batch)
                return train_fn(batch)
            except RuntimeError as e:
                raise _explain_peer_error(e, state_holder) from e

        return step

    def _wrap_test_function(self, model: Any, test_fn: Any, adapter: Any) -> Any:
        """The test step; a stand-in sample's metric updates are discarded."""

        world = self.num_processes
        me = self

        def step(batch: Any) -> Any:
            count, total = getattr(adapter, "current", (None, None))
            me._last_weight = 1.0 / world if count is None or total is None else count / total
            try:
                if count == 0:
                    with _FrozenMetrics(model):
                        return test_fn(batch)
                return test_fn(batch)
            except RuntimeError as e:
                raise _explain_peer_error(e, me) from e

        return step

    def _global_logs(self, model: Any, logs: Any, sync_buffers: bool = False) -> Any:
        """At a logging point: sums the metric state over the processes (and handles plain-dict logs)."""
        if sync_buffers:  # BatchNormalization statistics: rank 0's, everywhere
            bufs = [b for b in model.buffers() if b.is_floating_point()]
            if bufs:
                self._broadcast_tensors(bufs)
        if not isinstance(logs, dict) or not logs:
            self.reduce_metrics(model)
            return logs  # lazy logs: computed from the (now global) metric state
        # A user-written step returned plain values (of its last batch). A value equal to a metric's local
        # result (in every process) is replaced by the metric's global result; any other number (such as
        # that batch's loss) is combined with each process's share of the batch as weight.
        local = {k: float(v) for k, v in model.get_metrics_result().items()}  # host sync, once per logging point
        keys = sorted(k for k, v in logs.items() if isinstance(v, (torch.Tensor, float, int, np.ndarray, np.generic)))
        raw = [float(logs[k]) for k in keys]
        matched = [1.0 if (k in local and local[k] == v) else 0.0 for k, v in zip(keys, raw)]
        w = self._last_weight
        weighted = [v * w if w else 0.0 for v in raw]  # a stand-in step (weight 0) adds nothing, even NaN
        packed = torch.tensor(weighted + matched, dtype=torch.float64, device=self._comm_device)
        self.reduce_metrics(model)
        dist.all_reduce(packed)
        packed = packed.tolist()
        results = model.get_metrics_result()
        out = dict(logs)
        for i, k in enumerate(keys):
            everywhere = packed[len(keys) + i] == self.num_processes
            out[k] = results[k] if everywhere else packed[i]
        return out

    def _fit_end(self, model: Any) -> None:
        """End of ``fit`` (also on errors): unwrap the forward pass; BatchNorm statistics from rank 0."""
        opt = model.__dict__.pop("_dist_patched_opt", None)
        if opt is not None:
            opt.__dict__.pop("apply", None)
        if "_dist_saved_fwd" in model.__dict__:
            model.__dict__["_compiled_fwd"] = model.__dict__.pop("_dist_saved_fwd")
            try:
                bufs = [b for b in model.buffers() if b.is_floating_point()]
                if bufs:
                    self._broadcast_tensors(bufs)
            except RuntimeError:
                pass  # a peer is gone; the original error is already propagating


def _set_default_device(device: torch.device) -> None:
    """New weights and data of this process go to ``device`` (the process's GPU under torchrun)."""
    backend.set_default_device(device)


_RESTORE_ONLY: Any = None


def _RestoreOnly(inner: Any) -> Any:  # noqa: N802 - used like a class
    """On ranks other than 0, a ``BackupAndRestore`` that restores (every rank resumes alike) but never writes."""
    global _RESTORE_ONLY
    if _RESTORE_ONLY is None:

        class RestoreOnly(Callback):
            def __init__(self, wrapped: Any) -> None:
                super().__init__()
                self.wrapped = wrapped

            def set_model(self, model: Any) -> None:
                super().set_model(model)
                self.wrapped.set_model(model)

            def set_params(self, params: dict) -> None:
                super().set_params(params)
                self.wrapped.set_params(params)

            def on_train_begin(self, logs: Any = None) -> None:
                self.wrapped.on_train_begin(logs)

            def on_train_batch_begin(self, batch: int, logs: Any = None) -> None:
                self.wrapped.on_train_batch_begin(batch, logs)

        _RESTORE_ONLY = RestoreOnly
    return _RESTORE_ONLY(inner)
