"""Shared by the tests and the doctests: Keras runs on torch, and every test starts with fresh names."""

import os

os.environ.setdefault("KERAS_BACKEND", "torch")

import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _fresh_names():
    """Automatic names (dense, dense_1, ...) start over for each test and doctest, as after clear_session."""
    import lamina

    lamina.backend.clear_session(free_memory=False)  # names only; a gc.collect per test costs ~0.25 s
    yield


def pytest_collection_modifyitems(config, items):
    """Tests marked ``slow`` (long parity sweeps, compile sweeps) run with ``LAMINA_SLOW=1`` or ``-m slow``.

    The default run keeps a fast case of every family beside each sweep.
    """
    if os.environ.get("LAMINA_SLOW") == "1" or "slow" in (config.getoption("-m") or ""):
        return
    skip = pytest.mark.skip(reason="slow sweep: run with LAMINA_SLOW=1 or -m slow")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)
