"""Losses for segmentation (``Dice``, ``Tversky``), metric learning (``Circle``) and noisy labels
(``CategoricalGeneralizedCrossEntropy``), as Keras defines them.

Example:
    >>> import lamina
    >>> round(float(lamina.losses.Dice()([[1.0, 0.0]], [[1.0, 0.0]])), 4)
    0.0
"""

from __future__ import annotations

from typing import Any

from lamina.losses.loss import (
    Loss,
)
from lamina.losses.loss_functions import (
    categorical_generalized_cross_entropy,
    circle,
    dice,
    tversky,
)
from lamina.losses.losses import LossFunctionWrapper


class Dice(LossFunctionWrapper):
    """Dice loss ``1 - 2 |A ∩ B| / (|A| + |B|)`` for segmentation.

    Args:
        axis: axes to reduce over (all if None).
    """

    def __init__(
        self, reduction: Any = "sum_over_batch_size", name: str = "dice", axis: Any = None, dtype: Any = None
    ) -> None:
        super().__init__(dice, name=name, reduction=reduction, dtype=dtype, axis=axis)
        self.axis = axis

    def get_config(self) -> dict[str, Any]:
        config = Loss.get_config(self)
        config.update({"axis": self.axis})
        return config


class Tversky(LossFunctionWrapper):
    """Tversky loss, a Dice generalization weighting false positives by ``alpha`` and false negatives by ``beta``.

    Args:
        alpha: weight of false positives.
        beta: weight of false negatives.
        axis: axes to reduce over (all if None).
    """

    def __init__(
        self,
        alpha: float = 0.5,
        beta: float = 0.5,
        reduction: Any = "sum_over_batch_size",
        name: str = "tversky",
        axis: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__(tversky, name=name, reduction=reduction, dtype=dtype, alpha=alpha, beta=beta, axis=axis)
        self.alpha = alpha
        self.beta = beta
        self.axis = axis

    def get_config(self) -> dict[str, Any]:
        config = Loss.get_config(self)
        config.update({"alpha": self.alpha, "beta": self.beta, "axis": self.axis})
        return config


class Circle(LossFunctionWrapper):
    """Circle loss for metric learning.

    Args:
        gamma: scaling factor.
        margin: relaxation margin.
        remove_diagonal: whether a sample is not its own positive.
    """

    def __init__(
        self,
        gamma: float = 80.0,
        margin: float = 0.4,
        remove_diagonal: bool = True,
        reduction: Any = "sum_over_batch_size",
        name: str = "circle",
        dtype: Any = None,
    ) -> None:
        super().__init__(
            circle,
            name=name,
            reduction=reduction,
            dtype=dtype,
            gamma=gamma,
            margin=margin,
            remove_diagonal=remove_diagonal,
        )
        self.gamma = gamma
        self.margin = margin
        self.remove_diagonal = remove_diagonal

    def get_config(self) -> dict[str, Any]:
        config = Loss.get_config(self)
        config.update({"gamma": self.gamma, "margin": self.margin, "remove_diagonal": self.remove_diagonal})
        return config


class CategoricalGeneralizedCrossEntropy(LossFunctionWrapper):
    """Generalized crossentropy, robust to noisy labels (integer labels, probabilities).

    Args:
        q: in ``(0, 1)``; towards 0 it is crossentropy, at 1 mean absolute error.
    """

    def __init__(
        self,
        q: float = 0.5,
        reduction: Any = "sum_over_batch_size",
        name: str = "categorical_generalized_cross_entropy",
        dtype: Any = None,
    ) -> None:
        if not 0 < q < 1:
            raise ValueError(f"q must be in the interval (0, 1). Received: q={q}")
        super().__init__(categorical_generalized_cross_entropy, name=name, reduction=reduction, dtype=dtype, q=q)
        self.q = q

    def get_config(self) -> dict[str, Any]:
        config = Loss.get_config(self)
        config.update({"q": self.q})
        return config
