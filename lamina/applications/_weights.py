"""Where the pretrained files come from: Keras's URLs and hashes, cached where Keras caches them."""

from __future__ import annotations

from lamina.utils import get_file


def fetch(fname: str, origin: str, file_hash: str | None = None) -> str:
    """The local path of ``fname`` in ``~/.keras/models``, downloaded from ``origin`` if not cached yet.

    A file Keras already downloaded is used as is (same folder, same name, same hash check).
    """
    return get_file(fname, origin, cache_subdir="models", file_hash=file_hash)
