"""Correlation metrics: Pearson and concordance correlation, averaged over samples."""

from __future__ import annotations

from typing import Any

import torch

from lamina.losses.loss import EPSILON, squeeze_or_expand_to_same_rank, to_tensor
from lamina.metrics.reduction_metrics import MeanMetricWrapper


def _pair(y_true: Any, y_pred: Any) -> tuple[torch.Tensor, torch.Tensor]:
    y_pred = to_tensor(y_pred)
    y_true = to_tensor(y_true, dtype=y_pred.dtype, device=y_pred.device)
    return squeeze_or_expand_to_same_rank(y_true, y_pred)


def pearson_correlation(y_true: Any, y_pred: Any, axis: int = -1) -> torch.Tensor:
    """Pearson correlation coefficient along ``axis`` (population statistics)."""
    y_true, y_pred = _pair(y_true, y_pred)
    t = y_true - torch.mean(y_true, dim=axis, keepdim=True)
    p = y_pred - torch.mean(y_pred, dim=axis, keepdim=True)
    t = t / torch.std(t, dim=axis, keepdim=True, correction=0)
    p = p / torch.std(p, dim=axis, keepdim=True, correction=0)
    return torch.mean(t * p, dim=axis)


def concordance_correlation(y_true: Any, y_pred: Any, axis: int = -1) -> torch.Tensor:
    """Concordance correlation coefficient along ``axis``, as Keras computes it."""
    y_true, y_pred = _pair(y_true, y_pred)
    t_mean = torch.mean(y_true, dim=axis, keepdim=True)
    p_mean = torch.mean(y_pred, dim=axis, keepdim=True)
    t_var = torch.var(y_true - t_mean, dim=axis, keepdim=True, correction=0)
    p_var = torch.var(y_pred - p_mean, dim=axis, keepdim=True, correction=0)
    covar = (y_true - p_mean) * (y_pred - p_mean)
    norm = t_var + p_var + torch.square(t_mean - p_mean)
    return torch.mean(2 * covar / (norm + EPSILON), dim=axis)


class PearsonCorrelation(MeanMetricWrapper):
    """Mean Pearson correlation between labels and predictions (per sample, along ``axis``).

    Args:
        name: metric name.
        dtype: state dtype.
        axis: the axis the correlation is taken along (default -1).
    """

    def __init__(self, name: str = "pearson_correlation", dtype: Any = None, axis: int = -1) -> None:
        super().__init__(fn=pearson_correlation, name=name, dtype=dtype, axis=axis)
        self.axis = axis
        self._direction = "up"

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, "dtype": self.dtype, "axis": self.axis}


class ConcordanceCorrelation(MeanMetricWrapper):
    """Mean concordance correlation between labels and predictions (per sample, along ``axis``).

    Args:
        name: metric name.
        dtype: state dtype.
        axis: the axis the correlation is taken along (default -1).
    """

    def __init__(self, name: str = "concordance_correlation", dtype: Any = None, axis: int = -1) -> None:
        super().__init__(fn=concordance_correlation, name=name, dtype=dtype, axis=axis)
        self.axis = axis
        self._direction = "up"

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, "dtype": self.dtype, "axis": self.axis}
