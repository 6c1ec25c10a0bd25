"""``Loss`` base class and the reduction / sample-weight / mask rules of ``keras.losses.Loss``.

A loss is called as ``loss(y_true, y_pred, sample_weight=None)``: ``call`` gives per-sample values, then
``sample_weight`` and any mask on ``y_pred`` (``y_pred._keras_mask``) weight them, and ``reduction`` turns
them into a scalar. Everything stays on the device of ``y_pred``; nothing here reads a value back to the host.
"""

from __future__ import annotations

from typing import Any

import torch

from lamina import backend, tree
from lamina.backend.naming import auto_name

EPSILON = 1e-7  # keras.backend.epsilon()

_REDUCTIONS = ("sum_over_batch_size", "sum", None, "none", "mean", "mean_with_sample_weight")


def compute_dtype_of(dtype: Any) -> str:
    """The compute dtype name for a dtype or policy argument (``"mixed_float16"`` -> ``"float16"``)."""
    if dtype is None:
        return backend.floatx()
    if hasattr(dtype, "compute_dtype"):
        return dtype.compute_dtype
    if isinstance(dtype, dict):  # a serialized DTypePolicy
        cfg = dtype.get("config")
        dtype = cfg.get("name") if isinstance(cfg, dict) else cfg
    if isinstance(dtype, str) and dtype.startswith("mixed_"):
        return dtype.removeprefix("mixed_")
    return backend.standardize_dtype(dtype)


def to_tensor(x: Any, dtype: Any = None, device: torch.device | None = None) -> torch.Tensor:
    """``x`` as a torch tensor (on ``device`` when given); tensors are cast, never copied without need."""
    if isinstance(x, torch.Tensor):
        if dtype is not None:
            td = backend.torch_dtype(dtype)
            if x.dtype != td:
                x = x.to(td)
        if device is not None and x.device != device:
            x = x.to(device)
        return x
    if hasattr(x, "value") and isinstance(getattr(x, "value", None), torch.Tensor):  # a Variable
        return to_tensor(x.value, dtype, device)
    return backend.convert_to_tensor(x, dtype=dtype, device=device)


def standardize_reduction(reduction: Any) -> Any:
    """Checks ``reduction`` against the values Keras accepts."""
    if reduction not in _REDUCTIONS:
        raise ValueError(
            "Invalid value for argument `reduction`. Expected one of "
            f"{{'sum_over_batch_size', 'sum', None, 'none', 'mean', 'mean_with_sample_weight'}}. "
            f"Received: reduction={reduction!r}"
        )
    return reduction


def squeeze_or_expand_to_same_rank(
    x1: torch.Tensor, x2: torch.Tensor, expand_rank_1: bool = True
) -> tuple[torch.Tensor, torch.Tensor]:
    """Squeezes (or, for rank 1, expands) a trailing axis of size 1 when the ranks differ by exactly one."""
    r1, r2 = x1.ndim, x2.ndim
    if r1 == r2:
        return x1, x2
    if r1 == r2 + 1 and x1.shape[-1] == 1:
        if r2 == 1 and expand_rank_1:
            x2 = x2.unsqueeze(-1)
        else:
            x1 = x1.squeeze(-1)
    if r2 == r1 + 1 and x2.shape[-1] == 1:
        if r1 == 1 and expand_rank_1:
            x1 = x1.unsqueeze(-1)
        else:
            x2 = x2.squeeze(-1)
    return x1, x2


def divide_no_nan(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """``a / b``, with 0 where ``b == 0`` (no host sync)."""
    return torch.where(b == 0, 0.0, a / b)


def reduce_values(
    values: torch.Tensor, sample_weight: torch.Tensor | None = None, reduction: Any = "sum_over_batch_size"
) -> torch.Tensor:
    """Sums ``values`` and, for the mean reductions, divides by their count (or the weight sum)."""
    if reduction is None or reduction == "none" or values.ndim == 0 or tuple(values.shape) == (0,):
        return values
    loss = values.sum()
    if reduction in ("sum_over_batch_size", "mean", "mean_with_sample_weight"):
        if reduction == "mean_with_sample_weight" and sample_weight is not None:
            divisor = sample_weight.sum().to(loss.dtype)
            loss = divide_no_nan(loss, divisor)
        else:
            n = values.numel()
            loss = loss / n if n else torch.zeros_like(loss)
    return loss


def apply_mask(
    sample_weight: torch.Tensor | None, mask: torch.Tensor | None, dtype: Any, reduction: Any
) -> torch.Tensor | None:
    """Merges a mask into the sample weights (mean reductions then divide by the valid count)."""
    if mask is None:
        return sample_weight
    tdtype = backend.torch_dtype(dtype)
    if reduction in ("mean", "sum_over_batch_size"):
        # Valid entries get weight total/valid so that the later division by `total` gives a mean over
        # the valid entries only (Keras's rule).
        total = float(mask.numel())
        valid = mask.to(tdtype).sum()  # may be 0
        mask_weight = torch.where(valid == 0, 0.0, total / valid)
        float_mask = torch.where(mask.bool(), mask_weight, 0.0).to(tdtype)
    else:
        float_mask = mask.to(tdtype)
    if sample_weight is not None:
        sample_weight = sample_weight.to(tdtype)
        float_mask, sample_weight = squeeze_or_expand_to_same_rank(float_mask, sample_weight)
        return sample_weight * float_mask
    return float_mask


def reduce_weighted_values(
    values: torch.Tensor,
    sample_weight: Any = None,
    mask: torch.Tensor | None = None,
    reduction: Any = "sum_over_batch_size",
    dtype: Any = None,
) -> torch.Tensor:
    """Applies mask and sample weights to per-sample ``values`` and reduces them."""
    reduction = standardize_reduction(reduction)
    values = to_tensor(values, dtype=dtype)
    device = values.device
    if sample_weight is not None:
        sample_weight = to_tensor(sample_weight, dtype=dtype, device=device)
    if mask is not None:
        mask = to_tensor(mask, device=device)
    sample_weight = apply_mask(sample_weight, mask, dtype=values.dtype, reduction=reduction)
    if sample_weight is not None:
        sample_weight = sample_weight.to(values.dtype)
        values, sample_weight = squeeze_or_expand_to_same_rank(values, sample_weight)
        values = values * sample_weight
    return reduce_values(values, sample_weight, reduction)


def _first_tensor(x: Any) -> torch.Tensor | None:
    return next((t for t in tree.flatten(x) if isinstance(t, torch.Tensor)), None)


class Loss:
    """Base class of losses: subclasses implement ``call(y_true, y_pred)`` returning per-sample losses.

    Args:
        name: name of the loss instance (automatic from the class name by default).
        reduction: ``"sum_over_batch_size"`` (default: sum / number of elements), ``"sum"``, ``"mean"``
            (same as the default), ``"mean_with_sample_weight"`` (sum / sum of sample weights), or
            ``"none"`` / ``None`` (no reduction).
        dtype: dtype of the computation, default ``floatx()``; a mixed policy uses its compute dtype.

    Example:
        >>> import torch
        >>> import lamina
        >>> class MyMSE(lamina.losses.Loss):
        ...     def call(self, y_true, y_pred):
        ...         return ((y_pred - y_true) ** 2).mean(dim=-1)
        >>> float(MyMSE()(torch.zeros(2, 3), torch.ones(2, 3)))
        1.0
    """

    def __init__(self, name: str | None = None, reduction: Any = "sum_over_batch_size", dtype: Any = None) -> None:
        self.name = name or auto_name(type(self).__name__)
        self.reduction = standardize_reduction(reduction)
        self._dtype = compute_dtype_of(dtype)

    @property
    def dtype(self) -> str:
        return self._dtype

    def __call__(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> torch.Tensor:
        in_mask = getattr(y_pred, "_keras_mask", None)
        ref = _first_tensor(y_pred)
        device = ref.device if ref is not None else None
        y_pred = tree.map_structure(lambda x: to_tensor(x, self._dtype, device), y_pred)
        if device is None:
            ref = _first_tensor(y_pred)
            device = ref.device if ref is not None else None
        y_true = tree.map_structure(lambda x: to_tensor(x, self._dtype, device), y_true)
        losses = self.call(y_true, y_pred)
        out_mask = getattr(losses, "_keras_mask", None)
        if in_mask is not None and out_mask is not None:
            mask = in_mask.bool() & out_mask.bool()
        else:
            mask = in_mask if in_mask is not None else out_mask
        return reduce_weighted_values(
            losses, sample_weight=sample_weight, mask=mask, reduction=self.reduction, dtype=self._dtype
        )

    def call(self, y_true: Any, y_pred: Any) -> torch.Tensor:
        raise NotImplementedError(f"{type(self).__name__} must implement `call(y_true, y_pred)`.")

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, "reduction": self.reduction}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Loss:
        return cls(**config)

    def _obj_type(self) -> str:
        return "Loss"

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name}>"
