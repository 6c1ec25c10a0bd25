"""The Keras-parity sweep over full-size models is marked ``slow``: it runs with ``LAMINA_SLOW=1`` or ``-m slow``.

The default run keeps a fast subset that still builds every block of every family against Keras.
"""

import os

import pytest


def pytest_collection_modifyitems(config, items):
    if os.environ.get("LAMINA_SLOW") == "1" or "slow" in (config.getoption("-m") or ""):
        return
    skip = pytest.mark.skip(reason="slow Keras-parity sweep: run with LAMINA_SLOW=1 or -m slow")
    for item in items:
        if "slow" in item.keywords and item.nodeid.startswith("tests/applications/"):
            item.add_marker(skip)


from tests.utils.http_server import http_server  # noqa: E402, F401 -- the loopback server fixture, found by name
