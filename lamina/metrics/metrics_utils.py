"""Confusion-matrix bookkeeping shared by ``Precision``, ``Recall``, ``AUC``, ... (Keras's ``metrics_utils``).

Everything is tensor arithmetic on the state's device: thresholded counts are accumulated with
``scatter_add`` (evenly spaced thresholds, O(N)) or a broadcast comparison (few arbitrary thresholds).
"""

from __future__ import annotations

from enum import Enum
from typing import Any

import numpy as np
import torch

from lamina.losses.loss import EPSILON, squeeze_or_expand_to_same_rank, to_tensor

NEG_INF = -1e10


class ConfusionMatrix(Enum):
    TRUE_POSITIVES = "tp"
    FALSE_POSITIVES = "fp"
    TRUE_NEGATIVES = "tn"
    FALSE_NEGATIVES = "fn"


class AUCCurve(Enum):
    """Type of AUC curve: ``ROC``, ``PR`` or ``PRGAIN``."""

    ROC = "ROC"
    PR = "PR"
    PRGAIN = "PRGAIN"

    @staticmethod
    def from_str(key: str) -> AUCCurve:
        if key in ("pr", "PR"):
            return AUCCurve.PR
        if key in ("roc", "ROC"):
            return AUCCurve.ROC
        if key in ("prgain", "PRGAIN"):
            return AUCCurve.PRGAIN
        raise ValueError(f'Invalid AUC curve value: "{key}". Expected values are ["PR", "ROC", "PRGAIN"]')


class AUCSummationMethod(Enum):
    """How the area under the curve is summed: ``interpolation``, ``majoring`` or ``minoring``."""

    INTERPOLATION = "interpolation"
    MAJORING = "majoring"
    MINORING = "minoring"

    @staticmethod
    def from_str(key: str) -> AUCSummationMethod:
        if key in ("interpolation", "Interpolation"):
            return AUCSummationMethod.INTERPOLATION
        if key in ("majoring", "Majoring"):
            return AUCSummationMethod.MAJORING
        if key in ("minoring", "Minoring"):
            return AUCSummationMethod.MINORING
        raise ValueError(
            f'Invalid AUC summation method value: "{key}". '
            'Expected values are ["interpolation", "majoring", "minoring"]'
        )


def to_list(x: Any) -> list:
    if isinstance(x, (list, tuple)):
        return list(x)
    if isinstance(x, np.ndarray):
        return x.tolist()
    return [x]


def assert_thresholds_range(thresholds: Any) -> None:
    if thresholds is not None:
        invalid = [t for t in thresholds if t is None or t < 0 or t > 1]
        if invalid:
            raise ValueError(f"Threshold values must be in [0, 1]. Received: {invalid}")


def parse_init_thresholds(thresholds: Any, default_threshold: float = 0.5) -> list:
    if thresholds is not None:
        assert_thresholds_range(to_list(thresholds))
    return to_list(default_threshold if thresholds is None else thresholds)


def is_evenly_distributed_thresholds(thresholds: Any) -> bool:
    """Whether ``thresholds`` are ``i / (n - 1)`` for ``i = 0..n-1`` (n >= 3), which allows the O(N) path."""
    n = len(thresholds)
    if n < 3:
        return False
    even = np.arange(n, dtype=np.float32) / (n - 1)
    return bool(np.allclose(thresholds, even, atol=EPSILON))


def _segment_sum(data: torch.Tensor, ids: torch.Tensor, num_segments: int) -> torch.Tensor:
    """Sums ``data`` into ``num_segments`` buckets along the last axis; out-of-range ids are dropped."""
    ids = torch.where((ids >= 0) & (ids < num_segments), ids, num_segments)
    data = torch.broadcast_to(data, ids.shape)
    if ids.ndim == 1:
        out = torch.zeros(num_segments + 1, dtype=data.dtype, device=data.device)
        return out.scatter_add_(0, ids, data)[:num_segments]
    # (L, N): one bucket row per label, flattened so one scatter does all labels.
    rows = ids.shape[0]
    offsets = torch.arange(rows, device=ids.device).unsqueeze(1) * (num_segments + 1)
    out = torch.zeros(rows * (num_segments + 1), dtype=data.dtype, device=data.device)
    out.scatter_add_(0, (ids + offsets).reshape(-1), data.reshape(-1))
    return out.reshape(rows, num_segments + 1)[:, :num_segments]


def _reverse_cumsum(x: torch.Tensor, dim: int = -1) -> torch.Tensor:
    return torch.flip(torch.cumsum(torch.flip(x, (dim,)), dim=dim), (dim,))


def _update_optimized(
    variables: dict,
    y_true: torch.Tensor,
    y_pred: torch.Tensor,
    num_thresholds: int,
    multi_label: bool,
    sample_weights: Any,
    label_weights: Any,
    thresholds_with_epsilon: bool,
) -> None:
    """Bucketed counts for evenly spaced thresholds: one scatter plus a reversed cumulative sum."""
    if sample_weights is None:
        sample_weights = 1.0
    else:
        sample_weights = torch.broadcast_to(sample_weights.to(y_pred.dtype), y_pred.shape)
        if not multi_label:
            sample_weights = sample_weights.reshape(-1)
    if label_weights is None:
        label_weights = 1.0
    else:
        label_weights = torch.broadcast_to(label_weights.unsqueeze(0), y_pred.shape)
        if not multi_label:
            label_weights = label_weights.reshape(-1)
    weights = sample_weights * label_weights
    y_pred = torch.clamp(y_pred, 0.0, 1.0)
    y_true = y_true.bool().to(y_pred.dtype)
    if not multi_label:
        y_true = y_true.reshape(-1)
        y_pred = y_pred.reshape(-1)
    true_labels = y_true * weights
    false_labels = (1.0 - y_true) * weights
    # A prediction strictly greater than threshold i lands in bucket ceil(p * (n - 1)) - 1.
    buckets = torch.ceil(y_pred * (num_thresholds - 1)) - 1
    if thresholds_with_epsilon:
        buckets = torch.relu(buckets)
    buckets = buckets.long()
    if multi_label:
        true_labels, false_labels, buckets = true_labels.T, false_labels.T, buckets.T  # (N, L) -> (L, N)
    tp = _reverse_cumsum(_segment_sum(true_labels, buckets, num_thresholds))
    fp = _reverse_cumsum(_segment_sum(false_labels, buckets, num_thresholds))
    if multi_label:
        tp, fp = tp.T, fp.T  # (L, T) -> (T, L)
    if ConfusionMatrix.TRUE_POSITIVES in variables:
        variables[ConfusionMatrix.TRUE_POSITIVES].value.add_(tp)
    if ConfusionMatrix.FALSE_POSITIVES in variables:
        variables[ConfusionMatrix.FALSE_POSITIVES].value.add_(fp)
    if ConfusionMatrix.TRUE_NEGATIVES in variables or ConfusionMatrix.FALSE_NEGATIVES in variables:
        dim = 1 if multi_label else None
        total_true = torch.sum(true_labels, dim=dim) if dim is not None else torch.sum(true_labels)
        total_false = torch.sum(false_labels, dim=dim) if dim is not None else torch.sum(false_labels)
        if ConfusionMatrix.TRUE_NEGATIVES in variables:
            variables[ConfusionMatrix.TRUE_NEGATIVES].value.add_(total_false - fp)
        if ConfusionMatrix.FALSE_NEGATIVES in variables:
            variables[ConfusionMatrix.FALSE_NEGATIVES].value.add_(total_true - tp)


def update_confusion_matrix_variables(
    variables_to_update: dict,
    y_true: Any,
    y_pred: Any,
    thresholds: Any,
    top_k: int | None = None,
    class_id: int | None = None,
    sample_weight: Any = None,
    multi_label: bool = False,
    label_weights: Any = None,
    thresholds_distributed_evenly: bool = False,
    thresholds_tensor: torch.Tensor | None = None,
) -> None:
    """Adds this batch's true/false positive/negative counts at each threshold to the given variables.

    Args:
        variables_to_update: ``{ConfusionMatrix.X: Variable}``.
        y_true, y_pred: labels (cast to bool) and scores; same shape after squeezing a trailing 1.
        thresholds: Python list/array of thresholds (a prediction counts as positive when ``> threshold``).
        top_k: keep only the top k predictions per sample (others become ``-1e10``).
        class_id: only this class (last axis index) is considered.
        sample_weight: optional weights broadcastable to ``y_pred``.
        multi_label: keep the label axis (variables of shape (T, L)) instead of flattening it.
        label_weights: per-label weights (not with ``multi_label``).
        thresholds_distributed_evenly: use the bucketed O(N) algorithm.
        thresholds_tensor: the thresholds as a tensor on the state device (cached by the caller).
    """
    if multi_label and label_weights is not None:
        raise ValueError(
            "`label_weights` for multilabel data should be handled outside of "
            "`update_confusion_matrix_variables` when `multi_label` is True."
        )
    if variables_to_update is None:
        return
    invalid = [k for k in variables_to_update if k not in list(ConfusionMatrix)]
    if invalid or not variables_to_update:
        raise ValueError(f'Invalid keys: "{invalid}". Valid variable key options are: "{list(ConfusionMatrix)}"')
    first = next(iter(variables_to_update.values()))
    dtype, device = first.value.dtype, first.value.device
    thresholds_list = to_list(thresholds)
    y_true, y_pred, sample_weight, label_weights = _confusion_inputs(
        y_true, y_pred, sample_weight, label_weights, top_k, class_id, dtype, device
    )
    if thresholds_distributed_evenly:
        with_epsilon = thresholds_list[0] < 0.0 or thresholds_list[-1] > 1.0
        _update_optimized(
            variables_to_update, y_true, y_pred, len(thresholds_list), multi_label, sample_weight, label_weights,
            with_epsilon,
        )  # fmt: skip
        return
    if thresholds_tensor is None:
        thresholds_tensor = torch.tensor(thresholds_list, dtype=dtype, device=device)
    _update_thresholded(
        variables_to_update, y_true, y_pred, thresholds_tensor.to(dtype), multi_label, sample_weight, label_weights
    )


def _confusion_inputs(
    y_true: Any, y_pred: Any, sample_weight: Any, label_weights: Any, top_k: Any, class_id: Any, dtype: Any, device: Any
) -> tuple[torch.Tensor, torch.Tensor, Any, Any]:
    """Labels, scores and weights as tensors of the state's dtype and device, with ``top_k`` and ``class_id``
    applied and ranks matched, as Keras prepares them."""
    y_true = to_tensor(y_true, device=device).to(dtype)
    y_pred = to_tensor(y_pred, device=device).to(dtype)
    y_pred, y_true = squeeze_or_expand_to_same_rank(y_pred, y_true)
    if sample_weight is not None:
        sample_weight = to_tensor(sample_weight, dtype=dtype, device=device).unsqueeze(-1)
        _, sample_weight = squeeze_or_expand_to_same_rank(y_true, sample_weight, expand_rank_1=False)
    if top_k is not None:
        y_pred = _filter_top_k(y_pred, top_k)
    if class_id is not None:
        if y_pred.ndim == 1:
            raise ValueError(
                "When class_id is provided, y_pred must be a 2D array with shape "
                f"(num_samples, num_classes), found shape: {tuple(y_pred.shape)}"
            )
        y_true = y_true[..., class_id, None]
        y_pred = y_pred[..., class_id, None]
    if label_weights is not None:
        label_weights = to_tensor(label_weights, dtype=dtype, device=device)
    return y_true, y_pred, sample_weight, label_weights


def _update_thresholded(
    variables_to_update: dict,
    y_true: torch.Tensor,
    y_pred: torch.Tensor,
    thresholds: torch.Tensor,
    multi_label: bool,
    sample_weight: Any,
    label_weights: Any,
) -> None:
    """Adds the counts at every threshold (a ``(T, N)`` comparison), weighted by sample and label weights."""
    num_thresholds = thresholds.shape[0]
    if multi_label:
        preds = y_pred.unsqueeze(0)  # (1, N, L)
        labels = y_true.bool().unsqueeze(0)
        thresh = thresholds.reshape(num_thresholds, 1, 1)
    else:
        preds = y_pred.reshape(1, -1)  # (1, N * L)
        labels = y_true.bool().reshape(1, -1)
        thresh = thresholds.reshape(num_thresholds, 1)
    pred_is_pos = preds > thresh  # (T, N*L) or (T, N, L)
    weights = None
    if sample_weight is not None:
        weights = torch.broadcast_to(sample_weight.to(y_pred.dtype), y_pred.shape).reshape(preds.shape)
    if label_weights is not None and not multi_label:
        lw = torch.broadcast_to(label_weights.unsqueeze(0), y_pred.shape).reshape(preds.shape)
        weights = lw if weights is None else weights * lw

    def add(label: torch.Tensor, pred: torch.Tensor, var: Any) -> None:
        both = label & pred
        if weights is not None:
            counts = torch.where(both, weights.to(var.value.dtype), 0.0)
        else:
            counts = both.to(var.value.dtype)
        var.value.add_(torch.sum(counts, dim=1))

    cm = ConfusionMatrix
    if cm.TRUE_POSITIVES in variables_to_update:
        add(labels, pred_is_pos, variables_to_update[cm.TRUE_POSITIVES])
    if cm.FALSE_NEGATIVES in variables_to_update:
        add(labels, ~pred_is_pos, variables_to_update[cm.FALSE_NEGATIVES])
    if cm.FALSE_POSITIVES in variables_to_update:
        add(~labels, pred_is_pos, variables_to_update[cm.FALSE_POSITIVES])
    if cm.TRUE_NEGATIVES in variables_to_update:
        add(~labels, ~pred_is_pos, variables_to_update[cm.TRUE_NEGATIVES])


def _filter_top_k(x: torch.Tensor, k: int) -> torch.Tensor:
    """Keeps the top ``k`` values along the last axis and sets the others to ``-1e10``."""
    idx = torch.topk(x, k, dim=-1).indices
    mask = torch.zeros_like(x).scatter_(-1, idx, 1.0)
    return x * mask + NEG_INF * (1 - mask)


def confusion_matrix(
    labels: torch.Tensor, predictions: torch.Tensor, num_classes: int, weights: Any = None, dtype: Any = torch.int32
) -> torch.Tensor:
    """The ``(num_classes, num_classes)`` matrix counting (label, prediction) pairs, weighted if asked."""
    labels, predictions = squeeze_or_expand_to_same_rank(labels, predictions)
    dtype = labels.dtype if dtype is None else dtype
    flat = labels.long() * num_classes + predictions.long()
    values = torch.ones_like(flat, dtype=dtype) if weights is None else weights.to(dtype)
    values = torch.broadcast_to(values, flat.shape)
    out = torch.zeros(num_classes * num_classes, dtype=dtype, device=flat.device)
    out.scatter_add_(0, flat.reshape(-1), values.reshape(-1))
    return out.reshape(num_classes, num_classes)


def argmax_labels(y: torch.Tensor, dim: int = -1) -> torch.Tensor:
    """``argmax`` that also takes boolean one-hot labels (torch's argmax refuses bool; Keras's does not)."""
    return torch.argmax(y.to(torch.uint8) if y.dtype == torch.bool else y, dim=dim)
