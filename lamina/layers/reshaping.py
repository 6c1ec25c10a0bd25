"""Reshaping layers: Flatten, Reshape, Permute, RepeatVector, ZeroPadding, Cropping, UpSampling.

None of these layers has weights. Spatial layers are channels-last by default and accept
``data_format="channels_first"``; the rank-generic bases (``_ZeroPadding``, ``_Cropping``,
``_UpSampling``) hold the logic and ``*1D/2D/3D`` only fix the rank and the defaults.
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F

from lamina.layers.layer import InputSpec, Layer

_ORDINALS = ("1st", "2nd", "3rd")


def standardize_data_format(data_format: str | None) -> str:
    """``None`` -> ``"channels_last"``; otherwise checks the value (Keras's rule and message)."""
    if data_format is None:
        return "channels_last"
    value = str(data_format).lower()
    if value not in ("channels_first", "channels_last"):
        raise ValueError(
            "The `data_format` argument must be one of {'channels_first', 'channels_last'}. "
            f"Received: data_format={data_format}"
        )
    return value


def standardize_tuple(value: Any, n: int, name: str, allow_zero: bool = False) -> tuple[int, ...]:
    """An int or an iterable of ``n`` ints -> a tuple of ``n`` ints, each ``> 0`` (``>= 0`` with allow_zero)."""
    error = f"The `{name}` argument must be a tuple of {n} integers. Received {name}={value}"
    if isinstance(value, int) and not isinstance(value, bool):
        values = (value,) * n
    else:
        try:
            values = tuple(value)
        except TypeError:
            raise ValueError(error) from None
        if len(values) != n:
            raise ValueError(error)
        for v in values:
            if isinstance(v, bool) or not isinstance(v, int):
                try:
                    if int(v) != v:
                        raise ValueError
                except (ValueError, TypeError):
                    raise ValueError(f"{error}, including element {v} of type {type(v)}") from None
        values = tuple(int(v) for v in values)
    bad = [v for v in values if (v < 0 if allow_zero else v <= 0)]
    if bad:
        raise ValueError(
            f"The `{name}` argument must be a tuple of {n} integers >= {0 if allow_zero else 1}. "
            f"Received {name}={value}, including {bad[0]} that does not satisfy the requirement."
        )
    return values


def _pairs_per_axis(value: Any, rank: int, name: str) -> tuple[tuple[int, int], ...]:
    """Keras's 2D/3D padding/cropping argument: int, ``rank`` ints, or ``rank`` pairs -> ``rank`` pairs."""
    if isinstance(value, int) and not isinstance(value, bool):
        if value < 0:
            raise ValueError(f"`{name}` cannot be negative. Received: {name}={value}.")
        return ((value, value),) * rank
    if hasattr(value, "__len__"):
        if len(value) != rank:
            raise ValueError(f"`{name}` should have {rank} elements. Received: {name}={value}.")
        return tuple(
            standardize_tuple(v, 2, f"{_ORDINALS[i]} entry of {name}", allow_zero=True) for i, v in enumerate(value)
        )
    raise ValueError(
        f"`{name}` should be either an int, a tuple of {rank} ints, or a tuple of {rank} tuples of 2 ints "
        f"((before, after) per spatial axis). Received: {name}={value}."
    )


def _spatial_axes(rank: int, data_format: str) -> range:
    return range(2, 2 + rank) if data_format == "channels_first" else range(1, 1 + rank)


class Flatten(Layer):
    """Flattens every axis but the batch: ``(batch, ...) -> (batch, prod(...))``.

    Args:
        data_format: ``"channels_last"`` (default) or ``"channels_first"``; channels-first inputs are
            moved to channels-last before flattening, so both orders give the same feature order.

    Input shape:
        ``(batch, ...)``; a rank-1 input ``(batch,)`` becomes ``(batch, 1)``.

    Output shape:
        ``(batch, prod(non-batch dims))``.

    Example:
        >>> import torch, lamina
        >>> lamina.layers.Flatten()(torch.zeros(2, 3, 4)).shape
        torch.Size([2, 12])
    """

    def __init__(self, data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.data_format = standardize_data_format(data_format)
        self.input_spec = InputSpec(min_ndim=1)
        self.built = True

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        if inputs.ndim == 1:
            return inputs.unsqueeze(-1)
        if self.data_format == "channels_first" and inputs.ndim > 2:
            # (N, C, *spatial) -> (N, *spatial, C), a view; flatten then copies
            inputs = inputs.permute(0, *range(2, inputs.ndim), 1)
        return torch.flatten(inputs, 1)

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        dims = tuple(input_shape)[1:]
        if not dims:
            return (input_shape[0], 1)
        return (input_shape[0], None if any(d is None for d in dims) else math.prod(dims))

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config["data_format"] = self.data_format
        return config

    def extra_repr(self) -> str:
        return f"name={self.name!r}, data_format={self.data_format!r}"


class Reshape(Layer):
    """Reshapes every sample to ``target_shape`` (batch axis kept); one entry may be ``-1``.

    Args:
        target_shape: tuple of ints without the batch axis; at most one ``-1``, inferred from the size.

    Input shape:
        Anything whose per-sample size fits ``target_shape``.

    Output shape:
        ``(batch, *target_shape)``.

    Example:
        >>> import torch, lamina
        >>> lamina.layers.Reshape((-1, 2))(torch.zeros(3, 12)).shape
        torch.Size([3, 6, 2])
    """

    def __init__(self, target_shape: Any, **kwargs: Any) -> None:
        try:
            target = tuple(target_shape)
        except TypeError:
            raise ValueError(
                f"`target_shape` must be a tuple of integers. Received: target_shape={target_shape}"
            ) from None
        if any(isinstance(d, bool) or not isinstance(d, int) for d in target):
            raise ValueError(f"`target_shape` must be a tuple of integers. Received: target_shape={target}")
        if any(d < -1 for d in target) or target.count(-1) > 1:
            raise ValueError(
                "Each dimension in `target_shape` must be a non-negative integer, or `-1` for a single unknown "
                f"dimension. Received: target_shape={target}."
            )
        super().__init__(**kwargs)
        self.target_shape = target
        self.built = True

    def _resolve(self, sample_shape: tuple) -> tuple:
        """``target_shape`` with its ``-1`` resolved for ``sample_shape`` (``None`` where unknown)."""
        target = self.target_shape
        if any(d is None for d in sample_shape):
            return tuple(None if d == -1 else d for d in target)
        size = math.prod(sample_shape)
        if -1 not in target:
            if math.prod(target) != size:
                raise self._incompatible(sample_shape)
            return target
        known = math.prod(d for d in target if d != -1)
        if known == 0 or size % known:
            raise self._incompatible(sample_shape)
        return tuple(size // known if d == -1 else d for d in target)

    def _incompatible(self, sample_shape: tuple) -> Exception:
        return self._error(
            f"inputs whose per-sample size fits target_shape={self.target_shape}",
            f"inputs of per-sample shape {tuple(sample_shape)} ({math.prod(sample_shape)} values)",
            "The total size of the tensor must be unchanged: fix `target_shape` or the layer before.",
        )

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        return inputs.reshape(inputs.shape[0], *self._resolve(tuple(inputs.shape[1:])))

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return (input_shape[0], *self._resolve(tuple(input_shape)[1:]))

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config["target_shape"] = self.target_shape
        return config

    def extra_repr(self) -> str:
        return f"name={self.name!r}, target_shape={self.target_shape}"


class Permute(Layer):
    """Permutes the non-batch axes by ``dims`` (1-based; ``(2, 1)`` swaps the two axes after the batch).

    Args:
        dims: a permutation of ``1..n``.

    Input shape:
        ``(batch, d1, ..., dn)``.

    Output shape:
        ``(batch, d[dims[0]], ..., d[dims[n-1]])``.

    Example:
        >>> import torch, lamina
        >>> lamina.layers.Permute((2, 1))(torch.zeros(2, 3, 4)).shape
        torch.Size([2, 4, 3])
    """

    def __init__(self, dims: Any, **kwargs: Any) -> None:
        dims_t = tuple(dims)
        if sorted(dims_t) != list(range(1, len(dims_t) + 1)):
            raise ValueError(
                "Invalid permutation argument `dims` for Permute Layer. The set of indices in `dims` must be "
                f"consecutive and start from 1. Received dims={dims}"
            )
        super().__init__(**kwargs)
        self.dims = dims_t
        self.input_spec = InputSpec(ndim=len(dims_t) + 1)
        self.built = True

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        return inputs.permute(0, *self.dims)  # a view: no copy

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return (input_shape[0], *(input_shape[d] for d in self.dims))

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config["dims"] = self.dims
        return config

    def extra_repr(self) -> str:
        return f"name={self.name!r}, dims={self.dims}"


class RepeatVector(Layer):
    """Repeats a ``(batch, features)`` input ``n`` times: ``(batch, n, features)``.

    Args:
        n: positive int, the repetition factor.

    Example:
        >>> import torch, lamina
        >>> lamina.layers.RepeatVector(3)(torch.zeros(2, 5)).shape
        torch.Size([2, 3, 5])
    """

    def __init__(self, n: int, **kwargs: Any) -> None:
        if not isinstance(n, int) or isinstance(n, bool):
            raise TypeError(f"Expected an integer value for `n`, got {type(n)}.")
        if n <= 0:
            raise ValueError(f"Argument `n` should be a positive integer. Received: n={n}")
        super().__init__(**kwargs)
        self.n = n
        self.input_spec = InputSpec(ndim=2)
        self.built = True

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        return inputs.unsqueeze(1).repeat(1, self.n, 1)

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return (input_shape[0], self.n, input_shape[1])

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config["n"] = self.n
        return config

    def extra_repr(self) -> str:
        return f"name={self.name!r}, n={self.n}"


class _ZeroPadding(Layer):
    """Rank-generic zero padding of the spatial axes; ``_pairs`` holds ``(before, after)`` per axis."""

    rank = 0

    def __init__(self, padding: Any, data_format: str | None = None, **kwargs: Any) -> None:
        if self.rank == 1:
            pairs = (standardize_tuple(padding, 2, "padding", allow_zero=True),)
        else:
            pairs = _pairs_per_axis(padding, self.rank, "padding")
        super().__init__(**kwargs)
        self.data_format = standardize_data_format(data_format)
        self._pairs = pairs
        self.padding = pairs[0] if self.rank == 1 else pairs
        self.input_spec = InputSpec(ndim=self.rank + 2)
        self.built = True

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        # F.pad lists (before, after) from the LAST axis backwards
        pad: list[int] = [] if self.data_format == "channels_first" else [0, 0]
        for before, after in reversed(self._pairs):
            pad += [before, after]
        return F.pad(inputs, pad)

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        shape = list(input_shape)
        for axis, (before, after) in zip(_spatial_axes(self.rank, self.data_format), self._pairs):
            if shape[axis] is not None:
                shape[axis] += before + after
        return tuple(shape)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update({"padding": self.padding, "data_format": self.data_format})
        return config

    def extra_repr(self) -> str:
        return f"name={self.name!r}, padding={self.padding}, data_format={self.data_format!r}"


class ZeroPadding1D(_ZeroPadding):
    """Pads the time axis of ``(batch, steps, features)`` with zeros.

    Args:
        padding: int (both sides) or ``(before, after)``.
        data_format: ``"channels_last"`` (default, ``(batch, steps, features)``) or ``"channels_first"``.

    Example:
        >>> import torch, lamina
        >>> lamina.layers.ZeroPadding1D((1, 2))(torch.ones(1, 3, 2)).shape
        torch.Size([1, 6, 2])
    """

    rank = 1

    def __init__(self, padding: Any = 1, data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(padding, data_format, **kwargs)


class ZeroPadding2D(_ZeroPadding):
    """Pads the rows and columns of an image batch with zeros.

    Args:
        padding: int, ``(sym_height, sym_width)`` or ``((top, bottom), (left, right))``.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.

    Example:
        >>> import torch, lamina
        >>> lamina.layers.ZeroPadding2D(((1, 0), (2, 2)))(torch.ones(1, 3, 3, 2)).shape
        torch.Size([1, 4, 7, 2])
    """

    rank = 2

    def __init__(self, padding: Any = (1, 1), data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(padding, data_format, **kwargs)


class ZeroPadding3D(_ZeroPadding):
    """Pads the three spatial axes of a volume batch with zeros.

    Args:
        padding: int, 3 ints (symmetric per axis) or 3 ``(before, after)`` pairs.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.

    Example:
        >>> import torch, lamina
        >>> lamina.layers.ZeroPadding3D(1)(torch.ones(1, 2, 2, 2, 3)).shape
        torch.Size([1, 4, 4, 4, 3])
    """

    rank = 3

    def __init__(self, padding: Any = ((1, 1), (1, 1), (1, 1)), data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(padding, data_format, **kwargs)


class _Cropping(Layer):
    """Rank-generic cropping of the spatial axes; ``_pairs`` holds ``(before, after)`` per axis."""

    rank = 0

    def __init__(self, cropping: Any, data_format: str | None = None, **kwargs: Any) -> None:
        if self.rank == 1:
            pairs = (standardize_tuple(cropping, 2, "cropping", allow_zero=True),)
        else:
            pairs = _pairs_per_axis(cropping, self.rank, "cropping")
        super().__init__(**kwargs)
        self.data_format = standardize_data_format(data_format)
        self._pairs = pairs
        self.cropping = pairs[0] if self.rank == 1 else pairs
        self.input_spec = InputSpec(ndim=self.rank + 2)
        self.built = True

    def _check(self, shape: tuple) -> None:
        for axis, (before, after) in zip(_spatial_axes(self.rank, self.data_format), self._pairs):
            if shape[axis] is not None and before + after >= shape[axis]:
                raise self._error(
                    f"spatial axes larger than the cropping {self.cropping}",
                    f"inputs of shape {tuple(shape)} (axis {axis} has size {shape[axis]})",
                    "Values in `cropping` must be smaller than the corresponding spatial dimension of the input.",
                )

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        shape = tuple(inputs.shape)
        self._check(shape)
        index = [slice(None)] * inputs.ndim
        for axis, (before, after) in zip(_spatial_axes(self.rank, self.data_format), self._pairs):
            index[axis] = slice(before, shape[axis] - after)
        return inputs[tuple(index)]  # a view: no copy

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        self._check(tuple(input_shape))
        shape = list(input_shape)
        for axis, (before, after) in zip(_spatial_axes(self.rank, self.data_format), self._pairs):
            if shape[axis] is not None:
                shape[axis] -= before + after
        return tuple(shape)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config["cropping"] = self.cropping
        if self.rank > 1:
            config["data_format"] = self.data_format
        return config

    def extra_repr(self) -> str:
        return f"name={self.name!r}, cropping={self.cropping}, data_format={self.data_format!r}"


class Cropping1D(_Cropping):
    """Crops the time axis of ``(batch, steps, features)``.

    Args:
        cropping: int (both sides) or ``(before, after)``; default ``(1, 1)``.

    Example:
        >>> import torch, lamina
        >>> lamina.layers.Cropping1D((1, 2))(torch.ones(1, 6, 2)).shape
        torch.Size([1, 3, 2])
    """

    rank = 1

    def __init__(self, cropping: Any = (1, 1), **kwargs: Any) -> None:
        super().__init__(cropping, None, **kwargs)


class Cropping2D(_Cropping):
    """Crops the rows and columns of an image batch.

    Args:
        cropping: int, ``(sym_height, sym_width)`` or ``((top, bottom), (left, right))``.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.

    Example:
        >>> import torch, lamina
        >>> lamina.layers.Cropping2D(((1, 0), (1, 1)))(torch.ones(1, 4, 4, 3)).shape
        torch.Size([1, 3, 2, 3])
    """

    rank = 2

    def __init__(self, cropping: Any = ((0, 0), (0, 0)), data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(cropping, data_format, **kwargs)


class Cropping3D(_Cropping):
    """Crops the three spatial axes of a volume batch.

    Args:
        cropping: int, 3 ints (symmetric per axis) or 3 ``(before, after)`` pairs.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.

    Example:
        >>> import torch, lamina
        >>> lamina.layers.Cropping3D(1)(torch.ones(1, 4, 4, 4, 2)).shape
        torch.Size([1, 2, 2, 2, 2])
    """

    rank = 3

    def __init__(self, cropping: Any = ((1, 1), (1, 1), (1, 1)), data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(cropping, data_format, **kwargs)


class UpSampling1D(Layer):
    """Repeats each time step ``size`` times: ``(batch, steps, f) -> (batch, steps * size, f)``.

    Args:
        size: positive int, the upsampling factor.

    Example:
        >>> import torch, lamina
        >>> lamina.layers.UpSampling1D(2)(torch.tensor([[[1.0], [2.0]]])).flatten().tolist()
        [1.0, 1.0, 2.0, 2.0]
    """

    def __init__(self, size: int = 2, **kwargs: Any) -> None:
        if not isinstance(size, int) or isinstance(size, bool):
            raise TypeError(f"Expected an integer value for `size`, got {type(size)}.")
        if size <= 0:
            raise ValueError(f"Argument `size` should be a positive integer. Received: size={size}")
        super().__init__(**kwargs)
        self.size = size
        self.input_spec = InputSpec(ndim=3)
        self.built = True

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        return torch.repeat_interleave(inputs, self.size, dim=1)

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        steps = input_shape[1]
        return (input_shape[0], None if steps is None else steps * self.size, input_shape[2])

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config["size"] = self.size
        return config

    def extra_repr(self) -> str:
        return f"name={self.name!r}, size={self.size}"


_TORCH_MODES = {
    2: {"nearest": "nearest-exact", "bilinear": "bilinear", "bicubic": "bicubic"},
    3: {"nearest": "nearest-exact"},
}


class _UpSampling(Layer):
    """Rank-generic upsampling of the spatial axes by integer factors with ``F.interpolate``.

    ``"nearest"`` uses torch's ``nearest-exact`` mode, which for integer factors repeats each
    pixel exactly as Keras's ``ops.repeat`` does; ``"bilinear"``/``"bicubic"`` use
    ``align_corners=False`` and no antialias, like Keras's ``ops.image.resize`` on torch.
    """

    rank = 0

    def __init__(
        self, size: Any, data_format: str | None = None, interpolation: str = "nearest", **kwargs: Any
    ) -> None:
        size_t = standardize_tuple(size, self.rank, "size")
        mode = str(interpolation).lower()
        if mode not in _TORCH_MODES[self.rank]:
            raise ValueError(
                f"Invalid value for argument `interpolation`. Expected one of {sorted(_TORCH_MODES[self.rank])}. "
                f"Received: interpolation={interpolation}"
            )
        super().__init__(**kwargs)
        self.data_format = standardize_data_format(data_format)
        self.size = size_t
        self.interpolation = mode
        self.input_spec = InputSpec(ndim=self.rank + 2)
        self.built = True

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        channels_last = self.data_format == "channels_last"
        x = inputs.permute(0, -1, *range(1, self.rank + 1)) if channels_last else inputs  # (N,*S,C)->(N,C,*S) view
        out_size = [d * s for d, s in zip(x.shape[2:], self.size)]
        mode = _TORCH_MODES[self.rank][self.interpolation]
        if mode in ("bilinear", "bicubic"):
            y = F.interpolate(x, size=out_size, mode=mode, align_corners=False)
        else:
            y = F.interpolate(x, size=out_size, mode=mode)
        if y.dtype != x.dtype:  # CUDA autocast (mixed policies) upsamples in float32; keep the compute dtype
            y = y.to(x.dtype)
        return y.permute(0, *range(2, self.rank + 2), 1) if channels_last else y  # (N,C,*S)->(N,*S,C) view

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        shape = list(input_shape)
        for axis, s in zip(_spatial_axes(self.rank, self.data_format), self.size):
            if shape[axis] is not None:
                shape[axis] *= s
        return tuple(shape)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update({"size": self.size, "data_format": self.data_format})
        if self.rank == 2:
            config["interpolation"] = self.interpolation
        return config

    def extra_repr(self) -> str:
        return f"name={self.name!r}, size={self.size}, data_format={self.data_format!r}"


class UpSampling2D(_UpSampling):
    """Upsamples rows and columns by ``size``.

    Args:
        size: int or ``(rows, cols)`` positive factors; default ``(2, 2)``.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
        interpolation: ``"nearest"`` (default, repeats pixels), ``"bilinear"`` or ``"bicubic"``.

    Example:
        >>> import torch, lamina
        >>> x = torch.arange(4.0).reshape(1, 2, 2, 1)
        >>> lamina.layers.UpSampling2D((1, 2))(x)[0, :, :, 0].tolist()
        [[0.0, 0.0, 1.0, 1.0], [2.0, 2.0, 3.0, 3.0]]
    """

    rank = 2

    def __init__(
        self, size: Any = (2, 2), data_format: str | None = None, interpolation: str = "nearest", **kwargs: Any
    ) -> None:
        super().__init__(size, data_format, interpolation, **kwargs)


class UpSampling3D(_UpSampling):
    """Upsamples the three spatial axes by ``size`` (repeating voxels).

    Args:
        size: int or 3 positive factors; default ``(2, 2, 2)``.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.

    Example:
        >>> import torch, lamina
        >>> lamina.layers.UpSampling3D(2)(torch.zeros(1, 1, 2, 3, 4)).shape
        torch.Size([1, 2, 4, 6, 4])
    """

    rank = 3

    def __init__(self, size: Any = (2, 2, 2), data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(size, data_format, "nearest", **kwargs)
