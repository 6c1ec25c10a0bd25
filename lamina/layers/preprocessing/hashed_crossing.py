"""``HashedCrossing``: crosses of categorical features -> hash buckets, as ``tf.sparse.cross_hashed``."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from lamina import backend
from lamina.layers.layer import Layer
from lamina.layers.preprocessing import preprocessing_utils as utils
from lamina.layers.preprocessing.hash_functions import CROSS_HASH_KEY, fingerprint64, fingerprint_cat64
from lamina.layers.preprocessing.preprocessing_utils import _validate_string_arg
from lamina.ops.operation import KerasTensor

_MASK64 = (1 << 64) - 1


class HashedCrossing(Layer):
    """Crosses two or more categorical features (ints or strings) and hashes each cross into ``num_bins``.

    The bucket of a cross is TensorFlow's ``FingerprintCat64`` chain over the features (strings by
    their FarmHash fingerprint, integers as they are) modulo ``num_bins``: Keras's buckets exactly.

    Args:
        num_bins: the number of buckets.
        output_mode: ``"int"`` (bucket ids, ``int64``) or ``"one_hot"``.
        sparse: sparse outputs need TensorFlow; only ``False`` is accepted.

    Input shape:
        A list or tuple of at least two features of equal shape ``()``, ``(batch,)`` or ``(batch, 1)``.

    Example:
        >>> import lamina
        >>> layer = lamina.layers.HashedCrossing(num_bins=5)
        >>> layer((["A", "B", "A", "B", "A"], [101, 101, 101, 102, 102])).tolist()
        [1, 4, 1, 1, 3]
    """

    _autocast_inputs = False

    def __init__(
        self,
        num_bins: int,
        output_mode: str = "int",
        sparse: bool = False,
        name: str | None = None,
        dtype: Any = None,
        **kwargs: Any,
    ) -> None:
        if output_mode == "int" and dtype is None:
            dtype = "int64"
        super().__init__(name=name, dtype=dtype)  # other arguments are ignored, as in Keras
        self.__dict__["_mixed"] = False  # outputs in the variable dtype under a mixed policy, as Keras's
        if sparse:
            raise ValueError("`sparse=True` can only be used with the TensorFlow backend.")
        _validate_string_arg(output_mode, ("int", "one_hot"), "HashedCrossing", "output_mode")
        self.num_bins = num_bins
        self.output_mode = output_mode
        self.sparse = sparse
        self.register_buffer("_device_anchor", torch.empty(0, device=backend.default_device()), persistent=False)

    def _convert_inputs(self, x: Any) -> Any:
        if isinstance(x, (list, tuple)) and not utils.is_string_data(x):
            return [self._convert_one(v) for v in x]
        if isinstance(x, (list, tuple)) and x and all(isinstance(v, (list, tuple, np.ndarray)) for v in x):
            return [self._convert_one(v) for v in x]
        return x

    def _convert_one(self, v: Any) -> Any:
        if utils.is_string_data(v):
            return utils.to_string_array(v, self)
        if isinstance(v, torch.Tensor):
            return v
        return torch.as_tensor(np.asarray(v))

    def _check_inputs(self, inputs: Any) -> None:
        if not isinstance(inputs, (list, tuple)):
            raise ValueError(
                f"`HashedCrossing` should be called on a list or tuple of inputs. Received: inputs={inputs}"
            )
        if len(inputs) < 2:
            raise ValueError(f"`HashedCrossing` should be called on at least two inputs. Received: inputs={inputs}")
        first = tuple(np.shape(inputs[0]))
        if len(first) > 2 or (len(first) == 2 and first[-1] != 1):
            raise ValueError(
                "All `HashedCrossing` inputs should have shape `()`, `(batch_size)` or `(batch_size, 1)`. "
                f"Received: inputs={inputs}"
            )
        if not all(tuple(np.shape(x)) == first for x in inputs[1:]):
            raise ValueError(f"All `HashedCrossing` inputs should have equal shape. Received: inputs={inputs}")
        for x in inputs:
            ok = isinstance(x, np.ndarray) or (
                isinstance(x, torch.Tensor)
                and not x.is_floating_point()
                and not x.is_complex()
                and x.dtype != torch.bool
            )
            if not ok:
                dtype = backend.standardize_dtype(x.dtype) if hasattr(x, "dtype") else type(x).__name__
                raise ValueError(
                    "All `HashedCrossing` inputs should have an integer or string dtype. "
                    f'Layer "{self.name}" received an input of dtype {dtype}. Received: inputs={inputs}'
                )

    @staticmethod
    def _features(x: Any) -> list[int]:
        if isinstance(x, np.ndarray):  # strings: their fingerprints
            return [fingerprint64(s.encode()) for s in x.reshape(-1).tolist()]
        # integers take part as they are (as uint64); the hash runs on the CPU
        return [v & _MASK64 for v in x.detach().cpu().to(torch.int64).reshape(-1).tolist()]  # host sync

    def call(self, inputs: Any) -> torch.Tensor:
        inputs = self._convert_inputs(inputs) if not all(isinstance(x, torch.Tensor) for x in inputs) else inputs
        self._check_inputs(inputs)
        shape = tuple(np.shape(inputs[0]))
        columns = [self._features(x) for x in inputs]
        buckets = []
        for values in zip(*columns):
            h = CROSS_HASH_KEY
            for v in values:
                h = fingerprint_cat64(h, v)
            buckets.append(h % self.num_bins)
        device = next((x.device for x in inputs if isinstance(x, torch.Tensor)), utils.output_device(self))
        ids = torch.as_tensor(np.asarray(buckets, dtype=np.int64).reshape(shape), device=device)
        return utils.encode_categorical(ids, self.output_mode, self.num_bins, backend.torch_dtype(self.dtype))

    def compute_output_shape(self, input_shape: Any) -> tuple:
        if not (len(input_shape) == 2 and all(isinstance(s, (tuple, list)) for s in input_shape)):
            raise ValueError(f"Expected as input a list/tuple of 2 tensors. Received input_shape={input_shape}")
        first = tuple(input_shape[0])
        if first[-1:] != tuple(input_shape[1])[-1:]:
            raise ValueError(
                f"Expected the two input tensors to have identical shapes. Received input_shape={input_shape}"
            )
        if self.output_mode == "int":
            return first
        return utils.categorical_output_shape(first, "one_hot", self.num_bins)

    def compute_output_spec(self, inputs: Any) -> KerasTensor:
        shapes = [tuple(x.shape) for x in inputs]
        first = shapes[0]
        shape = first if self.output_mode == "int" else utils.categorical_output_shape(first, "one_hot", self.num_bins)
        return KerasTensor(shape, self.dtype)

    def get_config(self) -> dict[str, Any]:
        return {
            "num_bins": self.num_bins,
            "output_mode": self.output_mode,
            "sparse": self.sparse,
            "name": self.name,
            "dtype": self.dtype,
        }

    def extra_repr(self) -> str:
        return f"name={self.name!r}, num_bins={self.num_bins}, output_mode={self.output_mode!r}"
