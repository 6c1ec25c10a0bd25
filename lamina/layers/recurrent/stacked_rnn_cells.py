"""``StackedRNNCells``: several RNN cells run as one, each feeding the next within a timestep."""

from __future__ import annotations

from typing import Any

import torch

from lamina import backend
from lamina.layers.layer import Layer, build_child
from lamina.layers.recurrent.rnn_cell import BaseRNNCell, _is_nested
from lamina.serialization import deserialize_keras_object, serialize_keras_object
from lamina.tree import flatten


class StackedRNNCells(Layer):
    """Wraps a list of RNN cells so that ``RNN`` runs them as one stacked cell.

    Args:
        cells: list of RNN cells; the output of each is the input of the next.

    Example:
        >>> import torch, lamina
        >>> cells = [lamina.layers.LSTMCell(4), lamina.layers.GRUCell(3)]
        >>> lamina.layers.RNN(cells)(torch.ones(2, 5, 6)).shape
        torch.Size([2, 3])
    """

    def __init__(self, cells: list[Any], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        for cell in cells:
            if "call" not in dir(cell):
                raise ValueError(f"All cells must have a `call` method. Received cell without a `call` method: {cell}")
            if "state_size" not in dir(cell):
                raise ValueError(
                    f"All cells must have a `state_size` attribute. Received cell without a `state_size`: {cell}"
                )
        self.cells = list(cells)

    @property
    def state_size(self) -> list[Any]:
        return [c.state_size for c in self.cells]

    @property
    def output_size(self) -> int:
        last = self.cells[-1]
        if getattr(last, "output_size", None) is not None:
            return last.output_size
        if _is_nested(last.state_size):
            return last.state_size[0]
        return last.state_size

    def get_initial_state(self, batch_size: int | None = None) -> list[Any]:
        states = []
        dtype = backend.torch_dtype(self.compute_dtype)
        for cell in self.cells:
            fn = getattr(cell, "get_initial_state", None)
            if fn is not None:
                states.append(fn(batch_size=batch_size))
            elif isinstance(cell.state_size, int):
                states.append(torch.zeros((batch_size, cell.state_size), dtype=dtype, device=self._device()))
            else:
                states.append(
                    [torch.zeros((batch_size, d), dtype=dtype, device=self._device()) for d in cell.state_size]
                )
        return states

    def call(self, inputs: torch.Tensor, states: Any, training: bool = False, **kwargs: Any) -> tuple[Any, Any]:
        new_states = []
        for cell, cell_states in zip(self.cells, states):
            was_list = _is_nested(cell_states)
            cell_states = list(cell_states) if was_list else [cell_states]
            if isinstance(cell, Layer) and cell._call_has_training:
                kwargs["training"] = training
            else:
                kwargs.pop("training", None)
            if isinstance(cell, BaseRNNCell) or not isinstance(cell, Layer):
                fn = cell.call
            else:
                fn = cell
            inputs, cell_states = fn(inputs, cell_states, **kwargs)
            if not _is_nested(cell_states):
                cell_states = [cell_states]
            if len(cell_states) == 1 and not was_list:
                cell_states = cell_states[0]
            new_states.append(cell_states)
        if len(new_states) == 1:
            new_states = new_states[0]
        return inputs, new_states

    def build(self, input_shape: tuple) -> None:
        for cell in self.cells:
            build_child(self, cell, input_shape)
            if getattr(cell, "output_size", None) is not None:
                output_dim = cell.output_size
            elif _is_nested(cell.state_size):
                output_dim = cell.state_size[0]
            else:
                output_dim = cell.state_size
            input_shape = (flatten(input_shape)[0], output_dim)
        self.built = True

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config["cells"] = [serialize_keras_object(c) for c in self.cells]
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any], custom_objects: dict | None = None) -> StackedRNNCells:
        config = dict(config)
        cells = [deserialize_keras_object(c, custom_objects=custom_objects) for c in config.pop("cells")]
        return cls(cells, **config)
