"""Regularization layers: Dropout and its spatial variants, GaussianNoise, GaussianDropout, AlphaDropout,
ActivityRegularization.

The noise layers act only when called with ``training=True`` (``fit`` does this; so does an outer
call with ``training=True`` or a module put in ``.train()`` mode); otherwise they return their
input unchanged. With a ``seed`` the noise comes from the layer's own ``torch.Generator``, so a
freshly built layer repeats the same sequence of masks; without one it comes from torch's global
generator (``lamina.utils.set_random_seed``).
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import torch
import torch.nn.functional as F

from lamina import regularizers
from lamina.layers.argument_validation import standardize_data_format
from lamina.layers.input_spec import InputSpec
from lamina.layers.layer import Layer


def _check_rate(name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 <= value <= 1:
        raise ValueError(
            f"Invalid value received for argument `{name}`. Expected a float value between 0 and 1. "
            f"Received: {name}={value}"
        )


def _check_seed(seed: Any) -> None:
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        raise ValueError(f"Argument `seed` must be an integer or None. Received: seed={seed!r}")


class _SeededNoise(Layer):
    """Holds the optional per-device ``torch.Generator`` of a seeded noise layer."""

    seed: int | None

    def _generator(self, device: torch.device) -> torch.Generator | None:
        if self.seed is None or device.type == "meta":
            return None
        gens = self.__dict__.setdefault("_generators", {})
        key = str(device)
        if key not in gens:
            gens[key] = torch.Generator(device=device).manual_seed(int(self.seed))
        return gens[key]

    def _uniform(self, shape: tuple, like: torch.Tensor) -> torch.Tensor:
        return torch.rand(shape, generator=self._generator(like.device), device=like.device, dtype=like.dtype)

    def _normal(self, like: torch.Tensor, mean: float, stddev: float) -> torch.Tensor:
        noise = torch.randn(like.shape, generator=self._generator(like.device), device=like.device, dtype=like.dtype)
        return noise.mul_(stddev).add_(mean) if mean else noise.mul_(stddev)

    def _concrete_noise_shape(self, inputs: torch.Tensor, noise_shape: tuple | None) -> tuple:
        shape = tuple(inputs.shape)
        if noise_shape is None:
            return shape
        if len(noise_shape) != len(shape):
            raise self._error(
                f"inputs of rank {len(noise_shape)} to match noise_shape={noise_shape}",
                f"inputs of shape {shape}",
                "Give `noise_shape` one entry per input axis.",
            )
        out = tuple(s if n is None else n for n, s in zip(noise_shape, shape))
        if any(n != 1 and n != s for n, s in zip(out, shape)):
            raise self._error(
                f"inputs that noise_shape={noise_shape} broadcasts to",
                f"inputs of shape {shape}",
                "Each `noise_shape` entry must be 1, None, or the input's size on that axis.",
            )
        return out

    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape


class Dropout(_SeededNoise):
    """Sets a random fraction ``rate`` of the inputs to 0 during training and scales the rest by
    ``1 / (1 - rate)``, so the expected sum is unchanged. Inference returns the input unchanged.

    Args:
        rate: float in ``[0, 1]``, the fraction of the inputs to drop.
        noise_shape: optional tuple, the shape of the binary mask broadcast over the input
            (``None`` entries take the input's size), e.g. ``(None, 1, features)`` drops the same
            features at every time step.
        seed: optional int, for a reproducible sequence of masks.

    Example:
        >>> import torch, lamina
        >>> layer = lamina.layers.Dropout(0.5)
        >>> layer(torch.ones(2, 3)).tolist()  # inference: identity
        [[1.0, 1.0, 1.0], [1.0, 1.0, 1.0]]
        >>> sorted(set(layer(torch.ones(100), training=True).tolist()))
        [0.0, 2.0]
    """

    def __init__(self, rate: float, noise_shape: Any = None, seed: int | None = None, **kwargs: Any) -> None:
        _check_rate("rate", rate)
        _check_seed(seed)
        noise_shape = self._validate_noise_shape(noise_shape)
        super().__init__(**kwargs)
        self.rate = rate
        self.seed = seed
        self.noise_shape = noise_shape
        self.supports_masking = True
        self.built = True

    @staticmethod
    def _validate_noise_shape(noise_shape: Any) -> tuple | None:
        if noise_shape is None:
            return None
        if isinstance(noise_shape, str):
            raise ValueError(
                "Invalid value received for argument `noise_shape`. Expected a tuple or list of "
                f"integers. Received: noise_shape={noise_shape}"
            )
        try:
            shape = tuple(noise_shape)
        except TypeError:
            raise ValueError(
                "Invalid value received for argument `noise_shape`. Expected an iterable of integers "
                f"(e.g., a tuple or list). Received: noise_shape={noise_shape}"
            ) from None
        for i, dim in enumerate(shape):
            if dim is None:
                continue
            if isinstance(dim, bool) or not isinstance(dim, int):
                raise ValueError(
                    "Invalid value received for argument `noise_shape`. Expected all elements to be "
                    f"integers or None. Received element at index {i}: {dim} "
                    f"(type: {type(dim).__name__})"
                )
            if dim <= 0:
                raise ValueError(
                    "Invalid value received for argument `noise_shape`. Expected all dimensions to "
                    f"be positive integers or None. Received negative or zero value at index {i}: {dim}"
                )
        return shape

    def _noise_shape(self, inputs: torch.Tensor) -> tuple | None:
        return self.noise_shape

    def call(self, inputs: torch.Tensor, training: bool | None = None) -> torch.Tensor:
        if not training or self.rate == 0:
            return inputs
        if self.rate == 1:
            return torch.zeros_like(inputs)
        noise_shape = self._noise_shape(inputs)
        if noise_shape is None and self.seed is None and inputs.device.type != "cpu":
            return F.dropout(inputs, self.rate, training=True)  # torch's fused kernel (on CPU, bernoulli_ is slow)
        keep = 1.0 - self.rate
        shape = self._concrete_noise_shape(inputs, noise_shape)
        # a small (noise_shape) mask already scaled by 1/keep, broadcast in one multiply
        scale = (self._uniform(shape, inputs) < keep).to(inputs.dtype).mul_(1.0 / keep)
        return inputs * scale

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update({"rate": self.rate, "seed": self.seed, "noise_shape": self.noise_shape})
        return config

    def extra_repr(self) -> str:
        return f"name={self.name!r}, rate={self.rate}"


class _SpatialDropout(Dropout):
    """Dropout of whole channels: the mask is 1 along every spatial axis."""

    rank = 0

    def __init__(
        self,
        rate: float,
        data_format: str | None = None,
        seed: int | None = None,
        name: str | None = None,
        dtype: Any = None,
    ) -> None:
        super().__init__(rate, seed=seed, name=name, dtype=dtype)
        self.data_format = standardize_data_format(data_format)
        self.input_spec = InputSpec(ndim=self.rank + 2)

    def _noise_shape(self, inputs: torch.Tensor) -> tuple:
        n = inputs.shape[0]
        if self.data_format == "channels_first":
            return (n, inputs.shape[1], *([1] * self.rank))
        return (n, *([1] * self.rank), inputs.shape[-1])

    def get_config(self) -> dict[str, Any]:
        # Keras's schema for these layers: no "trainable", dtype as a plain name
        config = {"rate": self.rate, "seed": self.seed, "name": self.name, "dtype": self.dtype_policy.name}
        if self.rank > 1:
            config["data_format"] = self.data_format
        return config


class SpatialDropout1D(_SpatialDropout):
    """Drops whole feature channels of ``(batch, steps, channels)`` inputs during training.

    Args:
        rate: float in ``[0, 1]``, the fraction of channels to drop.
        seed: optional int, for reproducible masks.

    Example:
        >>> import torch, lamina
        >>> y = lamina.layers.SpatialDropout1D(0.5, seed=1)(torch.ones(1, 4, 6), training=True)
        >>> bool((y == y[:, :1]).all())  # each channel kept or dropped at every step
        True
    """

    rank = 1

    def __init__(self, rate: float, seed: int | None = None, name: str | None = None, dtype: Any = None) -> None:
        super().__init__(rate, None, seed=seed, name=name, dtype=dtype)


class SpatialDropout2D(_SpatialDropout):
    """Drops whole feature maps of image batches during training.

    Args:
        rate: float in ``[0, 1]``, the fraction of channels to drop.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
        seed: optional int, for reproducible masks.

    Example:
        >>> import torch, lamina
        >>> lamina.layers.SpatialDropout2D(0.5)(torch.ones(1, 2, 2, 3)).shape
        torch.Size([1, 2, 2, 3])
    """

    rank = 2

    def __init__(
        self,
        rate: float,
        data_format: str | None = None,
        seed: int | None = None,
        name: str | None = None,
        dtype: Any = None,
    ) -> None:
        super().__init__(rate, data_format, seed=seed, name=name, dtype=dtype)


class SpatialDropout3D(_SpatialDropout):
    """Drops whole feature volumes of 3D batches during training.

    Args:
        rate: float in ``[0, 1]``, the fraction of channels to drop.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
        seed: optional int, for reproducible masks.

    Example:
        >>> import torch, lamina
        >>> lamina.layers.SpatialDropout3D(0.5)(torch.ones(1, 2, 2, 2, 3)).shape
        torch.Size([1, 2, 2, 2, 3])
    """

    rank = 3

    def __init__(
        self,
        rate: float,
        data_format: str | None = None,
        seed: int | None = None,
        name: str | None = None,
        dtype: Any = None,
    ) -> None:
        super().__init__(rate, data_format, seed=seed, name=name, dtype=dtype)


class GaussianNoise(_SeededNoise):
    """Adds zero-centred Gaussian noise of standard deviation ``stddev`` during training.

    Args:
        stddev: float in ``[0, 1]``.
        seed: optional int, for reproducible noise.

    Example:
        >>> import torch, lamina
        >>> lamina.layers.GaussianNoise(0.1)(torch.ones(2)).tolist()  # inference: identity
        [1.0, 1.0]
    """

    def __init__(self, stddev: float, seed: int | None = None, **kwargs: Any) -> None:
        _check_rate("stddev", stddev)
        _check_seed(seed)
        super().__init__(**kwargs)
        self.stddev = stddev
        self.seed = seed
        self.supports_masking = True
        self.built = True

    def call(self, inputs: torch.Tensor, training: bool | None = None) -> torch.Tensor:
        if training and self.stddev > 0:
            return inputs + self._normal(inputs, 0.0, self.stddev)
        return inputs

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update({"stddev": self.stddev, "seed": self.seed})
        return config


class GaussianDropout(_SeededNoise):
    """Multiplies the inputs by Gaussian noise of mean 1 and standard deviation
    ``sqrt(rate / (1 - rate))`` during training.

    Args:
        rate: float in ``[0, 1)`` for training (``1`` is accepted but cannot be used in training).
        seed: optional int, for reproducible noise.

    Example:
        >>> import torch, lamina
        >>> lamina.layers.GaussianDropout(0.2)(torch.ones(2)).tolist()
        [1.0, 1.0]
    """

    def __init__(self, rate: float, seed: int | None = None, **kwargs: Any) -> None:
        _check_rate("rate", rate)
        _check_seed(seed)
        super().__init__(**kwargs)
        self.rate = rate
        self.seed = seed
        self.supports_masking = True
        self.built = True

    def call(self, inputs: torch.Tensor, training: bool | None = None) -> torch.Tensor:
        if training and self.rate > 0:
            if self.rate >= 1:
                raise self._error("rate < 1 in training", "rate=1", "Use a rate below 1.")
            return inputs * self._normal(inputs, 1.0, math.sqrt(self.rate / (1.0 - self.rate)))
        return inputs

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update({"rate": self.rate, "seed": self.seed})
        return config


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


class AlphaDropout(_SeededNoise):
    """Dropout that keeps the mean and variance of its inputs (for SELU networks): dropped values
    are set to SELU's negative saturation value, then an affine map restores the statistics.

    Args:
        rate: float in ``[0, 1)`` for training, the fraction of the inputs to drop.
        noise_shape: optional mask shape broadcast over the input (``None`` entries: input size).
        seed: optional int, for reproducible masks.

    Example:
        >>> import torch, lamina
        >>> lamina.layers.AlphaDropout(0.2)(torch.ones(2)).tolist()
        [1.0, 1.0]
    """

    def __init__(self, rate: float, noise_shape: Any = None, seed: int | None = None, **kwargs: Any) -> None:
        _check_rate("rate", rate)
        _check_seed(seed)
        super().__init__(**kwargs)
        self.rate = rate
        self.seed = seed
        self.noise_shape = None if noise_shape is None else tuple(noise_shape)
        self.supports_masking = True
        self.built = True

    def call(self, inputs: torch.Tensor, training: bool | None = None) -> torch.Tensor:
        if not training or self.rate == 0:
            return inputs
        if self.rate >= 1:
            raise self._error("rate < 1 in training", "rate=1", "Use a rate below 1.")
        alpha_p = -_SELU_ALPHA * _SELU_SCALE
        shape = self._concrete_noise_shape(inputs, self.noise_shape)
        kept = (self._uniform(shape, inputs) >= self.rate).to(inputs.dtype)
        a = ((1 - self.rate) * (1 + self.rate * alpha_p**2)) ** -0.5
        b = -a * alpha_p * self.rate
        x = inputs * kept + alpha_p * (1 - kept)
        return a * x + b

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update({"rate": self.rate, "seed": self.seed, "noise_shape": self.noise_shape})
        return config


class ActivityRegularization(Layer):
    """Returns its input unchanged and adds ``l1 * sum(|x|) + l2 * sum(x**2)`` (divided by the batch
    size) to ``losses``.

    Args:
        l1: non-negative L1 factor.
        l2: non-negative L2 factor.

    Example:
        >>> import torch, lamina
        >>> layer = lamina.layers.ActivityRegularization(l1=0.5)
        >>> layer(torch.ones(2, 3)).shape
        torch.Size([2, 3])
        >>> float(layer.losses[0])  # 0.5 * 6 / batch 2
        1.5
    """

    def __init__(self, l1: float = 0.0, l2: float = 0.0, **kwargs: Any) -> None:
        kwargs.pop("activity_regularizer", None)
        super().__init__(activity_regularizer=regularizers.L1L2(l1=l1, l2=l2), **kwargs)
        self.l1 = l1
        self.l2 = l2
        self.supports_masking = True
        self.built = True

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        return inputs

    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.pop("activity_regularizer", None)
        config.update({"l1": self.l1, "l2": self.l2})
        return config
