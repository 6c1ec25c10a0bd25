"""Image resizing with the arithmetic of ``tf.image.resize`` (what Keras's image datasets use).

Keras's ``image_dataset_from_directory`` resizes with TensorFlow, so Lamina reproduces its
eight methods here, without TensorFlow: each is a separable linear map, one weight matrix
per axis (``out = Wh @ image @ Ww.T``, applied as a few gathered taps per row), built
with TensorFlow's sample positions and kernels:

- ``bilinear``, ``nearest``, ``bicubic``: half-pixel centres (``ResizeBilinear``,
  ``ResizeNearestNeighbor``, ``ResizeBicubic`` with Keys' a = -0.5, its 1024-entry
  coefficient table, and weights outside the image dropped and renormalised);
- ``area``: ``ResizeArea``, the average over each output pixel's footprint;
- ``lanczos3``, ``lanczos5``, ``gaussian``, ``mitchellcubic``: ``ScaleAndTranslate`` without
  antialiasing.

Values agree with TensorFlow to float32 rounding (the sums run in a different order).
"""

from __future__ import annotations

import functools
import math

import numpy as np

INTERPOLATIONS = ("bilinear", "nearest", "bicubic", "area", "lanczos3", "lanczos5", "gaussian", "mitchellcubic")

_TABLE = 1024  # TensorFlow's bicubic coefficient table size


def _bicubic_table() -> np.ndarray:
    a = np.float32(-0.5)
    x = np.arange(_TABLE + 1, dtype=np.float64) / _TABLE
    near = ((a + 2) * x - (a + 3)) * x * x + 1
    x1 = x + 1
    far = ((a * x1 - 5 * a) * x1 + 8 * a) * x1 - 4 * a
    return np.stack([near, far], -1).astype(np.float32)  # (1025, 2): [i, 0] = w(|d|), [i, 1] = w(1 + d)


_BICUBIC = _bicubic_table()


def _lanczos(radius: float):
    def kernel(x: np.ndarray) -> np.ndarray:
        x = np.abs(x)
        with np.errstate(divide="ignore", invalid="ignore"):
            v = radius * np.sin(np.pi * x) * np.sin(np.pi * x / radius) / (np.pi**2 * x * x)
        return np.where(x > radius, 0.0, np.where(x <= 1e-3, 1.0, v))

    return kernel, radius


def _gaussian(x: np.ndarray) -> np.ndarray:
    sigma = 0.5  # radius 1.5 / TensorFlow's radius multiplier 3
    x = np.abs(x)
    return np.where(x >= 1.5, 0.0, np.exp(-x * x / (2.0 * sigma * sigma)))


def _mitchell(x: np.ndarray) -> np.ndarray:
    x = np.abs(x)
    outer = (((-7.0 / 18.0) * x + 2.0) * x - 10.0 / 3.0) * x + 16.0 / 9.0
    inner = ((7.0 / 6.0) * x - 2.0) * x * x + 8.0 / 9.0
    return np.where(x >= 2.0, 0.0, np.where(x >= 1.0, outer, inner))


_SCALE_AND_TRANSLATE = {
    "lanczos3": _lanczos(3.0),
    "lanczos5": _lanczos(5.0),
    "gaussian": (_gaussian, 1.5),
    "mitchellcubic": (_mitchell, 2.0),
}


def _bilinear(n_in: int, n_out: int) -> np.ndarray:
    scale = np.float32(n_in) / np.float32(n_out)
    w = np.zeros((n_out, n_in), np.float32)
    for o in range(n_out):
        src = (np.float32(o) + np.float32(0.5)) * scale - np.float32(0.5)
        floor = math.floor(src)
        lower, upper = max(floor, 0), min(math.ceil(src), n_in - 1)
        lerp = np.float32(src - floor)
        w[o, lower] += 1 - lerp
        w[o, upper] += lerp
    return w


def _nearest_index(n_in: int, n_out: int) -> np.ndarray:
    scale = np.float32(n_in) / np.float32(n_out)
    src = np.floor((np.arange(n_out, dtype=np.float32) + np.float32(0.5)) * scale)
    return np.clip(src.astype(np.int64), 0, n_in - 1)


def _bicubic(n_in: int, n_out: int) -> np.ndarray:
    scale = np.float32(n_in) / np.float32(n_out)
    w = np.zeros((n_out, n_in), np.float32)
    for o in range(n_out):
        src = (np.float32(o) + np.float32(0.5)) * scale - np.float32(0.5)
        base = math.floor(src)
        offset = int(np.rint(np.float32(src - base) * _TABLE))  # lrintf: half to even
        taps = (
            (base - 1, _BICUBIC[offset, 1]),
            (base, _BICUBIC[offset, 0]),
            (base + 1, _BICUBIC[_TABLE - offset, 0]),
            (base + 2, _BICUBIC[_TABLE - offset, 1]),
        )
        kept = [(i, c) for i, c in taps if 0 <= i < n_in]  # outside the image: weight 0, then renormalise
        total = np.float32(sum(c for _, c in kept))
        for i, c in kept:
            w[o, i] += c / total if abs(total) >= 1000 * np.finfo(np.float32).tiny else c
    return w


def _area(n_in: int, n_out: int) -> np.ndarray:
    scale = n_in / n_out
    w = np.zeros((n_out, n_in), np.float64)
    for o in range(n_out):
        start, end = o * scale, (o + 1) * scale
        for i in range(math.floor(start), math.ceil(end)):
            overlap = min(i + 1, end) - max(i, start)
            if overlap > 0:
                w[o, min(i, n_in - 1)] += overlap / scale
    return w.astype(np.float32)


def _scale_and_translate(n_in: int, n_out: int, method: str) -> np.ndarray:
    kernel, radius = _SCALE_AND_TRANSLATE[method]
    inv_scale = np.float32(n_in) / np.float32(n_out)
    w = np.zeros((n_out, n_in), np.float32)
    for o in range(n_out):
        sample = (np.float32(o) + np.float32(0.5)) * inv_scale
        if sample < 0 or sample > n_in:
            continue
        start = min(max(math.ceil(sample - radius - 0.5), 0), n_in - 1)
        end = min(max(math.floor(sample + radius - 0.5), 0), n_in - 1) + 1
        src = np.arange(start, end)
        weights = kernel((src + 0.5 - sample).astype(np.float32)).astype(np.float32)
        total = np.float32(weights.sum())
        if abs(total) >= 1000 * np.finfo(np.float32).tiny:
            w[o, start:end] = weights / total
    return w


def weights(n_in: int, n_out: int, method: str) -> np.ndarray:
    """The ``(n_out, n_in)`` matrix that resizes one axis with ``method`` (not ``nearest``)."""
    if method == "bilinear":
        return _bilinear(n_in, n_out)
    if method == "bicubic":
        return _bicubic(n_in, n_out)
    if method == "area":
        return _area(n_in, n_out)
    return _scale_and_translate(n_in, n_out, method)


@functools.lru_cache(maxsize=512)
def _taps(n_in: int, n_out: int, method: str) -> tuple[np.ndarray, np.ndarray]:
    """The weight matrix in gather form: ``(n_out, k)`` source indices and weights (k = widest row)."""
    w = weights(n_in, n_out, method)
    nonzero = w != 0
    k = max(1, int(nonzero.sum(1).max()))
    idx = np.zeros((n_out, k), np.int64)
    vals = np.zeros((n_out, k), np.float32)
    for o in range(n_out):
        cols = np.flatnonzero(nonzero[o])
        idx[o, : len(cols)] = cols
        vals[o, : len(cols)] = w[o, cols]
    idx.setflags(write=False)
    vals.setflags(write=False)
    return idx, vals


def _resize_axis0(x: np.ndarray, n_out: int, method: str) -> np.ndarray:
    idx, vals = _taps(x.shape[0], n_out, method)
    out = x[idx[:, 0]] * vals[:, 0, None, None]  # (n_out, W, C); a few taps per row
    for t in range(1, idx.shape[1]):
        out += x[idx[:, t]] * vals[:, t, None, None]
    return out


def resize(image: np.ndarray, size: tuple[int, int], method: str = "bilinear") -> np.ndarray:
    """Resizes an ``(H, W, C)`` array to ``(size[0], size[1], C)`` as ``tf.image.resize`` does.

    Returns float32, except ``nearest``, which keeps the input dtype (as TensorFlow).

    Example:
        >>> import numpy as np
        >>> resize(np.arange(4, dtype="uint8").reshape(2, 2, 1), (4, 4))[..., 0]
        array([[0.  , 0.25, 0.75, 1.  ],
               [0.5 , 0.75, 1.25, 1.5 ],
               [1.5 , 1.75, 2.25, 2.5 ],
               [2.  , 2.25, 2.75, 3.  ]], dtype=float32)
    """
    height, width = size
    if method == "nearest":
        rows = _nearest_index(image.shape[0], height)
        cols = _nearest_index(image.shape[1], width)
        return image[rows][:, cols]
    x = image.astype(np.float32, copy=False)
    out = _resize_axis0(x, height, method)  # (h, W, C)
    out = _resize_axis0(out.transpose(1, 0, 2), width, method)  # (w, h, C)
    return np.ascontiguousarray(out.transpose(1, 0, 2))


def resize_with_pad(image: np.ndarray, size: tuple[int, int], method: str = "bilinear") -> np.ndarray:
    """``tf.image.resize_with_pad``: fit inside ``size`` keeping the aspect ratio, centre, pad with zeros."""
    height, width = image.shape[:2]
    target_h, target_w = size
    f32 = np.float32
    ratio = max(f32(width) / f32(target_w), f32(height) / f32(target_h))
    new_h_f, new_w_f = f32(height) / ratio, f32(width) / ratio
    new_h, new_w = int(math.floor(new_h_f)), int(math.floor(new_w_f))
    top = max(0, int(math.floor((f32(target_h) - new_h_f) / f32(2))))
    left = max(0, int(math.floor((f32(target_w) - new_w_f) / f32(2))))
    resized = resize(image, (new_h, new_w), method)
    out = np.zeros((target_h, target_w) + image.shape[2:], resized.dtype)
    out[top : top + new_h, left : left + new_w] = resized
    return out


def crop_box(height: int, width: int, size: tuple[int, int]) -> tuple[int, int, int, int]:
    """Keras's ``smart_resize`` crop: the largest centred window with ``size``'s aspect ratio (top, left, h, w)."""
    target_h, target_w = size
    crop_h = max(min(height, int(float(width * target_h) / target_w)), 1)
    crop_w = max(min(width, int(float(height * target_w) / target_h)), 1)
    return int(float(height - crop_h) / 2), int(float(width - crop_w) / 2), crop_h, crop_w
