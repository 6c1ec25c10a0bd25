"""``Hashing``: values -> hash buckets, with TensorFlow's string hashes (so buckets equal Keras's)."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from lamina import backend
from lamina.layers.layer import Layer
from lamina.layers.preprocessing import preprocessing_utils as utils
from lamina.layers.preprocessing.hash_functions import hash_buckets, int_to_hash_key
from lamina.ops.operation import KerasTensor


class Hashing(Layer):
    """Hashes strings or integers into ``num_bins`` buckets (FarmHash ``Fingerprint64``, or SipHash with a salt).

    Numbers are hashed through their decimal text, floats after truncation to integers, as Keras
    does (its ``tf.as_string``), so ``Hashing(3)([5])`` equals ``Hashing(3)(["5"])``.

    Args:
        num_bins: the number of buckets (with ``mask_value``, bucket 0 is the mask's alone).
        mask_value: a value that always goes to bucket 0.
        salt: an int or a pair of ints: hash with keyed SipHash-2-4 instead of FarmHash.
        output_mode: ``"int"`` (bucket ids, ``int64``), ``"one_hot"``, ``"multi_hot"`` or ``"count"``.
        sparse: sparse outputs need TensorFlow; only ``False`` is accepted.

    Example:
        >>> import lamina
        >>> lamina.layers.Hashing(num_bins=3)([["A"], ["B"], ["C"], ["D"], ["E"]]).tolist()
        [[1], [0], [1], [1], [2]]
    """

    _autocast_inputs = False

    def __init__(
        self,
        num_bins: int,
        mask_value: Any = None,
        salt: Any = None,
        output_mode: str = "int",
        sparse: bool = False,
        **kwargs: Any,
    ) -> None:
        if kwargs.get("dtype") is None:
            kwargs["dtype"] = "int64" if output_mode == "int" else backend.floatx()
        super().__init__(**kwargs)
        self.__dict__["_mixed"] = False  # outputs in the variable dtype under a mixed policy, as Keras's
        if num_bins is None or num_bins <= 0:
            raise ValueError(
                f"The `num_bins` for `Hashing` cannot be `None` or non-positive values. Received: num_bins={num_bins}."
            )
        if output_mode == "int" and self.dtype_policy.name not in ("int32", "int64"):
            raise ValueError(
                "When `output_mode=\"int\"`, `dtype` should be an integer type, 'int32' or 'in64'. "
                f"Received: dtype={kwargs['dtype']}"
            )
        accepted = ("int", "one_hot", "multi_hot", "count")
        if output_mode not in accepted:
            raise ValueError(
                f"Invalid value for argument `output_mode`. Expected one of {accepted}. "
                f"Received: output_mode={output_mode}"
            )
        if sparse and output_mode == "int":
            raise ValueError(
                '`sparse` may only be true if `output_mode` is `"one_hot"`, `"multi_hot"`, or `"count"`. '
                f"Received: sparse={sparse} and output_mode={output_mode}"
            )
        if sparse:
            raise ValueError("`sparse=True` needs the TensorFlow backend; Lamina gives dense outputs only.")
        self.num_bins = num_bins
        self.mask_value = mask_value
        self.strong_hash = salt is not None
        self.output_mode = output_mode
        self.sparse = sparse
        self.salt = None
        if salt is not None:
            if isinstance(salt, (tuple, list)) and len(salt) == 2:
                self.salt = list(salt)
            elif isinstance(salt, int):
                self.salt = [salt, salt]
            else:
                raise ValueError(
                    "The `salt` argument for `Hashing` can only be a tuple of size 2 integers, or a single "
                    f"integer. Received: salt={salt}."
                )
        self.register_buffer("_device_anchor", torch.empty(0, device=backend.default_device()), persistent=False)

    def _convert_inputs(self, x: Any) -> Any:
        if utils.is_string_data(x):
            return utils.to_string_array(x, self)
        return super()._convert_inputs(x)

    def _hash_values(self, values: Any) -> torch.Tensor:
        """Bucket ids (``int64``) of a string array or a numeric tensor, with the mask in bucket 0."""
        bins = self.num_bins
        use_mask = self.mask_value is not None and bins > 1
        if use_mask:
            bins -= 1
        if isinstance(values, np.ndarray):  # strings
            flat = values.reshape(-1)
            mask = (flat == self.mask_value) if use_mask else None
            device = utils.output_device(self)
            keys = flat.tolist()
        else:
            device = values.device
            host = values.detach().cpu()  # host sync: the hash runs on the CPU in Python
            mask = (host == self.mask_value).reshape(-1).numpy() if use_mask else None
            if host.is_floating_point():
                host = host.to(torch.int64)  # Keras casts floats to int64 (truncation) before hashing
            uniq, inverse = np.unique(host.reshape(-1).numpy().astype(np.int64), return_inverse=True)
            keys = [int_to_hash_key(v) for v in uniq.tolist()]
            ids = hash_buckets(keys, bins, self.salt)[inverse.reshape(-1)]
            keys = None
        if keys is not None:
            ids = hash_buckets(keys, bins, self.salt)
        if mask is not None:
            ids = np.where(np.asarray(mask, dtype=bool), 0, ids + 1)
        return torch.as_tensor(ids.reshape(np.shape(values)), device=device)

    def call(self, inputs: Any) -> torch.Tensor:
        if self.output_mode == "one_hot" and np.ndim(inputs) > 0 and np.shape(inputs)[-1] == 1:
            inputs = inputs[..., 0]
        if isinstance(inputs, torch.Tensor) and (inputs.dtype == torch.bool or inputs.is_complex()):
            raise self._error("strings or numbers", f"dtype {backend.standardize_dtype(inputs.dtype)}", cls=TypeError)
        indices = self._hash_values(inputs)
        dtype = backend.torch_dtype(self.dtype)
        return utils.encode_categorical(indices, self.output_mode, self.num_bins, dtype)

    def compute_output_shape(self, input_shape: Any) -> tuple:
        input_shape = tuple(input_shape)
        if self.output_mode == "int":
            return input_shape
        if self.output_mode == "one_hot" and input_shape and input_shape[-1] == 1:
            input_shape = input_shape[:-1]
        return utils.categorical_output_shape(input_shape, self.output_mode, self.num_bins)

    def compute_output_spec(self, inputs: Any) -> KerasTensor:
        return KerasTensor(self.compute_output_shape(inputs.shape), self.dtype)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(
            {
                "num_bins": self.num_bins,
                "salt": self.salt,
                "mask_value": self.mask_value,
                "output_mode": self.output_mode,
                "sparse": self.sparse,
            }
        )
        return config

    def extra_repr(self) -> str:
        return f"name={self.name!r}, num_bins={self.num_bins}, output_mode={self.output_mode!r}"
