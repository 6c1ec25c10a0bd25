"""``keras.utils.timeseries_dataset_from_array`` without TensorFlow."""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np
import torch

from lamina.utils import dataset_utils


def _as_array(x: Any, name: str) -> Any:
    if isinstance(x, torch.Tensor):
        return x.detach().cpu().numpy()
    if hasattr(x, "__len__") and hasattr(x, "__getitem__") and not isinstance(x, (str, bytes)):
        return x if isinstance(x, np.ndarray) else np.asarray(x)
    raise TypeError(f"`{name}` must be an array (NumPy, torch or list). Received: {name} of type {type(x).__name__}")


def _check_positive_int(name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"`{name}` must be an integer. Received: {name}={value!r}")


def _check_args(data: Any, sequence_length, sequence_stride, sampling_rate, start_index, end_index) -> None:
    # Keras's checks, in Keras's order, with its messages
    for name, value in (
        ("sequence_length", sequence_length),
        ("sequence_stride", sequence_stride),
        ("sampling_rate", sampling_rate),
    ):
        _check_positive_int(name, value)
    if sequence_length <= 0:
        raise ValueError(f"`sequence_length` must be higher than 0. Received: sequence_length={sequence_length}")
    if start_index:
        if start_index < 0:
            raise ValueError(f"`start_index` must be 0 or greater. Received: start_index={start_index}")
        if start_index >= len(data):
            raise ValueError(
                "`start_index` must be lower than the length of the data. "
                f"Received: start_index={start_index}, for data of length {len(data)}"
            )
    if end_index:
        if start_index and end_index <= start_index:
            raise ValueError(
                "`end_index` must be higher than `start_index`. "
                f"Received: start_index={start_index}, and end_index={end_index} "
            )
        if end_index >= len(data):
            raise ValueError(
                "`end_index` must be lower than the length of the data. "
                f"Received: end_index={end_index}, for data of length {len(data)}"
            )
        if end_index <= 0:
            raise ValueError(f"`end_index` must be higher than 0. Received: end_index={end_index}")
    if sampling_rate <= 0:
        raise ValueError(f"`sampling_rate` must be higher than 0. Received: sampling_rate={sampling_rate}")
    if sampling_rate >= len(data):
        raise ValueError(
            "`sampling_rate` must be lower than the length of the data. "
            f"Received: sampling_rate={sampling_rate}, for data of length {len(data)}"
        )
    if sequence_stride <= 0:
        raise ValueError(f"`sequence_stride` must be higher than 0. Received: sequence_stride={sequence_stride}")
    if sequence_stride >= len(data):
        raise ValueError(
            "`sequence_stride` must be lower than the length of the data. "
            f"Received: sequence_stride={sequence_stride}, for data of length {len(data)}"
        )


def timeseries_dataset_from_array(
    data: Any,
    targets: Any,
    sequence_length: int,
    sequence_stride: int = 1,
    sampling_rate: int = 1,
    batch_size: int | None = 128,
    shuffle: bool = False,
    seed: int | None = None,
    start_index: int | None = None,
    end_index: int | None = None,
    format: str = "tf",
) -> dataset_utils.BatchDataset:
    """Creates a dataset of sliding windows over a timeseries given as an array.

    Window ``i`` holds ``data[s, s + r, ..., s + (sequence_length - 1) * r]`` with
    ``s = start_index + i * sequence_stride`` and ``r = sampling_rate``; its target is
    ``targets[s]``. Windows that would run past ``end_index`` are left out.

    Args:
        data: the timesteps along axis 0 (NumPy, torch or list).
        targets: ``targets[i]`` is the target of the window starting at ``data[i]``; None for none.
        sequence_length: timesteps per window.
        sequence_stride: steps between the starts of consecutive windows.
        sampling_rate: steps between the timesteps of a window.
        batch_size: windows per batch; None yields single windows.
        shuffle: shuffle the windows (and reshuffle each epoch).
        seed: the shuffling seed.
        start_index: first timestep used (inclusive).
        end_index: last timestep used (exclusive).
        format: ``"tf"`` or ``"grain"`` in Keras; both give a :class:`BatchDataset` here.

    Returns:
        A :class:`BatchDataset` of ``(windows, targets)`` torch tensors (windows alone when
        ``targets`` is None), dtypes kept from the arrays.

    Example:
        >>> import numpy as np
        >>> ds = timeseries_dataset_from_array(np.arange(10), None, sequence_length=3, batch_size=4)
        >>> [b.tolist() for b in ds][0]
        [[0, 1, 2], [1, 2, 3], [2, 3, 4], [3, 4, 5]]
    """
    data = _as_array(data, "data")
    if targets is not None:
        targets = _as_array(targets, "targets")
    _check_args(data, sequence_length, sequence_stride, sampling_rate, start_index, end_index)
    dataset_utils.check_format(format)
    dataset_utils.check_batch_size(batch_size)
    start = start_index or 0
    end = end_index if end_index is not None else len(data)
    num_seqs = end - start - (sequence_length - 1) * sampling_rate
    if targets is not None:
        num_seqs = min(num_seqs, len(targets))
    starts = np.arange(0, max(num_seqs, 0), sequence_stride)
    if shuffle:
        if seed is None:
            seed = np.random.randint(1e6)
        # Keras shuffles the window starts with this generator first (then a tf.data buffer per epoch)
        np.random.RandomState(seed).shuffle(starts)
    steps = np.arange(sequence_length) * sampling_rate
    window_data = data[start:end]
    window_targets = None if targets is None else targets[start:end]

    def load_batch(indices: np.ndarray) -> Any:
        first = starts[indices]
        windows = torch.from_numpy(np.ascontiguousarray(window_data[first[:, None] + steps]))  # (batch, length, ...)
        if window_targets is None:
            return windows
        return windows, torch.from_numpy(np.ascontiguousarray(window_targets[first]))

    return dataset_utils.BatchDataset(
        len(starts),
        lambda i: load_batch(np.array([i])),
        batch_size=batch_size,
        shuffle=shuffle,
        seed=seed,
        load_batch=load_batch,
    )
