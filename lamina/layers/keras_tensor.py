"""Symbolic tensors (``KerasTensor``) and the graph ``Node`` that records a layer call on them.

``keras.Input(shape=(4,))`` returns a ``KerasTensor``; calling a layer on one builds the
layer and returns new ``KerasTensor``s that remember the call, which is how ``Sequential``
knows its output shapes and how the functional ``Model`` finds its graph.
"""

from __future__ import annotations

import itertools
from typing import Any

from lamina import backend

_ids = itertools.count()


class KerasTensor:
    """A shape and dtype standing for a tensor that does not exist yet.

    Example:
        >>> import lamina
        >>> x = lamina.Input(shape=(4,))
        >>> x.shape, x.dtype
        ((None, 4), 'float32')
    """

    def __init__(self, shape: tuple[int | None, ...], dtype: Any = "float32", name: str | None = None,
                 sparse: bool = False) -> None:
        self.shape = tuple(None if d is None else int(d) for d in shape)
        self.dtype = backend.standardize_dtype(dtype)
        n = next(_ids)
        self.name = name or ("keras_tensor" if n == 0 else f"keras_tensor_{n}")
        self.sparse = sparse
        self._keras_history: tuple[Any, int, int] | None = None
        self._keras_mask: KerasTensor | None = None

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def __repr__(self) -> str:
        return f"<KerasTensor shape={self.shape}, dtype={self.dtype}, name={self.name}>"

    def __len__(self) -> int:
        raise TypeError("A symbolic KerasTensor has no length: it stands for data that does not exist yet.")

    def __bool__(self) -> bool:
        raise TypeError("A symbolic KerasTensor cannot be used as a Python bool.")

    def __array__(self, *args: Any, **kwargs: Any) -> Any:
        raise TypeError(
            "A symbolic KerasTensor cannot be converted to a NumPy array: it stands for data that does not "
            "exist yet. Call the model on real data instead."
        )

    # Operators on symbolic tensors go through TFOpLambda-like layers in the functional API.
    def _op(self, name: str, *args: Any) -> KerasTensor:
        from lamina.layers.core import _SymbolicOp

        return _SymbolicOp(name)(self, *args)

    def __add__(self, o): return self._op("add", o)
    def __radd__(self, o): return self._op("radd", o)
    def __sub__(self, o): return self._op("sub", o)
    def __rsub__(self, o): return self._op("rsub", o)
    def __mul__(self, o): return self._op("mul", o)
    def __rmul__(self, o): return self._op("rmul", o)
    def __truediv__(self, o): return self._op("truediv", o)
    def __rtruediv__(self, o): return self._op("rtruediv", o)
    def __matmul__(self, o): return self._op("matmul", o)
    def __pow__(self, o): return self._op("pow", o)
    def __neg__(self): return self._op("neg")
    def __getitem__(self, idx): return self._op("getitem", idx)


class Node:
    """One call of ``operation`` on symbolic ``args``/``kwargs`` producing ``outputs``."""

    def __init__(self, operation: Any, args: tuple, kwargs: dict, outputs: list[KerasTensor]) -> None:
        self.operation = operation
        self.arguments = (args, kwargs)
        self.outputs = outputs
        self.input_tensors = [t for t in _flatten((args, kwargs)) if isinstance(t, KerasTensor)]
        self.is_input = not self.input_tensors

    @property
    def parent_nodes(self) -> list[Node]:
        nodes = []
        for t in self.input_tensors:
            layer, node_index, _ = t._keras_history
            nodes.append(layer._inbound_nodes[node_index])
        return nodes

    def __repr__(self) -> str:
        return f"<Node operation={self.operation.name}>"


def _flatten(structure: Any) -> list[Any]:
    out: list[Any] = []
    stack = [structure]
    while stack:
        s = stack.pop()
        if isinstance(s, (list, tuple)):
            stack.extend(reversed(s))
        elif isinstance(s, dict):
            stack.extend(reversed(list(s.values())))
        else:
            out.append(s)
    return out


def flatten(structure: Any) -> list[Any]:
    """Leaves of nested lists/tuples/dicts, in order (dict values in insertion order)."""
    return _flatten(structure)


def map_structure(fn: Any, structure: Any) -> Any:
    if isinstance(structure, list):
        return [map_structure(fn, s) for s in structure]
    if isinstance(structure, tuple):
        return tuple(map_structure(fn, s) for s in structure)
    if isinstance(structure, dict):
        return {k: map_structure(fn, v) for k, v in structure.items()}
    return fn(structure)


def any_symbolic(structure: Any) -> bool:
    return any(isinstance(t, KerasTensor) for t in _flatten(structure))
