"""The shared part of Keras's ``*_dataset_from_directory`` utilities, and ``split_dataset``.

Keras returns ``tf.data.Dataset`` objects from these utilities, so on the torch backend they
need TensorFlow. Lamina returns a :class:`BatchDataset`: a ``torch.utils.data.IterableDataset``
of ready batches (torch tensors; strings as NumPy object arrays) with ``len()`` (batches),
``class_names`` and ``file_paths``, which ``fit``/``evaluate``/``predict`` take directly.

Which files are found, their order, the labels and which files go to the training or the
validation subset under a seed are Keras's (the same NumPy shuffle of the same sorted
listing). The order of batches within an epoch is Lamina's own: TensorFlow's shuffle
buffer cannot be reproduced without TensorFlow. A dataset reshuffles on every pass,
deterministically for a given ``seed``.
"""

from __future__ import annotations

import math
import numbers
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from multiprocessing.pool import ThreadPool
from typing import Any

import numpy as np
import torch

_LABEL_MODES = ("int", "categorical", "binary", None)


def _print(message: str) -> None:
    sys.stdout.write(message + "\n")
    sys.stdout.flush()


# --- argument checks shared by the directory utilities -----------------------------------


def check_labels_args(labels: Any, label_mode: Any, class_names: Any, kind: str) -> None:
    """Keras's checks of ``labels``, ``label_mode`` and ``class_names``."""
    if labels not in ("inferred", None):
        if not isinstance(labels, (list, tuple)):
            raise ValueError(
                f"`labels` argument should be a list/tuple of integer labels, of the same size as the number of "
                f"{kind} files in the target directory. If you wish to infer the labels from the subdirectory names "
                'in the target directory, pass `labels="inferred"`. If you wish to get a dataset that only contains '
                f"{kind} samples (no labels), pass `labels=None`. Received: labels={labels}"
            )
        if class_names:
            raise ValueError(
                f'You can only pass `class_names` if `labels="inferred"`. Received: labels={labels}, and '
                f"class_names={class_names}"
            )
    if label_mode not in _LABEL_MODES:
        raise ValueError(
            '`label_mode` argument must be one of "int", "categorical", "binary", or None. '
            f"Received: label_mode={label_mode}"
        )


def check_validation_split_arg(validation_split: Any, subset: Any, shuffle: bool, seed: Any) -> None:
    """Keras's checks of ``validation_split``/``subset``/``seed``."""
    if validation_split and not 0 < validation_split < 1:
        raise ValueError(f"`validation_split` must be between 0 and 1, received: {validation_split}")
    if (validation_split or subset) and not (validation_split and subset):
        raise ValueError("If `subset` is set, `validation_split` must be set, and inversely.")
    if subset not in ("training", "validation", "both", None):
        raise ValueError(f'`subset` must be either "training", "validation" or "both", received: {subset}')
    if validation_split and shuffle and seed is None:
        raise ValueError(
            "If using `validation_split` and shuffling the data, you must provide a `seed` argument, to make "
            "sure that there is no overlap between the training and validation subset."
        )


def check_format(format: Any) -> None:
    if format not in ("tf", "grain"):
        raise ValueError(f'`format` should be either "tf" or "grain". Received: format={format}')


def check_batch_size(batch_size: Any) -> None:
    if batch_size is not None and (
        isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral) or batch_size < 1
    ):
        raise ValueError(f"`batch_size` must be a positive integer or None. Received: batch_size={batch_size!r}")


def check_binary(label_mode: str | None, class_names: Sequence[str] | None) -> None:
    if label_mode == "binary" and len(class_names or ()) != 2:
        raise ValueError(
            'When passing `label_mode="binary"`, there must be exactly 2 class_names. '
            f"Received: class_names={class_names}"
        )


# --- listing a directory, as Keras does ------------------------------------------------------


def _valid_files(directory: str, follow_links: bool, formats: tuple[str, ...]) -> Iterator[tuple[str, str]]:
    walk = os.walk(directory, followlinks=follow_links)
    for root, _, files in sorted(walk, key=lambda entry: entry[0]):
        for fname in sorted(files):
            if fname.lower().endswith(formats):
                yield root, fname


def _index_subdirectory(
    directory: str, class_indices: dict[str, int], follow_links: bool, formats: tuple[str, ...]
) -> tuple[list[str], list[int]]:
    dirname = os.path.basename(directory)
    filenames, labels = [], []
    for root, fname in _valid_files(directory, follow_links, formats):
        labels.append(class_indices[dirname])
        filenames.append(os.path.join(dirname, os.path.relpath(os.path.join(root, fname), directory)))
    return filenames, labels


def index_directory(
    directory: str | os.PathLike,
    labels: Any,
    formats: tuple[str, ...],
    class_names: Sequence[str] | None = None,
    shuffle: bool = True,
    seed: int | None = None,
    follow_links: bool = False,
    verbose: bool = True,
) -> tuple[list[str], Any, list[str] | None]:
    """Lists the files of ``directory`` with their labels: Keras's order, labels and seeded shuffle.

    Returns:
        ``(file_paths, labels, class_names)``; ``labels`` is an int32 array for inferred labels,
        the given list for explicit labels, None without labels.
    """
    directory = os.fspath(directory)
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"`directory` must be an existing folder. Received: directory={directory!r}")
    if labels == "inferred":
        subdirs = [
            d.rstrip("/")
            for d in sorted(os.listdir(directory))
            if os.path.isdir(os.path.join(directory, d)) and not d.startswith(".")
        ]
        if class_names is not None:
            if not set(class_names).issubset(set(subdirs)):
                raise ValueError(
                    "The `class_names` passed did not match the names of the subdirectories of the target "
                    f"directory. Expected: {subdirs} (or a subset of it), but received: class_names={class_names}"
                )
            subdirs = list(class_names)  # the given order
    else:
        subdirs = [""]  # explicit or no labels: every file under the folder
        if class_names is not None:
            if labels is None:
                raise ValueError("When `labels=None` (no labels), argument `class_names` cannot be specified.")
            raise ValueError(
                "When argument `labels` is specified, argument `class_names` cannot be specified (the "
                "`class_names` will be the sorted list of labels)."
            )
    class_names = subdirs
    class_indices = dict(zip(class_names, range(len(class_names)), strict=True))
    with ThreadPool() as pool:
        results = [
            pool.apply_async(_index_subdirectory, (os.path.join(directory, sub), class_indices, follow_links, formats))
            for sub in subdirs
        ]
        parts = [r.get() for r in results]
    filenames = [f for names, _ in parts for f in names]
    if labels == "inferred":
        labels = np.array([label for _, part in parts for label in part], dtype="int32")
    elif labels is None:
        class_names = None
    else:
        if len(labels) != len(filenames):
            raise ValueError(
                "Expected the lengths of `labels` to match the number of files in the target directory. "
                f"len(labels) is {len(labels)} while we found {len(filenames)} files in directory {directory}."
            )
        class_names = [str(label) for label in sorted(set(labels))]
    if verbose:
        if labels is None:
            _print(f"Found {len(filenames)} files.")
        else:
            _print(f"Found {len(filenames)} files belonging to {len(class_names)} classes.")
    file_paths = [os.path.join(directory, f) for f in filenames]
    if shuffle:
        if seed is None:
            seed = np.random.randint(1e6)
        np.random.RandomState(seed).shuffle(file_paths)
        if labels is not None:
            # the same permutation: a fresh generator with the same seed
            np.random.RandomState(seed).shuffle(labels)
    return file_paths, labels, class_names


def get_training_or_validation_split(
    samples: list, labels: Any, validation_split: float | None, subset: str | None
) -> tuple[list, Any]:
    """The last ``validation_split`` of the samples for ``"validation"``, the rest for ``"training"`` (Keras)."""
    if not validation_split:
        return samples, labels
    num_val = int(validation_split * len(samples))
    if num_val == 0:
        # Keras would give every sample to validation and none to training here (x[-0:], x[:-0])
        raise ValueError(
            f"`validation_split={validation_split}` of {len(samples)} files leaves no file for validation. "
            "Use a larger `validation_split` or more files."
        )
    if subset == "training":
        _print(f"Using {len(samples) - num_val} files for training.")
        return samples[:-num_val], None if labels is None else labels[:-num_val]
    if subset == "validation":
        _print(f"Using {num_val} files for validation.")
        return samples[-num_val:], None if labels is None else labels[-num_val:]
    raise ValueError(f'`subset` must be either "training" or "validation", received: {subset}')


def build_subsets(
    paths: list[str],
    labels: Any,
    validation_split: float | None,
    subset: str | None,
    shuffle: bool,
    build: Callable[[list[str], Any, bool], Any],
    empty_message: Callable[[str], str],
) -> Any:
    """One dataset, or ``[training, validation]`` for ``subset="both"`` (validation never shuffled), as Keras."""
    if subset == "both":
        train = get_training_or_validation_split(paths, labels, validation_split, "training")
        val = get_training_or_validation_split(paths, labels, validation_split, "validation")
        if not train[0]:
            raise ValueError(empty_message("training "))
        if not val[0]:
            raise ValueError(empty_message("validation "))
        return [build(train[0], train[1], shuffle), build(val[0], val[1], False)]
    paths, labels = get_training_or_validation_split(paths, labels, validation_split, subset)
    if not paths:
        raise ValueError(empty_message(""))
    return build(paths, labels, shuffle)


def encode_labels(labels: Any, label_mode: str | None, num_classes: int) -> np.ndarray | None:
    """Per-sample labels as Keras's datasets yield them: int32, float32 ``(n, 1)``, or float32 one-hot."""
    if label_mode is None or labels is None:
        return None
    labels = np.asarray(labels)
    if label_mode == "binary":
        return labels.astype("float32")[:, None]
    if label_mode == "categorical":
        onehot = np.zeros((len(labels), num_classes), "float32")
        valid = (labels >= 0) & (labels < num_classes)  # tf.one_hot: out-of-range ids give zero rows
        onehot[np.arange(len(labels))[valid], labels[valid]] = 1
        return onehot
    return labels.astype("int32")


# --- the dataset ------------------------------------------------------------------------------


def stack(values: list) -> Any:
    """Batches one component: strings into a NumPy object array, numbers into a torch tensor."""
    if isinstance(values[0], str):
        return np.array(values, dtype=object)
    return torch.from_numpy(np.stack(values))


def pad_and_stack(values: list) -> torch.Tensor:
    """Batches arrays of different shapes, padding each axis with zeros to the largest (``padded_batch``)."""
    shape = tuple(max(v.shape[d] for v in values) for d in range(values[0].ndim))
    out = np.zeros((len(values), *shape), values[0].dtype)
    for i, v in enumerate(values):
        out[(i, *(slice(0, n) for n in v.shape))] = v
    return torch.from_numpy(out)


def _to_torch(value: Any) -> Any:
    if isinstance(value, np.ndarray) and value.dtype != object:
        return torch.from_numpy(value)
    return value


class BatchDataset(torch.utils.data.IterableDataset):
    """An iterable of batches built from ``num_samples`` samples that ``load(i)`` returns.

    What Lamina's ``image_dataset_from_directory`` and the other dataset utilities return, in
    place of Keras's ``tf.data.Dataset``. ``len(ds)`` is the number of batches; every pass
    over it is one epoch (reshuffled when ``shuffle``, reproducibly for a given ``seed``).
    Samples are loaded by a few threads, one batch ahead. Inside a ``DataLoader`` with
    workers, each worker yields every ``num_workers``-th batch.

    Args:
        num_samples: how many samples.
        load: ``load(i)`` returns sample ``i``: a tuple of components (arrays or strings).
        batch_size: samples per batch; None yields single samples.
        shuffle: reshuffle the samples on every pass.
        seed: the shuffling seed; None draws one.
        collate: per component, a function turning a list of values into a batch.
        threads: loader threads (0 loads in the iterating thread).
        single: yield the only component itself instead of a 1-tuple.
        load_batch: optional ``load_batch(indices)`` returning a whole batch at once (used
            instead of ``load`` and ``collate`` when the samples can be gathered vectorised).

    Example:
        >>> import numpy as np
        >>> data = np.arange(10, dtype="float32")
        >>> ds = BatchDataset(10, lambda i: (data[i:i + 1], np.int32(i % 2)), batch_size=4)
        >>> len(ds), [tuple(x.shape) for x, y in ds]
        (3, [(4, 1), (4, 1), (2, 1)])
    """

    def __init__(
        self,
        num_samples: int,
        load: Callable[[int], tuple],
        batch_size: int | None = 32,
        shuffle: bool = False,
        seed: int | None = None,
        collate: Sequence[Callable[[list], Any]] | None = None,
        threads: int = 0,
        single: bool = False,
        load_batch: Callable[[np.ndarray], Any] | None = None,
    ) -> None:
        super().__init__()
        self.num_samples = int(num_samples)
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.seed = int(np.random.randint(1e6)) if seed is None else int(seed)
        self._load = load
        self._collate = collate
        self._threads = threads
        self._single = single
        self._load_batch = load_batch
        self._epoch = 0
        self.class_names: list[str] | None = None
        self.file_paths: list[str] | None = None

    def __len__(self) -> int:
        if self.batch_size is None:
            return self.num_samples
        return math.ceil(self.num_samples / self.batch_size)

    def cardinality(self) -> int:
        """The number of batches (``tf.data.Dataset.cardinality``'s answer)."""
        return len(self)

    def _order(self, epoch: int) -> np.ndarray:
        if not self.shuffle:
            return np.arange(self.num_samples)
        return np.random.default_rng([self.seed, epoch]).permutation(self.num_samples)

    def _batch_indices(self) -> list[np.ndarray]:
        order = self._order(self._epoch)
        self._epoch += 1
        if self.batch_size is None:
            groups = [order[i : i + 1] for i in range(len(order))]
        else:
            groups = [order[i : i + self.batch_size] for i in range(0, len(order), self.batch_size)]
        info = torch.utils.data.get_worker_info()
        if info is not None and info.num_workers > 1:
            groups = groups[info.id :: info.num_workers]
        return groups

    def _assemble(self, samples: list[tuple]) -> Any:
        if self.batch_size is None:
            parts = tuple(_to_torch(np.asarray(c) if not isinstance(c, str) else c) for c in samples[0])
        else:
            columns = list(zip(*samples, strict=True))
            collate = self._collate or [stack] * len(columns)
            parts = tuple(fn(list(col)) for fn, col in zip(collate, columns, strict=True))
        return parts[0] if self._single else parts

    def __iter__(self) -> Iterator[Any]:
        groups = self._batch_indices()
        if self._load_batch is not None:
            for group in groups:
                batch = self._load_batch(group)
                if self.batch_size is None:  # a single sample: drop the batch axis
                    batch = tuple(part[0] for part in batch) if isinstance(batch, tuple) else batch[0]
                yield batch
            return
        if self._threads <= 0:
            for group in groups:
                yield self._assemble([self._load(int(i)) for i in group])
            return
        with ThreadPoolExecutor(self._threads) as pool:
            pending = [pool.submit(self._load, int(i)) for i in groups[0]] if groups else []
            for k in range(len(groups)):
                current = pending
                if k + 1 < len(groups):  # start loading the next batch while this one is consumed
                    pending = [pool.submit(self._load, int(i)) for i in groups[k + 1]]
                yield self._assemble([f.result() for f in current])

    # --- a few tf.data-style conveniences used by Keras examples ---

    def take(self, count: int) -> _Derived:
        """The first ``count`` batches of each pass."""
        return _Derived(self, lambda it: (b for _, b in zip(range(count), it, strict=False)), min(count, len(self)))

    def map(self, fn: Callable[..., Any]) -> _Derived:
        """Applies ``fn`` to each batch (a tuple batch is unpacked into arguments, as ``tf.data``)."""

        def apply(it: Iterator[Any]) -> Iterator[Any]:
            for b in it:
                yield fn(*b) if isinstance(b, tuple) else fn(b)

        return _Derived(self, apply, len(self))

    def prefetch(self, buffer_size: Any = None) -> BatchDataset:
        """Returns the dataset itself: batches are already loaded one ahead."""
        return self

    def cache(self, filename: str = "") -> _Derived:
        """Keeps the batches of the first complete pass in memory and replays them after (``tf.data``'s
        ``cache()``: e.g. text vectorized once, not once per epoch). ``filename`` is accepted and unused."""
        stored: list[Any] = []
        complete = [False]

        def replay(it: Iterator[Any]) -> Iterator[Any]:
            if complete[0]:
                yield from stored
                return
            fresh = []
            for b in it:
                fresh.append(b)
                yield b
            stored[:] = fresh
            complete[0] = True

        return _Derived(self, replay, len(self))

    def __repr__(self) -> str:
        return (
            f"<{type(self).__name__} batches={len(self)} batch_size={self.batch_size} "
            f"samples={self.num_samples} shuffle={self.shuffle}>"
        )


class _Derived(torch.utils.data.IterableDataset):
    """A view of a :class:`BatchDataset` with ``take``/``map`` applied (keeps ``class_names``)."""

    def __init__(self, base: Any, transform: Callable[[Iterator[Any]], Iterator[Any]], length: int) -> None:
        super().__init__()
        self._base = base
        self._transform = transform
        self._length = length
        self.class_names = getattr(base, "class_names", None)
        self.file_paths = getattr(base, "file_paths", None)

    def __len__(self) -> int:
        return self._length

    def __iter__(self) -> Iterator[Any]:
        return self._transform(iter(self._base))

    cardinality = BatchDataset.cardinality
    take = BatchDataset.take
    map = BatchDataset.map
    prefetch = BatchDataset.prefetch
    cache = BatchDataset.cache


# --- split_dataset ------------------------------------------------------------------------------


def _split_sizes(left_size: Any, right_size: Any, total: int) -> tuple[int, int]:
    """Keras's checks and rounding of ``left_size``/``right_size`` (ints are counts, floats fractions)."""
    for name, value in (("left_size", left_size), ("right_size", right_size)):
        if value is not None and type(value) not in (int, float):
            raise TypeError(
                f"Invalid `{name}` Type. Expected: int or float or None, Received: type({name})={type(value)}."
            )
    if left_size == 0 and right_size == 0:
        raise ValueError(
            "Both `left_size` and `right_size` are zero. At least one of the split sizes must be non-zero."
        )
    for name, value in (("left_size", left_size), ("right_size", right_size)):
        if (type(value) is int and not 0 < value < total) or (type(value) is float and not 0 < value < 1):
            raise ValueError(
                f"`{name}` should be either a positive integer smaller than {total}, or a float within the range "
                f"`[0, 1]`. Received: {name}={value}"
            )
    if type(left_size) is float and type(right_size) is float and left_size + right_size > 1:
        raise ValueError(
            "The sum of `left_size` and `right_size` is greater than 1. It must be less than or equal to 1."
        )
    left = round(left_size * total) if type(left_size) is float else left_size
    right = round(right_size * total) if type(right_size) is float else right_size
    left = total - right if left is None else left
    right = total - left if right is None else right
    if left + right > total:
        raise ValueError(
            f"The sum of `left_size` and `right_size` should be smaller than the {total}. "
            f"Received: left_size + right_size = {left + right} and total_length = {total}"
        )
    for value, side in ((left, "left"), (right, "right")):
        if value == 0:
            raise ValueError(
                f"With `dataset` of length={total}, `left_size`={left} and `right_size`={right}. Resulting {side} "
                "side dataset split will be empty. Adjust any of the aforementioned parameters"
            )
    return int(left), int(right)


def _as_torch_dataset(dataset: Any) -> torch.utils.data.Dataset:
    if isinstance(dataset, torch.utils.data.IterableDataset):
        raise TypeError(
            f"`split_dataset` needs a dataset with a length and indexing; {type(dataset).__name__} is an iterable "
            "of batches. For the directory utilities, use `validation_split` with `subset` instead."
        )
    if isinstance(dataset, torch.utils.data.Dataset):
        return dataset
    if isinstance(dataset, np.ndarray):
        return torch.utils.data.TensorDataset(torch.from_numpy(dataset))
    if isinstance(dataset, (list, tuple)):
        if not dataset:
            raise ValueError("Received an empty list dataset. Please provide a non-empty list of arrays.")
        arrays = []
        for i, element in enumerate(dataset):
            if not isinstance(element, (np.ndarray, torch.Tensor)):
                raise ValueError(
                    f"Expected a {type(dataset).__name__} of `numpy.ndarray` objects, Received: {type(element)} "
                    f"at index {i}."
                )
            arrays.append(torch.as_tensor(element))
        for i, t in enumerate(arrays):
            if len(t) != len(arrays[0]):
                raise ValueError(
                    f"Received a {type(dataset).__name__} of NumPy arrays with different lengths. Mismatch found "
                    f"at index {i}, Expected shape={tuple(arrays[0].shape)} Received shape={tuple(t.shape)}."
                )
        return torch.utils.data.TensorDataset(*arrays)
    raise TypeError(
        "The `dataset` argument must be a `torch.utils.data.Dataset` object, or a list/tuple of arrays. "
        f"Received: dataset={dataset!r} of type {type(dataset)}"
    )


def split_dataset(
    dataset: Any,
    left_size: int | float | None = None,
    right_size: int | float | None = None,
    shuffle: bool = False,
    seed: int | None = None,
    preferred_backend: str | None = None,
) -> tuple[torch.utils.data.Subset, torch.utils.data.Subset]:
    """Splits a dataset into a left part and a right part (e.g. train / test).

    As Keras on the torch backend: arrays become a ``TensorDataset`` and the parts are
    ``torch.utils.data.Subset`` objects; with ``shuffle`` and a ``seed`` the split is the one
    Keras makes (``torch.utils.data.random_split`` with that seed). Without ``shuffle`` the
    left part is the first ``left_size`` samples and the right part the last ``right_size``
    (Keras on torch splits at random there too). A total below the length leaves the middle out.

    Args:
        dataset: a map-style ``torch.utils.data.Dataset``, a NumPy array, or a list/tuple of
            arrays of the same length.
        left_size: an int (samples) or a float in ``(0, 1)`` (fraction); None: the rest.
        right_size: the same for the right part.
        shuffle: shuffle before splitting.
        seed: the shuffle seed.
        preferred_backend: accepted for Keras compatibility; only ``"torch"`` (or None) is supported.

    Returns:
        ``(left, right)``.

    Example:
        >>> import numpy as np
        >>> left, right = split_dataset(np.arange(10).reshape(10, 1), left_size=0.8)
        >>> len(left), len(right), int(right[0][0][0])
        (8, 2, 8)
    """
    if preferred_backend not in (None, "torch"):
        raise ValueError(
            "Lamina builds torch datasets: `preferred_backend` must be 'torch' or None. "
            f"Received: preferred_backend={preferred_backend!r}"
        )
    data = _as_torch_dataset(dataset)
    if left_size is None and right_size is None:
        raise ValueError(
            "At least one of the `left_size` or `right_size` must be specified. "
            "Received: left_size=None and right_size=None"
        )
    total = len(data)
    left, right = _split_sizes(left_size, right_size, total)
    if not shuffle:
        return (
            torch.utils.data.Subset(data, list(range(left))),
            torch.utils.data.Subset(data, list(range(total - right, total))),
        )
    generator = torch.Generator()
    if seed is not None:
        generator.manual_seed(seed)
    else:
        generator.seed()
    if left + right == total:
        first, second = torch.utils.data.random_split(data, [left, right], generator=generator)
        return first, second
    order = torch.randperm(total, generator=generator).tolist()
    return torch.utils.data.Subset(data, order[:left]), torch.utils.data.Subset(data, order[total - right :])
