"""Versions: the Keras API Lamina follows, and Lamina's own release.

``keras.__version__`` and ``keras.version()`` report the Keras release whose API Lamina follows (3.15.1),
so a program that checks the Keras version sees the API it gets; Lamina's own release number is
``lamina.__lamina_version__`` (and the installed package's metadata).

Example:
    >>> import lamina as keras
    >>> keras.version(), keras.__version__
    ('3.15.1', '3.15.1')
"""

KERAS_VERSION = "3.15.1"  # names, signatures, defaults and file formats follow this Keras release
LAMINA_VERSION = "0.1.0"

__version__ = KERAS_VERSION


def version() -> str:
    """The Keras version whose API Lamina follows (``"3.15.1"``)."""
    return KERAS_VERSION
