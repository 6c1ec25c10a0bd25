"""The Keras ``Loss`` classes: each wraps a function of :mod:`lamina.losses.loss_functions` with Keras's
config, reduction, sample weights and masks (see :mod:`lamina.losses.loss`).
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from lamina import backend
from lamina.losses.loss import (
    Loss,
    squeeze_or_expand_to_same_rank,
)
from lamina.losses.loss_functions import (
    _sparse_target,
    binary_crossentropy,
    binary_focal_crossentropy,
    categorical_crossentropy,
    categorical_focal_crossentropy,
    categorical_hinge,
    cosine_similarity,
    ctc,
    hinge,
    huber,
    kl_divergence,
    log_cosh,
    mean_absolute_error,
    mean_absolute_percentage_error,
    mean_squared_error,
    mean_squared_logarithmic_error,
    poisson,
    serialize_function,
    sparse_categorical_crossentropy,
    squared_hinge,
)

# ---------------------------------------------------------------------------- Loss classes


class LossFunctionWrapper(Loss):
    """Turns a function ``fn(y_true, y_pred, **kwargs)`` into a ``Loss`` with reduction and sample weights.

    Args:
        fn: the per-sample loss function.
        reduction: see :class:`Loss`.
        name: the loss name (automatic by default).
        dtype: computation dtype.
        **kwargs: passed to ``fn`` on every call.

    Example:
        >>> import lamina
        >>> loss = lamina.losses.LossFunctionWrapper(lamina.losses.mean_absolute_error, reduction="sum")
        >>> float(loss([[0.0], [0.0]], [[1.0], [2.0]]))
        3.0
    """

    def __init__(
        self, fn: Any, reduction: Any = "sum_over_batch_size", name: str | None = None, dtype: Any = None, **kwargs: Any
    ) -> None:
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.fn = fn
        self._fn_kwargs = kwargs

    def call(self, y_true: Any, y_pred: Any) -> torch.Tensor:
        if isinstance(y_true, torch.Tensor) and isinstance(y_pred, torch.Tensor):
            y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
        return self.fn(y_true, y_pred, **self._fn_kwargs)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config["fn"] = serialize_function(self.fn)
        config.update(self._fn_kwargs)
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> LossFunctionWrapper:
        config = dict(config)
        if "fn" in config and not callable(config["fn"]):
            from lamina.losses import deserialize

            config["fn"] = deserialize(config["fn"])
        return cls(**config)

    def __repr__(self) -> str:
        return f"<LossFunctionWrapper({getattr(self.fn, '__name__', self.fn)}, kwargs={self._fn_kwargs})>"


class _PlainConfig(LossFunctionWrapper):
    """A wrapper whose config is only ``name`` and ``reduction`` (Keras's built-in classes without options)."""

    def get_config(self) -> dict[str, Any]:
        return Loss.get_config(self)

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Loss:
        return cls(**config)


class MeanSquaredError(_PlainConfig):
    """Mean of squares of errors: ``mean((y_true - y_pred) ** 2)``.

    Example:
        >>> import lamina
        >>> float(lamina.losses.MeanSquaredError()([[0.0, 1.0], [0.0, 0.0]], [[1.0, 1.0], [1.0, 0.0]]))
        0.5
    """

    def __init__(
        self, reduction: Any = "sum_over_batch_size", name: str = "mean_squared_error", dtype: Any = None
    ) -> None:
        super().__init__(mean_squared_error, name=name, reduction=reduction, dtype=dtype)


class MeanAbsoluteError(_PlainConfig):
    """Mean of absolute errors: ``mean(|y_true - y_pred|)``."""

    def __init__(
        self, reduction: Any = "sum_over_batch_size", name: str = "mean_absolute_error", dtype: Any = None
    ) -> None:
        super().__init__(mean_absolute_error, name=name, reduction=reduction, dtype=dtype)


class MeanAbsolutePercentageError(_PlainConfig):
    """Mean absolute percentage error: ``100 * mean(|(y_true - y_pred) / y_true|)``."""

    def __init__(
        self, reduction: Any = "sum_over_batch_size", name: str = "mean_absolute_percentage_error", dtype: Any = None
    ) -> None:
        super().__init__(mean_absolute_percentage_error, name=name, reduction=reduction, dtype=dtype)


class MeanSquaredLogarithmicError(_PlainConfig):
    """Mean squared error of ``log(1 + y)``."""

    def __init__(
        self, reduction: Any = "sum_over_batch_size", name: str = "mean_squared_logarithmic_error", dtype: Any = None
    ) -> None:
        super().__init__(mean_squared_logarithmic_error, name=name, reduction=reduction, dtype=dtype)


class CosineSimilarity(_PlainConfig):
    """Negative cosine similarity along ``axis``.

    Args:
        axis: the axis along which the similarity is computed (default -1).
    """

    def __init__(
        self, axis: int = -1, reduction: Any = "sum_over_batch_size", name: str = "cosine_similarity", dtype: Any = None
    ) -> None:
        super().__init__(cosine_similarity, name=name, reduction=reduction, dtype=dtype, axis=axis)


class Huber(_PlainConfig):
    """Huber loss: quadratic below ``delta``, linear above.

    Args:
        delta: the point where the loss changes from quadratic to linear.
    """

    def __init__(
        self, delta: float = 1.0, reduction: Any = "sum_over_batch_size", name: str = "huber_loss", dtype: Any = None
    ) -> None:
        super().__init__(huber, name=name, reduction=reduction, dtype=dtype, delta=delta)


class LogCosh(_PlainConfig):
    """Logarithm of the hyperbolic cosine of the error."""

    def __init__(self, reduction: Any = "sum_over_batch_size", name: str = "log_cosh", dtype: Any = None) -> None:
        super().__init__(log_cosh, name=name, reduction=reduction, dtype=dtype)


class Hinge(_PlainConfig):
    """Hinge loss ``max(1 - y_true * y_pred, 0)``; labels -1/1 (0/1 are converted)."""

    def __init__(self, reduction: Any = "sum_over_batch_size", name: str = "hinge", dtype: Any = None) -> None:
        super().__init__(hinge, name=name, reduction=reduction, dtype=dtype)


class SquaredHinge(_PlainConfig):
    """Squared hinge loss ``max(1 - y_true * y_pred, 0) ** 2``."""

    def __init__(self, reduction: Any = "sum_over_batch_size", name: str = "squared_hinge", dtype: Any = None) -> None:
        super().__init__(squared_hinge, name=name, reduction=reduction, dtype=dtype)


class CategoricalHinge(_PlainConfig):
    """Categorical hinge loss for one-hot labels."""

    def __init__(
        self, reduction: Any = "sum_over_batch_size", name: str = "categorical_hinge", dtype: Any = None
    ) -> None:
        super().__init__(categorical_hinge, name=name, reduction=reduction, dtype=dtype)


class KLDivergence(_PlainConfig):
    """Kullback-Leibler divergence ``sum(y_true * log(y_true / y_pred))``."""

    def __init__(self, reduction: Any = "sum_over_batch_size", name: str = "kl_divergence", dtype: Any = None) -> None:
        super().__init__(kl_divergence, name=name, reduction=reduction, dtype=dtype)


class Poisson(_PlainConfig):
    """Poisson loss ``y_pred - y_true * log(y_pred)``."""

    def __init__(self, reduction: Any = "sum_over_batch_size", name: str = "poisson", dtype: Any = None) -> None:
        super().__init__(poisson, name=name, reduction=reduction, dtype=dtype)


class CTC(_PlainConfig):
    """Connectionist temporal classification loss (blank/padding label 0)."""

    def __init__(self, reduction: Any = "sum_over_batch_size", name: str = "ctc", dtype: Any = None) -> None:
        super().__init__(ctc, name=name, reduction=reduction, dtype=dtype)


class BinaryCrossentropy(LossFunctionWrapper):
    """Crossentropy for 0/1 labels and probabilities (or logits with ``from_logits=True``).

    Args:
        from_logits: whether ``y_pred`` are logits rather than probabilities.
        label_smoothing: in ``[0, 1]``; labels move towards 0.5 by this amount.
        axis: the axis the mean is taken over (default -1).
        reduction: see :class:`Loss`.
        name: loss name.
        dtype: computation dtype.

    Example:
        >>> import lamina
        >>> loss = lamina.losses.BinaryCrossentropy(from_logits=True)
        >>> round(float(loss([[1.0], [0.0]], [[0.0], [0.0]])), 4)
        0.6931
    """

    def __init__(
        self,
        from_logits: bool = False,
        label_smoothing: float = 0.0,
        axis: int = -1,
        reduction: Any = "sum_over_batch_size",
        name: str = "binary_crossentropy",
        dtype: Any = None,
    ) -> None:
        super().__init__(
            binary_crossentropy,
            name=name,
            reduction=reduction,
            dtype=dtype,
            from_logits=from_logits,
            label_smoothing=label_smoothing,
            axis=axis,
        )
        self.from_logits = from_logits
        self.label_smoothing = label_smoothing
        self.axis = axis

    def get_config(self) -> dict[str, Any]:
        config = Loss.get_config(self)
        config.update({"from_logits": self.from_logits, "label_smoothing": self.label_smoothing, "axis": self.axis})
        return config


class BinaryFocalCrossentropy(LossFunctionWrapper):
    """Binary crossentropy down-weighting easy examples by ``(1 - p_t) ** gamma``.

    Args:
        apply_class_balancing: weight positives by ``alpha`` and negatives by ``1 - alpha``.
        alpha: the balancing weight.
        gamma: the focusing exponent.
        from_logits, label_smoothing, axis, reduction, name, dtype: as :class:`BinaryCrossentropy`.
    """

    def __init__(
        self,
        apply_class_balancing: bool = False,
        alpha: float = 0.25,
        gamma: float = 2.0,
        from_logits: bool = False,
        label_smoothing: float = 0.0,
        axis: int = -1,
        reduction: Any = "sum_over_batch_size",
        name: str = "binary_focal_crossentropy",
        dtype: Any = None,
    ) -> None:
        super().__init__(
            binary_focal_crossentropy,
            name=name,
            reduction=reduction,
            dtype=dtype,
            apply_class_balancing=apply_class_balancing,
            alpha=alpha,
            gamma=gamma,
            from_logits=from_logits,
            label_smoothing=label_smoothing,
            axis=axis,
        )
        self.from_logits = from_logits
        self.label_smoothing = label_smoothing
        self.axis = axis
        self.apply_class_balancing = apply_class_balancing
        self.alpha = alpha
        self.gamma = gamma

    def get_config(self) -> dict[str, Any]:
        config = Loss.get_config(self)
        config.update(
            {
                "from_logits": self.from_logits,
                "label_smoothing": self.label_smoothing,
                "axis": self.axis,
                "apply_class_balancing": self.apply_class_balancing,
                "alpha": self.alpha,
                "gamma": self.gamma,
            }
        )
        return config


class CategoricalCrossentropy(LossFunctionWrapper):
    """Crossentropy for one-hot labels and class probabilities (or logits).

    Args:
        from_logits: whether ``y_pred`` are logits.
        label_smoothing: labels become ``y * (1 - s) + s / num_classes``.
        axis: the class axis (default -1).
        reduction, name, dtype: see :class:`Loss`.

    Example:
        >>> import lamina
        >>> round(float(lamina.losses.CategoricalCrossentropy()([[0.0, 1.0]], [[0.2, 0.8]])), 4)
        0.2231
    """

    def __init__(
        self,
        from_logits: bool = False,
        label_smoothing: float = 0.0,
        axis: int = -1,
        reduction: Any = "sum_over_batch_size",
        name: str = "categorical_crossentropy",
        dtype: Any = None,
    ) -> None:
        super().__init__(
            categorical_crossentropy,
            name=name,
            reduction=reduction,
            dtype=dtype,
            from_logits=from_logits,
            label_smoothing=label_smoothing,
            axis=axis,
        )
        self.from_logits = from_logits
        self.label_smoothing = label_smoothing
        self.axis = axis

    def get_config(self) -> dict[str, Any]:
        config = Loss.get_config(self)
        config.update({"from_logits": self.from_logits, "label_smoothing": self.label_smoothing, "axis": self.axis})
        return config


class CategoricalFocalCrossentropy(LossFunctionWrapper):
    """Categorical crossentropy scaled by ``alpha * (1 - p) ** gamma``.

    Args:
        alpha: the weighting factor.
        gamma: the focusing exponent.
        from_logits, label_smoothing, axis, reduction, name, dtype: as :class:`CategoricalCrossentropy`.
    """

    def __init__(
        self,
        alpha: float = 0.25,
        gamma: float = 2.0,
        from_logits: bool = False,
        label_smoothing: float = 0.0,
        axis: int = -1,
        reduction: Any = "sum_over_batch_size",
        name: str = "categorical_focal_crossentropy",
        dtype: Any = None,
    ) -> None:
        super().__init__(
            categorical_focal_crossentropy,
            name=name,
            reduction=reduction,
            dtype=dtype,
            alpha=alpha,
            gamma=gamma,
            from_logits=from_logits,
            label_smoothing=label_smoothing,
            axis=axis,
        )
        self.from_logits = from_logits
        self.label_smoothing = label_smoothing
        self.axis = axis
        self.alpha = alpha
        self.gamma = gamma

    def get_config(self) -> dict[str, Any]:
        config = Loss.get_config(self)
        config.update(
            {
                "from_logits": self.from_logits,
                "label_smoothing": self.label_smoothing,
                "axis": self.axis,
                "alpha": self.alpha,
                "gamma": self.gamma,
            }
        )
        return config


_FAST_REDUCTIONS = {
    "sum_over_batch_size": "mean",
    "mean": "mean",
    "mean_with_sample_weight": "mean",
    "sum": "sum",
    None: "none",
    "none": "none",
}


class SparseCategoricalCrossentropy(LossFunctionWrapper):
    """Crossentropy for integer class ids and class probabilities (or logits).

    With ``from_logits=True``, no sample weight and no mask, the whole loss is one ``F.cross_entropy`` call.
    Labels outside ``[0, num_classes)`` are not checked per step (that would need a host sync): call
    :func:`lamina.trainers.target_validation.validate_targets` once on a first batch.

    Args:
        from_logits: whether ``y_pred`` are logits.
        ignore_class: a label whose entries get no loss and do not count in the mean (e.g. padding).
        reduction: see :class:`Loss`.
        axis: the class axis of ``y_pred`` (default -1).
        name, dtype: see :class:`Loss`.

    Example:
        >>> import torch
        >>> import lamina
        >>> loss = lamina.losses.SparseCategoricalCrossentropy(from_logits=True)
        >>> round(float(loss(torch.tensor([0, 1]), torch.zeros(2, 3))), 4)
        1.0986
    """

    def __init__(
        self,
        from_logits: bool = False,
        ignore_class: int | None = None,
        reduction: Any = "sum_over_batch_size",
        axis: int = -1,
        name: str = "sparse_categorical_crossentropy",
        dtype: Any = None,
    ) -> None:
        super().__init__(
            sparse_categorical_crossentropy,
            name=name,
            reduction=reduction,
            dtype=dtype,
            from_logits=from_logits,
            ignore_class=ignore_class,
            axis=axis,
        )
        self.from_logits = from_logits
        self.ignore_class = ignore_class
        self.axis = axis
        self._tdtype = backend.torch_dtype(self._dtype)

    def __call__(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> torch.Tensor:
        if (
            sample_weight is None
            and self.from_logits
            and self.ignore_class is None
            and isinstance(y_pred, torch.Tensor)
            and isinstance(y_true, torch.Tensor)
            and y_pred.ndim >= 2
            and y_pred.shape[0] > 0
            and getattr(y_pred, "_keras_mask", None) is None
        ):
            return self._fast_call(y_true, y_pred)
        return super().__call__(y_true, y_pred, sample_weight)

    def _fast_call(self, y_true: torch.Tensor, y_pred: torch.Tensor) -> torch.Tensor:
        # Same numbers as the general path: cross_entropy(reduction="mean") == sum / number of entries.
        if y_pred.dtype != self._tdtype:
            y_pred = y_pred.to(self._tdtype)
        if y_true.device != y_pred.device:
            y_true = y_true.to(y_pred.device)
        if self.axis == -1 and y_true.shape == y_pred.shape[:-1]:  # the common case, checked cheaply
            target, logits = y_true, y_pred
            if y_pred.ndim > 2:
                logits = y_pred.movedim(-1, 1)  # (N, ..., C) -> (N, C, ...), a view
        else:
            target = _sparse_target(y_true, y_pred, self.axis, self.name)
            class_axis = self.axis % y_pred.ndim
            logits = y_pred if class_axis == 1 else y_pred.movedim(class_axis, 1)
        if target.dtype != torch.long:
            target = target.long()
        return F.cross_entropy(logits, target, reduction=_FAST_REDUCTIONS[self.reduction])

    def get_config(self) -> dict[str, Any]:
        config = Loss.get_config(self)
        config.update({"from_logits": self.from_logits, "ignore_class": self.ignore_class})
        return config
