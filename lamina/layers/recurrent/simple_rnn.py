"""``SimpleRNNCell`` and ``SimpleRNN``: ``h_t = activation(x_t @ kernel + bias + h_{t-1} @ recurrent_kernel)``."""

from __future__ import annotations

from typing import Any

import torch

from lamina import activations
from lamina.layers.recurrent.rnn import CellRNN
from lamina.layers.recurrent.rnn_cell import BaseRNNCell


class SimpleRNNCell(BaseRNNCell):
    """One step of a fully connected RNN.

    Args:
        units: positive int, size of the state and output.
        activation: default ``tanh``; ``None`` means linear.
        use_bias: whether to add a bias.
        kernel_initializer / recurrent_initializer / bias_initializer: default ``glorot_uniform`` /
            ``orthogonal`` / ``zeros``.
        kernel_regularizer / recurrent_regularizer / bias_regularizer, and the matching constraints.
        dropout / recurrent_dropout: fraction of the inputs / state dropped in training (one mask per sequence).
        seed: seed of the dropout masks.

    Call arguments:
        inputs: ``(batch, features)``; states: ``[h]`` with ``h`` of shape ``(batch, units)``.

    Example:
        >>> import torch, lamina
        >>> cell = lamina.layers.SimpleRNNCell(3)
        >>> out, [h] = cell(torch.ones(2, 4), [torch.zeros(2, 3)])
        >>> out.shape, [w.name for w in cell.weights]
        (torch.Size([2, 3]), ['kernel', 'recurrent_kernel', 'bias'])
    """

    _gates = 1

    def __init__(
        self,
        units: int,
        activation: Any = "tanh",
        use_bias: bool = True,
        kernel_initializer: Any = "glorot_uniform",
        recurrent_initializer: Any = "orthogonal",
        bias_initializer: Any = "zeros",
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
        super().__init__(
            units,
            activation=activation,
            use_bias=use_bias,
            kernel_initializer=kernel_initializer,
            recurrent_initializer=recurrent_initializer,
            bias_initializer=bias_initializer,
            kernel_regularizer=kernel_regularizer,
            recurrent_regularizer=recurrent_regularizer,
            bias_regularizer=bias_regularizer,
            kernel_constraint=kernel_constraint,
            recurrent_constraint=recurrent_constraint,
            bias_constraint=bias_constraint,
            dropout=dropout,
            recurrent_dropout=recurrent_dropout,
            seed=seed,
            **kwargs,
        )
        self.state_size = self.units

    def _recurrent_step(
        self, xp: torch.Tensor, states: list[torch.Tensor], training: bool = False
    ) -> tuple[torch.Tensor, list[torch.Tensor]]:
        h = states[0]
        masks = self._recurrent_masks(h, training)
        if masks is not None:
            h = h * masks[0]
        out = torch.addmm(xp, h, self.recurrent_kernel)
        act = self.activation
        out = out if act is activations.linear else act(out)
        return out, [out]


class SimpleRNN(CellRNN):
    """Fully connected RNN whose output is fed back as the next step's state.

    Args:
        units: positive int, size of the output.
        activation, use_bias, initializers, regularizers, constraints, dropout, recurrent_dropout, seed:
            as ``SimpleRNNCell``.
        activity_regularizer: penalty on the output.
        return_sequences / return_state / go_backwards / stateful / unroll: as ``RNN``.

    Input shape:
        ``(batch, timesteps, features)``.

    Output shape:
        ``(batch, units)``; ``(batch, timesteps, units)`` with ``return_sequences``; with
        ``return_state`` also the final state ``(batch, units)``.

    Example:
        >>> import torch, lamina
        >>> layer = lamina.layers.SimpleRNN(4, name="rnn")
        >>> layer(torch.ones(32, 10, 8)).shape
        torch.Size([32, 4])
        >>> [w.path for w in layer.weights]
        ['rnn/simple_rnn_cell/kernel', 'rnn/simple_rnn_cell/recurrent_kernel', 'rnn/simple_rnn_cell/bias']
    """

    _cell_class = SimpleRNNCell
    _cell_name = "simple_rnn_cell"

    def __init__(
        self,
        units: int,
        activation: Any = "tanh",
        use_bias: bool = True,
        kernel_initializer: Any = "glorot_uniform",
        recurrent_initializer: Any = "orthogonal",
        bias_initializer: Any = "zeros",
        kernel_regularizer: Any = None,
        recurrent_regularizer: Any = None,
        bias_regularizer: Any = None,
        activity_regularizer: Any = None,
        kernel_constraint: Any = None,
        recurrent_constraint: Any = None,
        bias_constraint: Any = None,
        dropout: float = 0.0,
        recurrent_dropout: float = 0.0,
        return_sequences: bool = False,
        return_state: bool = False,
        go_backwards: bool = False,
        stateful: bool = False,
        unroll: bool = False,
        seed: int | None = None,
        **kwargs: Any,
    ) -> None:
        cell_kwargs = dict(
            units=units,
            activation=activation,
            use_bias=use_bias,
            kernel_initializer=kernel_initializer,
            recurrent_initializer=recurrent_initializer,
            bias_initializer=bias_initializer,
            kernel_regularizer=kernel_regularizer,
            recurrent_regularizer=recurrent_regularizer,
            bias_regularizer=bias_regularizer,
            kernel_constraint=kernel_constraint,
            recurrent_constraint=recurrent_constraint,
            bias_constraint=bias_constraint,
            dropout=dropout,
            recurrent_dropout=recurrent_dropout,
            seed=seed,
        )
        super().__init__(
            cell_kwargs,
            return_sequences=return_sequences,
            return_state=return_state,
            go_backwards=go_backwards,
            stateful=stateful,
            unroll=unroll,
            activity_regularizer=activity_regularizer,
            **kwargs,
        )

    def call(self, sequences: torch.Tensor, initial_state: Any = None, mask: Any = None, training: bool = False) -> Any:
        return super().call(sequences, initial_state=initial_state, mask=mask, training=training)

    _config_keys_head = (
        "units",
        "activation",
        "use_bias",
        "kernel_initializer",
        "recurrent_initializer",
        "bias_initializer",
        "kernel_regularizer",
        "recurrent_regularizer",
        "bias_regularizer",
    )
    _config_keys_tail = ("kernel_constraint", "recurrent_constraint", "bias_constraint", "dropout", "recurrent_dropout")
