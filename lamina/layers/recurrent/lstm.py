"""``LSTMCell`` and ``LSTM`` (Hochreiter 1997), Keras weight layout: gates ``i, f, c, o`` along the last axis."""

from __future__ import annotations

from typing import Any

import torch

from lamina import activations, initializers
from lamina.layers.recurrent.rnn import CellRNN
from lamina.layers.recurrent.rnn_cell import BaseRNNCell, check_use_cudnn


class LSTMCell(BaseRNNCell):
    """One step of an LSTM.

    ``z = x @ kernel + h @ recurrent_kernel + bias`` split into gates ``i, f, c, o``;
    ``c' = sig(f) * c + sig(i) * tanh(c_gate)``, ``h' = sig(o) * tanh(c')``
    (``sig`` = ``recurrent_activation``, ``tanh`` = ``activation``).

    Args:
        units: positive int, size of the state and output.
        activation: default ``tanh``. recurrent_activation: default ``sigmoid``.
        use_bias: whether to add a bias.
        kernel_initializer / recurrent_initializer / bias_initializer: default ``glorot_uniform`` /
            ``orthogonal`` / ``zeros``.
        unit_forget_bias: add 1 to the forget-gate bias at initialization (default ``True``).
        kernel_regularizer / recurrent_regularizer / bias_regularizer, and the matching constraints.
        dropout / recurrent_dropout: fraction of the inputs / state dropped in training.
        seed: seed of the dropout masks.

    Call arguments:
        inputs: ``(batch, features)``; states: ``[h, c]``, each ``(batch, units)``.

    Example:
        >>> import torch, lamina
        >>> cell = lamina.layers.LSTMCell(3)
        >>> h, [h, c] = cell(torch.ones(2, 4), [torch.zeros(2, 3), torch.zeros(2, 3)])
        >>> [tuple(w.shape) for w in cell.weights]
        [(4, 12), (3, 12), (12,)]
        >>> cell.bias.tolist()[3:6]  # unit_forget_bias
        [1.0, 1.0, 1.0]
    """

    _gates = 4

    def __init__(
        self,
        units: int,
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
        implementation = kwargs.pop("implementation", 2)
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
        self.recurrent_activation = activations.get(recurrent_activation)
        self.unit_forget_bias = unit_forget_bias
        self.implementation = 1 if self.recurrent_dropout != 0.0 else implementation
        if self.implementation == 1:
            self.dropout_mask_count = 4
        self.state_size = [self.units, self.units]

    def _bias_initializer(self) -> Any:
        if not self.unit_forget_bias:
            return self.bias_initializer
        init, units = self.bias_initializer, self.units

        def bias_initializer(shape: tuple, dtype: Any = None) -> torch.Tensor:
            parts = [
                init((units,), dtype=dtype),
                initializers.get("ones")((units,), dtype=dtype),
                init((units * 2,), dtype=dtype),
            ]
            return torch.cat([torch.as_tensor(p) for p in parts])

        return bias_initializer

    def _recurrent_step(
        self, xp: torch.Tensor, states: list[torch.Tensor], training: bool = False
    ) -> tuple[torch.Tensor, list[torch.Tensor]]:
        h, c = states[0], states[1]
        masks = self._recurrent_masks(h, training)
        if masks is None:
            z = torch.addmm(xp, h, self.recurrent_kernel)
        else:
            rk = self.recurrent_kernel.chunk(4, dim=1)
            z = xp + torch.cat([(h * m) @ k for m, k in zip(masks, rk)], dim=-1)
        z_i, z_f, z_c, z_o = z.chunk(4, dim=-1)
        ra, act = self.recurrent_activation, self.activation
        c = ra(z_f) * c + ra(z_i) * act(z_c)
        h = ra(z_o) * act(c)
        return h, [h, c]

    def _can_fuse(self, sequences: torch.Tensor, training: bool) -> bool:
        return self._fusable(sequences, training)

    def _fused_sequence(
        self, sequences: torch.Tensor, states: list[torch.Tensor], go_backwards: bool, training: bool
    ) -> tuple[torch.Tensor, list[torch.Tensor]]:
        # PyTorch's LSTM uses the same gate order (i, f, c, o): only the kernels are transposed.
        x = self._fused_inputs(sequences, go_backwards, training)
        params = [self.kernel.t(), self.recurrent_kernel.t()]
        if self.bias is not None:
            params += [self.bias, torch.zeros_like(self.bias)]
        params = self._pack_params(params, x.device)
        h0, c0 = (s.unsqueeze(0).contiguous() for s in states[:2])
        out, h, c = torch._VF.lstm(
            x, (h0, c0), params, self.bias is not None, 1, 0.0, torch.is_grad_enabled(), False, True
        )
        return out, [h[0], c[0]]

    def _cell_config(self) -> dict[str, Any]:
        cfg = super()._cell_config()
        out = {k: cfg[k] for k in ("units", "activation")}
        out["recurrent_activation"] = activations.serialize(self.recurrent_activation)
        out["use_bias"] = cfg["use_bias"]
        out["unit_forget_bias"] = self.unit_forget_bias
        out.update({k: v for k, v in cfg.items() if k not in out})
        return out


class LSTM(CellRNN):
    """Long Short-Term Memory layer (Hochreiter 1997).

    Args:
        units: positive int, size of the output.
        activation, recurrent_activation, use_bias, initializers, unit_forget_bias, regularizers,
            constraints, dropout, recurrent_dropout, seed: as ``LSTMCell``.
        activity_regularizer: penalty on the output.
        return_sequences / return_state / go_backwards / stateful / unroll: as ``RNN``.
        use_cudnn: ``"auto"``, ``True`` or ``False``; accepted for compatibility (PyTorch picks its kernels).

    Input shape:
        ``(batch, timesteps, features)``.

    Output shape:
        ``(batch, units)``; ``(batch, timesteps, units)`` with ``return_sequences``; with
        ``return_state`` also the final ``h`` and ``c``, each ``(batch, units)``.

    Example:
        >>> import torch, lamina
        >>> lstm = lamina.layers.LSTM(4, return_sequences=True, return_state=True)
        >>> seq, h, c = lstm(torch.ones(32, 10, 8))
        >>> seq.shape, h.shape, c.shape
        (torch.Size([32, 10, 4]), torch.Size([32, 4]), torch.Size([32, 4]))
        >>> [w.path for w in lstm.weights]
        ['lstm/lstm_cell/kernel', 'lstm/lstm_cell/recurrent_kernel', 'lstm/lstm_cell/bias']
    """

    _cell_class = LSTMCell
    _cell_name = "lstm_cell"

    def __init__(
        self,
        units: int,
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
        unroll: bool = False,
        use_cudnn: Any = "auto",
        **kwargs: Any,
    ) -> None:
        cell_kwargs = dict(
            units=units,
            activation=activation,
            recurrent_activation=recurrent_activation,
            use_bias=use_bias,
            kernel_initializer=kernel_initializer,
            unit_forget_bias=unit_forget_bias,
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
            implementation=kwargs.pop("implementation", 2),
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
        self.use_cudnn = check_use_cudnn(use_cudnn)

    def call(self, sequences: torch.Tensor, initial_state: Any = None, mask: Any = None, training: bool = False) -> Any:
        return super().call(sequences, initial_state=initial_state, mask=mask, training=training)

    _config_keys_head = (
        "units",
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
    )
    _config_keys_tail = (
        "kernel_constraint",
        "recurrent_constraint",
        "bias_constraint",
        "dropout",
        "recurrent_dropout",
        "seed",
    )
