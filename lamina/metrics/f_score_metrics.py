"""F-score metrics: ``FBetaScore`` and ``F1Score`` for multi-class / multi-label classification."""

from __future__ import annotations

from typing import Any

import torch

from lamina import backend
from lamina.losses.loss import EPSILON
from lamina.metrics.metric import Metric


class FBetaScore(Metric):
    """F-beta score ``(1 + b^2) * P * R / (b^2 * P + R)`` per class, or averaged.

    Args:
        average: ``None`` (one score per class), ``"micro"`` (global counts), ``"macro"`` (mean of class
            scores) or ``"weighted"`` (mean weighted by class support).
        beta: weight of recall relative to precision (a Python float > 0).
        threshold: predictions above it are positive; ``None`` takes the arg-max of each row.
        name: metric name.
        dtype: state dtype.

    Input shape:
        ``y_true`` and ``y_pred`` of shape ``(batch_size, num_classes)``.

    Example:
        >>> import lamina
        >>> m = lamina.metrics.FBetaScore(beta=2.0, threshold=0.5, average="micro")
        >>> round(float(m([[1, 0], [0, 1]], [[0.9, 0.2], [0.6, 0.7]])), 4)
        0.9091
    """

    def __init__(
        self,
        average: str | None = None,
        beta: float = 1.0,
        threshold: float | None = None,
        name: str = "fbeta_score",
        dtype: Any = None,
    ) -> None:
        super().__init__(name=name, dtype=dtype)
        self._direction = "up"
        if average not in (None, "micro", "macro", "weighted"):
            raise ValueError(
                "Invalid `average` argument value. Expected one of: {None, 'micro', 'macro', "
                f"'weighted'}}. Received: average={average}"
            )
        if not isinstance(beta, float):
            raise ValueError(
                f"Invalid `beta` argument value. It should be a Python float. Received: beta={beta} "
                f"of type '{type(beta)}'"
            )
        if beta <= 0.0:
            raise ValueError(f"Invalid `beta` argument value. It should be > 0. Received: beta={beta}")
        if threshold is not None:
            if not isinstance(threshold, float):
                raise ValueError(
                    "Invalid `threshold` argument value. It should be a Python float. "
                    f"Received: threshold={threshold} of type '{type(threshold)}'"
                )
            if threshold > 1.0 or threshold <= 0.0:
                raise ValueError(
                    "Invalid `threshold` argument value. It should verify 0 < threshold <= 1. "
                    f"Received: threshold={threshold}"
                )
        self.average = average
        self.beta = beta
        self.threshold = threshold
        self.axis = None if average == "micro" else 0
        self._built = False

    def _build(self, y_true_shape: tuple, y_pred_shape: tuple) -> None:
        if len(y_pred_shape) != 2 or len(y_true_shape) != 2:
            raise ValueError(
                f"{type(self).__name__} expects 2D inputs with shape (batch_size, output_dim). "
                f"Received input shapes: y_pred.shape={tuple(y_pred_shape)} and "
                f"y_true.shape={tuple(y_true_shape)}."
            )
        shape = (y_pred_shape[-1],) if self.average != "micro" else ()
        for name in ("true_positives", "false_positives", "false_negatives", "intermediate_weights"):
            setattr(self, name, self.add_variable(name=name, shape=shape, initializer="zeros", dtype=self.dtype))
        self._built = True

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        """Accumulates per-class true positives, false positives, false negatives and supports."""
        y_true = self._tensor(y_true, dtype=self.dtype)
        y_pred = self._tensor(y_pred, dtype=self.dtype)
        if not self._built:
            self._build(tuple(y_true.shape), tuple(y_pred.shape))
        if self.threshold is None:
            threshold = torch.amax(y_pred, dim=-1, keepdim=True)
            # [0, 0, 0] must not become [1, 1, 1]
            y_pred = (y_pred >= threshold) & (torch.abs(y_pred) > 1e-9)
        else:
            y_pred = y_pred > self.threshold
        tdtype = backend.torch_dtype(self.dtype)
        y_pred = y_pred.to(tdtype)
        weights = None if sample_weight is None else self._tensor(sample_weight, dtype=self.dtype).unsqueeze(1)

        def weighted_sum(val: torch.Tensor) -> torch.Tensor:
            if weights is not None:
                val = val * weights
            return torch.sum(val) if self.axis is None else torch.sum(val, dim=self.axis)

        self.true_positives.value.add_(weighted_sum(y_pred * y_true))
        self.false_positives.value.add_(weighted_sum(y_pred * (1 - y_true)))
        self.false_negatives.value.add_(weighted_sum((1 - y_pred) * y_true))
        self.intermediate_weights.value.add_(weighted_sum(y_true))

    def result(self) -> torch.Tensor:
        tp, fp, fn = self.true_positives.value, self.false_positives.value, self.false_negatives.value
        precision = tp / (tp + fp + EPSILON)
        recall = tp / (tp + fn + EPSILON)
        b2 = self.beta**2
        f_score = precision * recall / (b2 * precision + recall + EPSILON) * (1 + b2)
        if self.average == "weighted":
            w = self.intermediate_weights.value
            f_score = torch.sum(f_score * (w / (torch.sum(w) + EPSILON)))
        elif self.average is not None:
            f_score = torch.mean(f_score)
        return f_score

    def reset_state(self) -> None:
        if self._built:
            super().reset_state()

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "name": self.name,
            "dtype": self.dtype,
            "average": self.average,
            "beta": self.beta,
            "threshold": self.threshold,
        }


class F1Score(FBetaScore):
    """F1 score: the harmonic mean of precision and recall (``FBetaScore`` with ``beta=1``).

    Args:
        average, threshold, name, dtype: as :class:`FBetaScore`.

    Example:
        >>> import lamina
        >>> m = lamina.metrics.F1Score(threshold=0.5, average="macro")
        >>> round(float(m([[1, 0], [0, 1]], [[0.9, 0.2], [0.6, 0.7]])), 4)
        0.8333
    """

    def __init__(
        self, average: str | None = None, threshold: float | None = None, name: str = "f1_score", dtype: Any = None
    ) -> None:
        super().__init__(average=average, beta=1.0, threshold=threshold, name=name, dtype=dtype)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        del config["beta"]
        return config
