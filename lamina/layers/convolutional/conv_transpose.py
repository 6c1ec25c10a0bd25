"""``BaseConvTranspose`` and ``Conv1DTranspose`` / ``Conv2DTranspose`` / ``Conv3DTranspose``.

The kernel keeps Keras's layout ``(*kernel_size, filters, in_channels)``, which permutes
(zero-copy) into torch's ``conv_transpose`` weight ``(in_channels, filters, *kernel_size)``.
Output sizes follow Keras exactly: with ``output_padding=None``, "valid" gives
``(n - 1) * s + max(k, s)`` and "same" gives ``n * s``; otherwise
``(n - 1) * s + k + output_padding`` ("valid") or ``(n - 1) * s + k % 2 + output_padding``
("same"), with ``k`` the dilated kernel size.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from lamina import constraints, initializers, regularizers
from lamina.layers.argument_validation import standardize_tuple
from lamina.layers.convolutional._utils import (
    cast_like,
    conv_output,
    pad_spatial,
    torch_kernel,
    transpose_crops,
    transpose_output_length,
)
from lamina.layers.convolutional.base_conv import ConvLayerBase

CONV_TRANSPOSE_FNS = {1: F.conv_transpose1d, 2: F.conv_transpose2d, 3: F.conv_transpose3d}


class BaseConvTranspose(ConvLayerBase):
    """Rank-generic transposed convolution (sometimes called deconvolution).

    Args:
        rank: 1, 2 or 3.
        filters: positive int, number of output channels.
        kernel_size / strides / dilation_rate: int or ``rank`` ints.
        padding: ``"valid"`` or ``"same"``.
        output_padding: ``None`` or int / ``rank`` ints, each strictly less than the stride;
            extra steps added at the end of each spatial axis.
        data_format, activation, use_bias, and the kernel/bias initializers, regularizers and
        constraints: as in :class:`BaseConv`.
    """

    def __init__(
        self,
        rank: int,
        filters: int,
        kernel_size: Any,
        strides: Any = 1,
        padding: str = "valid",
        output_padding: Any = None,
        data_format: str | None = None,
        dilation_rate: Any = 1,
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
        if isinstance(filters, bool) or not isinstance(filters, int) or filters <= 0:
            raise ValueError(
                "Invalid value for argument `filters`. Expected a strictly positive value. "
                f"Received: filters={filters!r}"
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
            **kwargs,
        )
        self._check_strides_with_dilation()
        if output_padding is not None:
            output_padding = standardize_tuple(output_padding, rank, "output_padding", allow_zero=True)
            for i, (op, s) in enumerate(zip(output_padding, self.strides)):
                if op >= s:
                    raise ValueError(
                        "`output_padding` must be strictly less than `strides` for all dimensions. "
                        f"At dimension {i}, `output_padding` is {op} but `strides` is {s}. "
                        f"Received: output_padding={output_padding}, strides={self.strides}"
                    )
        self.filters = filters
        self.output_padding = output_padding
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)

    def build(self, input_shape: tuple) -> None:
        channels = self._input_channels(input_shape)
        self.kernel = self.add_weight(
            name="kernel",
            shape=(*self.kernel_size, self.filters, channels),
            initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint,
        )
        self._add_bias(self.filters)
        self._pin_input_spec(channels)
        self.built = True

    def _output_paddings(self) -> tuple:
        return self.output_padding if self.output_padding is not None else (None,) * self.rank

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        x = self._to_torch_layout(inputs)
        crops = [
            transpose_crops(n, k, s, self.padding, op, d)
            for n, k, s, op, d in zip(
                x.shape[2:], self.kernel_size, self.strides, self._output_paddings(), self.dilation_rate
            )
        ]
        # torch crops `pad` steps off both ends and can add `out_pad` (< max(stride, dilation)) at the end;
        # whatever Keras's window needs beyond that is sliced (a view) or zero-padded afterwards.
        pads, out_pads, rest = [], [], []
        for (left, right), s, d in zip(crops, self.strides, self.dilation_rate):
            pad = min(left, max(right, 0))
            left, right = left - pad, right - pad
            out_pad = 0
            if right < 0 and -right < max(s, d):
                out_pad, right = -right, 0
            pads.append(pad)
            out_pads.append(out_pad)
            rest.append((left, right))
        needs_zero_pad = any(r < 0 for _, r in rest)
        bias = cast_like(self.bias, x)
        # kernel (*k, filters, in) -> (in, filters, *k), a view
        kernel = torch_kernel(cast_like(self.kernel, x), self.rank)
        y = CONV_TRANSPOSE_FNS[self.rank](
            x,
            kernel,
            None if needs_zero_pad else bias,
            self.strides,
            tuple(pads),
            tuple(out_pads),
            1,
            self.dilation_rate,
        )
        if any(left > 0 or right > 0 for left, right in rest):
            y = y[
                (
                    slice(None),
                    slice(None),
                    *(slice(max(left, 0), y.shape[2 + i] - max(right, 0)) for i, (left, right) in enumerate(rest)),
                )
            ]
        if needs_zero_pad:
            y = pad_spatial(y, [(0, max(-right, 0)) for _, right in rest])
            if bias is not None:
                y = y + bias.reshape(-1, *(1,) * self.rank)
        return conv_output(self.activation, y, self._from_torch_layout)

    def compute_output_shape(self, input_shape: Any) -> tuple:
        self._input_channels(input_shape)
        spatial = tuple(
            transpose_output_length(n, k, s, self.padding, op, d)
            for n, k, s, op, d in zip(
                self._spatial(input_shape), self.kernel_size, self.strides, self._output_paddings(), self.dilation_rate
            )
        )
        return self._assemble(input_shape, spatial, self.filters)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        spatial = self._spatial_config()
        config.update(
            {
                "filters": self.filters,
                "kernel_size": spatial["kernel_size"],
                "strides": spatial["strides"],
                "padding": self.padding,
                "output_padding": self.output_padding,
                "data_format": self.data_format,
                "dilation_rate": self.dilation_rate,
                **self._tail_config(),
                **self._weights_config(),
            }
        )
        return config

    def extra_repr(self) -> str:
        return f"filters={self.filters}, " + super().extra_repr()


class Conv1DTranspose(BaseConvTranspose):
    """1D transposed convolution.

    Args:
        filters, kernel_size, strides, padding, output_padding, data_format, dilation_rate,
        activation, use_bias, and the kernel/bias initializers, regularizers and constraints:
        see :class:`BaseConvTranspose`.

    Input shape:
        ``(batch, steps, channels)`` (``(batch, channels, steps)`` if channels_first).

    Output shape:
        ``(batch, new_steps, filters)`` (channels first if channels_first).

    Example:
        >>> import torch, lamina
        >>> layer = lamina.layers.Conv1DTranspose(4, 3, strides=2, padding="same")
        >>> layer(torch.ones(2, 5, 3)).shape
        torch.Size([2, 10, 4])
        >>> layer.kernel.shape
        torch.Size([3, 4, 3])
    """

    def __init__(
        self,
        filters: int,
        kernel_size: Any,
        strides: Any = 1,
        padding: str = "valid",
        output_padding: Any = None,
        data_format: str | None = None,
        dilation_rate: Any = 1,
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
            output_padding,
            data_format,
            dilation_rate,
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


class Conv2DTranspose(BaseConvTranspose):
    """2D transposed convolution.

    Args:
        filters, kernel_size, strides, padding, output_padding, data_format, dilation_rate,
        activation, use_bias, and the kernel/bias initializers, regularizers and constraints:
        see :class:`BaseConvTranspose`.

    Input shape:
        ``(batch, height, width, channels)`` (channels first if channels_first).

    Output shape:
        ``(batch, new_height, new_width, filters)`` (channels first if channels_first).

    Example:
        >>> import torch, lamina
        >>> lamina.layers.Conv2DTranspose(2, 3, strides=2)(torch.ones(1, 4, 4, 3)).shape
        torch.Size([1, 9, 9, 2])
    """

    def __init__(
        self,
        filters: int,
        kernel_size: Any,
        strides: Any = (1, 1),
        padding: str = "valid",
        output_padding: Any = None,
        data_format: str | None = None,
        dilation_rate: Any = (1, 1),
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
            output_padding,
            data_format,
            dilation_rate,
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


class Conv3DTranspose(BaseConvTranspose):
    """3D transposed convolution (note Keras's argument order: ``data_format`` before ``output_padding``).

    Args:
        filters, kernel_size, strides, padding, data_format, output_padding, dilation_rate,
        activation, use_bias, and the kernel/bias initializers, regularizers and constraints:
        see :class:`BaseConvTranspose`.

    Input shape:
        ``(batch, d1, d2, d3, channels)`` (channels first if channels_first).

    Output shape:
        ``(batch, new_d1, new_d2, new_d3, filters)`` (channels first if channels_first).

    Example:
        >>> import torch, lamina
        >>> lamina.layers.Conv3DTranspose(2, 2, strides=2)(torch.ones(1, 2, 2, 2, 3)).shape
        torch.Size([1, 4, 4, 4, 2])
    """

    def __init__(
        self,
        filters: int,
        kernel_size: Any,
        strides: Any = (1, 1, 1),
        padding: str = "valid",
        data_format: str | None = None,
        output_padding: Any = None,
        dilation_rate: Any = (1, 1, 1),
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
            output_padding,
            data_format,
            dilation_rate,
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


Convolution1DTranspose = Conv1DTranspose
Convolution2DTranspose = Conv2DTranspose
Convolution3DTranspose = Conv3DTranspose
