"""The collective operations of data-parallel training: barriers, broadcasts, weighted all-reduces, and
ordered gathers of predictions across processes."""

from __future__ import annotations

from typing import Any

import torch
import torch.distributed as dist

from lamina import backend, tree
from lamina.backend import distribution_lib
from lamina.trainers.loops import _concat_outputs


class ProcessCollectives:
    """What ``DataParallel`` runs between its processes (a mixin: it needs ``_group`` and ``_timeout_s``)."""

    # ------------------------------------------------------------------ collectives
    def _barrier(self) -> None:
        if self._backend == "nccl":
            dist.barrier(device_ids=[torch.cuda.current_device()])
        else:
            dist.barrier()

    def _all_gather_ints(self, values: list[int]) -> list[list[int]]:
        t = torch.tensor(values, dtype=torch.int64, device=self._comm_device)
        out = [torch.empty_like(t) for _ in range(self.num_processes)]
        dist.all_gather(out, t)
        return [o.tolist() for o in out]

    def _broadcast_ints(self, values: list[int]) -> list[int]:
        t = torch.tensor(values, dtype=torch.int64, device=self._comm_device)
        dist.broadcast(t, src=0)
        return t.tolist()

    def _broadcast_tensors(self, tensors: list[torch.Tensor]) -> None:
        """Overwrites ``tensors`` in place with rank 0's values (one collective per dtype)."""
        groups: dict[tuple, list[torch.Tensor]] = {}
        for t in tensors:
            groups.setdefault((t.dtype, t.device), []).append(t)
        with torch.no_grad():
            for ts in groups.values():
                flat = torch.cat([t.detach().reshape(-1) for t in ts]).to(self._comm_device)
                dist.broadcast(flat, src=0)
                flat = flat.to(ts[0].device)
                offset = 0
                for t in ts:
                    n = t.numel()
                    t.copy_(flat[offset : offset + n].view_as(t))
                    offset += n

    def _all_reduce_weighted(self, tensors: list[torch.Tensor], weight: float) -> None:
        """In place: ``sum_r weight_r * t_r`` over the processes (one collective per dtype)."""
        groups: dict[tuple, list[torch.Tensor]] = {}
        for t in tensors:
            groups.setdefault((t.dtype, t.device), []).append(t)
        with torch.no_grad():
            for ts in groups.values():
                flat = torch.cat([t.reshape(-1) for t in ts]).to(self._comm_device)
                if weight == 0.0:
                    flat.zero_()
                elif weight != 1.0:
                    flat.mul_(weight)
                dist.all_reduce(flat)
                flat = flat.to(ts[0].device)
                offset = 0
                for t in ts:
                    n = t.numel()
                    t.copy_(flat[offset : offset + n].view_as(t))
                    offset += n

    def _gather_predictions(self, outputs: list[Any], adapter: Any) -> Any:
        """``predict``: every process's outputs, all-gathered and put back in the original sample order."""
        counts = getattr(adapter, "step_counts", None)
        if counts is None or len(counts) != len(outputs):  # not sharded by us: this process's own outputs
            return _concat_outputs(outputs)
        kept = [o for o, c in zip(outputs, counts) if c > 0]
        template = outputs[0]
        leaves_per_step = [tree.flatten(o) for o in kept]
        n_leaves = len(tree.flatten(template))
        all_counts = torch.tensor(self._all_gather_ints(counts), dtype=torch.int64)  # (world, steps)
        totals = all_counts.sum(dim=1)
        rank_base = torch.cumsum(totals, 0) - totals
        local_offsets = torch.cumsum(all_counts, dim=1) - all_counts  # (world, steps)
        starts = (rank_base[:, None] + local_offsets).T.reshape(-1)  # step-major, then rank
        lengths = all_counts.T.reshape(-1)
        out_starts = torch.cumsum(lengths, 0) - lengths  # where each (step, rank) chunk goes in the result
        order = torch.repeat_interleave(starts - out_starts, lengths) + torch.arange(int(lengths.sum()))
        gathered = []
        for i in range(n_leaves):
            parts = [torch.as_tensor(step_leaves[i]) for step_leaves in leaves_per_step]
            local = torch.cat(parts, 0) if parts else None
            gathered.append(self._all_gather_rows(local, totals.tolist(), tree.flatten(template)[i]))
        full = [g.index_select(0, order.to(g.device)) for g in gathered]
        return tree.pack_sequence_as(template, [backend.to_numpy(t) for t in full])

    def _all_gather_rows(self, local: torch.Tensor | None, rows: list[int], like: Any) -> torch.Tensor:
        """Every process's ``local`` rows (``rows[r]`` of them in process ``r``), concatenated in rank order."""
        if local is None:  # only stand-in steps here
            local = torch.as_tensor(like)[:0]
        src_device = local.device
        is_bool = local.dtype == torch.bool
        t = local.to(self._comm_device)
        if is_bool:
            t = t.to(torch.uint8)
        padded = torch.zeros((max(rows), *t.shape[1:]), dtype=t.dtype, device=t.device)
        padded[: t.shape[0]] = t
        out = [torch.empty_like(padded) for _ in range(self.num_processes)]
        dist.all_gather(out, padded)
        res = torch.cat([o[:n] for o, n in zip(out, rows)], 0)
        return (res.to(torch.bool) if is_bool else res).to(src_device)


class _HookState:
    """What the gradient hook needs for the current step: this process's weight in the global mean."""

    __slots__ = ("group", "weight")

    def __init__(self, group: Any) -> None:
        self.group = group
        self.weight = 1.0


def _weighted_allreduce_hook(state, bucket):  # no annotations: DDP checks them against dist.GradBucket
    """DDP communication hook: ``sum_r weight_r * grad_r`` (DDP's default divides by world size instead)."""
    buf = bucket.buffer()
    w = state.weight
    if w == 0.0:
        buf.zero_()  # a stand-in sample (empty shard): contributes nothing, even if its gradient were not finite
    elif w != 1.0:
        buf.mul_(w)
    fut = dist.all_reduce(buf, group=state.group, async_op=True).get_future()
    return fut.then(lambda f: f.value()[0])


_PEER_SIGNS = (
    "connection closed by peer",
    "timed out",
    "timeout",
    "connection reset",
    "broken pipe",
    "nccl communicator was aborted",
    "watchdog",
)


def _explain_peer_error(e: RuntimeError, d: Any) -> RuntimeError:
    """A collective failed because another process crashed or stopped responding: say so plainly."""
    msg = str(e)
    if not any(sign in msg.lower() for sign in _PEER_SIGNS):
        return e
    timeout = distribution_lib._timeout(d._timeout_s).total_seconds()
    return RuntimeError(
        f"Data-parallel training stopped on rank {d.process_id} of {d.num_processes}: another process crashed or "
        f"did not reach the same step within {timeout:g} s (DataParallel(timeout=...)). Look for the first "
        "error in the other ranks' output (torchrun prints it under 'Root Cause'). If one process legitimately "
        "takes longer (e.g. it alone loads data), raise the timeout. Original error: " + msg
    )
