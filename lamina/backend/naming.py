"""Object names: ``dense``, ``dense_1``, ... unique per process, as Keras names them."""

from __future__ import annotations

import collections
import re

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
