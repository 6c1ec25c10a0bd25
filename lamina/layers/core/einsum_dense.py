"""``EinsumDense``: a dense layer written as an einsum equation, with Keras's weight layout."""

from __future__ import annotations

import re
from typing import Any

import torch

from lamina import activations, constraints, initializers, regularizers, serialization
from lamina.layers.input_spec import InputSpec
from lamina.layers.layer import Layer

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
        >>> [(w.name, tuple(w.shape)) for w in layer.weights]
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
                "kernel_regularizer": serialization.serialize_keras_object(self.kernel_regularizer),
                "bias_regularizer": serialization.serialize_keras_object(self.bias_regularizer),
                "activity_regularizer": serialization.serialize_keras_object(self.activity_regularizer),
                "kernel_constraint": serialization.serialize_keras_object(self.kernel_constraint),
                "bias_constraint": serialization.serialize_keras_object(self.bias_constraint),
                "quantization_config": None,
            }
        )
        return config

    def extra_repr(self) -> str:
        return f"name={self.name!r}, equation={self.equation!r}, output_shape={self.partial_output_shape}"
