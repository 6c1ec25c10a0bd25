"""Regression metrics: mean errors, ``RootMeanSquaredError``, ``CosineSimilarity``, ``LogCoshError``, ``R2Score``."""

from __future__ import annotations

import warnings
from typing import Any

import torch

from lamina.losses.loss import squeeze_or_expand_to_same_rank, to_tensor
from lamina.losses.loss_functions import (
    log_cosh,
    mean_absolute_error,
    mean_absolute_percentage_error,
    mean_squared_error,
    mean_squared_logarithmic_error,
    normalize,
)
from lamina.metrics.metric import Metric
from lamina.metrics.reduction_metrics import Mean, MeanMetricWrapper


def cosine_similarity(y_true: Any, y_pred: Any, axis: int = -1) -> torch.Tensor:
    """Cosine similarity along ``axis`` (1 for identical directions; the metric's sign)."""
    y_pred = to_tensor(y_pred)
    y_true = to_tensor(y_true, dtype=y_pred.dtype, device=y_pred.device)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    return torch.sum(normalize(y_true, axis) * normalize(y_pred, axis), dim=axis)


class _NameDtypeConfig(MeanMetricWrapper):
    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, "dtype": self.dtype}


class MeanSquaredError(_NameDtypeConfig):
    """Mean of squared errors.

    Example:
        >>> import lamina
        >>> float(lamina.metrics.MeanSquaredError()([[0, 1], [0, 0]], [[1, 1], [0, 0]]))
        0.25
    """

    def __init__(self, name: str = "mean_squared_error", dtype: Any = None) -> None:
        super().__init__(fn=mean_squared_error, name=name, dtype=dtype)
        self._direction = "down"


class MeanAbsoluteError(_NameDtypeConfig):
    """Mean of absolute errors."""

    def __init__(self, name: str = "mean_absolute_error", dtype: Any = None) -> None:
        super().__init__(mean_absolute_error, name, dtype=dtype)
        self._direction = "down"


class MeanAbsolutePercentageError(_NameDtypeConfig):
    """Mean absolute percentage error."""

    def __init__(self, name: str = "mean_absolute_percentage_error", dtype: Any = None) -> None:
        super().__init__(mean_absolute_percentage_error, name, dtype=dtype)
        self._direction = "down"


class MeanSquaredLogarithmicError(_NameDtypeConfig):
    """Mean squared logarithmic error."""

    def __init__(self, name: str = "mean_squared_logarithmic_error", dtype: Any = None) -> None:
        super().__init__(mean_squared_logarithmic_error, name, dtype=dtype)
        self._direction = "down"


class CosineSimilarity(_NameDtypeConfig):
    """Mean cosine similarity between labels and predictions.

    Args:
        name: metric name.
        dtype: state dtype.
        axis: the axis along which the similarity is computed (default -1; not part of the config, as Keras).
    """

    def __init__(self, name: str = "cosine_similarity", dtype: Any = None, axis: int = -1) -> None:
        super().__init__(cosine_similarity, name, dtype=dtype, axis=axis)
        self._direction = "up"


class LogCoshError(_NameDtypeConfig):
    """Mean of ``log(cosh(y_pred - y_true))``."""

    def __init__(self, name: str = "logcosh", dtype: Any = None) -> None:
        super().__init__(log_cosh, name, dtype=dtype)
        self._direction = "down"


class RootMeanSquaredError(Mean):
    """Square root of the mean squared error.

    Example:
        >>> import lamina
        >>> float(lamina.metrics.RootMeanSquaredError()([[0, 1], [0, 0]], [[1, 1], [0, 0]]))
        0.5
    """

    def __init__(self, name: str = "root_mean_squared_error", dtype: Any = None) -> None:
        super().__init__(name, dtype=dtype)
        self._direction = "down"

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        """Accumulates squared errors."""
        y_true = self._tensor(y_true, dtype=self.dtype)
        y_pred = self._tensor(y_pred, dtype=self.dtype)
        y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
        super().update_state(torch.square(y_pred - y_true), sample_weight=sample_weight)

    def result(self) -> torch.Tensor:
        return torch.sqrt(super().result())


class R2Score(Metric):
    """Coefficient of determination ``1 - SS_res / SS_tot`` per output, aggregated.

    Args:
        class_aggregation: ``"uniform_average"`` (default), ``"variance_weighted_average"`` or ``None``
            (one score per output).
        num_regressors: number of independent regressors, for the adjusted R2 (0: plain R2).
        name: metric name.
        dtype: state dtype.

    Input shape:
        ``y_true`` and ``y_pred`` of shape ``(batch_size, num_outputs)``.

    Example:
        >>> import lamina
        >>> m = lamina.metrics.R2Score()
        >>> round(float(m([[1.0], [2.0], [3.0]], [[1.0], [2.0], [4.0]])), 4)
        0.5
    """

    def __init__(
        self,
        class_aggregation: str | None = "uniform_average",
        num_regressors: int = 0,
        name: str = "r2_score",
        dtype: Any = None,
    ) -> None:
        super().__init__(name=name, dtype=dtype)
        self._direction = "up"
        valid = (None, "uniform_average", "variance_weighted_average")
        if class_aggregation not in valid:
            raise ValueError(
                f"Invalid value for argument `class_aggregation`. Expected one of {valid}. "
                f"Received: class_aggregation={class_aggregation}"
            )
        if num_regressors < 0:
            raise ValueError(
                "Invalid value for argument `num_regressors`. Expected a value >= 0. "
                f"Received: num_regressors={num_regressors}"
            )
        self.class_aggregation = class_aggregation
        self.num_regressors = num_regressors
        self.num_samples = self.add_variable(shape=(), initializer="zeros", name="num_samples")
        self._built = False

    def _build(self, y_true_shape: tuple, y_pred_shape: tuple) -> None:
        if len(y_pred_shape) != 2 or len(y_true_shape) != 2:
            raise ValueError(
                "R2Score expects 2D inputs with shape (batch_size, output_dim). Received input "
                f"shapes: y_pred.shape={tuple(y_pred_shape)} and y_true.shape={tuple(y_true_shape)}."
            )
        n = y_pred_shape[-1]
        self.squared_sum = self.add_variable(name="squared_sum", shape=(n,), initializer="zeros")
        self.sum = self.add_variable(name="sum", shape=(n,), initializer="zeros")
        self.total_mse = self.add_variable(name="residual", shape=(n,), initializer="zeros")
        self.count = self.add_variable(name="count", shape=(n,), initializer="zeros")
        self._built = True

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        """Accumulates sums, squared sums, residuals and weights per output."""
        y_true = self._tensor(y_true, dtype=self.dtype)
        y_pred = self._tensor(y_pred, dtype=self.dtype)
        y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
        if not self._built:
            self._build(tuple(y_true.shape), tuple(y_pred.shape))
        if sample_weight is None:
            sample_weight = torch.ones((), dtype=y_true.dtype, device=y_true.device)
        else:
            sample_weight = self._tensor(sample_weight, dtype=self.dtype)
        if sample_weight.ndim == 1:
            sample_weight = sample_weight.unsqueeze(1)
        sample_weight = torch.broadcast_to(sample_weight, y_true.shape).to(y_true.dtype)
        weighted_y_true = y_true * sample_weight
        self.sum.value.add_(torch.sum(weighted_y_true, dim=0))
        self.squared_sum.value.add_(torch.sum(y_true * weighted_y_true, dim=0))
        self.total_mse.value.add_(torch.sum((y_true - y_pred) ** 2 * sample_weight, dim=0))
        self.count.value.add_(torch.sum(sample_weight, dim=0))
        self.num_samples.value.add_(y_true.numel())

    def result(self) -> torch.Tensor:
        mean = self.sum.value / self.count.value
        total = self.squared_sum.value - self.sum.value * mean
        raw_scores = 1 - (self.total_mse.value / total)
        raw_scores = torch.where(torch.isinf(raw_scores), 0.0, raw_scores)
        if self.class_aggregation == "uniform_average":
            r2 = torch.mean(raw_scores)
        elif self.class_aggregation == "variance_weighted_average":
            r2 = torch.sum(total * raw_scores) / torch.sum(total)
        else:
            r2 = raw_scores
        if self.num_regressors != 0:
            n = float(self.num_samples.value)  # host sync, only for the adjusted score
            p = float(self.num_regressors)
            if p > n - 1:
                warnings.warn(
                    "More independent predictors than datapoints in adjusted R2 score. Falling back to "
                    "standard R2 score.",
                    stacklevel=2,
                )
            elif p == n - 1:
                warnings.warn("Division by zero in Adjusted R2 score. Falling back to standard R2 score.", stacklevel=2)
            else:
                r2 = 1.0 - (1.0 - r2) * (n - 1.0) / (n - p - 1.0)
        return r2

    def reset_state(self) -> None:
        super().reset_state()

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "name": self.name,
            "dtype": self.dtype,
            "class_aggregation": self.class_aggregation,
            "num_regressors": self.num_regressors,
        }
