"""Per-process views of the training data: every process gets its slice of each *global* batch.

The global batch (what ``batch_size`` means, or what a DataLoader/PyDataset yields) is split into
``world_size`` contiguous, non-overlapping slices; process ``r`` takes slice ``r`` (the first
``N % world_size`` slices hold one sample more). The sequence of global batches is exactly the one a
single process would see, so with ``shuffle=False`` training matches single-process training.

* arrays: each global batch of the base adapter is sliced (shuffling uses rank 0's seed);
* DataLoaders / map-style Datasets: the batch sampler is split, so each process *loads* only its
  own samples (random samplers draw the same order on every process);
* PyDataset, generators, IterableDatasets: every process reads each batch and keeps its slice (the
  source must yield the same sequence in every process; a shuffled PyDataset's order is rank 0's).

When a global batch has fewer samples than processes, the processes left without a sample run the
step on the batch's first sample with weight 0 (``current == (0, N)``): its gradient and its metric
updates are discarded, so all processes still take part in every collective.

Every adapter here exposes ``current = (local_count, global_count)`` for the batch just yielded and
``step_counts`` (the local counts of the epoch so far), which the training loop reads.
"""

from __future__ import annotations

import collections
import copy
import struct
from collections.abc import Iterator
from typing import Any

import numpy as np
import torch

from lamina.trainers import data_adapters
from lamina.tree import flatten, map_structure


def shard_bounds(n: int, rank: int, world: int) -> tuple[int, int]:
    """The ``[lo, hi)`` slice of a global batch of ``n`` samples that process ``rank`` of ``world`` gets.

    Example:
        >>> [shard_bounds(5, r, 2) for r in range(2)]
        [(0, 3), (3, 5)]
        >>> shard_bounds(1, 1, 2)
        (1, 1)
    """
    base, extra = divmod(n, world)
    lo = rank * base + min(rank, extra)
    return lo, lo + base + (1 if rank < extra else 0)


def _epoch_seed(seed: int, epoch: int) -> int:
    return (int(seed) * 1000003 + int(epoch)) % (2**63 - 1)


def _batch_len(batch: Any) -> int:
    for t in flatten(batch):
        shape = getattr(t, "shape", None)
        if shape is not None and len(shape):
            return int(shape[0])
        if isinstance(t, (list, tuple)):
            return len(t)
    raise ValueError("Cannot split a batch across processes: it has no array with a batch axis.")


def _slice(t: Any, lo: int, hi: int) -> Any:
    if t is None or isinstance(t, (int, float, str, bool)):
        return t
    if data_adapters._is_pandas(t):
        return t.iloc[lo:hi]
    if hasattr(t, "shape") and len(t.shape) == 0:
        return t
    return t[lo:hi]


class _ShardState:
    """Mixin: the counts of the batch just yielded."""

    rank: int
    world: int

    def _init_shard(self, rank: int, world: int) -> None:
        self.rank = rank
        self.world = world
        self.current: tuple[int, int | None] = (0, None)
        self.step_counts: list[int] = []

    def _slice_global(self, batch: Any) -> Any:
        """This process's slice of a whole global batch (or its first sample, weight 0, if the slice is empty)."""
        n = _batch_len(batch)
        lo, hi = shard_bounds(n, self.rank, self.world)
        count = hi - lo
        if count == 0:
            lo, hi = 0, min(1, n)
        self.current = (count, n)
        self.step_counts.append(count)
        if lo == 0 and hi == n:
            return batch
        return map_structure(lambda t: _slice(t, lo, hi), batch)


class ShardedArrayAdapter(data_adapters.ArrayDataAdapter, _ShardState):
    """In-memory arrays: the base adapter's global batches (its order, shared seed), sliced per process.

    Arrays too large to live on the accelerator are sliced before they are moved, so each process
    copies only its own part.
    """

    def __init__(self, base: data_adapters.ArrayDataAdapter, rank: int, world: int, seed: int) -> None:
        self.__dict__.update(base.__dict__)
        self._init_shard(rank, world)
        self.seed = int(seed)
        self._move = not getattr(base, "_resident", True)
        self._resident = True  # the base iterator must not move whole global batches

    def epoch_iterator(self, epoch: int) -> Iterator[Any]:
        self.step_counts = []
        for batch in super().epoch_iterator(epoch):
            batch = self._slice_global(batch)
            yield data_adapters.to_device(batch, self.device) if self._move else batch


class _ShardedBatchSampler(torch.utils.data.Sampler):
    """Splits each global batch of indices of a batch sampler; records the counts in order.

    Random order is made the same in every process: a ``RandomSampler`` without a generator gets
    the seed rank 0 draws exactly as the sampler itself would (so the order is also the one a single
    process would use); other random samplers without a generator get one seeded from the shared
    data seed and the epoch; a sampler with its own generator is left alone (seed it identically in
    every process).
    """

    def __init__(self, batch_sampler: Any, rank: int, world: int, seed: int, broadcast: Any = None) -> None:
        self.broadcast = broadcast or _identity
        self.batch_sampler = copy.copy(batch_sampler)
        sampler = getattr(self.batch_sampler, "sampler", None)
        self.mode = None
        if sampler is not None and hasattr(sampler, "generator") and sampler.generator is None:
            self.mode = "random" if isinstance(sampler, torch.utils.data.RandomSampler) else "shared"
            self.batch_sampler.sampler = copy.copy(sampler)
        self.rank, self.world, self.seed = rank, world, int(seed)
        self.epoch = 0
        self.counts: collections.deque = collections.deque()

    def __iter__(self) -> Iterator[list[int]]:
        # Runs in the main process when the DataLoader starts a pass (same point in every process).
        self.counts.clear()  # left over from an abandoned pass
        if self.mode == "random":  # drawn where and as RandomSampler draws it; rank 0's value everywhere
            seed = self.broadcast([int(torch.empty((), dtype=torch.int64).random_().item())])[0]
        elif self.mode == "shared":
            seed = _epoch_seed(self.seed, self.epoch)
        if self.mode is not None:
            g = torch.Generator()
            g.manual_seed(seed)
            self.batch_sampler.sampler.generator = g
        for indices in self.batch_sampler:
            indices = list(indices)
            lo, hi = shard_bounds(len(indices), self.rank, self.world)
            self.counts.append((hi - lo, len(indices)))
            yield indices[lo:hi] if hi > lo else indices[:1]

    def __len__(self) -> int:
        return len(self.batch_sampler)


def _rebuild_loader(loader: torch.utils.data.DataLoader, batch_sampler: Any) -> torch.utils.data.DataLoader:
    kwargs: dict[str, Any] = {
        "num_workers": loader.num_workers,
        "collate_fn": loader.collate_fn,
        "pin_memory": loader.pin_memory,
        "timeout": loader.timeout,
        "worker_init_fn": loader.worker_init_fn,
        "multiprocessing_context": loader.multiprocessing_context,
        "generator": loader.generator,
        "persistent_workers": loader.persistent_workers,
    }
    if loader.num_workers > 0:
        kwargs["prefetch_factor"] = loader.prefetch_factor
    for name in ("pin_memory_device", "in_order"):
        if hasattr(loader, name):
            kwargs[name] = getattr(loader, name)
    return torch.utils.data.DataLoader(loader.dataset, batch_sampler=batch_sampler, **kwargs)


class ShardedLoaderAdapter(data_adapters.IterableAdapter, _ShardState):
    """A map-style DataLoader rebuilt on a split batch sampler: each process loads only its samples."""

    def __init__(
        self, base: data_adapters.IterableAdapter, rank: int, world: int, seed: int, broadcast: Any = None
    ) -> None:
        self.__dict__.update(base.__dict__)
        self._init_shard(rank, world)
        self.seed = int(seed)
        self._sampler = _ShardedBatchSampler(base.source.batch_sampler, rank, world, seed, broadcast)
        self.source = _rebuild_loader(base.source, self._sampler)

    def epoch_iterator(self, epoch: int) -> Iterator[Any]:
        self._sampler.seed = self.seed  # BackupAndRestore may have restored it
        self._sampler.epoch = epoch
        self.step_counts = []
        for batch in super().epoch_iterator(epoch):
            self.current = self._sampler.counts.popleft()  # filled in order by the sampler (it runs ahead)
            self.step_counts.append(self.current[0])
            yield batch


class ShardedIterableAdapter(data_adapters.IterableAdapter, _ShardState):
    """Generators and iterable datasets: every process reads each global batch and keeps its slice."""

    def __init__(self, base: data_adapters.IterableAdapter, rank: int, world: int) -> None:
        self.__dict__.update(base.__dict__)
        self._init_shard(rank, world)

    def _prepare(self, batch: Any) -> Any:
        if isinstance(batch, dict):
            batch = (batch,)
        return super()._prepare(self._slice_global(batch))  # slice first: only this slice moves to the device

    def epoch_iterator(self, epoch: int) -> Iterator[Any]:
        self.step_counts = []
        return super().epoch_iterator(epoch)


class ShardedPyDatasetAdapter(data_adapters.PyDatasetAdapter, _ShardState):
    """A :class:`PyDataset`: every process reads each batch (same order everywhere) and keeps its slice."""

    def __init__(
        self, base: data_adapters.PyDatasetAdapter, rank: int, world: int, seed: int, broadcast: Any = None
    ) -> None:
        self.__dict__.update(base.__dict__)
        self._init_shard(rank, world)
        self.seed = int(seed)
        self._broadcast = broadcast or _identity
        prep = base._prep

        def sliced_prep(batch: Any) -> Any:
            if isinstance(batch, dict):
                batch = (batch,)
            return prep(self._slice_global(batch))

        self._prep = sliced_prep

    def epoch_iterator(self, epoch: int) -> Iterator[Any]:
        self.step_counts = []
        if self.shuffle:  # the base draws the order from NumPy's global RNG: make it rank 0's everywhere
            _share_numpy_rng(self._broadcast)
        return super().epoch_iterator(epoch)


def _share_numpy_rng(broadcast: Any) -> None:
    """Sets NumPy's global random state to rank 0's (so every process draws what a single process would)."""
    name, keys, pos, has_gauss, gauss = np.random.get_state()
    packed = [int(k) for k in keys] + [int(pos), int(has_gauss), struct.unpack("<q", struct.pack("<d", gauss))[0]]
    packed = broadcast(packed)
    keys = np.asarray(packed[:-3], dtype=np.uint32)
    gauss = struct.unpack("<d", struct.pack("<q", packed[-1]))[0]
    np.random.set_state((name, keys, packed[-3], packed[-2], gauss))


def _already_sharded(loader: Any) -> bool:
    return isinstance(getattr(loader, "sampler", None), torch.utils.data.distributed.DistributedSampler)


def _identity(values: list[int]) -> list[int]:
    return values


def shard_adapter(adapter: Any, rank: int, world: int, seed: int, broadcast: Any = None) -> Any:
    """This process's view of ``adapter`` (see the module docstring); unknown adapters are returned as they are.

    ``broadcast(list_of_ints)`` returns rank 0's list (the same in every process); it shares random
    orders drawn per epoch. A DataLoader whose sampler is already a ``DistributedSampler`` is left
    alone: the user sharded it.
    """
    if isinstance(adapter, _ShardState):
        return adapter
    if isinstance(adapter, data_adapters.ArrayDataAdapter):
        return ShardedArrayAdapter(adapter, rank, world, seed)
    if isinstance(adapter, data_adapters.PyDatasetAdapter):
        return ShardedPyDatasetAdapter(adapter, rank, world, seed, broadcast)
    if isinstance(adapter, data_adapters.IterableAdapter):
        src = adapter.source
        if isinstance(src, torch.utils.data.DataLoader):
            if _already_sharded(src):
                return adapter
            if src.batch_sampler is not None and not isinstance(src.dataset, torch.utils.data.IterableDataset):
                return ShardedLoaderAdapter(adapter, rank, world, seed, broadcast)
        return ShardedIterableAdapter(adapter, rank, world)
    return adapter
