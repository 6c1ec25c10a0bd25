"""``Normalization``: feature-wise ``(x - mean) / sqrt(var)``, with statistics from ``adapt``."""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np
import torch

from lamina import backend
from lamina.layers.call_context import _ctx as _layer_ctx
from lamina.layers.layer import Layer

_EPSILON = 1e-7  # keras.config.epsilon()


def _first_of(batch: Any) -> Any:
    """``(x, y)`` / ``(x, y, w)`` batches -> ``x``."""
    if isinstance(batch, (tuple, list)) and batch and hasattr(batch[0], "shape"):
        return batch[0]
    return batch


class Normalization(Layer):
    """Shifts and scales inputs to zero mean and unit variance: ``(x - mean) / sqrt(variance)``.

    Give ``mean`` and ``variance`` directly, or call ``adapt(data)`` to compute them. With
    ``invert=True`` the layer undoes the normalization: ``mean + x * sqrt(variance)``.

    Args:
        axis: axis or axes kept (one mean/variance per index along them); default -1 (per feature).
            ``None`` computes a single scalar mean and variance.
        mean / variance: optional values broadcastable to the kept axes.
        invert: apply the inverse transformation.

    Weights:
        Unless ``mean``/``variance`` are given: non-trainable ``mean``, ``variance`` (float) and
        ``count`` (int32), in that order, as in Keras.

    Example:
        >>> import numpy as np, lamina
        >>> layer = lamina.layers.Normalization()
        >>> layer.adapt(np.array([[0.0, 10.0], [2.0, 30.0]], "float32"))
        >>> layer(np.array([[1.0, 20.0]], "float32")).tolist()
        [[0.0, 0.0]]
        >>> [w.name for w in layer.weights]
        ['mean', 'variance', 'count']
    """

    def __init__(
        self, axis: Any = -1, mean: Any = None, variance: Any = None, invert: bool = False, **kwargs: Any
    ) -> None:
        if axis is None:
            axis = ()
        elif isinstance(axis, int):
            axis = (axis,)
        else:
            axis = tuple(axis)
        if (mean is not None) != (variance is not None):
            raise ValueError(
                "When setting values directly, both `mean` and `variance` must be set. "
                f"Received: mean={mean} and variance={variance}"
            )
        if mean is not None:
            if np.shape(mean) != np.shape(variance):
                raise ValueError(
                    "When setting values directly, `mean` and `variance` must have the same shape. "
                    f"Received: mean shape {np.shape(mean)} and variance shape {np.shape(variance)}"
                )
            if len(np.shape(mean)) > len(axis):
                raise ValueError(
                    f"The rank of `mean` must be less than or equal to the number of axes "
                    f"({len(axis)}). Received: mean shape {np.shape(mean)} for axis {axis}"
                )
        super().__init__(**kwargs)
        self.axis = axis
        self.input_mean = mean
        self.input_variance = variance
        self.invert = invert
        self.supports_masking = True
        self._build_input_shape = None
        self.__dict__["_stat_vars"] = None  # the (mean, variance, count) Variables when built for adapt

    def build(self, input_shape: Any = None) -> None:
        if input_shape is None:
            return
        input_shape = tuple(input_shape)
        ndim = len(input_shape)
        if any(a < -ndim or a >= ndim for a in self.axis):
            raise self._error(
                f"inputs with every axis in axis={self.axis}",
                f"inputs of rank {ndim}",
                "All `axis` values must be in the range [-ndim, ndim).",
            )
        keep = tuple(sorted(a if a >= 0 else a + ndim for a in self.axis))
        for d in keep:
            if input_shape[d] is None:
                raise self._error(
                    f"a known size on every kept axis (axis={self.axis})",
                    f"input_shape={input_shape} (axis {d} unknown)",
                    "Give the input a defined size on the normalized axes.",
                )
        self._build_input_shape = input_shape
        self._keep_axis = keep
        self._reduce_axis = tuple(d for d in range(ndim) if d not in keep)
        self._broadcast_shape = tuple(input_shape[d] if d in keep else 1 for d in range(ndim))
        self._mean_and_var_shape = tuple(input_shape[d] for d in keep)
        if self.input_mean is None:
            # Keras's names and order; the buffers are registered as adapt_mean, adapt_variance, count
            self.adapt_mean = mean_v = self.add_weight(
                name="mean", shape=self._mean_and_var_shape, initializer="zeros", trainable=False
            )
            self.adapt_variance = var_v = self.add_weight(
                name="variance", shape=self._mean_and_var_shape, initializer="ones", trainable=False
            )
            self.count = count_v = self.add_weight(
                name="count", shape=(), dtype="int32", initializer="zeros", trainable=False
            )
            self.__dict__["_stat_vars"] = (mean_v, var_v, count_v)
        else:
            mean = torch.as_tensor(np.asarray(self.input_mean, dtype="float64"))
            variance = torch.as_tensor(np.asarray(self.input_variance, dtype="float64"))
            if mean.ndim > 0:
                # align the given dims to the kept axes from the right
                expanded = [1] * ndim
                for i in range(1, mean.ndim + 1):
                    expanded[keep[-i]] = mean.shape[-i]
                mean, variance = mean.reshape(expanded), variance.reshape(expanded)
            # on the device of the data that builds the layer, as add_weight places weights
            tdtype = self._compute_tdtype()
            device = getattr(_layer_ctx, "build_device", None) or backend.default_device()
            # constants, not weights (as in Keras); non-persistent buffers so `.to(device)` moves them
            self.register_buffer(
                "_mean_const",
                mean.broadcast_to(self._broadcast_shape).to(device=device, dtype=tdtype).contiguous(),
                persistent=False,
            )
            self.register_buffer(
                "_variance_const",
                variance.broadcast_to(self._broadcast_shape).to(device=device, dtype=tdtype).contiguous(),
                persistent=False,
            )
        self.built = True

    def finalize_state(self) -> None:
        """Kept for Keras compatibility: ``mean``/``variance`` are read from the weights at each call."""

    def _stats(self) -> tuple[torch.Tensor, torch.Tensor]:
        if self.input_mean is None:
            # views of the live buffers: always current after adapt / set_weights / loading / .to(device)
            mean_v, var_v, _ = self._stat_vars
            return mean_v.value.reshape(self._broadcast_shape), var_v.value.reshape(self._broadcast_shape)
        return self._mean_const, self._variance_const

    @property
    def mean(self) -> torch.Tensor | None:
        """The mean broadcast to the input rank (``None`` until built)."""
        return self._stats()[0] if self._build_input_shape is not None else None

    @property
    def variance(self) -> torch.Tensor | None:
        """The variance broadcast to the input rank (``None`` until built)."""
        return self._stats()[1] if self._build_input_shape is not None else None

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        if self._build_input_shape is None:
            raise self._error(
                "to be built first",
                "a call before build",
                "Call `build(input_shape)` or `adapt(data)` on the layer before using it.",
            )
        mean, var = self._stats()
        if mean.device != inputs.device and self.input_mean is not None:
            # constants follow the data once (weights follow `.to(device)` like any module's)
            self._mean_const, self._variance_const = mean.to(inputs.device), var.to(inputs.device)
            mean, var = self._mean_const, self._variance_const
        dtype = self._compute_tdtype()
        if mean.dtype != dtype:
            mean, var = mean.to(dtype), var.to(dtype)
        std = torch.clamp(torch.sqrt(var), min=_EPSILON)
        if self.invert:
            return mean + inputs * std
        return (inputs - mean) / std

    def adapt(self, data: Any) -> None:
        """Computes ``mean`` and ``variance`` over the reduced axes of ``data``.

        Args:
            data: a NumPy array, a torch tensor, or an iterable of batches (arrays/tensors, or
                ``(x, y)`` tuples of which ``x`` is used), e.g. a list or a DataLoader.

        Raises:
            ValueError: for an empty iterable, fixed ``mean``/``variance``, or data whose kept
                axes differ from the built shape.
        """
        input_shape, data = _peek_shape(data)
        if self.input_mean is not None:
            raise self._error(
                "adapt() only without fixed `mean`/`variance`",
                "mean and variance in the constructor",
                "Create the layer without `mean`/`variance` to adapt it.",
            )
        if self._build_input_shape is None:
            self.__dict__["built"] = False
            self._maybe_build(input_shape)
        else:
            for d in self._keep_axis:
                if input_shape[d] != self._build_input_shape[d]:
                    raise self._error(
                        f"adapt() data matching the built input_shape={self._build_input_shape}",
                        f"data.shape={input_shape}",
                        "Adapt on data with the same feature axes.",
                    )
        if isinstance(data, np.ndarray):
            total_mean = np.mean(data, axis=self._reduce_axis)
            total_var = np.var(data, axis=self._reduce_axis)
        elif isinstance(data, torch.Tensor):
            x = data.detach()
            x = x.to(torch.promote_types(x.dtype, torch.float32)) if x.is_floating_point() else x.float()
            if self._reduce_axis:
                total_mean = x.mean(dim=self._reduce_axis)
                total_var = x.var(dim=self._reduce_axis, correction=0)
            else:
                total_mean, total_var = x, torch.zeros_like(x)
        else:
            total_mean, total_var = self._moments_of_batches(data)
        mean_v, var_v, _ = self._stat_vars
        mean_v.assign(torch.as_tensor(np.asarray(backend.to_numpy(total_mean)), dtype=mean_v.value.dtype))
        var_v.assign(torch.as_tensor(np.asarray(backend.to_numpy(total_var)), dtype=var_v.value.dtype))

    def _moments_of_batches(self, data: Any) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean and variance over batches, merged one batch at a time in float64."""
        total_mean = torch.zeros(self._mean_and_var_shape, dtype=torch.float64)
        total_var = torch.zeros(self._mean_and_var_shape, dtype=torch.float64)
        total_count = 0
        for batch in data:
            batch = backend.convert_to_tensor(_first_of(batch), dtype="float64", device=torch.device("cpu"))
            for d in self._keep_axis:
                if batch.shape[d] != self._build_input_shape[d]:
                    raise self._error(
                        f"batches of shape {self._build_input_shape}",
                        f"a batch of shape {tuple(batch.shape)}",
                        "Every adapt() batch must match the built feature axes.",
                    )
            if self._reduce_axis:
                batch_mean = batch.mean(dim=self._reduce_axis)
                batch_var = batch.var(dim=self._reduce_axis, correction=0)
                count = math.prod(batch.shape[d] for d in self._reduce_axis)
            else:
                batch_mean, batch_var, count = batch, torch.zeros_like(batch), 1
            total_count += count
            w_new = count / total_count
            w_old = 1.0 - w_new
            new_mean = total_mean * w_old + batch_mean * w_new
            # lack-of-fit sum of squares: both groups' variances around the new mean
            total_var = (total_var + (total_mean - new_mean) ** 2) * w_old + (
                batch_var + (batch_mean - new_mean) ** 2
            ) * w_new
            total_mean = new_mean
        return total_mean, total_var

    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(
            {
                "axis": self.axis,
                "invert": self.invert,
                "mean": np.array(self.input_mean).tolist(),
                "variance": np.array(self.input_variance).tolist(),
            }
        )
        return config

    def get_build_config(self) -> dict[str, Any] | None:
        if self._build_input_shape:
            return {"input_shape": self._build_input_shape}
        return None

    def build_from_config(self, config: dict[str, Any]) -> None:
        if config and config.get("input_shape") is not None:
            self.__dict__["built"] = False
            self._maybe_build(tuple(config["input_shape"]))

    def extra_repr(self) -> str:
        return f"name={self.name!r}, axis={self.axis}, invert={self.invert}"


def _peek_shape(data: Any) -> tuple[tuple[int, ...], Any]:
    """The shape of ``data`` (an array, or the first batch of an iterable) and the data to read."""
    if isinstance(data, (np.ndarray, torch.Tensor)):
        return tuple(data.shape), data
    if hasattr(data, "__iter__") and not isinstance(data, (str, bytes, dict)):
        it = iter(data)
        first = next(it, None)
        if first is None:
            raise ValueError(
                "adapt() received an empty iterable (no batches). Expected at least one batch, "
                "e.g. layer.adapt([x]) or layer.adapt(list_of_batches)."
            )
        first = _first_of(first)
        if not hasattr(first, "shape"):
            raise TypeError(
                "adapt() expects an iterable that yields arrays or tensors with a `.shape` "
                f"attribute. Got an element of type {type(first).__name__}."
            )
        return tuple(first.shape), itertools.chain([first], it)
    raise TypeError(
        f"Unsupported data type: {type(data)}. `adapt` supports NumPy arrays, torch tensors "
        "and iterables of batches (e.g. a list, a generator or a DataLoader)."
    )
