"""The symbolic graph: ``KerasTensor``, ``Node`` and ``Operation``, the base of every layer and graph op.

``keras.Input(shape=(4,))`` returns a ``KerasTensor``; calling an operation (a layer, a ``lamina.ops``
function, or a Python operator such as ``x + y``) on one records a ``Node`` and returns new
``KerasTensor``s, which is how ``Sequential`` knows its output shapes and how the functional ``Model``
finds its graph. Output shapes come from ``compute_output_spec``: by default a run of ``call`` on
weightless "meta" tensors, with unknown sizes probed twice.

The Python operators record weightless operations named and serialized as Keras names its ``keras.ops``
classes (``add (Add)``, ``get_item (GetItem)``, written as ``{"module": "keras.src.ops.numpy",
"class_name": "Add", ...}``), so summaries and model files match Keras's; a functional model lists them
in ``operations``, not in ``layers``.

Example:
    >>> import lamina
    >>> a, b = lamina.Input(shape=(4,)), lamina.Input(shape=(4,))
    >>> y = (a + b)[:, 0]
    >>> y.shape, y._keras_history[0].name, type(y._keras_history[0]).__name__
    ((None,), 'get_item', 'GetItem')
"""

from __future__ import annotations

import itertools
import operator
from typing import Any

import torch
from torch import nn
from torch.func import functional_call

from lamina import backend, tree
from lamina.backend.core import register_symbolic_type
from lamina.backend.naming import auto_name
from lamina.backend.symbolic_scope import SymbolicScope

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
        self,
        shape: tuple[int | None, ...],
        dtype: Any = "float32",
        sparse: bool = False,
        ragged: bool = False,
        record_history: bool = True,
        name: str | None = None,
        **kwargs: Any,
    ) -> None:
        if kwargs:
            raise TypeError(f"Unexpected keyword arguments for KerasTensor: {sorted(kwargs)}")
        if ragged:
            raise ValueError(
                "Ragged tensors are not supported: Lamina's tensors are dense torch tensors. Received: ragged=True"
            )
        if shape is None or not hasattr(shape, "__iter__"):
            raise ValueError(f"A KerasTensor needs a shape (a tuple of ints and None). Received: shape={shape!r}")
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
        return OPERATIONS[class_name](**config)(*args)

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


register_symbolic_type(KerasTensor)  # `backend.is_keras_tensor` knows it without importing upward


def any_symbolic(structure: Any) -> bool:
    """Whether any leaf of ``structure`` is a ``KerasTensor``."""
    return any(isinstance(t, KerasTensor) for t in tree.flatten(structure))


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
            if t._keras_history is None:  # a bare KerasTensor (a `keras.Function` input): no producing node
                continue
            layer, node_index, _ = t._keras_history
            nodes.append(layer._inbound_nodes[node_index])
        return nodes

    def __repr__(self) -> str:
        return f"<Node operation={self.operation.name}>"


class Operation(nn.Module):
    """A named computation that can be called on tensors or recorded in a graph on ``KerasTensor``s.

    Layers are operations with weights and Keras's layer contract; the weightless operations of a
    functional graph (Python operators, ``lamina.ops`` calls) are plain operations.

    Example:
        >>> import torch
        >>> from lamina.ops.operation import Operation
        >>> class Twice(Operation):
        ...     def call(self, x):
        ...         return 2 * x
        >>> Twice()(torch.ones(2)).tolist()
        [2.0, 2.0]
    """

    def __init__(self, name: str | None = None) -> None:
        nn.Module.__init__(self)
        if name is not None and (not isinstance(name, str) or "/" in name or not name):
            raise ValueError(f"An operation name must be a non-empty string without '/'. Received: name={name!r}")
        d = self.__dict__
        d["name"] = name or auto_name(type(self).__name__)
        d["_inbound_nodes"] = []
        d.setdefault("built", True)

    def call(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} does not implement call().")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if any_symbolic((args, kwargs)):
            return self._symbolic_call(args, kwargs)
        return self.call(*args, **kwargs)

    def _device(self) -> torch.device:
        for t in self.parameters():
            return t.device
        for t in self.buffers():
            return t.device
        return backend.default_device()

    # ------------------------------------------------------------------ symbolic
    def _symbolic_call(self, args: tuple, kwargs: dict) -> Any:
        """Records this call as a ``Node`` and returns fresh ``KerasTensor``s for its outputs."""
        outputs_spec = self.compute_output_spec(*args, **kwargs)
        outputs = tree.map_structure(
            lambda s: KerasTensor(s.shape, s.dtype) if isinstance(s, KerasTensor) else s, outputs_spec
        )
        node = Node(self, args, dict(kwargs), [o for o in tree.flatten(outputs) if isinstance(o, KerasTensor)])
        node_index = len(self._inbound_nodes)
        self._inbound_nodes.append(node)
        for i, o in enumerate(node.outputs):
            o._keras_history = (self, node_index, i)
        return outputs

    def compute_output_spec(self, *args: Any, **kwargs: Any) -> Any:
        """Output ``KerasTensor``s for symbolic arguments (by default from a run on meta tensors)."""
        return meta_run(self, args, kwargs)

    # ------------------------------------------------------------------ graph accessors
    def _node_attr(self, attr: str, what: str) -> Any:
        if not self._inbound_nodes:
            raise AttributeError(
                f'Layer "{self.name}" ({type(self).__name__}) has no defined {what}: it has never been called '
                "on a symbolic input. Give the model an `Input` or call it on data first."
            )
        return self._node_value(0, attr)  # the first call's, as in Keras (`get_output_at(i)` for the others)

    def _node_value(self, index: int, attr: str) -> Any:
        node = self._inbound_nodes[index]
        if attr == "output":
            return node.outputs[0] if len(node.outputs) == 1 else list(node.outputs)
        ins = node.input_tensors
        return ins[0] if len(ins) == 1 else list(ins)

    @property
    def input(self) -> Any:
        return self._node_attr("input", "input")

    @property
    def output(self) -> Any:
        return self._node_attr("output", "output")

    def get_output_at(self, index: int) -> Any:
        return self._node_value(index, "output")

    def get_input_at(self, index: int) -> Any:
        return self._node_value(index, "input")

    # ------------------------------------------------------------------ weights (none)
    @property
    def weights(self) -> list[Any]:
        """An operation has no weights (layers override this)."""
        return []

    trainable_weights = non_trainable_weights = weights

    def count_params(self) -> int:
        return 0

    # ------------------------------------------------------------------ config
    def get_config(self) -> dict[str, Any]:
        return {"name": self.name}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Operation:
        return cls(**config)


def is_shape(s: Any) -> bool:
    """Whether ``s`` is one shape (a list/tuple of ints and ``None``), not a structure of shapes."""
    return isinstance(s, (tuple, list)) and all(d is None or isinstance(d, int) for d in s)


def shapes_to_tensors(shape: Any, dtype: str) -> Any:
    """``KerasTensor``s of ``dtype`` for a shape or a structure of shapes."""
    return tree.map_shape_structure(lambda s: KerasTensor(tuple(s), dtype) if is_shape(s) else s, shape)


_PROBES = (83, 89)


def meta_run(op: nn.Module, args: tuple, kwargs: dict) -> Any:
    """Runs ``op`` on meta tensors to learn its output shapes; sizes that are unknown are probed twice
    and come back as ``None``."""
    with SymbolicScope():  # layers may ask `in_symbolic_scope()`, as under Keras's shape inference
        results = [_meta_probe(op, args, kwargs, probe) for probe in _PROBES]

    def merge(a: Any, b: Any) -> Any:
        if isinstance(a, torch.Tensor):
            shape = tuple(None if da != db else da for da, db in zip(a.shape, b.shape, strict=True))
            return KerasTensor(shape, backend.standardize_dtype(a.dtype))
        return a

    return tree.map_structure(merge, *results)


def _meta_probe(op: nn.Module, args: tuple, kwargs: dict, probe: int) -> Any:
    """One run of ``op`` with unknown sizes set to ``probe`` (on meta tensors, else a small real run)."""

    def to_meta(t: Any, probe: int = probe) -> Any:
        if isinstance(t, KerasTensor):
            shape = tuple(probe if d is None else d for d in t.shape)
            return torch.empty(shape, dtype=backend.torch_dtype(t.dtype), device="meta")
        return t

    margs = tree.map_structure(to_meta, args)
    mkwargs = tree.map_structure(to_meta, kwargs)
    state = {k: torch.empty_like(v, device="meta") for k, v in list(op.named_parameters()) + list(op.named_buffers())}
    try:
        return functional_call(op, state, margs, mkwargs, strict=False)
    except Exception:  # noqa: BLE001 - fall back to a small real run below
        return _real_run(op, args, kwargs, probe=2 if probe == 83 else 3)


def _real_run(op: Any, args: tuple, kwargs: dict, probe: int) -> Any:
    device = op._device()

    def to_real(t: Any) -> Any:
        if isinstance(t, KerasTensor):
            shape = tuple(probe if d is None else d for d in t.shape)
            return torch.zeros(shape, dtype=backend.torch_dtype(t.dtype), device=device)
        return t

    with torch.no_grad():
        return op(*tree.map_structure(to_real, args), **tree.map_structure(to_real, kwargs))


# ---------------------------------------------------------------------------- operator operations
KERAS_MODULE = "keras.src.ops.numpy"


def _logical(fn: Any) -> Any:
    def apply(a: Any, b: Any) -> torch.Tensor:
        device = a.device if isinstance(a, torch.Tensor) else getattr(b, "device", None)
        return fn(torch.as_tensor(a, device=device), torch.as_tensor(b, device=device))

    return apply


def _getitem(x: Any, key: Any) -> Any:
    # a key read back from a config is a list; numpy/torch read a list as fancy indexing, Keras means a tuple
    return x[tuple(key) if isinstance(key, list) else key]


class SymbolicOp(Operation):
    """Base of the operator operations (``x + y``, ``x[:, 0]``...): weightless, dtypes kept as they are."""

    _fn: Any = None

    def call(self, *args: Any) -> Any:
        return type(self)._fn(*args)

    def serialize(self) -> dict[str, Any]:
        """Keras's entry for this operation in a functional config."""
        name = type(self).__name__
        return {"module": KERAS_MODULE, "class_name": name, "config": self.get_config(), "registered_name": name}


class Round(SymbolicOp):
    """``round(x, decimals)``: the one operator operation with an argument of its own."""

    def __init__(self, decimals: int = 0, name: str | None = None) -> None:
        super().__init__(name=name)
        self.decimals = int(decimals)

    def call(self, x: torch.Tensor) -> torch.Tensor:
        return torch.round(x, decimals=self.decimals)

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, "decimals": self.decimals}


def _op_class(name: str, fn: Any) -> type:
    return type(
        name,
        (SymbolicOp,),
        {"_fn": staticmethod(fn), "__module__": __name__, "__doc__": f"The ``{name}`` operation of a graph."},
    )


OPERATIONS: dict[str, type] = {
    name: _op_class(name, fn)
    for name, fn in {
        "Add": operator.add,
        "Subtract": operator.sub,
        "Multiply": operator.mul,
        "Matmul": torch.matmul,
        "Divide": operator.truediv,
        "TrueDivide": operator.truediv,
        "Negative": operator.neg,
        "Absolute": operator.abs,
        "Power": operator.pow,
        "FloorDivide": operator.floordiv,
        "Mod": operator.mod,
        "Less": operator.lt,
        "LessEqual": operator.le,
        "Greater": operator.gt,
        "GreaterEqual": operator.ge,
        "NotEqual": operator.ne,
        "LogicalAnd": _logical(torch.logical_and),
        "LogicalOr": _logical(torch.logical_or),
        "LogicalXor": _logical(torch.logical_xor),
        "LogicalNot": torch.logical_not,
        "GetItem": _getitem,
    }.items()
}
OPERATIONS["Round"] = Round
