"""``SymbolicScope``: marks code running on symbolic inputs (shape inference), as Keras's scope does.

Lamina enters it while it infers a layer's output shapes from symbolic ``KerasTensor``s, so a layer's
``call`` can skip work that only makes sense on real data (``in_symbolic_scope()`` is then ``True``).

Example:
    >>> import lamina
    >>> from lamina.backend.symbolic_scope import in_symbolic_scope
    >>> with lamina.SymbolicScope():
    ...     in_symbolic_scope()
    True
    >>> in_symbolic_scope()
    False
"""

from __future__ import annotations

import threading
from typing import Any

_state = threading.local()


class SymbolicScope:
    """Scope in which Lamina is computing on symbolic tensors (``KerasTensor`` shape inference)."""

    def __enter__(self) -> SymbolicScope:
        self.original_scope = get_symbolic_scope()
        _state.scope = self
        return self

    def __exit__(self, *exc: Any) -> None:
        _state.scope = self.original_scope


def get_symbolic_scope() -> SymbolicScope | None:
    """The innermost open ``SymbolicScope``, or ``None``."""
    return getattr(_state, "scope", None)


def in_symbolic_scope() -> bool:
    """Whether code runs inside a ``SymbolicScope``."""
    return get_symbolic_scope() is not None
