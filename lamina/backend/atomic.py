"""Atomic file writes: a crash mid-save never leaves a half-written file behind.

Everything Lamina writes (``model.save``, ``save_weights``, checkpoints) goes through
:func:`atomic_write`: the data is written to a temporary file in the target's folder,
flushed and ``fsync``-ed, then moved over the target with ``os.replace`` (atomic on
POSIX and Windows). Until that rename, the previous file is untouched.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator


def _fsync_path(path: str) -> None:
    with open(path, "rb+") as f:
        f.flush()
        os.fsync(f.fileno())


def _fsync_dir(folder: str) -> None:
    if not hasattr(os, "O_DIRECTORY"):  # Windows: directories cannot be opened for fsync
        return
    try:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_write(filepath: str | os.PathLike) -> Iterator[str]:
    """Yields a temporary path next to ``filepath``; on success it atomically replaces ``filepath``.

    Write the whole file to the yielded path inside the block. When the block ends
    without an exception the temporary file is flushed to disk and renamed over
    ``filepath``; on an exception (or if the process dies) it is removed and
    ``filepath`` keeps its previous content.

    Example:
        >>> import os, tempfile
        >>> from lamina.backend.atomic import atomic_write
        >>> target = os.path.join(tempfile.mkdtemp(), "notes.txt")
        >>> with atomic_write(target) as tmp:
        ...     with open(tmp, "w") as f:
        ...         _ = f.write("hello")
        >>> open(target).read()
        'hello'
    """
    target = os.path.abspath(os.fspath(filepath))
    folder = os.path.dirname(target)
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"Cannot write {target!r}: the folder {folder!r} does not exist.")
    base = os.path.basename(target)
    # the temp name keeps the extension: some writers (torch.export.save) look at it
    fd, tmp = tempfile.mkstemp(prefix=f".{base}.", suffix=f".tmp{os.path.splitext(base)[1]}", dir=folder)
    os.close(fd)
    try:
        yield tmp
        _fsync_path(tmp)
        if os.path.exists(target):
            try:  # keep the permissions of the file being replaced
                os.chmod(tmp, os.stat(target).st_mode & 0o7777)
            except OSError:
                pass
        else:
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, target)
        _fsync_dir(folder)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(tmp)
        raise
