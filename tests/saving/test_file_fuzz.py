"""The file-mutation fuzz (issue 14): damaged and hostile ``.keras``, ``.weights.h5`` and legacy ``.h5`` files.

Every mutant (byte flips, truncations, zip member edits, JSON edits, h5 dataset/attribute edits, and
hand-written hostile files) either loads or raises ValueError/TypeError naming the file; no code from a
file runs (audit events and a sentinel file), and nothing is left behind. Seeded, so a failure replays.
The per-test timeout bounds a mutant that would make a reader hang or allocate without end.
"""

from __future__ import annotations

import os

import pytest

import lamina
from tests.reliability import fuzz

_DEFAULT = fuzz.mutants(per_op=8)
_MORE = fuzz.mutants(per_op=40, first_seed=8)[: -len(fuzz._HOSTILE)]  # further seeds, hostile ones once


@pytest.fixture(autouse=True)
def _fresh_names():
    """Names start over for each case, as the root conftest does, but without its garbage collection:
    hundreds of tiny cases would spend most of their time in ``gc.collect()``."""
    lamina.backend.clear_session(free_memory=False)
    yield


def _check(mutant, folder):
    result, detail = fuzz.try_mutant(mutant, str(folder))
    assert result in ("loaded", "clean"), f"{mutant.id}: {result} {detail}"
    if mutant.op == "path_member":
        assert not (folder.parent.parent / "escape.txt").exists()
    if (mutant.fmt, mutant.op) in fuzz._HOSTILE and mutant.op != "path_member":
        assert result == "clean", f"{mutant.id}: a hostile file must be refused, got {result}"


def test_fuzz_covers_every_format_and_operation():
    assert {m.fmt for m in _DEFAULT} == set(fuzz.FORMATS)
    assert {(m.fmt, m.op) for m in _DEFAULT} >= {(f, op) for f in fuzz.FORMATS for op in fuzz._OPS[f]}
    assert len(_DEFAULT) >= 100


@pytest.mark.timeout(60)
@pytest.mark.parametrize("mutant", _DEFAULT, ids=[m.id for m in _DEFAULT])
def test_mutant_loads_or_names_the_file(mutant, tmp_path):
    _check(mutant, tmp_path)


@pytest.mark.slow
@pytest.mark.skipif(os.environ.get("LAMINA_SLOW") != "1", reason="600 more mutants: run with LAMINA_SLOW=1")
@pytest.mark.timeout(60)
@pytest.mark.parametrize("mutant", _MORE, ids=[m.id for m in _MORE])
def test_more_mutants(mutant, tmp_path):
    _check(mutant, tmp_path)


def test_hostile_lambda_is_refused_without_running(tmp_path):
    mutant = next(m for m in _DEFAULT if m.id == "keras-lambda_bytecode")
    result, detail = fuzz.try_mutant(mutant, str(tmp_path))
    assert result == "clean", detail
    assert not (tmp_path / "CODE_RAN").exists()
