"""Freed host memory is kept for reuse while fit/evaluate/predict run (glibc malloc tuning), and given back after.

The effect is measured as the kernel sees it: minor page faults of a thread (``RUSAGE_THREAD``) while 64 MB tensors
are made and freed, in a fresh interpreter.
"""

import platform
import resource
import subprocess
import sys

import numpy as np
import pytest

import lamina
from lamina.backend import host_memory

glibc_only = pytest.mark.skipif(
    platform.system() != "Linux" or platform.libc_ver()[0] != "glibc" or not hasattr(resource, "RUSAGE_THREAD"),
    reason="malloc tuning applies to glibc on Linux",
)


@pytest.fixture
def untuned_env(monkeypatch):
    for name in ("LAMINA_REUSE_HOST_MEMORY", "LD_PRELOAD", *host_memory._USER_TUNING):
        monkeypatch.delenv(name, raising=False)


_MEASURE = """
import resource, torch
from lamina.backend import host_memory

def faults():  # minor page faults of this thread while a 64 MB tensor is filled and freed 4 times, after one warm
    torch.ones(16 * 2**20).sum()
    before = resource.getrusage(resource.RUSAGE_THREAD).ru_minflt
    for _ in range(4):
        torch.ones(16 * 2**20).sum()
    return resource.getrusage(resource.RUSAGE_THREAD).ru_minflt - before

outside = faults()
with host_memory.reuse_freed_memory():
    with host_memory.reuse_freed_memory():
        nested = faults()
    inside = faults()  # the inner holder left: still kept
    held = host_memory.held()
print(outside, nested, inside, held, faults(), host_memory.held())
"""


@glibc_only
def test_freed_pages_are_reused_inside_and_given_back_after(untuned_env):
    # a fresh interpreter: in a long-lived one, where a big block lands depends on what the process did before
    # (a fit's steady state reuses its blocks; benchmarks/bench_fit.py measures that)
    run = subprocess.run([sys.executable, "-c", _MEASURE], capture_output=True, text=True, check=True)
    outside, nested, inside, held, after, held_after = run.stdout.split()
    outside, nested, inside, after = int(outside), int(nested), int(inside), int(after)
    # 4 x 64 MB is 65,536 pages of 4 KiB (32 x 4 huge pages where the kernel backs malloc with them)
    assert outside >= 100, run.stdout
    assert nested * 20 < outside and inside * 20 < outside, run.stdout
    assert held == "True" and held_after == "False", run.stdout
    assert after * 2 > outside, run.stdout  # glibc's defaults are back: each tensor is its own mmap again


@pytest.mark.parametrize(
    "env",
    [
        {"LAMINA_REUSE_HOST_MEMORY": "0"},
        {"LAMINA_REUSE_HOST_MEMORY": "off"},
        {"MALLOC_TRIM_THRESHOLD_": "1000000"},
        {"GLIBC_TUNABLES": "glibc.malloc.mmap_max=0"},
    ],
    ids=["opt-out-0", "opt-out-off", "user-malloc-env", "user-tunables"],
)
def test_a_user_choice_turns_it_off(untuned_env, monkeypatch, env):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert not host_memory.enabled()
    with host_memory.reuse_freed_memory():  # still a valid context, tuning nothing
        assert host_memory.held()
    assert not host_memory.held()


def test_another_allocator_preloaded_is_left_alone(untuned_env, monkeypatch):
    monkeypatch.setattr(host_memory, "_looked_up", False)
    monkeypatch.setattr(host_memory, "_libc", None)
    monkeypatch.setenv("LD_PRELOAD", "/usr/lib/x86_64-linux-gnu/libjemalloc.so.2")
    assert not host_memory.enabled()
    assert host_memory._glibc() is None  # looked up once, under this LD_PRELOAD (monkeypatch restores the cache)


def _dense_model() -> lamina.Model:
    model = lamina.Sequential([lamina.Input((3,)), lamina.layers.Dense(2)])
    model.compile(optimizer="sgd", loss="mse")
    return model


class _Seen(lamina.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.held = []

    def on_train_batch_end(self, batch, logs=None):
        self.held.append(("train", host_memory.held()))

    def on_test_batch_end(self, batch, logs=None):
        self.held.append(("test", host_memory.held()))

    def on_predict_batch_end(self, batch, logs=None):
        self.held.append(("predict", host_memory.held()))


def test_fit_evaluate_and_predict_hold_it_for_their_batches_only(untuned_env):
    model = _dense_model()
    x, y = np.ones((8, 3), "float32"), np.zeros((8, 2), "float32")
    seen = _Seen()
    model.fit(x, y, batch_size=4, epochs=1, validation_data=(x, y), callbacks=[seen], verbose=0)
    model.evaluate(x, y, batch_size=4, callbacks=[seen], verbose=0)
    out = model.predict(np.ones((40, 3), "float32"), batch_size=20, callbacks=[seen], verbose=0)
    assert out.shape == (40, 2)
    assert seen.held == [("train", True)] * 2 + [("test", True)] * 4 + [("predict", True)] * 2
    assert not host_memory.held()


def test_a_failing_fit_gives_it_back(untuned_env):
    class Boom(lamina.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            raise ValueError("boom in batch 0")

    model = _dense_model()
    with pytest.raises(ValueError, match="boom in batch 0"):
        model.fit(np.ones((8, 3), "float32"), np.zeros((8, 2), "float32"), callbacks=[Boom()], verbose=0)
    assert not host_memory.held()
