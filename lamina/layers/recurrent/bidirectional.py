"""``Bidirectional``: runs a recurrent layer forwards and a copy backwards, and merges the two outputs."""

from __future__ import annotations

import copy
from typing import Any

import torch

from lamina.layers.layer import Layer, build_child
from lamina.serialization import deserialize_keras_object, serialize_keras_object

_MERGE_MODES = ("sum", "mul", "ave", "concat", None)


def _merge(mode: str | None, y: torch.Tensor, y_rev: torch.Tensor) -> Any:
    if mode == "concat":
        return torch.cat([y, y_rev], dim=-1)
    if mode == "sum":
        return y + y_rev
    if mode == "ave":
        return (y + y_rev) / 2
    if mode == "mul":
        return y * y_rev
    return [y, y_rev]


class Bidirectional(Layer):
    """Bidirectional wrapper for RNNs.

    The wrapped layer's config is cloned into ``forward_<name>`` and ``backward_<name>``
    (``go_backwards=True``) sublayers; their weights come forward first, then backward.

    Args:
        layer: a recurrent layer (``LSTM``, ``GRU``, ``SimpleRNN``, ``RNN``), or any layer with
            ``go_backwards``, ``return_sequences`` and ``return_state`` attributes and a config.
        merge_mode: ``"concat"`` (default), ``"sum"``, ``"mul"``, ``"ave"`` or ``None`` (a list of both).
        backward_layer: optional layer for the backward direction (opposite ``go_backwards``, same
            ``stateful``/``return_sequences``/``return_state``).

    Call arguments:
        as the wrapped layer; ``initial_state``: forward states first, then backward states.

    Example:
        >>> import torch, lamina
        >>> bi = lamina.layers.Bidirectional(lamina.layers.LSTM(4, return_sequences=True, name="lstm"))
        >>> bi(torch.ones(2, 5, 3)).shape
        torch.Size([2, 5, 8])
        >>> [w.path for w in bi.weights][:1]
        ['bidirectional/forward_lstm/lstm_cell/kernel']
    """

    def __init__(
        self,
        layer: Layer,
        merge_mode: str | None = "concat",
        weights: Any = None,
        backward_layer: Layer | None = None,
        **kwargs: Any,
    ) -> None:
        if not isinstance(layer, Layer):
            raise ValueError(
                f"Please initialize `Bidirectional` layer with a `keras.layers.Layer` instance. Received: {layer}"
            )
        if backward_layer is None and not hasattr(layer, "go_backwards"):
            # the backward copy is made from the config with go_backwards flipped: only recurrent layers have it
            raise ValueError(
                "`Bidirectional` wraps a recurrent layer (RNN, LSTM, GRU, ...) or takes a `backward_layer`. "
                f"Received: layer={type(layer).__name__} (name {layer.name!r}), which has no `go_backwards`."
            )
        if backward_layer is not None and not isinstance(backward_layer, Layer):
            raise ValueError(f"`backward_layer` need to be a `keras.layers.Layer` instance. Received: {backward_layer}")
        if merge_mode not in _MERGE_MODES:
            raise ValueError(
                f"Invalid merge mode. Received: merge_mode={merge_mode!r}. Merge mode should be one of "
                '{"sum", "mul", "ave", "concat", None}'
            )
        super().__init__(**kwargs)
        config = serialize_keras_object(layer)
        config["config"]["name"] = f"forward_{layer.name.removeprefix('forward_')}"
        self.forward_layer = deserialize_keras_object(config)
        if backward_layer is None:
            config = serialize_keras_object(layer)
            config["config"]["go_backwards"] = True
            config["config"]["name"] = f"backward_{layer.name.removeprefix('backward_')}"
            self.backward_layer = deserialize_keras_object(config)
        else:
            self.backward_layer = backward_layer
        if hasattr(layer, "use_cudnn"):
            self.forward_layer.use_cudnn = layer.use_cudnn
            self.backward_layer.use_cudnn = layer.use_cudnn
        self._verify_layer_config()
        for sub in (self.forward_layer, self.backward_layer):
            if getattr(sub, "zero_output_for_mask", None) is not None:
                # masked timesteps output zeros so the two directions merge cleanly
                sub.zero_output_for_mask = sub.return_sequences
        self.merge_mode = merge_mode
        if weights:
            n = len(weights)
            self.forward_layer.__dict__["_initial_weights"] = list(weights[: n // 2])
            self.backward_layer.__dict__["_initial_weights"] = list(weights[n // 2 :])
        self.stateful = layer.stateful
        self.return_sequences = layer.return_sequences
        self.return_state = layer.return_state
        self.supports_masking = True
        self.input_spec = layer.input_spec

    def _verify_layer_config(self) -> None:
        fwd, bwd = self.forward_layer, self.backward_layer
        if fwd.go_backwards == bwd.go_backwards:
            raise ValueError(
                "Forward layer and backward layer should have different `go_backwards` value. Received: "
                f"forward_layer.go_backwards {fwd.go_backwards}, "
                f"backward_layer.go_backwards={bwd.go_backwards}"
            )
        for a in ("stateful", "return_sequences", "return_state"):
            if getattr(fwd, a) != getattr(bwd, a):
                raise ValueError(
                    f"Forward layer and backward layer are expected to have the same value for attribute "
                    f'"{a}", got "{getattr(fwd, a)}" for forward layer and "{getattr(bwd, a)}" for '
                    "backward layer"
                )

    def build(self, sequences_shape: tuple, initial_state_shape: Any = None) -> None:
        build_child(self, self.forward_layer, sequences_shape)
        build_child(self, self.backward_layer, sequences_shape)
        self.built = True

    def call(
        self, sequences: torch.Tensor, initial_state: Any = None, mask: Any = None, training: bool | None = None
    ) -> Any:
        kwargs: dict[str, Any] = {}
        if self.forward_layer._call_has_training:
            kwargs["training"] = training
        if self.forward_layer._call_has_mask:
            kwargs["mask"] = mask
        if initial_state is not None:
            half = len(initial_state) // 2
            forward_state, backward_state = list(initial_state[:half]), list(initial_state[half:])
        else:
            forward_state = backward_state = None
        y = self.forward_layer(sequences, initial_state=forward_state, **kwargs)
        y_rev = self.backward_layer(sequences, initial_state=backward_state, **kwargs)
        states: list[Any] = []
        if self.return_state:
            states = list(y[1:]) + list(y_rev[1:])
            y, y_rev = y[0], y_rev[0]
        if self.return_sequences:
            y_rev = torch.flip(y_rev, dims=[1])  # back to input order
        output = _merge(self.merge_mode, y, y_rev)
        if self.return_state:
            return (output if self.merge_mode is None else [output]) + states
        return output

    def compute_output_shape(self, sequences_shape: tuple, initial_state_shape: Any = None) -> Any:
        output_shape = self.forward_layer.compute_output_shape(sequences_shape)
        state_shape: list[Any] = []
        if self.return_state:
            output_shape, state_shape = output_shape[0], list(output_shape[1:])
        output_shape = tuple(output_shape)
        if self.merge_mode == "concat":
            output_shape = (*output_shape[:-1], output_shape[-1] * 2)
        if self.merge_mode is None:
            outputs = [output_shape, output_shape]
        else:
            outputs = [output_shape] if self.return_state else output_shape
        if self.return_state:
            return outputs + state_shape + state_shape
        return outputs

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        if isinstance(mask, list):
            mask = mask[0]
        if self.return_sequences:
            output_mask = [mask, mask] if not self.merge_mode else mask
        else:
            output_mask = [None, None] if not self.merge_mode else None
        if self.return_state:
            n_states = len(getattr(self.forward_layer, "state_size", None) or []) * 2
            head = output_mask if isinstance(output_mask, list) else [output_mask]
            return head + [None] * n_states
        return output_mask

    def reset_state(self) -> None:
        if not self.stateful:
            raise AttributeError("Layer must be stateful.")
        self.forward_layer.reset_state()
        self.backward_layer.reset_state()

    def reset_states(self) -> None:
        self.reset_state()

    @property
    def states(self) -> Any:
        fwd = getattr(self.forward_layer, "states", None)
        bwd = getattr(self.backward_layer, "states", None)
        if fwd and bwd:
            return tuple(list(fwd) + list(bwd))
        return None

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config["merge_mode"] = self.merge_mode
        config["layer"] = serialize_keras_object(self.forward_layer)
        config["backward_layer"] = serialize_keras_object(self.backward_layer)
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any], custom_objects: dict | None = None) -> Bidirectional:
        config = copy.deepcopy(config)
        config["layer"] = deserialize_keras_object(config["layer"], custom_objects=custom_objects)
        backward = config.pop("backward_layer", None)
        if backward is not None:
            config["backward_layer"] = deserialize_keras_object(backward, custom_objects=custom_objects)
        return cls(**config)

    def extra_repr(self) -> str:
        return f"name={self.name!r}, merge_mode={self.merge_mode!r}"
