"""Checks of targets against the model's outputs and the loss before training starts (the trainer's concern):
a sparse loss given one-hot targets, a categorical loss given class indices, out-of-range class ids... are
named before the first step instead of failing deep inside it.
"""

from __future__ import annotations

from typing import Any

from lamina.losses.loss import (
    _first_tensor,
    squeeze_or_expand_to_same_rank,
    to_tensor,
)
from lamina.losses.loss_functions import (
    _same_shape_or_raise,
    _sparse_target,
    binary_crossentropy,
    binary_focal_crossentropy,
    categorical_crossentropy,
    categorical_focal_crossentropy,
    sparse_categorical_crossentropy,
)
from lamina.losses.losses import (
    BinaryCrossentropy,
    BinaryFocalCrossentropy,
    CategoricalCrossentropy,
    CategoricalFocalCrossentropy,
    LossFunctionWrapper,
    SparseCategoricalCrossentropy,
)

# ---------------------------------------------------------------------------- validation before training

_SPARSE = "sparse"
_CATEGORICAL = "categorical"
_BINARY = "binary"


def _loss_kind(loss: Any) -> tuple[str | None, Any]:
    """(kind, ignore_class) of a loss object / function / name."""
    if isinstance(loss, str):
        from lamina.losses import ALL_OBJECTS_DICT

        loss = ALL_OBJECTS_DICT.get(loss, loss)
    fn = loss.fn if isinstance(loss, LossFunctionWrapper) else loss
    ignore = getattr(loss, "ignore_class", None)
    if isinstance(loss, LossFunctionWrapper):
        ignore = loss._fn_kwargs.get("ignore_class", ignore)
    if fn in (sparse_categorical_crossentropy, SparseCategoricalCrossentropy):
        return _SPARSE, ignore
    if fn in (
        categorical_crossentropy,
        categorical_focal_crossentropy,
        CategoricalCrossentropy,
        CategoricalFocalCrossentropy,
    ):
        return _CATEGORICAL, None
    if fn in (binary_crossentropy, binary_focal_crossentropy, BinaryCrossentropy, BinaryFocalCrossentropy):
        return _BINARY, None
    return None, None


def validate_targets(y_true: Any, y_pred: Any, loss: Any = None) -> None:
    """Checks labels against predictions once (e.g. on the first batch); this one reads values to the host.

    For sparse crossentropy it checks the label shape and that every label is an integer class id in
    ``[0, num_classes)`` (or the ``ignore_class``), the check that the per-step loss leaves out to avoid a host
    sync (on a GPU an out-of-range label would otherwise end in a device-side assert). For categorical and
    binary crossentropy it checks the shapes. With ``loss=None`` labels are checked as sparse class ids when
    their shape says so (Keras's rule: lower rank than ``y_pred``, or last axis 1 against a wider ``y_pred``).

    Args:
        y_true: the labels of a batch.
        y_pred: the model output for that batch (only its shape and class count are used).
        loss: the loss (object, function or name) the labels are meant for.

    Raises:
        ValueError: naming both shapes, or the offending label and the valid range.

    Example:
        >>> import numpy as np
        >>> from lamina.trainers.target_validation import validate_targets
        >>> validate_targets(np.array([0, 2]), np.zeros((2, 3)), "sparse_categorical_crossentropy")
        >>> try:
        ...     validate_targets(np.array([0, 3]), np.zeros((2, 3)), "sparse_categorical_crossentropy")
        ... except ValueError as e:
        ...     print(str(e).split(".")[0])
        Labels must be class ids in [0, 3) for y_pred of shape (2, 3), but received label 3
    """
    y_pred_t = _first_tensor(y_pred) if not hasattr(y_pred, "shape") else y_pred
    y_pred_t = to_tensor(y_pred_t)
    y_true_t = to_tensor(y_true, device=y_pred_t.device)
    kind, ignore_class = _loss_kind(loss)
    if kind is None and loss is None:
        t_rank, p_rank = y_true_t.ndim, y_pred_t.ndim
        if (
            p_rank >= 1
            and y_pred_t.shape[-1] > 1
            and (t_rank < p_rank or (t_rank == p_rank and y_true_t.shape[-1] == 1))
        ):
            kind = _SPARSE
    if kind == _SPARSE:
        name = getattr(loss, "name", None) or "sparse_categorical_crossentropy"
        target = y_true_t
        if target.ndim == y_pred_t.ndim and target.ndim > 0 and target.shape[-1] == 1:
            target = target.squeeze(-1)
        _sparse_target(target, y_pred_t, -1, name)  # shape check
        num_classes = y_pred_t.shape[-1]
        valid = target
        if ignore_class is not None:
            valid = target[target != ignore_class]
        if valid.numel():
            lo, hi = float(valid.min()), float(valid.max())  # host sync, once
            if lo < 0 or hi >= num_classes:
                bad = lo if lo < 0 else hi
                bad = int(bad) if float(bad).is_integer() else bad
                raise ValueError(
                    f"Labels must be class ids in [0, {num_classes}) for y_pred of shape {tuple(y_pred_t.shape)}, "
                    f"but received label {bad}. Check the number of units of the last layer (it must equal the "
                    "number of classes) and the labels."
                )
    elif kind == _CATEGORICAL:
        _same_shape_or_raise(y_true_t, y_pred_t, getattr(loss, "name", None) or "categorical_crossentropy")
    elif kind == _BINARY:
        t, p = squeeze_or_expand_to_same_rank(y_true_t, y_pred_t)
        if t.shape != p.shape:
            raise ValueError(
                "binary_crossentropy expects `y_true` and `y_pred` of the same shape, but received "
                f"y_true.shape={tuple(y_true_t.shape)} and y_pred.shape={tuple(y_pred_t.shape)}."
            )
