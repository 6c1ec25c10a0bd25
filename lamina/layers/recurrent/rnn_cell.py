"""The cell side of recurrent layers: ``BaseRNNCell`` (weights and one step) and per-sequence dropout masks.

Also the argument checks and mask helpers shared by SimpleRNN, LSTM and GRU."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from lamina import activations, backend, constraints, initializers, regularizers, serialization
from lamina.layers.layer import Layer


def check_use_cudnn(value: Any) -> Any:
    """``use_cudnn`` is accepted for Keras compatibility (PyTorch picks its kernels) and validated as Keras does."""
    if value not in ("auto", True, False):
        raise ValueError(
            "Invalid valid received for argument `use_cudnn`. Expected one of {'auto', True, "
            f"False}}. Received: use_cudnn={value}"
        )
    return value


def _is_nested(x: Any) -> bool:
    return isinstance(x, (list, tuple))


def _pack_like(structure: Any, flat: list[Any]) -> Any:
    """Puts the leaves ``flat`` back into the nested list/tuple ``structure``."""
    it = iter(flat)

    def rebuild(s: Any) -> Any:
        if isinstance(s, (list, tuple)):
            return type(s)(rebuild(v) for v in s)
        return next(it)

    return rebuild(structure)


def validate_units(units: Any) -> int:
    if isinstance(units, bool) or not isinstance(units, (int, np.integer)) or units <= 0:
        raise ValueError(
            "Received an invalid value for argument `units`, expected a positive integer, "
            f"got {units}. Received: units={units!r}"
        )
    return int(units)


class DropoutRNNCell:
    """Mixin caching one dropout mask per sequence (the same mask at every timestep), as Keras does.

    The cell has ``dropout``, ``recurrent_dropout`` and ``seed``; with ``dropout_mask_count``
    set (LSTM/GRU ``implementation=1``) each gate gets its own mask.
    """

    def _dropout_generator(self, device: torch.device) -> torch.Generator | None:
        seed = getattr(self, "seed", None)
        if seed is None:
            return None
        gens = self.__dict__.setdefault("_generators", {})
        key = str(device)
        if key not in gens:
            g = torch.Generator(device=device)
            g.manual_seed(int(seed))
            gens[key] = g
        return gens[key]

    def _create_dropout_mask(self, step_input: torch.Tensor, rate: float) -> Any:
        count = getattr(self, "dropout_mask_count", None)
        gen = self._dropout_generator(step_input.device)
        keep = 1.0 - rate

        def one() -> torch.Tensor:
            probs = torch.full(tuple(step_input.shape), keep, dtype=step_input.dtype, device=step_input.device)
            return torch.bernoulli(probs, generator=gen) / keep

        return one() if count is None else [one() for _ in range(count)]

    def get_dropout_mask(self, step_input: torch.Tensor) -> Any:
        """The input dropout mask (created on first use, then reused until reset)."""
        if self.__dict__.get("_dropout_mask") is None and self.dropout > 0:
            self.__dict__["_dropout_mask"] = self._create_dropout_mask(step_input, self.dropout)
        return self.__dict__.get("_dropout_mask")

    def get_recurrent_dropout_mask(self, step_input: torch.Tensor) -> Any:
        """The recurrent-state dropout mask (created on first use, then reused until reset)."""
        if self.__dict__.get("_recurrent_dropout_mask") is None and self.recurrent_dropout > 0:
            self.__dict__["_recurrent_dropout_mask"] = self._create_dropout_mask(step_input, self.recurrent_dropout)
        return self.__dict__.get("_recurrent_dropout_mask")

    def reset_dropout_mask(self) -> None:
        self.__dict__["_dropout_mask"] = None

    def reset_recurrent_dropout_mask(self) -> None:
        self.__dict__["_recurrent_dropout_mask"] = None


class BaseRNNCell(Layer, DropoutRNNCell):
    """Shared base of ``SimpleRNNCell``/``LSTMCell``/``GRUCell``: weights ``kernel`` (in, gates*units),
    ``recurrent_kernel`` (units, gates*units) and ``bias``; subclasses give ``_gates`` and the step math.

    The step is split in two so the ``RNN`` layer can batch the first part over all timesteps:
    ``_input_projection(x)`` (``x @ kernel + input bias``, for ``(batch, features)`` or
    ``(batch, time, features)``) and ``_recurrent_step(projected_x_t, states)``.
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
        units = validate_units(units)
        super().__init__(**kwargs)
        self.units = units
        self.activation = activations.get(activation)
        self.use_bias = use_bias
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.recurrent_initializer = initializers.get(recurrent_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.recurrent_regularizer = regularizers.get(recurrent_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.recurrent_constraint = constraints.get(recurrent_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.dropout = min(1.0, max(0.0, float(dropout)))
        self.recurrent_dropout = min(1.0, max(0.0, float(recurrent_dropout)))
        self.seed = seed
        self.output_size = units
        self.kernel = None
        self.recurrent_kernel = None
        self.bias = None

    # -- weights ----------------------------------------------------------------
    def _bias_shape(self) -> tuple[int, ...]:
        return (self._gates * self.units,)

    def _bias_initializer(self) -> Any:
        return self.bias_initializer

    def build(self, input_shape: tuple) -> None:
        input_dim = input_shape[-1]
        if input_dim is None:
            raise self._error(
                "a known last axis", f"input_shape={tuple(input_shape)}", "Give the input a defined feature size."
            )
        n = self._gates * self.units
        self.kernel = self.add_weight(
            shape=(input_dim, n),
            name="kernel",
            initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint,
        )
        self.recurrent_kernel = self.add_weight(
            shape=(self.units, n),
            name="recurrent_kernel",
            initializer=self.recurrent_initializer,
            regularizer=self.recurrent_regularizer,
            constraint=self.recurrent_constraint,
        )
        if self.use_bias:
            self.bias = self.add_weight(
                shape=self._bias_shape(),
                name="bias",
                initializer=self._bias_initializer(),
                regularizer=self.bias_regularizer,
                constraint=self.bias_constraint,
            )
        else:
            self.bias = None
        self.built = True

    # -- step math --------------------------------------------------------------
    def _input_bias(self) -> torch.Tensor | None:
        return self.bias

    def _masks(self, mask: Any, x: torch.Tensor) -> list[torch.Tensor]:
        """One mask per gate (a single mask is shared); masks are (batch, features), x may carry time."""
        masks = mask if isinstance(mask, list) else [mask] * self._gates
        return [m.unsqueeze(1) if x.ndim == 3 else m for m in masks]

    def _input_projection(self, x: torch.Tensor, training: bool = False) -> torch.Tensor:
        """``x @ kernel + input_bias`` (with input dropout in training) for (B, F) or (B, T, F) inputs."""
        bias = self._input_bias()
        if training and 0.0 < self.dropout < 1.0:
            step = x[:, 0] if x.ndim == 3 else x
            masks = self._masks(self.get_dropout_mask(step), x)
            if all(m is masks[0] for m in masks):
                out = (x * masks[0]) @ self.kernel
            else:
                k = self.kernel.chunk(self._gates, dim=1)
                out = torch.cat([(x * m) @ kg for m, kg in zip(masks, k)], dim=-1)
            return out if bias is None else out + bias
        if bias is None:
            return x @ self.kernel
        if x.ndim == 2:
            return torch.addmm(bias, x, self.kernel)
        return x @ self.kernel + bias

    def _recurrent_masks(self, h: torch.Tensor, training: bool) -> list[torch.Tensor] | None:
        if training and 0.0 < self.recurrent_dropout < 1.0:
            return self._masks(self.get_recurrent_dropout_mask(h), h)
        return None

    def _recurrent_step(
        self, xp: torch.Tensor, states: list[torch.Tensor], training: bool = False
    ) -> tuple[torch.Tensor, list[torch.Tensor]]:
        raise NotImplementedError

    def _can_fuse(self, sequences: torch.Tensor, training: bool) -> bool:
        """Whether ``_fused_sequence`` (a fused PyTorch kernel) computes exactly this cell's math."""
        return False

    def _fused_inputs(self, sequences: torch.Tensor, go_backwards: bool, training: bool) -> torch.Tensor:
        x = sequences
        if training and 0.0 < self.dropout < 1.0:  # one input mask for the whole sequence
            x = x * self.get_dropout_mask(x[:, 0]).unsqueeze(1)
        return x.flip(1) if go_backwards else x.contiguous()

    def _fusable(self, sequences: torch.Tensor, training: bool) -> bool:
        # in training, recurrent dropout or per-gate input masks need the step loop
        dropout_ok = not training or (
            self.recurrent_dropout == 0 and (self.dropout == 0 or getattr(self, "dropout_mask_count", None) is None)
        )
        return (
            self.activation is activations.tanh
            and getattr(self, "recurrent_activation", None) is activations.sigmoid
            and dropout_ok
            and self.kernel is not None
            and sequences.device.type != "meta"
            and (sequences.dtype in (torch.float32, torch.float64) or sequences.is_cuda)
            and self.kernel.dtype == sequences.dtype
        )

    def _fused_sequence(
        self, sequences: torch.Tensor, states: list[torch.Tensor], go_backwards: bool, training: bool
    ) -> tuple[torch.Tensor, list[torch.Tensor]]:
        raise NotImplementedError

    @staticmethod
    def _pack_params(params: list[torch.Tensor], device: torch.device) -> list[torch.Tensor]:
        """On CUDA, views into one flat buffer in cuDNN's order (w_ih, w_hh, b_ih, b_hh), so cuDNN uses them
        as they are instead of warning and compacting them on every call."""
        if device.type != "cuda":
            return [p.contiguous() for p in params]
        flat = torch.cat([p.reshape(-1) for p in params])
        out, start = [], 0
        for p in params:
            out.append(flat[start : start + p.numel()].view(p.shape))
            start += p.numel()
        return out

    def call(self, inputs: torch.Tensor, states: Any, training: bool = False) -> tuple[torch.Tensor, Any]:
        nested = _is_nested(states)
        state_list = list(states) if nested else [states]
        out, new_states = self._recurrent_step(self._input_projection(inputs, training), state_list, training)
        return out, (new_states if nested or len(new_states) > 1 else new_states[0])

    # -- states -----------------------------------------------------------------
    @property
    def _state_sizes(self) -> list[int]:
        s = self.state_size
        return list(s) if _is_nested(s) else [s]

    def get_initial_state(self, batch_size: int | None = None) -> list[torch.Tensor]:
        """Zero states, one ``(batch_size, size)`` tensor per state."""
        dtype = backend.torch_dtype(self.compute_dtype)
        return [torch.zeros((batch_size, d), dtype=dtype, device=self._device()) for d in self._state_sizes]

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(self._cell_config())
        return config

    def _cell_config(self) -> dict[str, Any]:
        return {
            "units": self.units,
            "activation": activations.serialize(self.activation),
            "use_bias": self.use_bias,
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "recurrent_initializer": initializers.serialize(self.recurrent_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "kernel_regularizer": serialization.serialize_keras_object(self.kernel_regularizer),
            "recurrent_regularizer": serialization.serialize_keras_object(self.recurrent_regularizer),
            "bias_regularizer": serialization.serialize_keras_object(self.bias_regularizer),
            "kernel_constraint": serialization.serialize_keras_object(self.kernel_constraint),
            "recurrent_constraint": serialization.serialize_keras_object(self.recurrent_constraint),
            "bias_constraint": serialization.serialize_keras_object(self.bias_constraint),
            "dropout": self.dropout,
            "recurrent_dropout": self.recurrent_dropout,
            "seed": self.seed,
        }

    def extra_repr(self) -> str:
        return f"name={self.name!r}, units={self.units}"


def as_mask(mask: Any, device: torch.device) -> torch.Tensor:
    """A boolean torch mask from a tensor, array or list."""
    if not isinstance(mask, torch.Tensor):
        mask = torch.as_tensor(np.asarray(mask))
    return mask.to(device=device, dtype=torch.bool)


def _expand(m: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """(batch,) mask -> broadcastable to ``like``."""
    return m.reshape(m.shape[0], *([1] * (like.ndim - 1)))
