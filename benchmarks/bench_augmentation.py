"""Augmentation speed: an image augmentation block with Lamina and with Keras 3 on torch, side by side.

The block is ``RandomFlip("horizontal")`` -> ``RandomRotation(0.1)`` -> ``RandomZoom(0.1)`` (default
``fill_mode="reflect"``, bilinear), called with ``training=True`` on float32 batches of 32x224x224x3 on the
default device (the GPU if there is one). Each peer runs in its own subprocess (Keras picks its backend at
import), one after the other, and reports the median ms per batch over the timed batches after warm-up;
the whole comparison is repeated ``--runs`` times and the spread is printed.

    python benchmarks/bench_augmentation.py                 # 3 runs, both peers
    python benchmarks/bench_augmentation.py --runs 1 --batches 5 --peers lamina
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

PEERS = ["lamina", "keras-torch"]
SHAPE = (32, 224, 224, 3)


def _block(keras):
    layers = keras.layers
    return keras.Sequential(
        [layers.RandomFlip("horizontal", seed=1), layers.RandomRotation(0.1, seed=2), layers.RandomZoom(0.1, seed=3)]
    )


def child(peer: str, batches: int) -> None:
    import torch

    if peer == "lamina":
        sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        import lamina as keras
    else:
        import keras
    device = "cuda" if torch.cuda.is_available() else "cpu"
    block = _block(keras)
    x = torch.rand(SHAPE, device=device) * 255

    def sync() -> None:
        if device == "cuda":
            torch.cuda.synchronize()

    with torch.no_grad():
        for _ in range(2):  # warm-up: build, allocator, kernels
            block(x, training=True)
        sync()
        times = []
        for _ in range(batches):
            start = time.perf_counter()
            out = block(x, training=True)
            sync()
            times.append(time.perf_counter() - start)
    assert tuple(out.shape) == SHAPE
    print("RESULT " + json.dumps({"ms_per_batch": 1000 * statistics.median(times), "device": device}))


def _run(peer: str, batches: int) -> dict:
    env = dict(os.environ, KERAS_BACKEND="torch")
    proc = subprocess.run(
        [sys.executable, __file__, "--child", peer, "--batches", str(batches)], env=env, capture_output=True, text=True
    )
    line = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
    if proc.returncode != 0 or not line:
        return {"error": (proc.stderr or proc.stdout).strip().splitlines()[-1:]}
    return json.loads(line[0][7:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--peers", default=",".join(PEERS))
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--batches", type=int, default=10)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args()
    if args.child:
        child(args.child, args.batches)
        return
    import torch

    peers = args.peers.split(",")
    results: dict[str, list] = {p: [] for p in peers}
    for run in range(args.runs):
        for peer in peers:
            result = _run(peer, args.batches)
            results[peer].append(result)
            print(f"run {run + 1}  {peer:12s} {result}", flush=True)

    device = torch.cuda.get_device_name() if torch.cuda.is_available() else "cpu"
    print(f"\ntorch {torch.__version__}, {torch.get_num_threads()} threads, device {device}")
    print(f"RandomFlip + RandomRotation + RandomZoom, training=True, {'x'.join(map(str, SHAPE))} float32\n")
    print("| peer | ms/batch (median of runs) | min–max over runs |")
    print("|---|---|---|")
    medians = {}
    for peer in peers:
        values = [r["ms_per_batch"] for r in results[peer] if "ms_per_batch" in r]
        if not values:
            print(f"| {peer} | n/a | {results[peer][-1].get('error')} |")
            continue
        medians[peer] = statistics.median(values)
        print(f"| {peer} | {medians[peer]:.1f} | {min(values):.1f}–{max(values):.1f} |")
    if "lamina" in medians and "keras-torch" in medians:
        print(f"\nLamina / Keras-torch: {medians['lamina'] / medians['keras-torch']:.3f}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)


if __name__ == "__main__":
    main()
