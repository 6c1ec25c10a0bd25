"""The Keras-parity sweep over full-size models is marked ``slow`` (skipped by the root conftest unless
``LAMINA_SLOW=1`` or ``-m slow``); the default run keeps a fast subset that still builds every block of
every family against Keras."""

from tests.utils.http_server import http_server  # noqa: F401 -- the loopback server fixture, found by name
