"""Sampling images at fractional coordinates: ``map_coordinates`` and the batched 2-D sampler.

Both follow Keras's (and SciPy's ``ndimage.map_coordinates``) rules: order 0 rounds to the nearest
pixel, order 1 interpolates linearly between the two neighbours on each axis, and out-of-range
indices are folded back by ``fill_mode`` (``constant`` fills with ``fill_value``). The products and
sums run in Keras's order, so results agree with Keras to the last bit where the coordinates do.

:func:`sample_2d` is the fast path the geometric ops use: one gather per corner over a whole batch,
without Keras's per-image Python loop, on whatever device the images are.
"""

from __future__ import annotations

import functools
import itertools
import operator
from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F

from lamina.ops.core import _t

__all__ = ["FILL_MODES", "INTERPOLATIONS", "check_fill_mode", "check_interpolation", "map_coordinates", "sample_2d"]

INTERPOLATIONS = {"nearest": 0, "bilinear": 1}
FILL_MODES = ("constant", "nearest", "wrap", "mirror", "reflect")


def check_interpolation(interpolation: str) -> int:
    if interpolation not in INTERPOLATIONS:
        raise ValueError(
            "Invalid value for argument `interpolation`. Expected of one "
            f"{set(INTERPOLATIONS)}. Received: interpolation={interpolation}"
        )
    return INTERPOLATIONS[interpolation]


def check_fill_mode(fill_mode: str) -> None:
    if fill_mode not in FILL_MODES:
        raise ValueError(
            f"Invalid value for argument `fill_mode`. Expected of one {set(FILL_MODES)}. "
            f"Received: fill_mode={fill_mode}"
        )


def _mirror(index: torch.Tensor, size: int) -> torch.Tensor:
    s = size - 1  # half-wavelength of the triangular wave
    if s == 0:
        return torch.zeros_like(index)
    return torch.abs((index + s) % (2 * s) - s)


def _reflect(index: torch.Tensor, size: int) -> torch.Tensor:
    # Keras writes this as floor((mirror(2 i + 1, 2 size + 1) - 1) / 2); this is the same integer map
    # (d c b a | a b c d | d c b a) in three elementwise steps instead of seven.
    m = torch.remainder(index, 2 * size)
    return torch.minimum(m, (2 * size - 1) - m)


_INDEX_FIXERS: dict[str, Callable[[torch.Tensor, int], torch.Tensor]] = {
    "constant": lambda index, size: torch.clip(index, 0, size - 1),
    "nearest": lambda index, size: torch.clip(index, 0, size - 1),
    "wrap": lambda index, size: index % size,
    "mirror": _mirror,
    "reflect": _reflect,
}


def _nodes(coordinate: torch.Tensor, order: int, as_int: bool = True) -> list[tuple[torch.Tensor, Any]]:
    """(index, weight) pairs of one axis: the nearest pixel, or the two linear neighbours.

    With ``as_int=False`` the indices stay integer-valued floats: the fixers below are exact on them and
    run faster than on integer tensors.
    """
    if order == 0:
        index = coordinate if not coordinate.is_floating_point() else torch.round(coordinate)
        return [(index.to(torch.int32) if as_int else index, 1)]
    lower = torch.floor(coordinate)
    upper_weight = coordinate - lower
    index = lower.to(torch.int32) if as_int else lower
    return [(index, 1 - upper_weight), (index + 1, upper_weight)]


def _axis_terms(coordinate: torch.Tensor, size: int, order: int, fill_mode: str, as_int: bool = True) -> list[tuple]:
    """(fixed index, valid mask or None, weight) for each interpolation node of one axis."""
    fixer = _INDEX_FIXERS[fill_mode]
    terms = []
    for index, weight in _nodes(coordinate, order, as_int):
        valid = ((index >= 0) & (index < size)) if fill_mode == "constant" else None
        terms.append((fixer(index, size), valid, weight))
    return terms


def _fill_for(x: torch.Tensor, fill_value: Any) -> Any:
    if isinstance(fill_value, (int, float)) and not x.is_floating_point() and not x.is_complex():
        return int(fill_value)
    return fill_value


def _finish(result: Any, x: torch.Tensor) -> torch.Tensor:
    if not x.is_floating_point() and not x.is_complex() and result.is_floating_point():
        result = torch.round(result)
    return result.to(x.dtype)


def map_coordinates(
    inputs: Any, coordinates: Any, order: int, fill_mode: str = "constant", fill_value: float = 0
) -> torch.Tensor:
    """Samples ``inputs`` at ``coordinates`` (one array of positions per input axis).

    Args:
        inputs: an array of any rank.
        coordinates: ``inputs.ndim`` arrays (or one array whose first axis has that size) of equal
            shape, giving for each output element its fractional position in ``inputs``.
        order: 0 (nearest) or 1 (linear).
        fill_mode: ``"constant"``, ``"nearest"``, ``"wrap"``, ``"mirror"`` or ``"reflect"``.
        fill_value: the value outside the input with ``fill_mode="constant"``.

    Returns:
        The sampled values, shaped like one coordinate array, in ``inputs``' dtype.

    Example:
        >>> import torch
        >>> from lamina.ops import image
        >>> image.map_coordinates(torch.tensor([0.0, 10.0, 20.0]), [torch.tensor([0.5, 1.25])], order=1).tolist()
        [5.0, 12.5]
    """
    x = _t(inputs)
    coords = [_t(c) for c in coordinates]
    if len(coords) != x.ndim:
        raise ValueError(
            "First dim of `coordinates` must be the same as the rank of `inputs`. "
            f"Received inputs with shape: {tuple(x.shape)} and coordinate leading dim of {len(coords)}"
        )
    if coords[0].ndim < 1:
        raise ValueError(
            f"Invalid coordinates rank: expected at least rank 2. Received input with shape: {(len(coords),)}"
        )
    check_fill_mode(fill_mode)
    if order not in (0, 1):
        raise NotImplementedError("map_coordinates currently requires order<=1")
    fill_value = _fill_for(x, fill_value)
    per_axis = [_axis_terms(c.to(x.device), size, order, fill_mode) for c, size in zip(coords, x.shape)]
    outputs = []
    for items in itertools.product(*per_axis):
        indices, valids, weights = zip(*items)
        contribution = x[indices]
        masks = [v for v in valids if v is not None]
        if masks:
            contribution = torch.where(functools.reduce(operator.and_, masks), contribution, fill_value)
        outputs.append(functools.reduce(operator.mul, weights) * contribution)
    return _finish(functools.reduce(operator.add, outputs), x)


def sample_2d(
    images: torch.Tensor,
    y: torch.Tensor,
    x: torch.Tensor,
    order: int,
    fill_mode: str,
    fill_value: Any,
    channels_first: bool,
) -> torch.Tensor:
    """Samples a batch of images at per-image pixel positions ``(y, x)``, both ``(N, H_out, W_out)``.

    ``images`` is ``(N, H, W, C)`` (or ``(N, C, H, W)`` with ``channels_first``). Each corner is one
    ``gather`` along the flattened pixels of every channel plane; the products and sums are Keras's,
    in its order, so the values match it bit for bit. Channels-last results come back as a
    channels-last view of channels-first memory (what a following convolution wants anyway).
    """
    n = images.shape[0]
    if channels_first:
        c, height, width = images.shape[1:]
        planes = images
    else:
        height, width, c = images.shape[1:]
        planes = images.permute(0, 3, 1, 2)  # (N, H, W, C) -> (N, C, H, W), a view
    fill_value = _fill_for(images, fill_value)
    # Integer-valued float indices are exact below 2**24 in float32 (flat indices included).
    index_dtype = torch.float64 if y.dtype == torch.float64 or (height + 2) * (width + 2) >= 2**24 else torch.float32
    y, x = y.to(index_dtype), x.to(index_dtype)
    if fill_mode == "constant":
        # A one-pixel frame of `fill_value` around each plane: an index outside the image, clipped onto
        # the frame, reads `fill_value`, which is Keras's `where(valid, value, fill_value)` without the where.
        planes = F.pad(planes, (1, 1, 1, 1), value=fill_value)
        rows = [(torch.clip(i, -1, height) + 1, w) for i, w in _nodes(y, order, as_int=False)]
        cols = [(torch.clip(i, -1, width) + 1, w) for i, w in _nodes(x, order, as_int=False)]
        height, width = height + 2, width + 2
    else:
        rows = [(i, w) for i, _, w in _axis_terms(y, height, order, fill_mode, as_int=False)]
        cols = [(i, w) for i, _, w in _axis_terms(x, width, order, fill_mode, as_int=False)]
    planes = planes.reshape(n, c, height * width)  # a copy for channels-last input
    out_hw = tuple(y.shape[1:])
    result = None
    for (iy, wy), (ix, wx) in itertools.product(rows, cols):
        index = (iy * width + ix).to(torch.int64).reshape(n, 1, -1).expand(-1, c, -1)
        value = planes.gather(2, index)
        weight = wy * wx
        term = value if isinstance(weight, int) else weight.reshape(n, 1, -1) * value
        result = term if result is None else result.add_(term)  # every term is a fresh tensor
    result = _finish(result, images).reshape(n, c, *out_hw)
    return result if channels_first else result.permute(0, 2, 3, 1)
