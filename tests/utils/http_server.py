"""A loopback HTTP server for download tests: files served from memory on 127.0.0.1, requests counted.

Use the ``http_server`` fixture (``from tests.utils.http_server import http_server`` in a
conftest or test module) or ``LoopbackServer`` as a context manager::

    def test_download(http_server, tmp_path):
        url = http_server.add("weights.h5", b"...")
        path = lamina.utils.get_file(origin=url, cache_dir=tmp_path)
        assert http_server.hits("weights.h5") == 1

A file added with ``truncate_at=n`` announces its full length but sends ``n`` bytes and
closes the connection (a dropped download); ``status=404`` answers with that error.
"""

from __future__ import annotations

import http.server
import threading
import urllib.parse
from collections import Counter
from dataclasses import dataclass

import pytest


@dataclass
class _Entry:
    data: bytes
    status: int = 200
    truncate_at: int | None = None
    send_length: bool = True


class LoopbackServer:
    """Serves ``add``-ed byte strings at ``http://127.0.0.1:<port>/<name>`` from a background thread."""

    def __init__(self) -> None:
        self._files: dict[str, _Entry] = {}
        self.requests: Counter[str] = Counter()
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 -- http.server's naming
                name = urllib.parse.unquote(urllib.parse.urlsplit(self.path).path.lstrip("/"))
                server.requests[name] += 1
                entry = server._files.get(name)
                if entry is None or entry.status != 200:
                    self.send_error(404 if entry is None else entry.status)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/octet-stream")
                if entry.send_length:
                    self.send_header("Content-Length", str(len(entry.data)))
                else:
                    self.send_header("Connection", "close")
                self.end_headers()
                body = entry.data if entry.truncate_at is None else entry.data[: entry.truncate_at]
                self.wfile.write(body)
                self.wfile.flush()
                if entry.truncate_at is not None or not entry.send_length:
                    self.close_connection = True

            def log_message(self, *args) -> None:  # keep test output clean
                pass

        self._httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}/"

    def url(self, name: str) -> str:
        return self.base_url + urllib.parse.quote(name)

    def add(
        self,
        name: str,
        data: bytes,
        *,
        status: int = 200,
        truncate_at: int | None = None,
        send_length: bool = True,
    ) -> str:
        """Serves ``data`` at ``name`` and returns its URL."""
        self._files[name] = _Entry(bytes(data), status, truncate_at, send_length)
        return self.url(name)

    def hits(self, name: str) -> int:
        return self.requests[name]

    def start(self) -> LoopbackServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> LoopbackServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


@pytest.fixture
def http_server():
    """A started ``LoopbackServer``, stopped after the test."""
    with LoopbackServer() as server:
        yield server
