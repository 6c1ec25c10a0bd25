"""``ConvLSTMCell``: one step of a convolutional LSTM (Shi et al., 2015), Keras's weight layout.

``kernel`` is ``(*kernel_size, in_channels, 4 * filters)`` and ``recurrent_kernel``
``(*kernel_size, filters, 4 * filters)``, gates ``i, f, c, o`` along the last axis. States and outputs
keep the layer's data format; each convolution views channels-last data as channels-first (a zero-copy
permute: it *is* torch's channels_last memory) and runs one ``F.conv{1,2,3}d`` for all four gates.
"""

from __future__ import annotations

from typing import Any

import torch

from lamina import activations, backend, constraints, initializers, regularizers, serialization
from lamina.layers.argument_validation import standardize_data_format, standardize_padding, standardize_tuple
from lamina.layers.convolutional._utils import (
    cast_like,
    conv_output_length,
    same_padding_args,
    to_channels_first,
    to_channels_last,
    torch_kernel,
)
from lamina.layers.convolutional.base_conv import CONV_FNS
from lamina.layers.input_spec import InputSpec
from lamina.layers.layer import Layer
from lamina.layers.recurrent.rnn_cell import DropoutRNNCell, _is_nested


class ConvLSTMCell(Layer, DropoutRNNCell):
    """The cell of ``ConvLSTM1D/2D/3D``: ``[h, c] -> [h', c']`` with convolutions instead of matmuls.

    ``z = conv(x, kernel) + bias + conv_same(h, recurrent_kernel)``, split into gates ``i, f, c, o``;
    ``c' = sig(f) * c + sig(i) * tanh(c_gate)``, ``h' = sig(o) * tanh(c')``.

    Args:
        rank: 1, 2 or 3. filters: channels of the state and output. kernel_size / strides / padding /
            data_format / dilation_rate: of the input convolution (the recurrent one is stride 1, "same").
        activation, recurrent_activation, use_bias, initializers, unit_forget_bias, regularizers,
            constraints, dropout, recurrent_dropout, seed: as ``LSTMCell``.
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
        activation: Any = "tanh",
        recurrent_activation: Any = "sigmoid",
        use_bias: bool = True,
        kernel_initializer: Any = "glorot_uniform",
        recurrent_initializer: Any = "orthogonal",
        bias_initializer: Any = "zeros",
        unit_forget_bias: bool = True,
        kernel_regularizer: Any = None,
        recurrent_regularizer: Any = None,
        bias_regularizer: Any = None,
        kernel_constraint: Any = None,
        recurrent_constraint: Any = None,
        bias_constraint: Any = None,
        dropout: float = 0.0,
        recurrent_dropout: float = 0.0,
        seed: int | None = None,
        **kwargs: Any,
    ) -> None:
        if rank not in (1, 2, 3):
            raise ValueError(f"ConvLSTMCell expects `rank` to be 1, 2 or 3, but received rank={rank!r}.")
        if isinstance(filters, bool) or not isinstance(filters, int) or filters <= 0:
            raise ValueError(f"ConvLSTM expects `filters` to be a positive integer, but received filters={filters!r}.")
        kernel_size = standardize_tuple(kernel_size, rank, "kernel_size")
        strides = standardize_tuple(strides, rank, "strides")
        dilation_rate = standardize_tuple(dilation_rate, rank, "dilation_rate")
        if max(strides) > 1 and max(dilation_rate) > 1:
            raise ValueError(
                "Specifying `strides > 1` is not compatible with `dilation_rate > 1`. Please provide `strides=1` "
                f"or `dilation_rate=1`. Received: strides={strides} and dilation_rate={dilation_rate}"
            )
        padding = standardize_padding(padding)
        data_format = standardize_data_format(data_format)
        super().__init__(**kwargs)
        self.seed = seed
        self.rank = rank
        self.filters = filters
        self.kernel_size = kernel_size
        self.strides = strides
        self.padding = padding
        self.data_format = data_format
        self.dilation_rate = dilation_rate
        self.activation = activations.get(activation)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.use_bias = use_bias
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.recurrent_initializer = initializers.get(recurrent_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.unit_forget_bias = unit_forget_bias
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.recurrent_regularizer = regularizers.get(recurrent_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.recurrent_constraint = constraints.get(recurrent_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.dropout = min(1.0, max(0.0, float(dropout)))
        self.recurrent_dropout = min(1.0, max(0.0, float(recurrent_dropout)))
        self.dropout_mask_count = 4  # one mask per gate, as Keras draws them
        # two states (h, c) whose shapes follow from the input; Keras writes -1 for "not a fixed size"
        self.state_size = [-1, -1]
        self.input_spec = InputSpec(ndim=rank + 2)

    # ------------------------------------------------------------------ build
    @property
    def _channels_last(self) -> bool:
        return self.data_format == "channels_last"

    def build(self, inputs_shape: tuple, states_shape: Any = None) -> None:
        inputs_shape = tuple(inputs_shape)
        if len(inputs_shape) != self.rank + 2:
            layout = "spatial..., channels" if self._channels_last else "channels, spatial..."
            raise self._error(
                f"steps of rank {self.rank + 2} (batch, {layout})",
                f"shape {inputs_shape}",
            )
        self.spatial_dims = inputs_shape[1:-1] if self._channels_last else inputs_shape[2:]
        input_dim = inputs_shape[-1 if self._channels_last else 1]
        if None in self.spatial_dims or input_dim is None:
            raise self._error(
                "a defined size on every spatial axis and on the channel axis",
                f"input_shape={inputs_shape}",
                "ConvLSTM layers need static spatial and channel sizes; give the Input a full shape.",
            )
        self.input_dim = input_dim
        self.input_spec = InputSpec(ndim=self.rank + 2, shape=(None, *inputs_shape[1:]))
        n = 4 * self.filters
        self.kernel = self.add_weight(
            shape=(*self.kernel_size, input_dim, n),
            initializer=self.kernel_initializer,
            name="kernel",
            regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint,
        )
        self.recurrent_kernel = self.add_weight(
            shape=(*self.kernel_size, self.filters, n),
            initializer=self.recurrent_initializer,
            name="recurrent_kernel",
            regularizer=self.recurrent_regularizer,
            constraint=self.recurrent_constraint,
        )
        if self.use_bias:
            self.bias = self.add_weight(
                shape=(n,),
                name="bias",
                initializer=self._bias_initializer(),
                regularizer=self.bias_regularizer,
                constraint=self.bias_constraint,
            )
        else:
            self.bias = None
        self.built = True

    def _bias_initializer(self) -> Any:
        if not self.unit_forget_bias:
            return self.bias_initializer
        init, filters = self.bias_initializer, self.filters

        def bias_initializer(shape: tuple, dtype: Any = None) -> torch.Tensor:
            parts = [init((filters,), dtype=dtype), torch.ones(filters, dtype=dtype), init((2 * filters,), dtype=dtype)]
            return torch.cat([torch.as_tensor(p) for p in parts])

        return bias_initializer

    # ------------------------------------------------------------------ convolutions
    def _conv(
        self,
        x: torch.Tensor,
        kernel: torch.Tensor,
        bias: torch.Tensor | None,
        strides: tuple,
        padding: str,
        dilation: tuple,
    ) -> torch.Tensor:
        """``x`` in the layer's data format -> conv output in the same format."""
        rank = self.rank
        xc = to_channels_first(x, rank) if self._channels_last else x
        pad: Any = 0
        if padding == "same":
            xc, pad = same_padding_args(xc, self.kernel_size, strides, dilation)
        y = CONV_FNS[rank](
            xc,
            cast_like(torch_kernel(kernel, rank), xc),
            cast_like(bias, xc),
            stride=strides,
            padding=pad,
            dilation=dilation,
        )
        return to_channels_last(y, rank) if self._channels_last else y

    def _split(self, z: torch.Tensor) -> tuple[torch.Tensor, ...]:
        return z.chunk(4, dim=-1 if self._channels_last else 1)

    def _cat(self, parts: list[torch.Tensor]) -> torch.Tensor:
        return torch.cat(parts, dim=-1 if self._channels_last else 1)

    def _input_projection(self, x: torch.Tensor, training: bool = False) -> torch.Tensor:
        """The input convolution (with its bias and input dropout) of one step ``(B, ...)`` or of a whole
        sequence ``(B, T, ...)`` at once (the time axis folded into the batch)."""
        sequence = x.ndim == self.rank + 3
        flat = x.flatten(0, 1) if sequence else x
        conv = lambda inp, k, b: self._conv(inp, k, b, self.strides, self.padding, self.dilation_rate)  # noqa: E731
        if training and 0.0 < self.dropout < 1.0:
            masks = self.get_dropout_mask(x[:, 0] if sequence else x)
            kernels = self.kernel.chunk(4, dim=-1)
            biases = self.bias.chunk(4) if self.bias is not None else [None] * 4
            parts = []
            for mask, kernel, bias in zip(masks, kernels, biases):
                masked = x * (mask.unsqueeze(1) if sequence else mask)
                parts.append(conv(masked.flatten(0, 1) if sequence else masked, kernel, bias))
            out = self._cat(parts)
        else:
            out = conv(flat, self.kernel, self.bias)
        return out.unflatten(0, x.shape[:2]) if sequence else out

    def _recurrent_step(
        self, xp: torch.Tensor, states: list[torch.Tensor], training: bool = False
    ) -> tuple[torch.Tensor, list[torch.Tensor]]:
        h, c = states[0], states[1]
        ones = (1,) * self.rank
        if training and 0.0 < self.recurrent_dropout < 1.0:
            masks = self.get_recurrent_dropout_mask(h)
            kernels = self.recurrent_kernel.chunk(4, dim=-1)
            zh = self._cat([self._conv(h * m, k, None, ones, "same", ones) for m, k in zip(masks, kernels)])
        else:
            zh = self._conv(h, self.recurrent_kernel, None, ones, "same", ones)
        z_i, z_f, z_c, z_o = self._split(xp + zh)
        ra, act = self.recurrent_activation, self.activation
        c = ra(z_f) * c + ra(z_i) * act(z_c)
        h = ra(z_o) * act(c)
        return h, [h, c]

    def call(self, inputs: torch.Tensor, states: Any, training: bool = False) -> tuple[torch.Tensor, list]:
        state_list = list(states) if _is_nested(states) else [states]
        return self._recurrent_step(self._input_projection(inputs, training), state_list, training)

    # ------------------------------------------------------------------ shapes / states / config
    def compute_output_shape(self, inputs_shape: tuple, states_shape: Any = None) -> tuple:
        inputs_shape = tuple(inputs_shape)
        spatial = inputs_shape[1:-1] if self._channels_last else inputs_shape[2:]
        out = tuple(
            conv_output_length(n, k, s, self.padding, d)
            for n, k, s, d in zip(spatial, self.kernel_size, self.strides, self.dilation_rate)
        )
        shape = (inputs_shape[0], *out, self.filters) if self._channels_last else (inputs_shape[0], self.filters, *out)
        return shape, [shape, shape]

    def get_initial_state(self, batch_size: int | None = None) -> list[torch.Tensor]:
        if self._channels_last:
            input_shape = (batch_size, *self.spatial_dims, self.input_dim)
        else:
            input_shape = (batch_size, self.input_dim, *self.spatial_dims)
        shape = self.compute_output_shape(input_shape)[0]
        dtype = backend.torch_dtype(self.compute_dtype)
        return [torch.zeros(shape, dtype=dtype, device=self._device()) for _ in range(2)]

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(self._cell_config())
        return config

    def _cell_config(self) -> dict[str, Any]:
        ser = serialization.serialize_keras_object
        return {
            "filters": self.filters,
            "kernel_size": self.kernel_size,
            "strides": self.strides,
            "padding": self.padding,
            "data_format": self.data_format,
            "dilation_rate": self.dilation_rate,
            "activation": activations.serialize(self.activation),
            "recurrent_activation": activations.serialize(self.recurrent_activation),
            "use_bias": self.use_bias,
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "recurrent_initializer": initializers.serialize(self.recurrent_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "unit_forget_bias": self.unit_forget_bias,
            "kernel_regularizer": ser(self.kernel_regularizer),
            "recurrent_regularizer": ser(self.recurrent_regularizer),
            "bias_regularizer": ser(self.bias_regularizer),
            "kernel_constraint": ser(self.kernel_constraint),
            "recurrent_constraint": ser(self.recurrent_constraint),
            "bias_constraint": ser(self.bias_constraint),
            "dropout": self.dropout,
            "recurrent_dropout": self.recurrent_dropout,
            "seed": self.seed,
        }

    def extra_repr(self) -> str:
        return f"name={self.name!r}, rank={self.rank}, filters={self.filters}, kernel_size={self.kernel_size}"
