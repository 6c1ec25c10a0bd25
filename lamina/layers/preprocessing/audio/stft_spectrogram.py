"""``STFTSpectrogram``: a short-time Fourier transform as a (trainable) strided convolution."""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from lamina import backend
from lamina.layers.input_spec import InputSpec
from lamina.layers.layer import Layer

__all__ = ["STFTSpectrogram", "stft_kernel"]

_MODES = ("log", "magnitude", "psd", "real", "imag", "angle", "stft")
# scipy.signal's windows that torch also has, with scipy's definitions (periodic = scipy's fftbins=True)
_TORCH_WINDOWS = {
    "hann": torch.hann_window,
    "hanning": torch.hann_window,
    "hamming": torch.hamming_window,
    "blackman": torch.blackman_window,
    "bartlett": torch.bartlett_window,
}


def window_values(window: Any, length: int, periodic: bool) -> torch.Tensor:
    """The ``length`` samples of a named window (scipy's names) or of an array, as float64."""
    if not isinstance(window, str):
        return torch.as_tensor(np.asarray(window), dtype=torch.float64)
    if window in ("boxcar", "box", "ones", "rectangular", "rect"):
        return torch.ones(length, dtype=torch.float64)
    if window in _TORCH_WINDOWS:
        return _TORCH_WINDOWS[window](length, periodic=periodic, dtype=torch.float64)
    try:  # any other scipy window, when scipy is installed (an optional dependency)
        import scipy.signal
    except ImportError:
        raise ValueError(
            f"Unknown window {window!r}: without scipy, the windows are {sorted(_TORCH_WINDOWS)} and 'boxcar'. "
            "Install scipy for the others, or pass the window values as an array."
        ) from None
    return torch.as_tensor(scipy.signal.get_window(window, length, periodic), dtype=torch.float64)


def stft_kernel(shape: tuple, side: str, window: Any, scaling: str | None, periodic: bool, dtype: Any) -> torch.Tensor:
    """Keras's ``STFTInitializer``: ``(frame_length, 1, bins)`` cosines (``"real"``) or sines (``"imag"``)."""
    tdtype = backend.torch_dtype(dtype or backend.floatx())
    frame_length, bins = shape[0], shape[-1]
    scale = 1.0
    win = None
    if window is not None:
        win = window_values(window, frame_length, periodic).to(tdtype)
        if win.ndim != 1 or win.shape[-1] != frame_length:
            raise ValueError(
                f"The shape of `window` must be equal to [frame_length]. Received: window shape={win.shape}"
            )
        win = win.reshape(frame_length, 1, 1)
        if scaling == "density":
            scale = torch.sqrt(torch.sum(win * win))
        elif scaling == "spectrum":
            scale = torch.sum(torch.abs(win))
    freq = torch.arange(bins, dtype=tdtype).reshape(1, 1, bins) / ((bins - 1) * 2)
    time = torch.arange(frame_length, dtype=tdtype).reshape(frame_length, 1, 1)
    args = (-2 * time) * freq * torch.arccos(torch.tensor(-1, dtype=tdtype))
    kernel = torch.cos(args) if side == "real" else torch.sin(args)
    return kernel * win / scale if win is not None else kernel


class _STFTInit:
    def __init__(self, side: str, window: Any, scaling: str | None, periodic: bool) -> None:
        self.side, self.window, self.scaling, self.periodic = side, window, scaling, periodic

    def __call__(self, shape: tuple, dtype: Any = None) -> torch.Tensor:
        return stft_kernel(shape, self.side, self.window, self.scaling, self.periodic, dtype)


class STFTSpectrogram(Layer):
    """Spectrograms of multi-channel signals by a strided convolution with Fourier kernels.

    The kernels are ordinary weights (``real_kernel``, ``imag_kernel``), initialised to the windowed
    DFT, so the transform can be fine-tuned.

    Args:
        mode: ``"log"`` (log magnitude), ``"magnitude"``, ``"psd"``, ``"real"``, ``"imag"``, ``"angle"`` or
            ``"stft"`` (real and imaginary parts stacked).
        frame_length: the window length, in samples.
        frame_step: the hop between frames (default ``frame_length // 2``).
        fft_length: the FFT size (default the next power of two of ``frame_length``).
        window: a window name (``"hann"``, ``"hamming"``...), an array, or ``None``.
        periodic: use the periodic form of the window.
        scaling: ``"density"`` (L2), ``"spectrum"`` (L1) or ``None``.
        padding: ``"valid"`` or ``"same"``.
        expand_dims: keep channels and frequencies on separate axes.
        data_format: ``"channels_last"`` (``(batch, time, channels)``) or ``"channels_first"``.

    Example:
        >>> import torch, lamina
        >>> layer = lamina.layers.STFTSpectrogram(mode="log", frame_length=64)
        >>> layer(torch.randn(2, 256, 1)).shape
        torch.Size([2, 7, 33])
    """

    def __init__(
        self,
        mode: str = "log",
        frame_length: int = 256,
        frame_step: int | None = None,
        fft_length: int | None = None,
        window: Any = "hann",
        periodic: bool = False,
        scaling: str | None = "density",
        padding: str = "valid",
        expand_dims: bool = False,
        data_format: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if frame_step is not None and (frame_step > frame_length or frame_step < 1):
            raise self._error(
                "`frame_step` to be a positive integer not greater than `frame_length`",
                f"frame_step={frame_step}, frame_length={frame_length}",
            )
        if fft_length is not None and fft_length < frame_length:
            raise self._error(
                "`fft_length` not less than `frame_length`", f"fft_length={fft_length}, frame_length={frame_length}"
            )
        if fft_length is not None and (fft_length & -fft_length) != fft_length:
            warnings.warn(
                f"`fft_length` is recommended to be a power of two. Received fft_length={fft_length}", stacklevel=2
            )
        if mode not in _MODES:
            raise self._error(f"`mode` to be one of {', '.join(_MODES)}", f"mode={mode!r}")
        if scaling is not None and scaling not in ("density", "spectrum"):
            raise self._error("`scaling` to be None, 'density' or 'spectrum'", f"scaling={scaling!r}")
        if padding not in ("valid", "same"):
            raise self._error("`padding` to be 'valid' or 'same'", f"padding={padding!r}")
        if isinstance(window, str):
            window_values(window, 1, periodic)  # an unknown name fails here, as in Keras
        self.mode = mode
        self.frame_length = frame_length
        self.frame_step = frame_step
        self._frame_step = frame_step or frame_length // 2
        self.fft_length = fft_length
        self._fft_length = fft_length or 2 ** int(math.ceil(math.log2(frame_length)))
        self.window = window
        self.periodic = periodic
        self.scaling = scaling
        self.padding = padding
        self.expand_dims = expand_dims
        fmt = data_format or backend.image_data_format()
        if fmt not in ("channels_last", "channels_first"):
            raise self._error("`data_format` to be 'channels_last' or 'channels_first'", f"data_format={data_format!r}")
        self.data_format = fmt
        self.input_spec = InputSpec(ndim=3)

    def build(self, input_shape: Any) -> None:
        shape = (self.frame_length, 1, self._fft_length // 2 + 1)
        if self.mode != "imag":
            init = _STFTInit("real", self.window, self.scaling, self.periodic)
            self.real_kernel = self.add_weight(name="real_kernel", shape=shape, initializer=init)
        if self.mode != "real":
            init = _STFTInit("imag", self.window, self.scaling, self.periodic)
            self.imag_kernel = self.add_weight(name="imag_kernel", shape=shape, initializer=init)

    def _conv(self, x: torch.Tensor, kernel: torch.Tensor) -> torch.Tensor:
        """(B * C, 1, T) signals -> (B * C, F, T') with Keras's (k, in, out) kernel layout."""
        weight = kernel.to(x.dtype).permute(2, 1, 0)  # (k, 1, F) -> (F, 1, k)
        if self.padding == "same":
            length = x.shape[-1]
            out = -(-length // self._frame_step)
            total = max((out - 1) * self._frame_step + self.frame_length - length, 0)
            x = F.pad(x, (total // 2, total - total // 2))
        return F.conv1d(x, weight, stride=self._frame_step)

    def _adjust(self, outputs: torch.Tensor, batch: int, channels: int) -> torch.Tensor:
        """(B * C, F, T') -> Keras's output layout."""
        freq, frames = outputs.shape[-2:]
        outputs = outputs.reshape(batch, channels, freq, frames)
        if self.data_format == "channels_last":
            if self.expand_dims:
                return outputs.permute(0, 3, 2, 1)
            return outputs.reshape(batch, channels * freq, frames).transpose(1, 2)
        if self.expand_dims:
            return outputs.permute(0, 1, 3, 2)
        return outputs.reshape(batch, channels * freq, frames)

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        if inputs.dtype not in (torch.float16, torch.bfloat16, torch.float32, torch.float64):
            raise self._error("float inputs", f"dtype {backend.standardize_dtype(inputs.dtype)}", cls=TypeError)
        x = inputs.transpose(1, 2) if self.data_format == "channels_last" else inputs
        batch, channels = x.shape[:2]
        x = x.reshape(batch * channels, 1, x.shape[-1])
        real = self._conv(x, self.real_kernel) if self.mode != "imag" else None
        imag = self._conv(x, self.imag_kernel) if self.mode != "real" else None
        if self.mode in ("real", "imag"):
            return self._adjust(real if self.mode == "real" else imag, batch, channels)
        if self.mode == "angle":
            return self._adjust(torch.arctan2(imag, real), batch, channels)
        if self.mode == "stft":
            return self._adjust(torch.cat([real, imag], dim=1), batch, channels)
        power = real * real + imag * imag
        if self.mode == "psd":
            return self._adjust(power + F.pad(power[:, 1:-1, :], (0, 0, 1, 1)), batch, channels)
        eps = backend.epsilon()
        magnitude = self._adjust(torch.sqrt(torch.clamp(power, min=eps)), batch, channels)
        return magnitude if self.mode == "magnitude" else torch.log(torch.clamp(magnitude, min=eps))

    def compute_output_shape(self, input_shape: Any) -> Any:
        batch = input_shape[0]
        length, channels = (input_shape[1], input_shape[2])
        if self.data_format == "channels_first":
            channels, length = input_shape[1], input_shape[2]
        freq = self._fft_length // 2 + 1
        if self.mode == "stft":
            freq *= 2
        frames = None
        if length is not None:
            if self.padding == "same":
                frames = -(-length // self._frame_step)
            else:
                frames = (length - self.frame_length) // self._frame_step + 1
        if self.expand_dims:
            if self.data_format == "channels_last":
                return (batch, frames, freq, channels)
            return (batch, channels, frames, freq)
        features = None if channels is None else freq * channels
        return (batch, frames, features) if self.data_format == "channels_last" else (batch, features, frames)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(
            {
                "mode": self.mode,
                "frame_length": self.frame_length,
                "frame_step": self.frame_step,
                "fft_length": self.fft_length,
                "window": self.window,
                "periodic": self.periodic,
                "scaling": self.scaling,
                "padding": self.padding,
                "data_format": self.data_format,
                "expand_dims": self.expand_dims,
            }
        )
        return config

    def extra_repr(self) -> str:
        return f"name={self.name!r}, mode={self.mode!r}, frame_length={self.frame_length}, fft={self._fft_length}"
