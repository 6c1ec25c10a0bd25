"""``Layer``: the Keras layer contract on a ``torch.nn.Module``.

* ``__init__`` stores the config; ``build(input_shape)`` creates weights with
  ``add_weight`` (lazily on the first call, or at once when the shape is known);
  ``call(inputs, training=None)`` computes; ``compute_output_shape`` and
  ``get_config`` complete the picture.
* Each weight is a real ``nn.Parameter`` (trainable) or buffer (state) registered
  under its attribute name, so PyTorch sees an ordinary module. ``layer.weights``
  returns Keras-style :class:`~lamina.variable.Variable` views.
* ``training`` resolves as in Keras: the explicit argument, else the one passed to
  the outer layer being called, else the module's ``.training`` flag (``False`` until
  ``.train()`` is called, so Keras's default of inference holds).
"""

from __future__ import annotations

import functools
import inspect
import math
import types
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from torch import nn

from lamina import backend, dtype_policies, regularizers, tree
from lamina.backend import naming
from lamina.backend.remat import get_current_remat_mode, remat
from lamina.layers.call_context import _LOSSES_USED, _ctx, _scope_stack, current_training
from lamina.layers.input_spec import InputSpec, check_input_spec
from lamina.layers.weights import WeightTracking, standardize_shape
from lamina.ops.operation import KerasTensor, Operation, any_symbolic, meta_run, shapes_to_tensors
from lamina.tree import flatten, map_structure

__all__ = ["InputSpec", "Layer", "build_child", "current_training"]  # InputSpec: its old home, still imported


def _shape_of(x: Any) -> Any:
    """The shapes of the tensors in ``x`` (``None`` for non-tensor leaves)."""
    return tree.map_structure(
        lambda t: tuple(t.shape) if isinstance(t, (torch.Tensor, KerasTensor, np.ndarray)) else None, x
    )


_LAYER_KWARGS = {
    "name",
    "dtype",
    "trainable",
    "autocast",
    "input_shape",
    "input_dim",
    "batch_input_shape",
    "batch_size",
    "input_length",
    "dynamic",
    "activity_regularizer",
    "weights",
}


class Layer(WeightTracking, Operation):
    """Base class of all layers: a ``torch.nn.Module`` with Keras's build/call/config contract.

    Subclasses implement ``build(input_shape)`` (create weights with ``add_weight``),
    ``call(inputs, training=None)`` and, for layers with configuration, ``get_config``.

    Args:
        name: unique name; default from the class name (``dense``, ``dense_1``, ...).
        dtype: ``"float32"`` (default), ``"float64"``, ``"mixed_float16"``, ...
        trainable: whether the weights are updated by training.
        input_shape: per-sample shape, which makes the layer buildable at once (legacy style).
        activity_regularizer: penalty on the layer's output, added to ``losses``.

    Example:
        >>> import torch, lamina
        >>> class Scale(lamina.layers.Layer):
        ...     def build(self, input_shape):
        ...         self.w = self.add_weight(shape=(input_shape[-1],), initializer="ones", name="w")
        ...     def call(self, x):
        ...         return x * self.w
        >>> s = Scale()
        >>> s.weights
        []
        >>> s(torch.ones(2, 3)).shape
        torch.Size([2, 3])
        >>> [v.path for v in s.weights]
        ['scale/w']
    """

    _call_has_training = False
    _call_has_mask = False
    _autocast_inputs = True
    _passes_strings = False  # models hand string arrays on to their (text) layers instead of refusing them

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        try:
            params = inspect.signature(cls.call).parameters
        except (TypeError, ValueError):
            params = {}
        cls._call_has_training = "training" in params
        cls._call_has_mask = "mask" in params
        cls._call_has_var_kwargs = any(p.kind == p.VAR_KEYWORD for p in params.values())
        if "build" in cls.__dict__ and not getattr(cls.__dict__["build"], "_in_name_scope", False):
            cls.build = _build_in_name_scope(cls.__dict__["build"])

    def __init__(
        self,
        *,
        activity_regularizer: Any = None,
        trainable: bool = True,
        dtype: Any = None,
        autocast: bool = True,
        name: str | None = None,
        **kwargs: Any,
    ) -> None:
        input_shape = kwargs.pop("input_shape", None)
        input_dim = kwargs.pop("input_dim", None)
        batch_input_shape = kwargs.pop("batch_input_shape", None)
        batch_size = kwargs.pop("batch_size", None)
        input_length = kwargs.pop("input_length", None)
        kwargs.pop("dynamic", None)
        initial_weights = kwargs.pop("weights", None)
        if kwargs:
            raise TypeError(
                f"{type(self).__name__}.__init__() got unexpected keyword argument(s): "
                f"{', '.join(sorted(kwargs))}. Layers accept their own arguments plus: "
                f"{', '.join(sorted(_LAYER_KWARGS))}."
            )
        if name is not None and (not isinstance(name, str) or "/" in name or not name):
            raise ValueError(f"Layer name must be a non-empty string without '/'. Received: name={name!r}")
        d = self.__dict__
        d["built"] = False
        Operation.__init__(self, name=name)
        d["_trainable"] = bool(trainable)
        d["dtype_policy"] = dtype_policies.get(dtype)
        d["autocast"] = autocast
        d["_mixed"] = d["dtype_policy"].name.startswith("mixed_")
        d["_compute_td"] = backend.torch_dtype(d["dtype_policy"].compute_dtype)
        d["_trainable_vars"] = []
        d["_non_trainable_vars"] = []
        d["_losses"] = []
        d["_build_shapes"] = None
        d["input_spec"] = None
        d["supports_masking"] = d.get("supports_masking", False)
        d["_initial_weights"] = initial_weights
        self.activity_regularizer = regularizers.get(activity_regularizer)
        if batch_input_shape is not None:
            shape = tuple(batch_input_shape)
        elif input_shape is not None:
            shape = (batch_size,) + standardize_shape(input_shape)
        elif input_dim is not None:
            shape = (batch_size, int(input_dim)) if input_length is None else (batch_size, input_length, int(input_dim))
        else:
            shape = None
        d["_batch_input_shape"] = shape
        remat_mode = get_current_remat_mode()
        if remat_mode is not None and remat_mode.mode is not None:  # made inside `keras.RematScope`
            d["_remat_mode"] = remat_mode
            d["call"] = types.MethodType(_rematerialized_call, self)  # per instance: other layers pay nothing
        # Lamina modules start in eval mode: with no `training` argument, calls are inference (Keras default).
        self.train(False)

    # ------------------------------------------------------------------ errors
    def _error(
        self,
        expected: str,
        received: str,
        fix: str = "Check the layer before it or the data you passed.",
        cls: type[Exception] = ValueError,
    ) -> Exception:
        """The one error format: layer name (type), what it expects, what it received, and the fix."""
        return cls(f'Layer "{self.name}" ({type(self).__name__}) expects {expected}, but received {received}. {fix}')

    # ------------------------------------------------------------------ dtype
    @property
    def dtype(self) -> str:
        """The variable dtype name (``"float32"`` by default)."""
        return self.dtype_policy.variable_dtype

    @property
    def compute_dtype(self) -> str:
        return self.dtype_policy.compute_dtype

    @property
    def variable_dtype(self) -> str:
        return self.dtype_policy.variable_dtype

    # ------------------------------------------------------------------ build
    def build(self, input_shape: Any = None) -> None:
        """Creates the weights for ``input_shape`` (batch included). The base version creates none."""
        self.built = True

    def _maybe_build(self, shapes: Any, device: torch.device | None = None) -> None:
        if self.built:
            return
        scope = _scope_stack()
        prev_dev = getattr(_ctx, "build_device", None)
        if device is not None and device.type != "meta":
            _ctx.build_device = device
        scope.append(naming.caller_entry(self.name, self))
        try:
            build_arg = shapes
            sig = inspect.signature(self.build).parameters
            if len(sig) == 0:
                self.build()
            else:
                if isinstance(shapes, tuple) and shapes and isinstance(shapes[0], (tuple, list)) and len(shapes) == 1:
                    build_arg = shapes[0]
                self.build(build_arg)
        finally:
            scope.pop()
            _ctx.build_device = prev_dev
        self.__dict__["built"] = True
        self.__dict__["_build_shapes"] = shapes
        if self._initial_weights is not None:
            self.set_weights(self._initial_weights)
            self.__dict__["_initial_weights"] = None

    def build_from_config(self, config: dict[str, Any]) -> None:
        shape = config.get("input_shape") if config else None
        if shape is not None:
            self._maybe_build(_to_tuple_shape(shape))

    def get_build_config(self) -> dict[str, Any] | None:
        if self._build_shapes is None:
            return None
        return {"input_shape": self._build_shapes}

    # ------------------------------------------------------------------ call
    def call(self, inputs: Any, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"Layer {type(self).__name__} does not implement call().")

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        """The full Keras call (conversion, build, checks, masks); ``nn.Module`` hooks wrap this."""
        return self._keras_call(args, kwargs)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        # Fast path: built, one plain tensor, at most a `training` kwarg, no torch hooks, no mask in flight.
        if (
            self.built
            and len(args) == 1
            and type(args[0]) is torch.Tensor
            and not self._mixed
            and (not kwargs or (len(kwargs) == 1 and "training" in kwargs))
            and not self._forward_hooks
            and not self._forward_pre_hooks
            and not _has_global_hooks()
            and getattr(args[0], "_keras_mask", None) is None
        ):
            x = args[0]
            spec = self.input_spec
            if spec is not None:
                self._check_input_spec(x, spec)
            if x.dtype != self._compute_td and self._autocast_inputs and self.autocast:
                x = self._cast_input(x)
            training = kwargs["training"] if kwargs else None
            outer = getattr(_ctx, "training", None)
            if outer is None:  # outermost call: it sets the training mode for everything inside
                if _LOSSES_USED[0]:
                    self._clear_losses()
                training = _ctx.training = self.training if training is None else bool(training)
                try:
                    out = self.call(x, training=training) if self._call_has_training else self.call(x)
                finally:
                    _ctx.training = None
            else:
                if training is None:
                    training = outer
                out = self.call(x, training=training) if self._call_has_training else self.call(x)
            if self.activity_regularizer is not None:
                self.add_loss(self.activity_regularizer(out) / out.shape[0])
            return out
        return nn.Module.__call__(self, *args, **kwargs)

    def _compute_tdtype(self) -> torch.dtype:
        return self._compute_td

    def _cast_input(self, x: torch.Tensor) -> torch.Tensor:
        # Keras casts float inputs to the compute dtype; ints and bools become floats for float layers.
        if x.dtype.is_floating_point or not getattr(self, "_keep_int_inputs", False):
            if x.dtype.is_complex:
                raise self._error(
                    "real-valued inputs", f"dtype {backend.standardize_dtype(x.dtype)}", "Pass float data.", TypeError
                )
            return x.to(self._compute_tdtype())
        return x

    def _convert_inputs(self, x: Any) -> Any:
        if isinstance(x, torch.Tensor):
            return x
        if isinstance(x, np.ndarray) or isinstance(x, (list, float, int)) and not isinstance(x, bool):
            if isinstance(x, list) and x and isinstance(x[0], (torch.Tensor, np.ndarray, KerasTensor)):
                return [self._convert_inputs(v) for v in x]
            device = self._device()
            arr = np.asarray(x)
            if arr.dtype.kind in "fiub" and arr.dtype != np.float64:
                return backend.convert_to_tensor(arr, device=device)
            if arr.dtype == np.float64:
                return backend.convert_to_tensor(arr, dtype=self.compute_dtype, device=device)
            if arr.dtype.kind in "US" or arr.dtype == object:
                if self._passes_strings and (arr.dtype.kind in "US" or _all_strings(arr)):
                    return arr  # text stays in NumPy for the text layers inside (models pass it through)
                raise self._error(
                    "numeric inputs", f"an array of dtype {arr.dtype}", "Convert the data to numbers.", TypeError
                )
            return backend.convert_to_tensor(arr, device=device)
        if isinstance(x, tuple):
            return tuple(self._convert_inputs(v) for v in x)
        if isinstance(x, list):
            return [self._convert_inputs(v) for v in x]
        if isinstance(x, dict):
            return {k: self._convert_inputs(v) for k, v in x.items()}
        if hasattr(x, "__array__") and not isinstance(x, KerasTensor):
            return self._convert_inputs(np.asarray(x))
        return x

    def _keras_call(self, args: tuple, kwargs: dict) -> Any:
        if not args:
            if "inputs" in kwargs:
                args = (kwargs.pop("inputs"),)
            else:
                raise TypeError(f'Layer "{self.name}" ({type(self).__name__}) was called without inputs.')
        if any_symbolic((args, kwargs)):
            return self._symbolic_call(args, kwargs)
        inputs = self._convert_inputs(args[0])
        args = (inputs, *args[1:])
        # the first tensor (an optional input may be None); none at all is a call without data
        first = (
            inputs if isinstance(inputs, torch.Tensor) else next((t for t in flatten(inputs) if t is not None), None)
        )
        if first is None:
            raise self._error("tensor inputs", f"inputs={args[0]!r}"[:200], "Pass an array or a tensor.", TypeError)
        if not self.built:
            device = first.device if isinstance(first, torch.Tensor) else None
            self._maybe_build(_shape_of(inputs), device)
        if self.input_spec is not None:
            self._check_input_spec(inputs, self.input_spec)
        if self.autocast and self._autocast_inputs:
            inputs = map_structure(
                lambda t: (
                    self._cast_input(t) if isinstance(t, torch.Tensor) and t.dtype != self._compute_tdtype() else t
                ),
                inputs,
            )
            args = (inputs, *args[1:])

        # training: explicit > outer call > module flag
        training = kwargs.pop("training", None)
        outer = getattr(_ctx, "training", None)
        is_outer = outer is None
        if training is None:
            training = outer if outer is not None else self.training
        if self._call_has_training:
            kwargs["training"] = training
        # masks travel on tensors as `_keras_mask`, as in Keras
        if self._call_has_mask and kwargs.get("mask") is None:
            mask = map_structure(lambda t: getattr(t, "_keras_mask", None), inputs)
            if any(m is not None for m in flatten(mask)):
                kwargs["mask"] = mask
        previous_mask = kwargs.get("mask")
        if previous_mask is None:
            previous_mask = map_structure(lambda t: getattr(t, "_keras_mask", None), inputs)
            if all(m is None for m in flatten(previous_mask)):
                previous_mask = None

        if is_outer:
            if _LOSSES_USED[0]:
                self._clear_losses()
            _ctx.training = bool(training)
        try:
            if self._mixed and isinstance(first, torch.Tensor) and not torch.is_autocast_enabled(first.device.type):
                # mixed_float16 / mixed_bfloat16: float32 weights, matmuls and convs in the compute dtype
                with torch.autocast(device_type=first.device.type, dtype=self._compute_tdtype()):
                    outputs = self.call(*args, **kwargs)
            else:
                outputs = self.call(*args, **kwargs)
            if self._mixed:
                outputs = self._cast_outputs(outputs)
        finally:
            if is_outer:
                _ctx.training = None
        if self.activity_regularizer is not None:
            for o in flatten(outputs):
                if isinstance(o, torch.Tensor):
                    self.add_loss(self.activity_regularizer(o) / o.shape[0])
        if previous_mask is not None or type(self).compute_mask is not Layer.compute_mask:
            self._set_output_mask(inputs, outputs, previous_mask)
        return outputs

    def _cast_outputs(self, outputs: Any) -> Any:
        """Float outputs in the compute dtype, as Keras gives them: torch's autocast runs some ops (3-D pooling,
        fused RNNs, reductions) in float32 and would otherwise leak float32 out of a mixed-precision layer."""
        target = self._compute_td

        def cast(t: Any) -> Any:
            if (
                isinstance(t, torch.Tensor)
                and t.dtype != target
                and t.dtype in (torch.float32, torch.float16, torch.bfloat16)
            ):
                return t.to(target)
            return t

        return map_structure(cast, outputs)

    def _set_output_mask(self, inputs: Any, outputs: Any, previous_mask: Any) -> None:
        try:
            out_mask = self.compute_mask(inputs, previous_mask)
        except NotImplementedError:
            out_mask = None
        if out_mask is None:
            return
        outs = flatten(outputs)
        masks = flatten(out_mask) if isinstance(out_mask, (list, tuple)) else [out_mask] * len(outs)
        for o, m in zip(outs, masks):
            if isinstance(o, torch.Tensor) and m is not None:
                try:
                    o._keras_mask = m
                except (AttributeError, RuntimeError):
                    pass

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        """The mask of the output: the input mask when the layer supports masking, else None."""
        if not self.supports_masking:
            return None
        return mask

    # ------------------------------------------------------------------ input checks
    _check_input_spec = check_input_spec

    # ------------------------------------------------------------------ symbolic
    def _symbolic_call(self, args: tuple, kwargs: dict) -> Any:
        inputs = args[0]
        if not self.built:
            self._maybe_build(_shape_of(inputs))
        if self.input_spec is not None:
            self._check_input_spec(inputs, self.input_spec)
        scope = _scope_stack()
        # sub-layers built by `call` get weight paths under this layer, as in Keras
        scope.append(naming.caller_entry(self.name, self))
        try:
            return super()._symbolic_call(args, kwargs)
        finally:
            scope.pop()

    def compute_output_spec(self, *args: Any, **kwargs: Any) -> Any:
        """Output ``KerasTensor``s for symbolic inputs: from ``compute_output_shape``, else a meta-device run."""
        inputs = args[0]
        if (
            type(self).compute_output_shape is not Layer.compute_output_shape
            and len(args) == 1
            and not any_symbolic(kwargs)
        ):
            shape = self.compute_output_shape(_shape_of(inputs))
            return shapes_to_tensors(shape, self._output_dtype(inputs))
        return meta_run(self, args, kwargs)

    def _output_dtype(self, inputs: Any) -> str:
        return self.compute_dtype

    def compute_output_shape(self, input_shape: Any) -> Any:
        """The output shape for ``input_shape`` (batch included, ``None`` for unknown sizes)."""
        spec = meta_run(self, (shapes_to_tensors(input_shape, self.compute_dtype),), {})
        return map_structure(lambda t: t.shape if isinstance(t, KerasTensor) else t, spec)

    # ------------------------------------------------------------------ config
    def get_config(self) -> dict[str, Any]:
        """The constructor arguments as a JSON-friendly dict (Keras's schema)."""
        config: dict[str, Any] = {
            "name": self.name,
            "trainable": self.trainable,
            "dtype": self.dtype_policy.serialize(),
        }
        if self._batch_input_shape is not None and not self.built:
            config["batch_input_shape"] = list(self._batch_input_shape)
        if self.activity_regularizer is not None:
            config["activity_regularizer"] = regularizers.serialize(self.activity_regularizer)
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Layer:
        """Builds a layer from ``get_config()``'s output."""
        config = dict(config)
        if "batch_shape" in config and "batch_input_shape" not in config and cls.__name__ != "InputLayer":
            config["batch_input_shape"] = config.pop("batch_shape")
        try:
            return cls(**config)
        except TypeError as e:
            raise TypeError(
                f"Error when deserializing class '{cls.__name__}' using config={config}.\n\nException encountered: {e}"
            ) from e

    def extra_repr(self) -> str:
        return f"name={self.name!r}, built={self.built}"


def _rematerialized_call(layer: Layer, *args: Any, **kwargs: Any) -> Any:
    """``call`` of a layer made inside a ``RematScope``: recomputed in the backward pass per the scope's mode."""
    call = type(layer).call.__get__(layer)
    mode = layer._remat_mode
    if mode.mode == "activations":
        activation = getattr(layer, "activation", None)
        if activation is None:
            return call(*args, **kwargs)
        layer.__dict__["activation"] = remat(activation)
        try:
            return call(*args, **kwargs)
        finally:
            layer.__dict__["activation"] = activation
    if mode.mode == "list_of_layers" and layer.name not in mode.layer_names:
        return call(*args, **kwargs)
    if mode.mode == "larger_than":
        try:
            shapes = layer.compute_output_shape(tree.map_structure(lambda t: tuple(t.shape), args[0]))
        except Exception:  # noqa: BLE001 - no shape inference for this layer: no rematerialization, as Keras
            return call(*args, **kwargs)
        flat = tree.flatten(tree.map_shape_structure(lambda s: math.prod(d or 1 for d in s), shapes))
        if not sum(flat) > mode.output_size_threshold:
            return call(*args, **kwargs)
    return remat(call)(*args, **kwargs)


def _rematerialized_call(layer: Layer, *args: Any, **kwargs: Any) -> Any:
    """``call`` of a layer made inside a ``RematScope``: recomputed in the backward pass per the scope's mode."""
    call = type(layer).call.__get__(layer)
    mode = layer._remat_mode
    if mode.mode == "activations":
        activation = getattr(layer, "activation", None)
        if activation is None:
            return call(*args, **kwargs)
        layer.__dict__["activation"] = remat(activation)
        try:
            return call(*args, **kwargs)
        finally:
            layer.__dict__["activation"] = activation
    if mode.mode == "list_of_layers" and layer.name not in mode.layer_names:
        return call(*args, **kwargs)
    if mode.mode == "larger_than":
        try:
            shapes = layer.compute_output_shape(tree.map_structure(lambda t: tuple(t.shape), args[0]))
        except Exception:  # noqa: BLE001 - no shape inference for this layer: no rematerialization, as Keras
            return call(*args, **kwargs)
        flat = tree.flatten(tree.map_shape_structure(lambda s: math.prod(d or 1 for d in s), shapes))
        if not sum(flat) > mode.output_size_threshold:
            return call(*args, **kwargs)
    return remat(call)(*args, **kwargs)


def _build_in_name_scope(build: Callable[..., Any]) -> Callable[..., Any]:
    """``build`` run under the layer's name scope, as Keras's build wrapper does: a sub-layer built directly
    inside (``self.inner.build(shape)``) gets weight paths ``block/inner/kernel``, also when the user calls
    ``block.build(shape)`` themself."""

    @functools.wraps(build)
    def wrapper(self: Layer, *args: Any, **kwargs: Any) -> Any:
        if naming.scope_is_open_for(self):  # `_maybe_build` (or an overriding build) opened it already
            return build(self, *args, **kwargs)
        stack = _scope_stack()
        stack.append(naming.caller_entry(self.name, self))
        try:
            return build(self, *args, **kwargs)
        finally:
            stack.pop()

    wrapper._in_name_scope = True
    return wrapper


def build_child(parent: Layer, child: Any, shape: Any) -> None:
    """Builds ``child`` under ``parent``'s name scope, so its weights get paths like ``lstm/lstm_cell/kernel``."""
    if not isinstance(child, Layer) or child.built:
        return
    stack = _scope_stack()
    pushed = not naming.scope_is_open_for(parent)
    if pushed:
        stack.append(naming.caller_entry(parent.name, parent))
    try:
        child._maybe_build(tuple(shape) if isinstance(shape, list) else shape)
    finally:
        if pushed:
            stack.pop()


def _all_strings(arr: np.ndarray) -> bool:
    flat = arr.reshape(-1)
    return flat.size > 0 and all(isinstance(v, (str, bytes)) for v in flat)


def _has_global_hooks() -> bool:
    from torch.nn.modules import module as m

    return bool(m._global_forward_hooks or m._global_forward_pre_hooks or m._global_forward_hooks_always_called)


def _to_tuple_shape(shape: Any) -> Any:
    """Shapes read back from a config (lists) as tuples, in any structure of shapes."""
    return tree.map_shape_structure(lambda x: tuple(x) if isinstance(x, list) else x, shape)
