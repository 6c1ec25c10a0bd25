"""``RemoteMonitor``: posts each epoch's logs to an HTTP server, as Keras's does (without ``requests``)."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
import warnings
from typing import Any

import numpy as np

from lamina.callbacks.callback import Callback


class RemoteMonitor(Callback):
    """Sends ``{"epoch": epoch, **logs}`` to ``root + path`` by HTTP POST at the end of every epoch.

    By default the JSON text goes in the form field ``field`` (``application/x-www-form-urlencoded``);
    with ``send_as_json=True`` it is the request body (``application/json``). A server that cannot be
    reached gives a warning, not an error, so training goes on.

    Args:
        root: the server's root URL.
        path: the path the events are posted to.
        field: the form field that holds the JSON text.
        headers: extra HTTP headers (a dict).
        send_as_json: post the JSON itself as the request body.

    Example:
        >>> import lamina
        >>> monitor = lamina.callbacks.RemoteMonitor(root="http://127.0.0.1:9000", send_as_json=True)
        >>> monitor.root + monitor.path
        'http://127.0.0.1:9000/publish/epoch/end/'
    """

    def __init__(
        self,
        root: str = "http://localhost:9000",
        path: str = "/publish/epoch/end/",
        field: str = "data",
        headers: dict[str, str] | None = None,
        send_as_json: bool = False,
    ) -> None:
        super().__init__()
        for name, value in (("root", root), ("path", path), ("field", field)):
            if not isinstance(value, str):
                raise TypeError(f"RemoteMonitor's `{name}` must be a string. Received: {name}={value!r}")
        if headers is not None and not isinstance(headers, dict):
            raise TypeError(f"RemoteMonitor's `headers` must be a dict or None. Received: headers={headers!r}")
        scheme = urllib.parse.urlsplit(root).scheme
        if scheme not in ("http", "https"):
            raise ValueError(f"RemoteMonitor's `root` must be an http(s) URL. Received: root={root!r}")
        self.root = root
        self.path = path
        self.field = field
        self.headers = headers
        self.send_as_json = send_as_json

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        send: dict[str, Any] = {"epoch": epoch}
        for k, v in (logs or {}).items():
            if isinstance(v, (np.ndarray, np.generic)) or hasattr(v, "item"):
                send[k] = v.item()  # numpy and torch scalars are not JSON types
            else:
                send[k] = v
        if self.send_as_json:
            body = json.dumps(send).encode()
            content_type = "application/json"
        else:
            body = urllib.parse.urlencode({self.field: json.dumps(send)}).encode()
            content_type = "application/x-www-form-urlencoded"
        request = urllib.request.Request(
            self.root + self.path,
            data=body,
            headers={"Content-Type": content_type, **(self.headers or {})},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                response.read()
        except (urllib.error.URLError, OSError, ValueError):
            warnings.warn(f"Could not reach RemoteMonitor root server at {self.root}", stacklevel=2)
