"""``keras.utils.get_file``: download once into the Keras cache, check the hash, extract safely.

The cache layout, the argument names and the returned paths are Keras 3.15's, so a file
Keras downloaded is found by Lamina and the other way round. What Lamina adds:

- a download is streamed into a temporary file next to the target, checked against
  ``file_hash``, and only then renamed into place (``lamina.saving.atomic_write``), so an
  interrupted, truncated or corrupted download never sits in the cache;
- a hash mismatch names the file, the expected and the received hash;
- an archive with a member (or a link target) outside the extraction folder is refused
  as a whole before anything is written (Keras skips such members with a warning);
- a folder given as ``cache_dir`` that does not exist yet is created (Keras falls back
  to ``/tmp/.keras`` in that case).

Nothing downloaded is ever imported or executed.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import sys
import tarfile
import tempfile
import urllib.error
import urllib.parse
import urllib.request
import warnings
import zipfile
from collections.abc import Iterable

from lamina.backend.atomic import atomic_write
from lamina.callbacks.progbar import Progbar

_CHUNK = 1 << 16
_HASH_ALGORITHMS = ("auto", "sha256", "md5")
_ARCHIVE_FORMATS = ("tar", "zip")


def keras_home() -> str:
    """The Keras cache root: ``$KERAS_HOME``, else ``~/.keras`` (``/tmp/.keras`` if home is read-only)."""
    if "KERAS_HOME" in os.environ:
        return os.environ["KERAS_HOME"]
    base = os.path.expanduser("~")
    if not os.access(base, os.W_OK):
        base = "/tmp"
    return os.path.join(base, ".keras")


def _hasher(algorithm: str, file_hash: str | None = None):
    if algorithm not in _HASH_ALGORITHMS:
        raise ValueError(f"`hash_algorithm` must be one of {_HASH_ALGORITHMS}. Received: hash_algorithm={algorithm!r}")
    if algorithm == "sha256" or (algorithm == "auto" and file_hash is not None and len(file_hash) == 64):
        return hashlib.sha256()
    # "md5", and "auto" with anything that is not 64 hex digits, as in Keras
    return hashlib.md5()  # noqa: S324 -- an integrity check named by the caller, not a security boundary


def hash_file(fpath: str | os.PathLike, algorithm: str = "sha256", chunk_size: int = 65535) -> str:
    """The hex digest of a file (``"sha256"`` or ``"md5"``; ``"auto"`` means sha256 here).

    Example:
        >>> import os, tempfile
        >>> path = os.path.join(tempfile.mkdtemp(), "empty")
        >>> open(path, "wb").close()
        >>> hash_file(path)[:16]
        'e3b0c44298fc1c14'
    """
    hasher = _hasher(algorithm) if isinstance(algorithm, str) else algorithm
    with open(fpath, "rb") as f:
        for chunk in iter(lambda: f.read(chunk_size), b""):
            hasher.update(chunk)
    return hasher.hexdigest()


def validate_file(fpath: str | os.PathLike, file_hash: str, algorithm: str = "auto", chunk_size: int = 65535) -> bool:
    """Whether the file's sha256 or md5 digest (picked from ``file_hash``'s length with "auto") equals ``file_hash``."""
    return hash_file(fpath, _hasher(algorithm, file_hash), chunk_size) == str(file_hash)


def _resolved_algorithm(algorithm: str, file_hash: str) -> str:
    return _hasher(algorithm, file_hash).name


# --- archives ------------------------------------------------------------------------------


def _inside(base: str, relative: str) -> bool:
    """Whether ``base/relative`` resolves (symlinks followed) to ``base`` or below."""
    path = os.path.realpath(os.path.join(base, relative))
    try:
        return os.path.commonpath([path, base]) == base
    except ValueError:  # different drives on Windows
        return False


def _check_tar_member(info: tarfile.TarInfo, base: str, archive: str) -> None:
    name = info.name
    if not _inside(base, name):
        raise ValueError(f"Refusing to extract {archive!r}: the member {name!r} would land outside {base!r}.")
    if info.issym():
        # a symlink's target is relative to the folder that holds the link
        target = os.path.join(os.path.dirname(name), info.linkname)
        if os.path.isabs(info.linkname) or not _inside(base, target):
            raise ValueError(
                f"Refusing to extract {archive!r}: the link {name!r} points to {info.linkname!r}, outside {base!r}."
            )
    elif info.islnk():
        # a hard link's target is relative to the archive root
        if os.path.isabs(info.linkname) or not _inside(base, info.linkname):
            raise ValueError(
                f"Refusing to extract {archive!r}: the link {name!r} points to {info.linkname!r}, outside {base!r}."
            )
    elif not (info.isfile() or info.isdir()):
        raise ValueError(f"Refusing to extract {archive!r}: the member {name!r} is not a regular file, folder or link.")


def _extract_tar(file_path: str, dest: str, out: str) -> None:
    with tarfile.open(file_path) as archive:
        members = archive.getmembers()
        for info in members:
            _check_tar_member(info, dest, file_path)
        # the "data" filter checks again while writing (links included) and drops unsafe modes
        kwargs = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
        archive.extractall(out, members=members, **kwargs)


def _extract_zip(file_path: str, dest: str, out: str) -> None:
    with zipfile.ZipFile(file_path) as archive:
        infos = archive.infolist()
        for info in infos:
            if os.path.isabs(info.filename) or not _inside(dest, info.filename):
                raise ValueError(
                    f"Refusing to extract {file_path!r}: the member {info.filename!r} would land outside {dest!r}."
                )
        archive.extractall(out, members=infos)


def _archive_formats(archive_format: str | Iterable[str] | None) -> list[str]:
    if archive_format is None:
        return []
    if archive_format == "auto":
        return list(_ARCHIVE_FORMATS)
    formats = [archive_format] if isinstance(archive_format, str) else list(archive_format)
    for fmt in formats:
        if fmt not in _ARCHIVE_FORMATS:
            raise ValueError(
                "`archive_format` must be 'auto', 'tar', 'zip', a list of those, or None. "
                f"Received: archive_format={archive_format!r}"
            )
    return formats


def extract_archive(
    file_path: str | os.PathLike, path: str | os.PathLike = ".", archive_format: str | Iterable[str] | None = "auto"
) -> bool:
    """Extracts a tar (plain, gz, bz2, xz) or zip archive into ``path``; False if it is none of ``archive_format``.

    The archive is unpacked into a temporary folder beside ``path`` and moved into place only
    when every member was written, so a failed extraction leaves ``path`` as it was. An
    archive with a member or a link target outside ``path`` raises ``ValueError`` and
    nothing is extracted.

    Example:
        >>> import os, tempfile, zipfile
        >>> folder = tempfile.mkdtemp()
        >>> with zipfile.ZipFile(os.path.join(folder, "a.zip"), "w") as z:
        ...     z.writestr("data/x.txt", "hi")
        >>> extract_archive(os.path.join(folder, "a.zip"), os.path.join(folder, "out"))
        True
        >>> open(os.path.join(folder, "out", "data", "x.txt")).read()
        'hi'
    """
    file_path = os.fspath(file_path)
    dest = os.path.realpath(os.fspath(path))
    for fmt in _archive_formats(archive_format):
        is_match, extract = (tarfile.is_tarfile, _extract_tar) if fmt == "tar" else (zipfile.is_zipfile, _extract_zip)
        if not is_match(file_path):
            continue
        parent = os.path.dirname(dest)
        os.makedirs(parent, exist_ok=True)
        staging = tempfile.mkdtemp(prefix=f".{os.path.basename(dest)}.", suffix=".extracting", dir=parent)
        try:
            # members are checked against the final folder, written into the staging one
            extract(file_path, dest, os.path.realpath(staging))
            if os.path.isdir(dest) and not os.path.islink(dest):
                _merge_into(staging, dest)
            else:
                if os.path.lexists(dest):
                    os.remove(dest)
                os.replace(staging, dest)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        return True
    return False


def _merge_into(src: str, dest: str) -> None:
    """Moves everything under ``src`` into the folder ``dest``, replacing same-named files (as Keras overwrites)."""
    for entry in os.listdir(src):
        s, d = os.path.join(src, entry), os.path.join(dest, entry)
        if os.path.isdir(s) and not os.path.islink(s) and os.path.isdir(d) and not os.path.islink(d):
            _merge_into(s, d)
            continue
        if os.path.isdir(d) and not os.path.islink(d):
            shutil.rmtree(d)
        elif os.path.lexists(d):
            os.remove(d)
        os.replace(s, d)


# --- download ------------------------------------------------------------------------------


def _print(message: str) -> None:
    sys.stdout.write(message + "\n")
    sys.stdout.flush()


def _download(origin: str, tmp_path: str) -> None:
    """Streams ``origin`` into ``tmp_path`` with a progress bar; OSError on any failure or a short read."""
    try:
        response = urllib.request.urlopen(origin)  # noqa: S310 -- the user names the URL, as in Keras
    except urllib.error.HTTPError as e:
        raise OSError(f"URL fetch failure on {origin}: {e.code} -- {e.msg}") from e
    except urllib.error.URLError as e:
        raise OSError(f"URL fetch failure on {origin}: {e.errno} -- {e.reason}") from e
    with contextlib.closing(response), open(tmp_path, "wb") as out:
        length = response.headers.get("Content-Length")
        total = int(length) if length is not None and length.isdigit() else None
        bar = Progbar(total)
        received = 0
        while True:
            chunk = response.read(_CHUNK)
            if not chunk:
                break
            out.write(chunk)
            received += len(chunk)
            bar.update(min(received, total) if total else received)
        if total is not None and received < total:
            raise OSError(f"URL fetch failure on {origin}: got only {received} of {total} bytes.")
        if total is None:
            bar.update(received, finalize=True)


def _cache_folder(cache_dir: str | os.PathLike | None, cache_subdir: str) -> str:
    base = os.path.expanduser(os.fspath(cache_dir) if cache_dir is not None else keras_home())
    datadir = os.path.join(base, cache_subdir)
    try:
        os.makedirs(datadir, exist_ok=True)
        writable = os.access(datadir, os.W_OK)
    except OSError:
        writable = False
    if not writable:  # as Keras: a read-only cache falls back to /tmp/.keras
        datadir = os.path.join("/tmp" if os.path.isdir("/tmp") else tempfile.gettempdir(), ".keras", cache_subdir)
        os.makedirs(datadir, exist_ok=True)
    return datadir


def _targets(fname: str | None, origin: str, datadir: str, extract: bool) -> tuple[str, str | None]:
    """(download path, extraction folder or None), named as Keras names them."""
    given = fname
    if not fname:
        fname = os.path.basename(urllib.parse.urlsplit(origin).path)
        if not fname:
            raise ValueError(
                f"Can't parse the file name from the origin provided: '{origin}'. Please specify the `fname` argument."
            )
    elif os.sep in fname or (os.altsep and os.altsep in fname):
        raise ValueError(
            "Paths are no longer accepted as the `fname` argument. To specify the file's parent directory, "
            f"use the `cache_dir` argument. Received: fname={fname}"
        )
    if fname in (".", ".."):
        raise ValueError(f"`fname` must name a file. Received: fname={fname!r}")
    if not extract:
        return os.path.join(datadir, fname), None
    if given and "." in fname:
        stem = fname[: fname.find(".")]
        return os.path.join(datadir, fname), os.path.join(datadir, f"{stem}_extracted")
    return os.path.join(datadir, f"{fname}_archive"), os.path.join(datadir, fname)


def get_file(
    fname: str | os.PathLike | None = None,
    origin: str | None = None,
    untar: bool = False,
    md5_hash: str | None = None,
    file_hash: str | None = None,
    cache_subdir: str = "datasets",
    hash_algorithm: str = "auto",
    extract: bool = False,
    archive_format: str | Iterable[str] | None = "auto",
    cache_dir: str | os.PathLike | None = None,
    force_download: bool = False,
) -> str:
    """Downloads a file from a URL if it is not already in the cache, and returns its path.

    The file goes to ``cache_dir`` (``$KERAS_HOME`` or ``~/.keras`` by default) under
    ``cache_subdir`` (``"datasets"``), named ``fname`` (the last part of the URL by
    default): ``~/.keras/datasets/example.txt``. A cached file is used without touching
    the network; if ``file_hash`` is given and the cached file does not match, it is
    downloaded again. A new download is written to a temporary file, checked, and renamed
    into place, so a failed download never stays in the cache.

    Args:
        fname: local file name; with ``extract``, a name without an extension names the
            extraction folder. ``None`` takes the name from ``origin``.
        origin: the URL (``http(s)://`` or ``file://``).
        untar: deprecated, as ``extract=True, archive_format="tar"``.
        md5_hash: deprecated, as ``file_hash=md5_hash, hash_algorithm="md5"``.
        file_hash: the expected sha256 or md5 hex digest of the downloaded file.
        cache_subdir: folder under ``cache_dir``; an absolute path is used as is.
        hash_algorithm: ``"auto"`` (sha256 for a 64-digit hash, md5 otherwise), ``"sha256"``
            or ``"md5"``.
        extract: extract a tar or zip archive and return the extraction folder.
        archive_format: ``"auto"`` (tar then zip), ``"tar"``, ``"zip"``, a list of those, or None.
        cache_dir: the cache root; ``None`` means ``$KERAS_HOME`` or ``~/.keras``.
        force_download: download even if the file is cached.

    Returns:
        The path of the downloaded file, or of the extraction folder with ``extract``.

    Raises:
        ValueError: no ``origin``, a path as ``fname``, a bad ``hash_algorithm`` or
            ``archive_format``, a downloaded file whose hash is not ``file_hash`` (the
            message names the file and both hashes), or an archive member outside the
            extraction folder.
        OSError: the URL could not be fetched or the transfer was cut short.

    Example:
        >>> import os, pathlib, tempfile
        >>> folder = tempfile.mkdtemp()
        >>> src = pathlib.Path(folder, "hello.txt")
        >>> _ = src.write_text("hello")
        >>> path = get_file(origin=src.as_uri(), cache_dir=os.path.join(folder, "cache"))  # doctest: +ELLIPSIS
        Downloading data from file://...
        >>> os.path.relpath(path, folder)
        'cache/datasets/hello.txt'
    """
    if origin is None:
        raise ValueError('Please specify the "origin" argument (URL of the file to download).')
    if md5_hash is not None and file_hash is None:
        file_hash, hash_algorithm = md5_hash, "md5"
    if hash_algorithm not in _HASH_ALGORITHMS:
        raise ValueError(
            f"`hash_algorithm` must be one of {_HASH_ALGORITHMS}. Received: hash_algorithm={hash_algorithm!r}"
        )
    if untar:
        archive_format = "tar"
    formats = _archive_formats(archive_format)
    file_hash = None if file_hash is None else str(file_hash).lower()

    datadir = _cache_folder(cache_dir, cache_subdir)
    download_target, extraction_dir = _targets(
        os.fspath(fname) if fname is not None else None, origin, datadir, extract or untar
    )

    download = force_download or not os.path.exists(download_target)
    if not download and file_hash is not None and not validate_file(download_target, file_hash, hash_algorithm):
        _print(
            "A local file was found, but it seems to be incomplete or outdated because the "
            f"{_resolved_algorithm(hash_algorithm, file_hash)} file hash does not match the original value of "
            f"{file_hash} so we will re-download the data."
        )
        download = True

    if download:
        _print(f"Downloading data from {origin}")
        with atomic_write(download_target) as tmp:
            _download(origin, tmp)
            if file_hash is not None:
                hasher = _hasher(hash_algorithm, file_hash)
                received = hash_file(tmp, hasher)
                if received != file_hash:
                    raise ValueError(
                        f"Incomplete or corrupted file detected: the file downloaded from {origin} for "
                        f"'{download_target}' has the {hasher.name} hash {received}, but file_hash={file_hash} "
                        "was expected. The cache was left unchanged."
                    )

    if extraction_dir is None:
        return download_target
    if not extract_archive(download_target, extraction_dir, formats):
        warnings.warn(
            f"Could not extract archive {download_target!r}: it is not a {' or '.join(formats) or 'known'} archive.",
            stacklevel=2,
        )
    return extraction_dir
