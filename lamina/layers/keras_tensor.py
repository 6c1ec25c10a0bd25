"""Symbolic tensors (``KerasTensor``) and the graph ``Node`` that records a layer call on them.

``keras.Input(shape=(4,))`` returns a ``KerasTensor``; calling a layer on one builds the
layer and returns new ``KerasTensor``s that remember the call, which is how ``Sequential``
knows its output shapes and how the functional ``Model`` finds its graph.
"""

from __future__ import annotations

import itertools
from typing import Any

from lamina import backend, tree

_ids = itertools.count()


class KerasTensor:
    """A shape and dtype standing for a tensor that does not exist yet.

    Example:
        >>> import lamina
        >>> x = lamina.Input(shape=(4,))
        >>> x.shape, x.dtype
        ((None, 4), 'float32')
    """

    def __init__(
        self, shape: tuple[int | None, ...], dtype: Any = "float32", name: str | None = None, sparse: bool = False
    ) -> None:
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

    def __iter__(self) -> Any:  # without it, `__getitem__` would make `a, b = x` index forever
        raise NotImplementedError("Iterating over a symbolic KerasTensor is not supported.")

    def __array__(self, *args: Any, **kwargs: Any) -> Any:
        raise TypeError(
            "A symbolic KerasTensor cannot be converted to a NumPy array: it stands for data that does not "
            "exist yet. Call the model on real data instead."
        )

    # Python operators record one operation each, named and serialized as Keras's (`add (Add)`, ...).
    def _op(self, class_name: str, *args: Any, **config: Any) -> KerasTensor:
        from lamina.layers import symbolic_ops

        return symbolic_ops.apply(class_name, *args, **config)

    def __add__(self, o):
        return self._op("Add", self, o)

    def __radd__(self, o):
        return self._op("Add", o, self)

    def __sub__(self, o):
        return self._op("Subtract", self, o)

    def __rsub__(self, o):
        return self._op("Subtract", o, self)

    def __mul__(self, o):
        return self._op("Multiply", self, o)

    def __rmul__(self, o):
        return self._op("Multiply", o, self)

    def __matmul__(self, o):
        return self._op("Matmul", self, o)

    def __rmatmul__(self, o):
        return self._op("Matmul", o, self)

    def __truediv__(self, o):
        return self._op("TrueDivide", self, o)

    def __rtruediv__(self, o):
        return self._op("TrueDivide", o, self)

    def __neg__(self):
        return self._op("Negative", self)

    def __abs__(self):
        return self._op("Absolute", self)

    def __pow__(self, o):
        return self._op("Power", self, o)

    def __rpow__(self, o):
        return self._op("Power", o, self)

    def __floordiv__(self, o):
        return self._op("FloorDivide", self, o)

    def __rfloordiv__(self, o):
        return self._op("FloorDivide", o, self)

    def __mod__(self, o):
        return self._op("Mod", self, o)

    def __rmod__(self, o):
        return self._op("Mod", o, self)

    def __lt__(self, o):
        return self._op("Less", self, o)

    def __le__(self, o):
        return self._op("LessEqual", self, o)

    def __gt__(self, o):
        return self._op("Greater", self, o)

    def __ge__(self, o):
        return self._op("GreaterEqual", self, o)

    def __ne__(self, o):
        return self._op("NotEqual", self, o)

    def __and__(self, o):
        return self._op("LogicalAnd", self, o)

    def __rand__(self, o):
        return self._op("LogicalAnd", o, self)

    def __or__(self, o):
        return self._op("LogicalOr", self, o)

    def __ror__(self, o):
        return self._op("LogicalOr", o, self)

    def __xor__(self, o):
        return self._op("LogicalXor", self, o)

    def __rxor__(self, o):
        return self._op("LogicalXor", o, self)

    def __invert__(self):
        return self._op("LogicalNot", self)

    def __getitem__(self, key):
        return self._op("GetItem", self, key)

    def __round__(self, ndigits=None):
        return self._op("Round", self, decimals=ndigits or 0)

    __hash__ = object.__hash__  # `!=` builds a graph node, identity stays the hash and `==`


class Node:
    """One call of ``operation`` on symbolic ``args``/``kwargs`` producing ``outputs``."""

    def __init__(self, operation: Any, args: tuple, kwargs: dict, outputs: list[KerasTensor]) -> None:
        self.operation = operation
        self.arguments = (args, kwargs)
        self.outputs = outputs
        self.input_tensors = [t for t in tree.flatten((args, kwargs)) if isinstance(t, KerasTensor)]
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


def any_symbolic(structure: Any) -> bool:
    return any(isinstance(t, KerasTensor) for t in tree.flatten(structure))
