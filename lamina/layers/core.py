"""Core layers: Dense, Identity, Activation, Lambda, Masking, EinsumDense, Embedding.

(The operations behind ``KerasTensor`` math, ``x + y``, live in :mod:`lamina.layers.symbolic_ops`.)"""

from __future__ import annotations

import base64
import inspect
import marshal
import re
import types
import warnings
from typing import Any

import torch
import torch.nn.functional as F

from lamina import activations, constraints, initializers, regularizers, serialization
from lamina.layers.layer import InputSpec, Layer, _meta_run


def _ser(obj: Any, module: Any) -> Any:
    return None if obj is None else module.serialize(obj)


class Dense(Layer):
    """A densely connected layer: ``activation(inputs @ kernel + bias)`` on the last axis.

    Args:
        units: positive int, size of the output's last axis.
        activation: name or callable; default none (linear).
        use_bias: whether to add a bias vector.
        kernel_initializer / bias_initializer: default ``glorot_uniform`` / ``zeros``.
        kernel_regularizer / bias_regularizer / activity_regularizer: optional penalties.
        kernel_constraint / bias_constraint: optional projections after each update.

    Input shape:
        ``(batch, ..., input_dim)``.

    Output shape:
        ``(batch, ..., units)``.

    Example:
        >>> import numpy as np, lamina
        >>> layer = lamina.layers.Dense(2, activation="relu", name="layer1")
        >>> layer(np.ones((3, 3), "float32")).shape
        torch.Size([3, 2])
        >>> [(v.path, v.shape) for v in layer.weights]
        [('layer1/kernel', (3, 2)), ('layer1/bias', (2,))]
    """

    def __init__(
        self,
        units: int,
        activation: Any = None,
        use_bias: bool = True,
        kernel_initializer: Any = "glorot_uniform",
        bias_initializer: Any = "zeros",
        kernel_regularizer: Any = None,
        bias_regularizer: Any = None,
        activity_regularizer: Any = None,
        kernel_constraint: Any = None,
        bias_constraint: Any = None,
        **kwargs: Any,
    ) -> None:
        if isinstance(units, bool) or not isinstance(units, int) or units <= 0:
            raise ValueError(
                f"Received an invalid value for `units`, expected a positive integer. Received: units={units!r}"
            )
        for key in ("lora_rank", "lora_alpha", "quantization_config"):
            if kwargs.pop(key, None) is not None:
                raise ValueError(f"Dense: `{key}` is not supported by Lamina.")
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        self.units = units
        self.activation = activations.get(activation)
        self.use_bias = use_bias
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.input_spec = InputSpec(min_ndim=2)
        self.supports_masking = True

    def build(self, input_shape: tuple) -> None:
        input_dim = input_shape[-1]
        if input_dim is None:
            raise self._error(
                "a known last axis", f"input_shape={tuple(input_shape)}", "Give the input a defined feature size."
            )
        self.kernel = self.add_weight(
            name="kernel",
            shape=(input_dim, self.units),
            initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint,
        )
        if self.use_bias:
            self.bias = self.add_weight(
                name="bias",
                shape=(self.units,),
                initializer=self.bias_initializer,
                regularizer=self.bias_regularizer,
                constraint=self.bias_constraint,
            )
        else:
            self.bias = None
        self.input_spec = InputSpec(min_ndim=2, axes={-1: input_dim})
        self.built = True

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        # kernel is Keras's (in, out): x @ kernel directly, bias fused into the same GEMM for 2D inputs.
        kernel, bias = self.kernel, self.bias
        if inputs.ndim == 2:
            x = torch.addmm(bias, inputs, kernel) if bias is not None else inputs.mm(kernel)
        else:
            x = torch.matmul(inputs, kernel)
            if bias is not None:
                x = x + bias
        activation = self.activation
        if activation is activations.relu:
            return torch.relu_(x)  # x is this call's own fresh output: in place saves an allocation and a pass
        return x if activation is activations.linear else activation(x)

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return (*tuple(input_shape)[:-1], self.units)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(
            {
                "units": self.units,
                "activation": activations.serialize(self.activation),
                "use_bias": self.use_bias,
                "kernel_initializer": initializers.serialize(self.kernel_initializer),
                "bias_initializer": initializers.serialize(self.bias_initializer),
                "kernel_regularizer": _ser(self.kernel_regularizer, regularizers),
                "bias_regularizer": _ser(self.bias_regularizer, regularizers),
                "kernel_constraint": _ser(self.kernel_constraint, constraints),
                "bias_constraint": _ser(self.bias_constraint, constraints),
                "quantization_config": None,
            }
        )
        return config

    def extra_repr(self) -> str:
        in_dim = self.kernel.shape[0] if self.built else "?"
        act = activations.serialize(self.activation)
        return f"name={self.name!r}, in_features={in_dim}, units={self.units}, activation={act!r}"


class Identity(Layer):
    """Returns its input unchanged; a placeholder.

    Example:
        >>> import torch, lamina
        >>> lamina.layers.Identity()(torch.ones(2)).tolist()
        [1.0, 1.0]
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.supports_masking = True
        self.built = True

    def call(self, inputs: Any) -> Any:
        return inputs

    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape


class Activation(Layer):
    """Applies an activation function by name or callable.

    Example:
        >>> import torch, lamina
        >>> lamina.layers.Activation("relu")(torch.tensor([-1.0, 2.0])).tolist()
        [0.0, 2.0]
    """

    def __init__(self, activation: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.supports_masking = True
        self.activation = activations.get(activation)
        self.built = True

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        return self.activation(inputs)

    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config["activation"] = activations.serialize(self.activation)
        return config


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
            return _meta_run(self, args, kwargs)  # keeps the function's output dtype
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
        while isinstance(first, (list, tuple)) and first and not _is_plain_shape(first):
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


def _is_plain_shape(s: Any) -> bool:
    return isinstance(s, (list, tuple)) and all(d is None or isinstance(d, int) for d in s)


def _add_batch(shape: Any, batch: Any) -> Any:
    if _is_plain_shape(shape):
        return (batch, *shape)
    if isinstance(shape, dict):
        return {k: _add_batch(v, batch) for k, v in shape.items()}
    return type(shape)(_add_batch(s, batch) for s in shape)


def _to_shape_structure(value: Any) -> Any:
    """JSON lists back to tuples: ``[2, 3]`` -> ``(2, 3)``, ``[[2], [3]]`` -> ``[(2,), (3,)]``."""
    if _is_plain_shape(value):
        return tuple(value)
    if isinstance(value, dict):
        return {k: _to_shape_structure(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_to_shape_structure(v) for v in value)
    return value


# ---------------------------------------------------------------------------------------------- Masking
class Masking(Layer):
    """Masks time steps whose features all equal ``mask_value``: the output mask is
    ``any(inputs != mask_value, axis=-1)`` and masked steps are set to 0.

    Mask-aware layers downstream (RNNs, attention, pooling) then skip those steps.

    Args:
        mask_value: the padding value; default 0.0.

    Input shape:
        ``(batch, steps, features)`` (any rank >= 2).

    Example:
        >>> import torch, lamina
        >>> x = torch.tensor([[[1.0, 2.0], [0.0, 0.0], [3.0, 0.0]]])
        >>> y = lamina.layers.Masking()(x)
        >>> y._keras_mask.tolist()
        [[True, False, True]]
    """

    def __init__(self, mask_value: Any = 0.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if isinstance(mask_value, dict) and mask_value.get("config", None):
            mask_value = serialization.deserialize_keras_object(mask_value)
        self.mask_value = mask_value
        self.supports_masking = True
        self.built = True

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        keep = (inputs != self.mask_value).any(dim=-1, keepdim=True)
        outputs = inputs.masked_fill(~keep, 0)
        outputs._keras_mask = keep.squeeze(-1)
        return outputs

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        return (inputs != self.mask_value).any(dim=-1)

    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config["mask_value"] = self.mask_value
        return config

    def extra_repr(self) -> str:
        return f"name={self.name!r}, mask_value={self.mask_value}"


# ---------------------------------------------------------------------------------------------- EinsumDense
_EINSUM_FORMS = (
    (re.compile(r"^([a-zA-Z]+),([a-zA-Z]+)->([a-zA-Z]+)$"), False),
    (re.compile(r"^0([a-zA-Z]+),([a-zA-Z]+)->0([a-zA-Z]+)$"), True),
    (re.compile(r"^([a-zA-Z]{2,})0,([a-zA-Z]+)->([a-zA-Z]+)0$"), False),
)


def _split_einsum(equation: str) -> tuple[str, str, str, bool]:
    """``(input_spec, weight_spec, output_spec, left_elided)`` for EinsumDense's three equation forms."""
    replaced = re.sub(r"\.\.\.", "0", str(equation).replace(" ", ""))
    for pattern, left in _EINSUM_FORMS:
        m = pattern.match(replaced)
        if m:
            return m.group(1), m.group(2), m.group(3), left
    raise ValueError(
        f"Invalid einsum equation '{equation}'. Equations must be in the form [X],[Y]->[Z], ...[X],[Y]->...[Z], "
        "or [X]...,[Y]->[Z]...."
    )


def analyze_einsum(
    equation: str, bias_axes: str | None, input_shape: tuple, output_shape: Any
) -> tuple[list, list | None, list, list, list]:
    """EinsumDense's shape analysis: ``(kernel_shape, bias_shape, full_output_shape, input_axes, output_axes)``.

    ``output_shape`` is the layer's partial output shape (no batch, no elided axes); the kernel takes
    each weight letter's size from the output (if it appears there) or else from the input.
    """
    input_spec, weight_spec, output_spec, left_elided = _split_einsum(equation)
    input_shape = tuple(input_shape)
    elided = len(input_shape) - len(input_spec)
    out = [output_shape] if isinstance(output_shape, int) else list(output_shape)
    out.insert(0, input_shape[0])
    if elided > 0 and left_elided:
        for i in range(1, elided):
            out.insert(1, input_shape[i])
    elif elided > 0:
        out.extend(input_shape[len(input_shape) - elided :])
    if left_elided:
        input_map = {d: i + elided - len(input_shape) for i, d in enumerate(input_spec)}
        output_map = {d: i + elided for i, d in enumerate(output_spec)}
    else:
        input_map = {d: i for i, d in enumerate(input_spec)}
        output_map = {d: i for i, d in enumerate(output_spec)}
    for d in input_spec:
        if d in output_map:
            o = out[output_map[d]]
            if o is not None and o != input_shape[input_map[d]]:
                raise ValueError(
                    f"Input shape and output shape do not match at shared dimension '{d}'. Input shape is "
                    f"{input_shape[input_map[d]]}, and output shape is {o}."
                )
            if o is None:  # a shared axis left as None takes the input's size (Keras leaves it unknown)
                out[output_map[d]] = input_shape[input_map[d]]
    for d in output_spec:
        if d not in input_spec and d not in weight_spec:
            raise ValueError(
                f"Dimension '{d}' was specified in the output '{output_spec}' but has no corresponding dim in the "
                f"input spec '{input_spec}' or weight spec '{weight_spec}'"
            )
    kernel_shape, input_axes, output_axes = [], [], []
    for i, d in enumerate(weight_spec):
        if d in output_map:
            kernel_shape.append(out[output_map[d]])
            output_axes.append(i)
        elif d in input_map:
            kernel_shape.append(input_shape[input_map[d]])
            input_axes.append(i)
        else:
            raise ValueError(
                f"Weight dimension '{d}' did not have a match in either the input spec '{input_spec}' or the "
                f"output spec '{output_spec}'. For this layer, the weight must be fully specified."
            )
    bias_shape = None
    if bias_axes is not None:
        offset = elided if left_elided else 0
        sizes = {c: out[i + offset] for i, c in enumerate(output_spec)}
        for c in bias_axes:
            if c not in output_spec:
                raise ValueError(
                    f"Bias dimension '{c}' was requested, but is not part of the output spec '{output_spec}'"
                )
        first = min(output_spec.find(c) for c in bias_axes)
        bias_shape = [sizes[c] if c in bias_axes else 1 for c in output_spec[first:]]
        if not left_elided:
            bias_shape.extend([1] * max(elided, 0))
    return kernel_shape, bias_shape, out, input_axes, output_axes


class EinsumDense(Layer):
    """A dense layer of any rank, written as an einsum between the inputs and a kernel.

    Args:
        equation: ``"ab,bc->ac"``-style equation ``input,kernel->output``; ``...`` may stand for
            leading (``"...b,bc->...c"``) or trailing axes.
        output_shape: expected output shape without the batch axis and elided axes (``None`` for
            sizes taken from the input); an int for a single axis.
        activation: optional activation.
        bias_axes: letters of the output axes that get a bias, e.g. ``"c"``; default no bias.
        kernel_initializer / bias_initializer, kernel_regularizer / bias_regularizer /
        activity_regularizer, kernel_constraint / bias_constraint: as in ``Dense``.

    Example:
        >>> import torch, lamina
        >>> layer = lamina.layers.EinsumDense("abc,cd->abd", output_shape=(None, 4), bias_axes="d")
        >>> layer(torch.ones(2, 3, 5)).shape
        torch.Size([2, 3, 4])
        >>> [(w.name, w.shape) for w in layer.weights]
        [('kernel', (5, 4)), ('bias', (4,))]
    """

    def __init__(
        self,
        equation: str,
        output_shape: Any,
        activation: Any = None,
        bias_axes: str | None = None,
        kernel_initializer: Any = "glorot_uniform",
        bias_initializer: Any = "zeros",
        kernel_regularizer: Any = None,
        bias_regularizer: Any = None,
        kernel_constraint: Any = None,
        bias_constraint: Any = None,
        **kwargs: Any,
    ) -> None:
        for key in ("lora_rank", "lora_alpha", "gptq_unpacked_column_size", "quantization_config"):
            if kwargs.pop(key, None) is not None:
                raise ValueError(f"EinsumDense: `{key}` is not supported by Lamina.")
        _split_einsum(equation)  # fail early on a malformed equation
        super().__init__(**kwargs)
        self.equation = equation
        self.partial_output_shape = (output_shape,) if isinstance(output_shape, int) else tuple(output_shape)
        self.bias_axes = bias_axes
        self.activation = activations.get(activation)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)

    def build(self, input_shape: tuple) -> None:
        try:
            kernel_shape, bias_shape, _, input_axes, output_axes = analyze_einsum(
                self.equation, self.bias_axes, input_shape, self.partial_output_shape
            )
        except ValueError as e:
            raise self._error(
                f"inputs that fit equation {self.equation!r} and output_shape={self.partial_output_shape}",
                f"input_shape={tuple(input_shape)}",
                str(e),
            ) from None
        if any(d is None for d in kernel_shape) or (bias_shape and any(d is None for d in bias_shape)):
            raise self._error(
                "known sizes on the axes the kernel and bias span",
                f"input_shape={tuple(input_shape)}",
                "Give those input axes a defined size, or set them in `output_shape`.",
            )
        init = self.kernel_initializer
        if isinstance(init, initializers.VarianceScaling) and (init.input_axes is None or init.output_axes is None):
            # fans from the kernel's input/output axes, as Keras does (the config keeps the original)
            init = type(init).from_config({**init.get_config(), "input_axes": input_axes, "output_axes": output_axes})
        self.kernel = self.add_weight(
            name="kernel",
            shape=tuple(kernel_shape),
            initializer=init,
            regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint,
        )
        if bias_shape is not None:
            self.bias = self.add_weight(
                name="bias",
                shape=tuple(bias_shape),
                initializer=self.bias_initializer,
                regularizer=self.bias_regularizer,
                constraint=self.bias_constraint,
            )
        else:
            self.bias = None
        # pin the input axes the kernel contracts over
        input_spec, weight_spec, _, left = _split_einsum(self.equation)
        ndim = len(input_shape)
        offset = ndim - len(input_spec) if left else 0
        axes = {
            i + offset: input_shape[i + offset]
            for i, d in enumerate(input_spec)
            if d in weight_spec and input_shape[i + offset] is not None
        }
        self.input_spec = InputSpec(ndim=ndim, axes=axes)
        self.built = True

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        # .to() is a no-op unless a mixed policy computes in a lower precision than the float32 weights
        x = torch.einsum(self.equation, inputs, self.kernel.to(inputs.dtype))
        if self.bias is not None:
            x = x + self.bias.to(x.dtype)
        activation = self.activation
        return x if activation is activations.linear else activation(x)

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        try:
            return tuple(analyze_einsum(self.equation, self.bias_axes, input_shape, self.partial_output_shape)[2])
        except ValueError as e:
            raise self._error(
                f"inputs that fit equation {self.equation!r} and output_shape={self.partial_output_shape}",
                f"input_shape={tuple(input_shape)}",
                str(e),
            ) from None

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(
            {
                "output_shape": self.partial_output_shape,
                "equation": self.equation,
                "activation": activations.serialize(self.activation),
                "bias_axes": self.bias_axes,
                "kernel_initializer": initializers.serialize(self.kernel_initializer),
                "bias_initializer": initializers.serialize(self.bias_initializer),
                "kernel_regularizer": _ser(self.kernel_regularizer, regularizers),
                "bias_regularizer": _ser(self.bias_regularizer, regularizers),
                "activity_regularizer": _ser(self.activity_regularizer, regularizers),
                "kernel_constraint": _ser(self.kernel_constraint, constraints),
                "bias_constraint": _ser(self.bias_constraint, constraints),
                "quantization_config": None,
            }
        )
        return config

    def extra_repr(self) -> str:
        return f"name={self.name!r}, equation={self.equation!r}, output_shape={self.partial_output_shape}"


# ---------------------------------------------------------------------------------------------- Embedding
class Embedding(Layer):
    """Maps integer indices to dense vectors: row ``i`` of an ``(input_dim, output_dim)`` table.

    Args:
        input_dim: vocabulary size (largest index + 1).
        output_dim: size of each vector.
        embeddings_initializer: default ``"uniform"`` (uniform on ``[-0.05, 0.05]``).
        embeddings_regularizer / activity_regularizer / embeddings_constraint: optional.
        mask_zero: whether index 0 is padding; the output then carries the mask ``inputs != 0``
            for mask-aware layers downstream (``input_dim`` should count index 0).
        weights: optional initial table ``[array of shape (input_dim, output_dim)]``.

    Input shape:
        Integer indices of any shape ``(batch, ...)``; float inputs are truncated to int64.

    Output shape:
        ``(batch, ..., output_dim)``.

    Example:
        >>> import torch, lamina
        >>> layer = lamina.layers.Embedding(10, 3, mask_zero=True)
        >>> y = layer(torch.tensor([[4, 0, 2]]))
        >>> y.shape, y._keras_mask.tolist()
        (torch.Size([1, 3, 3]), [[True, False, True]])
        >>> [(w.path, w.shape) for w in layer.weights]
        [('embedding/embeddings', (10, 3))]
    """

    _autocast_inputs = False  # indices stay integers; floats are truncated in call
    _keep_int_inputs = True

    def __init__(
        self,
        input_dim: int,
        output_dim: int,
        embeddings_initializer: Any = "uniform",
        embeddings_regularizer: Any = None,
        embeddings_constraint: Any = None,
        mask_zero: bool = False,
        weights: Any = None,
        **kwargs: Any,
    ) -> None:
        if not isinstance(input_dim, int) or isinstance(input_dim, bool) or input_dim <= 0:
            raise ValueError(
                f"`input_dim` must be a positive integer. Received: input_dim={input_dim} "
                f"(of type {type(input_dim).__name__})."
            )
        if not isinstance(output_dim, int) or isinstance(output_dim, bool) or output_dim <= 0:
            raise ValueError(
                f"`output_dim` must be a positive integer. Received: output_dim={output_dim} "
                f"(of type {type(output_dim).__name__})."
            )
        for key in ("lora_rank", "lora_alpha", "quantization_config"):
            if kwargs.pop(key, None) is not None:
                raise ValueError(f"Embedding: `{key}` is not supported by Lamina.")
        if kwargs.pop("input_length", None) is not None:
            warnings.warn("Argument `input_length` is deprecated. Just remove it.", stacklevel=2)
        super().__init__(**kwargs)
        self.input_dim = input_dim
        self.output_dim = output_dim
        self.embeddings_initializer = initializers.get(embeddings_initializer)
        self.embeddings_regularizer = regularizers.get(embeddings_regularizer)
        self.embeddings_constraint = constraints.get(embeddings_constraint)
        self.mask_zero = mask_zero
        self.supports_masking = mask_zero
        if weights is not None:
            self.build()
            if not (isinstance(weights, list) and len(weights) == 1):
                weights = [weights]
            self.set_weights(weights)

    def build(self, input_shape: Any = None) -> None:
        if self.built:
            return
        self.embeddings = self.add_weight(
            name="embeddings",
            shape=(self.input_dim, self.output_dim),
            initializer=self.embeddings_initializer,
            regularizer=self.embeddings_regularizer,
            constraint=self.embeddings_constraint,
        )
        self.built = True

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        indices = inputs
        if indices.dtype not in (torch.int64, torch.int32):
            if indices.is_complex():
                raise self._error("integer indices", f"dtype {indices.dtype}", "Pass integer token ids.", TypeError)
            indices = indices.long()
        try:
            out = F.embedding(indices, self.embeddings)
        except (IndexError, RuntimeError) as e:
            lo, hi = int(indices.min()), int(indices.max())
            raise self._error(
                f"indices in [0, {self.input_dim})",
                f"indices in [{lo}, {hi}]",
                "Increase `input_dim` to the vocabulary size or fix the token ids.",
                IndexError,
            ) from e
        if out.dtype != self._compute_tdtype():
            out = out.to(self._compute_tdtype())
        if self.mask_zero:
            out._keras_mask = indices != 0
        return out

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        if not self.mask_zero:
            return None
        return inputs != 0

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return (*tuple(input_shape), self.output_dim)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(
            {
                "input_dim": self.input_dim,
                "output_dim": self.output_dim,
                "embeddings_initializer": initializers.serialize(self.embeddings_initializer),
                "embeddings_regularizer": _ser(self.embeddings_regularizer, regularizers),
                "activity_regularizer": _ser(self.activity_regularizer, regularizers),
                "embeddings_constraint": _ser(self.embeddings_constraint, constraints),
                "mask_zero": self.mask_zero,
                "quantization_config": None,
            }
        )
        return config

    def extra_repr(self) -> str:
        return f"name={self.name!r}, input_dim={self.input_dim}, output_dim={self.output_dim}"
