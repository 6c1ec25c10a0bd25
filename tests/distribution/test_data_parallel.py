"""Multi-process data parallelism, end to end: real ``torchrun --standalone --nproc_per_node=2`` jobs on CPU (gloo).

The scenarios (tests/distribution/workers/scenarios.py) run once in one process and once in two; the
tests compare the results: same weights and History (float tolerance), identical replicas, global
metrics, full predictions in order, rank-0-only output and files, clear errors instead of hangs.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
WORKERS = Path(__file__).resolve().parent / "workers"
RTOL, ATOL = 1e-5, 1e-6


def _env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env.update({"KERAS_BACKEND": "torch", "OMP_NUM_THREADS": "1", "LAMINA_DISTRIBUTION_TIMEOUT": "60"})
    for name in ("WORLD_SIZE", "RANK", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"):
        env.pop(name, None)  # never inherit a job from the environment
    env.update(extra)
    return env


def _torchrun(*args: str, timeout: float = 150, **env: str) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "torch.distributed.run", *args]
    return subprocess.run(cmd, cwd=ROOT, env=_env(**env), capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """{world: [rank0_results, ...]} for the single-process reference and the 2-process job."""
    out = tmp_path_factory.mktemp("data_parallel")
    script = str(WORKERS / "scenarios.py")
    single = subprocess.run(
        [sys.executable, script, str(out)], cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=150
    )
    assert single.returncode == 0, single.stderr[-4000:]
    job = _torchrun("--standalone", "--nproc_per_node=2", script, str(out))
    assert job.returncode == 0, (job.stdout + job.stderr)[-6000:]
    load = lambda w, r: json.loads((out / f"world{w}_rank{r}.json").read_text())
    return {"dir": out, 1: [load(1, 0)], 2: [load(2, 0), load(2, 1)]}


def _weights(result):
    return [np.asarray(w, dtype=np.float64) for w in result["weights"]]


EQUIVALENT = [
    "arrays_ragged",
    "arrays_tiny_last",
    "arrays_shuffled",
    "loader",
    "loader_shuffled",
    "pydataset",
    "generator",
    "steps_per_epoch",
    "custom_train_step",
    "backup_resume",
    "not_auto_sharded",
]


@pytest.mark.parametrize("name", EQUIVALENT)
def test_two_processes_train_like_one_process_with_the_same_global_batch(runs, name):
    ref, (r0, r1) = runs[1][0][name], runs[2]
    for got in (r0[name], r1[name]):
        for a, b in zip(_weights(ref), _weights(got), strict=True):
            np.testing.assert_allclose(b, a, rtol=RTOL, atol=ATOL)
        assert sorted(got["history"]) == sorted(ref["history"])
        for key, values in ref["history"].items():
            np.testing.assert_allclose(got["history"][key], values, rtol=RTOL, atol=ATOL, err_msg=key)


@pytest.mark.parametrize("name", [*EQUIVALENT, "batchnorm"])
def test_replicas_end_bit_identical_with_identical_logs(runs, name):
    r0, r1 = runs[2][0][name], runs[2][1][name]
    for a, b in zip(_weights(r0), _weights(r1), strict=True):
        np.testing.assert_array_equal(a, b)  # BatchNormalization moving statistics included
    assert r0["history"] == r1["history"]


def test_evaluate_gives_the_global_metrics_on_every_rank(runs):
    for name in ("arrays_ragged", "arrays_tiny_last", "rank_local_init_evaluate"):
        ref = runs[1][0][name]["evaluate"]
        r0, r1 = (r[name]["evaluate"] for r in runs[2])
        assert r0 == r1
        assert r0["accuracy"] == ref["accuracy"]  # metric state is summed, so accuracy is exact
        np.testing.assert_allclose(r0["loss"], ref["loss"], rtol=RTOL)


def test_predict_returns_every_sample_in_the_original_order(runs):
    for name, key in (
        ("arrays_ragged", "predict"),
        ("arrays_ragged", "predict1"),
        ("arrays_ragged", "predict_odd"),
        ("rank_local_init_evaluate", "predict"),
    ):
        ref = np.asarray(runs[1][0][name][key])
        r0, r1 = (np.asarray(r[name][key]) for r in runs[2])
        assert r0.shape == ref.shape
        np.testing.assert_array_equal(r0, r1)
        np.testing.assert_allclose(r0, ref, rtol=RTOL, atol=ATOL)


def test_a_dataloader_loads_each_sample_in_exactly_one_process(runs):
    loaded = [r["loader"]["loaded"] for r in runs[2]]
    assert not set(loaded[0]) & set(loaded[1])
    assert sorted(loaded[0] + loaded[1]) == list(range(10))
    assert loaded[0] == [0, 1, 4, 5, 8]  # each global batch of 4 split 2/2, the last (2 samples) 1/1


def test_only_rank_0_prints_and_writes_files(runs):
    out = runs["dir"]
    r0, r1 = (r["files_and_output"] for r in runs[2])
    assert "loss" in r0["printed"] and r1["printed"] == ""
    assert r0["checkpoint_saves"] == 2 and r1["checkpoint_saves"] == 0
    assert (out / "ckpt_world2.weights.h5").exists()
    for stem in ("log_world2_rank{}.csv", "model_world2_rank{}.keras", "weights_world2_rank{}.weights.h5"):
        assert (out / stem.format(0)).exists()
        assert not (out / stem.format(1)).exists()


def test_processes_with_different_data_fail_with_a_clear_error(runs):
    for r in runs[2]:
        msg = r["mismatched_lengths"]["error"]
        assert "disagree on the number of training batches" in msg and "[5, 4]" in msg


def test_a_crashing_rank_ends_the_job_with_its_error_not_a_hang():
    start = time.monotonic()
    job = _torchrun("--standalone", "--nproc_per_node=2", str(WORKERS / "failures.py"), "crash", timeout=90)
    assert job.returncode != 0
    assert time.monotonic() - start < 60
    output = job.stdout + job.stderr
    assert "simulated failure on rank 1" in output
    assert "finished" not in job.stdout


def test_a_stuck_rank_times_out_with_an_explanation():
    start = time.monotonic()
    job = _torchrun("--standalone", "--nproc_per_node=2", str(WORKERS / "failures.py"), "stuck", timeout=90)
    assert job.returncode != 0
    assert time.monotonic() - start < 60  # DataParallel(timeout=5): no hang
    assert "did not reach the same step within 5 s" in job.stderr


def _taken_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    s.listen(1)
    return s, s.getsockname()[1]


def test_a_taken_port_is_reported_by_torchrun():
    sock, port = _taken_port()
    with sock:
        job = _torchrun(
            "--nnodes=1",
            "--nproc_per_node=2",
            "--master_addr=127.0.0.1",
            f"--master_port={port}",
            str(WORKERS / "failures.py"),
            "crash",
            timeout=90,
        )
    assert job.returncode != 0
    assert "EADDRINUSE" in job.stderr or "address already in use" in job.stderr


def test_a_taken_port_is_reported_by_initialize():
    sock, port = _taken_port()
    code = "import lamina as k; k.distribution.initialize(num_processes=2, process_id=0)"
    with sock:
        job = subprocess.run(
            [sys.executable, "-c", code],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=90,
            env=_env(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), LAMINA_DISTRIBUTION_TIMEOUT="10"),
        )
    assert job.returncode != 0
    assert f"the rendezvous port of 127.0.0.1:{port} is already in use" in job.stderr


def test_a_coordinator_that_never_comes_times_out_with_an_explanation():
    sock, port = _taken_port()
    sock.close()  # a free port nobody listens on
    code = (
        f"import lamina as k; k.distribution.initialize(job_addresses='127.0.0.1:{port}', num_processes=2, "
        "process_id=1, timeout=5)"
    )
    start = time.monotonic()
    job = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=90, env=_env())
    assert job.returncode != 0
    assert time.monotonic() - start < 60
    assert "the other processes did not join in time" in job.stderr


def test_spawn_runs_two_processes_without_a_launcher():
    job = subprocess.run(
        [sys.executable, str(WORKERS / "spawned.py")], cwd=ROOT, capture_output=True, text=True, timeout=120, env=_env()
    )
    assert job.returncode == 0, job.stderr[-4000:]
    out = json.loads(job.stdout.strip().splitlines()[-1])
    assert out["spawned"]["world"] == 2 and out["spawned"]["rank"] == 0 and out["single"]["world"] == 1
    np.testing.assert_allclose(out["spawned"]["loss"], out["single"]["loss"], rtol=RTOL)
    for a, b in zip(out["spawned"]["weights"], out["single"]["weights"], strict=True):
        np.testing.assert_allclose(a, b, rtol=RTOL, atol=ATOL)
