"""Losses with Keras's names, defaults, numbers and configs (``keras.losses``).

Example:
    >>> import lamina
    >>> loss = lamina.losses.get("mse")
    >>> loss.__name__
    'mean_squared_error'
    >>> lamina.losses.get({"class_name": "BinaryCrossentropy", "config": {"from_logits": True}}).from_logits
    True
"""

from __future__ import annotations

from typing import Any

from lamina import serialization
from lamina.backend.naming import to_snake_case
from lamina.losses.loss import Loss, reduce_weighted_values, squeeze_or_expand_to_same_rank, standardize_reduction
from lamina.losses.loss_functions import (
    binary_crossentropy,
    binary_focal_crossentropy,
    categorical_crossentropy,
    categorical_focal_crossentropy,
    categorical_generalized_cross_entropy,
    categorical_hinge,
    circle,
    cosine_similarity,
    ctc,
    dice,
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
    tversky,
)
from lamina.losses.losses import (
    CTC,
    BinaryCrossentropy,
    BinaryFocalCrossentropy,
    CategoricalCrossentropy,
    CategoricalFocalCrossentropy,
    CategoricalHinge,
    CosineSimilarity,
    Hinge,
    Huber,
    KLDivergence,
    LogCosh,
    LossFunctionWrapper,
    MeanAbsoluteError,
    MeanAbsolutePercentageError,
    MeanSquaredError,
    MeanSquaredLogarithmicError,
    Poisson,
    SparseCategoricalCrossentropy,
    SquaredHinge,
)
from lamina.losses.specialized_losses import (
    CategoricalGeneralizedCrossEntropy,
    Circle,
    Dice,
    Tversky,
)

# Short aliases, as Keras's legacy names.
mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error
mape = MAPE = mean_absolute_percentage_error
msle = MSLE = mean_squared_logarithmic_error
kld = KLD = kullback_leibler_divergence = kl_divergence
logcosh = log_cosh
bce = BCE = binary_crossentropy

ALL_OBJECTS = (
    Loss,
    LossFunctionWrapper,
    KLDivergence,
    Poisson,
    BinaryCrossentropy,
    BinaryFocalCrossentropy,
    CategoricalCrossentropy,
    CategoricalFocalCrossentropy,
    CategoricalGeneralizedCrossEntropy,
    SparseCategoricalCrossentropy,
    MeanSquaredError,
    MeanAbsoluteError,
    MeanAbsolutePercentageError,
    MeanSquaredLogarithmicError,
    CosineSimilarity,
    LogCosh,
    Huber,
    Hinge,
    SquaredHinge,
    CategoricalHinge,
    Dice,
    Tversky,
    Circle,
    CTC,
    kl_divergence,
    poisson,
    binary_crossentropy,
    binary_focal_crossentropy,
    categorical_crossentropy,
    categorical_focal_crossentropy,
    categorical_generalized_cross_entropy,
    sparse_categorical_crossentropy,
    mean_squared_error,
    mean_absolute_error,
    mean_absolute_percentage_error,
    mean_squared_logarithmic_error,
    cosine_similarity,
    log_cosh,
    huber,
    hinge,
    squared_hinge,
    categorical_hinge,
    dice,
    tversky,
    circle,
    ctc,
)
ALL_OBJECTS_DICT: dict[str, Any] = {obj.__name__: obj for obj in ALL_OBJECTS}
ALL_OBJECTS_DICT.update(
    {
        "bce": binary_crossentropy,
        "BCE": binary_crossentropy,
        "kld": kl_divergence,
        "KLD": kl_divergence,
        "mae": mean_absolute_error,
        "MAE": mean_absolute_error,
        "mse": mean_squared_error,
        "MSE": mean_squared_error,
        "mape": mean_absolute_percentage_error,
        "MAPE": mean_absolute_percentage_error,
        "msle": mean_squared_logarithmic_error,
        "MSLE": mean_squared_logarithmic_error,
    }
)


_FAMILY = serialization.ObjectFamily("keras.losses", "loss", ALL_OBJECTS_DICT, base=Loss)


def serialize(loss: Any) -> Any:
    """Keras's config dict of a ``Loss`` instance or a loss function."""
    return serialize_function(loss)


def deserialize(name: Any, custom_objects: dict[str, Any] | None = None) -> Any:
    """Rebuilds a loss (instance or function) from :func:`serialize`'s output or a name."""
    return _FAMILY.deserialize(name, custom_objects)


def get(identifier: Any) -> Any:
    """Resolves a name, config dict, class, instance or function to a loss.

    Names of functions (``"categorical_crossentropy"``, ``"mse"``) give the function; class names
    (``"CategoricalCrossentropy"``) give an instance, as ``keras.losses.get``.

    Raises:
        ValueError: for an unknown name (the message lists the valid ones) or an uninterpretable object.
    """
    return _FAMILY.get(identifier)


def resolve(identifier: Any, y_true_shape: Any = None, y_pred_shape: Any = None) -> Loss | None:
    """A ``Loss`` for ``compile(loss=...)``, as Keras's ``compile_utils.get_loss``.

    ``"crossentropy"``/``"ce"`` become binary, sparse categorical or categorical crossentropy by the label and
    output shapes: binary when the output's last axis is 1, sparse when the labels have lower rank (or a last
    axis of 1 against a wider output), else categorical (also when ``y_true_shape`` is unknown). Functions are
    wrapped in a :class:`LossFunctionWrapper` named after the identifier.

    Example:
        >>> import lamina
        >>> lamina.losses.resolve("ce", (None,), (None, 10)).fn.__name__
        'sparse_categorical_crossentropy'
        >>> lamina.losses.resolve("mse").name
        'mse'
    """
    if identifier is None:
        return None
    if str(identifier).lower() in ("crossentropy", "ce"):
        is_binary, is_sparse = is_binary_or_sparse_categorical(y_true_shape, y_pred_shape)
        if is_binary:
            obj = binary_crossentropy
        elif is_sparse:
            obj = sparse_categorical_crossentropy
        else:
            obj = categorical_crossentropy
    else:
        obj = get(identifier)
    if isinstance(obj, Loss):
        return obj
    if isinstance(identifier, str):
        name = identifier
    else:
        name = getattr(obj, "name", None) or to_snake_case(getattr(obj, "__name__", None) or type(obj).__name__)
    return LossFunctionWrapper(obj, name=name)


def is_binary_or_sparse_categorical(y_true_shape: Any, y_pred_shape: Any) -> tuple[bool, bool]:
    """Keras's rule: binary if the output's last axis is 1; sparse if labels have lower rank or last axis 1."""
    if y_pred_shape is None:
        return False, False
    y_pred_shape = tuple(y_pred_shape)
    p_last = y_pred_shape[-1] if y_pred_shape else None
    is_binary = p_last == 1
    if y_true_shape is None:
        return is_binary, False
    y_true_shape = tuple(y_true_shape)
    t_last = y_true_shape[-1] if y_true_shape else None
    is_sparse = len(y_true_shape) < len(y_pred_shape) or (t_last == 1 and p_last is not None and p_last > 1)
    return is_binary, is_sparse


__all__ = [
    "BinaryCrossentropy",
    "BinaryFocalCrossentropy",
    "CTC",
    "CategoricalCrossentropy",
    "CategoricalFocalCrossentropy",
    "CategoricalGeneralizedCrossEntropy",
    "CategoricalHinge",
    "Circle",
    "CosineSimilarity",
    "Dice",
    "Hinge",
    "Huber",
    "KLDivergence",
    "LogCosh",
    "Loss",
    "LossFunctionWrapper",
    "MeanAbsoluteError",
    "MeanAbsolutePercentageError",
    "MeanSquaredError",
    "MeanSquaredLogarithmicError",
    "Poisson",
    "SparseCategoricalCrossentropy",
    "SquaredHinge",
    "Tversky",
    "binary_crossentropy",
    "binary_focal_crossentropy",
    "categorical_crossentropy",
    "categorical_focal_crossentropy",
    "categorical_generalized_cross_entropy",
    "categorical_hinge",
    "circle",
    "cosine_similarity",
    "ctc",
    "deserialize",
    "dice",
    "get",
    "hinge",
    "huber",
    "is_binary_or_sparse_categorical",
    "kl_divergence",
    "log_cosh",
    "mean_absolute_error",
    "mean_absolute_percentage_error",
    "mean_squared_error",
    "mean_squared_logarithmic_error",
    "poisson",
    "reduce_weighted_values",
    "resolve",
    "serialize",
    "sparse_categorical_crossentropy",
    "squared_hinge",
    "squeeze_or_expand_to_same_rank",
    "standardize_reduction",
    "tversky",
    "mse",
    "MSE",
    "mae",
    "MAE",
    "mape",
    "MAPE",
    "msle",
    "MSLE",
    "kld",
    "KLD",
    "kullback_leibler_divergence",
    "logcosh",
    "bce",
    "BCE",
]
