"""get_file: Keras's cache layout and return values, checked hashes, atomic downloads, safe extraction.

Every download goes to the loopback server of ``tests/utils/http_server.py``; Keras's own
``get_file`` runs against the same server for the path parity checks.
"""

import hashlib
import io
import os
import tarfile
import zipfile

import keras
import pytest

from lamina.utils import get_file
from lamina.utils.file_utils import extract_archive, hash_file, validate_file

DATA = bytes(range(256)) * 1000  # 256 kB: several chunks, so the bar moves
SHA256 = hashlib.sha256(DATA).hexdigest()
MD5 = hashlib.md5(DATA).hexdigest()


def _tar(members: dict[str, bytes], mode: str = "w:gz", links: tuple = ()) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode=mode) as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        for name, target, kind in links:
            info = tarfile.TarInfo(name)
            info.type = kind
            info.linkname = target
            tar.addfile(info)
    return buf.getvalue()


def _zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)
    return buf.getvalue()


def _files_under(folder) -> list[str]:
    return sorted(os.path.relpath(os.path.join(d, f), folder) for d, _, fs in os.walk(folder) for f in fs)


def test_downloads_into_cache_then_reuses_it_without_network(http_server, tmp_path, capsys):
    url = http_server.add("data.bin", DATA)
    path = get_file("data.bin", url, cache_dir=tmp_path, file_hash=SHA256)
    assert path == os.path.join(tmp_path, "datasets", "data.bin")
    assert open(path, "rb").read() == DATA
    out = capsys.readouterr().out
    assert f"Downloading data from {url}" in out
    assert f"{len(DATA)}/{len(DATA)}" in out  # the progress bar reached the end
    again = get_file("data.bin", url, cache_dir=tmp_path, file_hash=SHA256)
    assert again == path
    assert http_server.hits("data.bin") == 1
    assert "Downloading" not in capsys.readouterr().out
    assert _files_under(tmp_path) == ["datasets/data.bin"]  # no temporary files left


def test_cached_file_is_used_even_with_the_server_gone(tmp_path):
    from tests.utils.http_server import LoopbackServer

    with LoopbackServer() as server:
        url = server.add("x.txt", b"cached")
        first = get_file(origin=url, cache_dir=tmp_path)
    assert get_file(origin=url, cache_dir=tmp_path) == first
    assert open(first, "rb").read() == b"cached"


def test_keras_home_and_home_folder(http_server, tmp_path, monkeypatch):
    url = http_server.add("a.txt", b"a")
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "kh"))
    assert get_file(origin=url) == str(tmp_path / "kh" / "datasets" / "a.txt")
    monkeypatch.delenv("KERAS_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    (tmp_path / "home").mkdir()
    assert get_file(origin=url, cache_subdir="models") == str(tmp_path / "home" / ".keras" / "models" / "a.txt")
    absolute = tmp_path / "elsewhere"
    assert get_file(origin=url, cache_dir=tmp_path, cache_subdir=str(absolute)) == str(absolute / "a.txt")


@pytest.mark.parametrize(
    "kwargs",
    [
        {"file_hash": SHA256},
        {"file_hash": SHA256.upper()},
        {"file_hash": MD5},
        {"file_hash": SHA256, "hash_algorithm": "sha256"},
        {"file_hash": MD5, "hash_algorithm": "md5"},
        {"md5_hash": MD5},
    ],
)
def test_hash_forms_accepted(http_server, tmp_path, kwargs):
    url = http_server.add("d.bin", DATA)
    path = get_file(origin=url, cache_dir=tmp_path, **kwargs)
    assert hash_file(path) == SHA256
    assert validate_file(path, MD5) and validate_file(path, SHA256)


def test_hash_mismatch_names_file_and_both_hashes_and_leaves_nothing(http_server, tmp_path):
    url = http_server.add("d.bin", DATA)
    wrong = "0" * 64
    with pytest.raises(ValueError, match=rf"d\.bin.*sha256 hash {SHA256}.*file_hash={wrong}"):
        get_file(origin=url, cache_dir=tmp_path, file_hash=wrong)
    assert _files_under(tmp_path) == []
    with pytest.raises(ValueError, match=rf"md5 hash {MD5}, but file_hash={'1' * 32}"):
        get_file(origin=url, cache_dir=tmp_path, file_hash="1" * 32)
    assert _files_under(tmp_path) == []


def test_stale_cached_file_is_downloaded_again(http_server, tmp_path, capsys):
    url = http_server.add("d.bin", DATA)
    (tmp_path / "datasets").mkdir()
    (tmp_path / "datasets" / "d.bin").write_bytes(b"old partial")
    path = get_file(origin=url, cache_dir=tmp_path, file_hash=SHA256)
    assert open(path, "rb").read() == DATA
    assert "file hash does not match the original value" in capsys.readouterr().out
    assert http_server.hits("d.bin") == 1


def test_failed_redownload_keeps_previous_file(http_server, tmp_path):
    url = http_server.add("d.bin", DATA, truncate_at=1000)
    (tmp_path / "datasets").mkdir()
    (tmp_path / "datasets" / "d.bin").write_bytes(b"previous")
    with pytest.raises(OSError, match=r"got only 1000 of 256000 bytes"):
        get_file(origin=url, cache_dir=tmp_path, force_download=True)
    assert _files_under(tmp_path) == ["datasets/d.bin"]
    assert (tmp_path / "datasets" / "d.bin").read_bytes() == b"previous"


def test_force_download(http_server, tmp_path):
    url = http_server.add("d.bin", b"v1")
    get_file(origin=url, cache_dir=tmp_path)
    http_server.add("d.bin", b"v2")
    assert open(get_file(origin=url, cache_dir=tmp_path), "rb").read() == b"v1"
    assert open(get_file(origin=url, cache_dir=tmp_path, force_download=True), "rb").read() == b"v2"
    assert http_server.hits("d.bin") == 2


def test_truncated_and_missing_downloads_leave_no_file(http_server, tmp_path):
    url = http_server.add("cut.bin", DATA, truncate_at=5000)
    with pytest.raises(OSError, match="URL fetch failure on .*cut.bin"):
        get_file(origin=url, cache_dir=tmp_path)
    with pytest.raises(OSError, match=r"URL fetch failure on .*missing.bin: 404"):
        get_file(origin=http_server.url("missing.bin"), cache_dir=tmp_path)
    assert _files_under(tmp_path) == []


def test_unknown_length_download(http_server, tmp_path):
    url = http_server.add("stream.bin", DATA, send_length=False)
    assert open(get_file(origin=url, cache_dir=tmp_path, file_hash=MD5), "rb").read() == DATA


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"origin": None}, 'specify the "origin" argument'),
        ({"fname": "a/b.txt"}, r"Received: fname=a/b.txt"),
        ({"origin": "http://127.0.0.1:9/"}, "Can't parse the file name from the origin"),
        ({"hash_algorithm": "sha1", "file_hash": "ab"}, r"Received: hash_algorithm='sha1'"),
        ({"extract": True, "archive_format": "rar"}, r"Received: archive_format='rar'"),
    ],
)
def test_bad_arguments(tmp_path, kwargs, match):
    args = {"fname": None, "origin": "http://127.0.0.1:9/x.txt", "cache_dir": tmp_path, **kwargs}
    with pytest.raises(ValueError, match=match):
        get_file(**args)


def _keras_and_lamina(http_server, tmp_path, name, data, **kwargs):
    """Runs Keras's and Lamina's get_file with the same arguments on separate caches."""
    url = http_server.add(name, data)
    (tmp_path / "k").mkdir()
    (tmp_path / "l").mkdir()
    k = keras.utils.get_file(origin=url, cache_dir=str(tmp_path / "k"), **kwargs)
    lam = get_file(origin=url, cache_dir=str(tmp_path / "l"), **kwargs)
    return os.path.relpath(k, tmp_path / "k"), os.path.relpath(lam, tmp_path / "l"), k, lam


@pytest.mark.parametrize(
    "name, kwargs",
    [
        ("plain.txt", {}),
        ("plain.txt", {"fname": "renamed.txt", "cache_subdir": "models"}),
        ("arch.tar.gz", {"extract": True}),
        ("arch.tar.gz", {"fname": "flowers.tgz", "extract": True}),
        ("arch.tar.gz", {"fname": "flowers", "untar": True}),
        ("arch.zip", {"fname": "pack.zip", "extract": True, "archive_format": "zip"}),
    ],
)
def test_paths_and_extracted_files_equal_keras(http_server, tmp_path, name, kwargs):
    if name.endswith(".zip"):
        data = _zip({"top/a.txt": b"a", "top/sub/b.txt": b"b"})
    elif name.endswith(".tar.gz"):
        data = _tar({"top/a.txt": b"a", "top/sub/b.txt": b"b"})
    else:
        data = b"plain"
    k_rel, l_rel, k, lam = _keras_and_lamina(http_server, tmp_path, name, data, **kwargs)
    assert l_rel == k_rel
    assert _files_under(tmp_path / "l") == _files_under(tmp_path / "k")
    if os.path.isdir(k):
        assert open(os.path.join(lam, "top", "sub", "b.txt"), "rb").read() == b"b"


def test_file_cached_by_keras_is_found_without_download(http_server, tmp_path):
    url = http_server.add("arch.tar.gz", _tar({"x.txt": b"x"}))
    k = keras.utils.get_file("arch.tar.gz", url, cache_dir=str(tmp_path), extract=True)
    lam = get_file("arch.tar.gz", url, cache_dir=tmp_path, extract=True)
    assert lam == k
    assert http_server.hits("arch.tar.gz") == 1


@pytest.mark.parametrize(
    "archive, member",
    [
        (_tar({"ok.txt": b"1", "../evil.txt": b"2"}), "../evil.txt"),
        (_tar({"/tmp/abs_evil.txt": b"2"}), "/tmp/abs_evil.txt"),
        (_tar({"ok.txt": b"1"}, links=(("ln", "../../outside", tarfile.SYMTYPE),)), "ln"),
        (_tar({"ok.txt": b"1"}, links=(("ln", "/etc/passwd", tarfile.SYMTYPE),)), "ln"),
        (_tar({"ok.txt": b"1"}, links=(("hard", "../x", tarfile.LNKTYPE),)), "hard"),
        (_zip({"ok.txt": b"1", "../../evil.txt": b"2"}), "../../evil.txt"),
    ],
    # the archives' bytes hold a timestamp: ids must not, or pytest-xdist workers disagree
    ids=["tar-parent", "tar-absolute", "tar-symlink-parent", "tar-symlink-absolute", "tar-hardlink", "zip-parent"],
)
def test_archive_members_outside_the_folder_are_refused(http_server, tmp_path, archive, member):
    url = http_server.add("bad.archive", archive)
    with pytest.raises(ValueError, match=rf"Refusing to extract .*{member}"):
        get_file("bad", url, cache_dir=tmp_path / "cache", extract=True)
    # nothing extracted, nothing written outside; only the (hash-less) download stays cached
    assert _files_under(tmp_path) == ["cache/datasets/bad_archive"]


def test_links_inside_the_folder_are_extracted(tmp_path):
    path = tmp_path / "a.tar"
    path.write_bytes(_tar({"d/x.txt": b"x"}, mode="w", links=(("d/y.txt", "x.txt", tarfile.SYMTYPE),)))
    assert extract_archive(path, tmp_path / "out")
    assert (tmp_path / "out" / "d" / "y.txt").read_bytes() == b"x"


def test_not_an_archive_warns(http_server, tmp_path):
    url = http_server.add("notes.txt", b"just text")
    with pytest.warns(UserWarning, match="Could not extract archive"):
        out = get_file("notes.txt", url, cache_dir=tmp_path, extract=True)
    assert out == os.path.join(tmp_path, "datasets", "notes_extracted")


def test_reextraction_replaces_files(http_server, tmp_path):
    url = http_server.add("p.zip", _zip({"a.txt": b"new"}))
    out = get_file("p.zip", url, cache_dir=tmp_path, extract=True)
    (tmp_path / "datasets" / "p_extracted" / "a.txt").write_bytes(b"edited")
    assert get_file("p.zip", url, cache_dir=tmp_path, extract=True) == out
    assert open(os.path.join(out, "a.txt"), "rb").read() == b"new"  # Keras re-extracts on every call
    assert http_server.hits("p.zip") == 1
