"""text_dataset_from_directory: Keras's files, labels, subsets and texts, without TensorFlow."""

import os

import numpy as np
import pytest
import torch

from lamina.utils import text_dataset_from_directory
from tests.fixtures.make_dataset_utils import TEXT_CASES
from tests.utils.dataset_refs import HERE, REFS, our_batches, ref_batches

TEXTS = os.path.join(HERE, "texts")


@pytest.mark.parametrize("name", ["txt_default", "txt_max_length", "txt_binary"])
def test_batches_equal_keras(name):
    ds = text_dataset_from_directory(TEXTS, verbose=False, **TEXT_CASES[name])
    assert ds.class_names == REFS[name]["class_names"]
    assert len(ds) == REFS[name]["num_batches"]
    ours, theirs = our_batches(ds), ref_batches(name)
    for our_parts, ref_parts in zip(ours, theirs, strict=True):
        assert our_parts[0] == ref_parts[0]  # the texts, in order
        assert our_parts[1].dtype == ref_parts[1].dtype
        np.testing.assert_array_equal(our_parts[1], ref_parts[1])


def test_split_both_equals_keras():
    train, val = text_dataset_from_directory(TEXTS, verbose=False, **TEXT_CASES["txt_split_both"])
    for ds, part in ((train, "training"), (val, "validation")):
        ref = ref_batches(f"txt_split_both/{part}")
        ours = our_batches(ds)
        ref_pairs = sorted(zip(ref[0][0], ref[0][1].tolist(), strict=True))
        our_pairs = sorted(zip(ours[0][0], ours[0][1].tolist(), strict=True))
        assert our_pairs == ref_pairs
    assert not set(train.file_paths) & set(val.file_paths)


def test_texts_are_python_strings_and_unlabelled_mode(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "x.txt").write_bytes("héllo\r\nwörld".encode())
    (tmp_path / "a" / "y.txt").write_bytes(b"bad \xff byte")
    ds = text_dataset_from_directory(tmp_path, labels=None, shuffle=False, verbose=False, max_length=7)
    batch = next(iter(ds))
    assert isinstance(batch, np.ndarray) and batch.dtype == object
    assert list(batch) == ["héllo\r\n", "bad \ufffd b"]  # line endings kept, characters counted
    single = text_dataset_from_directory(tmp_path, batch_size=None, shuffle=False, verbose=False)
    text, label = next(iter(single))
    assert text == "héllo\r\nwörld" and isinstance(label, torch.Tensor) and label.dtype == torch.int32


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"label_mode": "multi"}, r"Received: label_mode=multi"),
        ({"format": "arrow"}, r"Received: format=arrow"),
        ({"max_length": -1}, r"Received: max_length=-1"),
        ({"label_mode": "binary", "class_names": ["neg"]}, r"exactly 2 class_names"),
        ({"validation_split": 0.3, "subset": "training"}, "you must provide a `seed`"),
    ],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        text_dataset_from_directory(TEXTS, verbose=False, **kwargs)


def test_no_text_files(tmp_path):
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "a.md").write_text("x")
    with pytest.raises(ValueError, match=r"No text files found in directory .*\. Allowed format: \.txt"):
        text_dataset_from_directory(tmp_path, verbose=False)
