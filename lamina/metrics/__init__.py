"""Metrics with Keras's names, defaults, numbers and configs (``keras.metrics``).

Example:
    >>> import lamina
    >>> m = lamina.metrics.get("auc")
    >>> type(m).__name__, m.name
    ('AUC', 'auc')
    >>> lamina.metrics.resolve("accuracy", loss="sparse_categorical_crossentropy", output_shape=(None, 10))
    <SparseCategoricalAccuracy name=accuracy>
"""

from __future__ import annotations

import inspect
from typing import Any

from lamina import serialization
from lamina.backend.naming import to_snake_case
from lamina.losses import is_binary_or_sparse_categorical
from lamina.losses.loss_functions import (
    binary_crossentropy,
    binary_focal_crossentropy,
    categorical_crossentropy,
    categorical_focal_crossentropy,
    categorical_hinge,
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
from lamina.metrics.accuracy_metrics import (
    Accuracy,
    BinaryAccuracy,
    CategoricalAccuracy,
    SparseCategoricalAccuracy,
    SparseTopKCategoricalAccuracy,
    TopKCategoricalAccuracy,
    accuracy,
    binary_accuracy,
    categorical_accuracy,
    sparse_categorical_accuracy,
    sparse_top_k_categorical_accuracy,
    top_k_categorical_accuracy,
)
from lamina.metrics.confusion_metrics import (
    AUC,
    FalseNegatives,
    FalsePositives,
    Precision,
    PrecisionAtRecall,
    Recall,
    RecallAtPrecision,
    SensitivityAtSpecificity,
    SpecificityAtSensitivity,
    TrueNegatives,
    TruePositives,
)
from lamina.metrics.correlation_metrics import (
    ConcordanceCorrelation,
    PearsonCorrelation,
    concordance_correlation,
    pearson_correlation,
)
from lamina.metrics.f_score_metrics import F1Score, FBetaScore
from lamina.metrics.hinge_metrics import CategoricalHinge, Hinge, SquaredHinge
from lamina.metrics.iou_metrics import BinaryIoU, IoU, MeanIoU, OneHotIoU, OneHotMeanIoU
from lamina.metrics.metric import Metric
from lamina.metrics.probabilistic_metrics import (
    BinaryCrossentropy,
    CategoricalCrossentropy,
    KLDivergence,
    Poisson,
    SparseCategoricalCrossentropy,
)
from lamina.metrics.reduction_metrics import Mean, MeanMetricWrapper, Sum
from lamina.metrics.regression_metrics import (
    CosineSimilarity,
    LogCoshError,
    MeanAbsoluteError,
    MeanAbsolutePercentageError,
    MeanSquaredError,
    MeanSquaredLogarithmicError,
    R2Score,
    RootMeanSquaredError,
)

ALL_OBJECTS = (
    Metric,
    Mean,
    Sum,
    MeanMetricWrapper,
    MeanSquaredError,
    RootMeanSquaredError,
    MeanAbsoluteError,
    MeanAbsolutePercentageError,
    MeanSquaredLogarithmicError,
    CosineSimilarity,
    LogCoshError,
    R2Score,
    AUC,
    FalseNegatives,
    FalsePositives,
    Precision,
    PrecisionAtRecall,
    Recall,
    RecallAtPrecision,
    SensitivityAtSpecificity,
    SpecificityAtSensitivity,
    TrueNegatives,
    TruePositives,
    ConcordanceCorrelation,
    PearsonCorrelation,
    Hinge,
    SquaredHinge,
    CategoricalHinge,
    KLDivergence,
    Poisson,
    BinaryCrossentropy,
    CategoricalCrossentropy,
    SparseCategoricalCrossentropy,
    Accuracy,
    BinaryAccuracy,
    CategoricalAccuracy,
    SparseCategoricalAccuracy,
    TopKCategoricalAccuracy,
    SparseTopKCategoricalAccuracy,
    F1Score,
    FBetaScore,
    IoU,
    BinaryIoU,
    MeanIoU,
    OneHotIoU,
    OneHotMeanIoU,
)
ALL_OBJECTS_DICT: dict[str, Any] = {cls.__name__: cls for cls in ALL_OBJECTS}
ALL_OBJECTS_DICT.update({to_snake_case(cls.__name__): cls for cls in ALL_OBJECTS})
ALL_OBJECTS_DICT.update(
    {
        "bce": BinaryCrossentropy,
        "BCE": BinaryCrossentropy,
        "mse": MeanSquaredError,
        "MSE": MeanSquaredError,
        "mae": MeanAbsoluteError,
        "MAE": MeanAbsoluteError,
        "mape": MeanAbsolutePercentageError,
        "MAPE": MeanAbsolutePercentageError,
        "msle": MeanSquaredLogarithmicError,
        "MSLE": MeanSquaredLogarithmicError,
    }
)

# Functions a serialized MeanMetricWrapper may name.
_FUNCTIONS = {
    f.__name__: f
    for f in (
        accuracy,
        binary_accuracy,
        categorical_accuracy,
        sparse_categorical_accuracy,
        top_k_categorical_accuracy,
        sparse_top_k_categorical_accuracy,
        pearson_correlation,
        concordance_correlation,
    )
}


_FAMILY = serialization.ObjectFamily("keras.metrics", "metric", ALL_OBJECTS_DICT, base=Metric)
serialization.register_builtins("builtins", _FUNCTIONS)  # Keras writes built-in metric functions as "builtins"


def serialize(metric: Any) -> Any:
    """Keras's config dict of a metric (or metric function)."""
    return serialize_function(metric)


def deserialize(config: Any, custom_objects: dict[str, Any] | None = None) -> Any:
    """Rebuilds a metric (or function) from :func:`serialize`'s output or a name."""
    return _FAMILY.deserialize(config, custom_objects)


def get(identifier: Any) -> Any:
    """Resolves a name, config dict, class, instance or function to a metric.

    Names give an instance of the class (``"auc"``, ``"AUC"``, ``"mse"``, ``"accuracy"`` -> ``Accuracy``); use
    :func:`resolve` for the ``"accuracy"`` shortcut of ``compile``.

    Raises:
        ValueError: for an unknown name (the message lists the valid ones).
    """
    return _FAMILY.get(identifier)


_SPARSE_LOSSES = {"sparse_categorical_crossentropy", "SparseCategoricalCrossentropy"}
_BINARY_LOSSES = {
    "binary_crossentropy",
    "BinaryCrossentropy",
    "binary_focal_crossentropy",
    "BinaryFocalCrossentropy",
    "bce",
    "BCE",
}


def _loss_name(loss: Any) -> str | None:
    if loss is None:
        return None
    if isinstance(loss, str):
        return loss
    fn = getattr(loss, "fn", None)
    if fn is not None and hasattr(fn, "__name__"):
        return fn.__name__
    if inspect.isclass(loss):
        return loss.__name__
    if hasattr(loss, "__name__"):
        return loss.__name__
    return type(loss).__name__


def resolve(identifier: Any, loss: Any = None, output_shape: Any = None, y_true_shape: Any = None) -> Metric:
    """A ``Metric`` for ``compile(metrics=[...])``, as Keras's ``compile_utils.get_metric``.

    ``"accuracy"``/``"acc"`` picks the accuracy that fits the task: with the label shape known, Keras's rule
    (binary if the output's last axis is 1; sparse if labels have lower rank or a last axis of 1 against a
    wider output; else categorical). Without it: binary if the output's last axis is 1 or the loss is a binary
    crossentropy, sparse if the loss is sparse categorical crossentropy, else categorical. Other identifiers
    go through :func:`get`; functions are wrapped in :class:`MeanMetricWrapper`. The metric is named after a
    string identifier (``"acc"`` stays ``"acc"``), as in Keras.

    Args:
        identifier: a name, config, class, instance or function.
        loss: the compiled loss (object, function or name), used for ``"accuracy"``.
        output_shape: the model output shape (batch dim may be None).
        y_true_shape: the label shape, when known (e.g. from the first batch).

    Example:
        >>> import lamina
        >>> lamina.metrics.resolve("acc", output_shape=(None, 1))
        <BinaryAccuracy name=acc>
        >>> lamina.metrics.resolve("accuracy", output_shape=(None, 3), y_true_shape=(None, 1))
        <SparseCategoricalAccuracy name=accuracy>
    """
    if identifier is None:
        raise ValueError("Expected metric, received `None`")
    if str(identifier).lower() in ("accuracy", "acc"):
        name = str(identifier)
        if y_true_shape is not None and output_shape is not None:
            is_binary, is_sparse = is_binary_or_sparse_categorical(y_true_shape, output_shape)
        else:
            loss_name = _loss_name(loss)
            is_binary = (
                output_shape is not None and len(tuple(output_shape)) > 0 and tuple(output_shape)[-1] == 1
            ) or loss_name in _BINARY_LOSSES
            is_sparse = loss_name in _SPARSE_LOSSES
        if is_binary:
            metric = BinaryAccuracy(name=name)
        elif is_sparse:
            metric = SparseCategoricalAccuracy(name=name)
        else:
            metric = CategoricalAccuracy(name=name)
    else:
        metric = get(identifier)
    if isinstance(identifier, str):
        metric_name = identifier
    else:
        metric_name = getattr(metric, "name", None) or to_snake_case(
            getattr(metric, "__name__", None) or type(metric).__name__
        )
    if not isinstance(metric, Metric):
        metric = MeanMetricWrapper(metric)
    metric.name = metric_name
    return metric


__all__ = [
    "AUC",
    "Accuracy",
    "BinaryAccuracy",
    "BinaryCrossentropy",
    "BinaryIoU",
    "CategoricalAccuracy",
    "CategoricalCrossentropy",
    "CategoricalHinge",
    "ConcordanceCorrelation",
    "CosineSimilarity",
    "F1Score",
    "FBetaScore",
    "FalseNegatives",
    "FalsePositives",
    "Hinge",
    "IoU",
    "KLDivergence",
    "LogCoshError",
    "Mean",
    "MeanAbsoluteError",
    "MeanAbsolutePercentageError",
    "MeanIoU",
    "MeanMetricWrapper",
    "MeanSquaredError",
    "MeanSquaredLogarithmicError",
    "Metric",
    "OneHotIoU",
    "OneHotMeanIoU",
    "PearsonCorrelation",
    "Poisson",
    "Precision",
    "PrecisionAtRecall",
    "R2Score",
    "Recall",
    "RecallAtPrecision",
    "RootMeanSquaredError",
    "SensitivityAtSpecificity",
    "SparseCategoricalAccuracy",
    "SparseCategoricalCrossentropy",
    "SparseTopKCategoricalAccuracy",
    "SpecificityAtSensitivity",
    "SquaredHinge",
    "Sum",
    "TopKCategoricalAccuracy",
    "TrueNegatives",
    "TruePositives",
    "binary_accuracy",
    "binary_crossentropy",
    "binary_focal_crossentropy",
    "categorical_accuracy",
    "categorical_crossentropy",
    "categorical_focal_crossentropy",
    "categorical_hinge",
    "concordance_correlation",
    "deserialize",
    "get",
    "hinge",
    "huber",
    "kl_divergence",
    "log_cosh",
    "mean_absolute_error",
    "mean_absolute_percentage_error",
    "mean_squared_error",
    "mean_squared_logarithmic_error",
    "pearson_correlation",
    "poisson",
    "resolve",
    "serialize",
    "sparse_categorical_accuracy",
    "sparse_categorical_crossentropy",
    "sparse_top_k_categorical_accuracy",
    "squared_hinge",
    "top_k_categorical_accuracy",
]
