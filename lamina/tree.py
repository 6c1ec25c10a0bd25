"""``keras.tree``: the one module that walks nested structures (lists, tuples, dicts, namedtuples).

Every part of Lamina that flattens, maps or packs a nested structure (model inputs and outputs, batches,
configs, shapes) uses these functions, so the order of leaves is the same everywhere. The conventions are
Keras's on the torch backend:

* ``list``, ``tuple``, namedtuples, ``collections.deque`` and ``torch.Size`` are nested in order;
* ``dict`` and ``defaultdict`` are visited by **sorted key**; ``OrderedDict`` in insertion order;
* ``None`` is a leaf; any other type (including subclasses of list/dict) is a leaf unless registered with
  :func:`register_tree_node_class`.

Example:
    >>> from lamina import tree
    >>> tree.flatten({"b": [1, 2], "a": (3, None)})
    [3, None, 1, 2]
    >>> tree.map_structure(lambda x: x * 10, {"b": 1, "a": [2]})
    {'b': 10, 'a': [20]}
    >>> tree.pack_sequence_as({"b": 0, "a": 0}, ["first", "second"])
    {'a': 'first', 'b': 'second'}
"""

from __future__ import annotations

import collections
from collections.abc import Callable, Sequence
from typing import Any

import torch

__all__ = [
    "MAP_TO_NONE",
    "assert_same_paths",
    "assert_same_structure",
    "flatten",
    "flatten_with_path",
    "is_nested",
    "lists_to_tuples",
    "map_shape_structure",
    "map_structure",
    "map_structure_up_to",
    "pack_sequence_as",
    "register_tree_node_class",
    "traverse",
]


class MAP_TO_NONE:  # noqa: N801 - Keras's name
    """Returned by a :func:`traverse` function to replace a sub-structure with ``None``."""


_SEQUENCES = (list, tuple, collections.deque, torch.Size)
_MAPPINGS = (dict, collections.defaultdict, collections.OrderedDict)
# Registered classes: cls -> (flatten(obj) -> (children, aux), unflatten(aux, children) -> obj)
_REGISTERED: dict[type, tuple[Callable[[Any], tuple[list, Any]], Callable[[Any, list], Any]]] = {}


def register_tree_node_class(cls: type) -> type:
    """Class decorator: instances of ``cls`` become nested structures.

    ``cls`` defines ``tree_flatten(self) -> (children, aux_data)`` and a classmethod
    ``tree_unflatten(cls, aux_data, children)`` (the optree/JAX convention Keras documents).
    """
    if not (hasattr(cls, "tree_flatten") and hasattr(cls, "tree_unflatten")):
        raise TypeError(
            f"register_tree_node_class expects a class with `tree_flatten` and `tree_unflatten` methods. "
            f"Received: {cls!r}"
        )
    _REGISTERED[cls] = (lambda obj: obj.tree_flatten(), cls.tree_unflatten)
    return cls


def _is_namedtuple(x: Any) -> bool:
    return isinstance(x, tuple) and hasattr(type(x), "_fields")


def is_nested(structure: Any) -> bool:
    """Whether ``structure`` is a sequence, mapping or namedtuple (or a registered class), not a leaf.

    Example:
        >>> from lamina import tree
        >>> tree.is_nested(42), tree.is_nested({"foo": 42})
        (False, True)
    """
    t = type(structure)
    return t in _SEQUENCES or t in _MAPPINGS or t in _REGISTERED or _is_namedtuple(structure)


def _keys(mapping: Any) -> list[Any]:
    if type(mapping) is collections.OrderedDict:
        return list(mapping)
    try:
        return sorted(mapping)
    except TypeError as e:
        raise TypeError(
            f"Nested structures need sortable dict keys to have a deterministic order. Received keys: {list(mapping)!r}"
        ) from e


def _children(structure: Any) -> list[Any]:
    """The direct children of a nested structure, in tree order."""
    t = type(structure)
    if t in _MAPPINGS:
        return [structure[k] for k in _keys(structure)]
    if t in _REGISTERED:
        return list(_REGISTERED[t][0](structure)[0])
    return list(structure)


def _child_keys(structure: Any) -> list[Any]:
    """The path element of each child: the key for mappings, the index otherwise."""
    t = type(structure)
    if t in _MAPPINGS:
        return _keys(structure)
    if _is_namedtuple(structure):
        # Keras on torch numbers namedtuple fields by their sorted names
        order = {name: i for i, name in enumerate(sorted(type(structure)._fields))}
        return [order[name] for name in type(structure)._fields]
    return list(range(len(_children(structure))))


def _rebuild(template: Any, children: Sequence[Any], sort_keys: bool = True) -> Any:
    """A structure of ``template``'s type holding ``children`` (given in tree order)."""
    t = type(template)
    if t in _MAPPINGS:
        keys = _keys(template)
        items = dict(zip(keys, children, strict=True))
        order = keys if sort_keys else list(template)
        if t is collections.defaultdict:
            return collections.defaultdict(template.default_factory, {k: items[k] for k in order})
        return t((k, items[k]) for k in order)
    if t in _REGISTERED:
        aux = _REGISTERED[t][0](template)[1]
        return _REGISTERED[t][1](aux, list(children))
    if _is_namedtuple(template):
        return t(*children)
    if t is collections.deque:
        return collections.deque(children, maxlen=template.maxlen)
    return t(children)


def flatten(structure: Any) -> list[Any]:
    """The leaves of ``structure`` as a list, in tree order (dicts by sorted key).

    Example:
        >>> from lamina import tree
        >>> tree.flatten([(1, 2), {"b": 3, "a": 4}, None])
        [1, 2, 4, 3, None]
    """
    if not is_nested(structure):
        return [structure]
    out: list[Any] = []
    stack = [structure]
    while stack:
        s = stack.pop()
        if is_nested(s):
            stack.extend(reversed(_children(s)))
        else:
            out.append(s)
    return out


def flatten_with_path(structure: Any) -> list[tuple[tuple, Any]]:
    """``(path, leaf)`` pairs in tree order; a path is the tuple of indices and keys leading to the leaf.

    Example:
        >>> from lamina import tree
        >>> tree.flatten_with_path({"foo": [42, 7]})
        [(('foo', 0), 42), (('foo', 1), 7)]
    """
    out: list[tuple[tuple, Any]] = []

    def walk(s: Any, path: tuple) -> None:
        if not is_nested(s):
            out.append((path, s))
            return
        for key, child in zip(_child_keys(s), _children(s), strict=True):
            walk(child, (*path, key))

    walk(structure, ())
    return out


def _same_kind(a: Any, b: Any) -> bool:
    if type(a) in _MAPPINGS and type(b) in _MAPPINGS:
        return True
    return type(a) is type(b)


def _structure_error(a: Any, b: Any, why: str) -> ValueError:
    return ValueError(f"The two structures don't have the same nested structure: {why}. Received: {a!r} and {b!r}")


def _check_node(a: Any, b: Any) -> None:
    """Raises unless ``a`` and ``b`` are the same kind of node with the same keys/arity (one level)."""
    if not _same_kind(a, b):
        raise _structure_error(a, b, f"node type {type(a).__name__} vs {type(b).__name__}")
    if type(a) in _MAPPINGS:
        if set(a) != set(b):
            raise _structure_error(a, b, f"keys {sorted(map(str, a))} vs {sorted(map(str, b))}")
    elif len(_children(a)) != len(_children(b)):
        raise _structure_error(a, b, f"{len(_children(a))} vs {len(_children(b))} items")


def assert_same_structure(a: Any, b: Any, check_types: Any = None) -> None:
    """Raises ``ValueError`` unless ``a`` and ``b`` nest the same way (``dict`` kinds count as one type).

    Example:
        >>> from lamina import tree
        >>> tree.assert_same_structure([1, (2, 3)], [4, (5, 6)])
    """
    del check_types  # deprecated in Keras, no effect
    if is_nested(a) != is_nested(b):
        raise _structure_error(a, b, "a leaf against a nested structure")
    if not is_nested(a):
        return
    _check_node(a, b)
    for ca, cb in zip(_children(a), _children(b), strict=True):
        assert_same_structure(ca, cb)


def assert_same_paths(a: Any, b: Any) -> None:
    """Raises ``ValueError`` unless ``a`` and ``b`` have the same leaf paths (container types ignored)."""
    a_paths = {p for p, _ in flatten_with_path(a)}
    b_paths = {p for p, _ in flatten_with_path(b)}
    if a_paths != b_paths:
        raise ValueError(
            "`a` and `b` don't have the same paths. "
            f"Paths in `a` missing in `b`: {sorted(map(str, a_paths - b_paths))}. "
            f"Paths in `b` missing in `a`: {sorted(map(str, b_paths - a_paths))}."
        )


def map_structure(func: Callable[..., Any], *structures: Any, none_is_leaf: bool = True) -> Any:
    """Applies ``func`` to the leaves of one or more structures of the same layout.

    The result has the layout of the first structure (dict keys in its own order).

    Raises:
        ValueError: if the structures do not match.

    Example:
        >>> from lamina import tree
        >>> tree.map_structure(lambda x, y: x + y, [1, (2,)], [10, (20,)])
        [11, (22,)]
    """
    if not structures:
        raise ValueError("map_structure needs at least one structure.")
    if not callable(func):
        raise TypeError(f"map_structure expects a callable `func`. Received: func={func!r}")
    first = structures[0]
    if len(structures) == 1:
        return _map_one(func, first, none_is_leaf)
    if not is_nested(first):
        for other in structures[1:]:
            if is_nested(other):
                raise _structure_error(first, other, "a leaf against a nested structure")
        if first is None and not none_is_leaf:
            if any(s is not None for s in structures[1:]):
                raise ValueError(f"Structure mismatch: some arguments are None, others are not. Received: {structures}")
            return None
        return func(*structures)
    for other in structures[1:]:
        if not is_nested(other):
            raise _structure_error(first, other, "a nested structure against a leaf")
        _check_node(first, other)
    if type(first) in _MAPPINGS:
        keys = list(first)
        mapped = {k: map_structure(func, *(s[k] for s in structures), none_is_leaf=none_is_leaf) for k in keys}
        return _rebuild(first, [mapped[k] for k in _keys(first)], sort_keys=False)
    columns = zip(*(_children(s) for s in structures), strict=True)
    return _rebuild(first, [map_structure(func, *c, none_is_leaf=none_is_leaf) for c in columns])


def _map_one(func: Callable[[Any], Any], s: Any, none_is_leaf: bool) -> Any:
    if not is_nested(s):
        return None if (s is None and not none_is_leaf) else func(s)
    return _rebuild(s, [_map_one(func, c, none_is_leaf) for c in _children(s)], sort_keys=False)


def map_structure_up_to(shallow_structure: Any, func: Callable[..., Any], *structures: Any) -> Any:
    """Like :func:`map_structure`, but only as deep as ``shallow_structure``; deeper parts go to ``func`` whole.

    Example:
        >>> from lamina import tree
        >>> tree.map_structure_up_to([1, 2], str, [[1, 1], [2, 2]])
        ['[1, 1]', '[2, 2]']
    """
    if not structures:
        raise ValueError("map_structure_up_to needs at least one structure.")

    def walk(shallow: Any, parts: tuple) -> Any:
        if not is_nested(shallow):
            return func(*parts)
        for p in parts:
            if not is_nested(p):
                raise _structure_error(shallow, p, "the structure is shallower than `shallow_structure`")
            _check_node(shallow, p)
        if type(shallow) in _MAPPINGS:
            keys = _keys(shallow)
            return _rebuild(shallow, [walk(shallow[k], tuple(p[k] for p in parts)) for k in keys], sort_keys=False)
        columns = zip(*(_children(p) for p in parts), strict=True)
        return _rebuild(shallow, [walk(c, tuple(ps)) for c, ps in zip(_children(shallow), columns, strict=True)])

    return walk(shallow_structure, structures)


def pack_sequence_as(structure: Any, flat_sequence: Sequence[Any]) -> Any:
    """Packs ``flat_sequence`` into the layout of ``structure`` (dicts come back with sorted keys).

    Raises:
        TypeError: if ``flat_sequence`` is not a sequence.
        ValueError: if its length differs from the number of leaves of ``structure``.
    """
    if not isinstance(flat_sequence, (list, tuple)) and not hasattr(flat_sequence, "__len__"):
        raise TypeError(f"pack_sequence_as expects a flat sequence. Received: flat_sequence={flat_sequence!r}")
    flat = list(flat_sequence)
    n_leaves = len(flatten(structure))
    if n_leaves != len(flat):
        raise ValueError(
            f"pack_sequence_as: the structure has {n_leaves} leaves but the flat sequence has {len(flat)} items. "
            f"Received: structure={structure!r}"
        )
    it = iter(flat)

    def build(s: Any) -> Any:
        if not is_nested(s):
            return next(it)
        return _rebuild(s, [build(c) for c in _children(s)])

    return build(structure)


def traverse(func: Callable[[Any], Any], structure: Any, top_down: bool = True) -> Any:
    """Applies ``func`` to every sub-structure, parents first (``top_down``) or children first.

    Top-down, a non-``None`` result replaces that sub-structure and stops the descent; bottom-up, a
    non-``None`` result replaces it. Return :class:`MAP_TO_NONE` to put ``None`` in its place.
    """
    if not callable(func):
        raise TypeError(f"traverse expects a callable `func`. Received: func={func!r}")

    def finish(value: Any) -> Any:
        return None if value is MAP_TO_NONE else value

    def walk(s: Any) -> Any:
        if top_down:
            ret = func(s)
            if ret is not None:
                return finish(ret)
            return _rebuild(s, [walk(c) for c in _children(s)]) if is_nested(s) else s
        rebuilt = _rebuild(s, [walk(c) for c in _children(s)]) if is_nested(s) else s
        ret = func(rebuilt)
        return rebuilt if ret is None else finish(ret)

    return walk(structure)


def lists_to_tuples(structure: Any) -> Any:
    """The same structure with every list turned into a tuple."""
    return traverse(lambda s: tuple(s) if type(s) is list else None, structure, top_down=False)


def _is_shape(x: Any) -> bool:
    return isinstance(x, (list, tuple)) and all(isinstance(e, (int, type(None))) for e in x)


def map_shape_structure(func: Callable[[Any], Any], structure: Any) -> Any:
    """:func:`map_structure` where a list/tuple of ints and ``None`` (a shape) counts as one leaf.

    Example:
        >>> from lamina import tree
        >>> tree.map_shape_structure(len, {"y": [(2, 2), (4,)], "x": (None, 3)})
        {'x': 2, 'y': [2, 1]}
    """

    def walk(s: Any) -> Any:
        if _is_shape(s) or not is_nested(s):
            return func(s)
        return _rebuild(s, [walk(c) for c in _children(s)])  # dicts come back by sorted key, as in Keras

    return walk(structure)
