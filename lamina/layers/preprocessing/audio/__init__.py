"""Audio preprocessing layers: ``MelSpectrogram`` and ``STFTSpectrogram``."""

from lamina.layers.preprocessing.audio.mel_spectrogram import MelSpectrogram
from lamina.layers.preprocessing.audio.stft_spectrogram import STFTSpectrogram

__all__ = ["MelSpectrogram", "STFTSpectrogram"]
