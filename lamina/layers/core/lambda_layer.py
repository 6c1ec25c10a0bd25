"""``Lambda``: a layer from a Python function.

Serialized as Keras serializes it; stored bytecode only loads outside safe mode."""

from __future__ import annotations

import base64
import inspect
import marshal
import types
from typing import Any

import torch

from lamina import serialization, tree
from lamina.layers.layer import Layer
from lamina.ops.operation import is_shape, meta_run


# ---------------------------------------------------------------------------------------------- Lambda
def _serialize_function(fn: Any) -> Any:
    """Keras's form: a Python lambda as marshalled, base64 bytecode; other callables by name."""
    if isinstance(fn, types.LambdaType) and fn.__name__ == "<lambda>":
        code = base64.encodebytes(marshal.dumps(fn.__code__)).decode("ascii")
        closure = tuple(c.cell_contents for c in fn.__closure__) if fn.__closure__ else None
        return {"class_name": "__lambda__", "config": {"code": code, "defaults": fn.__defaults__, "closure": closure}}
    if callable(fn):
        return serialization.serialize_keras_object(fn)
    raise ValueError(f"Invalid input type for serialization. Received: {fn} of type {type(fn)}.")


def _is_lambda_config(value: Any) -> bool:
    return isinstance(value, dict) and value.get("class_name") == "__lambda__"


def _load_lambda(config: dict[str, Any]) -> Any:
    """Rebuilds a lambda from its bytecode. Only reached when safe mode is off."""
    import builtins

    import numpy as np

    import lamina

    code = config["code"]
    defaults = config.get("defaults")
    closure = config.get("closure")
    raw = base64.decodebytes(code.encode("ascii"))
    fn_code = marshal.loads(raw)  # noqa: S302 - guarded by safe mode, see Lambda.from_config
    namespace = {"__builtins__": builtins, "torch": torch, "np": np, "numpy": np, "lamina": lamina, "keras": lamina}
    cells = None if closure is None else tuple(types.CellType(v) for v in closure)
    return types.FunctionType(fn_code, namespace, fn_code.co_name, None if defaults is None else tuple(defaults), cells)


class Lambda(Layer):
    """Wraps a function of the inputs as a layer: ``Lambda(lambda x: x ** 2)``.

    Prefer a ``Layer`` subclass for anything with state or that must be saved and shared: a
    Python lambda is saved as bytecode, which loaders refuse in safe mode (the default) because
    loading it runs code from the file. Named functions are saved by name and must be registered
    (``register_keras_serializable``) or passed in ``custom_objects`` to load.

    Args:
        function: the function, called as ``function(inputs, **arguments)`` (plus ``mask=`` /
            ``training=`` when its signature names them).
        output_shape: optional output shape without the batch axis (or a nested structure of
            them, or a function of the full input shape); inferred by a shape-only run when omitted.
        mask: optional output mask, or a function ``mask(inputs, previous_mask)``.
        arguments: optional dict of keyword arguments for ``function``.

    Example:
        >>> import torch, lamina
        >>> lamina.layers.Lambda(lambda x, k: x * k, arguments={"k": 3})(torch.ones(2)).tolist()
        [3.0, 3.0]
    """

    def __init__(
        self, function: Any, output_shape: Any = None, mask: Any = None, arguments: dict | None = None, **kwargs: Any
    ) -> None:
        if not callable(function):
            raise ValueError(f"Lambda expects a callable `function`. Received: function={function!r}")
        super().__init__(**kwargs)
        self.arguments = arguments or {}
        self.function = function
        self.supports_masking = mask is not None
        self.mask = mask
        self._output_shape = output_shape
        try:
            params = inspect.signature(function).parameters
        except (TypeError, ValueError):
            params = {}
        self._fn_expects_training_arg = "training" in params
        self._fn_expects_mask_arg = "mask" in params

    def call(self, inputs: Any, mask: Any = None, training: bool | None = None) -> Any:
        kwargs = dict(self.arguments)
        if self._fn_expects_mask_arg:
            kwargs["mask"] = mask
        if self._fn_expects_training_arg:
            kwargs["training"] = training
        outputs = self.function(inputs, **kwargs)
        if self.mask is not None and isinstance(outputs, torch.Tensor):
            out_mask = self.compute_mask(inputs, mask)
            if out_mask is not None:
                try:
                    outputs._keras_mask = out_mask
                except (AttributeError, RuntimeError):
                    pass
        return outputs

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        if callable(self.mask):
            return self.mask(inputs, mask)
        return self.mask

    def compute_output_spec(self, *args: Any, **kwargs: Any) -> Any:
        if self._output_shape is None:
            return meta_run(self, args, kwargs)  # keeps the function's output dtype
        return super().compute_output_spec(*args, **kwargs)

    def compute_output_shape(self, input_shape: Any) -> Any:
        if self._output_shape is None:
            try:
                return super().compute_output_shape(input_shape)
            except Exception as e:  # noqa: BLE001 - any failure means the shape cannot be inferred
                raise NotImplementedError(
                    f'Layer "{self.name}" (Lambda) could not infer the shape of its output for input_shape='
                    f"{input_shape}. Pass the `output_shape` argument to this Lambda layer."
                ) from e
        if callable(self._output_shape):
            return self._output_shape(input_shape)
        first = input_shape
        while isinstance(first, (list, tuple)) and first and not is_shape(first):
            first = first[0]
        batch = first[0] if isinstance(first, (list, tuple)) and first else None
        return _add_batch(self._output_shape, batch)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config["function"] = _serialize_function(self.function)
        if self._output_shape is not None:
            config["output_shape"] = (
                _serialize_function(self._output_shape) if callable(self._output_shape) else self._output_shape
            )
        if self.mask is not None:
            config["mask"] = (
                _serialize_function(self.mask)
                if callable(self.mask)
                else serialization.serialize_keras_object(self.mask)
            )
        config["arguments"] = serialization.serialize_keras_object(self.arguments)
        return config

    @classmethod
    def _refuse_in_safe_mode(cls, safe_mode: bool) -> None:
        if safe_mode:
            raise ValueError(
                "Requested the deserialization of a `Lambda` layer whose `function` is a Python lambda. Its "
                "bytecode is stored in the config and rebuilding it runs code from the file, so it is disallowed "
                "in safe mode (the default). If you trust the source of the file, pass `safe_mode=False` to the "
                "loading function, use `lamina.serialization.SafeModeScope(False)`, or call "
                "`lamina.serialization.enable_unsafe_deserialization()`. Otherwise rebuild the layer in "
                "code (or use a registered Layer subclass) instead of a lambda."
            )

    @classmethod
    def from_config(
        cls, config: dict[str, Any], custom_objects: dict | None = None, safe_mode: bool | None = None
    ) -> Lambda:
        """Rebuilds a Lambda; a Python lambda's bytecode is loaded only when safe mode is off."""
        config = dict(config)
        effective = safe_mode if safe_mode is not None else serialization.in_safe_mode()
        safe = effective is not False
        fn_config = config["function"]
        if _is_lambda_config(fn_config):
            cls._refuse_in_safe_mode(safe)
            config["function"] = _load_lambda(fn_config["config"])
        else:
            config["function"] = serialization.deserialize_keras_object(fn_config, custom_objects=custom_objects)
        if "output_shape" in config:
            shape_config = config["output_shape"]
            if _is_lambda_config(shape_config):
                cls._refuse_in_safe_mode(safe)
                config["output_shape"] = _load_lambda(shape_config["config"])
            elif isinstance(shape_config, dict):
                config["output_shape"] = serialization.deserialize_keras_object(
                    shape_config, custom_objects=custom_objects
                )
            else:
                config["output_shape"] = _to_shape_structure(shape_config)
        if "mask" in config and _is_lambda_config(config["mask"]):
            cls._refuse_in_safe_mode(safe)
            config["mask"] = _load_lambda(config["mask"]["config"])
        elif isinstance(config.get("mask"), dict):
            config["mask"] = serialization.deserialize_keras_object(config["mask"], custom_objects=custom_objects)
        if "arguments" in config:
            config["arguments"] = serialization.deserialize_keras_object(
                config["arguments"], custom_objects=custom_objects
            )
        return super().from_config(config)

    def extra_repr(self) -> str:
        return f"name={self.name!r}, function={getattr(self.function, '__name__', self.function)!r}"


def _add_batch(shape: Any, batch: Any) -> Any:
    return tree.map_shape_structure(lambda s: (batch, *s), shape)


def _to_shape_structure(value: Any) -> Any:
    """JSON lists back to tuples: ``[2, 3]`` -> ``(2, 3)``, ``[[2], [3]]`` -> ``[(2,), (3,)]``."""
    return tree.map_shape_structure(lambda s: tuple(s) if is_shape(s) else s, value)
