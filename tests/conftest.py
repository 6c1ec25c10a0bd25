"""Test setup: the real Keras 3 (from PyPI) runs on its torch backend beside Lamina."""

import os

os.environ.setdefault("KERAS_BACKEND", "torch")

import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _fresh_names():
    """Each test starts with fresh automatic names (dense, dense_1, ...), as after clear_session."""
    import lamina

    lamina.backend.clear_session()
    yield
