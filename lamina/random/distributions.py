"""The ``keras.random`` draws over torch tensors.

Every function takes ``seed``: an ``int`` (the same numbers on every call), a :class:`SeedGenerator`
(a new draw each call, reproducible as a sequence) or ``None`` (the process-wide generator). Draws
use the same torch calls and seeding as Keras's torch backend, so for the same seed on the same
device Lamina and Keras return the same numbers.

The ``_uniform``-style private twins take a ``device`` (the public ones use the default device):
layers draw on their input's device, so nothing crosses between host and accelerator.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F

from lamina import backend
from lamina.random.seed_generator import SeedGenerator, combined_seed, torch_generator

Shape = Sequence[int] | int


def _shape(shape: Shape) -> tuple[int, ...]:
    if isinstance(shape, int):
        return (shape,)
    return tuple(int(s) for s in shape)


def _float_dtype(dtype: Any) -> torch.dtype:
    return backend.torch_dtype(dtype or backend.floatx())


def _device(device: Any) -> torch.device:
    return torch.device(device) if device is not None else backend.default_device()


def _as_tensor(x: Any, device: torch.device) -> torch.Tensor:
    if isinstance(x, torch.Tensor):
        return x.to(device)
    value = getattr(x, "value", None)  # a lamina Variable
    if isinstance(value, torch.Tensor):
        return value.to(device)
    return backend.convert_to_tensor(x, device=device)


def normal(
    shape: Shape, mean: float = 0.0, stddev: float = 1.0, dtype: Any = None, seed: int | SeedGenerator | None = None
) -> torch.Tensor:
    """Samples from a normal distribution.

    Args:
        shape: shape of the result.
        mean, stddev: the distribution's mean and standard deviation.
        dtype: a float dtype; default ``floatx()``.
        seed: an int, a ``SeedGenerator`` or ``None``.

    Example:
        >>> from lamina import random
        >>> random.normal((2, 3), seed=1).shape
        torch.Size([2, 3])
    """
    return _normal(shape, mean, stddev, dtype, seed, None)


def _normal(shape: Shape, mean: Any, stddev: Any, dtype: Any, seed: Any, device: Any) -> torch.Tensor:
    device = _device(device)
    generator = torch_generator(seed, device)
    return torch.normal(mean, stddev, size=_shape(shape), generator=generator, dtype=_float_dtype(dtype), device=device)


def uniform(
    shape: Shape, minval: float = 0.0, maxval: float = 1.0, dtype: Any = None, seed: int | SeedGenerator | None = None
) -> torch.Tensor:
    """Samples uniformly from ``[minval, maxval)``.

    Args:
        shape: shape of the result.
        minval, maxval: the bounds (``maxval`` excluded).
        dtype: a float dtype; default ``floatx()``.
        seed: an int, a ``SeedGenerator`` or ``None``.

    Raises:
        ValueError: for a non-float ``dtype``.

    Example:
        >>> from lamina import random
        >>> x = random.uniform((4,), minval=2.0, maxval=3.0, seed=0)
        >>> bool(((x >= 2) & (x < 3)).all())
        True
    """
    if dtype and not backend.torch_dtype(dtype).is_floating_point:
        raise ValueError(f"`keras.random.uniform` requires a floating point `dtype`. Received: dtype={dtype} ")
    return _uniform(shape, minval, maxval, dtype, seed, None)


def _uniform(shape: Shape, minval: Any, maxval: Any, dtype: Any, seed: Any, device: Any) -> torch.Tensor:
    device = _device(device)
    requested = _shape(shape)
    size = requested if requested else (1,)
    generator = torch_generator(seed, device)
    draw = torch.rand(size=size, generator=generator, dtype=_float_dtype(dtype), device=device)
    out = (maxval - minval) * draw + minval  # Keras's exact arithmetic, so the numbers match
    return out[0] if not requested else out


def randint(
    shape: Shape, minval: int, maxval: int, dtype: Any = "int32", seed: int | SeedGenerator | None = None
) -> torch.Tensor:
    """Samples integers uniformly from ``[minval, maxval)``.

    Args:
        shape: shape of the result.
        minval, maxval: the bounds (``maxval`` excluded).
        dtype: an integer dtype, default ``"int32"``.
        seed: an int, a ``SeedGenerator`` or ``None``.

    Example:
        >>> from lamina import random
        >>> random.randint((3,), 0, 1, seed=0).tolist()
        [0, 0, 0]
    """
    if dtype and not _is_int_dtype(dtype):
        raise ValueError(f"`keras.random.randint` requires an integer `dtype`. Received: dtype={dtype} ")
    return _randint(shape, minval, maxval, dtype, seed, None)


def _is_int_dtype(dtype: Any) -> bool:
    name = backend.standardize_dtype(dtype)
    return name.startswith(("int", "uint"))


def _randint(shape: Shape, minval: Any, maxval: Any, dtype: Any, seed: Any, device: Any) -> torch.Tensor:
    device = _device(device)
    generator = torch_generator(seed, device)
    return torch.randint(
        low=int(minval),
        high=int(maxval),
        size=_shape(shape),
        generator=generator,
        dtype=backend.torch_dtype(dtype),
        device=device,
    )


def truncated_normal(
    shape: Shape, mean: float = 0.0, stddev: float = 1.0, dtype: Any = None, seed: int | SeedGenerator | None = None
) -> torch.Tensor:
    """Samples from a normal distribution cut at two standard deviations.

    Example:
        >>> from lamina import random
        >>> bool((random.truncated_normal((100,), seed=3).abs() < 2).all())
        True
    """
    return _truncated_normal(shape, mean, stddev, dtype, seed, None)


def _truncated_normal(shape: Shape, mean: Any, stddev: Any, dtype: Any, seed: Any, device: Any) -> torch.Tensor:
    # Keras's method: draw four candidates per value and keep the first inside (-2, 2).
    shape = _shape(shape)
    tdtype = _float_dtype(dtype)
    x = _normal((*shape, 4), 0.0, 1.0, tdtype, seed, device)
    valid = (x > -2) & (x < 2)
    index = valid.max(-1, keepdim=True)[1]
    return x.gather(-1, index).squeeze(-1) * stddev + mean


def categorical(logits: Any, num_samples: int, dtype: Any = "int32", seed: int | SeedGenerator | None = None) -> Any:
    """Draws ``num_samples`` class indices per row of ``logits`` (``(batch, num_classes)``).

    Example:
        >>> from lamina import random
        >>> random.categorical([[0.0, -1e9]], 3, seed=0).tolist()
        [[0, 0, 0]]
    """
    logits = _as_tensor(logits, backend.default_device())
    if logits.ndim != 2:
        raise ValueError(
            f"`logits` should be a 2-D tensor with shape [batch_size, num_classes]. Received: logits={logits}"
        )
    generator = torch_generator(seed, logits.device)
    probs = torch.softmax(logits, dim=-1)
    out = torch.multinomial(probs, int(num_samples), replacement=True, generator=generator)
    return out.to(backend.torch_dtype(dtype))


def dropout(inputs: Any, rate: float, noise_shape: Any = None, seed: int | SeedGenerator | None = None) -> Any:
    """Zeroes a random fraction ``rate`` of ``inputs`` and scales the rest by ``1 / (1 - rate)``.

    Example:
        >>> import torch
        >>> from lamina import random
        >>> y = random.dropout(torch.ones(8), 0.5, seed=1)
        >>> sorted(set(y.tolist())) <= [0.0, 2.0]
        True
    """
    x = _as_tensor(inputs, backend.default_device())
    if rate == 1.0:
        return torch.zeros_like(x)
    if rate == 0.0:
        return x
    seeded = seed is not None and not (isinstance(seed, SeedGenerator) and seed._initial_seed is None)
    if not seeded and noise_shape is None:
        return F.dropout(x, p=rate, training=True)  # torch's fused kernel; nothing to reproduce
    keep = 1.0 - rate
    shape = x.shape if noise_shape is None else [x.shape[i] if d is None else d for i, d in enumerate(noise_shape)]
    generator = torch_generator(seed, x.device)
    mask = torch.bernoulli(torch.full(tuple(shape), keep, device=x.device), generator=generator).bool()
    return torch.where(mask.broadcast_to(x.shape), x / keep, torch.zeros_like(x))


def shuffle(x: Any, axis: int = 0, seed: int | SeedGenerator | None = None) -> Any:
    """Shuffles ``x`` along ``axis`` (the same permutation for every index of the axes after it).

    Example:
        >>> from lamina import random
        >>> sorted(random.shuffle([1, 2, 3, 4], seed=0).tolist())
        [1, 2, 3, 4]
    """
    return _shuffle(x, axis, seed, None)


def _shuffle(x: Any, axis: int, seed: Any, device: Any) -> torch.Tensor:
    x = _as_tensor(x, _device(device) if device is not None else _tensor_device(x))
    axis = axis % x.ndim
    generator = torch_generator(seed, x.device)
    perm = torch.rand(x.shape[: axis + 1], generator=generator, device=x.device).argsort(axis)
    perm = perm.reshape(perm.shape + (1,) * (x.ndim - axis - 1)).expand(x.shape)
    return x.gather(axis, perm)


def _tensor_device(x: Any) -> torch.device:
    return x.device if isinstance(x, torch.Tensor) else backend.default_device()


def _seeded_sample(seed: Any, device: torch.device, sample: Any) -> torch.Tensor:
    """Runs ``sample()`` on torch's global generator seeded as Keras seeds it, then restores that generator."""
    value = combined_seed(seed)
    if device.type == "meta":  # shape inference: these samplers have no meta kernels, and nothing is drawn
        return torch.empty(sample.__self__.batch_shape, device=device)
    devices = []
    if device.type == "cuda":
        devices = [device.index if device.index is not None else torch.cuda.current_device()]
    with torch.random.fork_rng(devices=devices, device_type="cuda"):
        torch.manual_seed(value)
        return sample()


def gamma(shape: Shape, alpha: Any, dtype: Any = None, seed: int | SeedGenerator | None = None) -> torch.Tensor:
    """Samples from a gamma distribution of concentration ``alpha`` (rate 1).

    Example:
        >>> from lamina import random
        >>> bool((random.gamma((5,), alpha=2.0, seed=0) > 0).all())
        True
    """
    return _gamma(shape, alpha, dtype, seed, None)


def _gamma(shape: Shape, alpha: Any, dtype: Any, seed: Any, device: Any) -> torch.Tensor:
    device = _device(device)
    shape = _shape(shape)
    alpha = torch.broadcast_to(_as_tensor(alpha, device), shape)
    rate = torch.ones(shape, device=device)
    dist = torch.distributions.gamma.Gamma(alpha, rate, validate_args=False)  # validation reads values back
    return _seeded_sample(seed, device, dist.sample).to(_float_dtype(dtype))


def binomial(
    shape: Shape, counts: Any, probabilities: Any, dtype: Any = None, seed: int | SeedGenerator | None = None
) -> torch.Tensor:
    """Samples the number of successes of ``counts`` trials with success probability ``probabilities``.

    Example:
        >>> from lamina import random
        >>> random.binomial((3,), counts=5, probabilities=1.0, seed=0).tolist()
        [5.0, 5.0, 5.0]
    """
    device = backend.default_device()
    shape = _shape(shape)
    counts = torch.broadcast_to(_as_tensor(counts, device), shape)
    probabilities = torch.broadcast_to(_as_tensor(probabilities, device), shape)
    dist = torch.distributions.binomial.Binomial(total_count=counts, probs=probabilities, validate_args=False)
    return _seeded_sample(seed, device, dist.sample).to(_float_dtype(dtype))


def beta(shape: Shape, alpha: Any, beta: Any, dtype: Any = None, seed: int | SeedGenerator | None = None) -> Any:
    """Samples from a beta distribution with concentrations ``alpha`` and ``beta``.

    Example:
        >>> from lamina import random
        >>> x = random.beta((4,), alpha=2.0, beta=2.0, seed=0)
        >>> bool(((x > 0) & (x < 1)).all())
        True
    """
    return _beta(shape, alpha, beta, dtype, seed, None)


def _beta(shape: Shape, alpha: Any, beta: Any, dtype: Any, seed: Any, device: Any) -> torch.Tensor:
    device = _device(device)
    shape = _shape(shape)
    alpha = torch.broadcast_to(_as_tensor(alpha, device), shape)
    beta = torch.broadcast_to(_as_tensor(beta, device), shape)
    dist = torch.distributions.beta.Beta(concentration1=alpha, concentration0=beta, validate_args=False)
    return _seeded_sample(seed, device, dist.sample).to(_float_dtype(dtype))
