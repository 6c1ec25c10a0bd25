"""Where a Lamina training step of a ``bench_fit`` workload goes: ``torch.profiler`` over one warm epoch.

    python benchmarks/profile_step.py seed_cnn --samples 128
    python benchmarks/profile_step.py mnist_cnn --samples 2560 --no-relu-reorder   # the layer-by-layer order
    python benchmarks/profile_step.py mlp --samples 19200 --jit                     # the compiled one-program step

Prints ms per step of every op (self CPU time, the largest first). ``--no-relu-reorder`` runs relu convolutions and
the max pooling after them layer by layer (``lamina/models/relu_pooling.py``) to measure what the reordering saves.
Timing only: nothing here is asserted.
"""

from __future__ import annotations

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import bench_fit  # noqa: E402
from torch.profiler import profile  # noqa: E402

import lamina  # noqa: E402
from lamina.models import functional, relu_pooling, sequential  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("workload", choices=list(bench_fit.WORKLOADS))
    parser.add_argument("--samples", type=int, help="samples per epoch (default: the workload's data set)")
    parser.add_argument("--jit", action="store_true", help="compile(jit_compile=True)")
    parser.add_argument("--no-relu-reorder", action="store_true", help="relu convolutions and max pooling in order")
    parser.add_argument("--rows", type=int, default=15)
    args = parser.parse_args()
    if args.no_relu_reorder:
        for module in (sequential, functional, relu_pooling):
            module.relu_commutes_with = lambda *a: False
    cfg = bench_fit.WORKLOADS[args.workload]
    n = args.samples or cfg["n"]
    x, y = bench_fit._data(args.workload, n)
    model = bench_fit._keras_like_model(lamina, args.workload)
    model.compile(
        optimizer=lamina.optimizers.Adam(1e-3),
        loss=lamina.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
        jit_compile=args.jit,
    )
    model.fit(x, y, batch_size=cfg["batch"], epochs=1, verbose=0)  # warm: builds, compiles
    with profile() as prof:
        model.fit(x, y, batch_size=cfg["batch"], epochs=1, verbose=0)
    steps = n // cfg["batch"]
    events = sorted(prof.key_averages(), key=lambda e: -e.self_cpu_time_total)
    total = sum(e.self_cpu_time_total for e in events) / 1e3 / steps
    order = "layer by layer" if args.no_relu_reorder else "relu after max pooling"
    print(f"{args.workload}: {total:.1f} ms of ops per step ({steps} steps, {order}{', jit' if args.jit else ''})")
    for e in events[: args.rows]:
        print(f"  {e.self_cpu_time_total / 1e3 / steps:9.2f} ms  {e.key}")


if __name__ == "__main__":
    main()
