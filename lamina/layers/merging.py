"""Merge layers: Add, Subtract, Multiply, Average, Maximum, Minimum, Concatenate, Dot (and their functions)."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from lamina.layers.layer import Layer


def _broadcast_shape(a: tuple, b: tuple) -> tuple:
    if len(a) < len(b):
        a, b = b, a
    b = (1,) * (len(a) - len(b)) + tuple(b)
    out = []
    for x, y in zip(a, b):
        if x is None or y is None:
            out.append(
                None
                if (x in (None, 1) and y in (None, 1)) or (x is None and y is None)
                else (x if y in (None, 1) else y)
            )
        elif x == 1:
            out.append(y)
        elif y == 1 or x == y:
            out.append(x)
        else:
            raise ValueError(f"Inputs have incompatible shapes. Received shapes {a} and {b}")
    return tuple(out)


class Merge(Layer):
    """Base of the elementwise merge layers: takes a list of at least 2 tensors of broadcastable shapes."""

    _min_inputs = 2
    _max_inputs: int | None = None

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.supports_masking = True

    def _check(self, input_shape: Any) -> list[tuple]:
        if (
            not isinstance(input_shape, (list, tuple))
            or not input_shape
            or not isinstance(input_shape[0], (list, tuple))
        ):
            raise self._error(
                "a list of input tensors", f"input_shape={input_shape}", "Call the layer on a list, e.g. layer([x, y])."
            )
        shapes = [tuple(s) for s in input_shape]
        if len(shapes) < self._min_inputs or (self._max_inputs and len(shapes) > self._max_inputs):
            count = (
                f"exactly {self._max_inputs}"
                if self._max_inputs == self._min_inputs
                else (f"at least {self._min_inputs}")
            )
            raise self._error(f"{count} inputs", f"{len(shapes)} inputs of shapes {shapes}")
        return shapes

    def build(self, input_shape: Any) -> None:
        shapes = self._check(input_shape)
        out = shapes[0][1:]
        for s in shapes[1:]:
            try:
                out = _broadcast_shape(out, s[1:])
            except ValueError:
                raise self._error("inputs with broadcastable shapes", f"shapes {shapes}") from None
        self.built = True

    def compute_output_shape(self, input_shape: Any) -> tuple:
        shapes = self._check(input_shape)
        out = shapes[0][1:]
        for s in shapes[1:]:
            out = _broadcast_shape(out, s[1:])
        batch = next((s[0] for s in shapes if s[0] is not None), None)
        return (batch, *out)

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        if mask is None or all(m is None for m in mask):
            return None
        masks = [m for m in mask if m is not None]
        out = masks[0]
        for m in masks[1:]:
            out = out & m
        return out

    def call(self, inputs: list[torch.Tensor]) -> torch.Tensor:
        return self._merge(list(inputs))

    def _merge(self, inputs: list[torch.Tensor]) -> torch.Tensor:
        raise NotImplementedError


class Add(Merge):
    """Elementwise sum of a list of inputs.

    Example:
        >>> import torch, lamina
        >>> lamina.layers.Add()([torch.ones(2, 3), torch.ones(2, 3)]).sum().item()
        12.0
    """

    def _merge(self, inputs):
        out = inputs[0]
        for x in inputs[1:]:
            out = out + x
        return out


class Subtract(Merge):
    """``inputs[0] - inputs[1]`` (exactly two inputs)."""

    _max_inputs = 2

    def _merge(self, inputs):
        return inputs[0] - inputs[1]


class Multiply(Merge):
    """Elementwise product of a list of inputs."""

    def _merge(self, inputs):
        out = inputs[0]
        for x in inputs[1:]:
            out = out * x
        return out


class Average(Merge):
    """Elementwise mean of a list of inputs."""

    def _merge(self, inputs):
        out = inputs[0]
        for x in inputs[1:]:
            out = out + x
        return out / len(inputs)


class Maximum(Merge):
    """Elementwise maximum of a list of inputs."""

    def _merge(self, inputs):
        out = inputs[0]
        for x in inputs[1:]:
            out = torch.maximum(out, x)
        return out


class Minimum(Merge):
    """Elementwise minimum of a list of inputs."""

    def _merge(self, inputs):
        out = inputs[0]
        for x in inputs[1:]:
            out = torch.minimum(out, x)
        return out


class Concatenate(Merge):
    """Concatenates a list of inputs along ``axis`` (all other axes must match).

    Example:
        >>> import torch, lamina
        >>> lamina.layers.Concatenate()([torch.ones(2, 3), torch.ones(2, 4)]).shape
        torch.Size([2, 7])
    """

    _min_inputs = 1

    def __init__(self, axis: int = -1, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.axis = axis

    def build(self, input_shape: Any) -> None:
        self.compute_output_shape(input_shape)
        self.built = True

    def compute_output_shape(self, input_shape: Any) -> tuple:
        shapes = self._check(input_shape)
        rank = len(shapes[0])
        axis = self.axis % rank
        for s in shapes[1:]:
            mismatch = any(
                i != axis and a is not None and b is not None and a != b for i, (a, b) in enumerate(zip(shapes[0], s))
            )
            if len(s) != rank or mismatch:
                raise self._error(
                    f"inputs with matching shapes except for the concatenation axis {self.axis}", f"shapes {shapes}"
                )
        out = list(shapes[0])
        sizes = [s[axis] for s in shapes]
        out[axis] = None if any(v is None for v in sizes) else sum(sizes)
        for i in range(rank):
            if i != axis and out[i] is None:
                out[i] = next((s[i] for s in shapes if s[i] is not None), None)
        return tuple(out)

    def _merge(self, inputs):
        return torch.cat(inputs, dim=self.axis)

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        if mask is None or all(m is None for m in mask):
            return None
        filled = []
        for x, m in zip(inputs, mask):
            if m is None:
                m = torch.ones(
                    x.shape[:-1] if self.axis in (-1, x.ndim - 1) else x.shape, dtype=torch.bool, device=x.device
                )
            filled.append(m)
        if self.axis in (-1, inputs[0].ndim - 1):
            out = filled[0]
            for m in filled[1:]:
                out = out & m
            return out
        return torch.cat(filled, dim=self.axis)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config["axis"] = self.axis
        return config


class Dot(Merge):
    """Dot product of two inputs along ``axes`` (optionally L2-normalized: cosine similarity).

    Example:
        >>> import torch, lamina
        >>> lamina.layers.Dot(axes=1)([torch.ones(2, 3), torch.ones(2, 3)]).tolist()
        [[3.0], [3.0]]
    """

    _max_inputs = 2

    def __init__(self, axes: int | tuple[int, int], normalize: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if not isinstance(axes, int) and not (isinstance(axes, (list, tuple)) and len(axes) == 2):
            raise ValueError(f"Invalid format for argument `axes`: expected an int or a pair. Received: axes={axes}")
        self.axes = axes
        self.normalize = normalize
        self.supports_masking = False

    def _axes(self, shapes: list[tuple]) -> tuple[int, int]:
        axes = (self.axes, self.axes) if isinstance(self.axes, int) else tuple(self.axes)
        return tuple(a % len(s) if a < 0 else a for a, s in zip(axes, shapes))

    def build(self, input_shape: Any) -> None:
        shapes = self._check(input_shape)
        a0, a1 = self._axes(shapes)
        if shapes[0][a0] is not None and shapes[1][a1] is not None and shapes[0][a0] != shapes[1][a1]:
            raise self._error(f"matching sizes on the dot axes {(a0, a1)}", f"shapes {shapes}")
        self.built = True

    def compute_output_shape(self, input_shape: Any) -> tuple:
        shapes = self._check(input_shape)
        a0, a1 = self._axes(shapes)
        s0 = list(shapes[0])
        s1 = list(shapes[1])
        s0.pop(a0)
        s1.pop(a1)
        s1.pop(0)
        out = s0 + s1
        if len(out) == 1:
            out += [1]
        return tuple(out)

    def _merge(self, inputs):
        x, y = inputs
        a0, a1 = self._axes([tuple(x.shape), tuple(y.shape)])
        if self.normalize:
            x = F.normalize(x, dim=a0)
            y = F.normalize(y, dim=a1)
        # batched tensordot: contract a0 of x with a1 of y, keep the batch axis
        out = torch.einsum(_dot_equation(x.ndim, y.ndim, a0, a1), x, y)
        if out.ndim == 1:
            out = out.unsqueeze(-1)
        return out

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        return None

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update({"axes": self.axes, "normalize": self.normalize})
        return config


def _dot_equation(nx: int, ny: int, ax: int, ay: int) -> str:
    letters = "bcdefghijklmnopqrstuvwxyz"
    xs = ["a"] + [letters[i] for i in range(nx - 1)]
    ys = ["a"] + [letters[nx - 1 + i] for i in range(ny - 1)]
    ys[ay] = xs[ax]
    out = ["a"] + [c for i, c in enumerate(xs) if i not in (0, ax)] + [c for i, c in enumerate(ys) if i not in (0, ay)]
    return f"{''.join(xs)},{''.join(ys)}->{''.join(out)}"


def add(inputs: list, **kwargs: Any) -> Any:
    """Functional interface to :class:`Add`."""
    return Add(**kwargs)(inputs)


def subtract(inputs: list, **kwargs: Any) -> Any:
    return Subtract(**kwargs)(inputs)


def multiply(inputs: list, **kwargs: Any) -> Any:
    return Multiply(**kwargs)(inputs)


def average(inputs: list, **kwargs: Any) -> Any:
    return Average(**kwargs)(inputs)


def maximum(inputs: list, **kwargs: Any) -> Any:
    return Maximum(**kwargs)(inputs)


def minimum(inputs: list, **kwargs: Any) -> Any:
    return Minimum(**kwargs)(inputs)


def concatenate(inputs: list, axis: int = -1, **kwargs: Any) -> Any:
    return Concatenate(axis=axis, **kwargs)(inputs)


def dot(inputs: list, axes: int | tuple = -1, normalize: bool = False, **kwargs: Any) -> Any:
    return Dot(axes=axes, normalize=normalize, **kwargs)(inputs)
