"""Ops called on symbolic tensors: each public op, given a ``KerasTensor``, records one ``OpLayer`` node of the
functional graph instead of failing, as ``keras.ops`` does."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

from lamina import tree
from lamina.backend.naming import auto_name
from lamina.ops.core import SymbolicInputError, _is_symbolic
from lamina.ops.operation import Operation


class _Slot:
    """Where the ``i``-th symbolic argument goes when an op recorded in a graph is replayed."""

    __slots__ = ("i",)

    def __init__(self, i: int) -> None:
        self.i = i


def _replace_symbolic(s: Any, found: list[Any]) -> Any:
    """``s`` with each symbolic tensor replaced by a ``_Slot`` numbering it in ``found``."""

    def slot(leaf: Any) -> Any:
        if not _is_symbolic(leaf):
            return leaf
        found.append(leaf)
        return _Slot(len(found) - 1)

    return tree.map_structure(slot, s)


def _fill(s: Any, values: Sequence[Any]) -> Any:
    return tree.map_structure(lambda leaf: values[leaf.i] if isinstance(leaf, _Slot) else leaf, s)


class OpLayer(Operation):
    """One ``lamina.ops`` call on symbolic tensors, recorded as a node of a functional graph."""

    def __init__(self, fn: Callable[..., Any], template: tuple, name: str | None = None) -> None:
        super().__init__(name=name or auto_name(fn.__name__))
        self.fn = fn
        self.template = template

    def call(self, *tensors: Any) -> Any:
        args, kwargs = _fill(self.template, tensors)
        return self.fn(*args, **kwargs)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config["function"] = self.fn.__name__
        return config


def symbolic_aware(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Wraps an op so that symbolic ``KerasTensor`` arguments record a graph node instead of failing."""

    @functools.wraps(fn)
    def op(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except SymbolicInputError:
            found: list[Any] = []
            template = _replace_symbolic((args, kwargs), found)
            if not found:
                raise
            return OpLayer(fn, template)(*found)

    op._lamina_op = fn  # type: ignore[attr-defined]
    return op
