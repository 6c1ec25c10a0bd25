"""``BaseConv`` (rank-generic convolution) and ``Conv1D`` / ``Conv2D`` / ``Conv3D``.

Weights use Keras's layout: ``kernel`` is ``(*kernel_size, in_channels // groups, filters)``
and ``bias`` is ``(filters,)``. ``call`` views the input as channels-first (a zero-copy
permute of channels-last data, which *is* torch's channels_last memory format), views
the kernel as torch's ``(filters, in // groups, *kernel_size)`` and runs one
``F.conv{1,2,3}d`` with the bias fused in.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from lamina import activations, constraints, initializers, regularizers
from lamina.layers.argument_validation import standardize_data_format, standardize_padding, standardize_tuple
from lamina.layers.convolutional._utils import (
    cast_like,
    conv_output,
    conv_output_length,
    pad_spatial,
    same_padding_args,
    serialize_or_none,
    to_channels_first,
    to_channels_last,
    torch_kernel,
)
from lamina.layers.input_spec import InputSpec
from lamina.layers.layer import Layer

CONV_FNS = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}


class ConvLayerBase(Layer):
    """What every convolution family shares: spatial arguments, bias, activation, shape checks.

    Subclasses set their own kernel arguments and implement ``build`` / ``call``.
    """

    def __init__(
        self,
        rank: int,
        kernel_size: Any,
        strides: Any = 1,
        padding: str = "valid",
        data_format: str | None = None,
        dilation_rate: Any = 1,
        activation: Any = None,
        use_bias: bool = True,
        bias_initializer: Any = "zeros",
        bias_regularizer: Any = None,
        bias_constraint: Any = None,
        activity_regularizer: Any = None,
        allow_causal: bool = False,
        **kwargs: Any,
    ) -> None:
        kernel_size = standardize_tuple(kernel_size, rank, "kernel_size")
        strides = standardize_tuple(strides, rank, "strides")
        dilation_rate = standardize_tuple(dilation_rate, rank, "dilation_rate")
        padding = standardize_padding(padding, allow_causal=allow_causal)
        data_format = standardize_data_format(data_format)
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        self.rank = rank
        self.kernel_size = kernel_size
        self.strides = strides
        self.padding = padding
        self.data_format = data_format
        self.dilation_rate = dilation_rate
        self.activation = activations.get(activation)
        self.use_bias = use_bias
        self.bias_initializer = initializers.get(bias_initializer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.bias_constraint = constraints.get(bias_constraint)
        self.input_spec = InputSpec(ndim=rank + 2)

    # ------------------------------------------------------------ helpers for subclasses
    def _check_strides_with_dilation(self) -> None:
        if max(self.strides) > 1 and max(self.dilation_rate) > 1:
            raise ValueError(
                "`strides > 1` not supported in conjunction with `dilation_rate > 1`. "
                f"Received: strides={self.strides} and dilation_rate={self.dilation_rate}"
            )

    @property
    def _channels_last(self) -> bool:
        return self.data_format == "channels_last"

    @property
    def _channel_axis(self) -> int:
        return -1 if self._channels_last else 1

    def _input_channels(self, input_shape: Any) -> int:
        """The channel count of ``input_shape``, after checking its rank (raises the layer's error)."""
        shape = tuple(input_shape)
        if len(shape) != self.rank + 2:
            raise self._error(f"inputs of rank {self.rank + 2}", f"shape {shape} (rank {len(shape)})")
        channels = shape[self._channel_axis]
        if channels is None:
            raise self._error(
                "a defined channel dimension", f"input_shape={shape}", "Give the input a known number of channels."
            )
        return int(channels)

    def _pin_input_spec(self, channels: int) -> None:
        self.input_spec = InputSpec(ndim=self.rank + 2, axes={self._channel_axis: channels})

    def _add_bias(self, size: int) -> None:
        if self.use_bias:
            self.bias = self.add_weight(
                name="bias",
                shape=(size,),
                initializer=self.bias_initializer,
                regularizer=self.bias_regularizer,
                constraint=self.bias_constraint,
            )
        else:
            self.bias = None

    def _spatial(self, input_shape: Any) -> tuple:
        shape = tuple(input_shape)
        return shape[1:-1] if self._channels_last else shape[2:]

    def _assemble(self, input_shape: Any, spatial: tuple, channels: int) -> tuple:
        batch = tuple(input_shape)[0]
        return (batch, *spatial, channels) if self._channels_last else (batch, channels, *spatial)

    def _conv_output_shape(self, input_shape: Any, channels: int) -> tuple:
        shape = tuple(input_shape)
        if len(shape) != self.rank + 2:
            raise self._error(f"inputs of rank {self.rank + 2}", f"shape {shape} (rank {len(shape)})")
        spatial = tuple(
            conv_output_length(n, k, s, self.padding, d)
            for n, k, s, d in zip(self._spatial(shape), self.kernel_size, self.strides, self.dilation_rate)
        )
        if any(n is not None and n <= 0 for n in spatial):
            raise self._error(
                "inputs at least as large as its (dilated) kernel",
                f"shape {shape} with kernel_size={self.kernel_size}, strides={self.strides}, "
                f"dilation_rate={self.dilation_rate}, padding={self.padding!r}, so the computed output size "
                "would be zero or negative",
                'Use larger inputs, a smaller kernel, or padding="same".',
            )
        return self._assemble(shape, spatial, channels)

    def _to_torch_layout(self, inputs: torch.Tensor) -> torch.Tensor:
        # (N, *spatial, C) -> (N, C, *spatial), zero-copy
        return to_channels_first(inputs, self.rank) if self._channels_last else inputs

    def _from_torch_layout(self, outputs: torch.Tensor) -> torch.Tensor:
        # (N, C, *spatial) -> (N, *spatial, C), zero-copy
        return to_channels_last(outputs, self.rank) if self._channels_last else outputs

    def _pad_for(self, x: torch.Tensor, kernel_size: tuple[int, ...]) -> tuple[torch.Tensor, Any]:
        """Applies "same"/"causal" padding to a channels-first ``x``; returns it and torch's ``padding`` arg."""
        if self.padding == "same":
            return same_padding_args(x, kernel_size, self.strides, self.dilation_rate)
        if self.padding == "causal":
            left = self.dilation_rate[0] * (kernel_size[0] - 1)
            return pad_spatial(x, [(left, 0)]), 0
        return x, 0

    def _spatial_config(self) -> dict[str, Any]:
        return {
            "kernel_size": self.kernel_size,
            "strides": self.strides,
            "padding": self.padding,
            "data_format": self.data_format,
            "dilation_rate": self.dilation_rate,
        }

    def _tail_config(self) -> dict[str, Any]:
        return {"activation": activations.serialize(self.activation), "use_bias": self.use_bias}

    def _weights_config(self) -> dict[str, Any]:
        """Kernel/bias initializers, regularizers and constraints, in Keras's config order."""
        return {
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "kernel_regularizer": serialize_or_none(self.kernel_regularizer, regularizers),
            "bias_regularizer": serialize_or_none(self.bias_regularizer, regularizers),
            "activity_regularizer": serialize_or_none(self.activity_regularizer, regularizers),
            "kernel_constraint": serialize_or_none(self.kernel_constraint, constraints),
            "bias_constraint": serialize_or_none(self.bias_constraint, constraints),
        }

    def extra_repr(self) -> str:
        return (
            f"name={self.name!r}, kernel_size={self.kernel_size}, strides={self.strides}, "
            f"padding={self.padding!r}, data_format={self.data_format!r}"
        )


class BaseConv(ConvLayerBase):
    """Rank-generic N-D convolution: ``activation(conv(inputs, kernel) + bias)``.

    Args:
        rank: 1, 2 or 3.
        filters: positive int, number of output channels.
        kernel_size: int or ``rank`` ints.
        strides: int or ``rank`` ints; ``strides > 1`` excludes ``dilation_rate > 1``.
        padding: ``"valid"``, ``"same"`` (extra padding goes at the end, as in Keras) or,
            for 1D only, ``"causal"``.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
        dilation_rate: int or ``rank`` ints.
        groups: positive int dividing both the input channels and ``filters``.
        activation / use_bias / *_initializer / *_regularizer / *_constraint: as in Keras.
    """

    def __init__(
        self,
        rank: int,
        filters: int,
        kernel_size: Any,
        strides: Any = 1,
        padding: str = "valid",
        data_format: str | None = None,
        dilation_rate: Any = 1,
        groups: int = 1,
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
        for key in ("lora_rank", "lora_alpha"):
            if kwargs.pop(key, None) is not None:
                raise ValueError(f"{type(self).__name__}: `{key}` is not supported by Lamina.")
        if isinstance(filters, bool) or not isinstance(filters, int) or filters <= 0:
            raise ValueError(
                "Invalid value for argument `filters`. Expected a strictly positive value. "
                f"Received: filters={filters!r}"
            )
        if isinstance(groups, bool) or not isinstance(groups, int) or groups <= 0:
            raise ValueError(f"The number of groups must be a positive integer. Received: groups={groups!r}")
        if filters % groups != 0:
            raise ValueError(
                "The number of filters must be evenly divisible by the number of groups. "
                f"Received: groups={groups}, filters={filters}."
            )
        super().__init__(
            rank,
            kernel_size,
            strides=strides,
            padding=padding,
            data_format=data_format,
            dilation_rate=dilation_rate,
            activation=activation,
            use_bias=use_bias,
            bias_initializer=bias_initializer,
            bias_regularizer=bias_regularizer,
            bias_constraint=bias_constraint,
            activity_regularizer=activity_regularizer,
            allow_causal=rank == 1,
            **kwargs,
        )
        self._check_strides_with_dilation()
        self.filters = filters
        self.groups = groups
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)

    def build(self, input_shape: tuple) -> None:
        channels = self._input_channels(input_shape)
        if channels % self.groups != 0:
            raise ValueError(
                "The number of input channels must be evenly divisible by the number of groups. "
                f"Received groups={self.groups}, but the input has {channels} channels "
                f"(full input shape is {tuple(input_shape)})."
            )
        self.compute_output_shape(input_shape)  # raises if the output would be empty
        self.kernel = self.add_weight(
            name="kernel",
            shape=(*self.kernel_size, channels // self.groups, self.filters),
            initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint,
        )
        self._add_bias(self.filters)
        self._pin_input_spec(channels)
        self.built = True

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        x, padding = self._pad_for(self._to_torch_layout(inputs), self.kernel_size)
        # kernel (*k, in/groups, filters) -> (filters, in/groups, *k), a view
        kernel = torch_kernel(cast_like(self.kernel, x), self.rank)
        y = CONV_FNS[self.rank](
            x, kernel, cast_like(self.bias, x), self.strides, padding, self.dilation_rate, self.groups
        )
        if self.__dict__.get("_relu_deferred"):  # the max pooling after it applies it (models/relu_pooling.py)
            return self._from_torch_layout(y)
        return conv_output(self.activation, y, self._from_torch_layout)

    def compute_output_shape(self, input_shape: Any) -> tuple:
        return self._conv_output_shape(input_shape, self.filters)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(
            {
                "filters": self.filters,
                **self._spatial_config(),
                "groups": self.groups,
                **self._tail_config(),
                **self._weights_config(),
            }
        )
        return config

    def extra_repr(self) -> str:
        return f"filters={self.filters}, " + super().extra_repr()


class Conv1D(BaseConv):
    """1D convolution over steps (temporal data).

    Args:
        filters, kernel_size, strides, padding (``"valid"``, ``"same"`` or ``"causal"``),
        data_format, dilation_rate, groups, activation, use_bias, and the kernel/bias
        initializers, regularizers and constraints: see :class:`BaseConv`.

    Input shape:
        ``(batch, steps, channels)`` (``(batch, channels, steps)`` if channels_first).

    Output shape:
        ``(batch, new_steps, filters)`` (``(batch, filters, new_steps)`` if channels_first).

    Example:
        >>> import torch, lamina
        >>> conv = lamina.layers.Conv1D(4, 3, padding="causal")
        >>> conv(torch.ones(2, 10, 3)).shape
        torch.Size([2, 10, 4])
        >>> conv.kernel.shape
        torch.Size([3, 3, 4])
    """

    def __init__(
        self,
        filters: int,
        kernel_size: Any,
        strides: Any = 1,
        padding: str = "valid",
        data_format: str | None = None,
        dilation_rate: Any = 1,
        groups: int = 1,
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
        super().__init__(
            1,
            filters,
            kernel_size,
            strides,
            padding,
            data_format,
            dilation_rate,
            groups,
            activation,
            use_bias,
            kernel_initializer,
            bias_initializer,
            kernel_regularizer,
            bias_regularizer,
            activity_regularizer,
            kernel_constraint,
            bias_constraint,
            **kwargs,
        )


class Conv2D(BaseConv):
    """2D convolution over images.

    Args:
        filters, kernel_size, strides, padding (``"valid"`` or ``"same"``), data_format,
        dilation_rate, groups, activation, use_bias, and the kernel/bias initializers,
        regularizers and constraints: see :class:`BaseConv`.

    Input shape:
        ``(batch, height, width, channels)`` (``(batch, channels, height, width)`` if channels_first).

    Output shape:
        ``(batch, new_height, new_width, filters)`` (channels first if channels_first).

    Example:
        >>> import torch, lamina
        >>> conv = lamina.layers.Conv2D(32, 5, strides=2, activation="relu")
        >>> conv(torch.ones(1, 250, 250, 3)).shape
        torch.Size([1, 123, 123, 32])
        >>> conv.count_params()
        2432
    """

    def __init__(
        self,
        filters: int,
        kernel_size: Any,
        strides: Any = (1, 1),
        padding: str = "valid",
        data_format: str | None = None,
        dilation_rate: Any = (1, 1),
        groups: int = 1,
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
        super().__init__(
            2,
            filters,
            kernel_size,
            strides,
            padding,
            data_format,
            dilation_rate,
            groups,
            activation,
            use_bias,
            kernel_initializer,
            bias_initializer,
            kernel_regularizer,
            bias_regularizer,
            activity_regularizer,
            kernel_constraint,
            bias_constraint,
            **kwargs,
        )


class Conv3D(BaseConv):
    """3D convolution over volumes.

    Args:
        filters, kernel_size, strides, padding (``"valid"`` or ``"same"``), data_format,
        dilation_rate, groups, activation, use_bias, and the kernel/bias initializers,
        regularizers and constraints: see :class:`BaseConv`.

    Input shape:
        ``(batch, d1, d2, d3, channels)`` (``(batch, channels, d1, d2, d3)`` if channels_first).

    Output shape:
        ``(batch, new_d1, new_d2, new_d3, filters)`` (channels first if channels_first).

    Example:
        >>> import torch, lamina
        >>> lamina.layers.Conv3D(2, 3, padding="same")(torch.ones(1, 4, 4, 4, 3)).shape
        torch.Size([1, 4, 4, 4, 2])
    """

    def __init__(
        self,
        filters: int,
        kernel_size: Any,
        strides: Any = (1, 1, 1),
        padding: str = "valid",
        data_format: str | None = None,
        dilation_rate: Any = (1, 1, 1),
        groups: int = 1,
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
        super().__init__(
            3,
            filters,
            kernel_size,
            strides,
            padding,
            data_format,
            dilation_rate,
            groups,
            activation,
            use_bias,
            kernel_initializer,
            bias_initializer,
            kernel_regularizer,
            bias_regularizer,
            activity_regularizer,
            kernel_constraint,
            bias_constraint,
            **kwargs,
        )


Convolution1D = Conv1D
Convolution2D = Conv2D
Convolution3D = Conv3D
