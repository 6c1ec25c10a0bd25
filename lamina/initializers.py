"""Weight initializers with Keras names and defaults (``glorot_uniform`` kernels, ``zeros`` biases).

An initializer is called as ``init(shape, dtype=None)`` and returns a torch tensor.

Example:
    >>> import lamina
    >>> init = lamina.initializers.get("glorot_uniform")
    >>> tuple(init((3, 2)).shape)
    (3, 2)
    >>> lamina.initializers.get("ones")((2,)).tolist()
    [1.0, 1.0]
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

from lamina import backend, serialization
from lamina.backend.naming import to_snake_case


def _tdtype(dtype: Any) -> torch.dtype:
    return backend.torch_dtype(backend.floatx() if dtype is None else dtype)


def _generator(seed: int | None) -> torch.Generator | None:
    if seed is None:
        return None
    g = torch.Generator(device="cpu")
    g.manual_seed(int(seed))
    return g


def compute_fans(shape: tuple[int, ...]) -> tuple[int, int]:
    """Keras's fan-in / fan-out: conv kernels ``(*spatial, in, out)`` count the receptive field."""
    shape = tuple(shape)
    if len(shape) == 0:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    if len(shape) == 2:
        return shape[0], shape[1]
    receptive = math.prod(shape[:-2])
    return shape[-2] * receptive, shape[-1] * receptive


class Initializer:
    """Base class: subclasses implement ``__call__(shape, dtype=None)`` and ``get_config``."""

    def __call__(self, shape: tuple[int, ...], dtype: Any = None) -> torch.Tensor:
        raise NotImplementedError

    def get_config(self) -> dict[str, Any]:
        return {}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Initializer:
        return cls(**config)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.get_config()})"


class Constant(Initializer):
    """Fills with ``value``."""

    def __init__(self, value: float = 0.0) -> None:
        self.value = value

    def __call__(self, shape, dtype=None):
        return torch.full(tuple(shape), float(self.value), dtype=_tdtype(dtype))

    def get_config(self):
        return {"value": self.value}


class Zeros(Initializer):
    """Fills with 0."""

    def __call__(self, shape, dtype=None):
        return torch.zeros(tuple(shape), dtype=_tdtype(dtype))


class Ones(Initializer):
    """Fills with 1."""

    def __call__(self, shape, dtype=None):
        return torch.ones(tuple(shape), dtype=_tdtype(dtype))


class RandomNormal(Initializer):
    """Normal with ``mean`` and ``stddev``."""

    def __init__(self, mean: float = 0.0, stddev: float = 0.05, seed: int | None = None) -> None:
        self.mean, self.stddev, self.seed = mean, stddev, seed

    def __call__(self, shape, dtype=None):
        t = torch.empty(tuple(shape), dtype=torch.float32)
        t.normal_(self.mean, self.stddev, generator=_generator(self.seed))
        return t.to(_tdtype(dtype))

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed}


class RandomUniform(Initializer):
    """Uniform on ``[minval, maxval)``."""

    def __init__(self, minval: float = -0.05, maxval: float = 0.05, seed: int | None = None) -> None:
        self.minval, self.maxval, self.seed = minval, maxval, seed

    def __call__(self, shape, dtype=None):
        t = torch.empty(tuple(shape), dtype=torch.float32)
        t.uniform_(self.minval, self.maxval, generator=_generator(self.seed))
        return t.to(_tdtype(dtype))

    def get_config(self):
        return {"minval": self.minval, "maxval": self.maxval, "seed": self.seed}


def _truncated_normal(shape, mean, stddev, seed):
    # Rejection sampling that redraws only the values beyond two standard deviations (4.6% of them);
    # torch.nn.init.trunc_normal_ redraws the whole tensor each round, ~10x slower on large kernels.
    generator = _generator(seed)
    t = torch.empty(tuple(shape), dtype=torch.float32).normal_(mean, stddev, generator=generator)
    if t.is_meta:  # built under torch.device("meta"): shapes only, nothing to sample (as torch's trunc_normal_)
        return t
    lo, hi = mean - 2 * stddev, mean + 2 * stddev
    flat = t.view(-1)
    redraw = ((flat < lo) | (flat > hi)).nonzero().squeeze(1)
    while redraw.numel():
        values = torch.empty(redraw.numel()).normal_(mean, stddev, generator=generator)
        flat[redraw] = values
        redraw = redraw[(values < lo) | (values > hi)]
    return t


class TruncatedNormal(Initializer):
    """Normal with ``mean``/``stddev``, redrawn beyond two standard deviations."""

    def __init__(self, mean: float = 0.0, stddev: float = 0.05, seed: int | None = None) -> None:
        self.mean, self.stddev, self.seed = mean, stddev, seed

    def __call__(self, shape, dtype=None):
        return _truncated_normal(shape, self.mean, self.stddev, self.seed).to(_tdtype(dtype))

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed}


class VarianceScaling(Initializer):
    """Keras's variance scaling: ``scale / fan`` with ``mode`` and ``distribution``."""

    def __init__(
        self,
        scale: float = 1.0,
        mode: str = "fan_in",
        distribution: str = "truncated_normal",
        seed: int | None = None,
        input_axes: Any = None,
        output_axes: Any = None,
    ) -> None:
        self.input_axes, self.output_axes = input_axes, output_axes
        if scale <= 0.0:
            raise ValueError(f"VarianceScaling expects a positive `scale`. Received: scale={scale}")
        if mode not in ("fan_in", "fan_out", "fan_avg"):
            raise ValueError(f"VarianceScaling expects mode in fan_in, fan_out, fan_avg. Received: mode={mode!r}")
        distribution = distribution.lower()
        if distribution == "normal":
            distribution = "truncated_normal"
        if distribution not in ("truncated_normal", "untruncated_normal", "uniform"):
            raise ValueError(
                "VarianceScaling expects distribution in truncated_normal, untruncated_normal, uniform. "
                f"Received: distribution={distribution!r}"
            )
        self.scale, self.mode, self.distribution, self.seed = scale, mode, distribution, seed

    def __call__(self, shape, dtype=None):
        if self.input_axes is not None and self.output_axes is not None:
            fan_in = math.prod(shape[a] for a in self.input_axes)
            fan_out = math.prod(shape[a] for a in self.output_axes)
        else:
            fan_in, fan_out = compute_fans(shape)
        fan = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2.0}[self.mode]
        scale = self.scale / max(1.0, fan)
        if self.distribution == "truncated_normal":
            stddev = math.sqrt(scale) / 0.87962566103423978  # std of unit normal truncated to (-2, 2)
            t = _truncated_normal(shape, 0.0, stddev, self.seed)
        elif self.distribution == "untruncated_normal":
            t = torch.empty(tuple(shape)).normal_(0.0, math.sqrt(scale), generator=_generator(self.seed))
        else:
            limit = math.sqrt(3.0 * scale)
            t = torch.empty(tuple(shape)).uniform_(-limit, limit, generator=_generator(self.seed))
        return t.to(_tdtype(dtype))

    def get_config(self):
        return {
            "seed": self.seed,
            "scale": self.scale,
            "mode": self.mode,
            "distribution": self.distribution,
            "input_axes": self.input_axes,
            "output_axes": self.output_axes,
        }


def _vs_subclass(name: str, scale: float, mode: str, distribution: str) -> type:
    def __init__(self, seed: int | None = None, input_axes: Any = None, output_axes: Any = None) -> None:
        VarianceScaling.__init__(
            self,
            scale=scale,
            mode=mode,
            distribution=distribution,
            seed=seed,
            input_axes=input_axes,
            output_axes=output_axes,
        )

    def get_config(self):
        return {"seed": self.seed, "input_axes": self.input_axes, "output_axes": self.output_axes}

    doc = f"``VarianceScaling(scale={scale}, mode={mode!r}, distribution={distribution!r})``."
    return type(name, (VarianceScaling,), {"__init__": __init__, "get_config": get_config, "__doc__": doc})


GlorotUniform = _vs_subclass("GlorotUniform", 1.0, "fan_avg", "uniform")
GlorotNormal = _vs_subclass("GlorotNormal", 1.0, "fan_avg", "truncated_normal")
HeUniform = _vs_subclass("HeUniform", 2.0, "fan_in", "uniform")
HeNormal = _vs_subclass("HeNormal", 2.0, "fan_in", "truncated_normal")
LecunUniform = _vs_subclass("LecunUniform", 1.0, "fan_in", "uniform")
LecunNormal = _vs_subclass("LecunNormal", 1.0, "fan_in", "truncated_normal")


class Orthogonal(Initializer):
    """A (scaled) orthogonal matrix, flattened over all but the last axis."""

    def __init__(self, gain: float = 1.0, seed: int | None = None) -> None:
        self.gain, self.seed = gain, seed

    def __call__(self, shape, dtype=None):
        shape = tuple(shape)
        if len(shape) < 2:
            raise ValueError(f"Orthogonal needs a shape of rank >= 2. Received: shape={shape}")
        rows = math.prod(shape[:-1])
        cols = shape[-1]
        flat = torch.empty(max(rows, cols), min(rows, cols)).normal_(generator=_generator(self.seed))
        q, r = torch.linalg.qr(flat)
        q = q * torch.sign(torch.diagonal(r))
        if rows < cols:
            q = q.T
        return (self.gain * q.reshape(shape)).to(_tdtype(dtype))

    def get_config(self):
        return {"gain": self.gain, "seed": self.seed}


class Identity(Initializer):
    """``gain`` times the identity matrix (2D shapes only)."""

    def __init__(self, gain: float = 1.0) -> None:
        self.gain = gain

    def __call__(self, shape, dtype=None):
        if len(shape) != 2:
            raise ValueError(f"Identity initializer needs a 2D shape. Received: shape={tuple(shape)}")
        return (self.gain * torch.eye(*shape)).to(_tdtype(dtype))

    def get_config(self):
        return {"gain": self.gain}


IdentityInitializer = Identity

# scipy.signal's windows that torch also has, with scipy's definitions (periodic = scipy's fftbins=True)
_TORCH_WINDOWS = {
    "hann": torch.hann_window,
    "hanning": torch.hann_window,
    "hamming": torch.hamming_window,
    "blackman": torch.blackman_window,
    "bartlett": torch.bartlett_window,
}
_BOXCAR = ("boxcar", "box", "ones", "rectangular", "rect")


def _window(window: Any, length: int, periodic: bool) -> torch.Tensor:
    """``length`` samples of a named window (scipy's names) or of given values, as float64."""
    if not isinstance(window, str):
        return torch.as_tensor(np.asarray(window), dtype=torch.float64)
    if window in _BOXCAR:
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
    try:
        values = scipy.signal.get_window(window, length, periodic)
    except ValueError as e:
        raise ValueError(f"Unknown window: {window!r} is not a scipy.signal window. ({e})") from None
    return torch.as_tensor(values, dtype=torch.float64)


class STFT(Initializer):
    """Convolution kernels of a short-time Fourier transform: cosines (``"real"``) or sines (``"imag"``) of
    shape ``(frame_length, 1, fft_length // 2 + 1)``, windowed and scaled (the ``STFTSpectrogram`` kernels).

    Args:
        side: ``"real"`` or ``"imag"``: which part of the transform the kernel computes.
        window: a ``scipy.signal.windows`` name (``"hann"``, ``"hamming"``... the common ones need no scipy),
            the window's values, or ``None`` for no window.
        scaling: ``"density"`` (L2 norm of the window), ``"spectrum"`` (L1 norm) or ``None``.
        periodic: use the periodic form of the window.

    Example:
        >>> from lamina.initializers import STFT
        >>> tuple(STFT("real", "hann")((16, 1, 9)).shape)
        (16, 1, 9)
    """

    def __init__(
        self, side: str = "real", window: Any = "hann", scaling: str | None = "density", periodic: bool = False
    ):
        if side not in ("real", "imag"):
            raise ValueError(f"side should be 'real' or 'imag', not {side!r}")
        if isinstance(window, str):
            _window(window, 1, periodic)  # an unknown name fails here, as in Keras
        if scaling is not None and scaling not in ("density", "spectrum"):
            raise ValueError(
                f"Scaling is invalid, it must be `None`, 'density' or 'spectrum'. Received scaling={scaling!r}"
            )
        self.side = side
        self.window = window
        self.scaling = scaling
        self.periodic = periodic

    def __call__(self, shape, dtype=None):
        if len(shape) != 3:
            raise ValueError(f"STFT kernels have the shape (frame_length, 1, bins). Received: shape={tuple(shape)}")
        tdtype = _tdtype(dtype)
        frame_length, bins = int(shape[0]), int(shape[-1])
        scale = 1.0
        win = None
        if self.window is not None:
            win = _window(self.window, frame_length, self.periodic).to(tdtype)
            if win.ndim != 1 or win.shape[-1] != frame_length:
                raise ValueError(
                    f"The shape of `window` must be equal to [frame_length]. Received: window shape={tuple(win.shape)}"
                )
            win = win.reshape(frame_length, 1, 1)
            if self.scaling == "density":
                scale = torch.sqrt(torch.sum(win * win))
            elif self.scaling == "spectrum":
                scale = torch.sum(torch.abs(win))
        freq = torch.arange(bins, dtype=tdtype).reshape(1, 1, bins) / ((bins - 1) * 2)
        time = torch.arange(frame_length, dtype=tdtype).reshape(frame_length, 1, 1)
        args = (-2 * time) * freq * torch.arccos(torch.tensor(-1, dtype=tdtype))
        kernel = torch.cos(args) if self.side == "real" else torch.sin(args)
        kernel = kernel.expand(frame_length, int(shape[1]), bins).clone() if shape[1] != 1 else kernel
        return kernel * win / scale if win is not None else kernel

    def get_config(self):
        window = self.window
        if isinstance(window, (np.ndarray, torch.Tensor)):
            window = np.asarray(window).tolist()
        return {"side": self.side, "window": window, "periodic": self.periodic, "scaling": self.scaling}


STFTInitializer = STFT
OrthogonalInitializer = Orthogonal

# Keras exports every initializer under its snake_case name too (`keras.initializers.glorot_uniform` is the
# class `GlorotUniform`).
constant = Constant
zeros = Zeros
ones = Ones
random_normal = RandomNormal
random_uniform = RandomUniform
truncated_normal = TruncatedNormal
variance_scaling = VarianceScaling
glorot_uniform = GlorotUniform
glorot_normal = GlorotNormal
he_uniform = HeUniform
he_normal = HeNormal
lecun_uniform = LecunUniform
lecun_normal = LecunNormal
orthogonal = Orthogonal
identity = Identity
stft = STFT

_ALL = [
    Constant,
    Zeros,
    Ones,
    RandomNormal,
    RandomUniform,
    TruncatedNormal,
    VarianceScaling,
    GlorotUniform,
    GlorotNormal,
    HeUniform,
    HeNormal,
    LecunUniform,
    LecunNormal,
    Orthogonal,
    Identity,
    STFT,
]
_BY_NAME: dict[str, type] = {}
for _cls in _ALL:
    _BY_NAME[_cls.__name__] = _cls
    _BY_NAME[to_snake_case(_cls.__name__)] = _cls
_BY_NAME.update(
    {
        "zero": Zeros,
        "one": Ones,
        "uniform": RandomUniform,
        "normal": RandomNormal,
        "orthogonal": Orthogonal,
        "identity": Identity,
        "IdentityInitializer": Identity,
        "OrthogonalInitializer": Orthogonal,
        "STFTInitializer": STFT,
    }
)


_FAMILY = serialization.ObjectFamily("keras.initializers", "initializer", _BY_NAME, base=Initializer)


def serialize(initializer: Initializer) -> dict[str, Any]:
    """Keras's serialized form: ``{"module", "class_name", "config", "registered_name"}``."""
    return _FAMILY.serialize(initializer)


def deserialize(config: Any, custom_objects: dict[str, Any] | None = None) -> Initializer:
    """Rebuilds an initializer from :func:`serialize`'s output."""
    return _FAMILY.deserialize(config, custom_objects)


def get(identifier: Any) -> Initializer | Any:
    """Resolves a name, config dict, class or instance to an initializer.

    Raises:
        ValueError: for an unknown name; the message lists the valid ones.
    """
    return _FAMILY.get(identifier)
