"""``keras.optimizers.legacy``: Keras 2's optimizers, which Keras 3 (and Lamina) do not have.

Each name is there so old code fails with Keras 3's explanation instead of an ``AttributeError``.

Example:
    >>> import lamina
    >>> lamina.optimizers.legacy.Adam()  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ImportError: `keras.optimizers.legacy` is not supported in Keras 3...
"""

from __future__ import annotations

from typing import Any


class LegacyOptimizerWarning:
    """Stands for every ``keras.optimizers.legacy`` class: making one raises ``ImportError``, as in Keras 3."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise ImportError(
            "`keras.optimizers.legacy` is not supported in Keras 3 (nor in Lamina, which follows its API). Use the "
            "optimizer of the same name in `keras.optimizers` (e.g. `keras.optimizers.Adam`); saved tf.keras 2 "
            "optimizer states load into those."
        )


Adagrad = Adam = Ftrl = Optimizer = RMSprop = SGD = LegacyOptimizerWarning

__all__ = ["SGD", "Adagrad", "Adam", "Ftrl", "Optimizer", "RMSprop"]
