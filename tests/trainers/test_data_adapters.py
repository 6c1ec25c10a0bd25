"""The array adapter's shuffled batches (gathered with index_select) give every sample once per epoch, with its own
label, for small rows and for image rows."""

import numpy as np
import pytest
import torch

from lamina.trainers import data_adapters


@pytest.mark.parametrize("row_shape", [(3,), (130, 130, 1)], ids=["features", "image"])
def test_shuffled_batches_keep_samples_with_their_labels(row_shape):
    n = 10
    x = np.arange(n, dtype=np.float32).reshape(n, 1).repeat(int(np.prod(row_shape)), 1).reshape(n, *row_shape)
    y = np.arange(n) * 10
    adapter = data_adapters.get_data_adapter(x, y, None, batch_size=4, shuffle=True, device=torch.device("cpu"))
    seen = []
    for bx, by in adapter.epoch_iterator(0):
        assert bx.shape[1:] == row_shape and bx.is_contiguous()
        first = bx.reshape(bx.shape[0], -1)[:, 0]
        torch.testing.assert_close(bx.reshape(bx.shape[0], -1).amax(1), first)  # whole rows, not mixed
        torch.testing.assert_close(by, (first * 10).to(by.dtype))
        seen.extend(first.int().tolist())
    assert sorted(seen) == list(range(n)) and seen != list(range(n))
