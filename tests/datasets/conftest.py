"""Fixtures for the dataset loader tests: the loopback HTTP server of tests/utils."""

from tests.utils.http_server import http_server  # noqa: F401 -- a fixture, found by name
