"""Intersection-over-union metrics for segmentation: ``IoU``, ``MeanIoU``, ``BinaryIoU``, one-hot variants.

The state is an integer ``(num_classes, num_classes)`` confusion matrix (rows: labels, columns:
predictions) filled with one ``scatter_add`` per batch; out-of-range ids are dropped on device.
"""

from __future__ import annotations

import warnings
from typing import Any

import torch

from lamina import backend
from lamina.losses.loss import EPSILON, to_tensor
from lamina.metrics.metric import Metric
from lamina.metrics.metrics_utils import argmax_labels, confusion_matrix


class _IoUBase(Metric):
    """Accumulates the confusion matrix for IoU metrics."""

    def __init__(
        self,
        num_classes: int,
        name: str | None = None,
        dtype: Any = None,
        ignore_class: int | None = None,
        sparse_y_true: bool = True,
        sparse_y_pred: bool = True,
        axis: int = -1,
    ) -> None:
        # An integer state, as Keras ("int", which is int32 on the torch backend).
        super().__init__(name=name, dtype=dtype or "int32")
        self._direction = "up"
        self.num_classes = num_classes
        self.ignore_class = ignore_class
        self.sparse_y_true = sparse_y_true
        self.sparse_y_pred = sparse_y_pred
        self.axis = axis
        self.total_cm = self.add_variable(
            name="total_confusion_matrix", shape=(num_classes, num_classes), initializer="zeros", dtype=self.dtype
        )

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        """Adds the batch's (label, prediction) pairs to the confusion matrix."""
        device = self.device
        tdtype = backend.torch_dtype(self.dtype)
        if not self.sparse_y_true:
            y_true = argmax_labels(to_tensor(y_true, device=device), dim=self.axis)
        if not self.sparse_y_pred:
            y_pred = argmax_labels(to_tensor(y_pred, device=device), dim=self.axis)
        y_true = to_tensor(y_true, device=device).to(tdtype).reshape(-1)
        y_pred = to_tensor(y_pred, device=device).to(tdtype).reshape(-1)
        if sample_weight is None:
            weights = torch.ones_like(y_true)
        else:
            if hasattr(sample_weight, "dtype") and "float" in str(sample_weight.dtype) and "int" in str(self.dtype):
                warnings.warn(
                    "You are passing weight as `float`, but dtype is `int`. This may result in an "
                    "incorrect weight due to type casting Consider using integer weights.",
                    stacklevel=2,
                )
            weights = to_tensor(sample_weight, device=device).to(tdtype).reshape(-1)
            weights = torch.broadcast_to(weights, y_true.shape)
        valid = (y_true >= 0) & (y_true < self.num_classes) & (y_pred >= 0) & (y_pred < self.num_classes)
        if self.ignore_class is not None:
            valid = valid & (y_true != self.ignore_class)
        y_true = torch.where(valid, y_true, 0)
        y_pred = torch.where(valid, y_pred, 0)
        weights = torch.where(valid, weights, 0)
        self.total_cm.value.add_(confusion_matrix(y_true, y_pred, self.num_classes, weights=weights, dtype=tdtype))


class IoU(_IoUBase):
    """Intersection over union ``TP / (TP + FP + FN)`` averaged over ``target_class_ids``.

    Classes absent from both labels and predictions are left out of the average.

    Args:
        num_classes: number of classes.
        target_class_ids: the classes to average over.
        name: metric name.
        dtype: state dtype (default int32).
        ignore_class: a label to leave out (e.g. void).
        sparse_y_true: labels are class ids (else one-hot / scores, argmax over ``axis``).
        sparse_y_pred: predictions are class ids (else scores, argmax over ``axis``).
        axis: the class axis for the argmax.

    Example:
        >>> import lamina
        >>> m = lamina.metrics.IoU(num_classes=2, target_class_ids=[0])
        >>> round(float(m([0, 0, 1, 1], [0, 1, 0, 1])), 4)
        0.3333
    """

    def __init__(
        self,
        num_classes: int,
        target_class_ids: Any,
        name: str | None = None,
        dtype: Any = None,
        ignore_class: int | None = None,
        sparse_y_true: bool = True,
        sparse_y_pred: bool = True,
        axis: int = -1,
    ) -> None:
        super().__init__(
            name=name,
            num_classes=num_classes,
            ignore_class=ignore_class,
            sparse_y_true=sparse_y_true,
            sparse_y_pred=sparse_y_pred,
            axis=axis,
            dtype=dtype,
        )
        if max(target_class_ids) >= num_classes:
            raise ValueError(f"Target class id {max(target_class_ids)} is out of range, which is [0, {num_classes}).")
        self.target_class_ids = list(target_class_ids)
        self._weights_cache: torch.Tensor | None = None

    def _target_weights(self, device: torch.device) -> torch.Tensor:
        """How often each class is a target (built with scalar fills on ``device``: no host-to-device copy)."""
        if self._weights_cache is None or self._weights_cache.device != device:
            classes = torch.arange(self.num_classes, device=device)
            weights = torch.zeros(self.num_classes, dtype=torch.float32, device=device)
            for c in self.target_class_ids:
                weights += (classes == c).to(torch.float32)  # Python scalars travel as kernel arguments
            self._weights_cache = weights
        return self._weights_cache

    def result(self) -> torch.Tensor:
        """Mean IoU over the target classes present in labels or predictions."""
        cm = self.total_cm.value
        true_positives = torch.diagonal(cm)
        # sum over rows + sum over columns = 2 TP + FP + FN
        denominator = (cm.sum(dim=0) + cm.sum(dim=1) - true_positives).to(torch.float32)
        true_positives = true_positives.to(torch.float32)
        weights = self._target_weights(cm.device)
        valid = denominator > 1e-9  # classes absent from labels and predictions are left out
        iou = torch.where(valid, true_positives / (denominator + EPSILON), 0.0)
        return torch.sum(iou * weights) / (torch.sum(valid.to(torch.float32) * weights) + EPSILON)

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "num_classes": self.num_classes,
            "target_class_ids": self.target_class_ids,
            "ignore_class": self.ignore_class,
            "sparse_y_true": self.sparse_y_true,
            "sparse_y_pred": self.sparse_y_pred,
            "axis": self.axis,
        }


class BinaryIoU(IoU):
    """IoU for binary tasks: predictions ``>= threshold`` are class 1.

    Args:
        target_class_ids: which of the classes 0 and 1 to average over (default both).
        threshold: the decision threshold (default 0.5).
        name: metric name.
        dtype: state dtype.
    """

    def __init__(
        self, target_class_ids: Any = (0, 1), threshold: float = 0.5, name: str | None = None, dtype: Any = None
    ) -> None:
        super().__init__(num_classes=2, target_class_ids=target_class_ids, name=name, dtype=dtype)
        self.threshold = threshold

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        """Thresholds ``y_pred`` and accumulates the 2x2 confusion matrix."""
        tdtype = backend.torch_dtype(self.dtype)
        y_true = to_tensor(y_true, device=self.device).to(tdtype)
        y_pred = (to_tensor(y_pred, device=self.device).to(torch.float32) >= self.threshold).to(tdtype)
        super().update_state(y_true, y_pred, sample_weight)

    def get_config(self) -> dict[str, Any]:
        return {
            "target_class_ids": self.target_class_ids,
            "threshold": self.threshold,
            "name": self.name,
            "dtype": self._dtype,
        }


class MeanIoU(IoU):
    """IoU averaged over all classes.

    Args:
        num_classes: number of classes.
        name, dtype, ignore_class, sparse_y_true, sparse_y_pred, axis: as :class:`IoU`.

    Example:
        >>> import lamina
        >>> round(float(lamina.metrics.MeanIoU(num_classes=2)([0, 0, 1, 1], [0, 1, 0, 1])), 4)
        0.3333
    """

    def __init__(
        self,
        num_classes: int,
        name: str | None = None,
        dtype: Any = None,
        ignore_class: int | None = None,
        sparse_y_true: bool = True,
        sparse_y_pred: bool = True,
        axis: int = -1,
    ) -> None:
        super().__init__(
            name=name,
            num_classes=num_classes,
            target_class_ids=list(range(num_classes)),
            axis=axis,
            dtype=dtype,
            ignore_class=ignore_class,
            sparse_y_true=sparse_y_true,
            sparse_y_pred=sparse_y_pred,
        )

    def get_config(self) -> dict[str, Any]:
        return {
            "num_classes": self.num_classes,
            "name": self.name,
            "dtype": self._dtype,
            "ignore_class": self.ignore_class,
            "sparse_y_true": self.sparse_y_true,
            "sparse_y_pred": self.sparse_y_pred,
            "axis": self.axis,
        }


class OneHotIoU(IoU):
    """:class:`IoU` for one-hot labels (and, by default, score predictions)."""

    def __init__(
        self,
        num_classes: int,
        target_class_ids: Any,
        name: str | None = None,
        dtype: Any = None,
        ignore_class: int | None = None,
        sparse_y_pred: bool = False,
        axis: int = -1,
    ) -> None:
        super().__init__(
            num_classes=num_classes,
            target_class_ids=target_class_ids,
            name=name,
            dtype=dtype,
            ignore_class=ignore_class,
            sparse_y_true=False,
            sparse_y_pred=sparse_y_pred,
            axis=axis,
        )

    def get_config(self) -> dict[str, Any]:
        return {
            "num_classes": self.num_classes,
            "target_class_ids": self.target_class_ids,
            "name": self.name,
            "dtype": self._dtype,
            "ignore_class": self.ignore_class,
            "sparse_y_pred": self.sparse_y_pred,
            "axis": self.axis,
        }


class OneHotMeanIoU(MeanIoU):
    """:class:`MeanIoU` for one-hot labels (and, by default, score predictions)."""

    def __init__(
        self,
        num_classes: int,
        name: str | None = None,
        dtype: Any = None,
        ignore_class: int | None = None,
        sparse_y_pred: bool = False,
        axis: int = -1,
    ) -> None:
        super().__init__(
            num_classes=num_classes,
            axis=axis,
            name=name,
            dtype=dtype,
            ignore_class=ignore_class,
            sparse_y_true=False,
            sparse_y_pred=sparse_y_pred,
        )

    def get_config(self) -> dict[str, Any]:
        return {
            "num_classes": self.num_classes,
            "name": self.name,
            "dtype": self._dtype,
            "ignore_class": self.ignore_class,
            "sparse_y_pred": self.sparse_y_pred,
            "axis": self.axis,
        }
