"""Shared by the tests and the doctests: Keras runs on torch, and every test starts with fresh names."""

import os

os.environ.setdefault("KERAS_BACKEND", "torch")

import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _fresh_names():
    """Automatic names (dense, dense_1, ...) start over for each test and doctest, as after clear_session."""
    import lamina

    lamina.backend.clear_session()
    yield
