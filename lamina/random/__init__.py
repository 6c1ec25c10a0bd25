"""``lamina.random``: Keras's random draws (``keras.random``) and ``SeedGenerator``.

An ``int`` seed gives the same numbers on every call; a :class:`SeedGenerator` gives a new,
reproducible draw on each call; ``None`` uses the process-wide generator (reset by
``lamina.utils.set_random_seed``). Numbers equal Keras's (torch backend) for the same seed and device.

Example:
    >>> from lamina import random
    >>> a = random.normal((2,), seed=7)
    >>> b = random.normal((2,), seed=7)
    >>> bool((a == b).all())
    True
"""

from lamina.random.distributions import (
    beta,
    binomial,
    categorical,
    dropout,
    gamma,
    normal,
    randint,
    shuffle,
    truncated_normal,
    uniform,
)
from lamina.random.seed_generator import SeedGenerator

__all__ = [
    "SeedGenerator",
    "beta",
    "binomial",
    "categorical",
    "dropout",
    "gamma",
    "normal",
    "randint",
    "shuffle",
    "truncated_normal",
    "uniform",
]
