"""``GRUCell`` and ``GRU`` (Cho et al. 2014), Keras weight layout: gates ``z, r, h`` along the last axis."""

from __future__ import annotations

from typing import Any

import torch

from lamina import activations
from lamina.layers.recurrent.rnn import CellRNN
from lamina.layers.recurrent.rnn_cell import BaseRNNCell, check_use_cudnn


class GRUCell(BaseRNNCell):
    """One step of a GRU.

    With ``reset_after=True`` (default, cuDNN-compatible) the reset gate is applied after the
    recurrent matmul and the bias has shape ``(2, 3 * units)`` (input bias, recurrent bias);
    with ``reset_after=False`` it is applied to ``h`` before the matmul and the bias is ``(3 * units,)``.

    Args:
        units: positive int, size of the state and output.
        activation: default ``tanh``. recurrent_activation: default ``sigmoid``.
        use_bias, initializers, regularizers, constraints, dropout, recurrent_dropout, seed: as ``LSTMCell``.
        reset_after: see above.

    Call arguments:
        inputs: ``(batch, features)``; states: ``[h]`` (or ``h``) of shape ``(batch, units)``.

    Example:
        >>> import torch, lamina
        >>> cell = lamina.layers.GRUCell(3)
        >>> out, [h] = cell(torch.ones(2, 4), [torch.zeros(2, 3)])
        >>> [tuple(w.shape) for w in cell.weights]
        [(4, 9), (3, 9), (2, 9)]
    """

    _gates = 3

    def __init__(
        self,
        units: int,
        activation: Any = "tanh",
        recurrent_activation: Any = "sigmoid",
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
        reset_after: bool = True,
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
        self.reset_after = reset_after
        self.implementation = 1 if self.recurrent_dropout != 0.0 else implementation
        if self.implementation == 1:
            self.dropout_mask_count = 3
        self.state_size = self.units

    def _bias_shape(self) -> tuple[int, ...]:
        return (2, 3 * self.units) if self.reset_after else (3 * self.units,)

    def _input_bias(self) -> torch.Tensor | None:
        if self.bias is None:
            return None
        return self.bias[0] if self.reset_after else self.bias

    def _recurrent_step(
        self, xp: torch.Tensor, states: list[torch.Tensor], training: bool = False
    ) -> tuple[torch.Tensor, list[torch.Tensor]]:
        h = states[0]
        u = self.units
        rk = self.recurrent_kernel
        masks = self._recurrent_masks(h, training)
        h_z, h_r, h_h = (h, h, h) if masks is None else (h * masks[0], h * masks[1], h * masks[2])
        x_z, x_r, x_h = xp.chunk(3, dim=-1)
        ra, act = self.recurrent_activation, self.activation
        if self.reset_after:
            rbias = self.bias[1] if self.bias is not None else None
            if masks is None:
                inner = h @ rk if rbias is None else torch.addmm(rbias, h, rk)
                r_z, r_r, r_h = inner.chunk(3, dim=-1)
            else:
                k_z, k_r, k_h = rk.chunk(3, dim=1)
                r_z, r_r, r_h = h_z @ k_z, h_r @ k_r, h_h @ k_h
                if rbias is not None:
                    b_z, b_r, b_h = rbias.chunk(3)
                    r_z, r_r, r_h = r_z + b_z, r_r + b_r, r_h + b_h
            z = ra(x_z + r_z)
            r = ra(x_r + r_r)
            hh = act(x_h + r * r_h)
        else:
            if masks is None:
                inner = h @ rk[:, : 2 * u]
                r_z, r_r = inner[:, :u], inner[:, u:]
            else:
                r_z, r_r = h_z @ rk[:, :u], h_r @ rk[:, u : 2 * u]
            z = ra(x_z + r_z)
            r = ra(x_r + r_r)
            hh = act(x_h + (r * h_h) @ rk[:, 2 * u :])
        h = z * h + (1 - z) * hh
        return h, [h]

    def _can_fuse(self, sequences: torch.Tensor, training: bool) -> bool:
        return self.reset_after and self._fusable(sequences, training)

    def _fused_sequence(
        self, sequences: torch.Tensor, states: list[torch.Tensor], go_backwards: bool, training: bool
    ) -> tuple[torch.Tensor, list[torch.Tensor]]:
        # PyTorch's GRU is the reset_after formulation with gates ordered (r, z, n): reorder Keras's (z, r, h).
        def reorder(w: torch.Tensor) -> torch.Tensor:
            z, r, h = w.chunk(3, dim=-1)
            return torch.cat([r, z, h], dim=-1)

        x = self._fused_inputs(sequences, go_backwards, training)
        params = [reorder(self.kernel).t(), reorder(self.recurrent_kernel).t()]
        if self.bias is not None:
            params += [reorder(self.bias[0]), reorder(self.bias[1])]
        params = self._pack_params(params, x.device)
        out, h = torch._VF.gru(
            x,
            states[0].unsqueeze(0).contiguous(),
            params,
            self.bias is not None,
            1,
            0.0,
            torch.is_grad_enabled(),
            False,
            True,
        )
        return out, [h[0]]

    def _cell_config(self) -> dict[str, Any]:
        cfg = super()._cell_config()
        out = {k: cfg[k] for k in ("units", "activation")}
        out["recurrent_activation"] = activations.serialize(self.recurrent_activation)
        out.update({k: v for k, v in cfg.items() if k not in out and k != "seed"})
        out["reset_after"] = self.reset_after
        out["seed"] = self.seed
        return out


class GRU(CellRNN):
    """Gated Recurrent Unit layer (Cho et al. 2014).

    Args:
        units: positive int, size of the output.
        activation, recurrent_activation, use_bias, initializers, regularizers, constraints, dropout,
            recurrent_dropout, seed, reset_after: as ``GRUCell``.
        activity_regularizer: penalty on the output.
        return_sequences / return_state / go_backwards / stateful / unroll: as ``RNN``.
        use_cudnn: accepted for compatibility.

    Input shape:
        ``(batch, timesteps, features)``.

    Output shape:
        ``(batch, units)``; ``(batch, timesteps, units)`` with ``return_sequences``; with
        ``return_state`` also the final state ``(batch, units)``.

    Example:
        >>> import torch, lamina
        >>> gru = lamina.layers.GRU(4)
        >>> gru(torch.ones(32, 10, 8)).shape
        torch.Size([32, 4])
        >>> [(w.path, tuple(w.shape)) for w in gru.weights][-1]
        ('gru/gru_cell/bias', (2, 12))
    """

    _cell_class = GRUCell
    _cell_name = "gru_cell"

    def __init__(
        self,
        units: int,
        activation: Any = "tanh",
        recurrent_activation: Any = "sigmoid",
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
        seed: int | None = None,
        return_sequences: bool = False,
        return_state: bool = False,
        go_backwards: bool = False,
        stateful: bool = False,
        unroll: bool = False,
        reset_after: bool = True,
        use_cudnn: Any = "auto",
        **kwargs: Any,
    ) -> None:
        cell_kwargs = dict(
            units=units,
            activation=activation,
            recurrent_activation=recurrent_activation,
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
            reset_after=reset_after,
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
        "reset_after",
        "seed",
    )
