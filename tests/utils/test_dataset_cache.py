"""``cache()`` on the datasets from ``lamina.utils`` (``tf.data``'s: the first full pass, replayed)."""

import numpy as np

from lamina.utils import dataset_utils


def test_cache_replays_the_first_pass():
    calls = []
    base = dataset_utils.BatchDataset(10, lambda i: (np.float32(i),), batch_size=4, shuffle=True, seed=3, single=True)
    passes = [[b.tolist() for b in base] for _ in range(2)]
    assert passes[0] != passes[1]  # the base reshuffles on every pass
    mapped = base.map(lambda x: calls.append(1) or x * 2).cache().prefetch(buffer_size=2)
    first = [b.tolist() for b in mapped]
    second = [b.tolist() for b in mapped]
    assert first == second and len(first) == 3 == len(mapped)
    assert len(calls) == 3  # the map ran once per batch, in the first pass only
    assert sorted(v for b in first for v in b) == [2.0 * i for i in range(10)]
