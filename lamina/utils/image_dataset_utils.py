"""``keras.utils.image_dataset_from_directory`` without TensorFlow.

Files are found, ordered, labelled and split as Keras does; images are decoded with Pillow
(the optional ``image`` extra) and resized with ``tf.image.resize``'s arithmetic (see
``resize_utils``), so batches equal Keras's for lossless formats. Two decoder differences
remain: JPEG (TensorFlow's default fast integer DCT against Pillow's accurate one, a few
grey levels apart; TensorFlow's ``INTEGER_ACCURATE`` equals Pillow), and a colour PNG read
as ``grayscale`` (the two libraries round the luma weights differently, at most 1 level).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from lamina.backend.config import standardize_data_format
from lamina.utils import dataset_utils, resize_utils
from lamina.utils.image_utils import convert_color, require_pil

ALLOWLIST_FORMATS = (".bmp", ".gif", ".jpeg", ".jpg", ".png")
_CHANNELS = {"rgb": 3, "rgba": 4, "grayscale": 1}


def _check_image_size(image_size: Any) -> tuple[int, int]:
    if isinstance(image_size, int) and not isinstance(image_size, bool):
        image_size = (image_size, image_size)
    if (
        not isinstance(image_size, (list, tuple))
        or len(image_size) != 2
        or not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v > 0 for v in image_size)
    ):
        raise ValueError(
            f"Invalid `image_size` value. Expected a tuple of 2 positive integers. Received: image_size={image_size}"
        )
    return int(image_size[0]), int(image_size[1])


def load_image(
    path: str,
    image_size: tuple[int, int],
    color_mode: str,
    interpolation: str,
    data_format: str,
    crop_to_aspect_ratio: bool = False,
    pad_to_aspect_ratio: bool = False,
) -> np.ndarray:
    """One image file as Keras's image datasets yield it: float32 (uint8 with ``nearest``), resized."""
    image = require_pil("image_dataset_from_directory")
    with open(path, "rb") as f, image.open(f) as img:  # an animated GIF opens on its first frame
        x = np.asarray(convert_color(img, color_mode))
    if x.ndim == 2:
        x = x[..., None]
    if crop_to_aspect_ratio:
        top, left, h, w = resize_utils.crop_box(x.shape[0], x.shape[1], image_size)
        x = resize_utils.resize(x[top : top + h, left : left + w], image_size, interpolation)
    elif pad_to_aspect_ratio:
        x = resize_utils.resize_with_pad(x, image_size, interpolation)
    else:
        x = resize_utils.resize(x, image_size, interpolation)
    if data_format == "channels_first":
        x = x.transpose(2, 0, 1)  # (H, W, C) -> (C, H, W)
    return np.ascontiguousarray(x)


def paths_and_labels_to_dataset(
    image_paths: Sequence[str],
    image_size: tuple[int, int],
    color_mode: str,
    labels: Any,
    label_mode: str | None,
    num_classes: int,
    interpolation: str,
    data_format: str,
    crop_to_aspect_ratio: bool = False,
    pad_to_aspect_ratio: bool = False,
    batch_size: int | None = 32,
    shuffle: bool = False,
    seed: int | None = None,
) -> dataset_utils.BatchDataset:
    """A :class:`BatchDataset` of ``(images, labels)`` (or ``images`` alone without labels)."""
    paths = list(image_paths)
    encoded = dataset_utils.encode_labels(labels, label_mode, num_classes)
    args = (image_size, color_mode, interpolation, data_format, crop_to_aspect_ratio, pad_to_aspect_ratio)

    def load(i: int) -> tuple:
        x = load_image(paths[i], *args)
        return (x,) if encoded is None else (x, encoded[i])

    ds = dataset_utils.BatchDataset(
        len(paths),
        load,
        batch_size=batch_size,
        shuffle=shuffle,
        seed=seed,
        threads=min(8, os.cpu_count() or 1),
        single=encoded is None,
    )
    ds.file_paths = paths
    return ds


def _check_image_args(
    color_mode: str, image_size: Any, interpolation: str, crop_to_aspect_ratio: bool, pad_to_aspect_ratio: bool
) -> tuple[tuple[int, int], str]:
    """Validates the image arguments as Keras does; returns the checked size and interpolation."""
    if color_mode not in _CHANNELS:
        raise ValueError(
            f'`color_mode` must be one of {{"rgb", "rgba", "grayscale"}}. Received: color_mode={color_mode}'
        )
    image_size = _check_image_size(image_size)
    interpolation = str(interpolation).lower()
    if interpolation not in resize_utils.INTERPOLATIONS:
        raise ValueError(
            f"Argument `interpolation` should be one of {resize_utils.INTERPOLATIONS}. "
            f"Received: interpolation={interpolation}"
        )
    if crop_to_aspect_ratio and pad_to_aspect_ratio:
        raise ValueError("Only one of `pad_to_aspect_ratio`, `crop_to_aspect_ratio` can be set to `True`.")
    return image_size, interpolation


def image_dataset_from_directory(
    directory: str | os.PathLike,
    labels: str | Sequence[int] | None = "inferred",
    label_mode: str | None = "int",
    class_names: Sequence[str] | None = None,
    color_mode: str = "rgb",
    batch_size: int | None = 32,
    image_size: tuple[int, int] = (256, 256),
    shuffle: bool = True,
    seed: int | None = None,
    validation_split: float | None = None,
    subset: str | None = None,
    interpolation: str = "bilinear",
    follow_links: bool = False,
    crop_to_aspect_ratio: bool = False,
    pad_to_aspect_ratio: bool = False,
    data_format: str | None = None,
    format: str = "tf",
    verbose: bool = True,
) -> dataset_utils.BatchDataset | list[dataset_utils.BatchDataset]:
    """Generates a dataset of image batches from a folder of class subfolders.

    With ``main/class_a/*.jpg`` and ``main/class_b/*.jpg``, the dataset yields batches of
    images from the subfolders with labels 0 (``class_a``) and 1 (``class_b``). Formats:
    ``.jpeg``, ``.jpg``, ``.png``, ``.bmp``, ``.gif`` (the first frame). Needs Pillow.

    Keras returns a ``tf.data.Dataset``; Lamina returns a :class:`BatchDataset` (no
    TensorFlow) that ``fit``/``evaluate``/``predict`` take, with ``class_names``,
    ``file_paths`` and ``len()`` (batches). ``format`` is accepted and ignored.

    Args:
        directory: the folder (with one subfolder per class when ``labels="inferred"``).
        labels: ``"inferred"`` (from subfolder names), None (no labels), or a list of integer
            labels in the alphanumeric order of the file paths.
        label_mode: ``"int"`` (int32), ``"categorical"`` (float32 one-hot), ``"binary"``
            (float32 ``(batch, 1)``, two classes), or None (images only).
        class_names: with ``labels="inferred"``, the subfolders to use, in this order.
        color_mode: ``"rgb"`` (3 channels), ``"rgba"`` (4) or ``"grayscale"`` (1).
        batch_size: images per batch; None yields single images.
        image_size: ``(height, width)`` every image is resized to.
        shuffle: shuffle the files (and reshuffle each epoch); else alphanumeric order.
        seed: the shuffling seed (needed with ``validation_split`` and ``shuffle``).
        validation_split: the fraction of files reserved for validation.
        subset: ``"training"``, ``"validation"`` or ``"both"`` (returns ``[train, val]``).
        interpolation: ``"bilinear"``, ``"nearest"``, ``"bicubic"``, ``"area"``, ``"lanczos3"``,
            ``"lanczos5"``, ``"gaussian"`` or ``"mitchellcubic"``.
        follow_links: visit subfolders that are symbolic links.
        crop_to_aspect_ratio: crop the largest centred window with ``image_size``'s aspect ratio.
        pad_to_aspect_ratio: resize to fit and pad with zeros to ``image_size``'s aspect ratio.
        data_format: ``"channels_last"`` or ``"channels_first"``; None: the global setting.
        format: ``"tf"`` or ``"grain"`` in Keras; both give a :class:`BatchDataset` here.
        verbose: print how many files and classes were found.

    Returns:
        A :class:`BatchDataset` of ``(images, labels)`` (float32 images, uint8 with
        ``"nearest"``, as Keras), or of images alone when there are no labels; with
        ``subset="both"``, a list ``[training, validation]``.

    Example:
        >>> import os, tempfile, numpy as np
        >>> from lamina.utils import save_img
        >>> root = tempfile.mkdtemp()
        >>> for name in ("cat", "dog"):
        ...     os.makedirs(os.path.join(root, name))
        ...     save_img(os.path.join(root, name, "a.png"), np.random.random((8, 8, 3)))
        >>> ds = image_dataset_from_directory(root, image_size=(4, 4), batch_size=2, verbose=False)
        >>> ds.class_names, len(ds)
        (['cat', 'dog'], 1)
        >>> images, labels = next(iter(ds))
        >>> tuple(images.shape), labels.dtype
        ((2, 4, 4, 3), torch.int32)
    """
    dataset_utils.check_labels_args(labels, label_mode, class_names, "image")
    if labels is None or label_mode is None:
        labels, label_mode = None, None
    image_size, interpolation = _check_image_args(
        color_mode, image_size, interpolation, crop_to_aspect_ratio, pad_to_aspect_ratio
    )
    dataset_utils.check_format(format)
    dataset_utils.check_batch_size(batch_size)
    dataset_utils.check_validation_split_arg(validation_split, subset, shuffle, seed)
    require_pil("image_dataset_from_directory")
    if seed is None:
        seed = np.random.randint(1e6)
    paths, labels, class_names = dataset_utils.index_directory(
        directory,
        labels,
        formats=ALLOWLIST_FORMATS,
        class_names=class_names,
        shuffle=shuffle,
        seed=seed,
        follow_links=follow_links,
        verbose=verbose,
    )
    dataset_utils.check_binary(label_mode, class_names)
    data_format = standardize_data_format(data_format)

    def build(subset_paths: list[str], subset_labels: Any, subset_shuffle: bool) -> dataset_utils.BatchDataset:
        ds = paths_and_labels_to_dataset(
            subset_paths,
            image_size,
            color_mode,
            subset_labels,
            label_mode,
            len(class_names) if class_names else 0,
            interpolation,
            data_format,
            crop_to_aspect_ratio,
            pad_to_aspect_ratio,
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
        lambda which: (
            f"No {which}images found in directory {os.fspath(directory)}. Allowed formats: {ALLOWLIST_FORMATS}"
        ),
    )
