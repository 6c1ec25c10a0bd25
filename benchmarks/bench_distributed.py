"""Scaling efficiency of data-parallel ``fit`` (``lamina.distribution.DataParallel`` under torchrun).

The same workload and the same *global* batch run with 1 process, then with N processes
(``torchrun --standalone --nproc_per_node=N``); each process is one "device": a GPU, or on CPU one
gloo worker limited to ``--threads`` threads. Reported per run: the median time of the warm epochs
(the first epoch, with start-up and DDP wrapping, is left out), throughput in samples/s, speed-up
over 1 process and scaling efficiency = speed-up / N. On CPU a 1-process run with N threads (same
cores, no data parallelism) is shown for reference.

    python benchmarks/bench_distributed.py                       # CPU: 1 vs 2 processes, MLP
    python benchmarks/bench_distributed.py --procs 1,2,4,8       # on a GPU machine: up to 8 GPUs
    python benchmarks/bench_distributed.py --workload cnn --batch 128
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORKLOADS = {
    # name: (input shape, samples)
    "mlp": ((784,), 16384),
    "cnn": ((28, 28, 1), 4096),
}


def _model(keras, workload: str):
    layers = keras.layers
    if workload == "mlp":
        return keras.Sequential(
            [
                keras.Input((784,)),
                layers.Dense(512, activation="relu"),
                layers.Dense(512, activation="relu"),
                layers.Dense(10),
            ]
        )
    return keras.Sequential(
        [
            keras.Input((28, 28, 1)),
            layers.Conv2D(32, 3, activation="relu"),
            layers.MaxPooling2D(2),
            layers.Conv2D(64, 3, activation="relu"),
            layers.MaxPooling2D(2),
            layers.Flatten(),
            layers.Dense(10),
        ]
    )


def worker(args: argparse.Namespace) -> None:
    """One process of a run (the torchrun target): trains and, on rank 0, prints a JSON line of timings."""
    import numpy as np

    import lamina as keras

    keras.distribution.set_distribution(keras.distribution.DataParallel())
    dist = keras.distribution.distribution()
    shape, n = WORKLOADS[args.workload]
    n = args.samples or n
    rng = np.random.default_rng(0)
    x = rng.random((n, *shape), dtype=np.float32)
    y = rng.integers(0, 10, n)
    keras.utils.set_random_seed(0)
    model = _model(keras, args.workload)
    model.compile(
        optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"]
    )
    times: list[float] = []

    class Timer(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.t = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            times.append(time.perf_counter() - self.t)

    history = model.fit(x, y, batch_size=args.batch, epochs=args.epochs, shuffle=True, verbose=0, callbacks=[Timer()])
    if dist.process_id == 0:
        warm = times[1:] or times
        print(
            json.dumps(
                {
                    "processes": dist.num_processes,
                    "epoch_s": statistics.median(warm),
                    "samples": n,
                    "device": str(getattr(dist, "device", "cpu")),
                    "final_loss": history.history["loss"][-1],
                }
            ),
            flush=True,
        )


def _run(procs: int, threads: int, args: argparse.Namespace) -> dict:
    env = dict(
        os.environ,
        OMP_NUM_THREADS=str(threads),
        KERAS_BACKEND="torch",
        PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
    )
    worker_args = [
        __file__,
        "--worker",
        "--workload",
        args.workload,
        "--batch",
        str(args.batch),
        "--epochs",
        str(args.epochs),
        "--samples",
        str(args.samples or 0),
        "--threads",
        str(threads),
    ]
    if procs == 1:
        cmd = [sys.executable, *worker_args]
    else:
        cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={procs}", *worker_args]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=args.timeout)
    if out.returncode != 0:
        raise RuntimeError(f"run with {procs} processes failed:\n{out.stdout[-2000:]}\n{out.stderr[-6000:]}")
    line = [ln for ln in out.stdout.splitlines() if ln.startswith("{")][-1]
    return json.loads(line)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--workload", choices=sorted(WORKLOADS), default="mlp")
    p.add_argument("--procs", default="1,2", help="comma-separated process counts (1 is the baseline)")
    p.add_argument("--batch", type=int, default=256, help="global batch size")
    p.add_argument("--epochs", type=int, default=4)
    p.add_argument("--samples", type=int, default=0, help="override the workload's sample count")
    p.add_argument("--threads", type=int, default=1, help="CPU threads per process")
    p.add_argument("--timeout", type=float, default=900)
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.worker:
        import torch

        torch.set_num_threads(args.threads)
        worker(args)
        return
    procs = sorted({int(v) for v in args.procs.split(",")} | {1})
    rows = []
    base = None
    for n in procs:
        r = _run(n, args.threads, args)
        base = base or r
        rows.append((f"{n} process{'es' if n > 1 else ''} x {args.threads} thread(s)", n, r))
    import torch

    if not torch.cuda.is_available() and max(procs) > 1:
        r = _run(1, args.threads * max(procs), args)
        rows.append((f"1 process x {args.threads * max(procs)} threads (reference)", None, r))
    print(
        f"workload={args.workload} global_batch={args.batch} samples={base['samples']} "
        f"device={base['device']} (median of warm epochs)"
    )
    print(f"{'run':42s} {'epoch s':>8s} {'samples/s':>10s} {'speed-up':>9s} {'efficiency':>10s}")
    for label, n, r in rows:
        speedup = base["epoch_s"] / r["epoch_s"]
        eff = f"{speedup / n:9.0%}" if n else f"{'':9s}"
        print(f"{label:42s} {r['epoch_s']:8.3f} {r['samples'] / r['epoch_s']:10.0f} {speedup:8.2f}x {eff:>10s}")


if __name__ == "__main__":
    main()
