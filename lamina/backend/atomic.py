"""Atomic file writes: a crash mid-save never leaves a half-written file behind.

Everything Lamina writes (``model.save``, ``save_weights``, checkpoints) goes through
:func:`atomic_write`: the data is written to a temporary file in the target's folder,
flushed and ``fsync``-ed, then moved over the target with ``os.replace`` (atomic on
POSIX and Windows). Until that rename, the previous file is untouched.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import socket
import tempfile
import time
from collections.abc import Iterator

# A temp file's name says who writes it: ``.<target>.<host>-<pid>.<random>.tmp<ext>``. A later save to the
# same target removes the temp files of writers on this host that are no longer alive (a SIGKILL skips
# every cleanup), and never one whose writer still runs.
_HOST = hashlib.sha1(socket.gethostname().encode()).hexdigest()[:8]
# Temp files of older Lamina versions carry no writer: removed only when untouched for this long.
_ANONYMOUS_TEMP_AGE_S = 24 * 3600


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


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True  # another thread of this process may be writing the same target
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True  # exists, owned by someone else
    return True


def remove_stale_temp_files(target: str) -> list[str]:
    """Removes the temp files that killed saves to ``target`` left behind; returns their paths.

    A temp file is removed when its writer (same host, by process id) is gone, or, for a temp file
    without a writer in its name, when it has not been touched for a day. A live writer's file stays.
    """
    folder, base = os.path.split(os.path.abspath(target))
    ext = os.path.splitext(base)[1]
    pattern = re.compile(
        r"\." + re.escape(base) + r"\.(?:(?P<host>[0-9a-f]{8})-(?P<pid>\d+)\.)?[^.]+\.tmp" + re.escape(ext) + r"$"
    )
    removed = []
    try:
        names = os.listdir(folder)
    except OSError:
        return removed
    now = time.time()
    for name in names:
        m = pattern.match(name)
        if m is None:
            continue
        path = os.path.join(folder, name)
        if m.group("pid") is not None:
            if m.group("host") != _HOST or _pid_alive(int(m.group("pid"))):
                continue
        else:
            try:
                if now - os.stat(path).st_mtime < _ANONYMOUS_TEMP_AGE_S:
                    continue
            except OSError:
                continue
        try:
            os.remove(path)
            removed.append(path)
        except OSError:
            pass
    return removed


def _naming_target(error: OSError, tmp: str, target: str) -> OSError:
    """The same error, naming the file the user asked for instead of our hidden temp file."""
    message = (error.strerror or str(error)).replace(tmp, target)
    if error.errno:
        return OSError(error.errno, f"Cannot write {target!r}: {message}")  # errno keeps the subclass
    return OSError(f"Cannot write {target!r}: {message}")


def _make_temp(target: str) -> str:
    """A new empty temp file next to ``target``, named so that a later save to ``target`` can tell whose it is."""
    folder, base = os.path.split(target)
    # the temp name keeps the extension: some writers (torch.export.save) look at it
    try:
        fd, tmp = tempfile.mkstemp(
            prefix=f".{base}.{_HOST}-{os.getpid()}.", suffix=f".tmp{os.path.splitext(base)[1]}", dir=folder
        )
    except OSError as e:  # a read-only folder: name the target, not a temp name nobody asked for
        raise OSError(e.errno, f"Cannot write {target!r}: {e.strerror}", target) from None
    os.close(fd)
    return tmp


@contextlib.contextmanager
def scratch_file(filepath: str | os.PathLike) -> Iterator[str]:
    """A scratch file next to ``filepath`` for the duration of the block (a writer's intermediate file).

    It is named like :func:`atomic_write`'s temp files for ``filepath``, so if the process is killed
    inside the block, the next save to ``filepath`` removes it.
    """
    tmp = _make_temp(os.path.abspath(os.fspath(filepath)))
    try:
        yield tmp
    finally:
        with contextlib.suppress(OSError):
            os.remove(tmp)


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
    remove_stale_temp_files(target)
    tmp = _make_temp(target)
    try:
        try:
            yield tmp
        except OSError as e:  # a full disk, a quota: the writer names the temp file, or nothing
            raise _naming_target(e, tmp, target) from e
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
