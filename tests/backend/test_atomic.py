"""Atomic writes: a failed or killed save never damages the previous file."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

import lamina
from lamina.backend.atomic import atomic_write

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_atomic_write_replaces_on_success(tmp_path):
    target = tmp_path / "f.bin"
    target.write_bytes(b"old")
    with atomic_write(target) as tmp:
        assert os.path.dirname(tmp) == str(tmp_path) and tmp != str(target)
        with open(tmp, "wb") as f:
            f.write(b"new")
        assert target.read_bytes() == b"old"  # nothing visible until the block ends
    assert target.read_bytes() == b"new"
    assert os.listdir(tmp_path) == ["f.bin"]


def test_atomic_write_keeps_old_file_on_error(tmp_path):
    target = tmp_path / "f.bin"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError, match="boom"), atomic_write(target) as tmp:
        with open(tmp, "wb") as f:
            f.write(b"half")
        raise RuntimeError("boom")
    assert target.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["f.bin"]


def test_failed_save_keeps_previous_model(tmp_path, monkeypatch):
    model = lamina.Sequential([lamina.Input((3,)), lamina.layers.Dense(2)])
    model.save(tmp_path / "m.keras")
    before = (tmp_path / "m.keras").read_bytes()
    from lamina.saving import weights_h5

    def explode(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(weights_h5, "save_state", explode)
    with pytest.raises(OSError, match="disk full"):
        model.save(tmp_path / "m.keras")
    assert (tmp_path / "m.keras").read_bytes() == before
    assert os.listdir(tmp_path) == ["m.keras"]


_CHILD = textwrap.dedent("""
    import sys, time
    import numpy as np
    import lamina
    model_path, weights_path = sys.argv[1], sys.argv[2]
    model = lamina.Sequential([lamina.Input((512,))] + [lamina.layers.Dense(512) for _ in range(8)])
    rng = np.random.default_rng(0)
    model.set_weights([rng.standard_normal(w.shape).astype("float32") for w in model.weights])
    while True:
        start = time.perf_counter()
        model.save(model_path)
        model.save_weights(weights_path)
        print(time.perf_counter() - start, flush=True)
""")


def _expected_weights():
    rng = np.random.default_rng(0)
    shapes = [(512, 512), (512,)] * 8
    return [rng.standard_normal(s).astype("float32") for s in shapes]


def test_kill_during_save_leaves_loadable_files(tmp_path):
    """A child saves a 8 MB model over and over (.keras, then .weights.h5); SIGKILL lands mid-save."""
    model_path, weights_path = str(tmp_path / "m.keras"), str(tmp_path / "m.weights.h5")
    env = {**os.environ, "PYTHONPATH": ROOT + os.pathsep + os.environ.get("PYTHONPATH", "")}
    proc = subprocess.Popen(
        [sys.executable, "-c", _CHILD, model_path, weights_path], stdout=subprocess.PIPE, env=env, text=True
    )
    try:
        durations = [float(proc.stdout.readline()) for _ in range(2)]  # two complete rounds
        time.sleep(random.uniform(0.05, 0.95) * max(durations))  # then kill it somewhere inside the next one
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.stdout.close()
    expected = _expected_weights()
    loaded = lamina.models.load_model(model_path)
    fresh = lamina.Sequential([lamina.Input((512,))] + [lamina.layers.Dense(512) for _ in range(8)])
    fresh.load_weights(weights_path)
    for model in (loaded, fresh):
        for got, want in zip(model.get_weights(), expected, strict=True):
            np.testing.assert_array_equal(got, want)
