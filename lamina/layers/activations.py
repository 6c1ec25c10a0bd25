"""Activation layers with arguments: ReLU, LeakyReLU, PReLU (learned slope), ELU, Softmax (with mask).

The plain ``Activation("relu")`` layer lives in :mod:`lamina.layers.core`.
"""

from __future__ import annotations

import numbers
import warnings
from typing import Any

import torch
import torch.nn.functional as F

from lamina import activations, constraints, initializers, regularizers, serialization
from lamina.layers.input_spec import InputSpec
from lamina.layers.layer import Layer


def _non_negative(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and value >= 0


class ReLU(Layer):
    """Rectified linear unit with optional cap, leak and threshold.

    ``f(x) = max_value`` for ``x >= max_value``, ``x`` for ``threshold <= x < max_value``,
    ``negative_slope * (x - threshold)`` otherwise.

    Args:
        max_value: optional non-negative cap on the output.
        negative_slope: non-negative slope below the threshold; default 0.
        threshold: non-negative value below which the output is (leaky) zero; default 0.

    Example:
        >>> import torch, lamina
        >>> lamina.layers.ReLU(max_value=1.0)(torch.tensor([-1.0, 0.5, 3.0])).tolist()
        [0.0, 0.5, 1.0]
    """

    def __init__(
        self, max_value: float | None = None, negative_slope: float = 0.0, threshold: float = 0.0, **kwargs: Any
    ) -> None:
        if max_value is not None and not _non_negative(max_value):
            raise ValueError(f"max_value of a ReLU layer cannot be a negative value. Received: max_value={max_value}")
        if not _non_negative(negative_slope):
            raise ValueError(
                "negative_slope of a ReLU layer cannot be None or a negative value. "
                f"Received: negative_slope={negative_slope}"
            )
        if not _non_negative(threshold):
            raise ValueError(
                f"threshold of a ReLU layer cannot be None or a negative value. Received: threshold={threshold}"
            )
        super().__init__(**kwargs)
        self.max_value = max_value
        self.negative_slope = negative_slope
        self.threshold = threshold
        self.supports_masking = True
        self.built = True

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        if self.max_value is None and self.negative_slope == 0 and self.threshold == 0:
            return F.relu(inputs)
        return activations.relu(
            inputs, negative_slope=self.negative_slope, max_value=self.max_value, threshold=self.threshold
        )

    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update({"max_value": self.max_value, "negative_slope": self.negative_slope, "threshold": self.threshold})
        return config

    def extra_repr(self) -> str:
        return (
            f"name={self.name!r}, max_value={self.max_value}, negative_slope={self.negative_slope}, "
            f"threshold={self.threshold}"
        )


class LeakyReLU(Layer):
    """``x`` for ``x >= 0``, ``negative_slope * x`` otherwise.

    Args:
        negative_slope: non-negative float; default 0.3. (``alpha=`` is accepted with a
            deprecation warning, as in Keras 3.)

    Example:
        >>> import torch, lamina
        >>> lamina.layers.LeakyReLU()(torch.tensor([-1.0, 2.0])).tolist()
        [-0.30000001192092896, 2.0]
    """

    def __init__(self, negative_slope: float = 0.3, **kwargs: Any) -> None:
        if "alpha" in kwargs:
            negative_slope = kwargs.pop("alpha")
            warnings.warn("Argument `alpha` is deprecated. Use `negative_slope` instead.", stacklevel=2)
        if not _non_negative(negative_slope):
            raise ValueError(
                "The negative_slope value of a Leaky ReLU layer cannot be None or negative value. "
                f"Expected a float. Received: negative_slope={negative_slope}"
            )
        super().__init__(**kwargs)
        self.negative_slope = negative_slope
        self.supports_masking = True
        self.built = True

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        return F.leaky_relu(inputs, self.negative_slope)

    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config["negative_slope"] = self.negative_slope
        return config

    def extra_repr(self) -> str:
        return f"name={self.name!r}, negative_slope={self.negative_slope}"


class PReLU(Layer):
    """Leaky ReLU with a learned slope: ``x`` for ``x >= 0``, ``alpha * x`` otherwise.

    Args:
        alpha_initializer: initializer of the slopes; default ``"Zeros"``.
        alpha_regularizer / alpha_constraint: optional penalty / projection for the slopes.
        shared_axes: axes (1-based, batch is 0) along which one slope is shared, e.g. ``[1, 2]``
            for one slope per channel of ``(batch, h, w, channels)`` images.

    Input shape:
        Any; the ``alpha`` weight has the input's per-sample shape with ``shared_axes`` set to 1.

    Example:
        >>> import torch, lamina
        >>> layer = lamina.layers.PReLU(alpha_initializer=lamina.initializers.Constant(0.5))
        >>> layer(torch.tensor([[-2.0, 2.0]])).tolist()
        [[-1.0, 2.0]]
        >>> [(w.path, tuple(w.shape)) for w in layer.weights]
        [('p_re_lu/alpha', (2,))]
    """

    def __init__(
        self,
        alpha_initializer: Any = "Zeros",
        alpha_regularizer: Any = None,
        alpha_constraint: Any = None,
        shared_axes: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.supports_masking = True
        self.alpha_initializer = initializers.get(alpha_initializer)
        self.alpha_regularizer = regularizers.get(alpha_regularizer)
        self.alpha_constraint = constraints.get(alpha_constraint)
        if shared_axes is None:
            self.shared_axes = None
        elif not isinstance(shared_axes, (list, tuple)):
            self.shared_axes = [shared_axes]
        else:
            self.shared_axes = list(shared_axes)

    def build(self, input_shape: tuple) -> None:
        ndim = len(input_shape)
        shared = set()
        for axis in self.shared_axes or []:
            a = axis + ndim if axis < 0 else axis
            if not 1 <= a < ndim:
                raise self._error(
                    f"inputs with an axis {axis} to share (shared_axes={self.shared_axes})",
                    f"input_shape={tuple(input_shape)}",
                    "Use axes between 1 and rank - 1.",
                )
            shared.add(a)
        param_shape = [1 if i in shared else input_shape[i] for i in range(1, ndim)]
        if any(d is None for d in param_shape):
            raise self._error(
                "known sizes on every non-shared axis",
                f"input_shape={tuple(input_shape)}",
                "Share the unknown axes with `shared_axes` or give the input a defined shape.",
            )
        self.alpha = self.add_weight(
            name="alpha",
            shape=param_shape,
            initializer=self.alpha_initializer,
            regularizer=self.alpha_regularizer,
            constraint=self.alpha_constraint,
        )
        axes = {i: input_shape[i] for i in range(1, ndim) if i not in shared} if shared else {}
        self.input_spec = InputSpec(ndim=ndim, axes=axes)
        self.built = True

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        return torch.where(inputs >= 0, inputs, inputs * self.alpha.to(inputs.dtype))

    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(
            {
                "alpha_initializer": initializers.serialize(self.alpha_initializer),
                "alpha_regularizer": serialization.serialize_keras_object(self.alpha_regularizer),
                "alpha_constraint": serialization.serialize_keras_object(self.alpha_constraint),
                "shared_axes": self.shared_axes,
            }
        )
        return config

    def extra_repr(self) -> str:
        return f"name={self.name!r}, shared_axes={self.shared_axes}"


class ELU(Layer):
    """Exponential linear unit: ``x`` for ``x > 0``, ``alpha * (exp(x) - 1)`` otherwise.

    Args:
        alpha: scale of the negative part; default 1.0.

    Example:
        >>> import torch, lamina
        >>> lamina.layers.ELU()(torch.tensor([0.0, 2.0])).tolist()
        [0.0, 2.0]
    """

    def __init__(self, alpha: float = 1.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.alpha = alpha
        self.supports_masking = True
        self.built = True

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        return F.elu(inputs, self.alpha)

    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config["alpha"] = self.alpha
        return config

    def extra_repr(self) -> str:
        return f"name={self.name!r}, alpha={self.alpha}"


def _large_negative(dtype: torch.dtype) -> float:
    return -3e4 if dtype == torch.float16 else -1e9


class Softmax(Layer):
    """Softmax over ``axis`` (an int or a tuple of axes), with an optional boolean ``mask``.

    Positions where the mask is False (or ``<= 0.5`` for a numeric mask) get probability 0; the
    mask must broadcast to the inputs (e.g. attention scores ``(b, q, k)`` with a ``(b, 1, k)`` mask).

    Args:
        axis: int or tuple of ints; default -1.

    Call arguments:
        inputs: the logits.
        mask: optional mask broadcastable to ``inputs``.

    Example:
        >>> import torch, lamina
        >>> sm = lamina.layers.Softmax()
        >>> sm(torch.zeros(1, 4), mask=torch.tensor([[True, True, False, False]])).tolist()
        [[0.5, 0.5, 0.0, 0.0]]
    """

    def __init__(self, axis: int | tuple = -1, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.axis = axis
        self.supports_masking = True
        self.built = True

    def call(self, inputs: torch.Tensor, mask: Any = None) -> torch.Tensor:
        dtype = inputs.dtype
        if mask is not None:
            mask = torch.as_tensor(mask, device=inputs.device)
            if mask.ndim > inputs.ndim or any(
                m != 1 and m != i for m, i in zip(reversed(mask.shape), reversed(inputs.shape))
            ):
                raise self._error(
                    "a mask broadcastable to the inputs",
                    f"inputs.shape={tuple(inputs.shape)}, mask.shape={tuple(mask.shape)}",
                    "Each mask dimension must be 1 or match the input dimension (from the right).",
                )
            if mask.dtype != torch.bool:
                mask = mask > 0.5
            inputs = inputs.masked_fill(~mask, _large_negative(inputs.dtype))
        axis = self.axis
        try:
            if isinstance(axis, (tuple, list)):
                if len(axis) > 1:
                    outputs = torch.exp(inputs - torch.logsumexp(inputs, dim=tuple(axis), keepdim=True))
                else:
                    outputs = torch.softmax(inputs, dim=axis[0])
            else:
                outputs = torch.softmax(inputs, dim=axis)
        except IndexError:  # torch's "Dimension out of range"
            raise self._error(
                f"`axis` within the input's rank {inputs.ndim}",
                f"axis={axis}, out of bounds for input shape {tuple(inputs.shape)}",
            ) from None
        if mask is not None:
            # a fully masked row would otherwise be uniform
            outputs = outputs.masked_fill(~mask, 0.0)
        # CUDA autocast (mixed policies) computes softmax in float32; return the compute dtype as Keras does
        return outputs if outputs.dtype == dtype else outputs.to(dtype)

    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config["axis"] = self.axis
        return config

    def extra_repr(self) -> str:
        return f"name={self.name!r}, axis={self.axis}"
