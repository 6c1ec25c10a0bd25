"""image_dataset_from_directory: Keras's file order, labels, subsets and batch values, without TensorFlow.

Batch values are compared with Keras's own outputs (TensorFlow), stored by
tests/fixtures/make_dataset_utils.py; the indexing is also compared live with Keras's
``index_directory`` (plain Python, no TensorFlow) on generated folders.
"""

import os

import numpy as np
import pytest
import torch
from keras.src.utils import dataset_utils as keras_dataset_utils

import lamina
from lamina.utils import image_dataset_from_directory, save_img
from tests.fixtures.make_dataset_utils import IMAGE_CASES
from tests.utils.dataset_refs import HERE, REFS, our_batches, ref_batches, relative

NOT_SHUFFLED = [name for name, (_, kw) in IMAGE_CASES.items() if kw.get("shuffle") is False]
FAST = ["img_default", "img_nearest", "img_bicubic", "img_crop", "img_pad", "img_gray_binary"]


def _build(name):
    tree, kwargs = IMAGE_CASES[name]
    return os.path.join(HERE, tree), image_dataset_from_directory(os.path.join(HERE, tree), verbose=False, **kwargs)


def _assert_images_close(ours, theirs, paths):
    assert ours.dtype == theirs.dtype and ours.shape == theirs.shape
    for img_a, img_b, path in zip(ours, theirs, paths, strict=True):
        diff = np.abs(img_a.astype("float64") - img_b.astype("float64"))
        if path.lower().endswith((".jpg", ".jpeg")):
            # TensorFlow decodes JPEG with the fast integer DCT, Pillow with the accurate one
            assert diff.mean() < 3 and diff.max() <= 16, path
        else:
            assert diff.max() <= 1e-3, path


@pytest.mark.parametrize("name", [pytest.param(n, marks=() if n in FAST else pytest.mark.slow) for n in NOT_SHUFFLED])
def test_batches_equal_keras(name):
    directory, ds = _build(name)
    ref = REFS[name]
    assert ds.class_names == ref.get("class_names")
    assert relative(ds.file_paths, directory) == ref["file_paths"]
    ours, theirs = our_batches(ds), ref_batches(name)
    assert len(ds) == len(ours) == ref["num_batches"]
    order = iter(ref["file_paths"])
    for our_parts, ref_parts in zip(ours, theirs, strict=True):
        assert len(our_parts) == len(ref_parts)
        images, ref_images = our_parts[0], ref_parts[0]
        if images.ndim == 3 and ref_images.ndim == 3 and IMAGE_CASES[name][1].get("batch_size", 32) is None:
            images, ref_images = images[None], ref_images[None]
        paths = [next(order) for _ in range(len(ref_images))]
        if IMAGE_CASES[name][1].get("data_format") == "channels_first":
            assert images.shape[1] in (1, 3, 4)
        _assert_images_close(images, ref_images, paths)
        for ours_part, ref_part in zip(our_parts[1:], ref_parts[1:], strict=True):
            assert ours_part.dtype == ref_part.dtype
            np.testing.assert_array_equal(ours_part, ref_part)


@pytest.mark.parametrize("name", ["img_shuffled", "img_split_training", "img_split_validation", "img_split_both"])
def test_shuffled_and_split_files_equal_keras(name):
    tree, kwargs = IMAGE_CASES[name]
    directory = os.path.join(HERE, tree)
    result = image_dataset_from_directory(directory, verbose=False, **kwargs)
    datasets = dict(zip(("training", "validation"), result, strict=True)) if isinstance(result, list) else {"": result}
    for suffix, ds in datasets.items():
        ref_name = f"{name}/{suffix}" if suffix else name
        assert relative(ds.file_paths, directory) == REFS[ref_name]["file_paths"]
        ours, theirs = our_batches(ds), ref_batches(ref_name)
        assert len(ds) == REFS[ref_name]["num_batches"]
        # the epoch order is Lamina's own (TensorFlow's shuffle buffer): compare the samples as a set
        our_labels = np.concatenate([b[1] for b in ours])
        ref_labels = np.concatenate([b[1] for b in theirs])
        assert sorted(our_labels.tolist()) == sorted(ref_labels.tolist())
        key = lambda im: round(float(im.mean()), -1)  # noqa: E731 -- coarse enough for the JPEG difference
        ours_sorted = sorted(np.concatenate([b[0] for b in ours]), key=key)
        refs_sorted = sorted(np.concatenate([b[0] for b in theirs]), key=key)
        assert [key(a) for a in ours_sorted] == [key(b) for b in refs_sorted]


def _tree(root, spec):
    """Writes tiny PNGs: spec maps relative paths to (height, width)."""
    for rel, (h, w) in spec.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        save_img(path, np.random.RandomState(len(rel)).random_sample((h, w, 3)))
    return root


SPEC = {f"{c}/{i:02d}.png": (4 + i % 3, 5) for c in ("ants", "bees", "wasps") for i in range(7)}


@pytest.mark.parametrize(
    "kwargs",
    [
        {"labels": "inferred", "shuffle": False},
        {"labels": "inferred", "shuffle": True, "seed": 3},
        {"labels": "inferred", "class_names": ["wasps", "ants"], "shuffle": True, "seed": 9},
        {"labels": None, "shuffle": True, "seed": 1},
        {"labels": "explicit", "shuffle": True, "seed": 4},
        {"labels": "inferred", "follow_links": True, "shuffle": False},
        {"labels": "explicit", "follow_links": True, "shuffle": False},
    ],
)
def test_index_equals_keras_index_directory(tmp_path, kwargs):
    root = _tree(tmp_path / "data", SPEC)
    os.symlink(root / "bees", root / "ants" / "linked")  # walked only with follow_links
    os.symlink(root / "bees", root / "zlinked_class")  # a linked class folder is always a class
    kwargs = dict(kwargs)
    common = {"follow_links": kwargs.get("follow_links", False), "verbose": False}
    if kwargs["labels"] == "explicit":
        n = len(keras_dataset_utils.index_directory(str(root), None, (".png",), shuffle=False, **common)[0])
        kwargs["labels"] = [i % 4 for i in range(n)]
    args = (str(root), kwargs["labels"], (".png",))
    index_kwargs = {"class_names": kwargs.get("class_names"), "shuffle": kwargs["shuffle"], "seed": kwargs.get("seed")}
    theirs = keras_dataset_utils.index_directory(*args, **index_kwargs, **common)
    ours = lamina.utils.dataset_utils.index_directory(*args, **index_kwargs, **common)
    assert ours[0] == theirs[0] and ours[2] == theirs[2]
    assert (ours[1] is None) == (theirs[1] is None)
    if ours[1] is not None:
        assert np.asarray(ours[1]).tolist() == np.asarray(theirs[1]).tolist()
    ds = image_dataset_from_directory(root, image_size=(2, 2), verbose=False, **kwargs)
    assert ds.file_paths == theirs[0] and ds.class_names == theirs[2]
    if not kwargs["shuffle"] and kwargs["labels"] is not None:
        assert torch.cat([y for _, y in ds]).tolist() == np.asarray(theirs[1]).tolist()


@pytest.mark.parametrize("split, seed", [(0.2, 1), (0.5, 77), (0.34, 123)])
def test_subsets_match_keras_and_are_disjoint(tmp_path, split, seed):
    root = _tree(tmp_path / "data", SPEC)
    paths, labels, _ = keras_dataset_utils.index_directory(str(root), "inferred", (".png",), seed=seed, verbose=False)
    k_train = keras_dataset_utils.get_training_or_validation_split(paths, labels, split, "training")
    k_val = keras_dataset_utils.get_training_or_validation_split(paths, labels, split, "validation")
    train, val = image_dataset_from_directory(
        root, image_size=(2, 2), validation_split=split, subset="both", seed=seed, verbose=False
    )
    assert train.file_paths == k_train[0] and val.file_paths == k_val[0]
    alone = image_dataset_from_directory(
        root, image_size=(2, 2), validation_split=split, subset="validation", seed=seed, verbose=False
    )
    assert alone.file_paths == val.file_paths
    assert not set(train.file_paths) & set(val.file_paths)
    assert sorted(train.file_paths + val.file_paths) == sorted(paths)
    # the validation labels follow the files
    got = torch.cat([y for _, y in val]).tolist()
    assert sorted(got) == sorted(np.asarray(k_val[1]).tolist())


def test_shuffling_is_seeded_and_changes_each_epoch(tmp_path):
    root = _tree(tmp_path / "data", SPEC)

    def epochs(ds, n=2):
        return [torch.cat([x.flatten(1).sum(1) for x, _ in ds]).tolist() for _ in range(n)]

    a = epochs(image_dataset_from_directory(root, image_size=(2, 2), seed=5, batch_size=4, verbose=False))
    b = epochs(image_dataset_from_directory(root, image_size=(2, 2), seed=5, batch_size=4, verbose=False))
    c = epochs(image_dataset_from_directory(root, image_size=(2, 2), seed=6, batch_size=4, verbose=False))
    assert a == b
    assert a[0] != a[1] and sorted(a[0]) == sorted(a[1])
    assert a != c
    fixed = image_dataset_from_directory(root, image_size=(2, 2), shuffle=False, batch_size=4, verbose=False)
    assert epochs(fixed)[0] == epochs(fixed)[1]


def test_fit_evaluate_predict_take_a_dataset(tmp_path):
    root = _tree(tmp_path / "data", SPEC)
    train, val = image_dataset_from_directory(
        root, image_size=(8, 8), batch_size=5, validation_split=0.25, subset="both", seed=1, verbose=False
    )
    model = lamina.Sequential(
        [
            lamina.Input((8, 8, 3)),
            lamina.layers.Rescaling(1.0 / 255),
            lamina.layers.Conv2D(4, 3, activation="relu"),
            lamina.layers.Flatten(),
            lamina.layers.Dense(len(train.class_names)),
        ]
    )
    model.compile(
        optimizer="adam", loss=lamina.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"]
    )
    history = model.fit(train, validation_data=val, epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2 and "val_accuracy" in history.history
    assert np.isfinite(history.history["val_loss"]).all()
    result = model.evaluate(val, verbose=0)
    assert len(result) == 2 and np.isfinite(result).all()
    preds = model.predict(val, verbose=0)
    assert preds.shape == (len(val.file_paths), 3)


def test_take_map_prefetch_and_dataloader(tmp_path):
    root = _tree(tmp_path / "data", SPEC)
    ds = image_dataset_from_directory(root, image_size=(3, 3), batch_size=4, shuffle=False, verbose=False)
    assert len(ds) == 6 and ds.cardinality() == 6 and ds.prefetch(2) is ds
    first = ds.take(2)
    assert len(first) == 2 and len(list(first)) == 2 and first.class_names == ds.class_names
    scaled = ds.map(lambda x, y: (x / 255.0, y))
    assert float(max(x.max() for x, _ in scaled)) <= 1.0
    loader = torch.utils.data.DataLoader(ds, batch_size=None, num_workers=2)
    sums = sorted(float(x.sum()) for x, _ in loader)
    assert sums == sorted(float(x.sum()) for x, _ in ds)


def test_unbatched_and_channels_first(tmp_path):
    root = _tree(tmp_path / "data", SPEC)
    ds = image_dataset_from_directory(
        root,
        image_size=(3, 5),
        batch_size=None,
        shuffle=False,
        verbose=False,
        data_format="channels_first",
        label_mode="categorical",
    )
    x, y = next(iter(ds))
    assert tuple(x.shape) == (3, 3, 5) and tuple(y.shape) == (3,) and y.dtype == torch.float32
    assert len(ds) == 21


def test_verbose_counts(tmp_path, capsys):
    root = _tree(tmp_path / "data", SPEC)
    image_dataset_from_directory(root, image_size=(2, 2), validation_split=0.2, subset="training", seed=1)
    out = capsys.readouterr().out
    assert "Found 21 files belonging to 3 classes." in out and "Using 17 files for training." in out


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"label_mode": "sparse"}, ValueError, r"Received: label_mode=sparse"),
        ({"labels": "folders"}, ValueError, r"Received: labels=folders"),
        ({"labels": [0, 1], "class_names": ["a"]}, ValueError, r"only pass `class_names` if `labels=\"inferred\"`"),
        ({"color_mode": "cmyk"}, ValueError, r"Received: color_mode=cmyk"),
        ({"image_size": (4, 4, 3)}, ValueError, r"Received: image_size=\(4, 4, 3\)"),
        ({"image_size": (0, 4)}, ValueError, r"Received: image_size=\(0, 4\)"),
        ({"interpolation": "cubic"}, ValueError, r"Received: interpolation=cubic"),
        ({"crop_to_aspect_ratio": True, "pad_to_aspect_ratio": True}, ValueError, "Only one of"),
        ({"validation_split": 0.2}, ValueError, "If `subset` is set, `validation_split` must be set"),
        ({"validation_split": 1.5, "subset": "training"}, ValueError, "between 0 and 1, received: 1.5"),
        ({"validation_split": 0.2, "subset": "training"}, ValueError, "you must provide a `seed`"),
        ({"validation_split": 0.2, "subset": "test", "seed": 1}, ValueError, "received: test"),
        ({"label_mode": "binary"}, ValueError, r"exactly 2 class_names.*\['ants', 'bees', 'wasps'\]"),
        ({"class_names": ["ants", "moths"]}, ValueError, r"class_names=\['ants', 'moths'\]"),
        ({"labels": [0, 1]}, ValueError, r"len\(labels\) is 2 while we found 21 files"),
        ({"format": "torch"}, ValueError, r"Received: format=torch"),
        ({"batch_size": 0}, ValueError, r"Received: batch_size=0"),
        ({"validation_split": 0.01, "subset": "validation", "seed": 1}, ValueError, "leaves no file for validation"),
    ],
)
def test_bad_arguments(tmp_path, kwargs, error, match):
    root = _tree(tmp_path / "data", SPEC)
    with pytest.raises(error, match=match):
        image_dataset_from_directory(root, verbose=False, **kwargs)


def test_folder_without_images_names_folder_and_formats(tmp_path):
    (tmp_path / "empty" / "cls").mkdir(parents=True)
    (tmp_path / "empty" / "cls" / "notes.txt").write_text("x")
    with pytest.raises(ValueError, match=r"No images found in directory .*empty\. Allowed formats: \('\.bmp'"):
        image_dataset_from_directory(tmp_path / "empty", verbose=False)
    with pytest.raises(FileNotFoundError, match=r"Received: directory=.*missing"):
        image_dataset_from_directory(tmp_path / "missing", verbose=False)
