"""``BaseSeparableConv`` and ``SeparableConv1D`` / ``SeparableConv2D``.

A depthwise convolution (``depthwise_kernel``: ``(*kernel_size, in, depth_multiplier)``)
followed by a 1x1 pointwise one (``pointwise_kernel``: ``(1, ..., 1, in * depth_multiplier,
filters)``) and the bias (``(filters,)``); weights are created in that order, as in Keras.
"""

from __future__ import annotations

from typing import Any

import torch

from lamina import constraints, initializers, regularizers
from lamina.layers.convolutional._utils import (
    cast_like,
    check_positive_int,
    conv_output,
    serialize_or_none,
    torch_kernel,
)
from lamina.layers.convolutional.base_conv import CONV_FNS, ConvLayerBase
from lamina.layers.convolutional.depthwise_conv import depthwise_torch_kernel


class BaseSeparableConv(ConvLayerBase):
    """Rank-generic depthwise-separable convolution.

    Args:
        rank: 1 or 2.
        depth_multiplier: positive int, depthwise output channels per input channel.
        filters: positive int, number of output channels.
        kernel_size / strides / dilation_rate: int or ``rank`` ints (for the depthwise step).
        padding: ``"valid"`` or ``"same"``.
        data_format, activation, use_bias: as in :class:`BaseConv`.
        depthwise_* / pointwise_* / bias_*: initializer, regularizer and constraint of each weight.
    """

    def __init__(
        self,
        rank: int,
        depth_multiplier: int,
        filters: int,
        kernel_size: Any,
        strides: Any = 1,
        padding: str = "valid",
        data_format: str | None = None,
        dilation_rate: Any = 1,
        activation: Any = None,
        use_bias: bool = True,
        depthwise_initializer: Any = "glorot_uniform",
        pointwise_initializer: Any = "glorot_uniform",
        bias_initializer: Any = "zeros",
        depthwise_regularizer: Any = None,
        pointwise_regularizer: Any = None,
        bias_regularizer: Any = None,
        activity_regularizer: Any = None,
        depthwise_constraint: Any = None,
        pointwise_constraint: Any = None,
        bias_constraint: Any = None,
        **kwargs: Any,
    ) -> None:
        check_positive_int(depth_multiplier, "depth_multiplier")
        check_positive_int(filters, "filters")
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
            **kwargs,
        )
        self.depth_multiplier = depth_multiplier
        self.filters = filters
        self.depthwise_initializer = initializers.get(depthwise_initializer)
        self.pointwise_initializer = initializers.get(pointwise_initializer)
        self.depthwise_regularizer = regularizers.get(depthwise_regularizer)
        self.pointwise_regularizer = regularizers.get(pointwise_regularizer)
        self.depthwise_constraint = constraints.get(depthwise_constraint)
        self.pointwise_constraint = constraints.get(pointwise_constraint)

    def build(self, input_shape: tuple) -> None:
        channels = self._input_channels(input_shape)
        self.compute_output_shape(input_shape)  # raises if the output would be empty
        self.depthwise_kernel = self.add_weight(
            name="depthwise_kernel",
            shape=(*self.kernel_size, channels, self.depth_multiplier),
            initializer=self.depthwise_initializer,
            regularizer=self.depthwise_regularizer,
            constraint=self.depthwise_constraint,
        )
        self.pointwise_kernel = self.add_weight(
            name="pointwise_kernel",
            shape=(*(1,) * self.rank, channels * self.depth_multiplier, self.filters),
            initializer=self.pointwise_initializer,
            regularizer=self.pointwise_regularizer,
            constraint=self.pointwise_constraint,
        )
        self._add_bias(self.filters)
        self._pin_input_spec(channels)
        self.built = True

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        conv = CONV_FNS[self.rank]
        x, padding = self._pad_for(self._to_torch_layout(inputs), self.kernel_size)
        depthwise = depthwise_torch_kernel(cast_like(self.depthwise_kernel, x), self.rank)
        y = conv(x, depthwise, None, self.strides, padding, self.dilation_rate, x.shape[1])
        # pointwise (1, .., 1, in * multiplier, filters) -> (filters, in * multiplier, 1, .., 1), a view
        y = conv(y, torch_kernel(cast_like(self.pointwise_kernel, y), self.rank), cast_like(self.bias, y))
        return conv_output(self.activation, y, self._from_torch_layout)

    def compute_output_shape(self, input_shape: Any) -> tuple:
        return self._conv_output_shape(input_shape, self.filters)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(
            {
                "depth_multiplier": self.depth_multiplier,
                "filters": self.filters,
                **self._spatial_config(),
                **self._tail_config(),
                "depthwise_initializer": initializers.serialize(self.depthwise_initializer),
                "pointwise_initializer": initializers.serialize(self.pointwise_initializer),
                "bias_initializer": initializers.serialize(self.bias_initializer),
                "depthwise_regularizer": serialize_or_none(self.depthwise_regularizer, regularizers),
                "pointwise_regularizer": serialize_or_none(self.pointwise_regularizer, regularizers),
                "bias_regularizer": serialize_or_none(self.bias_regularizer, regularizers),
                "activity_regularizer": serialize_or_none(self.activity_regularizer, regularizers),
                "depthwise_constraint": serialize_or_none(self.depthwise_constraint, constraints),
                "pointwise_constraint": serialize_or_none(self.pointwise_constraint, constraints),
                "bias_constraint": serialize_or_none(self.bias_constraint, constraints),
            }
        )
        return config

    def extra_repr(self) -> str:
        return f"filters={self.filters}, depth_multiplier={self.depth_multiplier}, " + super().extra_repr()


class SeparableConv1D(BaseSeparableConv):
    """1D depthwise-separable convolution.

    Args:
        filters, kernel_size, strides, padding, data_format, dilation_rate, depth_multiplier,
        activation, use_bias, and the depthwise/pointwise/bias initializers, regularizers and
        constraints: see :class:`BaseSeparableConv`.

    Input shape:
        ``(batch, steps, channels)`` (``(batch, channels, steps)`` if channels_first).

    Output shape:
        ``(batch, new_steps, filters)`` (channels first if channels_first).

    Example:
        >>> import torch, lamina
        >>> layer = lamina.layers.SeparableConv1D(4, 3, depth_multiplier=2)
        >>> layer(torch.ones(1, 10, 3)).shape
        torch.Size([1, 8, 4])
        >>> [w.name for w in layer.weights]
        ['depthwise_kernel', 'pointwise_kernel', 'bias']
    """

    def __init__(
        self,
        filters: int,
        kernel_size: Any,
        strides: Any = 1,
        padding: str = "valid",
        data_format: str | None = None,
        dilation_rate: Any = 1,
        depth_multiplier: int = 1,
        activation: Any = None,
        use_bias: bool = True,
        depthwise_initializer: Any = "glorot_uniform",
        pointwise_initializer: Any = "glorot_uniform",
        bias_initializer: Any = "zeros",
        depthwise_regularizer: Any = None,
        pointwise_regularizer: Any = None,
        bias_regularizer: Any = None,
        activity_regularizer: Any = None,
        depthwise_constraint: Any = None,
        pointwise_constraint: Any = None,
        bias_constraint: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            1,
            depth_multiplier,
            filters,
            kernel_size,
            strides,
            padding,
            data_format,
            dilation_rate,
            activation,
            use_bias,
            depthwise_initializer,
            pointwise_initializer,
            bias_initializer,
            depthwise_regularizer,
            pointwise_regularizer,
            bias_regularizer,
            activity_regularizer,
            depthwise_constraint,
            pointwise_constraint,
            bias_constraint,
            **kwargs,
        )


class SeparableConv2D(BaseSeparableConv):
    """2D depthwise-separable convolution.

    Args:
        filters, kernel_size, strides, padding, data_format, dilation_rate, depth_multiplier,
        activation, use_bias, and the depthwise/pointwise/bias initializers, regularizers and
        constraints: see :class:`BaseSeparableConv`.

    Input shape:
        ``(batch, height, width, channels)`` (channels first if channels_first).

    Output shape:
        ``(batch, new_height, new_width, filters)`` (channels first if channels_first).

    Example:
        >>> import torch, lamina
        >>> lamina.layers.SeparableConv2D(4, 3, padding="same")(torch.ones(1, 6, 6, 3)).shape
        torch.Size([1, 6, 6, 4])
    """

    def __init__(
        self,
        filters: int,
        kernel_size: Any,
        strides: Any = (1, 1),
        padding: str = "valid",
        data_format: str | None = None,
        dilation_rate: Any = (1, 1),
        depth_multiplier: int = 1,
        activation: Any = None,
        use_bias: bool = True,
        depthwise_initializer: Any = "glorot_uniform",
        pointwise_initializer: Any = "glorot_uniform",
        bias_initializer: Any = "zeros",
        depthwise_regularizer: Any = None,
        pointwise_regularizer: Any = None,
        bias_regularizer: Any = None,
        activity_regularizer: Any = None,
        depthwise_constraint: Any = None,
        pointwise_constraint: Any = None,
        bias_constraint: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            2,
            depth_multiplier,
            filters,
            kernel_size,
            strides,
            padding,
            data_format,
            dilation_rate,
            activation,
            use_bias,
            depthwise_initializer,
            pointwise_initializer,
            bias_initializer,
            depthwise_regularizer,
            pointwise_regularizer,
            bias_regularizer,
            activity_regularizer,
            depthwise_constraint,
            pointwise_constraint,
            bias_constraint,
            **kwargs,
        )


SeparableConvolution1D = SeparableConv1D
SeparableConvolution2D = SeparableConv2D
