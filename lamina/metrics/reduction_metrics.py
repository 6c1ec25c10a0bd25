"""Reduction metrics: ``Sum``, ``Mean`` and ``MeanMetricWrapper`` (the mean of a per-sample function)."""

from __future__ import annotations

from typing import Any

import torch

from lamina.losses.loss import apply_mask, divide_no_nan, squeeze_or_expand_to_same_rank, to_tensor
from lamina.metrics.metric import Metric


def _reduce(fn: Any, x: torch.Tensor, dims: range) -> torch.Tensor:
    return fn(x, dim=tuple(dims))


def reduce_to_samplewise_values(
    values: Any, sample_weight: Any, reduce_fn: Any, dtype: Any, device: torch.device | None = None
) -> tuple[torch.Tensor, Any]:
    """Weights ``values`` and reduces them to one value per sample (Keras's rule for ``Mean``/``Sum``)."""
    mask = getattr(values, "_keras_mask", None)
    values = to_tensor(values, dtype=dtype, device=device)
    if sample_weight is not None:
        sample_weight = to_tensor(sample_weight, dtype=dtype, device=values.device)
        if mask is not None:
            sample_weight = apply_mask(sample_weight, mask, dtype=dtype, reduction="sum")
        values, sample_weight = squeeze_or_expand_to_same_rank(values, sample_weight)
        weight_ndim, values_ndim = sample_weight.ndim, values.ndim
        if values_ndim > weight_ndim:
            values = _reduce(reduce_fn, values, range(weight_ndim, values_ndim))
        # Broadcasting here changes the later sum of weights, not the product.
        sample_weight = torch.broadcast_to(sample_weight, values.shape)
        values = values * sample_weight
        if weight_ndim > 1:
            sample_weight = _reduce(reduce_fn, sample_weight, range(1, weight_ndim))
    if values.ndim > 1:
        values = _reduce(reduce_fn, values, range(1, values.ndim))
    return values, sample_weight


class Sum(Metric):
    """The (weighted) sum of the values seen.

    Example:
        >>> import lamina
        >>> m = lamina.metrics.Sum()
        >>> m.update_state([1.0, 3.0, 5.0, 7.0])
        >>> float(m.result())
        16.0
    """

    def __init__(self, name: str = "sum", dtype: Any = None) -> None:
        super().__init__(name=name, dtype=dtype)
        self.total = self.add_variable(shape=(), initializer="zeros", dtype=self.dtype, name="total")

    def update_state(self, values: Any, sample_weight: Any = None) -> None:
        values, _ = reduce_to_samplewise_values(values, sample_weight, torch.sum, self.dtype, self.device)
        self.total.value.add_(torch.sum(values))

    def result(self) -> torch.Tensor:
        return self.total.value.clone()


class Mean(Metric):
    """The (weighted) mean of the values seen: ``total / count``.

    Example:
        >>> import lamina
        >>> m = lamina.metrics.Mean()
        >>> m.update_state([1.0, 3.0, 5.0, 7.0], sample_weight=[1, 1, 0, 0])
        >>> float(m.result())
        2.0
    """

    def __init__(self, name: str = "mean", dtype: Any = None) -> None:
        super().__init__(name=name, dtype=dtype)
        self.total = self.add_variable(shape=(), initializer="zeros", dtype=self.dtype, name="total")
        self.count = self.add_variable(shape=(), initializer="zeros", dtype=self.dtype, name="count")

    def update_state(self, values: Any, sample_weight: Any = None) -> None:
        values, sample_weight = reduce_to_samplewise_values(values, sample_weight, torch.mean, self.dtype, self.device)
        self.total.value.add_(torch.sum(values))
        if sample_weight is not None:
            self.count.value.add_(torch.sum(sample_weight))
        else:
            self.count.value.add_(values.shape[0] if values.ndim >= 1 else 1)  # a Python number: no transfer

    def result(self) -> torch.Tensor:
        return divide_no_nan(self.total.value, self.count.value)


class MeanMetricWrapper(Mean):
    """The mean of ``fn(y_true, y_pred, **kwargs)`` over all samples seen.

    Args:
        fn: a per-sample function, e.g. a loss function.
        name: metric name.
        dtype: dtype of the state.
        **kwargs: passed to ``fn``.

    Example:
        >>> import lamina
        >>> m = lamina.metrics.MeanMetricWrapper(lamina.losses.mean_absolute_error)
        >>> float(m([[0.0], [0.0]], [[1.0], [3.0]]))
        2.0
    """

    def __init__(self, fn: Any, name: str | None = None, dtype: Any = None, **kwargs: Any) -> None:
        super().__init__(name=name, dtype=dtype)
        self._fn = fn
        self._fn_kwargs = kwargs
        from lamina import losses

        if fn in losses.ALL_OBJECTS or type(fn) in losses.ALL_OBJECTS:
            self._direction = "down"  # a loss: lower is better

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        mask = getattr(y_pred, "_keras_mask", None)
        if not isinstance(y_pred, torch.Tensor):
            y_pred = self._tensor(y_pred)
        if not isinstance(y_true, torch.Tensor):
            y_true = self._tensor(y_true)
        values = self._fn(y_true, y_pred, **self._fn_kwargs)
        if sample_weight is not None:
            sample_weight = to_tensor(sample_weight, dtype=self.dtype, device=self.device)
        sample_weight = apply_mask(sample_weight, mask, dtype=self.dtype, reduction="sum")
        super().update_state(values, sample_weight=sample_weight)

    def get_config(self) -> dict[str, Any]:
        from lamina.losses.loss_functions import serialize_function

        config = {"fn": serialize_function(self._fn)}
        config.update(self._fn_kwargs)
        return {**super().get_config(), **config}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Metric:
        config = dict(config)
        if "fn" in config and not callable(config["fn"]):
            from lamina.metrics import deserialize

            config["fn"] = deserialize(config["fn"])
        return cls(**config)
