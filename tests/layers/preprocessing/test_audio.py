"""MelSpectrogram and STFTSpectrogram against Keras (torch backend)."""

import keras
import numpy as np
import pytest
import torch

from lamina import layers
from tests.layers.harness import run_layer_test

RNG = np.random.default_rng(0)
AUDIO = RNG.normal(size=(3, 2000)).astype("float32")


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"fft_length": 256, "sequence_stride": 100, "num_mel_bins": 40, "sampling_rate": 8000},
        {"fft_length": 512, "sequence_length": 300, "window": "hamming", "power_to_db": False, "mag_exp": 1.0},
        {
            "fft_length": 128,
            "sequence_stride": 64,
            "num_mel_bins": 16,
            "window": None,
            "top_db": 20.0,
            "ref_power": 2.0,
        },
        {"fft_length": 256, "min_freq": 100.0, "max_freq": 3000.0, "num_mel_bins": 32},
    ],
)
def test_mel_spectrogram_equals_keras(kwargs):
    got = layers.MelSpectrogram(**kwargs)(AUDIO)
    expected = keras.layers.MelSpectrogram(**kwargs)(AUDIO)
    assert tuple(got.shape) == tuple(expected.shape)
    np.testing.assert_allclose(got.numpy(), expected.cpu().numpy(), rtol=1e-4, atol=2e-3)
    single = layers.MelSpectrogram(**kwargs)(AUDIO[0])
    assert tuple(single.shape) == tuple(got.shape[1:])


def test_mel_spectrogram_shape_and_config():
    layer = layers.MelSpectrogram(fft_length=256, sequence_stride=128, num_mel_bins=20)
    assert layer.compute_output_shape((None, 1023)) == (None, 20, 8)
    assert tuple(layer(np.zeros((2, 1023), "float32")).shape) == (2, 20, 8)
    config = layer.get_config()
    assert (
        config
        == keras.layers.MelSpectrogram(
            fft_length=256, sequence_stride=128, num_mel_bins=20, name=layer.name
        ).get_config()
    )
    assert layers.MelSpectrogram.from_config(config).get_config() == config


@pytest.mark.parametrize("mode", ["log", "magnitude", "psd", "real", "imag", "angle", "stft"])
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_stft_spectrogram_modes_equal_keras(mode, data_format):
    kwargs = {"mode": mode, "frame_length": 64, "frame_step": 16, "data_format": data_format}
    signal = RNG.normal(size=(2, 256, 3)).astype("float32")
    if data_format == "channels_first":
        signal = np.ascontiguousarray(signal.transpose(0, 2, 1))
    ours, theirs = layers.STFTSpectrogram(**kwargs), keras.layers.STFTSpectrogram(**kwargs)
    got, expected = ours(signal), theirs(signal)
    assert [w.shape for w in ours.weights] == [tuple(w.shape) for w in theirs.weights]
    for a, b in zip(ours.get_weights(), theirs.get_weights(), strict=True):  # the initial kernels are Keras's
        np.testing.assert_allclose(a, b, atol=1e-6)
    assert tuple(got.shape) == tuple(expected.shape) == tuple(ours.compute_output_shape(signal.shape))
    np.testing.assert_allclose(got.detach().numpy(), expected.detach().cpu().numpy(), atol=2e-4, rtol=1e-4)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"frame_length": 100, "padding": "same", "expand_dims": True},
        {"frame_length": 48, "fft_length": 128, "window": "blackman", "periodic": True, "scaling": "spectrum"},
        {"frame_length": 32, "window": None, "scaling": None},
        {"frame_length": 32, "window": "tukey"},
    ],
)
def test_stft_spectrogram_options_equal_keras(kwargs):
    signal = RNG.normal(size=(2, 300, 1)).astype("float32")
    ours, theirs = layers.STFTSpectrogram(**kwargs), keras.layers.STFTSpectrogram(**kwargs)
    got = ours(signal)
    np.testing.assert_allclose(got.detach().numpy(), theirs(signal).detach().cpu().numpy(), atol=2e-4, rtol=1e-4)
    run_layer_test(layers.STFTSpectrogram, kwargs, (2, 300, 1), atol=1e-4)


def test_stft_spectrogram_kernels_train():
    layer = layers.STFTSpectrogram(mode="magnitude", frame_length=32)
    out = layer(torch.randn(2, 128, 1))
    out.sum().backward()
    assert layer.real_kernel.grad is not None and [w.name for w in layer.weights] == ["real_kernel", "imag_kernel"]


def test_audio_bad_arguments_name_the_layer():
    with pytest.raises(ValueError, match=r"MelSpectrogram\) expects `fft_length` greater than or equal"):
        layers.MelSpectrogram(fft_length=256, sequence_length=512)
    with pytest.raises(ValueError, match=r"STFTSpectrogram\) expects `mode` to be one of"):
        layers.STFTSpectrogram(mode="loud")
    with pytest.raises(ValueError, match="`frame_step` to be a positive integer"):
        layers.STFTSpectrogram(frame_length=16, frame_step=32)
    with pytest.raises(ValueError, match="`padding` to be 'valid' or 'same'"):
        layers.STFTSpectrogram(padding="causal")
    with pytest.raises(ValueError, match="expects inputs of rank 3"):
        layers.STFTSpectrogram()(np.zeros((2, 300), "float32"))
    with pytest.warns(UserWarning, match="power of two"):
        layers.STFTSpectrogram(frame_length=100, fft_length=120)
