"""The bad-input sweep (issue 14): every case raises ValueError/TypeError naming its argument or layer.

The cases live in ``tests/reliability/cases.py`` (shared with ``tools/reliability_sweep.py``, which counts
the outcomes before/after a change). Each case builds a tiny model, so the whole sweep takes seconds.
"""

from __future__ import annotations

import os
import re
import warnings

import pytest

import lamina
from tests.reliability.cases import CASES


@pytest.fixture(autouse=True)
def _fresh_names():
    """Names start over for each case, as the root conftest does, but without its garbage collection:
    hundreds of tiny cases would spend most of their time in ``gc.collect()``."""
    lamina.backend.clear_session(free_memory=False)
    yield


def test_sweep_is_large_and_ids_unique():
    ids = [c.id for c in CASES]
    assert len(ids) >= 250
    assert len(set(ids)) == len(ids)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_raises_clean_error(case, tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises((ValueError, TypeError), match="(?i)" + re.escape(case.needle)):
            case.fn(lamina, str(tmp_path))
    assert [name for name in os.listdir(tmp_path) if ".tmp" in name] == []  # no temp file left behind
