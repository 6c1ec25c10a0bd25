"""Application models side by side: Lamina vs Keras 3 (torch), Keras 3 (jax) and torchvision where installed.

For ResNet50 and MobileNetV2 (224x224x3, ``weights=None``, float32) each peer reports, each in its own
subprocess so peak memory is its own:

  * inference throughput, images/s, at batch 1 and batch 32 (``model(x, training=False)``; median of the
    timed calls after warm-up; peers take turns for ``--rounds`` rounds and keep their best),
  * one fine-tuning step (the whole base trainable, a new ``Dense(10)`` head on average-pooled features,
    Adam at 1e-5, ``train_on_batch``), seconds per step at batch 8,
  * peak memory: the process's peak RSS (and peak CUDA memory on a GPU), for inference and for fine-tuning,
  * for the torch-based peers, the layout copies of activations one batch-1 forward makes (outermost
    ``aten::copy_`` / ``contiguous`` / ``clone`` / ``_to_copy`` on 4D batch tensors seen by the profiler;
    padding's writes and torch's convolution internals left out); kernels re-laid out per call are small
    and not counted.

    python benchmarks/bench_applications.py                          # both models, every peer found
    python benchmarks/bench_applications.py --models mobilenetv2 --peers lamina,keras-torch --repeats 3
    python benchmarks/bench_applications.py --threads 1     # one intra-op thread each: steadier on a shared box

Keras on jax runs in ``/work/venvs/tfref`` (or ``$KERAS_JAX_PYTHON``) when that interpreter has jax;
torchvision runs when it imports beside the torch in use. A missing peer shows as ``n/a``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)  # this checkout's lamina, not an installed one

MODELS = {"resnet50": "ResNet50", "mobilenetv2": "MobileNetV2"}
PEERS = ["lamina", "keras-torch", "keras-jax", "torchvision"]
SIZE = 224
FINETUNE_BATCH = 8
COPY_OPS = ("aten::copy_", "aten::contiguous", "aten::clone", "aten::_to_copy")
_NOT_LAYOUT = ("aten::constant_pad_nd", "aten::pad", "aten::convolution")


# ----------------------------------------------------------------------------------------------- workers
def _images(batch: int):
    import numpy as np

    return np.random.default_rng(0).uniform(0, 255, (batch, SIZE, SIZE, 3)).astype("float32")


def _timed(fn, repeats: int, warmup: int = 2) -> float:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def _peak_memory(result: dict) -> dict:
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    try:
        import torch

        if torch.cuda.is_available():
            result["peak_cuda_mb"] = torch.cuda.max_memory_allocated() / 2**20
    except ImportError:
        pass
    return result


def _count_copies(forward, batch: int = 1) -> int:
    """Copies of activations the library makes to change their layout: copy ops on (batch, ., ., .) tensors,
    counted once per outermost copy, leaving out padding (which writes into a larger buffer anyway) and the
    buffers torch's own convolution kernels fill (im2col of its single-threaded path)."""
    import torch

    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU], record_shapes=True) as prof:
        forward()
    count = 0
    for event in prof.events():
        if event.name not in COPY_OPS or not event.input_shapes or len(event.input_shapes[0]) != 4:
            continue
        if event.input_shapes[0][0] != batch or min(event.input_shapes[0][1:]) < 2:
            continue
        parent, nested = event.cpu_parent, False
        while parent is not None:
            nested = nested or parent.name in COPY_OPS or parent.name in _NOT_LAYOUT
            parent = parent.cpu_parent
        count += not nested
    return count


def _keras_like(peer: str):
    if peer == "lamina":
        import lamina as keras
    else:
        import keras
    return keras


def infer_keras_like(peer: str, model_name: str, repeats: int) -> dict:
    keras = _keras_like(peer)
    model = getattr(keras.applications, MODELS[model_name])(weights=None)
    result = {}
    for batch in (1, 32):
        x = keras.ops.convert_to_tensor(_images(batch))
        if peer == "lamina":
            import torch

            x = x.to(next(model.parameters()).device)

            def forward(x=x):
                with torch.inference_mode():
                    return model(x, training=False)

        elif peer == "keras-torch":
            import torch

            def forward(x=x):
                with torch.no_grad():
                    return model(x, training=False)

        else:
            forward = _jax_forward(model, x)
        seconds = _timed(forward, repeats if batch == 1 else max(2, repeats // 3))
        result[f"infer_b{batch}_ips"] = batch / seconds
        if batch == 1 and peer != "keras-jax":
            result["copies_per_forward"] = _count_copies(forward)
    return _peak_memory(result)


def _jax_forward(model, x):
    import jax

    step = jax.jit(lambda v, xb: model.stateless_call(*v, xb, training=False)[0])
    variables = ([v.value for v in model.trainable_variables], [v.value for v in model.non_trainable_variables])

    def forward():
        return step(variables, x).block_until_ready()

    return forward


def finetune_keras_like(peer: str, model_name: str, repeats: int) -> dict:
    keras = _keras_like(peer)
    base = getattr(keras.applications, MODELS[model_name])(weights=None, include_top=False, pooling="avg")
    base.trainable = True
    model = keras.Sequential([base, keras.layers.Dense(10)])
    model.compile(
        optimizer=keras.optimizers.Adam(1e-5),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    x = _images(FINETUNE_BATCH)
    y = (x.mean(axis=(1, 2, 3)) * 10 / 255).astype("int32")
    seconds = _timed(lambda: model.train_on_batch(x, y), repeats, warmup=1)
    return _peak_memory({"finetune_step_s": seconds})


def _torchvision_model(model_name: str):
    import torchvision

    return {"resnet50": torchvision.models.resnet50, "mobilenetv2": torchvision.models.mobilenet_v2}[model_name]()


def infer_torchvision(model_name: str, repeats: int) -> dict:
    import torch

    model = _torchvision_model(model_name).eval().to(memory_format=torch.channels_last)
    result = {}
    for batch in (1, 32):
        x = torch.from_numpy(_images(batch)).permute(0, 3, 1, 2)  # NHWC data as a channels_last NCHW view

        def forward(x=x):
            with torch.inference_mode():
                return model(x)

        result[f"infer_b{batch}_ips"] = batch / _timed(forward, repeats if batch == 1 else max(2, repeats // 3))
        if batch == 1:
            result["copies_per_forward"] = _count_copies(forward)
    return _peak_memory(result)


def finetune_torchvision(model_name: str, repeats: int) -> dict:
    import torch

    model = _torchvision_model(model_name)
    if model_name == "resnet50":
        model.fc = torch.nn.Linear(2048, 10)
    else:
        model.classifier = torch.nn.Linear(1280, 10)
    model = model.to(memory_format=torch.channels_last).train()
    opt = torch.optim.Adam(model.parameters(), lr=1e-5)
    x = torch.from_numpy(_images(FINETUNE_BATCH)).permute(0, 3, 1, 2)
    y = (x.mean(dim=(1, 2, 3)) * 10 / 255).long()

    def step():
        loss = torch.nn.functional.cross_entropy(model(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        float(loss)

    return _peak_memory({"finetune_step_s": _timed(step, repeats, warmup=1)})


def child(peer: str, model_name: str, task: str, repeats: int) -> None:
    threads = int(os.environ.get("BENCH_THREADS", "0"))
    if threads and peer != "keras-jax":
        import torch

        torch.set_num_threads(threads)
    if peer == "torchvision":
        result = (infer_torchvision if task == "infer" else finetune_torchvision)(model_name, repeats)
    else:
        result = (infer_keras_like if task == "infer" else finetune_keras_like)(peer, model_name, repeats)
    print("RESULT " + json.dumps(result), flush=True)


# ----------------------------------------------------------------------------------------------- driver
def _interpreter(peer: str) -> str | None:
    if peer != "keras-jax":
        return sys.executable
    candidate = os.environ.get("KERAS_JAX_PYTHON", "/work/venvs/tfref/bin/python")
    if not os.path.exists(candidate):
        return None
    probe = subprocess.run([candidate, "-c", "import jax, keras"], capture_output=True)
    return candidate if probe.returncode == 0 else None


def _run(peer: str, model_name: str, task: str, repeats: int, threads: int = 0) -> dict:
    python = _interpreter(peer)
    if python is None:
        return {"error": "interpreter with jax not found"}
    env = dict(os.environ, KERAS_BACKEND="jax" if peer == "keras-jax" else "torch")
    if threads:
        env.update(BENCH_THREADS=str(threads), OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
        if peer == "keras-jax":
            env["XLA_FLAGS"] = "--xla_cpu_multi_thread_eigen=false"  # single-threaded Eigen kernels
    if peer == "keras-jax":
        env.pop("PYTHONPATH", None)
    proc = subprocess.run(
        [python, os.path.abspath(__file__), "--child", peer, model_name, task, str(repeats)],
        env=env,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    line = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
    if proc.returncode != 0 or not line:
        return {"error": ((proc.stderr or proc.stdout).strip().splitlines() or ["no output"])[-1]}
    return json.loads(line[0][7:])


def _best(old: dict | None, new: dict) -> dict:
    """The better of two runs, measure by measure (throughput up, time and memory down)."""
    if not old or "error" in old:
        return new
    if "error" in new:
        return old
    return {k: (max if k.endswith("_ips") else min)(old[k], new[k]) if k in old else new[k] for k in new}


def _cell(row: dict, key: str, fmt: str) -> str:
    return format(row[key], fmt) if key in row else "n/a"


def _table(results: dict, peers: list[str]) -> str:
    rows = [
        ("inference b=1 (img/s)", "infer", "infer_b1_ips", ".1f", max),
        ("inference b=32 (img/s)", "infer", "infer_b32_ips", ".1f", max),
        (f"fine-tune step b={FINETUNE_BATCH} (s)", "finetune", "finetune_step_s", ".2f", min),
        ("peak RSS, inference (MB)", "infer", "peak_rss_mb", ".0f", min),
        ("peak RSS, fine-tune (MB)", "finetune", "peak_rss_mb", ".0f", min),
        ("layout copies / forward", "infer", "copies_per_forward", "d", min),
    ]
    lines = ["| model | measure | " + " | ".join(peers) + " |", "|---|---|" + "---|" * len(peers)]
    for model_name, by_task in results.items():
        for label, task, key, fmt, _ in rows:
            cells = [_cell(by_task[task].get(p, {}), key, fmt) for p in peers]
            lines.append(f"| {MODELS[model_name]} | {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--peers", default=",".join(PEERS))
    parser.add_argument("--repeats", type=int, default=5, help="timed calls at batch 1 (batch 32: a third)")
    parser.add_argument("--rounds", type=int, default=2, help="turns each peer takes; the best round is kept")
    parser.add_argument("--threads", type=int, default=0, help="intra-op threads per peer (0: the library default)")
    parser.add_argument("--json", help="also write the results to this file")
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        peer, model_name, task, repeats = args.child
        child(peer, model_name, task, int(repeats))
        return
    import torch

    peers = args.peers.split(",")
    results: dict[str, dict[str, dict]] = {}
    for model_name in args.models.split(","):
        results[model_name] = {"infer": {}, "finetune": {}}
        for task in ("infer", "finetune"):
            repeats = args.repeats if task == "infer" else max(2, args.repeats // 2)
            # peers take turns, round after round, and each keeps its best round: on a shared machine
            # a load spike then slows one round of one peer, not the comparison
            for _ in range(args.rounds):
                for peer in peers:
                    run = _run(peer, model_name, task, repeats, args.threads)
                    results[model_name][task][peer] = _best(results[model_name][task].get(peer), run)
                    print(f"{model_name:12s} {task:9s} {peer:12s} {run}", flush=True)
    device = torch.cuda.get_device_name() if torch.cuda.is_available() else "cpu"
    threads = args.threads or torch.get_num_threads()
    print(f"\ntorch {torch.__version__}, {threads} threads per peer, device {device}\n")
    print(_table(results, peers))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)


if __name__ == "__main__":
    main()
