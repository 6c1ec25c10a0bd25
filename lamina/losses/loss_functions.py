"""The Keras loss functions: per-sample values from ``(y_true, y_pred)``.

Functions take tensors, arrays or lists and return per-sample values on ``y_pred``'s device; the ``Loss``
classes in :mod:`lamina.losses.losses` add reduction, sample weights and masks. Numbers match
``keras.losses`` (torch backend), including the ``1e-7`` clipping of probabilities.

Example:
    >>> from lamina.losses import loss_functions
    >>> loss_functions.mean_squared_error([[0.0, 1.0]], [[1.0, 1.0]]).tolist()
    [0.5]
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import torch
import torch.nn.functional as F

from lamina import backend, serialization
from lamina.losses.loss import (
    EPSILON,
    squeeze_or_expand_to_same_rank,
    to_tensor,
)

# ---------------------------------------------------------------------------- helpers


def _pred(y_pred: Any) -> torch.Tensor:
    """``y_pred`` as a float tensor (integer predictions, e.g. in metrics, compute in ``floatx``)."""
    y_pred = to_tensor(y_pred)
    if not (y_pred.dtype.is_floating_point or y_pred.dtype.is_complex):
        y_pred = y_pred.to(backend.torch_dtype(backend.floatx()))
    return y_pred


def _pair(y_true: Any, y_pred: Any) -> tuple[torch.Tensor, torch.Tensor]:
    """``y_pred`` as a tensor and ``y_true`` cast to its dtype and device."""
    y_pred = _pred(y_pred)
    y_true = to_tensor(y_true, dtype=y_pred.dtype, device=y_pred.device)
    return y_true, y_pred


def normalize(x: torch.Tensor, axis: int = -1) -> torch.Tensor:
    """L2-normalizes ``x`` along ``axis`` as ``keras.ops.normalize`` (``x * min(rsqrt(sum x^2), 1/eps)``)."""
    if x.ndim == 0:
        x = x.unsqueeze(0)
    inv_norm = torch.rsqrt(torch.sum(x * x, dim=axis, keepdim=True))
    return x * torch.clamp(inv_norm, max=1.0 / EPSILON)


def _check_axis(axis: Any) -> None:
    if isinstance(axis, bool):
        raise ValueError(f"`axis` must be of type `int`. Received: axis={axis} of type {type(axis)}")


def _same_shape_or_raise(target: torch.Tensor, output: torch.Tensor, loss: str) -> None:
    if target.shape != output.shape:
        hint = ""
        if target.ndim < output.ndim or (target.ndim == output.ndim and target.shape[-1] == 1 and output.shape[-1] > 1):
            hint = (
                " The labels look like integer class ids: use `sparse_categorical_crossentropy` "
                "(or one-hot encode them)."
            )
        raise ValueError(
            f"{loss} expects `y_true` and `y_pred` of the same shape, but received "
            f"y_true.shape={tuple(target.shape)} and y_pred.shape={tuple(output.shape)}.{hint}"
        )


def _bce_elementwise(target: torch.Tensor, output: torch.Tensor, from_logits: bool) -> torch.Tensor:
    """Elementwise binary crossentropy of ``keras.ops.binary_crossentropy``."""
    if target.shape != output.shape:
        raise ValueError(
            "binary_crossentropy expects `y_true` and `y_pred` of the same shape, but received "
            f"y_true.shape={tuple(target.shape)} and y_pred.shape={tuple(output.shape)}."
        )
    if from_logits:
        return F.binary_cross_entropy_with_logits(output, target, reduction="none")
    output = torch.clamp(output, EPSILON, 1.0 - EPSILON)
    # The formula of F.binary_cross_entropy, written out so it also runs under autocast.
    return -(target * torch.log(output) + (1.0 - target) * torch.log(1.0 - output))


def _sparse_target(target: torch.Tensor, output: torch.Tensor, axis: int, loss: str) -> torch.Tensor:
    """Integer class ids shaped as ``output`` without its class axis (squeezing a size-1 class axis)."""
    if target.ndim == output.ndim and target.ndim > 0 and target.shape[axis] == 1:
        target = target.squeeze(axis)
    if output.ndim < 1:
        raise ValueError(f"Argument `output` must be at least rank 1. Received: output.shape={tuple(output.shape)}")
    expected = list(output.shape)
    del expected[axis]
    if list(target.shape) != expected:
        raise ValueError(
            f"{loss} expects integer labels of shape {tuple(expected)} (or {tuple(expected) + (1,)}) for "
            f"predictions of shape {tuple(output.shape)}, but received y_true.shape={tuple(target.shape)} and "
            f"y_pred.shape={tuple(output.shape)}. If your labels are one-hot encoded, use "
            "`categorical_crossentropy` instead."
        )
    return target.long()


def _sparse_ce(target: torch.Tensor, output: torch.Tensor, from_logits: bool, axis: int) -> torch.Tensor:
    """``keras.ops.sparse_categorical_crossentropy``: F.cross_entropy / nll_loss with the class axis at 1."""
    target = _sparse_target(target, output, axis, "sparse_categorical_crossentropy")
    squeeze = output.ndim == 1
    if squeeze:
        output, target = output.unsqueeze(0), target.unsqueeze(0)
    else:
        class_axis = axis % output.ndim
        if class_axis != 1:
            output = output.movedim(class_axis, 1)  # (N, ..., C) -> (N, C, ...), a view
    if from_logits:
        result = F.cross_entropy(output, target, reduction="none")
    else:
        output = output / torch.sum(output, dim=1, keepdim=True)
        output = torch.clamp(output, EPSILON, 1.0 - EPSILON)
        result = F.nll_loss(torch.log(output), target, reduction="none")
    return result.squeeze(0) if squeeze else result


# ---------------------------------------------------------------------------- loss functions


def mean_squared_error(y_true: Any, y_pred: Any) -> torch.Tensor:
    """Mean of ``(y_true - y_pred) ** 2`` over the last axis.

    Example:
        >>> import lamina
        >>> lamina.losses.mean_squared_error([[0.0, 1.0]], [[1.0, 1.0]]).tolist()
        [0.5]
    """
    y_true, y_pred = _pair(y_true, y_pred)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    return torch.mean(torch.square(y_true - y_pred), dim=-1)


def mean_absolute_error(y_true: Any, y_pred: Any) -> torch.Tensor:
    """Mean of ``|y_true - y_pred|`` over the last axis."""
    y_true, y_pred = _pair(y_true, y_pred)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    return torch.mean(torch.abs(y_true - y_pred), dim=-1)


def mean_absolute_percentage_error(y_true: Any, y_pred: Any) -> torch.Tensor:
    """``100 * mean(|(y_true - y_pred) / max(|y_true|, eps)|)`` over the last axis."""
    y_true, y_pred = _pair(y_true, y_pred)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    diff = torch.abs((y_true - y_pred) / torch.clamp(torch.abs(y_true), min=EPSILON))
    return 100.0 * torch.mean(diff, dim=-1)


def mean_squared_logarithmic_error(y_true: Any, y_pred: Any) -> torch.Tensor:
    """Mean of ``(log(max(y_pred, eps) + 1) - log(max(y_true, eps) + 1)) ** 2`` over the last axis."""
    y_true, y_pred = _pair(y_true, y_pred)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    first_log = torch.log(torch.clamp(y_pred, min=EPSILON) + 1.0)
    second_log = torch.log(torch.clamp(y_true, min=EPSILON) + 1.0)
    return torch.mean(torch.square(first_log - second_log), dim=-1)


def cosine_similarity(y_true: Any, y_pred: Any, axis: int = -1) -> torch.Tensor:
    """Negative cosine similarity along ``axis`` (-1 for identical directions, as Keras's loss)."""
    y_true, y_pred = _pair(y_true, y_pred)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    return -torch.sum(normalize(y_true, axis) * normalize(y_pred, axis), dim=axis)


def huber(y_true: Any, y_pred: Any, delta: float = 1.0) -> torch.Tensor:
    """Huber loss: quadratic for ``|error| <= delta``, linear beyond, averaged over the last axis."""
    y_true, y_pred = _pair(y_true, y_pred)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    error = y_pred - y_true
    abs_error = torch.abs(error)
    delta = float(delta)
    quadratic = 0.5 * torch.square(error)
    linear = delta * abs_error - 0.5 * delta * delta
    return torch.mean(torch.where(abs_error <= delta, quadratic, linear), dim=-1)


def log_cosh(y_true: Any, y_pred: Any) -> torch.Tensor:
    """Mean of ``log(cosh(y_pred - y_true))`` over the last axis, computed stably."""
    y_true, y_pred = _pair(y_true, y_pred)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    x = y_pred - y_true
    return torch.mean(x + F.softplus(x * -2.0) - math.log(2.0), dim=-1)


def _hinge_labels(y_true: torch.Tensor) -> torch.Tensor:
    """0/1 labels become -1/1; other labels are kept (decided on device, no host sync)."""
    is_binary = torch.all((y_true == 0) | (y_true == 1))
    return torch.where(is_binary, 2.0 * y_true - 1.0, y_true)


def hinge(y_true: Any, y_pred: Any) -> torch.Tensor:
    """Mean of ``max(1 - y_true * y_pred, 0)``; 0/1 labels are turned into -1/1."""
    y_true, y_pred = _pair(y_true, y_pred)
    y_true = _hinge_labels(y_true)
    return torch.mean(torch.clamp(1.0 - y_true * y_pred, min=0.0), dim=-1)


def squared_hinge(y_true: Any, y_pred: Any) -> torch.Tensor:
    """Mean of ``max(1 - y_true * y_pred, 0) ** 2``; 0/1 labels are turned into -1/1."""
    y_true, y_pred = _pair(y_true, y_pred)
    y_true = _hinge_labels(y_true)
    return torch.mean(torch.square(torch.clamp(1.0 - y_true * y_pred, min=0.0)), dim=-1)


def categorical_hinge(y_true: Any, y_pred: Any) -> torch.Tensor:
    """``max(max((1 - y_true) * y_pred) - sum(y_true * y_pred) + 1, 0)``."""
    y_true, y_pred = _pair(y_true, y_pred)
    pos = torch.sum(y_true * y_pred, dim=-1)
    neg = torch.amax((1.0 - y_true) * y_pred, dim=-1)
    return torch.clamp(neg - pos + 1.0, min=0.0)


def kl_divergence(y_true: Any, y_pred: Any) -> torch.Tensor:
    """``sum(y_true * log(y_true / y_pred))`` with both clipped to ``[eps, 1]``."""
    y_true, y_pred = _pair(y_true, y_pred)
    y_true = torch.clamp(y_true, EPSILON, 1.0)
    y_pred = torch.clamp(y_pred, EPSILON, 1.0)
    return torch.sum(y_true * torch.log(y_true / y_pred), dim=-1)


def poisson(y_true: Any, y_pred: Any) -> torch.Tensor:
    """Mean of ``y_pred - y_true * log(y_pred + eps)`` over the last axis."""
    y_true, y_pred = _pair(y_true, y_pred)
    return torch.mean(y_pred - y_true * torch.log(y_pred + EPSILON), dim=-1)


def _categorical_targets(y_true: torch.Tensor, y_pred: torch.Tensor, label_smoothing: float, loss: str) -> torch.Tensor:
    """Keras's single-class warning for the categorical losses, then the smoothed one-hot targets."""
    if y_pred.shape[-1] == 1:
        warnings.warn(
            f"In loss {loss}, expected y_pred.shape to be (batch_size, num_classes) with num_classes > 1. "
            f"Received: y_pred.shape={tuple(y_pred.shape)}. Consider using 'binary_crossentropy' if you "
            "only have 2 classes.",
            SyntaxWarning,
            stacklevel=3,
        )
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + (label_smoothing / y_true.shape[-1])
    return y_true


def categorical_crossentropy(
    y_true: Any, y_pred: Any, from_logits: bool = False, label_smoothing: float = 0.0, axis: int = -1
) -> torch.Tensor:
    """Crossentropy between one-hot (or soft) labels and predicted probabilities or logits.

    Example:
        >>> import lamina
        >>> round(float(lamina.losses.categorical_crossentropy([[0.0, 1.0]], [[0.5, 0.5]])[0]), 4)
        0.6931
    """
    _check_axis(axis)
    y_true, y_pred = _pair(y_true, y_pred)
    y_true = _categorical_targets(y_true, y_pred, label_smoothing, "categorical_crossentropy")
    _same_shape_or_raise(y_true, y_pred, "categorical_crossentropy")
    if y_true.ndim < 1:
        raise ValueError(
            "Arguments `y_true` and `y_pred` must be at least rank 1. Received: "
            f"y_true.shape={tuple(y_true.shape)}, y_pred.shape={tuple(y_pred.shape)}"
        )
    if from_logits:
        log_prob = F.log_softmax(y_pred, dim=axis)
    else:
        output = y_pred / torch.sum(y_pred, dim=axis, keepdim=True)
        log_prob = torch.log(torch.clamp(output, EPSILON, 1.0 - EPSILON))
    return -torch.sum(y_true * log_prob, dim=axis)


def categorical_focal_crossentropy(
    y_true: Any,
    y_pred: Any,
    alpha: float = 0.25,
    gamma: float = 2.0,
    from_logits: bool = False,
    label_smoothing: float = 0.0,
    axis: int = -1,
) -> torch.Tensor:
    """Categorical crossentropy scaled by ``alpha * (1 - p) ** gamma`` to focus on hard examples."""
    _check_axis(axis)
    y_true, y_pred = _pair(y_true, y_pred)
    y_true = _categorical_targets(y_true, y_pred, label_smoothing, "categorical_focal_crossentropy")
    if from_logits:
        y_pred = torch.softmax(y_pred, dim=axis)
    output = y_pred / torch.sum(y_pred, dim=axis, keepdim=True)
    output = torch.clamp(output, EPSILON, 1.0 - EPSILON)
    cce = -y_true * torch.log(output)
    focal = torch.pow(1.0 - output, gamma) * alpha * cce
    return torch.sum(focal, dim=axis)


def sparse_categorical_crossentropy(
    y_true: Any, y_pred: Any, from_logits: bool = False, ignore_class: int | None = None, axis: int = -1
) -> torch.Tensor:
    """Crossentropy between integer class ids and predicted probabilities or logits.

    ``y_true`` has ``y_pred``'s shape without the class axis (a trailing axis of size 1 is squeezed).
    With ``ignore_class``, entries with that label get loss 0 and are masked out of the mean.

    Raises:
        ValueError: when the label shape does not fit ``y_pred`` (both shapes are named).

    Example:
        >>> import lamina
        >>> [round(v, 4) for v in lamina.losses.sparse_categorical_crossentropy([1], [[0.5, 0.5]]).tolist()]
        [0.6931]
    """
    y_pred = _pred(y_pred)
    y_true = to_tensor(y_true, device=y_pred.device)
    if y_true.ndim == y_pred.ndim and y_true.ndim > 0 and y_true.shape[axis] == 1:
        y_true = y_true.squeeze(axis)
    valid_mask = None
    if ignore_class is not None:
        class_axis = axis % y_pred.ndim
        res_shape = tuple(d for i, d in enumerate(y_pred.shape) if i != class_axis)
        valid_mask = y_true != ignore_class
        y_true = torch.where(valid_mask, y_true, torch.zeros_like(y_true))
        y_pred = torch.where(valid_mask.unsqueeze(axis), y_pred, torch.zeros_like(y_pred))
    res = _sparse_ce(y_true, y_pred, from_logits=from_logits, axis=axis)
    if valid_mask is not None:
        valid_mask = valid_mask.reshape(res_shape)
        res = torch.where(valid_mask, res, torch.zeros_like(res))
        res._keras_mask = valid_mask
    return res


def binary_crossentropy(
    y_true: Any, y_pred: Any, from_logits: bool = False, label_smoothing: float = 0.0, axis: int = -1
) -> torch.Tensor:
    """Binary crossentropy averaged over ``axis``; probabilities are clipped to ``[eps, 1 - eps]``.

    Example:
        >>> import lamina
        >>> [round(v, 4) for v in lamina.losses.binary_crossentropy([[1.0]], [[0.5]]).tolist()]
        [0.6931]
    """
    y_true, y_pred = _pair(y_true, y_pred)
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing
    return torch.mean(_bce_elementwise(y_true, y_pred, from_logits), dim=axis)


def binary_focal_crossentropy(
    y_true: Any,
    y_pred: Any,
    apply_class_balancing: bool = False,
    alpha: float = 0.25,
    gamma: float = 2.0,
    from_logits: bool = False,
    label_smoothing: float = 0.0,
    axis: int = -1,
) -> torch.Tensor:
    """Binary crossentropy scaled by ``(1 - p_t) ** gamma`` (and ``alpha`` balancing when asked)."""
    y_true, y_pred = _pair(y_true, y_pred)
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing
    if from_logits:
        y_pred = torch.sigmoid(y_pred)
    bce = _bce_elementwise(y_true, y_pred, from_logits=False)
    p_t = y_true * y_pred + (1 - y_true) * (1 - y_pred)
    focal_bce = torch.pow(1.0 - p_t, gamma) * bce
    if apply_class_balancing:
        focal_bce = (y_true * alpha + (1 - y_true) * (1 - alpha)) * focal_bce
    return torch.mean(focal_bce, dim=axis)


def ctc(y_true: Any, y_pred: Any) -> torch.Tensor:
    """CTC loss; ``y_true`` (batch, max_label_length) with 0 as padding/blank, ``y_pred`` logits (batch, T, C)."""
    y_pred = _pred(y_pred)
    y_true = to_tensor(y_true, device=y_pred.device)
    if y_true.ndim != 2:
        raise ValueError(
            "Targets `y_true` are expected to be a tensor of shape `(batch_size, max_length)` in "
            f"integer format. Received: y_true.shape={tuple(y_true.shape)}"
        )
    if y_pred.ndim != 3:
        raise ValueError(
            "Logits `y_pred` are expected to be a tensor of shape `(batch_size, max_length, "
            f"num_classes)`. Received: y_pred.shape={tuple(y_pred.shape)}"
        )
    batch, steps = y_pred.shape[0], y_pred.shape[1]
    if not y_pred.dtype.is_floating_point or y_pred.dtype in (torch.float16, torch.bfloat16):
        y_pred = y_pred.float()
    target = y_true.long()
    input_length = torch.full((batch,), steps, dtype=torch.long, device=y_pred.device)
    label_length = torch.sum(target != 0, dim=-1)
    log_probs = F.log_softmax(y_pred.transpose(0, 1), dim=-1)  # (N, T, C) -> (T, N, C)
    return F.ctc_loss(log_probs, target, input_length, label_length, blank=0, reduction="none")


def dice(y_true: Any, y_pred: Any, axis: Any = None) -> torch.Tensor:
    """``1 - 2 * sum(y_true * y_pred) / (sum(y_true) + sum(y_pred) + eps)`` over ``axis`` (all axes if None)."""
    y_true, y_pred = _pair(y_true, y_pred)
    dims = _dims(axis, y_pred.ndim)
    intersection = torch.sum(y_true * y_pred, dim=dims)
    return 1 - 2.0 * intersection / (torch.sum(y_true, dim=dims) + torch.sum(y_pred, dim=dims) + EPSILON)


def tversky(y_true: Any, y_pred: Any, alpha: float = 0.5, beta: float = 0.5, axis: Any = None) -> torch.Tensor:
    """Tversky loss ``1 - TP / (TP + alpha * FP + beta * FN + eps)`` over ``axis`` (all axes if None)."""
    y_true, y_pred = _pair(y_true, y_pred)
    dims = _dims(axis, y_pred.ndim)
    intersection = torch.sum(y_true * y_pred, dim=dims)
    fp = torch.sum((1 - y_pred) * y_true, dim=dims)
    fn = torch.sum(y_pred * (1 - y_true), dim=dims)
    return 1 - intersection / (intersection + fp * alpha + fn * beta + EPSILON)


def _dims(axis: Any, ndim: int) -> Any:
    if axis is None:
        return tuple(range(ndim))
    return axis


def circle(
    y_true: Any,
    y_pred: Any,
    ref_labels: Any = None,
    ref_embeddings: Any = None,
    remove_diagonal: bool = True,
    gamma: float = 80,
    margin: float = 0.4,
) -> torch.Tensor:
    """Circle loss for metric learning on L2-normalized embeddings ``y_pred`` with integer labels ``y_true``."""
    y_pred = _pred(y_pred)
    y_true = to_tensor(y_true, device=y_pred.device).to(torch.int32)
    ref_embeddings = y_pred if ref_embeddings is None else to_tensor(ref_embeddings, device=y_pred.device)
    ref_labels = y_true if ref_labels is None else to_tensor(ref_labels, device=y_pred.device).to(torch.int32)
    optim_pos, optim_neg = margin, 1 + margin
    delta_pos, delta_neg = margin, 1 - margin
    dist = torch.clamp(1 - y_pred @ ref_embeddings.T, min=0.0)
    q = y_true.reshape(-1, 1)
    k = ref_labels.reshape(-1, 1)
    positive = q == k.T
    negative = ~positive
    if remove_diagonal:
        positive = positive & ~torch.eye(q.shape[0], k.shape[0], dtype=torch.bool, device=y_pred.device)
    pos_weights = torch.clamp((optim_pos + dist) * positive.to(dist.dtype), min=0.0)
    neg_weights = torch.clamp((optim_neg - dist) * negative.to(dist.dtype), min=0.0)
    pos_wdists = -1 * gamma * pos_weights * (delta_pos - dist)
    neg_wdists = gamma * neg_weights * (delta_neg - dist)
    p_loss = torch.logsumexp(torch.where(positive, pos_wdists, float("-inf")), dim=1)
    n_loss = torch.logsumexp(torch.where(negative, neg_wdists, float("-inf")), dim=1)
    loss = F.softplus(p_loss + n_loss)
    loss._keras_mask = loss > 0
    return loss


def categorical_generalized_cross_entropy(y_true: Any, y_pred: Any, q: float) -> torch.Tensor:
    """Generalized crossentropy ``(1 - p ** q) / q`` of the true class probability ``p`` (integer labels)."""
    y_pred = _pred(y_pred)
    y_true = to_tensor(y_true, device=y_pred.device)
    one_hot = F.one_hot(y_true.long(), num_classes=y_pred.shape[-1]).to(y_pred.dtype)
    p = torch.sum(y_pred * one_hot, dim=-1)
    return (1 - torch.pow(p, q)) / q


# ---------------------------------------------------------------------------- serialization of functions


def serialize_function(fn: Any) -> Any:
    """Keras's config for a loss/metric function: built-in ones as ``{"module": "builtins", ...}``."""
    module = getattr(fn, "__module__", "") or ""
    if (
        callable(fn)
        and not isinstance(fn, type)
        and not hasattr(fn, "get_config")
        and module.startswith(("lamina.losses", "lamina.metrics"))
    ):
        return {"module": "builtins", "class_name": "function", "config": fn.__name__, "registered_name": "function"}
    return serialization.serialize_keras_object(fn)
