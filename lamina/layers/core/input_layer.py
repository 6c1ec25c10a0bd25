"""``InputLayer`` and ``Input``: where a model's data enters, with a known shape."""

from __future__ import annotations

import numbers
from typing import Any

from lamina import backend
from lamina.layers.layer import Layer
from lamina.ops.operation import KerasTensor, Node


class InputLayer(Layer):
    """The entry point of a model: holds the input's shape and dtype, has no weights.

    Args:
        shape: per-sample shape, e.g. ``(250, 250, 3)``.
        batch_size: optional fixed batch size.
        dtype: input dtype name, default ``floatx()``.
        batch_shape: full shape including the batch axis (instead of ``shape``).
        name: layer name, default ``input_layer``.

    Example:
        >>> import lamina
        >>> layer = lamina.layers.InputLayer(shape=(4,))
        >>> layer.output.shape
        (None, 4)
    """

    def __init__(
        self,
        shape: Any = None,
        batch_size: int | None = None,
        dtype: Any = None,
        sparse: bool | None = None,
        ragged: bool | None = None,
        batch_shape: Any = None,
        input_tensor: Any = None,
        optional: bool = False,
        name: str | None = None,
        **kwargs: Any,
    ) -> None:
        if ragged:  # Keras on torch refuses it the same way: torch has no ragged tensors
            raise ValueError(
                "`ragged=True` is not supported with the torch backend: Lamina's tensors are dense torch tensors. "
                "Pad the sequences to one length (keras.utils.pad_sequences) and mask them instead. "
                f"Received: ragged={ragged!r}"
            )
        if "input_shape" in kwargs:
            shape = kwargs.pop("input_shape")
        if "batch_input_shape" in kwargs:
            batch_shape = kwargs.pop("batch_input_shape")
        # a string input has no dtype policy (as in Keras): its dtype is only the input's
        is_string = dtype is not None and backend.standardize_dtype(dtype) == "string"
        super().__init__(name=name, dtype=None if is_string else dtype, **kwargs)
        if shape is not None and batch_shape is not None:
            raise ValueError(
                "InputLayer takes `shape` or `batch_shape`, not both. "
                f"Received: shape={shape}, batch_shape={batch_shape}"
            )
        if input_tensor is not None:
            if not isinstance(input_tensor, KerasTensor):
                raise ValueError(f"`input_tensor` must be a KerasTensor. Received: {input_tensor!r}")
            batch_shape = input_tensor.shape
        if batch_shape is None:
            if shape is None:
                raise ValueError("InputLayer needs `shape` or `batch_shape`. Received neither.")
            if isinstance(shape, int):
                shape = (shape,)
            batch_shape = (batch_size, *shape)
        self.batch_shape = _standardize_batch_shape(shape, batch_size, batch_shape)
        self._input_dtype = backend.standardize_dtype(dtype or backend.floatx())
        self.sparse = bool(sparse)
        self.optional = optional
        self.built = True
        tensor = input_tensor or KerasTensor(self.batch_shape, self._input_dtype, name=self.name)
        node = Node(self, (), {}, [tensor])
        self._inbound_nodes.append(node)
        tensor._keras_history = (self, 0, 0)
        self._output = tensor

    @property
    def dtype(self) -> str:
        return self._input_dtype

    def call(self, inputs: Any) -> Any:
        return inputs

    def compute_output_shape(self, input_shape: Any) -> Any:
        return self.batch_shape

    def get_config(self) -> dict[str, Any]:
        return {
            "batch_shape": list(self.batch_shape),
            "dtype": self._input_dtype,
            "sparse": self.sparse,
            "ragged": False,
            "name": self.name,
            "optional": self.optional,
        }

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> InputLayer:
        config = dict(config)
        config.pop("ragged", None)
        return cls(**config)


def _standardize_batch_shape(shape: Any, batch_size: Any, batch_shape: Any) -> tuple[int | None, ...]:
    """``batch_shape`` as a tuple of positive ints or None; a bad size names the argument it came from."""
    arg, value = ("shape", shape) if shape is not None else ("batch_shape", batch_shape)
    if batch_size is not None and (
        isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral) or batch_size <= 0
    ):
        raise ValueError(f"`batch_size` must be a positive integer or None. Received: batch_size={batch_size!r}")
    if isinstance(value, (str, bytes)) or not isinstance(batch_shape, (tuple, list)):
        raise ValueError(
            f"`{arg}` must be a tuple of positive integers (None for an unknown size). Received: {arg}={value!r}"
        )
    for d in batch_shape:
        if d is not None and (isinstance(d, bool) or not isinstance(d, numbers.Integral) or d <= 0):
            raise ValueError(
                f"`{arg}` must be a tuple of positive integers (None for an unknown size). Received: {arg}={value!r}"
            )
    return tuple(None if d is None else int(d) for d in batch_shape)


def Input(  # noqa: N802 - Keras's name
    shape: Any = None,
    batch_size: int | None = None,
    dtype: Any = None,
    sparse: bool | None = None,
    ragged: bool | None = None,
    batch_shape: Any = None,
    name: str | None = None,
    tensor: Any = None,
    optional: bool = False,
) -> KerasTensor:
    """A symbolic input tensor of per-sample ``shape``: start of a ``Sequential`` or functional model.

    Example:
        >>> import lamina
        >>> lamina.Input(shape=(250, 250, 3)).shape
        (None, 250, 250, 3)
    """
    layer = InputLayer(
        shape=shape,
        batch_size=batch_size,
        dtype=dtype,
        sparse=sparse,
        ragged=ragged,
        batch_shape=batch_shape,
        name=name,
        input_tensor=tensor,
        optional=optional,
    )
    return layer._output
