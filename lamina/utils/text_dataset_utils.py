"""``keras.utils.text_dataset_from_directory`` without TensorFlow.

Texts come as Python strings in NumPy object arrays (Keras's TensorFlow datasets give
``tf.string`` bytes; its TensorFlow-free "grain" path gives ``str``, as here). Files are
read as UTF-8, keeping line endings as they are on disk; bytes that are not UTF-8 become
U+FFFD. ``max_length`` counts characters.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from lamina.utils import dataset_utils


def _read_text(path: str, max_length: int | None) -> str:
    with open(path, "rb") as f:
        text = f.read().decode("utf-8", errors="replace")
    return text if max_length is None else text[:max_length]


def paths_and_labels_to_dataset(
    file_paths: Sequence[str],
    labels: Any,
    label_mode: str | None,
    num_classes: int,
    max_length: int | None,
    batch_size: int | None = 32,
    shuffle: bool = False,
    seed: int | None = None,
) -> dataset_utils.BatchDataset:
    """A :class:`BatchDataset` of ``(texts, labels)``, or texts alone without labels."""
    paths = list(file_paths)
    encoded = dataset_utils.encode_labels(labels, label_mode, num_classes)

    def load(i: int) -> tuple:
        text = _read_text(paths[i], max_length)
        return (text,) if encoded is None else (text, encoded[i])

    ds = dataset_utils.BatchDataset(
        len(paths), load, batch_size=batch_size, shuffle=shuffle, seed=seed, threads=0, single=encoded is None
    )
    ds.file_paths = paths
    return ds


def text_dataset_from_directory(
    directory: str | os.PathLike,
    labels: str | Sequence[int] | None = "inferred",
    label_mode: str | None = "int",
    class_names: Sequence[str] | None = None,
    batch_size: int | None = 32,
    max_length: int | None = None,
    shuffle: bool = True,
    seed: int | None = None,
    validation_split: float | None = None,
    subset: str | None = None,
    follow_links: bool = False,
    format: str = "tf",
    verbose: bool = True,
) -> dataset_utils.BatchDataset | list[dataset_utils.BatchDataset]:
    """Generates a dataset of text batches from a folder of class subfolders of ``.txt`` files.

    The labels, file order and subsets are Keras's; see ``image_dataset_from_directory``
    for the arguments they share. Returns a :class:`BatchDataset` (no TensorFlow).

    Args:
        directory: the folder (one subfolder per class when ``labels="inferred"``).
        labels: ``"inferred"``, None, or a list of integer labels in file path order.
        label_mode: ``"int"``, ``"categorical"``, ``"binary"`` or None.
        class_names: with ``labels="inferred"``, the subfolders to use, in this order.
        batch_size: texts per batch; None yields single texts.
        max_length: keep at most this many characters of each text.
        shuffle: shuffle (and reshuffle each epoch); else alphanumeric order.
        seed: the shuffling seed.
        validation_split: the fraction reserved for validation.
        subset: ``"training"``, ``"validation"`` or ``"both"``.
        follow_links: visit subfolders that are symbolic links.
        format: ``"tf"`` or ``"grain"`` in Keras; both give a :class:`BatchDataset` here.
        verbose: print how many files and classes were found.

    Returns:
        A :class:`BatchDataset` of ``(texts, labels)``: texts a NumPy object array of ``str``
        of shape ``(batch,)``, labels a torch tensor; with ``subset="both"``, ``[train, val]``.

    Example:
        >>> import os, tempfile
        >>> root = tempfile.mkdtemp()
        >>> for label, text in (("neg", "dull"), ("pos", "great fun")):
        ...     os.makedirs(os.path.join(root, label))
        ...     _ = open(os.path.join(root, label, "a.txt"), "w").write(text)
        >>> ds = text_dataset_from_directory(root, shuffle=False, verbose=False)
        >>> texts, labels = next(iter(ds))
        >>> list(texts), labels.tolist()
        (['dull', 'great fun'], [0, 1])
    """
    dataset_utils.check_labels_args(labels, label_mode, class_names, "text")
    dataset_utils.check_format(format)
    if labels is None or label_mode is None:
        labels, label_mode = None, None
    if max_length is not None and (not isinstance(max_length, int) or isinstance(max_length, bool) or max_length < 0):
        raise ValueError(f"`max_length` must be a non-negative integer or None. Received: max_length={max_length!r}")
    dataset_utils.check_batch_size(batch_size)
    dataset_utils.check_validation_split_arg(validation_split, subset, shuffle, seed)
    if seed is None:
        seed = np.random.randint(1e6)
    paths, labels, class_names = dataset_utils.index_directory(
        directory,
        labels,
        formats=(".txt",),
        class_names=class_names,
        shuffle=shuffle,
        seed=seed,
        follow_links=follow_links,
        verbose=verbose,
    )
    dataset_utils.check_binary(label_mode, class_names)

    def build(subset_paths: list[str], subset_labels: Any, subset_shuffle: bool) -> dataset_utils.BatchDataset:
        ds = paths_and_labels_to_dataset(
            subset_paths,
            subset_labels,
            label_mode,
            len(class_names) if class_names else 0,
            max_length,
            batch_size=batch_size,
            shuffle=subset_shuffle,
            seed=seed,
        )
        ds.class_names = class_names
        return ds

    return dataset_utils.build_subsets(
        paths,
        labels,
        validation_split,
        subset,
        shuffle,
        build,
        lambda which: f"No {which}text files found in directory {os.fspath(directory)}. Allowed format: .txt",
    )
