"""The generic ``RNN`` layer, the dropout-mask mixin of the cells and the shared cell base.

``RNN(cell)`` runs a cell over the time axis. For the built-in cells (SimpleRNN, LSTM, GRU) the
input projection ``x @ kernel + bias`` is computed for all timesteps in one matmul before the loop,
and each step only adds the recurrent projection. Masked timesteps keep the previous state; their
output is the previous step's output (zeros before the first step), or zeros with
``zero_output_for_mask=True``: the semantics of Keras's torch backend.
"""

from __future__ import annotations

from typing import Any

import torch

from lamina import backend, serialization
from lamina.layers.input_spec import InputSpec
from lamina.layers.layer import Layer, build_child
from lamina.layers.recurrent.rnn_cell import BaseRNNCell, DropoutRNNCell, _expand, _is_nested, _pack_like, as_mask
from lamina.layers.recurrent.stacked_rnn_cells import StackedRNNCells
from lamina.serialization import deserialize_keras_object, serialize_keras_object
from lamina.tree import flatten


def _uses_fast_path(cell: Any) -> bool:
    return isinstance(cell, BaseRNNCell) and type(cell).call is BaseRNNCell.call


class RNN(Layer):
    """Runs an RNN cell (or a list of cells, stacked) over the time axis of ``(batch, time, ...)`` inputs.

    Args:
        cell: an object with ``call(inputs, states)`` returning ``(output, new_states)`` and a
            ``state_size``; or a list of cells (stacked with ``StackedRNNCells``).
        return_sequences: return the whole output sequence instead of the last output.
        return_state: also return the final states (``[output, *states]``).
        go_backwards: process the sequence backwards (and return the reversed sequence).
        stateful: carry the final states of each batch over as the next batch's initial states
            (needs a fixed batch size); ``reset_state()`` zeros them.
        unroll: accepted for compatibility; the loop is the same either way.
        zero_output_for_mask: with a mask, masked timesteps output zeros instead of the previous output.

    Call arguments:
        sequences: ``(batch, time, features)``. ``initial_state``: list of state tensors.
        mask: ``(batch, time)`` booleans; ``False`` steps are skipped. ``training``: enables dropout.

    Output shape:
        ``(batch, units)``, or ``(batch, time, units)`` with ``return_sequences``; with
        ``return_state`` a list ``[output, *states]``.

    Example:
        >>> import torch, lamina
        >>> layer = lamina.layers.RNN(lamina.layers.SimpleRNNCell(4), return_sequences=True)
        >>> layer(torch.ones(2, 3, 5)).shape
        torch.Size([2, 3, 4])
    """

    def __init__(
        self,
        cell: Any,
        return_sequences: bool = False,
        return_state: bool = False,
        go_backwards: bool = False,
        stateful: bool = False,
        unroll: bool = False,
        zero_output_for_mask: bool = False,
        **kwargs: Any,
    ) -> None:
        if isinstance(cell, (list, tuple)):
            cell = StackedRNNCells(cell)
        if "call" not in dir(cell):
            raise ValueError(f"Argument `cell` should have a `call` method. Received: cell={cell}")
        if "state_size" not in dir(cell):
            raise ValueError(
                "The RNN cell should have a `state_size` attribute (single integer or list of "
                f"integers, one integer per RNN state). Received: cell={cell}"
            )
        super().__init__(**kwargs)
        self.zero_output_for_mask = zero_output_for_mask
        self.cell = cell
        self.return_sequences = return_sequences
        self.return_state = return_state
        self.go_backwards = go_backwards
        self.stateful = stateful
        self.unroll = unroll
        self.supports_masking = True
        self.input_spec = None
        self.states = None
        state_size = getattr(self.cell, "state_size", None)
        if state_size is None:
            raise ValueError("state_size must be specified as property on the RNN cell.")
        if not isinstance(state_size, (list, tuple, int)):
            raise ValueError("state_size must be an integer, or a list/tuple of integers (one for each state tensor).")
        self.single_state = isinstance(state_size, int)
        self.state_size = [state_size] if self.single_state else list(state_size)

    _min_rank = 3
    _exact_rank: int | None = None

    # ------------------------------------------------------------------ build
    def _check_rank(self, shape: tuple) -> None:
        n = len(shape)
        if (self._exact_rank is not None and n != self._exact_rank) or n < self._min_rank:
            want = self._exact_rank or f">= {self._min_rank}"
            raise self._error(
                f"inputs of rank {want} (batch, timesteps, features)",
                f"shape {tuple(shape)} (rank {n})",
                "Recurrent layers need a time axis: reshape the data to (batch, timesteps, features).",
            )

    def build(self, sequences_shape: tuple, initial_state_shape: Any = None) -> None:
        self._check_rank(sequences_shape)
        step_shape = (sequences_shape[0], *tuple(sequences_shape[2:]))
        build_child(self, self.cell, step_shape)
        if self.stateful:
            if sequences_shape[0] is None:
                raise ValueError(
                    "When using `stateful=True` in a RNN, the batch size must be static. Found dynamic "
                    f"batch size: sequence.shape={tuple(sequences_shape)}"
                )
            self.states = self._zero_states(sequences_shape[0])
        self.built = True

    def _zero_states(self, batch_size: int) -> list[Any]:
        return [torch.zeros_like(s) if isinstance(s, torch.Tensor) else s for s in self.get_initial_state(batch_size)]

    # ------------------------------------------------------------------ states
    def get_initial_state(self, batch_size: int) -> list[Any]:
        fn = getattr(self.cell, "get_initial_state", None)
        if fn is None:
            dtype = backend.torch_dtype(self.compute_dtype)
            return [torch.zeros((batch_size, d), dtype=dtype, device=self._device()) for d in self.state_size]
        init = fn(batch_size=batch_size)
        return list(init) if _is_nested(init) else [init]

    def reset_state(self) -> None:
        """Zeros the carried states of a stateful RNN."""
        if self.states is not None:
            self.states = _pack_like(self.states, [torch.zeros_like(s) for s in flatten(self.states)])

    def reset_states(self) -> None:
        self.reset_state()

    # ------------------------------------------------------------------ call
    def _prepare_initial_state(self, sequences: torch.Tensor, initial_state: Any) -> list[Any]:
        batch = sequences.shape[0]
        if initial_state is None:
            if self.stateful:
                if self.states is None:
                    self.states = self._zero_states(batch)
                initial_state = self.states
            else:
                initial_state = self.get_initial_state(batch)
        if self.stateful and self.states is not None:
            expected = flatten(self.states)[0].shape[0]
            if batch != expected:
                raise ValueError(
                    "If an RNN is stateful, the batch size of the input sequences must be the same as "
                    f"the batch size of the initial state. \n- Expected batch size: {expected}\n"
                    f"- Received batch size: {batch}"
                )
        if not _is_nested(initial_state):
            initial_state = [initial_state]
        initial_state = list(initial_state)
        dtype = sequences.dtype if sequences.dtype.is_floating_point else backend.torch_dtype(self.compute_dtype)
        leaves = [
            backend.convert_to_tensor(s, dtype=dtype, device=sequences.device)
            if not isinstance(s, torch.Tensor) or s.dtype != dtype or s.device != sequences.device
            else s
            for s in flatten(initial_state)
        ]
        n_expected = len(flatten(self.state_size))
        if len(leaves) != n_expected:
            raise self._error(
                f"{n_expected} initial state tensor(s)",
                f"{len(leaves)}",
                "Pass one tensor per state (e.g. [h, c] for an LSTM).",
            )
        for i, (leaf, size) in enumerate(zip(leaves, flatten(self.state_size))):
            if (
                isinstance(size, int)
                and size > 0
                and (leaf.ndim != 2 or leaf.shape[0] != batch or leaf.shape[1] != size)
            ):
                raise self._error(
                    f"initial state {i} of shape ({batch}, {size})",
                    f"shape {tuple(leaf.shape)}",
                    "Pass states of shape (batch, units).",
                )
        return _pack_like(initial_state, leaves)

    def _check_step_shape(self, sequences: torch.Tensor) -> None:
        # The fused kernels (oneDNN LSTM/GRU) do not check the feature size: a wrong width there gives
        # numbers or corrupts memory instead of an error, so every call checks it against the built cell.
        self._check_rank(tuple(sequences.shape))
        built = getattr(self.cell, "_build_shapes", None)
        if not isinstance(built, tuple) or len(built) != sequences.ndim - 1:
            return
        got = tuple(sequences.shape[2:])
        if any(w is not None and w != g for w, g in zip(built[1:], got)):
            want = tuple(built[1:])
            raise self._error(
                f"inputs of shape (batch, timesteps, {', '.join(map(str, want))}) (the shape it was built for)",
                f"shape {tuple(sequences.shape)}",
            )

    def _cell_step_fn(self, sequences: torch.Tensor, training: bool) -> Any:
        cell = self.cell
        if _uses_fast_path(cell):
            xp = cell._input_projection(sequences, training)  # (B, T, gates*units): one matmul for all steps
            return lambda t, states: cell._recurrent_step(xp[:, t], states, training)

        kwargs = {}
        if isinstance(cell, Layer) and cell._call_has_training:
            kwargs["training"] = training
        direct = not isinstance(cell, Layer) or isinstance(cell, (StackedRNNCells, BaseRNNCell))
        call_fn = cell.call if direct else cell

        def step(t: int, states: Any) -> tuple[torch.Tensor, Any]:
            out, new = call_fn(sequences[:, t], tuple(states), **kwargs)
            return out, (list(new) if _is_nested(new) else [new])

        return step

    def _reset_dropout(self, cell: Any) -> None:
        if isinstance(cell, DropoutRNNCell):
            cell.reset_dropout_mask()
            cell.reset_recurrent_dropout_mask()
        elif isinstance(cell, StackedRNNCells):
            for c in cell.cells:
                self._reset_dropout(c)

    def inner_loop(
        self, sequences: torch.Tensor, initial_state: list[Any], mask: torch.Tensor | None, training: bool = False
    ) -> tuple[torch.Tensor, torch.Tensor, list[Any]]:
        """Runs the cell over time; returns ``(last_output, outputs, final_states)``."""
        steps = sequences.shape[1]
        if steps == 0:
            raise self._error("at least one timestep", f"shape {tuple(sequences.shape)}")
        cell = self.cell
        if mask is None and _uses_fast_path(cell) and cell._can_fuse(sequences, training):
            # the fused kernel runs in the cell's own dtype: an enclosing mixed-precision layer's autocast would
            # hand it half-precision weights that oneDNN's CPU LSTM/GRU cannot take
            with torch.autocast(sequences.device.type, enabled=False):
                seq, states = cell._fused_sequence(sequences, list(initial_state), self.go_backwards, training)
            last = seq[:, -1]
            return last, (seq if self.return_sequences else last.unsqueeze(1)), states
        step = self._cell_step_fn(sequences, training)
        order = range(steps - 1, -1, -1) if self.go_backwards else range(steps)
        states = initial_state
        outputs: list[torch.Tensor] = []
        prev = None
        out = None
        if mask is not None:
            mask = mask.to(torch.bool)
        for t in order:
            out, new_states = step(t, states)
            if mask is not None:
                m_t = mask[:, t]
                if prev is None:
                    prev = torch.zeros_like(out)
                fallback = torch.zeros_like(out) if self.zero_output_for_mask else prev
                out = torch.where(_expand(m_t, out), out, fallback)
                flat_new = [torch.where(_expand(m_t, n), n, o) for n, o in zip(flatten(new_states), flatten(states))]
                new_states = _pack_like(new_states, flat_new)
                prev = out
            states = new_states
            if self.return_sequences:
                outputs.append(out)
        seq = torch.stack(outputs, dim=1) if self.return_sequences else out.unsqueeze(1)
        return out, seq, states

    def call(self, sequences: torch.Tensor, initial_state: Any = None, mask: Any = None, training: bool = False) -> Any:
        if mask is not None and _is_nested(mask):
            mask = flatten(mask)[0]
        if mask is not None:
            mask = as_mask(mask, sequences.device)
        self._check_step_shape(sequences)
        initial_state = self._prepare_initial_state(sequences, initial_state)
        # dropout masks are drawn at the first step and reused for the whole sequence
        self._reset_dropout(self.cell)
        try:
            last_output, outputs, states = self.inner_loop(sequences, initial_state, mask, training=bool(training))
        finally:
            self._reset_dropout(self.cell)
        if self.stateful:
            self.states = _pack_like(states, [s.detach() for s in flatten(states)])
        output = outputs if self.return_sequences else last_output
        if self.return_state:
            return [output, *states]
        return output

    # ------------------------------------------------------------------ shapes / masks / config
    def compute_output_shape(self, sequences_shape: tuple, initial_state_shape: Any = None) -> Any:
        batch, length = sequences_shape[0], sequences_shape[1]
        states_shape = []
        for size in self.state_size:
            if isinstance(size, int):
                states_shape.append((batch, size))
            else:
                states_shape.append([(batch, s) for s in size])
        output_size = getattr(self.cell, "output_size", None)
        if output_size is None:
            output_size = self.state_size[0]
        if not isinstance(output_size, int):
            raise ValueError("output_size must be an integer.")
        output_shape = (batch, length, output_size) if self.return_sequences else (batch, output_size)
        if self.return_state:
            return [output_shape, *states_shape]
        return output_shape

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        if mask is not None and _is_nested(mask):
            mask = flatten(mask)[0]
        output_mask = mask if self.return_sequences else None
        if self.return_state:
            return [output_mask] + [None for _ in self.state_size]
        return output_mask

    def _rnn_config(self) -> dict[str, Any]:
        return {
            "return_sequences": self.return_sequences,
            "return_state": self.return_state,
            "go_backwards": self.go_backwards,
            "stateful": self.stateful,
            "unroll": self.unroll,
            "zero_output_for_mask": self.zero_output_for_mask,
        }

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(self._rnn_config())
        config["cell"] = serialize_keras_object(self.cell)
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any], custom_objects: dict | None = None) -> RNN:
        config = dict(config)
        cell = deserialize_keras_object(config.pop("cell"), custom_objects=custom_objects)
        return cls(cell, **config)

    def extra_repr(self) -> str:
        return (
            f"name={self.name!r}, return_sequences={self.return_sequences}, return_state={self.return_state}, "
            f"go_backwards={self.go_backwards}"
        )


class CellRNN(RNN):
    """Base of ``SimpleRNN``/``LSTM``/``GRU``: builds its cell from the layer arguments, exposes the cell's
    hyperparameters as properties and flattens the cell config into the layer config, as Keras does."""

    _cell_class: type = BaseRNNCell
    _cell_name = "cell"
    _exact_rank = 3

    def __init__(
        self,
        cell_kwargs: dict[str, Any],
        return_sequences: bool = False,
        return_state: bool = False,
        go_backwards: bool = False,
        stateful: bool = False,
        unroll: bool = False,
        activity_regularizer: Any = None,
        **kwargs: Any,
    ) -> None:
        cell = self._cell_class(
            **cell_kwargs, dtype=kwargs.get("dtype"), trainable=kwargs.get("trainable", True), name=self._cell_name
        )
        super().__init__(
            cell,
            return_sequences=return_sequences,
            return_state=return_state,
            go_backwards=go_backwards,
            stateful=stateful,
            unroll=unroll,
            activity_regularizer=activity_regularizer,
            **kwargs,
        )
        self.input_spec = InputSpec(ndim=3)

    def __getattr__(self, name: str) -> Any:
        # hyperparameters (units, activation, dropout, ...) live on the cell, as Keras's properties
        if name in _CELL_ATTRS:
            return getattr(self._modules["cell"], name)
        return super().__getattr__(name)

    def get_config(self) -> dict[str, Any]:
        config = Layer.get_config(self)
        config.update(self._rnn_config())
        config.update(self._layer_config())
        return config

    # The cell hyperparameters each subclass shows in its config, in Keras's key order: the keys before
    # ``activity_regularizer`` and the keys after it.
    _config_keys_head: tuple[str, ...] = ()
    _config_keys_tail: tuple[str, ...] = ()

    def _layer_config(self) -> dict[str, Any]:
        cfg = self.cell._cell_config()
        config = {k: cfg[k] for k in self._config_keys_head}
        config["activity_regularizer"] = self._activity_regularizer_config()
        config.update({k: cfg[k] for k in self._config_keys_tail})
        return config

    def _activity_regularizer_config(self) -> Any:
        return serialization.serialize_keras_object(self.activity_regularizer)

    @classmethod
    def from_config(cls, config: dict[str, Any], custom_objects: dict | None = None) -> CellRNN:
        return cls(**config)


_CELL_ATTRS = frozenset(
    {
        "units",
        "activation",
        "recurrent_activation",
        "use_bias",
        "unit_forget_bias",
        "kernel_initializer",
        "recurrent_initializer",
        "bias_initializer",
        "kernel_regularizer",
        "recurrent_regularizer",
        "bias_regularizer",
        "kernel_constraint",
        "recurrent_constraint",
        "bias_constraint",
        "dropout",
        "recurrent_dropout",
        "reset_after",
        "seed",
    }
)
