"""Confusion-matrix metrics: counts, ``Precision``, ``Recall``, ``AUC`` and the "X at Y" metrics.

A prediction counts as positive when it is strictly greater than a threshold. Counts accumulate on the
device of the data; ``result`` is computed there too.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from lamina.losses.loss import EPSILON, divide_no_nan
from lamina.metrics import metrics_utils
from lamina.metrics.metric import Metric
from lamina.metrics.metrics_utils import ConfusionMatrix

_THRESHOLDS_DOC = """thresholds: a float or list of floats in ``[0, 1]``; a prediction above a threshold is
            positive. Default 0.5 (or, with ``top_k``, every top-k prediction)."""


class _ThresholdsMixin:
    """Caches the thresholds as a tensor on the state's device (no host-to-device copy per update)."""

    _thresholds_cache: torch.Tensor | None = None

    def _thresholds_on_device(self, thresholds: Any) -> torch.Tensor:
        cache = self._thresholds_cache
        device = self.device
        if cache is None or cache.device != device:
            cache = torch.tensor(metrics_utils.to_list(thresholds), dtype=torch.float32, device=device)
            self._thresholds_cache = cache
        return cache


class _ConfusionMatrixConditionCount(_ThresholdsMixin, Metric):
    """Counts one cell of the confusion matrix at each threshold."""

    def __init__(
        self, confusion_matrix_cond: ConfusionMatrix, thresholds: Any = None, name: str | None = None, dtype: Any = None
    ) -> None:
        super().__init__(name=name, dtype=dtype)
        self._confusion_matrix_cond = confusion_matrix_cond
        self.init_thresholds = thresholds
        self.thresholds = metrics_utils.parse_init_thresholds(thresholds, default_threshold=0.5)
        self._thresholds_distributed_evenly = metrics_utils.is_evenly_distributed_thresholds(self.thresholds)
        self.accumulator = self.add_variable(shape=(len(self.thresholds),), initializer="zeros", name="accumulator")

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        metrics_utils.update_confusion_matrix_variables(
            {self._confusion_matrix_cond: self.accumulator},
            y_true,
            y_pred,
            thresholds=self.thresholds,
            thresholds_distributed_evenly=self._thresholds_distributed_evenly,
            sample_weight=sample_weight,
            thresholds_tensor=self._thresholds_on_device(self.thresholds),
        )

    def result(self) -> torch.Tensor:
        acc = self.accumulator.value
        return acc[0].clone() if len(self.thresholds) == 1 else acc.clone()

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "thresholds": self.init_thresholds}


class FalsePositives(_ConfusionMatrixConditionCount):
    """Number (or weighted sum) of false positives at each threshold.

    Args:
        thresholds: a float or list of floats in ``[0, 1]`` (default 0.5).
        name: metric name.
        dtype: state dtype.

    Example:
        >>> import lamina
        >>> float(lamina.metrics.FalsePositives()([0, 1, 0, 0], [0, 0, 1, 1]))
        2.0
    """

    def __init__(self, thresholds: Any = None, name: str | None = None, dtype: Any = None) -> None:
        super().__init__(ConfusionMatrix.FALSE_POSITIVES, thresholds=thresholds, name=name, dtype=dtype)


class FalseNegatives(_ConfusionMatrixConditionCount):
    """Number (or weighted sum) of false negatives at each threshold (see :class:`FalsePositives`)."""

    def __init__(self, thresholds: Any = None, name: str | None = None, dtype: Any = None) -> None:
        super().__init__(ConfusionMatrix.FALSE_NEGATIVES, thresholds=thresholds, name=name, dtype=dtype)


class TrueNegatives(_ConfusionMatrixConditionCount):
    """Number (or weighted sum) of true negatives at each threshold (see :class:`FalsePositives`)."""

    def __init__(self, thresholds: Any = None, name: str | None = None, dtype: Any = None) -> None:
        super().__init__(ConfusionMatrix.TRUE_NEGATIVES, thresholds=thresholds, name=name, dtype=dtype)


class TruePositives(_ConfusionMatrixConditionCount):
    """Number (or weighted sum) of true positives at each threshold (see :class:`FalsePositives`)."""

    def __init__(self, thresholds: Any = None, name: str | None = None, dtype: Any = None) -> None:
        super().__init__(ConfusionMatrix.TRUE_POSITIVES, thresholds=thresholds, name=name, dtype=dtype)


class _PrecisionRecallBase(_ThresholdsMixin, Metric):
    _second: ConfusionMatrix

    def __init__(
        self,
        thresholds: Any = None,
        top_k: int | None = None,
        class_id: int | None = None,
        name: str | None = None,
        dtype: Any = None,
    ) -> None:
        super().__init__(name=name, dtype=dtype)
        self._direction = "up"
        self.init_thresholds = thresholds
        self.top_k = top_k
        self.class_id = class_id
        default_threshold = 0.5 if top_k is None else metrics_utils.NEG_INF
        self.thresholds = metrics_utils.parse_init_thresholds(thresholds, default_threshold=default_threshold)
        self._thresholds_distributed_evenly = metrics_utils.is_evenly_distributed_thresholds(self.thresholds)
        n = len(self.thresholds)
        self.true_positives = self.add_variable(shape=(n,), initializer="zeros", name="true_positives")
        second = "false_positives" if self._second is ConfusionMatrix.FALSE_POSITIVES else "false_negatives"
        setattr(self, second, self.add_variable(shape=(n,), initializer="zeros", name=second))
        self._second_var = getattr(self, second)

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        """Accumulates true positives and false positives (Precision) or false negatives (Recall)."""
        metrics_utils.update_confusion_matrix_variables(
            {ConfusionMatrix.TRUE_POSITIVES: self.true_positives, self._second: self._second_var},
            y_true,
            y_pred,
            thresholds=self.thresholds,
            thresholds_distributed_evenly=self._thresholds_distributed_evenly,
            top_k=self.top_k,
            class_id=self.class_id,
            sample_weight=sample_weight,
            thresholds_tensor=self._thresholds_on_device(self.thresholds),
        )

    def result(self) -> torch.Tensor:
        tp = self.true_positives.value
        result = divide_no_nan(tp, tp + self._second_var.value)
        return result[0] if len(self.thresholds) == 1 else result

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "thresholds": self.init_thresholds,
            "top_k": self.top_k,
            "class_id": self.class_id,
        }


class Precision(_PrecisionRecallBase):
    """``true_positives / (true_positives + false_positives)``.

    Args:
        thresholds: a float or list of floats in ``[0, 1]``; predictions above are positive. Default 0.5
            (with ``top_k``: every top-k prediction).
        top_k: only the ``k`` highest predictions per sample count as positive.
        class_id: compute the metric for this class only.
        name: metric name.
        dtype: state dtype.

    Example:
        >>> import lamina
        >>> float(lamina.metrics.Precision()([0, 1, 1, 1], [1, 0, 1, 1]))
        0.6666666865348816
    """

    _second = ConfusionMatrix.FALSE_POSITIVES


class Recall(_PrecisionRecallBase):
    """``true_positives / (true_positives + false_negatives)``; arguments as :class:`Precision`.

    Example:
        >>> import lamina
        >>> float(lamina.metrics.Recall()([0, 1, 1, 1], [1, 0, 1, 1]))
        0.6666666865348816
    """

    _second = ConfusionMatrix.FALSE_NEGATIVES


class SensitivitySpecificityBase(_ThresholdsMixin, Metric):
    """Base of the "X at Y" metrics: all four counts at ``num_thresholds`` evenly spaced thresholds."""

    def __init__(
        self,
        value: float,
        num_thresholds: int = 200,
        class_id: int | None = None,
        name: str | None = None,
        dtype: Any = None,
    ) -> None:
        super().__init__(name=name, dtype=dtype)
        self._direction = "up"
        if num_thresholds <= 0:
            raise ValueError(
                f"Argument `num_thresholds` must be an integer > 0. Received: num_thresholds={num_thresholds}"
            )
        self.value = value
        self.class_id = class_id
        if num_thresholds == 1:
            self.thresholds = [0.5]
            self._thresholds_distributed_evenly = False
        else:
            inner = [(i + 1) * 1.0 / (num_thresholds - 1) for i in range(num_thresholds - 2)]
            self.thresholds = [0.0] + inner + [1.0]
            self._thresholds_distributed_evenly = True
        n = len(self.thresholds)
        self.true_positives = self.add_variable(shape=(n,), initializer="zeros", name="true_positives")
        self.false_positives = self.add_variable(shape=(n,), initializer="zeros", name="false_positives")
        self.true_negatives = self.add_variable(shape=(n,), initializer="zeros", name="true_negatives")
        self.false_negatives = self.add_variable(shape=(n,), initializer="zeros", name="false_negatives")

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        """Accumulates the four confusion counts at every threshold."""
        metrics_utils.update_confusion_matrix_variables(
            {
                ConfusionMatrix.TRUE_POSITIVES: self.true_positives,
                ConfusionMatrix.TRUE_NEGATIVES: self.true_negatives,
                ConfusionMatrix.FALSE_POSITIVES: self.false_positives,
                ConfusionMatrix.FALSE_NEGATIVES: self.false_negatives,
            },
            y_true,
            y_pred,
            thresholds=self.thresholds,
            thresholds_distributed_evenly=self._thresholds_distributed_evenly,
            class_id=self.class_id,
            sample_weight=sample_weight,
            thresholds_tensor=self._thresholds_on_device(self.thresholds),
        )

    def _rates(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        tp, fp = self.true_positives.value, self.false_positives.value
        tn, fn = self.true_negatives.value, self.false_negatives.value
        sensitivity = divide_no_nan(tp, tp + fn)  # = recall
        specificity = divide_no_nan(tn, tn + fp)
        precision = divide_no_nan(tp, tp + fp)
        return sensitivity, specificity, precision

    def _find_max_under_constraint(self, constrained: torch.Tensor, dependent: torch.Tensor) -> torch.Tensor:
        """The largest ``dependent`` value among thresholds where ``constrained >= value`` (0 if none)."""
        feasible = constrained >= self.value
        return torch.clamp(torch.amax(torch.where(feasible, dependent, 0.0)), min=0.0)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "class_id": self.class_id}


def _check_unit(name: str, value: float) -> None:
    if value < 0 or value > 1:
        raise ValueError(f"Argument `{name}` must be in the range [0, 1]. Received: {name}={value}")


class SensitivityAtSpecificity(SensitivitySpecificityBase):
    """Best sensitivity (recall) over thresholds whose specificity is at least ``specificity``.

    Args:
        specificity: the minimum specificity, in ``[0, 1]``.
        num_thresholds: number of evenly spaced thresholds (default 200).
        class_id: compute the metric for this class only.
        name: metric name.
        dtype: state dtype.
    """

    def __init__(
        self,
        specificity: float,
        num_thresholds: int = 200,
        class_id: int | None = None,
        name: str | None = None,
        dtype: Any = None,
    ) -> None:
        _check_unit("specificity", specificity)
        self.specificity = specificity
        self.num_thresholds = num_thresholds
        super().__init__(specificity, num_thresholds=num_thresholds, class_id=class_id, name=name, dtype=dtype)

    def result(self) -> torch.Tensor:
        sensitivity, specificity, _ = self._rates()
        return self._find_max_under_constraint(specificity, sensitivity)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "num_thresholds": self.num_thresholds, "specificity": self.specificity}


class SpecificityAtSensitivity(SensitivitySpecificityBase):
    """Best specificity over thresholds whose sensitivity is at least ``sensitivity``.

    Args:
        sensitivity: the minimum sensitivity, in ``[0, 1]``.
        num_thresholds, class_id, name, dtype: as :class:`SensitivityAtSpecificity`.
    """

    def __init__(
        self,
        sensitivity: float,
        num_thresholds: int = 200,
        class_id: int | None = None,
        name: str | None = None,
        dtype: Any = None,
    ) -> None:
        _check_unit("sensitivity", sensitivity)
        self.sensitivity = sensitivity
        self.num_thresholds = num_thresholds
        super().__init__(sensitivity, num_thresholds=num_thresholds, class_id=class_id, name=name, dtype=dtype)

    def result(self) -> torch.Tensor:
        sensitivity, specificity, _ = self._rates()
        return self._find_max_under_constraint(sensitivity, specificity)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "num_thresholds": self.num_thresholds, "sensitivity": self.sensitivity}


class PrecisionAtRecall(SensitivitySpecificityBase):
    """Best precision over thresholds whose recall is at least ``recall``.

    Args:
        recall: the minimum recall, in ``[0, 1]``.
        num_thresholds, class_id, name, dtype: as :class:`SensitivityAtSpecificity`.
    """

    def __init__(
        self,
        recall: float,
        num_thresholds: int = 200,
        class_id: int | None = None,
        name: str | None = None,
        dtype: Any = None,
    ) -> None:
        _check_unit("recall", recall)
        self.recall = recall
        self.num_thresholds = num_thresholds
        super().__init__(value=recall, num_thresholds=num_thresholds, class_id=class_id, name=name, dtype=dtype)

    def result(self) -> torch.Tensor:
        recall, _, precision = self._rates()
        return self._find_max_under_constraint(recall, precision)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "num_thresholds": self.num_thresholds, "recall": self.recall}


class RecallAtPrecision(SensitivitySpecificityBase):
    """Best recall over thresholds whose precision is at least ``precision``.

    Args:
        precision: the minimum precision, in ``[0, 1]``.
        num_thresholds, class_id, name, dtype: as :class:`SensitivityAtSpecificity`.
    """

    def __init__(
        self,
        precision: float,
        num_thresholds: int = 200,
        class_id: int | None = None,
        name: str | None = None,
        dtype: Any = None,
    ) -> None:
        _check_unit("precision", precision)
        self.precision = precision
        self.num_thresholds = num_thresholds
        super().__init__(value=precision, num_thresholds=num_thresholds, class_id=class_id, name=name, dtype=dtype)

    def result(self) -> torch.Tensor:
        recall, _, precision = self._rates()
        return self._find_max_under_constraint(precision, recall)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "num_thresholds": self.num_thresholds, "precision": self.precision}


class AUC(_ThresholdsMixin, Metric):
    """Area under the ROC or PR curve, by a Riemann sum over ``num_thresholds`` thresholds.

    Args:
        num_thresholds: number of thresholds (default 200, > 1).
        curve: ``"ROC"`` (default), ``"PR"`` or ``"PRGAIN"``.
        summation_method: ``"interpolation"`` (default), ``"majoring"`` or ``"minoring"``.
        name: metric name.
        dtype: state dtype.
        thresholds: explicit thresholds in ``[0, 1]`` (then ``num_thresholds`` is ignored).
        multi_label: keep one curve per label (2-D ``y_pred``) and average the AUCs.
        num_labels: number of labels with ``multi_label`` (else taken from the first batch).
        label_weights: weights of the labels in the average (or in the counts when not multi-label).
        from_logits: apply a sigmoid to ``y_pred`` first.

    Example:
        >>> import lamina
        >>> m = lamina.metrics.AUC(num_thresholds=3)
        >>> float(m([0, 0, 1, 1], [0, 0.5, 0.3, 0.9]))
        0.75
    """

    def __init__(
        self,
        num_thresholds: int = 200,
        curve: Any = "ROC",
        summation_method: Any = "interpolation",
        name: str | None = None,
        dtype: Any = None,
        thresholds: Any = None,
        multi_label: bool = False,
        num_labels: int | None = None,
        label_weights: Any = None,
        from_logits: bool = False,
    ) -> None:
        self._init_from_thresholds = thresholds is not None
        if thresholds is not None:
            self.num_thresholds = len(thresholds) + 2
            thresholds = sorted(thresholds)
            self._thresholds_distributed_evenly = metrics_utils.is_evenly_distributed_thresholds(
                np.array([0.0] + thresholds + [1.0])
            )
        else:
            if num_thresholds <= 1:
                raise ValueError(
                    f"Argument `num_thresholds` must be an integer > 1. Received: num_thresholds={num_thresholds}"
                )
            self.num_thresholds = num_thresholds
            thresholds = [(i + 1) * 1.0 / (num_thresholds - 1) for i in range(num_thresholds - 2)]
            self._thresholds_distributed_evenly = True
        # End points just outside [0, 1] so that predictions of exactly 0 and 1 are counted.
        self._thresholds = np.array([0.0 - EPSILON] + thresholds + [1.0 + EPSILON])
        self.curve = curve if isinstance(curve, metrics_utils.AUCCurve) else metrics_utils.AUCCurve.from_str(curve)
        self.summation_method = (
            summation_method
            if isinstance(summation_method, metrics_utils.AUCSummationMethod)
            else metrics_utils.AUCSummationMethod.from_str(summation_method)
        )
        super().__init__(name=name, dtype=dtype)
        self._direction = "up"
        self.multi_label = multi_label
        self.num_labels = num_labels
        if label_weights is not None:
            self.label_weights = self._tensor(label_weights, dtype=self.dtype)
        else:
            self.label_weights = None
        self._from_logits = from_logits
        self._built = False
        if self.multi_label:
            if num_labels:
                self._build([None, num_labels])
        else:
            if num_labels:
                raise ValueError("`num_labels` is needed only when `multi_label` is True.")
            self._build(None)

    @property
    def thresholds(self) -> list[float]:
        """The thresholds, including the end points just below 0 and above 1."""
        return list(self._thresholds)

    def _build(self, shape: Any) -> None:
        if self.multi_label:
            if len(shape) != 2:
                raise ValueError(
                    f"`y_pred` must have rank 2 when `multi_label=True`. Found rank {len(shape)}. "
                    f"Full shape received for `y_pred`: {tuple(shape)}"
                )
            self._num_labels = shape[1]
            variable_shape = (self.num_thresholds, self._num_labels)
        else:
            variable_shape = (self.num_thresholds,)
        self._build_input_shape = shape
        self.true_positives = self.add_variable(shape=variable_shape, initializer="zeros", name="true_positives")
        self.false_positives = self.add_variable(shape=variable_shape, initializer="zeros", name="false_positives")
        self.true_negatives = self.add_variable(shape=variable_shape, initializer="zeros", name="true_negatives")
        self.false_negatives = self.add_variable(shape=variable_shape, initializer="zeros", name="false_negatives")
        self._built = True

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        """Accumulates the confusion counts of a batch at every threshold."""
        if not self._built:
            self._build(tuple(np.shape(y_pred)) if not isinstance(y_pred, torch.Tensor) else tuple(y_pred.shape))
        label_weights = None if self.multi_label else self.label_weights
        if self._from_logits:
            y_pred = torch.sigmoid(self._tensor(y_pred) if not isinstance(y_pred, torch.Tensor) else y_pred)
        metrics_utils.update_confusion_matrix_variables(
            {
                ConfusionMatrix.TRUE_POSITIVES: self.true_positives,
                ConfusionMatrix.TRUE_NEGATIVES: self.true_negatives,
                ConfusionMatrix.FALSE_POSITIVES: self.false_positives,
                ConfusionMatrix.FALSE_NEGATIVES: self.false_negatives,
            },
            y_true,
            y_pred,
            self._thresholds,
            thresholds_distributed_evenly=self._thresholds_distributed_evenly,
            sample_weight=sample_weight,
            multi_label=self.multi_label,
            label_weights=label_weights,
            thresholds_tensor=None
            if self._thresholds_distributed_evenly
            else self._thresholds_on_device(self._thresholds),
        )

    def _move_to(self, device: torch.device) -> None:
        super()._move_to(device)
        if self.label_weights is not None:
            self.label_weights = self.label_weights.to(device)

    def _label_average(self, by_label: torch.Tensor) -> torch.Tensor:
        if self.label_weights is None:
            return torch.mean(by_label)
        lw = self.label_weights.to(by_label.device)
        return divide_no_nan(torch.sum(by_label * lw), torch.sum(lw))

    def interpolate_pr_auc(self) -> torch.Tensor:
        """PR AUC by the interpolation of Davis & Goadrich (2006), as Keras computes it."""
        n = self.num_thresholds
        tp, fp, fn = self.true_positives.value, self.false_positives.value, self.false_negatives.value
        dtp = tp[: n - 1] - tp[1:]
        p = tp + fp
        dp = p[: n - 1] - p[1:]
        prec_slope = divide_no_nan(dtp, torch.clamp(dp, min=0))
        intercept = tp[1:] - prec_slope * p[1:]
        safe_p_ratio = torch.where(
            (p[: n - 1] > 0) & (p[1:] > 0), divide_no_nan(p[: n - 1], torch.clamp(p[1:], min=0)), torch.ones_like(p[1:])
        )
        pr_auc_increment = divide_no_nan(
            prec_slope * (dtp + intercept * torch.log(safe_p_ratio)), torch.clamp(tp[1:] + fn[1:], min=0)
        )
        if self.multi_label:
            return self._label_average(torch.sum(pr_auc_increment, dim=0))
        return torch.sum(pr_auc_increment)

    def result(self) -> torch.Tensor:
        if (
            self.curve == metrics_utils.AUCCurve.PR
            and self.summation_method == metrics_utils.AUCSummationMethod.INTERPOLATION
        ):
            return self.interpolate_pr_auc()
        n = self.num_thresholds
        tp, fp = self.true_positives.value, self.false_positives.value
        tn, fn = self.true_negatives.value, self.false_negatives.value
        recall = divide_no_nan(tp, tp + fn)
        if self.curve == metrics_utils.AUCCurve.ROC:
            x, y = divide_no_nan(fp, fp + tn), recall
        elif self.curve == metrics_utils.AUCCurve.PR:
            x, y = recall, divide_no_nan(tp, tp + fp)
        else:  # PRGAIN; see Keras for the handling of the degenerate cases.
            scaling = divide_no_nan(tp + fn, tn + fp)
            recall_gain = 1.0 - scaling * divide_no_nan(fn, tp)
            precision_gain = 1.0 - scaling * divide_no_nan(fp, tp)
            recall_gain = torch.where(tp == 0, 0.0, recall_gain)
            precision_gain = torch.where(tp == 0, 1.0, precision_gain)
            x, y = torch.clamp(recall_gain, min=0.0), precision_gain
        if self.summation_method == metrics_utils.AUCSummationMethod.INTERPOLATION:
            heights = (y[: n - 1] + y[1:]) / 2.0
        elif self.summation_method == metrics_utils.AUCSummationMethod.MINORING:
            heights = torch.minimum(y[: n - 1], y[1:])
        else:
            heights = torch.maximum(y[: n - 1], y[1:])
        riemann_terms = (x[: n - 1] - x[1:]) * heights
        if self.multi_label:
            return self._label_average(torch.sum(riemann_terms, dim=0))
        return torch.sum(riemann_terms)

    def reset_state(self) -> None:
        if self._built:
            super().reset_state()

    def get_config(self) -> dict[str, Any]:
        label_weights = self.label_weights
        config = {
            "num_thresholds": self.num_thresholds,
            "curve": self.curve.value,
            "summation_method": self.summation_method.value,
            "multi_label": self.multi_label,
            "num_labels": self.num_labels,
            "label_weights": None if label_weights is None else label_weights.tolist(),
            "from_logits": self._from_logits,
        }
        if self._init_from_thresholds:
            config["thresholds"] = [float(t) for t in self.thresholds[1:-1]]
        return {**super().get_config(), **config}
