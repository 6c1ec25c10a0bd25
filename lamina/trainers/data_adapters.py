"""Data adapters: turn whatever the user passes to ``fit`` into batches of tensors on the device.

* In-memory arrays (NumPy, torch, lists/dicts of them, pandas) are converted once, moved to
  the device once when they fit, and batched by index (a slice when not shuffled: zero-copy).
* torch ``Dataset``/``DataLoader``, Python generators and :class:`PyDataset` are iterated and
  each batch is moved as a whole (pinned memory, ``non_blocking`` on GPU).
"""

from __future__ import annotations

import math
import queue
import threading
import warnings
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import torch

from lamina import backend
from lamina.metrics.metrics_utils import argmax_labels
from lamina.tree import flatten, map_structure

# Arrays up to this size are moved to the accelerator once per fit instead of per batch.
_DEVICE_RESIDENT_BYTES = 2 * 1024**3


class PyDataset:
    """Keras's ``PyDataset``: a sequence of batches with ``__len__`` and ``__getitem__``.

    Args:
        workers: threads fetching batches ahead (1 = in the training thread).
        use_multiprocessing: accepted for Keras compatibility; threads are used.
        max_queue_size: batches fetched ahead at most.

    Example:
        >>> import numpy as np, lamina
        >>> class Batches(lamina.utils.PyDataset):
        ...     def __len__(self):
        ...         return 2
        ...     def __getitem__(self, i):
        ...         return np.ones((4, 3), "float32"), np.zeros((4, 1), "float32")
        >>> len(Batches())
        2
    """

    def __init__(self, workers: int = 1, use_multiprocessing: bool = False, max_queue_size: int = 10) -> None:
        self._workers = workers
        self._use_multiprocessing = use_multiprocessing
        self._max_queue_size = max_queue_size

    @property
    def workers(self) -> int:
        return getattr(self, "_workers", 1)

    @property
    def max_queue_size(self) -> int:
        return getattr(self, "_max_queue_size", 10)

    def __len__(self) -> int:
        raise NotImplementedError

    def __getitem__(self, index: int) -> Any:
        raise NotImplementedError

    @property
    def num_batches(self) -> int | None:
        return len(self)

    def on_epoch_begin(self) -> None: ...

    def on_epoch_end(self) -> None: ...


def _is_pandas(x: Any) -> bool:
    return type(x).__module__.startswith("pandas.")


def _is_text(x: Any) -> bool:
    """Text for a model that starts with a text layer: a string/bytes array, or a list of Python strings."""
    if isinstance(x, np.ndarray):
        if x.dtype.kind in "US":
            return True
        flat = x.reshape(-1)
        return x.dtype == object and flat.size > 0 and all(isinstance(v, (str, bytes)) for v in flat)
    return isinstance(x, (list, tuple)) and len(x) > 0 and all(isinstance(v, (str, bytes)) for v in x)


def _to_tensor(x: Any) -> Any:
    if x is None:
        return None
    if isinstance(x, torch.Tensor):
        return x
    if _is_pandas(x):
        x = x.to_numpy()
    if _is_text(x):
        return np.asarray(x, dtype=object)  # text stays on the host as NumPy; the text layers read it
    if isinstance(x, np.ndarray):
        if x.dtype == np.float64:
            x = x.astype(backend.floatx())
        if x.dtype == object:
            raise TypeError(
                f"Data of dtype object cannot be used for training (shape {x.shape}). Convert it to numbers first."
            )
        if x.dtype.kind in "US":
            raise TypeError(f"String data cannot be fed to a model directly (shape {x.shape}, dtype {x.dtype}).")
        if x.dtype.name == "bfloat16":  # ml_dtypes' bfloat16 (JAX, TensorFlow): no NumPy equivalent in torch
            return torch.from_numpy(x.astype(np.float32)).to(torch.bfloat16)
        if not x.flags.writeable:  # JAX arrays, tf.data's NumPy batches, pandas views: torch needs its own copy
            return torch.from_numpy(np.array(x, order="C"))
        return torch.from_numpy(np.ascontiguousarray(x))
    if isinstance(x, (int, float)):
        return torch.as_tensor(x)
    if hasattr(x, "__array__"):  # JAX and TensorFlow arrays, anything NumPy can read
        return _to_tensor(np.asarray(x))
    return x


def _structure_to_tensors(x: Any) -> Any:
    if isinstance(x, (list, tuple)) and x and all(isinstance(v, (int, float)) for v in x):
        return _to_tensor(np.asarray(x))
    if _is_text(x):
        return _to_tensor(x)
    if _is_pandas(x):
        return _to_tensor(x)
    return map_structure(_to_tensor, x)


def to_device(batch: Any, device: torch.device) -> Any:
    """Moves every tensor of a batch structure to ``device`` (non-blocking from pinned memory)."""
    non_blocking = device.type == "cuda"

    def move(t: Any) -> Any:
        if isinstance(t, np.ndarray) or _is_pandas(t):
            t = _to_tensor(t)
        if isinstance(t, torch.Tensor):
            if t.dtype == torch.float64:
                t = t.to(backend.torch_dtype(backend.floatx()))
            if t.device != device:
                if non_blocking and t.device.type == "cpu" and not t.is_pinned():
                    t = t.pin_memory()
                t = t.to(device, non_blocking=non_blocking)
        return t

    return map_structure(move, batch)


def unpack_x_y_sample_weight(data: Any) -> tuple[Any, Any, Any]:
    """``(x,)``, ``(x, y)`` or ``(x, y, sample_weight)`` -> three values (missing ones None)."""
    if isinstance(data, list):
        data = tuple(data)
    if not isinstance(data, tuple):
        return data, None, None
    if len(data) == 1:
        return data[0], None, None
    if len(data) == 2:
        return data[0], data[1], None
    if len(data) == 3:
        return data[0], data[1], data[2]
    raise ValueError(
        "Data is expected to be in format `x`, `(x,)`, `(x, y)`, or `(x, y, sample_weight)`. "
        f"Received a tuple of length {len(data)}."
    )


def pack_x_y_sample_weight(x: Any, y: Any = None, sample_weight: Any = None) -> Any:
    """``x``, ``(x, y)`` or ``(x, y, sample_weight)``: the forms ``fit`` takes (a list/tuple ``x`` alone is
    wrapped as ``(x,)`` so it is not read as ``(x, y)``)."""
    if y is None:
        return (x,) if isinstance(x, (tuple, list)) else x
    if sample_weight is None:
        return (x, y)
    return (x, y, sample_weight)


def class_weight_to_sample_weights(y: torch.Tensor, class_weight: dict[int, float]) -> torch.Tensor:
    """Per-sample weights from per-class weights (labels sparse, or one-hot/probabilities via argmax)."""
    if y.ndim > 1 and y.shape[-1] > 1:
        labels = argmax_labels(y)  # one-hot labels, boolean ones included
    else:
        labels = y.reshape(y.shape[0], -1)[:, 0]
    labels = labels.long()
    size = max(int(max(class_weight)) + 1, int(labels.max()) + 1 if labels.numel() else 1)
    table = torch.ones(size, dtype=torch.float32, device=y.device)
    for k, v in class_weight.items():
        table[int(k)] = float(v)
    return table[labels]


def _num_samples(x: Any, y: Any, sample_weight: Any) -> int:
    sizes = {}
    for name, part in (("x", x), ("y", y), ("sample_weight", sample_weight)):
        for t in flatten(part):
            if isinstance(t, (torch.Tensor, np.ndarray)):  # NumPy: text
                if t.ndim == 0:
                    raise ValueError(f"Expected `{name}` to have a batch axis, but received a scalar.")
                sizes.setdefault(name, set()).add(int(t.shape[0]))
    all_sizes = set().union(*sizes.values()) if sizes else set()
    if len(all_sizes) > 1:
        detail = ", ".join(f"{k} sizes: {sorted(v)}" for k, v in sizes.items())
        raise ValueError(
            f"Data cardinality is ambiguous: make sure all arrays contain the same number of samples. {detail}"
        )
    if not all_sizes:
        raise ValueError("No data was given: `x` is empty or None.")
    return all_sizes.pop()


class DataAdapter:
    """Interface: ``num_batches`` (or None) and ``epoch_iterator(epoch)`` yielding device batches."""

    num_batches: int | None = None
    batch_size: int | None = None

    def epoch_iterator(self, epoch: int) -> Iterator[Any]:
        raise NotImplementedError

    def on_epoch_end(self) -> None: ...


class ArrayDataAdapter(DataAdapter):
    """Batches in-memory arrays by index, on the device."""

    def __init__(
        self,
        x: Any,
        y: Any = None,
        sample_weight: Any = None,
        batch_size: int | None = None,
        steps: int | None = None,
        shuffle: bool | str = False,
        class_weight: dict | None = None,
        device: torch.device | None = None,
        seed: int | None = None,
    ) -> None:
        self.device = device or backend.default_device()
        x = _structure_to_tensors(x)
        y = _structure_to_tensors(y)
        sample_weight = _structure_to_tensors(sample_weight)
        self.num_samples = _num_samples(x, y, sample_weight)
        if class_weight is not None:
            if y is None or not isinstance(y, torch.Tensor):
                raise ValueError("`class_weight` needs a single array `y`.")
            cw = class_weight_to_sample_weights(y, class_weight)
            sample_weight = cw if sample_weight is None else sample_weight * cw
        data = pack_x_y_sample_weight(x, y, sample_weight)
        nbytes = sum(t.numel() * t.element_size() for t in flatten(data) if isinstance(t, torch.Tensor))
        if self.device.type == "cpu" or nbytes <= _DEVICE_RESIDENT_BYTES:
            data = to_device(data, self.device)  # once, not per batch
            self._resident = True
        else:
            data = map_structure(lambda t: t.pin_memory() if isinstance(t, torch.Tensor) else t, data)
            self._resident = False
        self.data = data
        if steps is not None and batch_size is None:
            batch_size = math.ceil(self.num_samples / steps)
        self.batch_size = batch_size or 32
        self.num_batches = math.ceil(self.num_samples / self.batch_size)
        if steps is not None:
            self.num_batches = steps
        self._steps = steps
        self._pass: tuple | None = None  # (order, next batch, epoch) of a pass that `steps` cut short
        self.shuffle = shuffle
        self.seed = seed if seed is not None else int(np.random.randint(0, 2**31 - 1))

    def permutation(self, epoch: int) -> torch.Tensor | None:
        """The epoch's sample order: a function of (seed, epoch), so a resumed run replays it."""
        if not self.shuffle:
            return None
        g = torch.Generator()
        g.manual_seed(self.seed * 1000003 + epoch)
        if self.shuffle == "batch":
            nb = math.ceil(self.num_samples / self.batch_size)
            order = torch.randperm(nb, generator=g)
            idx = torch.arange(self.num_samples)
            chunks = [idx[i * self.batch_size : (i + 1) * self.batch_size] for i in order.tolist()]
            return torch.cat(chunks).to(self.device)
        return torch.randperm(self.num_samples, generator=g).to(self.device)

    def epoch_iterator(self, epoch: int) -> Iterator[Any]:
        n, bs = self.num_samples, self.batch_size
        steps_per_pass = math.ceil(n / bs)
        first, count = 0, self.num_batches
        if self._steps is not None and self._pass is not None and epoch == self._pass[2] + 1:
            perm, first = self._pass[0], self._pass[1]  # as in Keras: the next epoch continues the pass
        else:
            perm = self.permutation(epoch)
        if self._steps is not None:
            count = min(self._steps, steps_per_pass - first)
            if count < self._steps:
                warnings.warn(
                    "Your input ran out of data; interrupting training. Make sure that your data can "
                    "generate at least `steps_per_epoch * epochs` batches.",
                    stacklevel=2,
                )
            self._pass = (perm, first + count, epoch) if first + count < steps_per_pass else None
        for step in range(first, first + count):
            start = step * bs
            end = min(start + bs, n)
            if perm is None:
                batch = map_structure(
                    lambda t, s=start, e=end: t[s:e] if isinstance(t, (torch.Tensor, np.ndarray)) else t, self.data
                )  # slices: views, no copy
            else:
                idx = perm[start:end]
                batch = map_structure(lambda t, i=idx: _take(t, i), self.data)
            if not self._resident:
                batch = to_device(batch, self.device)
            yield batch


def _take(t: Any, idx: torch.Tensor) -> Any:
    # index_select, for rows of any size: 32 shuffled (250, 250, 3) float rows took 1.4-1.6 ms with it and
    # 4.0-4.7 ms with t[idx] (advanced indexing's generic kernel) on the 2-core CPU, torch 2.13
    if isinstance(t, torch.Tensor):
        return t.index_select(0, idx)
    if isinstance(t, np.ndarray):  # text on the host
        return t[idx.cpu().numpy()]
    return t


class IterableAdapter(DataAdapter):
    """Iterates a DataLoader, a generator, or any iterable of batches; moves each batch to the device."""

    def __init__(
        self,
        source: Any,
        steps: int | None = None,
        device: torch.device | None = None,
        class_weight: dict | None = None,
    ) -> None:
        self.source = source
        self.device = device or backend.default_device()
        self.class_weight = class_weight
        self.num_batches = steps
        if steps is None:
            try:
                self.num_batches = len(source)
            except TypeError:
                self.num_batches = None
        self._steps = steps
        self._last_epoch: int | None = None
        self._iterator: Iterator[Any] | None = None
        self._is_generator = not hasattr(source, "__len__") and iter(source) is source

    def _prepare(self, batch: Any) -> Any:
        if isinstance(batch, dict) and not isinstance(batch, tuple):
            batch = (batch,)
        if _is_text(batch):  # a batch of texts alone
            batch = _to_tensor(batch)
        elif isinstance(batch, (tuple, list)):
            # a DataLoader's [x, y] is the (x, y) tuple a custom train_step unpacks; it collates a batch of texts
            # into a list of str: one array, not many leaves
            batch = tuple(_to_tensor(part) if _is_text(part) else part for part in batch)
        batch = map_structure(lambda t: _to_tensor(t) if not isinstance(t, torch.Tensor) else t, batch)
        batch = to_device(batch, self.device)
        if self.class_weight is not None:
            x, y, sw = unpack_x_y_sample_weight(batch)
            cw = class_weight_to_sample_weights(y, self.class_weight)
            batch = (x, y, cw if sw is None else sw * cw)
        return batch

    def epoch_iterator(self, epoch: int) -> Iterator[Any]:
        # As in Keras: with `steps` (steps_per_epoch), the next epoch of a fit continues the same pass over a
        # DataLoader where the last one stopped; a new pass starts once it is used up. A generator always continues.
        resume = self._iterator is not None and (
            self._is_generator
            or (self._steps is not None and self._last_epoch is not None and epoch == self._last_epoch + 1)
        )
        self._last_epoch = epoch
        it = self._iterator if resume else iter(self.source)
        self._iterator = it if (self._is_generator or self._steps is not None) else None
        count = 0
        while self.num_batches is None or count < self.num_batches:
            try:
                batch = next(it)
            except StopIteration:
                self._iterator = None
                if resume and count == 0 and not self._is_generator:  # the last epoch ended the pass exactly
                    resume = False
                    it = self._iterator = iter(self.source)
                    continue
                if self._steps is not None:
                    warnings.warn(
                        "Your input ran out of data; interrupting training. Make sure that your dataset "
                        "or generator can generate at least `steps_per_epoch * epochs` batches.",
                        stacklevel=2,
                    )
                return
            count += 1
            yield self._prepare(batch)


class PyDatasetAdapter(DataAdapter):
    """Iterates a :class:`PyDataset` (optionally with worker threads fetching ahead)."""

    def __init__(
        self,
        dataset: PyDataset,
        shuffle: bool = False,
        steps: int | None = None,
        device: torch.device | None = None,
        class_weight: dict | None = None,
    ) -> None:
        self.dataset = dataset
        self.shuffle = shuffle
        self.device = device or backend.default_device()
        self.num_batches = steps if steps is not None else dataset.num_batches
        self._steps = steps
        self._last_epoch: int | None = None
        self._pending: Any = None  # the rest of a pass that `steps` cut short
        self._prep = IterableAdapter([], device=self.device, class_weight=class_weight)._prepare

    def epoch_iterator(self, epoch: int) -> Iterator[Any]:
        # As in Keras: with `steps`, the next epoch of a fit continues the pass where the last one stopped, and a
        # pass that runs out ends the epoch early (with a warning) instead of wrapping around.
        resume = (
            self._steps is not None
            and self._pending is not None
            and len(self._pending) > 0
            and self._last_epoch is not None
            and epoch == self._last_epoch + 1
        )
        self._last_epoch = epoch
        n = len(self.dataset)
        order = self._pending if resume else (np.random.permutation(n) if self.shuffle else np.arange(n))
        if self._steps is not None:
            if len(order) < self._steps:
                warnings.warn(
                    "Your input ran out of data; interrupting training. Make sure that your dataset "
                    "can generate at least `steps_per_epoch * epochs` batches.",
                    stacklevel=2,
                )
            order, self._pending = order[: self._steps], order[self._steps :]
        self.dataset.on_epoch_begin()
        workers = self.dataset.workers
        if workers and workers > 1:
            yield from self._threaded(order, workers)
        else:
            for i in order:
                yield self._prep(self.dataset[int(i)])

    def _threaded(self, order: Any, workers: int) -> Iterator[Any]:
        q: queue.Queue = queue.Queue(maxsize=max(1, self.dataset.max_queue_size))
        stop = threading.Event()

        def produce() -> None:
            with ThreadPoolExecutor(workers) as pool:
                futures = []
                for i in order:
                    if stop.is_set():
                        break
                    futures.append(pool.submit(self.dataset.__getitem__, int(i)))
                    if len(futures) >= workers:
                        q.put(futures.pop(0))
                for f in futures:
                    q.put(f)
            q.put(None)

        t = threading.Thread(target=produce, daemon=True)
        t.start()
        try:
            while True:
                f = q.get()
                if f is None:
                    break
                yield self._prep(f.result())
        finally:
            stop.set()

    def on_epoch_end(self) -> None:
        self.dataset.on_epoch_end()


def _is_tf_dataset(x: Any) -> bool:
    """A ``tf.data.Dataset``, recognized without importing TensorFlow (only a program that has it makes one)."""
    return type(x).__module__.startswith("tensorflow.") and hasattr(x, "as_numpy_iterator")


def _is_iterable_of_batches(x: Any) -> bool:
    """Any other iterable that is not itself array data (lists, tuples and dicts are structures of arrays)."""
    return (
        hasattr(x, "__iter__")
        and not isinstance(x, (str, bytes, list, tuple, dict, np.ndarray, torch.Tensor))
        and not hasattr(x, "__array__")
        and not _is_pandas(x)
    )


class _NumpyIterable:
    """A ``tf.data.Dataset`` seen through its NumPy iterator: re-iterable, with the dataset's length when known."""

    def __init__(self, dataset: Any) -> None:
        self.dataset = dataset

    def __iter__(self) -> Iterator[Any]:
        return iter(self.dataset.as_numpy_iterator())

    def __len__(self) -> int:
        return len(self.dataset)  # TypeError for an infinite or unknown cardinality: the adapter then counts


def get_data_adapter(
    x: Any,
    y: Any = None,
    sample_weight: Any = None,
    batch_size: int | None = None,
    steps: int | None = None,
    shuffle: bool | str = False,
    class_weight: dict | None = None,
    device: torch.device | None = None,
) -> DataAdapter:
    """Picks the adapter for ``x`` and checks that ``y``/``sample_weight`` fit with it.

    Raises:
        ValueError: for mismatched lengths, or ``y`` given with a dataset that yields its own targets.
    """
    if isinstance(x, DataAdapter):
        return x
    if _is_tf_dataset(x):
        x = _NumpyIterable(x)  # as Keras reads a tf.data.Dataset: NumPy batches, TensorFlow never imported here
    is_iterable_source = (
        isinstance(x, (torch.utils.data.DataLoader, PyDataset, _NumpyIterable))
        or (isinstance(x, torch.utils.data.Dataset) and not isinstance(x, torch.Tensor))
        or (hasattr(x, "__next__") and hasattr(x, "__iter__"))
        or _is_iterable_of_batches(x)
    )
    if is_iterable_source:
        if y is not None:
            raise ValueError(
                f"When `x` is a dataset, generator or PyDataset ({type(x).__name__}), do not pass `y`: "
                "the targets come from `x` itself."
            )
        if sample_weight is not None:
            raise ValueError(
                f"When `x` is a dataset, generator or PyDataset ({type(x).__name__}), do not pass "
                "`sample_weight`: yield it from `x` as a third element."
            )
        if isinstance(x, PyDataset):
            return PyDatasetAdapter(x, shuffle=bool(shuffle), steps=steps, device=device, class_weight=class_weight)
        if isinstance(x, torch.utils.data.Dataset) and not isinstance(x, torch.utils.data.IterableDataset):
            x = torch.utils.data.DataLoader(x, batch_size=batch_size or 32, shuffle=bool(shuffle))
        return IterableAdapter(x, steps=steps, device=device, class_weight=class_weight)
    if x is None:
        raise ValueError("No data was given: pass `x` (arrays, tensors, a DataLoader, a generator or a PyDataset).")
    return ArrayDataAdapter(
        x,
        y,
        sample_weight,
        batch_size=batch_size,
        steps=steps,
        shuffle=shuffle,
        class_weight=class_weight,
        device=device,
    )


def _is_foreign_array(t: Any) -> bool:
    return hasattr(t, "__array__") and not isinstance(t, (np.ndarray, torch.Tensor)) and not _is_pandas(t)


def train_validation_split(arrays: tuple, validation_split: float) -> tuple[tuple, tuple]:
    """Splits arrays into train and validation, taking the LAST fraction (before shuffling), as Keras does."""
    if not 0.0 < validation_split < 1.0:
        raise ValueError(f"`validation_split` must be between 0 and 1. Received: validation_split={validation_split}")
    flat = [t for t in flatten(arrays) if t is not None]
    if not flat:
        return arrays, arrays
    arrays = map_structure(lambda t: np.asarray(t) if _is_foreign_array(t) else t, arrays)  # JAX, TF arrays
    flat = [t for t in flatten(arrays) if t is not None]
    for t in flat:
        if not isinstance(t, (np.ndarray, torch.Tensor)) and not _is_pandas(t):
            raise ValueError(
                "`validation_split` is only supported for arrays and tensors, not for "
                f"{type(t).__name__}. Pass `validation_data` instead."
            )
    n = len(flat[0])
    split_at = int(math.floor(n * (1.0 - validation_split)))  # Keras 3 rounds down
    if split_at == 0 or split_at == n:
        raise ValueError(
            f"Training data contains {n} samples, which is not sufficient to split it into a validation and "
            f"training set as specified by `validation_split={validation_split}`. Either provide more data, "
            "or a different value for the `validation_split` argument."
        )

    def take(t: Any, start: int, end: int | None) -> Any:
        if t is None:
            return None
        if _is_pandas(t):
            return t.iloc[start:end]
        return t[start:end]

    train = map_structure(lambda t: take(t, 0, split_at), arrays)
    val = map_structure(lambda t: take(t, split_at, None), arrays)
    return train, val
