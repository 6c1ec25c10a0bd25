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
    # the next saves to the same targets remove whatever the killed save left (its temp and scratch files)
    loaded.save(model_path)
    loaded.save_weights(weights_path)
    assert sorted(os.listdir(tmp_path)) == ["m.keras", "m.weights.h5"]


# A writer that stops inside atomic_write (as a SIGKILLed save does) with only the stdlib loaded: quick to start.
_STUCK_WRITER = textwrap.dedent("""
    import importlib.util, sys, time
    spec = importlib.util.spec_from_file_location("atomic", sys.argv[1])
    atomic = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(atomic)
    with atomic.atomic_write(sys.argv[2]) as tmp:
        with open(tmp, "wb") as f:
            f.write(b"half" * 1000)
        print(tmp, flush=True)
        time.sleep(60)
""")


def _start_stuck_writer(target):
    module = os.path.join(ROOT, "lamina", "backend", "atomic.py")
    proc = subprocess.Popen(
        [sys.executable, "-c", _STUCK_WRITER, module, str(target)], stdout=subprocess.PIPE, text=True
    )
    tmp = proc.stdout.readline().strip()
    assert os.path.exists(tmp), tmp
    return proc, tmp


def _stop(proc):
    if proc.poll() is None:
        proc.kill()
    proc.wait(timeout=30)
    proc.stdout.close()


def test_next_save_removes_the_temp_file_of_a_killed_save(tmp_path):
    target = tmp_path / "m.keras"
    target.write_bytes(b"old")
    proc, tmp = _start_stuck_writer(target)
    try:
        proc.send_signal(signal.SIGKILL)
    finally:
        _stop(proc)
    assert os.path.exists(tmp)  # a SIGKILL skips every cleanup
    assert target.read_bytes() == b"old"
    with atomic_write(target) as new_tmp:
        with open(new_tmp, "wb") as f:
            f.write(b"new")
    assert sorted(os.listdir(tmp_path)) == ["m.keras"]
    assert target.read_bytes() == b"new"


def test_a_live_writers_temp_file_is_kept(tmp_path):
    target = tmp_path / "m.keras"
    proc, tmp = _start_stuck_writer(target)
    try:
        with atomic_write(target) as new_tmp:
            with open(new_tmp, "wb") as f:
                f.write(b"mine")
        assert os.path.exists(tmp), "the temp file of a save still running was removed"
        assert target.read_bytes() == b"mine"
    finally:
        _stop(proc)


def test_other_targets_and_anonymous_recent_temps_are_kept(tmp_path):
    other = tmp_path / ".n.keras.00000000-1.abc.tmp.keras"  # another target's temp
    recent = tmp_path / ".m.keras.abcd1234.tmp.keras"  # an older Lamina's temp, touched just now
    old = tmp_path / ".m.keras.zzzz9999.tmp.keras"  # the same, untouched for two days
    for p in (other, recent, old):
        p.write_bytes(b"x")
    two_days_ago = time.time() - 2 * 24 * 3600
    os.utime(old, (two_days_ago, two_days_ago))
    with atomic_write(tmp_path / "m.keras") as tmp:
        with open(tmp, "wb") as f:
            f.write(b"new")
    assert sorted(os.listdir(tmp_path)) == sorted([other.name, recent.name, "m.keras"])


def test_write_errors_name_the_target_not_the_temp_file(tmp_path):
    target = tmp_path / "m.keras"
    no_space = r"Errno 28\] Cannot write .*m\.keras': No space left"
    with pytest.raises(OSError, match=no_space) as info, atomic_write(target) as tmp:
        raise OSError(28, "No space left on device", tmp)
    assert ".tmp" not in str(info.value)
    with pytest.raises(OSError, match="m.keras") as info, atomic_write(target) as tmp:
        raise OSError(f"Unable to create file (name = '{tmp}', errno = 28)")  # h5py's form: no errno
    assert ".tmp" not in str(info.value)
    assert os.listdir(tmp_path) == []


def test_unwritable_folder_names_the_target(tmp_path, monkeypatch):
    import tempfile as tempfile_module

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied", os.path.join(str(tmp_path), ".m.keras.x.tmp.keras"))

    monkeypatch.setattr(tempfile_module, "mkstemp", refuse)  # as in a read-only folder (root ignores chmod)
    with pytest.raises(PermissionError, match=r"Cannot write .*m\.keras") as info, atomic_write(tmp_path / "m.keras"):
        pass
    assert ".tmp" not in str(info.value)
