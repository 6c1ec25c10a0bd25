"""``keras.utils.audio_dataset_from_directory`` without TensorFlow.

WAV files are decoded with the standard library's ``wave`` (8/16/24/32-bit PCM) into float32
in ``[-1, 1)`` as ``tf.audio.decode_wav`` does (16-bit: ``value / 32768``); other encodings
(float WAV, ...) go through ``soundfile`` when it is installed (the ``audio`` extra).
``sampling_rate`` resamples with a windowed-sinc filter (Keras needs ``tensorflow_io`` for
it); ``output_sequence_length`` then cuts or zero-pads to that many output samples.
"""

from __future__ import annotations

import math
import os
import wave
from collections.abc import Sequence
from functools import partial
from typing import Any

import numpy as np
import torch

from lamina.utils import dataset_utils

ALLOWED_FORMATS = (".wav",)


def _pcm_to_float(raw: bytes, width: int, channels: int) -> np.ndarray:
    if width == 1:  # 8-bit WAV is unsigned
        x = (np.frombuffer(raw, np.uint8).astype(np.float32) - 128.0) / 128.0
    elif width == 2:
        x = np.frombuffer(raw, "<i2").astype(np.float32) / 32768.0
    elif width == 3:
        b = np.frombuffer(raw, np.uint8).reshape(-1, 3).astype(np.int32)
        v = b[:, 0] | (b[:, 1] << 8) | (b[:, 2] << 16)
        v = np.where(v >= 1 << 23, v - (1 << 24), v)
        x = v.astype(np.float32) / float(1 << 23)
    elif width == 4:
        x = (np.frombuffer(raw, "<i4").astype(np.float64) / float(1 << 31)).astype(np.float32)
    else:
        raise ValueError(f"Unsupported WAV sample width: {width} bytes.")
    return x.reshape(-1, channels)


def read_wav(path: str) -> tuple[np.ndarray, int]:
    """``(samples, channels)`` float32 audio and its sampling rate."""
    try:
        with wave.open(path, "rb") as f:
            channels, width, rate = f.getnchannels(), f.getsampwidth(), f.getframerate()
            raw = f.readframes(f.getnframes())
        return _pcm_to_float(raw, width, channels), rate
    except (wave.Error, EOFError) as e:
        try:
            import soundfile
        except ImportError:
            raise ValueError(
                f"Cannot decode {path!r} with the standard library's `wave` ({e}). For other WAV encodings "
                'install soundfile: `pip install "lamina[audio]"` (or `pip install soundfile`).'
            ) from e
        data, rate = soundfile.read(path, dtype="float32", always_2d=True)
        return data, int(rate)


def resample(audio: np.ndarray, rate_in: int, rate_out: int, width: int = 6, rolloff: float = 0.99) -> np.ndarray:
    """Resamples ``(samples, channels)`` audio with a Hann-windowed sinc low-pass filter (polyphase).

    Example:
        >>> import numpy as np
        >>> resample(np.ones((8000, 1), "float32"), 8000, 16000).shape
        (16000, 1)
    """
    if rate_in == rate_out:
        return audio
    g = math.gcd(rate_in, rate_out)
    up, down = rate_out // g, rate_in // g  # output phases, input step
    cutoff = min(up, down) * rolloff
    half = math.ceil(width * down / cutoff)
    # one filter per output phase: taps at input offsets -half .. half + down
    taps = torch.arange(-half, half + down, dtype=torch.float64)[None, :] / down
    t = (-torch.arange(up, dtype=torch.float64)[:, None] / up + taps) * cutoff
    t = t.clamp(-width, width)
    window = torch.cos(t * math.pi / width / 2) ** 2
    t = t * math.pi
    kernel = torch.where(t == 0, torch.ones_like(t), torch.sin(t) / t) * window * (cutoff / down)
    x = torch.from_numpy(np.ascontiguousarray(audio.T, dtype=np.float32)).double()  # (C, T)
    length = x.shape[-1]
    x = torch.nn.functional.pad(x[:, None], (half, half + down))
    out = torch.nn.functional.conv1d(x, kernel[:, None], stride=down)  # (C, up, frames)
    out = out.transpose(1, 2).reshape(x.shape[0], -1)[:, : math.ceil(up * length / down)]
    return out.T.float().numpy()


def load_audio(path: str, sampling_rate: int | None, output_sequence_length: int | None) -> np.ndarray:
    audio, rate = read_wav(path)
    if sampling_rate is not None:
        audio = resample(audio, rate, sampling_rate)
    if output_sequence_length is not None:
        if len(audio) >= output_sequence_length:
            audio = audio[:output_sequence_length]
        else:
            audio = np.concatenate([audio, np.zeros((output_sequence_length - len(audio), audio.shape[1]), "float32")])
    return np.ascontiguousarray(audio, dtype=np.float32)


def _nested(values: list) -> torch.Tensor:
    return torch.nested.nested_tensor([torch.from_numpy(v) for v in values], layout=torch.jagged)


def paths_and_labels_to_dataset(
    file_paths: Sequence[str],
    labels: Any,
    label_mode: str | None,
    num_classes: int,
    sampling_rate: int | None,
    output_sequence_length: int | None,
    ragged: bool,
    batch_size: int | None = 32,
    shuffle: bool = False,
    seed: int | None = None,
) -> dataset_utils.BatchDataset:
    """A :class:`BatchDataset` of ``(audio, labels)`` (padded to the longest clip of each batch)."""
    paths = list(file_paths)
    encoded = dataset_utils.encode_labels(labels, label_mode, num_classes)
    load_one = partial(load_audio, sampling_rate=sampling_rate, output_sequence_length=output_sequence_length)

    def load(i: int) -> tuple:
        x = load_one(paths[i])
        return (x,) if encoded is None else (x, encoded[i])

    if ragged:
        audio_collate = _nested
    elif output_sequence_length is None:
        audio_collate = dataset_utils.pad_and_stack  # tf.data's padded_batch
    else:
        audio_collate = dataset_utils.stack
    collate = [audio_collate] if encoded is None else [audio_collate, dataset_utils.stack]
    ds = dataset_utils.BatchDataset(
        len(paths),
        load,
        batch_size=batch_size,
        shuffle=shuffle,
        seed=seed,
        collate=collate,
        threads=min(4, os.cpu_count() or 1),
        single=encoded is None,
    )
    ds.file_paths = paths
    return ds


def audio_dataset_from_directory(
    directory: str | os.PathLike,
    labels: str | Sequence[int] | None = "inferred",
    label_mode: str | None = "int",
    class_names: Sequence[str] | None = None,
    batch_size: int | None = 32,
    sampling_rate: int | None = None,
    output_sequence_length: int | None = None,
    ragged: bool = False,
    shuffle: bool = True,
    seed: int | None = None,
    validation_split: float | None = None,
    subset: str | None = None,
    follow_links: bool = False,
    verbose: bool = True,
) -> dataset_utils.BatchDataset | list[dataset_utils.BatchDataset]:
    """Generates a dataset of audio batches from a folder of class subfolders of ``.wav`` files.

    The labels, file order and subsets are Keras's (see ``image_dataset_from_directory``).
    Clips of a batch are zero-padded to the longest one (``tf.data``'s ``padded_batch``)
    unless ``output_sequence_length`` fixes the length; ``ragged=True`` gives torch nested
    tensors instead.

    Args:
        directory: the folder (one subfolder per class when ``labels="inferred"``).
        labels: ``"inferred"``, None, or a list of integer labels in file path order.
        label_mode: ``"int"``, ``"categorical"``, ``"binary"`` or None.
        class_names: with ``labels="inferred"``, the subfolders to use, in this order.
        batch_size: clips per batch; None yields single clips.
        sampling_rate: resample every clip to this rate (Hz).
        output_sequence_length: cut or zero-pad every clip to this many samples.
        ragged: batch clips of different lengths as nested tensors.
        shuffle: shuffle (and reshuffle each epoch); else alphanumeric order.
        seed: the shuffling seed.
        validation_split: the fraction reserved for validation.
        subset: ``"training"``, ``"validation"`` or ``"both"``.
        follow_links: visit subfolders that are symbolic links.
        verbose: print how many files and classes were found.

    Returns:
        A :class:`BatchDataset` of ``(audio, labels)``: float32 ``(batch, samples, channels)``;
        with ``subset="both"``, ``[train, val]``.

    Example:
        >>> import os, tempfile, wave
        >>> root = tempfile.mkdtemp()
        >>> os.makedirs(os.path.join(root, "yes"))
        >>> with wave.open(os.path.join(root, "yes", "a.wav"), "wb") as f:
        ...     f.setnchannels(1); f.setsampwidth(2); f.setframerate(8000)
        ...     f.writeframes(b"\\x00\\x40" * 10)
        >>> ds = audio_dataset_from_directory(root, verbose=False)
        >>> audio, labels = next(iter(ds))
        >>> tuple(audio.shape), float(audio[0, 0, 0])
        ((1, 10, 1), 0.5)
    """
    dataset_utils.check_labels_args(labels, label_mode, class_names, "audio")
    if ragged and output_sequence_length is not None:
        raise ValueError("Cannot set both `ragged` and `output_sequence_length`")
    if sampling_rate is not None:
        if not isinstance(sampling_rate, int) or isinstance(sampling_rate, bool):
            raise ValueError(f"`sampling_rate` should have an integer value. Received: sampling_rate={sampling_rate}")
        if sampling_rate <= 0:
            raise ValueError(f"`sampling_rate` should be higher than 0. Received: sampling_rate={sampling_rate}")
    if output_sequence_length is not None and (
        not isinstance(output_sequence_length, int)
        or isinstance(output_sequence_length, bool)
        or output_sequence_length < 1
    ):
        raise ValueError(
            "`output_sequence_length` must be a positive integer or None. "
            f"Received: output_sequence_length={output_sequence_length!r}"
        )
    if labels is None or label_mode is None:
        labels, label_mode = None, None
    dataset_utils.check_batch_size(batch_size)
    dataset_utils.check_validation_split_arg(validation_split, subset, shuffle, seed)
    if seed is None:
        seed = np.random.randint(1e6)
    paths, labels, class_names = dataset_utils.index_directory(
        directory,
        labels,
        formats=ALLOWED_FORMATS,
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
            sampling_rate,
            output_sequence_length,
            ragged,
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
            f"No {which}audio files found in directory {os.fspath(directory)}. Allowed format(s): {ALLOWED_FORMATS}"
        ),
    )
