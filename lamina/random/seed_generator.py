"""``SeedGenerator``: the state behind reproducible random draws, as ``keras.random.SeedGenerator``.

Keras's random ops are stateless: an integer ``seed`` gives the same numbers on every call. A
``SeedGenerator`` holds a ``[seed, counter]`` state that advances on each draw, so repeated calls
differ and the whole sequence repeats from the same starting seed. Each draw seeds a fresh
``torch.Generator`` on the target device with ``(seed + counter) mod 2**32``, exactly as Keras's torch
backend does, so Lamina and Keras give the same numbers for the same seed on the same device.

The state lives on the CPU (never on the accelerator), so drawing a seed never waits for the GPU.
"""

from __future__ import annotations

import functools
import random as python_random
from typing import Any

import torch

from lamina import backend
from lamina.backend.core import GLOBAL_SEED_GENERATOR
from lamina.backend.naming import auto_name
from lamina.variable import Variable

_CPU = torch.device("cpu")


class SeedGenerator:
    """Generates a new seed on each call of a random op that receives it.

    Args:
        seed: initial integer seed; ``None`` picks one from Python's ``random`` (so
            ``lamina.utils.set_random_seed`` makes it repeat).
        name: optional name (``seed_generator``, ``seed_generator_1``, ...).

    Example:
        >>> from lamina import random
        >>> gen = random.SeedGenerator(seed=42)
        >>> a = random.uniform((2,), seed=gen)
        >>> b = random.uniform((2,), seed=gen)
        >>> bool((a == b).all())
        False
        >>> gen.state.numpy().tolist()
        [42, 2]
    """

    def __init__(self, seed: int | None = None, name: str | None = None, **kwargs: Any) -> None:
        kwargs.pop("backend", None)  # Keras's multi-backend switch: there is one backend here
        if kwargs:
            raise ValueError(f"Unrecognized keyword arguments: {kwargs}")
        self.name = name or auto_name(type(self).__name__)
        self._initial_seed = seed
        if seed is None:
            seed = make_default_seed()
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise ValueError(f"Argument `seed` must be an integer. Received: seed={seed}")
        self.state = Variable([seed, 0], dtype="int32", trainable=False, name="seed_generator_state", device=_CPU)
        self.state.path = f"{self.name}/seed_generator_state"

    def next(self, ordered: bool = True) -> torch.Tensor:
        """Returns the current ``[seed, counter]`` state and advances it."""
        state = self.state.value
        current = state.clone()
        with torch.no_grad():
            if ordered:
                state[1] += 1
            else:
                # Keras's unordered walk: near-unique values below 933199, in int32 arithmetic
                state.copy_((state + 1) * 5387 % 933199)
        return current

    def get_config(self) -> dict[str, Any]:
        return {"seed": self._initial_seed, "name": self.name}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> SeedGenerator:
        return cls(**config)

    def __repr__(self) -> str:
        return f"<SeedGenerator name={self.name!r} seed={self._initial_seed}>"


def make_default_seed() -> int:
    """A seed from Python's global ``random`` (seeded by ``set_random_seed``), as Keras picks one."""
    return python_random.randint(1, int(1e9))


def global_seed_generator() -> SeedGenerator:
    """The generator unseeded draws use; ``set_random_seed`` replaces it."""
    gen = GLOBAL_SEED_GENERATOR[0]
    if gen is None:
        gen = GLOBAL_SEED_GENERATOR[0] = SeedGenerator()
    return gen


def draw_seed(seed: Any) -> torch.Tensor:
    """The ``[seed, counter]`` pair for ``seed`` (an int, a ``SeedGenerator`` or ``None``), as in Keras."""
    if isinstance(seed, SeedGenerator):
        return seed.next()
    if isinstance(seed, int) and not isinstance(seed, bool):
        # seeds are uint32 values stored in int32: reinterpret the bits as Keras does
        seed = (seed & 0xFFFFFFFF ^ 0x80000000) - 0x80000000
        return torch.tensor([seed, 0], dtype=torch.int32)
    if seed is None:
        return global_seed_generator().next(ordered=False)
    raise ValueError(
        "Argument `seed` must be either an integer or an instance of `SeedGenerator`. "
        f"Received: seed={seed} (of type {type(seed)})"
    )


def combined_seed(seed: Any) -> int:
    """The 32-bit integer Keras's torch backend seeds its ``torch.Generator`` with for ``seed``."""
    first, second = draw_seed(seed).tolist()
    return (first + second) & 0xFFFFFFFF


def torch_generator(seed: Any, device: torch.device | None = None) -> torch.Generator | None:
    """A fresh ``torch.Generator`` on ``device`` (default: the default device) seeded from ``seed``.

    ``None`` on the meta device, where nothing is drawn (shape inference). ``torch.compile`` does not trace it
    (a generator is made eagerly); the compiler is imported on the first call, not with Lamina (~1.4 s).
    """
    return _uncompiled_generator()(seed, device)


@functools.cache
def _uncompiled_generator() -> Any:
    """``_torch_generator`` behind ``torch._dynamo.disable``, made (and the compiler imported) on the first call."""
    import torch._dynamo

    return torch._dynamo.disable(_torch_generator)


def _torch_generator(seed: Any, device: torch.device | None) -> torch.Generator | None:
    device = torch.device(device) if device is not None else backend.default_device()
    value = combined_seed(seed)
    if device.type == "meta":
        return None
    generator = torch.Generator(device=device)
    generator.manual_seed(value)
    return generator
