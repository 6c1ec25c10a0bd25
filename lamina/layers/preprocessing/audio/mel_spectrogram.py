"""``MelSpectrogram``: audio waveforms to (log-)mel spectrograms."""

from __future__ import annotations

from typing import Any

import torch

from lamina.layers.layer import Layer
from lamina.ops import math as ops_math

__all__ = ["MelSpectrogram", "linear_to_mel_weight_matrix"]

_MEL_BREAK_FREQUENCY_HERTZ = 700.0
_MEL_HIGH_FREQUENCY_Q = 1127.0


def _hertz_to_mel(hertz: torch.Tensor) -> torch.Tensor:
    return _MEL_HIGH_FREQUENCY_Q * torch.log(1.0 + (hertz / _MEL_BREAK_FREQUENCY_HERTZ))


def linear_to_mel_weight_matrix(
    num_mel_bins: int = 20,
    num_spectrogram_bins: int = 129,
    sampling_rate: float = 8000,
    lower_edge_hertz: float = 125.0,
    upper_edge_hertz: float = 3800.0,
    dtype: torch.dtype = torch.float32,
    device: torch.device | None = None,
) -> torch.Tensor:
    """The ``(num_spectrogram_bins, num_mel_bins)`` matrix of triangular mel filters (TensorFlow's definition)."""

    def scalar(v: float) -> torch.Tensor:
        return torch.tensor(v, dtype=dtype, device=device)

    nyquist = scalar(sampling_rate) / 2.0
    linear = torch.linspace(scalar(0.0), nyquist, num_spectrogram_bins, dtype=dtype, device=device)[1:]
    bins_mel = _hertz_to_mel(linear)[:, None]
    edges = torch.linspace(
        _hertz_to_mel(scalar(lower_edge_hertz)),
        _hertz_to_mel(scalar(upper_edge_hertz)),
        num_mel_bins + 2,
        dtype=dtype,
        device=device,
    ).unfold(0, 3, 1)
    lower, center, upper = (edges[:, i][None, :] for i in range(3))
    lower_slopes = (bins_mel - lower) / (center - lower)
    upper_slopes = (upper - bins_mel) / (upper - center)
    weights = torch.clamp(torch.minimum(lower_slopes, upper_slopes), min=0.0)
    return torch.nn.functional.pad(weights, (0, 0, 1, 0))  # the DC bin gets no weight


class MelSpectrogram(Layer):
    """Turns waveforms ``(batch, samples)`` into mel spectrograms ``(batch, num_mel_bins, frames)``.

    The STFT is centered (``frames = 1 + samples // sequence_stride``); magnitudes are raised to
    ``mag_exp``, mapped to ``num_mel_bins`` triangular mel filters and, with ``power_to_db``, converted
    to decibels relative to ``ref_power``, floored at ``top_db`` below the batch maximum.

    Args:
        fft_length: the FFT size.
        sequence_stride: the hop between frames, in samples.
        sequence_length: the window length (default ``fft_length``).
        window: ``"hann"``, ``"hamming"`` or ``None``.
        sampling_rate: the audio's sample rate, in Hz.
        num_mel_bins: the number of mel filters.
        min_freq, max_freq: the filter bank's range, in Hz (``max_freq`` defaults to Nyquist).
        power_to_db: whether to return decibels.
        top_db: the dynamic range kept, in dB.
        mag_exp: the exponent of the magnitudes (2 for power).
        min_power, ref_power: the power floor and the reference power of the dB scale.

    Example:
        >>> import torch, lamina
        >>> layer = lamina.layers.MelSpectrogram(fft_length=256, sequence_stride=128, num_mel_bins=40)
        >>> layer(torch.randn(2, 1024)).shape
        torch.Size([2, 40, 9])
    """

    def __init__(
        self,
        fft_length: int = 2048,
        sequence_stride: int = 512,
        sequence_length: int | None = None,
        window: str | None = "hann",
        sampling_rate: int = 16000,
        num_mel_bins: int = 128,
        min_freq: float = 20.0,
        max_freq: float | None = None,
        power_to_db: bool = True,
        top_db: float = 80.0,
        mag_exp: float = 2.0,
        min_power: float = 1e-10,
        ref_power: float = 1.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.fft_length = fft_length
        self.sequence_stride = sequence_stride
        self.sequence_length = sequence_length or fft_length
        if self.fft_length < self.sequence_length:
            raise self._error(
                "`fft_length` greater than or equal to `sequence_length`",
                f"sequence_length={self.sequence_length}, fft_length={self.fft_length}",
            )
        if window not in ("hann", "hamming", None):
            raise self._error("`window` to be 'hann', 'hamming' or None", f"window={window!r}")
        self.window = window
        self.sampling_rate = sampling_rate
        self.num_mel_bins = num_mel_bins
        self.min_freq = min_freq
        self.max_freq = max_freq or int(sampling_rate / 2)
        self.power_to_db = power_to_db
        self.top_db = top_db
        self.mag_exp = mag_exp
        self.min_power = min_power
        self.ref_power = ref_power
        self.built = True

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        dtype = self._compute_td if self._compute_td in (torch.float32, torch.float64) else torch.float32
        x = inputs.to(dtype)
        real, imag = ops_math.stft(x, self.sequence_length, self.sequence_stride, self.fft_length, self.window, True)
        spec = torch.pow(torch.sqrt(real * real + imag * imag), self.mag_exp)
        matrix = linear_to_mel_weight_matrix(
            self.num_mel_bins, spec.shape[-1], self.sampling_rate, self.min_freq, self.max_freq, device=x.device
        )
        out = torch.tensordot(spec, matrix.to(spec.dtype), dims=1)
        if self.power_to_db:
            out = self._db(out)
        return out.transpose(-1, -2).to(self._compute_td)

    def _db(self, power: torch.Tensor) -> torch.Tensor:
        log_spec = 10.0 * torch.log10(torch.clamp(power, min=self.min_power))
        ref = torch.tensor(abs(self.ref_power), dtype=torch.float32)
        log_spec = log_spec - 10.0 * torch.log10(torch.clamp(ref, min=self.min_power)).to(log_spec.device)
        return torch.maximum(log_spec, log_spec.max() - self.top_db)  # the floor is relative to the batch max

    def compute_output_shape(self, input_shape: Any) -> Any:
        samples = input_shape[-1]
        frames = None if samples is None else 1 + samples // self.sequence_stride
        if len(input_shape) == 1:
            return (self.num_mel_bins, frames)
        return (input_shape[0], self.num_mel_bins, frames)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(
            {
                "fft_length": self.fft_length,
                "sequence_stride": self.sequence_stride,
                "sequence_length": self.sequence_length,
                "window": self.window,
                "sampling_rate": self.sampling_rate,
                "num_mel_bins": self.num_mel_bins,
                "min_freq": self.min_freq,
                "max_freq": self.max_freq,
                "power_to_db": self.power_to_db,
                "top_db": self.top_db,
                "mag_exp": self.mag_exp,
                "min_power": self.min_power,
                "ref_power": self.ref_power,
            }
        )
        return config

    def extra_repr(self) -> str:
        return f"name={self.name!r}, fft_length={self.fft_length}, num_mel_bins={self.num_mel_bins}"
