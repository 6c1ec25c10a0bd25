"""Math ops of ``keras.ops``: segment reductions, top-k, log-sum-exp, special functions, FFT/STFT.

Example:
    >>> from lamina import ops
    >>> ops.segment_sum([1.0, 2.0, 3.0], [0, 0, 1]).tolist()
    [3.0, 3.0]
    >>> round(ops.logsumexp([0.0, 0.0]).item(), 4)
    0.6931
"""

from __future__ import annotations

from typing import Any

import torch

from lamina import backend
from lamina.ops.core import ArrayLike, _t, _torch_dtype, _ts

__all__ = [
    "cdist",
    "erf",
    "erfc",
    "erfinv",
    "extract_sequences",
    "fft",
    "fft2",
    "ifft2",
    "in_top_k",
    "irfft",
    "istft",
    "logdet",
    "logsumexp",
    "rfft",
    "rsqrt",
    "segment_max",
    "segment_min",
    "segment_prod",
    "segment_sum",
    "stft",
    "top_k",
    "view_as_complex",
    "view_as_real",
]


# --------------------------------------------------------------------------- segments


def _segment(data: ArrayLike, segment_ids: ArrayLike, num_segments: int | None, how: str) -> torch.Tensor:
    data = _t(data)
    ids = _t(segment_ids, device=data.device)
    if ids.ndim > 1:
        raise ValueError(
            f"Argument `segment_ids` should be an 1-D vector, got shape: {len(ids.shape)}. Consider either "
            "flattening the input or vectorizing with vmap."
        )
    if ids.shape[0] != data.shape[0]:
        raise ValueError(
            "Argument `segment_ids` and `data` should have same leading dimension. "
            f"Got {tuple(ids.shape)} v.s. {tuple(data.shape)}."
        )
    ids = ids.long()
    n = int(num_segments) if num_segments is not None else (int(ids.max()) + 1 if ids.numel() else 0)
    # Out-of-range ids (negative or >= n) go to a spare row that is dropped at the end.
    ids = torch.where((ids >= 0) & (ids < n), ids, torch.full_like(ids, n))
    rest = tuple(data.shape[1:])
    if how == "sum":
        init = 0
    elif how == "prod":
        init = 1
    elif data.dtype.is_floating_point:
        init = float("-inf") if how == "amax" else float("inf")
    elif data.dtype == torch.bool:
        init = how != "amax"
    else:
        info = torch.iinfo(data.dtype)
        init = info.min if how == "amax" else info.max
    out = torch.full((n + 1,) + rest, init, dtype=data.dtype, device=data.device)
    index = ids.reshape((-1,) + (1,) * len(rest)).expand(data.shape)
    if data.dtype == torch.bool:
        out = out.to(torch.uint8).scatter_reduce(0, index, data.to(torch.uint8), how, include_self=True).bool()
    else:
        out = out.scatter_reduce(0, index, data, how, include_self=True)
    return out[:n]


def segment_sum(
    data: ArrayLike, segment_ids: ArrayLike, num_segments: int | None = None, sorted: bool = False
) -> torch.Tensor:  # noqa: A002
    """Sum of the rows of ``data`` sharing each segment id (ids outside ``[0, num_segments)`` are dropped).

    Example:
        >>> from lamina import ops
        >>> ops.segment_sum([[1, 2], [3, 4], [5, 6]], [1, 1, 0], num_segments=3).tolist()
        [[5, 6], [4, 6], [0, 0]]
    """
    return _segment(data, segment_ids, num_segments, "sum")


def segment_max(
    data: ArrayLike, segment_ids: ArrayLike, num_segments: int | None = None, sorted: bool = False
) -> torch.Tensor:  # noqa: A002
    """Maximum of the rows of ``data`` in each segment (the dtype's lowest value for empty ones)."""
    return _segment(data, segment_ids, num_segments, "amax")


def segment_min(
    data: ArrayLike, segment_ids: ArrayLike, num_segments: int | None = None, sorted: bool = False
) -> torch.Tensor:  # noqa: A002
    """Minimum of the rows of ``data`` in each segment (the dtype's highest value for empty ones)."""
    return _segment(data, segment_ids, num_segments, "amin")


def segment_prod(
    data: ArrayLike, segment_ids: ArrayLike, num_segments: int | None = None, sorted: bool = False
) -> torch.Tensor:  # noqa: A002
    """Product of the rows of ``data`` in each segment (1 for empty ones)."""
    return _segment(data, segment_ids, num_segments, "prod")


# --------------------------------------------------------------------------- top-k and friends


def top_k(x: ArrayLike, k: int, sorted: bool = True) -> Any:  # noqa: A002
    """The ``k`` largest values along the last axis and their (``int32``) indices.

    Returns a ``(values, indices)`` pair that also has ``.values`` and ``.indices``.

    Example:
        >>> from lamina import ops
        >>> values, indices = ops.top_k([1.0, 4.0, 3.0], 2)
        >>> values.tolist(), indices.tolist()
        ([4.0, 3.0], [1, 2])
    """
    x = _t(x)
    values, indices = torch.topk(x, int(k), dim=-1, largest=True, sorted=True)
    return torch.return_types.topk((values, indices.to(torch.int32)))


def in_top_k(targets: ArrayLike, predictions: ArrayLike, k: int) -> torch.Tensor:
    """Whether each row's ``targets`` class is among the ``k`` largest ``predictions`` (ties count as in).

    Example:
        >>> from lamina import ops
        >>> ops.in_top_k([1, 0], [[0.1, 0.9, 0.0], [0.1, 0.9, 0.5]], 2).tolist()
        [True, False]
    """
    predictions = _t(predictions)
    targets = _t(targets, device=predictions.device).long()
    kth = torch.topk(predictions, int(k), dim=-1).values[..., -1:]
    target_values = torch.take_along_dim(predictions, targets[:, None], dim=-1)
    return (target_values >= kth).squeeze(-1)


def logsumexp(x: ArrayLike, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> torch.Tensor:
    """``log(sum(exp(x)))`` over ``axis``, computed stably."""
    x = _t(x)
    if not (x.dtype.is_floating_point or x.dtype.is_complex):
        x = x.to(_torch_dtype(backend.floatx()))
    dims = tuple(range(x.ndim)) if axis is None else (tuple(axis) if isinstance(axis, (list, tuple)) else (axis,))
    return torch.logsumexp(x, dim=dims, keepdim=keepdims)


def _float(x: ArrayLike) -> torch.Tensor:
    x = _t(x)
    if not (x.dtype.is_floating_point or x.dtype.is_complex):
        x = x.to(_torch_dtype(backend.floatx()))
    return x


def erf(x: ArrayLike) -> torch.Tensor:
    """The error function."""
    return torch.erf(_float(x))


def erfc(x: ArrayLike) -> torch.Tensor:
    """The complementary error function ``1 - erf(x)``."""
    return torch.erfc(_float(x))


def erfinv(x: ArrayLike) -> torch.Tensor:
    """The inverse error function."""
    return torch.erfinv(_float(x))


def rsqrt(x: ArrayLike) -> torch.Tensor:
    """``1 / sqrt(x)``."""
    return torch.rsqrt(_float(x))


def logdet(x: ArrayLike) -> torch.Tensor:
    """Log-determinant of (a batch of) square matrices."""
    return torch.logdet(_float(x))


def cdist(x: ArrayLike, y: ArrayLike) -> torch.Tensor:
    """Euclidean distances between the rows of ``x`` and ``y`` (batched over leading axes)."""
    x, y = _ts(x, y)
    if x.ndim < 2 or y.ndim < 2:
        raise ValueError("`cdist` inputs must have rank >= 2")
    if x.shape[-1] != y.shape[-1]:
        raise ValueError("Last dimension of inputs to `cdist` must match")
    d = x.unsqueeze(-2) - y.unsqueeze(-3)
    return torch.sqrt(torch.sum(d * d, dim=-1))


def extract_sequences(x: ArrayLike, sequence_length: int, sequence_stride: int) -> torch.Tensor:
    """Frames of ``sequence_length`` samples every ``sequence_stride`` along the last axis.

    Example:
        >>> from lamina import ops
        >>> ops.extract_sequences(ops.arange(5), 3, 2).tolist()
        [[0, 1, 2], [2, 3, 4]]
    """
    return _t(x).unfold(-1, int(sequence_length), int(sequence_stride))


# --------------------------------------------------------------------------- FFT


def _complex_from(x: Any) -> torch.Tensor:
    if not isinstance(x, (tuple, list)) or len(x) != 2:
        raise ValueError(f"Input `x` should be a tuple of two tensors - real and imaginary. Received: x={x}")
    re, im = _ts(*x)
    if re.shape != im.shape:
        raise ValueError(
            "Input `x` should be a tuple of two tensors - real and imaginary. Both the real and imaginary parts "
            f"should have the same shape. Received: x[0].shape = {tuple(re.shape)}, x[1].shape = {tuple(im.shape)}"
        )
    if not re.dtype.is_floating_point or not im.dtype.is_floating_point:
        raise ValueError(f"At least one tensor in input `x` is not of type float. Received: x={x}.")
    return torch.complex(re, im)


def fft(x: tuple[ArrayLike, ArrayLike]) -> tuple[torch.Tensor, torch.Tensor]:
    """FFT over the last axis of ``(real, imag)``; returns ``(real, imag)``."""
    c = torch.fft.fft(_complex_from(x))
    return c.real, c.imag


def fft2(x: tuple[ArrayLike, ArrayLike]) -> tuple[torch.Tensor, torch.Tensor]:
    """2-D FFT over the last two axes of ``(real, imag)``."""
    c = torch.fft.fft2(_complex_from(x))
    return c.real, c.imag


def ifft2(x: tuple[ArrayLike, ArrayLike]) -> tuple[torch.Tensor, torch.Tensor]:
    """Inverse 2-D FFT over the last two axes of ``(real, imag)``."""
    c = torch.fft.ifft2(_complex_from(x))
    return c.real, c.imag


def rfft(x: ArrayLike, fft_length: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Real-input FFT over the last axis; returns ``(real, imag)`` of the ``fft_length // 2 + 1`` bins."""
    c = torch.fft.rfft(_t(x), n=fft_length, dim=-1)
    return c.real, c.imag


def irfft(x: tuple[ArrayLike, ArrayLike], fft_length: int | None = None) -> torch.Tensor:
    """Inverse of :func:`rfft`."""
    return torch.fft.irfft(_complex_from(x), n=fft_length, dim=-1)


def _stft_window(window: Any, sequence_length: int, dtype: torch.dtype, device: torch.device) -> torch.Tensor | None:
    if window is None:
        return None
    if isinstance(window, str):
        if window not in ("hann", "hamming"):
            raise ValueError(
                f'If a string is passed to `window`, it must be one of "hann", "hamming". Received: window={window}'
            )
        make = torch.hann_window if window == "hann" else torch.hamming_window
        return make(sequence_length, periodic=True, dtype=dtype, device=device)
    win = _t(window, device=device).to(dtype)
    if win.ndim != 1 or win.shape[-1] != sequence_length:
        raise ValueError(
            f"The shape of `window` must be equal to [sequence_length]. Received: window shape={tuple(win.shape)}"
        )
    return win


def stft(
    x: ArrayLike, sequence_length: int, sequence_stride: int, fft_length: int, window: Any = "hann", center: bool = True
) -> tuple[torch.Tensor, torch.Tensor]:
    """Short-time Fourier transform over the last axis; returns ``(real, imag)`` of shape ``(..., frames, bins)``."""
    if not isinstance(sequence_stride, int) or sequence_stride <= 0:
        raise ValueError(f"`sequence_stride` must be a positive integer. Received: sequence_stride={sequence_stride}")
    x = _t(x)
    if x.dtype not in (torch.float32, torch.float64):
        raise TypeError(f"Invalid input type. Expected `float32` or `float64`. Received: input type={x.dtype}")
    if fft_length < sequence_length:
        raise ValueError(
            "`fft_length` must equal or larger than `sequence_length`. "
            f"Received: sequence_length={sequence_length}, fft_length={fft_length}"
        )
    win = _stft_window(window, sequence_length, x.dtype, x.device)
    if win is None:
        win = torch.ones(sequence_length, dtype=x.dtype, device=x.device)
    *batch, samples = x.shape
    flat = x.reshape(-1, samples)
    c = torch.stft(
        flat,
        n_fft=fft_length,
        hop_length=sequence_stride,
        win_length=sequence_length,
        window=win,
        center=center,
        pad_mode="reflect" if center else "constant",
        return_complex=True,
    )
    c = c.reshape(*batch, *c.shape[-2:]).transpose(-2, -1)
    return c.real, c.imag


def _overlap_add(frames: torch.Tensor, stride: int) -> torch.Tensor:
    *batch, n, length = frames.shape
    total = stride * (n - 1) + length
    flat = frames.reshape(-1, n, length).transpose(1, 2)  # (B, length, n) columns for fold
    out = torch.nn.functional.fold(flat, output_size=(1, total), kernel_size=(1, length), stride=(1, stride))
    return out.reshape(*batch, total)


def istft(
    x: tuple[ArrayLike, ArrayLike],
    sequence_length: int,
    sequence_stride: int,
    fft_length: int,
    length: int | None = None,
    window: Any = "hann",
    center: bool = True,
) -> torch.Tensor:
    """Inverse of :func:`stft` by weighted overlap-add (exact wherever the windows overlap)."""
    if not isinstance(sequence_stride, int) or sequence_stride <= 0:
        raise ValueError(f"`sequence_stride` must be a positive integer. Received: sequence_stride={sequence_stride}")
    c = _complex_from(x)
    frames = torch.fft.irfft(c, n=fft_length, dim=-1)  # (..., frames, fft_length)
    win = _stft_window(window, sequence_length, frames.dtype, frames.device)
    n_frames = frames.shape[-2]
    expected = fft_length + sequence_stride * (n_frames - 1)
    if win is None:
        win = torch.ones(sequence_length, dtype=frames.dtype, device=frames.device)
    left = (fft_length - sequence_length) // 2
    win = torch.nn.functional.pad(win, (left, fft_length - sequence_length - left))
    # Weighted overlap-add, normalised by the overlap-added squared window (exact inverse where it is nonzero).
    y = _overlap_add(frames * win, sequence_stride)
    envelope = _overlap_add((win * win).expand(n_frames, fft_length), sequence_stride)
    y = y / torch.where(envelope > 1e-11, envelope, torch.ones_like(envelope))
    start = fft_length // 2 if center else 0
    if length is not None:
        end = start + length
    elif center:
        end = y.shape[-1] - fft_length // 2
    else:
        end = expected
    return y[..., start:end]


def view_as_complex(x: ArrayLike) -> torch.Tensor:
    """A complex tensor from a real one whose last axis (size 2) holds ``(real, imag)``."""
    x = _t(x)
    if x.ndim < 1 or x.shape[-1] != 2:
        raise ValueError(
            f"Last dimension of input must be size 2 (real and imaginary). Received shape: {tuple(x.shape)}"
        )
    return torch.complex(x[..., 0].float(), x[..., 1].float())


def view_as_real(x: ArrayLike) -> torch.Tensor:
    """A real tensor with a trailing axis of size 2 holding ``(real, imag)`` of complex ``x``."""
    x = _t(x)
    if not x.dtype.is_complex:
        return torch.stack([x, torch.zeros_like(x)], dim=-1)
    return torch.stack([x.real, x.imag], dim=-1)
