"""Per-process data shards, checked in one process by building every rank's view of the same data."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

import lamina
from lamina.distribution import sharding
from lamina.trainers import data_adapters


@pytest.mark.parametrize("world", [1, 2, 3, 4])
def test_shard_bounds_partition_every_batch_size(world):
    for n in range(0, 23):
        bounds = [sharding.shard_bounds(n, r, world) for r in range(world)]
        assert bounds[0][0] == 0 and bounds[-1][1] == n
        assert all(a[1] == b[0] for a, b in itertools.pairwise(bounds))  # contiguous, no overlap
        sizes = [hi - lo for lo, hi in bounds]
        assert max(sizes) - min(sizes) <= 1 and sizes == sorted(sizes, reverse=True)


def _rank_views(make_adapter, world, epoch=0, reseed=None):
    """Every rank's batches and counts for one epoch (each rank from a fresh adapter, as in its own process)."""
    views = []
    for r in range(world):
        if reseed is not None:
            reseed()
        adapter = sharding.shard_adapter(make_adapter(), r, world, seed=123)
        batches = []
        for batch in adapter.epoch_iterator(epoch):
            batches.append((batch, adapter.current))
        views.append((batches, list(adapter.step_counts)))
    return views


def _x(batch):
    """The inputs of a batch: an x-only adapter yields the tensor itself, others a tuple."""
    return batch[0] if isinstance(batch, (tuple, list)) else batch


def _check_union(views, global_batches, world):
    """Rank slices concatenated in rank order give each global batch; stand-ins have count 0."""
    assert all(len(b) == len(global_batches) for b, _ in views)
    for step, whole in enumerate(global_batches):
        parts = []
        for r in range(world):
            batch, (count, total) = views[r][0][step]
            x = _x(batch)
            assert total == len(whole)
            assert views[r][1][step] == count
            if count == 0:
                assert len(x) == 1 and torch.equal(x[0], whole[0])  # stand-in: the batch's first sample
            else:
                assert len(x) == count
                parts.append(x)
        torch.testing.assert_close(torch.cat(parts), whole)


@pytest.mark.parametrize("shuffle", [False, True])
def test_array_shards_split_each_global_batch_without_overlap(shuffle):
    x = np.arange(13 * 2, dtype="float32").reshape(13, 2)
    y = np.arange(13)
    make = lambda: data_adapters.ArrayDataAdapter(x, y, batch_size=5, shuffle=shuffle, seed=123)
    base = make()
    global_batches = [_x(b) for b in base.epoch_iterator(1)]
    for world in (2, 3):
        views = _rank_views(make, world, epoch=1)
        _check_union(views, global_batches, world)


def test_a_global_batch_smaller_than_the_job_gives_stand_in_samples():
    x = np.arange(11, dtype="float32").reshape(11, 1)
    make = lambda: data_adapters.ArrayDataAdapter(x, batch_size=5)
    views = _rank_views(make, 2)
    assert views[0][1] == [3, 3, 1] and views[1][1] == [2, 2, 0]
    _check_union(views, [_x(b) for b in make().epoch_iterator(0)], 2)


@pytest.mark.parametrize("shuffle", [False, True])
def test_dataloader_shards_load_only_their_samples_in_the_single_process_order(shuffle):
    ds = torch.utils.data.TensorDataset(torch.arange(17, dtype=torch.float32)[:, None])
    make_loader = lambda: torch.utils.data.DataLoader(ds, batch_size=6, shuffle=shuffle)
    make = lambda: data_adapters.get_data_adapter(make_loader())
    torch.manual_seed(5)
    global_batches = [_x(b) for b in make().epoch_iterator(0)]
    views = _rank_views(make, 2, reseed=lambda: torch.manual_seed(5))
    assert isinstance(sharding.shard_adapter(make(), 0, 2, 0), sharding.ShardedLoaderAdapter)
    _check_union(views, global_batches, 2)


def test_a_map_style_dataset_is_sharded_through_its_loader():
    ds = torch.utils.data.TensorDataset(torch.arange(9, dtype=torch.float32)[:, None])
    make = lambda: data_adapters.get_data_adapter(ds, batch_size=4, shuffle=False)
    _check_union(_rank_views(make, 2), [_x(b) for b in make().epoch_iterator(0)], 2)


def test_a_loader_the_user_already_sharded_is_left_alone():
    ds = torch.utils.data.TensorDataset(torch.arange(8, dtype=torch.float32)[:, None])
    sampler = torch.utils.data.distributed.DistributedSampler(ds, num_replicas=2, rank=0, shuffle=False)
    adapter = data_adapters.get_data_adapter(torch.utils.data.DataLoader(ds, batch_size=2, sampler=sampler))
    assert sharding.shard_adapter(adapter, 0, 2, 0) is adapter


@pytest.mark.parametrize("shuffle", [False, True])
def test_pydataset_shards(shuffle):
    class Batches(lamina.utils.PyDataset):
        def __len__(self):
            return 3

        def __getitem__(self, i):
            n = 5 if i < 2 else 1
            return (np.full((n, 1), i, "float32") + np.arange(n, dtype="float32")[:, None],)

    make = lambda: data_adapters.get_data_adapter(Batches(), shuffle=shuffle)
    np.random.seed(4)
    global_batches = [_x(b) for b in make().epoch_iterator(0)]
    views = _rank_views(make, 2, reseed=lambda: np.random.seed(4))
    _check_union(views, global_batches, 2)


def test_generator_shards_slice_each_batch():
    def gen():
        for i in range(3):
            yield np.full((4 - i, 2), i, "float32"), np.zeros((4 - i,), "float32")

    make = lambda: data_adapters.get_data_adapter(gen())
    global_batches = [_x(b) for b in make().epoch_iterator(0)]
    _check_union(_rank_views(make, 2), global_batches, 2)


def test_frozen_metrics_discard_a_stand_in_step():
    from lamina.distribution.data_parallel import _FrozenMetrics

    model = lamina.Sequential([lamina.Input((2,)), lamina.layers.Dense(2)])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    x, y = np.ones((4, 2), "float32"), np.zeros(4)
    model.train_on_batch(x, y)
    before = {k: float(v) for k, v in model.get_metrics_result().items()}
    with _FrozenMetrics(model):
        model.train_on_batch(x[:1] * 5, np.ones(1))
    assert {k: float(v) for k, v in model.get_metrics_result().items()} == before
