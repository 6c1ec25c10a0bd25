"""``lamina.saving.atomic``: the public home of :func:`atomic_write`.

The implementation lives on the ground floor (:mod:`lamina.backend.atomic`) so that callbacks and utilities
below the file formats can write files the same safe way.
"""

from lamina.backend.atomic import atomic_write

__all__ = ["atomic_write"]
