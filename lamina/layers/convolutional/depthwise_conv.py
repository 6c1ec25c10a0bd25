"""``BaseDepthwiseConv`` and ``DepthwiseConv1D`` / ``DepthwiseConv2D``.

Each input channel is convolved with its own ``depth_multiplier`` filters. The kernel has
Keras's layout ``(*kernel_size, in_channels, depth_multiplier)``; reshaped (a view) to
``(*kernel_size, 1, in * depth_multiplier)`` and permuted, it is torch's grouped-conv weight
with ``groups=in_channels``, and output channel ``c * depth_multiplier + m`` comes from input
channel ``c``, as in Keras.
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


def depthwise_torch_kernel(kernel: torch.Tensor, rank: int) -> torch.Tensor:
    """Keras ``(*k, in, multiplier)`` -> torch ``(in * multiplier, 1, *k)`` (views, no copy)."""
    flat = kernel.reshape(*kernel.shape[:rank], 1, kernel.shape[rank] * kernel.shape[rank + 1])
    return torch_kernel(flat, rank)


class BaseDepthwiseConv(ConvLayerBase):
    """Rank-generic depthwise convolution.

    Args:
        rank: 1 or 2.
        depth_multiplier: positive int, output channels per input channel.
        kernel_size / strides / dilation_rate: int or ``rank`` ints.
        padding: ``"valid"`` or ``"same"``.
        data_format, activation, use_bias: as in :class:`BaseConv`.
        depthwise_initializer / depthwise_regularizer / depthwise_constraint: for ``kernel``.
        bias_initializer / bias_regularizer / bias_constraint: for ``bias``
            (``(in_channels * depth_multiplier,)``).
    """

    def __init__(
        self,
        rank: int,
        depth_multiplier: int,
        kernel_size: Any,
        strides: Any = 1,
        padding: str = "valid",
        data_format: str | None = None,
        dilation_rate: Any = 1,
        activation: Any = None,
        use_bias: bool = True,
        depthwise_initializer: Any = "glorot_uniform",
        bias_initializer: Any = "zeros",
        depthwise_regularizer: Any = None,
        bias_regularizer: Any = None,
        activity_regularizer: Any = None,
        depthwise_constraint: Any = None,
        bias_constraint: Any = None,
        **kwargs: Any,
    ) -> None:
        check_positive_int(depth_multiplier, "depth_multiplier")
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
        self.depthwise_initializer = initializers.get(depthwise_initializer)
        self.depthwise_regularizer = regularizers.get(depthwise_regularizer)
        self.depthwise_constraint = constraints.get(depthwise_constraint)

    def build(self, input_shape: tuple) -> None:
        channels = self._input_channels(input_shape)
        self.compute_output_shape(input_shape)  # raises if the output would be empty
        self.kernel = self.add_weight(
            name="kernel",
            shape=(*self.kernel_size, channels, self.depth_multiplier),
            initializer=self.depthwise_initializer,
            regularizer=self.depthwise_regularizer,
            constraint=self.depthwise_constraint,
        )
        self._add_bias(channels * self.depth_multiplier)
        self._pin_input_spec(channels)
        self.built = True

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        x, padding = self._pad_for(self._to_torch_layout(inputs), self.kernel_size)
        kernel = depthwise_torch_kernel(cast_like(self.kernel, x), self.rank)
        y = CONV_FNS[self.rank](
            x, kernel, cast_like(self.bias, x), self.strides, padding, self.dilation_rate, x.shape[1]
        )
        return conv_output(self.activation, y, self._from_torch_layout)

    def compute_output_shape(self, input_shape: Any) -> tuple:
        channels = tuple(input_shape)[self._channel_axis] if len(tuple(input_shape)) == self.rank + 2 else None
        return self._conv_output_shape(input_shape, None if channels is None else channels * self.depth_multiplier)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(
            {
                "depth_multiplier": self.depth_multiplier,
                **self._spatial_config(),
                **self._tail_config(),
                "depthwise_initializer": initializers.serialize(self.depthwise_initializer),
                "bias_initializer": initializers.serialize(self.bias_initializer),
                "depthwise_regularizer": serialize_or_none(self.depthwise_regularizer, regularizers),
                "bias_regularizer": serialize_or_none(self.bias_regularizer, regularizers),
                "activity_regularizer": serialize_or_none(self.activity_regularizer, regularizers),
                "depthwise_constraint": serialize_or_none(self.depthwise_constraint, constraints),
                "bias_constraint": serialize_or_none(self.bias_constraint, constraints),
            }
        )
        return config

    def extra_repr(self) -> str:
        return f"depth_multiplier={self.depth_multiplier}, " + super().extra_repr()


class DepthwiseConv1D(BaseDepthwiseConv):
    """1D depthwise convolution: each channel convolved separately with ``depth_multiplier`` filters.

    Args:
        kernel_size, strides, padding, depth_multiplier, data_format, dilation_rate, activation,
        use_bias, and the depthwise/bias initializers, regularizers and constraints: see
        :class:`BaseDepthwiseConv`.

    Input shape:
        ``(batch, steps, channels)`` (``(batch, channels, steps)`` if channels_first).

    Output shape:
        ``(batch, new_steps, channels * depth_multiplier)`` (channels first if channels_first).

    Example:
        >>> import torch, lamina
        >>> layer = lamina.layers.DepthwiseConv1D(3, depth_multiplier=2)
        >>> layer(torch.ones(1, 8, 4)).shape
        torch.Size([1, 6, 8])
        >>> layer.kernel.shape
        torch.Size([3, 4, 2])
    """

    def __init__(
        self,
        kernel_size: Any,
        strides: Any = 1,
        padding: str = "valid",
        depth_multiplier: int = 1,
        data_format: str | None = None,
        dilation_rate: Any = 1,
        activation: Any = None,
        use_bias: bool = True,
        depthwise_initializer: Any = "glorot_uniform",
        bias_initializer: Any = "zeros",
        depthwise_regularizer: Any = None,
        bias_regularizer: Any = None,
        activity_regularizer: Any = None,
        depthwise_constraint: Any = None,
        bias_constraint: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            1,
            depth_multiplier,
            kernel_size,
            strides,
            padding,
            data_format,
            dilation_rate,
            activation,
            use_bias,
            depthwise_initializer,
            bias_initializer,
            depthwise_regularizer,
            bias_regularizer,
            activity_regularizer,
            depthwise_constraint,
            bias_constraint,
            **kwargs,
        )


class DepthwiseConv2D(BaseDepthwiseConv):
    """2D depthwise convolution: each channel convolved separately with ``depth_multiplier`` filters.

    Args:
        kernel_size, strides, padding, depth_multiplier, data_format, dilation_rate, activation,
        use_bias, and the depthwise/bias initializers, regularizers and constraints: see
        :class:`BaseDepthwiseConv`.

    Input shape:
        ``(batch, height, width, channels)`` (channels first if channels_first).

    Output shape:
        ``(batch, new_height, new_width, channels * depth_multiplier)`` (channels first if channels_first).

    Example:
        >>> import torch, lamina
        >>> lamina.layers.DepthwiseConv2D(3, padding="same")(torch.ones(1, 5, 5, 4)).shape
        torch.Size([1, 5, 5, 4])
    """

    def __init__(
        self,
        kernel_size: Any,
        strides: Any = (1, 1),
        padding: str = "valid",
        depth_multiplier: int = 1,
        data_format: str | None = None,
        dilation_rate: Any = (1, 1),
        activation: Any = None,
        use_bias: bool = True,
        depthwise_initializer: Any = "glorot_uniform",
        bias_initializer: Any = "zeros",
        depthwise_regularizer: Any = None,
        bias_regularizer: Any = None,
        activity_regularizer: Any = None,
        depthwise_constraint: Any = None,
        bias_constraint: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            2,
            depth_multiplier,
            kernel_size,
            strides,
            padding,
            data_format,
            dilation_rate,
            activation,
            use_bias,
            depthwise_initializer,
            bias_initializer,
            depthwise_regularizer,
            bias_regularizer,
            activity_regularizer,
            depthwise_constraint,
            bias_constraint,
            **kwargs,
        )
