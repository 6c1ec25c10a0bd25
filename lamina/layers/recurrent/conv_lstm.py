"""``ConvLSTM1D`` / ``ConvLSTM2D`` / ``ConvLSTM3D``: an LSTM whose input and recurrent transforms are convolutions.

The rank-generic ``ConvLSTM`` runs ``ConvLSTMCell`` through the ``RNN`` machinery (masks, initial and carried
states, ``go_backwards``, ``return_sequences`` / ``return_state``). The input convolution of every timestep
runs as one batched convolution before the loop; each step only adds the recurrent convolution.
"""

from __future__ import annotations

import inspect
from typing import Any

import torch

from lamina import serialization
from lamina.layers.input_spec import InputSpec
from lamina.layers.layer import Layer
from lamina.layers.recurrent.conv_lstm_cell import ConvLSTMCell
from lamina.layers.recurrent.rnn import RNN

# ConvLSTM's hyperparameters live on its cell (Keras exposes them as properties)
_CELL_ATTRS = frozenset(
    {
        "filters",
        "kernel_size",
        "strides",
        "padding",
        "data_format",
        "dilation_rate",
        "activation",
        "recurrent_activation",
        "use_bias",
        "kernel_initializer",
        "recurrent_initializer",
        "bias_initializer",
        "unit_forget_bias",
        "kernel_regularizer",
        "recurrent_regularizer",
        "bias_regularizer",
        "kernel_constraint",
        "recurrent_constraint",
        "bias_constraint",
        "dropout",
        "recurrent_dropout",
    }
)


class ConvLSTM(RNN):
    """Rank-generic convolutional LSTM over ``(batch, time, *spatial, channels)`` (or channels-first) inputs.

    Args:
        rank: 1, 2 or 3 spatial axes.
        filters, kernel_size, strides, padding, data_format, dilation_rate: of the input convolution.
        activation, recurrent_activation, use_bias, kernel/recurrent/bias initializers, unit_forget_bias,
        regularizers, constraints, dropout, recurrent_dropout, seed: as ``LSTM``.
        return_sequences / return_state / go_backwards / stateful: as ``RNN``.
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
        activity_regularizer: Any = None,
        kernel_constraint: Any = None,
        recurrent_constraint: Any = None,
        bias_constraint: Any = None,
        dropout: float = 0.0,
        recurrent_dropout: float = 0.0,
        seed: int | None = None,
        return_sequences: bool = False,
        return_state: bool = False,
        go_backwards: bool = False,
        stateful: bool = False,
        **kwargs: Any,
    ) -> None:
        cell = ConvLSTMCell(
            rank=rank,
            filters=filters,
            kernel_size=kernel_size,
            strides=strides,
            padding=padding,
            data_format=data_format,
            dilation_rate=dilation_rate,
            activation=activation,
            recurrent_activation=recurrent_activation,
            use_bias=use_bias,
            kernel_initializer=kernel_initializer,
            recurrent_initializer=recurrent_initializer,
            bias_initializer=bias_initializer,
            unit_forget_bias=unit_forget_bias,
            kernel_regularizer=kernel_regularizer,
            recurrent_regularizer=recurrent_regularizer,
            bias_regularizer=bias_regularizer,
            kernel_constraint=kernel_constraint,
            recurrent_constraint=recurrent_constraint,
            bias_constraint=bias_constraint,
            dropout=dropout,
            recurrent_dropout=recurrent_dropout,
            seed=seed,
            name="conv_lstm_cell",
            dtype=kwargs.get("dtype"),
        )
        super().__init__(
            cell,
            return_sequences=return_sequences,
            return_state=return_state,
            go_backwards=go_backwards,
            stateful=stateful,
            activity_regularizer=activity_regularizer,
            **kwargs,
        )
        self._exact_rank = rank + 3
        self.input_spec = InputSpec(ndim=rank + 3)

    def __getattr__(self, name: str) -> Any:
        if name in _CELL_ATTRS:
            return getattr(self._modules["cell"], name)
        return super().__getattr__(name)

    def _cell_step_fn(self, sequences: torch.Tensor, training: bool) -> Any:
        cell = self.cell
        xp = cell._input_projection(sequences, training)  # (B, T, *spatial, 4 * filters): one conv for all steps
        return lambda t, states: cell._recurrent_step(xp[:, t], states, training)

    def call(self, sequences: torch.Tensor, initial_state: Any = None, mask: Any = None, training: bool = False) -> Any:
        return super().call(sequences, initial_state=initial_state, mask=mask, training=training)

    def compute_output_shape(self, sequences_shape: tuple, initial_state_shape: Any = None) -> Any:
        sequences_shape = tuple(sequences_shape)
        batch, steps = sequences_shape[0], sequences_shape[1]
        state_shape = self.cell.compute_output_shape((batch, *sequences_shape[2:]))[0][1:]
        output_shape = (batch, steps, *state_shape) if self.return_sequences else (batch, *state_shape)
        if self.return_state:
            return [output_shape, (batch, *state_shape), (batch, *state_shape)]
        return output_shape

    def get_config(self) -> dict[str, Any]:
        config = Layer.get_config(self)
        config.update(self._rnn_config())
        cell = self.cell._cell_config()
        keys = list(cell)
        split = keys.index("kernel_constraint")  # Keras lists activity_regularizer among the cell's arguments
        config.update({k: cell[k] for k in keys[:split]})
        config["activity_regularizer"] = serialization.serialize_keras_object(self.activity_regularizer)
        config.update({k: cell[k] for k in keys[split:]})
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any], custom_objects: dict | None = None) -> ConvLSTM:
        return cls(**config)

    def extra_repr(self) -> str:
        return (
            f"name={self.name!r}, filters={self.cell.filters}, kernel_size={self.cell.kernel_size}, "
            f"return_sequences={self.return_sequences}"
        )


class ConvLSTM1D(ConvLSTM):
    """1-D convolutional LSTM over ``(batch, time, steps, channels)``; arguments as ``ConvLSTM2D``.

    Example:
        >>> import torch, lamina
        >>> lamina.layers.ConvLSTM1D(4, 3, padding="same")(torch.ones(2, 5, 8, 3)).shape
        torch.Size([2, 8, 4])
    """

    def __init__(self, filters: int, kernel_size: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(1, filters, kernel_size, *args, **kwargs)


class ConvLSTM2D(ConvLSTM):
    """2-D convolutional LSTM over ``(batch, time, rows, cols, channels)`` sequences of images.

    Args:
        filters: channels of the output and states.
        kernel_size, strides, padding (``"valid"``/``"same"``), data_format, dilation_rate: of the input
            convolution; the recurrent convolution is stride 1 with "same" padding.
        activation: default ``tanh``. recurrent_activation: default ``sigmoid``. use_bias: default True.
        kernel_initializer / recurrent_initializer / bias_initializer, unit_forget_bias, the regularizers
        (kernel, recurrent, bias, activity) and constraints, dropout, recurrent_dropout, seed: as ``LSTM``.
        return_sequences, return_state, go_backwards, stateful: as ``RNN``.

    Input shape:
        ``(batch, time, rows, cols, channels)`` (``channels_last``) or ``(batch, time, channels, rows, cols)``.

    Output shape:
        ``(batch, new_rows, new_cols, filters)``; with ``return_sequences`` a time axis after the batch; with
        ``return_state`` also the final ``h`` and ``c``.

    Example:
        >>> import torch, lamina
        >>> layer = lamina.layers.ConvLSTM2D(4, 3, padding="same", return_sequences=True)
        >>> layer(torch.ones(2, 5, 8, 8, 3)).shape
        torch.Size([2, 5, 8, 8, 4])
        >>> [(w.path, tuple(w.shape)) for w in layer.weights]  # doctest: +NORMALIZE_WHITESPACE
        [('conv_lstm2d/conv_lstm_cell/kernel', (3, 3, 3, 16)),
         ('conv_lstm2d/conv_lstm_cell/recurrent_kernel', (3, 3, 4, 16)),
         ('conv_lstm2d/conv_lstm_cell/bias', (16,))]
    """

    def __init__(self, filters: int, kernel_size: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(2, filters, kernel_size, *args, **kwargs)


class ConvLSTM3D(ConvLSTM):
    """3-D convolutional LSTM over ``(batch, time, depth, rows, cols, channels)``; arguments as ``ConvLSTM2D``.

    Example:
        >>> import torch, lamina
        >>> lamina.layers.ConvLSTM3D(2, 2)(torch.ones(1, 3, 4, 4, 4, 1)).shape
        torch.Size([1, 3, 3, 3, 2])
    """

    def __init__(self, filters: int, kernel_size: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(3, filters, kernel_size, *args, **kwargs)


def _rank_bound_signature(cls: type) -> None:
    """Shows ConvLSTM's full argument list (less ``rank``) on a fixed-rank subclass, as Keras's do."""
    sig = inspect.signature(ConvLSTM.__init__)
    params = [p for name, p in sig.parameters.items() if name != "rank"]
    cls.__init__.__signature__ = sig.replace(parameters=params)


for _cls in (ConvLSTM1D, ConvLSTM2D, ConvLSTM3D):
    _rank_bound_signature(_cls)
