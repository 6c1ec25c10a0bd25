"""The operations behind Python operators on symbolic tensors: ``x + y``, ``x * 2``, ``x[:, 0]``, ``abs(x)``...

In a functional graph each operator becomes one node whose operation is named and serialized as
Keras names and serializes its ``keras.ops`` classes: ``add (Add)``, ``multiply (Multiply)``,
``get_item (GetItem)``, written as ``{"module": "keras.src.ops.numpy", "class_name": "Add",
"config": {"name": "add"}, "registered_name": "Add"}``, so summaries and model files match Keras's.
The operations hold no weights; a functional model lists them in ``operations``, not in ``layers``.

Example:
    >>> import lamina
    >>> a, b = lamina.Input(shape=(4,)), lamina.Input(shape=(4,))
    >>> y = (a + b)[:, 0]
    >>> y.shape, y._keras_history[0].name, type(y._keras_history[0]).__name__
    ((None,), 'get_item', 'GetItem')
"""

from __future__ import annotations

import operator
from typing import Any

import torch

from lamina.layers.layer import Layer

KERAS_MODULE = "keras.src.ops.numpy"


def _logical(fn: Any) -> Any:
    def apply(a: Any, b: Any) -> torch.Tensor:
        device = a.device if isinstance(a, torch.Tensor) else getattr(b, "device", None)
        return fn(torch.as_tensor(a, device=device), torch.as_tensor(b, device=device))

    return apply


def _getitem(x: Any, key: Any) -> Any:
    # a key read back from a config is a list; numpy/torch read a list as fancy indexing, Keras means a tuple
    return x[tuple(key) if isinstance(key, list) else key]


class SymbolicOp(Layer):
    """Base of the operator operations: no weights, integer and boolean tensors kept as they are."""

    _autocast_inputs = False
    _keep_int_inputs = True
    _fn: Any = None

    def __init__(self, name: str | None = None, **kwargs: Any) -> None:
        super().__init__(name=name, **kwargs)
        self.built = True

    def call(self, *args: Any) -> Any:
        return type(self)._fn(*args)

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name}

    def serialize(self) -> dict[str, Any]:
        """Keras's entry for this operation in a functional config."""
        name = type(self).__name__
        return {"module": KERAS_MODULE, "class_name": name, "config": self.get_config(), "registered_name": name}


class Round(SymbolicOp):
    """``round(x, decimals)``: the one operator operation with an argument of its own."""

    def __init__(self, decimals: int = 0, name: str | None = None, **kwargs: Any) -> None:
        super().__init__(name=name, **kwargs)
        self.decimals = int(decimals)

    def call(self, x: torch.Tensor) -> torch.Tensor:
        return torch.round(x, decimals=self.decimals)

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, "decimals": self.decimals}


def _op_class(name: str, fn: Any) -> type:
    return type(
        name,
        (SymbolicOp,),
        {
            "_fn": staticmethod(fn),
            "__module__": __name__,
            "__doc__": f"The ``{name}`` operation of a functional graph.",
        },
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


def apply(class_name: str, *args: Any, **config: Any) -> Any:
    """Records ``class_name(**config)`` applied to ``args`` (symbolic tensors among them), as Keras's
    ``ops.Add().symbolic_call(x, y)`` does."""
    return OPERATIONS[class_name](**config)(*args)


def is_operation(layer: Any) -> bool:
    """Whether ``layer`` is a weightless operation of a graph (an operator, or a ``lamina.ops`` call) that
    Keras lists among a model's operations but not its layers."""
    return isinstance(layer, SymbolicOp) or (
        type(layer).__name__ == "OpLayer" and type(layer).__module__.startswith("lamina.ops")
    )
