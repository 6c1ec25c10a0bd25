"""What the categorical and text layers share: string arrays, dtype checks and the count encodings.

Text has no torch dtype, so string data lives in NumPy object arrays of Python ``str`` from the
moment it enters a layer; indices and encodings are torch tensors. The encodings follow Keras's
``numerical_utils.encode_categorical_inputs`` on the torch backend: a scalar becomes one sample,
``"one_hot"`` folds a trailing axis of size 1, and ``"multi_hot"``/``"count"``/``"tf_idf"`` reduce
axis 1 (axis 0 for a rank-1 input, which is one sample).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import torch

from lamina import backend
from lamina.ops.operation import KerasTensor


def is_string_data(x: Any) -> bool:
    """True for text: ``str``/``bytes``, NumPy unicode/bytes arrays, object arrays or lists of strings."""
    if isinstance(x, (str, bytes)):
        return True
    if isinstance(x, np.ndarray):
        if x.dtype.kind in "US":
            return True
        if x.dtype == object:
            flat = x.reshape(-1)
            return flat.size > 0 and isinstance(flat[0], (str, bytes))
        return False
    if isinstance(x, KerasTensor):
        return x.dtype == "string"
    if isinstance(x, (list, tuple)) and x:
        first = x[0]
        while isinstance(first, (list, tuple)) and first:
            first = first[0]
        return isinstance(first, (str, bytes, np.str_, np.bytes_)) or (
            isinstance(first, np.ndarray) and is_string_data(first)
        )
    return False


def _decode(value: Any, encoding: str) -> str:
    if isinstance(value, (bytes, np.bytes_)):
        return bytes(value).decode(encoding, errors="replace")
    return str(value)


def to_string_array(x: Any, layer: Any, encoding: str = "utf-8") -> np.ndarray:
    """``x`` as a NumPy object array of Python ``str`` (bytes decoded); numbers are refused.

    Raises:
        TypeError: naming ``layer`` and the dtype received, when ``x`` holds numbers.
    """
    if isinstance(x, torch.Tensor):
        raise layer._error(
            "string inputs",
            f"a tensor of dtype {backend.standardize_dtype(x.dtype)}",
            "Pass text as a NumPy array or a list of Python strings.",
            TypeError,
        )
    arr = np.asarray(x, dtype=object) if isinstance(x, (list, tuple)) else np.asarray(x)
    if arr.dtype.kind == "U":
        return arr.astype(object)
    if arr.dtype.kind in "SO":
        flat = arr.reshape(-1)
        kinds = set(map(type, flat))  # one C-speed pass; a batch of str (the common case) is returned as is
        if kinds <= {str}:
            return arr
        bad = [k for k in kinds if not issubclass(k, (str, bytes))]
        if bad:
            value = next(v for v in flat if type(v) is bad[0])
            raise layer._error(
                "string inputs",
                f"an array holding a {bad[0].__name__} ({value!r})",
                "Pass text as Python strings.",
                TypeError,
            )
        out = np.empty(arr.shape, dtype=object)
        out.reshape(-1)[:] = [_decode(v, encoding) for v in flat]
        return out
    raise layer._error(
        "string inputs", f"an array of dtype {arr.dtype}", "Pass text as Python strings, not numbers.", TypeError
    )


def check_numeric(x: Any, layer: Any, what: str = "numeric inputs") -> None:
    """Refuses text where numbers are expected, naming the layer and the dtype received."""
    if is_string_data(x):
        dtype = x.dtype if isinstance(x, (np.ndarray, KerasTensor)) else type(x).__name__
        raise layer._error(what, f"string data (dtype {dtype})", "Pass numbers, not text.", TypeError)


def output_device(layer: Any) -> torch.device:
    """Where a weightless preprocessing layer puts its outputs: its buffers' device, else the default."""
    for t in layer.buffers():
        return t.device
    return backend.default_device()


def encode_categorical(
    indices: torch.Tensor,
    output_mode: str,
    depth: int,
    dtype: torch.dtype,
    count_weights: torch.Tensor | None = None,
) -> torch.Tensor:
    """Keras's ``encode_categorical_inputs`` for the torch backend; indices outside ``[0, depth)`` count for nothing."""
    if output_mode == "int":
        return indices.to(dtype)
    if indices.ndim == 0:
        indices = indices.reshape(1)
    valid = (indices >= 0) & (indices < depth)
    safe = torch.where(valid, indices, torch.zeros_like(indices)).long()
    if output_mode == "one_hot":
        if indices.ndim > 1 and indices.shape[-1] == 1:
            safe, valid = safe.squeeze(-1), valid.squeeze(-1)
        out = torch.zeros((*safe.shape, depth), dtype=dtype, device=safe.device)
        return out.scatter_(-1, safe.unsqueeze(-1), valid.unsqueeze(-1).to(dtype))
    # multi_hot / count: the reduced axis is 1 (0 for a single sample), as Keras's torch backend does
    axis = 1 if indices.ndim > 1 else 0
    safe, valid = safe.movedim(axis, -1), valid.movedim(axis, -1)
    weights = valid.to(dtype if count_weights is None else count_weights.dtype)
    if count_weights is not None:
        weights = weights * count_weights.movedim(axis, -1)
    out = torch.zeros((*safe.shape[:-1], depth), dtype=weights.dtype, device=safe.device)
    out.scatter_add_(-1, safe, weights)
    if output_mode == "multi_hot":
        out = (out > 0).to(dtype)
    return out


def categorical_output_shape(input_shape: tuple, output_mode: str, depth: int | None) -> tuple:
    """The output shape :func:`encode_categorical` gives for ``input_shape``."""
    input_shape = tuple(input_shape)
    if output_mode == "int":
        return input_shape
    if len(input_shape) == 0:
        return (depth,)
    if output_mode == "one_hot":
        if len(input_shape) > 1 and input_shape[-1] == 1:
            return (*input_shape[:-1], depth)
        return (*input_shape, depth)
    if len(input_shape) == 1:
        return (depth,)
    return (input_shape[0], *input_shape[2:], depth)


def flat_counts(
    rows: np.ndarray, indices: np.ndarray, num_rows: int, depth: int, dtype: torch.dtype, device: torch.device
) -> torch.Tensor:
    """``(num_rows, depth)`` counts of ``indices`` per row (ragged token lists, e.g. TextVectorization's)."""
    out = torch.zeros((num_rows, depth), dtype=dtype, device=device)
    keep = (indices >= 0) & (indices < depth)
    if keep.any():
        r = torch.as_tensor(rows[keep], dtype=torch.long, device=device)
        c = torch.as_tensor(indices[keep], dtype=torch.long, device=device)
        out.index_put_((r, c), torch.ones(r.shape[0], dtype=dtype, device=device), accumulate=True)
    return out


def _validate_string_arg(value: Any, allowed: tuple, caller: str, arg: str) -> None:
    if not (isinstance(value, str) and value in allowed):
        raise ValueError(
            f"Unknown value for `{arg}` argument of {caller}. Allowed values are: {allowed}. Received: {arg}={value}"
        )


def listify(x: Any) -> Any:
    """Arrays and tensors -> lists, for configs."""
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu().numpy()
    if isinstance(x, np.ndarray):
        x = x.tolist()
    return x


def iterate_adapt_batches(data: Any, steps: int | None, single: type | tuple) -> Iterator[Any]:
    """The batches ``adapt`` reads: ``data`` itself when it is an array (``single`` types), else its items."""
    if isinstance(data, single):
        yield data
        return
    if not hasattr(data, "__iter__") or isinstance(data, dict):
        raise TypeError(
            f"adapt() expects an array, a list, or an iterable of batches (a generator, a DataLoader, a "
            f"dataset from lamina.utils). Received: data of type {type(data).__name__}"
        )
    for i, batch in enumerate(data):
        if steps is not None and i >= steps:
            return
        yield batch
