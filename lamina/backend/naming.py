"""Object names: ``dense``, ``dense_1``, ... unique per process, as Keras names them."""

from __future__ import annotations

import collections
import re
import threading
from typing import Any

_uids: collections.defaultdict[str, int] = collections.defaultdict(int)


def to_snake_case(name: str) -> str:
    """``"MaxPooling2D"`` -> ``"max_pooling2d"``."""
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


def uniquify(name: str) -> str:
    """The first ``name`` is kept as is, later ones get ``_1``, ``_2``, ..."""
    count = _uids[name]
    _uids[name] += 1
    return name if count == 0 else f"{name}_{count}"


def auto_name(prefix: str) -> str:
    return uniquify(to_snake_case(prefix))


def reset_uids() -> None:
    """Forget every name handed out (``lamina.backend.clear_session`` calls this)."""
    _uids.clear()


def get_uid(prefix: str = "") -> int:
    """Counts calls per ``prefix``: 1, 2, 3... (the same counter that numbers layer names).

    Example:
        >>> from lamina.backend import get_uid
        >>> get_uid("my_prefix"), get_uid("my_prefix")
        (1, 2)
    """
    if not isinstance(prefix, str):
        raise TypeError(f"`prefix` must be a string. Received: prefix={prefix!r}")
    _uids[prefix] += 1
    return _uids[prefix]


# --------------------------------------------------------------------------- name scopes
_scopes = threading.local()


class _ScopeEntry(str):
    """A name on the scope stack: a plain string to readers, plus the scope's caller and absolute parent."""

    caller: Any = None
    override_parent: str | None = None


def scope_stack() -> list[str]:
    """This thread's open name scopes, outermost first (layers push their name while building)."""
    s = getattr(_scopes, "stack", None)
    if s is None:
        s = _scopes.stack = []
    return s


def caller_entry(name: str, caller: Any) -> str:
    """The scope-stack entry a layer pushes for its own scope, as Keras's ``name_scope(layer.name, caller=layer)``:
    it names the caller, so only the same layer reopening it is deduplicated (a user's scope of the same name is
    not)."""
    entry = _ScopeEntry(name)
    entry.caller = caller
    return entry


def scope_is_open_for(caller: Any) -> bool:
    """Whether the innermost open scope is ``caller``'s own (pushed with :func:`caller_entry`)."""
    stack = scope_stack()
    return bool(stack) and getattr(stack[-1], "caller", None) is caller


def reset_name_scopes() -> None:
    _scopes.stack = []


def current_path() -> str:
    """The ``/``-joined open name scopes (``""`` outside any), the prefix of new variables' paths."""
    parts: list[str] = []
    for entry in scope_stack():
        parent = getattr(entry, "override_parent", None)
        if parent is not None:
            parts = [p for p in parent.split("/") if p]
        parts.append(str(entry))
    return "/".join(parts)


class name_scope:  # noqa: N801 - Keras's name, used as `with keras.name_scope("block"):`
    """Opens a sub-namespace for variable paths: variables made inside get ``"<scope>/<name>"`` paths.

    Args:
        name: the scope's name (no ``/``).
        caller: the object opening the scope (a layer); with ``deduplicate``, the same caller reopening the
            scope it is already in does not nest it again.
        deduplicate: see ``caller``.
        override_parent: an absolute path that replaces the enclosing scopes.

    Example:
        >>> import lamina
        >>> with lamina.name_scope("outer"):
        ...     with lamina.name_scope("inner"):
        ...         v = lamina.Variable(1.0, name="v")
        >>> v.path
        'outer/inner/v'
    """

    def __init__(
        self, name: str, caller: Any = None, deduplicate: bool = True, override_parent: str | None = None
    ) -> None:
        if not isinstance(name, str) or "/" in name:
            raise ValueError(
                f"Argument `name` must be a string and cannot contain character `/`. Received: name={name!r}"
            )
        if override_parent is not None and not isinstance(override_parent, str):
            raise TypeError(
                f"`override_parent` must be a string path or None. Received: override_parent={override_parent!r}"
            )
        self.name = name
        self.caller = caller
        self.deduplicate = deduplicate
        self.override_parent = override_parent
        self._pop_on_exit = False

    def __enter__(self) -> name_scope:
        stack = scope_stack()
        if self.deduplicate and stack and self.caller is not None:
            top = stack[-1]
            if getattr(top, "caller", None) is self.caller and str(top) == self.name:
                return self
        entry = _ScopeEntry(self.name)
        entry.caller = self.caller
        entry.override_parent = self.override_parent
        stack.append(entry)
        self._pop_on_exit = True
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._pop_on_exit:
            stack = scope_stack()
            if stack:
                stack.pop()
            self._pop_on_exit = False
