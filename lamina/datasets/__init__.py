"""Small real datasets that ship inside the package (no downloads at run time)."""

from lamina.datasets import digits

__all__ = ["digits"]
