"""audio_dataset_from_directory: Keras's files, labels and decoded samples, without TensorFlow."""

import os
import wave

import numpy as np
import pytest
import torch
from keras.src.utils import dataset_utils as keras_dataset_utils

from lamina.utils import audio_dataset_from_directory
from lamina.utils.audio_dataset_utils import read_wav, resample
from tests.fixtures.make_dataset_utils import AUDIO_CASES
from tests.utils.dataset_refs import HERE, REFS, our_batches, ref_batches

AUDIO = os.path.join(HERE, "audio")


@pytest.mark.parametrize("name", ["wav_padded", "wav_fixed_length"])
def test_batches_equal_keras(name):
    ds = audio_dataset_from_directory(AUDIO, verbose=False, **AUDIO_CASES[name])
    assert ds.class_names == REFS[name]["class_names"]
    ours, theirs = our_batches(ds), ref_batches(name)
    assert len(ds) == len(ours) == len(theirs)
    for our_parts, ref_parts in zip(ours, theirs, strict=True):
        for a, b in zip(our_parts, ref_parts, strict=True):
            assert a.dtype == b.dtype and a.shape == b.shape
            np.testing.assert_array_equal(a, b)


def test_training_subset_equals_keras():
    ds = audio_dataset_from_directory(AUDIO, verbose=False, **AUDIO_CASES["wav_split_training"])
    theirs = ref_batches("wav_split_training")
    ref_lengths = sorted(int((b[0][i] != 0).any(-1).sum()) for b in theirs for i in range(len(b[0])))
    our_lengths = sorted(int((b[0][i] != 0).any(-1).sum()) for b in our_batches(ds) for i in range(len(b[0])))
    assert our_lengths == ref_lengths
    paths, labels, _ = keras_dataset_utils.index_directory(AUDIO, "inferred", (".wav",), seed=11, verbose=False)
    expected = keras_dataset_utils.get_training_or_validation_split(paths, labels, 0.5, "training")[0]
    assert ds.file_paths == expected


def _wav(path, data, width=2, rate=8000):
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as f:
        f.setnchannels(data.shape[1])
        f.setsampwidth(width)
        f.setframerate(rate)
        f.writeframes(data.tobytes())


@pytest.mark.parametrize(
    "width, raw, expected",
    [
        (1, np.array([[0], [128], [255]], "uint8"), [-1.0, 0.0, 127 / 128]),
        (2, np.array([[-32768], [0], [16384]], "<i2"), [-1.0, 0.0, 0.5]),
        (4, np.array([[-(2**31)], [2**30]], "<i4"), [-1.0, 0.5]),
    ],
)
def test_pcm_widths(tmp_path, width, raw, expected):
    _wav(tmp_path / "x.wav", raw, width=width)
    audio, rate = read_wav(str(tmp_path / "x.wav"))
    assert rate == 8000 and audio.dtype == np.float32
    np.testing.assert_allclose(audio[:, 0], expected)


def test_24_bit(tmp_path):
    values = np.array([-(2**23), 2**22, 1], dtype=np.int64)
    raw = np.stack([(values >> (8 * k)) & 0xFF for k in range(3)], -1).astype("uint8").reshape(-1, 3)
    path = tmp_path / "x.wav"
    with wave.open(str(path), "wb") as f:
        f.setnchannels(1)
        f.setsampwidth(3)
        f.setframerate(8000)
        f.writeframes(raw.tobytes())
    np.testing.assert_allclose(read_wav(str(path))[0][:, 0], [-1.0, 0.5, 2**-23])


def test_stereo_ragged_and_unlabelled(tmp_path):
    rng = np.random.RandomState(0)
    _wav(tmp_path / "a" / "x.wav", rng.randint(-999, 999, (30, 2)).astype("<i2"))
    _wav(tmp_path / "a" / "y.wav", rng.randint(-999, 999, (20, 2)).astype("<i2"))
    padded = next(iter(audio_dataset_from_directory(tmp_path, labels=None, shuffle=False, verbose=False)))
    assert tuple(padded.shape) == (2, 30, 2) and float(padded[1, 20:].abs().sum()) == 0.0
    audio, labels = next(iter(audio_dataset_from_directory(tmp_path, ragged=True, shuffle=False, verbose=False)))
    assert audio.is_nested and [tuple(t.shape) for t in audio.unbind()] == [(30, 2), (20, 2)]
    assert labels.tolist() == [0, 0]


def test_resample_keeps_frequency(tmp_path):
    t = np.arange(8000) / 8000
    tone = np.sin(2 * np.pi * 500 * t)[:, None].astype("float32")
    out = resample(tone, 8000, 22050)
    assert out.shape == (22050, 1)
    spectrum = np.abs(np.fft.rfft(out[:, 0]))
    assert abs(np.argmax(spectrum) * 22050 / len(out) - 500) < 2
    _wav(tmp_path / "a" / "x.wav", (tone * 20000).astype("<i2"))
    ds = audio_dataset_from_directory(tmp_path, sampling_rate=16000, output_sequence_length=1000, verbose=False)
    audio, _ = next(iter(ds))
    assert tuple(audio.shape) == (1, 1000, 1) and audio.dtype == torch.float32


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"ragged": True, "output_sequence_length": 10}, "Cannot set both `ragged` and `output_sequence_length`"),
        ({"sampling_rate": 8000.0}, r"Received: sampling_rate=8000\.0"),
        ({"sampling_rate": -1}, r"Received: sampling_rate=-1"),
        ({"output_sequence_length": 0}, r"Received: output_sequence_length=0"),
        ({"label_mode": "onehot"}, r"Received: label_mode=onehot"),
    ],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        audio_dataset_from_directory(AUDIO, verbose=False, **kwargs)


def test_undecodable_and_missing(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "x.wav").write_bytes(b"RIFF0000WAVEjunk")
    ds = audio_dataset_from_directory(tmp_path, verbose=False)
    with pytest.raises(ValueError, match=r"Cannot decode .*x\.wav.*soundfile"):
        next(iter(ds))
    (tmp_path / "b").mkdir()
    with pytest.raises(ValueError, match=r"No audio files found in directory .*Allowed format\(s\): \('\.wav',\)"):
        audio_dataset_from_directory(tmp_path / "b", verbose=False)
