"""``keras.utils.to_categorical`` and ``keras.utils.normalize``.

NumPy in, NumPy out (float64, as Keras); a torch tensor in gives a torch tensor out.
Where Keras gives a silently wrong answer Lamina raises instead: a negative label in a NumPy
array (Keras marks the last class), and ``normalize(x, axis=0)`` on a matrix (Keras divides by
the norms along the wrong axis); both are noted where they happen.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np
import torch

from lamina import ops


class LabelOutOfRangeError(ValueError, IndexError):
    """A label outside ``[0, num_classes)``; also an ``IndexError``, which is what Keras raises there."""


def _check_num_classes(num_classes: Any) -> int | None:
    if num_classes is None:
        return None
    if isinstance(num_classes, bool) or not isinstance(num_classes, numbers.Integral):
        raise TypeError(f"`num_classes` must be an integer or None. Received: num_classes={num_classes!r}")
    if num_classes < 0:
        raise ValueError(f"`num_classes` must be a positive integer. Received: num_classes={num_classes}")
    # Keras treats 0 as "not given" (``if not num_classes``)
    return int(num_classes) or None


def _label_error(bad: int, num_classes: int, inferred: bool) -> LabelOutOfRangeError:
    where = "inferred as max(x) + 1" if inferred else "given"
    return LabelOutOfRangeError(
        f"`to_categorical` expects labels in [0, num_classes) with num_classes={num_classes} ({where}). "
        f"Received a label {bad}."
    )


def _tensor_to_categorical(x: torch.Tensor, num_classes: int | None) -> torch.Tensor:
    # (..., 1) -> (...), as Keras
    if x.dim() > 1 and x.shape[-1] == 1:
        x = x.reshape(x.shape[:-1])
    x = x.long()
    inferred = num_classes is None
    if inferred:
        if x.numel() == 0:
            raise ValueError("`to_categorical` cannot infer `num_classes` from an empty `x`; pass num_classes.")
        num_classes = int(x.max()) + 1  # host sync: the output width depends on the data
    if x.numel() and int(x.max()) >= num_classes:  # host sync: validation
        raise _label_error(int(x.max()), num_classes, inferred)
    # negative labels give all-zero rows, as Keras's ops.one_hot on torch
    out = torch.nn.functional.one_hot(x.clamp(min=0), num_classes)
    return out * (x >= 0).unsqueeze(-1)


def to_categorical(x: Any, num_classes: int | None = None) -> np.ndarray | torch.Tensor:
    """Converts a vector of class ids into a one-hot matrix (for ``categorical_crossentropy``).

    A trailing axis of size 1 is dropped first, so ``(n, 1)`` labels give ``(n, num_classes)``.

    Args:
        x: class ids (integers from 0 to ``num_classes - 1``), as a list, NumPy array or
            torch tensor. NumPy values are cast to int64 as Keras does (``1.7`` becomes ``1``).
        num_classes: number of classes; ``None`` (or 0) infers ``max(x) + 1``.

    Returns:
        A float64 NumPy array with the class axis last; for a torch tensor ``x``, an int64
        torch tensor (as Keras on the torch backend).

    Raises:
        ValueError: a label ``>= num_classes`` (the error is also an ``IndexError``, as in
            Keras), a negative label in a NumPy ``x``, or an empty ``x`` without ``num_classes``.
        TypeError: ``num_classes`` is not an integer.

    Example:
        >>> to_categorical([0, 1, 2, 3], num_classes=4)
        array([[1., 0., 0., 0.],
               [0., 1., 0., 0.],
               [0., 0., 1., 0.],
               [0., 0., 0., 1.]])
        >>> to_categorical([[1], [0]]).shape
        (2, 2)
    """
    num_classes = _check_num_classes(num_classes)
    if ops.is_tensor(x):
        return _tensor_to_categorical(x, num_classes)
    labels = np.array(x, dtype="int64")
    shape = labels.shape
    if len(shape) > 1 and shape[-1] == 1:
        shape = shape[:-1]
    labels = labels.reshape(-1)
    inferred = num_classes is None
    if inferred:
        if labels.size == 0:
            raise ValueError("`to_categorical` cannot infer `num_classes` from an empty `x`; pass num_classes.")
        num_classes = int(labels.max()) + 1
    if labels.size:
        if labels.max() >= num_classes:
            raise _label_error(int(labels.max()), num_classes, inferred)
        if labels.min() < 0:
            # Keras would index from the end and mark the last class
            raise _label_error(int(labels.min()), num_classes, inferred)
    out = np.zeros((labels.size, num_classes))
    out[np.arange(labels.size), labels] = 1
    return out.reshape(shape + (num_classes,))


def normalize(x: Any, axis: int = -1, order: int = 2) -> np.ndarray | torch.Tensor:
    """Divides ``x`` by its ``order``-norm along ``axis`` (zero vectors stay zero).

    Args:
        x: a NumPy array (NumPy out) or anything else ``ops`` accepts (torch tensor out).
        axis: the axis to normalize along.
        order: the norm order (2 for L2, 1 for L1, ...).

    Returns:
        A normalized copy. A 1-D NumPy array comes back with shape ``(1, n)``, as in Keras.

    Example:
        >>> import numpy as np
        >>> normalize(np.array([[3.0, 4.0], [0.0, 0.0]]))
        array([[0.6, 0.8],
               [0. , 0. ]])
    """
    if isinstance(axis, bool) or not isinstance(axis, numbers.Integral):
        raise TypeError(f"`axis` must be an integer. Received: axis={axis!r}")
    if not isinstance(x, np.ndarray):
        return ops.normalize(x, axis=axis, order=order)
    if not -max(x.ndim, 1) <= axis < max(x.ndim, 1):
        raise ValueError(f"`axis` is out of range for an array of rank {x.ndim}. Received: axis={axis}")
    norm = np.atleast_1d(np.linalg.norm(x, order, axis))
    norm[norm == 0] = 1
    if x.ndim <= 1:
        # Keras returns (1, n) for a vector: the norm (1,) is expanded to (1, 1)
        return x / norm[:, None]
    # Keras expands at ``axis or -1``, which misplaces the norms for axis=0; expand where they belong
    return x / np.expand_dims(norm, axis)
