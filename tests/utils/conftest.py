"""Fixtures for the utils tests: the loopback HTTP server (shared with tests/datasets)."""

from tests.utils.http_server import http_server  # noqa: F401 -- a fixture, found by name
