"""Side-by-side training speed: Lamina vs Keras 3 (torch), Keras 3 (jax) and a hand-written PyTorch loop.

Each peer runs the same workload in its own subprocess (Keras picks its backend at import), one
after the other in the same run, and reports ms/step of a warm epoch (the median of the timed
epochs after one warm-up epoch). Predict latency of one sample is measured for the mlp.

    python benchmarks/bench_fit.py                    # all workloads, all peers
    python benchmarks/bench_fit.py --workloads mlp --peers lamina,torch
    python benchmarks/bench_fit.py --workloads transformer --jax-python /path/to/venv-with-jax/bin/python
    python benchmarks/bench_fit.py --steps 20 --epochs 3 --repeat 3   # a few minutes: 20 steps an epoch, 3 runs

``--repeat N`` runs every library N times, interleaved (workload by workload, all peers back to back, so a
loaded machine slows them alike); each cell is the median with its range, and Lamina / best peer is taken
per run, then summarised the same way.

The keras-jax peer runs in an interpreter that has jax: ``--jax-python`` (or ``$LAMINA_BENCH_JAX_PYTHON``), else
this one if it can import jax, else the project's reference venv ``/work/venvs/tfref`` if present; without
any, the column is skipped (its cells read n/a, with a note that jax is not importable).

Workloads (float32, Adam, sparse categorical cross-entropy from logits, accuracy metric):
  mlp        Input(784) -> Dense(256, relu) -> Dense(256, relu) -> Dense(10); 20,000 samples; batch 128
  mnist_cnn  Input(28,28,1) -> Conv2D(32,3,relu) -> MaxPool(2) -> Conv2D(64,3,relu) -> MaxPool(2) -> Flatten
             -> Dropout(0.5) -> Dense(10); 6,000 samples; batch 128
  seed_cnn   the Sequential guide's convnet on (250,250,3) -> GlobalMaxPooling2D -> Dense(10); 256 samples; batch 32
  transformer  Input((64,), int64) -> Embedding(5000, 64) -> MultiHeadAttention(num_heads=4, key_dim=16) self-attention,
             residual, LayerNormalization -> Dense(128, relu) -> Dense(64), residual, LayerNormalization
             -> GlobalAveragePooling1D -> Dense(10); 4,096 samples; batch 64 (torch loop: nn.MultiheadAttention)
  lstm       Input((80,), int64) -> Embedding(10000, 64) -> LSTM(128) -> Dense(10); 4,096 samples; batch 64
             (torch loop: nn.Embedding, nn.LSTM(batch_first=True), nn.Linear on the last hidden state)

The ``lamina-jit`` column is Lamina with ``compile(jit_compile=True)`` (the compiled whole step); it is not a
peer. Its compile time is the first epoch's time minus a warm epoch's. ``--import-time`` also times
``import lamina`` against ``import keras`` (each in a fresh interpreter, best of 3). The Lamina / floor column
divides by the FLOP floor: forward + backward FLOPs of one batch (torch's FlopCounterMode on the torch loop's
model) at ``--peak-gflops`` (155, the 2-core CPU's float32 matmul peak).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import time

WORKLOADS = {
    "mlp": {"n": 20000, "batch": 128, "epochs": 3},
    "mnist_cnn": {"n": 6000, "batch": 128, "epochs": 3},
    "seed_cnn": {"n": 256, "batch": 32, "epochs": 2},
    "transformer": {"n": 4096, "batch": 64, "epochs": 3},
    "lstm": {"n": 4096, "batch": 64, "epochs": 3},
}
SEQ_LEN, VOCAB = 64, 5000
LSTM_LEN, LSTM_VOCAB = 80, 10000
_REFERENCE_JAX_PYTHON = "/work/venvs/tfref/bin/python"  # this project's throwaway venv with jax (not a requirement)
PEERS = ["lamina", "keras-torch", "keras-jax", "torch"]
COLUMNS = [*PEERS, "lamina-jit"]  # lamina-jit: Lamina with jit_compile=True, shown beside the peers
# The FLOP floor of a step: forward + backward FLOPs of one batch (counted with torch's FlopCounterMode on the torch
# loop's model) at the machine's float32 matmul peak, ~155 GFLOP/s on the 2-core CPU of issue 15 (``--peak-gflops``).
PEAK_GFLOPS = 155.0


def _data(name: str, n: int):
    import numpy as np

    rng = np.random.default_rng(0)
    if name == "transformer":
        return rng.integers(0, VOCAB, (n, SEQ_LEN)).astype("int64"), rng.integers(0, 10, n)
    if name == "lstm":
        return rng.integers(0, LSTM_VOCAB, (n, LSTM_LEN)).astype("int64"), rng.integers(0, 10, n)
    shape = {"mlp": (784,), "mnist_cnn": (28, 28, 1), "seed_cnn": (250, 250, 3)}[name]
    x = rng.random((n, *shape), dtype=np.float32)
    y = rng.integers(0, 10, n)
    return x, y


def _keras_like_model(keras, name: str):
    layers = keras.layers
    if name == "lstm":
        inputs = keras.Input((LSTM_LEN,), dtype="int64")
        x = layers.LSTM(128)(layers.Embedding(LSTM_VOCAB, 64)(inputs))
        return keras.Model(inputs, layers.Dense(10)(x))
    if name == "transformer":
        inputs = keras.Input((SEQ_LEN,), dtype="int64")
        x = layers.Embedding(VOCAB, 64)(inputs)
        attention = layers.MultiHeadAttention(num_heads=4, key_dim=16)(x, x)
        x = layers.LayerNormalization()(layers.Add()([x, attention]))
        h = layers.Dense(64)(layers.Dense(128, activation="relu")(x))
        x = layers.LayerNormalization()(layers.Add()([x, h]))
        outputs = layers.Dense(10)(layers.GlobalAveragePooling1D()(x))
        return keras.Model(inputs, outputs)
    if name == "mlp":
        return keras.Sequential(
            [
                keras.Input((784,)),
                layers.Dense(256, activation="relu"),
                layers.Dense(256, activation="relu"),
                layers.Dense(10),
            ]
        )
    if name == "mnist_cnn":
        return keras.Sequential(
            [
                keras.Input((28, 28, 1)),
                layers.Conv2D(32, 3, activation="relu"),
                layers.MaxPooling2D(2),
                layers.Conv2D(64, 3, activation="relu"),
                layers.MaxPooling2D(2),
                layers.Flatten(),
                layers.Dropout(0.5),
                layers.Dense(10),
            ]
        )
    return keras.Sequential(
        [
            keras.Input((250, 250, 3)),
            layers.Conv2D(32, 5, strides=2, activation="relu"),
            layers.Conv2D(32, 3, activation="relu"),
            layers.MaxPooling2D(3),
            layers.Conv2D(32, 3, activation="relu"),
            layers.Conv2D(32, 3, activation="relu"),
            layers.MaxPooling2D(3),
            layers.Conv2D(32, 3, activation="relu"),
            layers.Conv2D(32, 3, activation="relu"),
            layers.MaxPooling2D(2),
            layers.GlobalMaxPooling2D(),
            layers.Dense(10),
        ]
    )


class _EpochTimer:
    def __init__(self) -> None:
        self.times: list[float] = []
        self._t = 0.0

    def begin(self) -> None:
        self._t = time.perf_counter()

    def end(self) -> None:
        self.times.append(time.perf_counter() - self._t)


def run_keras_like(peer: str, name: str, cfg: dict) -> dict:
    if peer.startswith("lamina"):
        sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # this checkout's Lamina
        import lamina as keras
    else:
        import keras
    x, y = _data(name, cfg["n"])
    model = _keras_like_model(keras, name)
    model.compile(
        optimizer=keras.optimizers.Adam(1e-3),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
        **({"jit_compile": True} if peer == "lamina-jit" else {}),
    )
    timer = _EpochTimer()

    class Cb(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            timer.begin()

        def on_epoch_end(self, epoch, logs=None):
            timer.end()

    model.fit(x, y, batch_size=cfg["batch"], epochs=cfg["epochs"], verbose=0, callbacks=[Cb()])
    steps = -(-cfg["n"] // cfg["batch"])
    warm = statistics.median(timer.times[1:])
    result = {"ms_per_step": 1000 * warm / steps}
    if peer == "lamina-jit":
        result["compile_s"] = timer.times[0] - warm
        whole = model.__dict__.get("_compiled_whole")
        parts = [whole] + [model.__dict__.get(k) for k in ("_compiled_fwd", "_compiled_update")]
        result["compiled"] = not model._jit_fell_back()
        result["one_program"] = whole is not None and whole.fallback_reason is None
        result["graphs"] = sum(p.graphs_compiled for p in parts if p is not None)
    if name == "mlp" and peer != "lamina-jit":
        one = x[:1]
        for _ in range(20):
            model.predict(one, verbose=0)
        t = time.perf_counter()
        reps = 200
        for _ in range(reps):
            model.predict(one, verbose=0)
        result["predict_ms"] = 1000 * (time.perf_counter() - t) / reps
        if peer.startswith("lamina"):
            import torch

            xt = torch.from_numpy(one).to(next(model.parameters()).device)
            with torch.inference_mode():
                for _ in range(20):
                    model(xt)
                t = time.perf_counter()
                for _ in range(reps):
                    model(xt)
            result["call_ms"] = 1000 * (time.perf_counter() - t) / reps
        else:
            xt = keras.ops.convert_to_tensor(one)
            for _ in range(20):
                model(xt)
            t = time.perf_counter()
            for _ in range(reps):
                model(xt)
            result["call_ms"] = 1000 * (time.perf_counter() - t) / reps
    return result


def _torch_transformer():
    import torch
    from torch import nn

    class Transformer(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.embedding = nn.Embedding(VOCAB, 64)
            self.attention = nn.MultiheadAttention(64, num_heads=4, batch_first=True)
            self.norm1 = nn.LayerNorm(64, eps=1e-3)  # Keras's LayerNormalization epsilon
            self.ff1, self.ff2 = nn.Linear(64, 128), nn.Linear(128, 64)
            self.norm2 = nn.LayerNorm(64, eps=1e-3)
            self.head = nn.Linear(64, 10)

        def forward(self, ids: torch.Tensor) -> torch.Tensor:
            x = self.embedding(ids)
            attended, _ = self.attention(x, x, x, need_weights=False)
            x = self.norm1(x + attended)
            x = self.norm2(x + self.ff2(torch.relu(self.ff1(x))))
            return self.head(x.mean(1))

    return Transformer()


def _torch_lstm():
    import torch
    from torch import nn

    class TextLSTM(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.embedding = nn.Embedding(LSTM_VOCAB, 64)
            self.lstm = nn.LSTM(64, 128, batch_first=True)
            self.head = nn.Linear(128, 10)

        def forward(self, ids: torch.Tensor) -> torch.Tensor:
            _, (h, _) = self.lstm(self.embedding(ids))
            return self.head(h[-1])

    return TextLSTM()


def run_torch(name: str, cfg: dict) -> dict:
    import torch
    from torch import nn

    x, y = _data(name, cfg["n"])
    model, xt = _torch_model(name, x)
    yt = torch.from_numpy(y)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    model.to(device)
    xt, yt = xt.to(device), yt.to(device)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    bs = cfg["batch"]
    times = []
    model.train()
    for _ in range(cfg["epochs"]):
        t = time.perf_counter()
        correct = torch.zeros((), device=device)
        for i in range(0, cfg["n"], bs):
            xb, yb = xt[i : i + bs], yt[i : i + bs]
            opt.zero_grad(set_to_none=True)
            out = model(xb)
            loss = loss_fn(out, yb)
            loss.backward()
            opt.step()
            correct += (out.argmax(-1) == yb).sum()
        float(correct)
        times.append(time.perf_counter() - t)
    steps = -(-cfg["n"] // bs)
    return {"ms_per_step": 1000 * statistics.median(times[1:]) / steps}


def _torch_model(name: str, x):
    """The hand-written torch model of a workload, and the inputs in its layout (channels first for the convnets)."""
    import torch
    from torch import nn

    if name in ("transformer", "lstm"):
        model = _torch_transformer() if name == "transformer" else _torch_lstm()
        xt = torch.from_numpy(x)
    elif name == "mlp":
        model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 10))
        xt = torch.from_numpy(x)
    elif name == "mnist_cnn":
        model = nn.Sequential(
            nn.Conv2d(1, 32, 3),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Dropout(0.5),
            nn.Linear(1600, 10),
        )
        xt = torch.from_numpy(x).permute(0, 3, 1, 2).contiguous()
    else:
        model = nn.Sequential(
            nn.Conv2d(3, 32, 5, stride=2),
            nn.ReLU(),
            nn.Conv2d(32, 32, 3),
            nn.ReLU(),
            nn.MaxPool2d(3),
            nn.Conv2d(32, 32, 3),
            nn.ReLU(),
            nn.Conv2d(32, 32, 3),
            nn.ReLU(),
            nn.MaxPool2d(3),
            nn.Conv2d(32, 32, 3),
            nn.ReLU(),
            nn.Conv2d(32, 32, 3),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.AdaptiveMaxPool2d(1),
            nn.Flatten(),
            nn.Linear(32, 10),
        )
        xt = torch.from_numpy(x).permute(0, 3, 1, 2).contiguous()
    return model, xt


def floor_ms(name: str, batch: int, peak_gflops: float = PEAK_GFLOPS) -> float:
    """Milliseconds one training step needs at ``peak_gflops``: forward + backward FLOPs of one batch (matmuls and
    convolutions, as torch's FlopCounterMode counts them; the optimizer and elementwise ops are left out)."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    x, y = _data(name, batch)
    model, xt = _torch_model(name, x)
    counter = FlopCounterMode(display=False)
    with counter:
        torch.nn.functional.cross_entropy(model(xt), torch.from_numpy(y)).backward()
    flops = counter.get_total_flops()
    if name == "lstm":  # the fused LSTM kernel is not counted: 4 gates of (input + hidden) x hidden per step,
        # forward 2 FLOPs a multiply-add, backward twice the forward
        lstm = model.lstm
        flops += 3 * 2 * batch * LSTM_LEN * 4 * lstm.hidden_size * (lstm.input_size + lstm.hidden_size)
    return flops / (peak_gflops * 1e9) * 1000


def child(peer: str, name: str, cfg: dict) -> None:
    if cfg.get("threads"):
        import torch

        torch.set_num_threads(cfg["threads"])
    result = run_torch(name, cfg) if peer == "torch" else run_keras_like(peer, name, cfg)
    print("RESULT " + json.dumps(result))


def _jax_python(explicit: str | None) -> str | None:
    """The interpreter for the keras-jax child: explicit, else $LAMINA_BENCH_JAX_PYTHON, else this one if it has
    jax, else the project's reference venv if present."""
    for candidate in (explicit, os.environ.get("LAMINA_BENCH_JAX_PYTHON")):
        if candidate:
            return candidate
    if importlib.util.find_spec("jax") is not None:
        return sys.executable
    return _REFERENCE_JAX_PYTHON if os.path.exists(_REFERENCE_JAX_PYTHON) else None


def _import_time(lib: str) -> float:
    """Seconds for ``import <lib>`` in a fresh interpreter (best of 3), from this checkout for Lamina."""
    code = f"import time; t = time.perf_counter(); import {lib}; print(time.perf_counter() - t)"
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ, KERAS_BACKEND="torch")
    runs = [
        float(
            subprocess.run(
                [sys.executable, "-c", code], cwd=root, env=env, capture_output=True, text=True, check=True
            ).stdout.split()[-1]
        )
        for _ in range(3)
    ]
    return round(min(runs), 3)


def _run_child(peer: str, name: str, cfg: dict, jax_python: str | None) -> dict:
    env = dict(os.environ)
    if peer.startswith("keras-"):
        env["KERAS_BACKEND"] = peer.split("-", 1)[1]
    env.setdefault("KERAS_BACKEND", "torch")
    if cfg.get("threads"):  # every library on the same number of CPU threads
        env["OMP_NUM_THREADS"] = env["MKL_NUM_THREADS"] = str(cfg["threads"])
        if cfg["threads"] == 1:
            env["XLA_FLAGS"] = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
    python = _jax_python(jax_python) if peer == "keras-jax" else sys.executable
    if python is None:
        note = "jax is not importable here: column skipped (pass --jax-python with an interpreter that has it)"
        return {"error": [note]}
    cmd = [python, __file__, "--child", peer, name, "--cfg", json.dumps(cfg)]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    line = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
    if proc.returncode != 0 or not line:
        return {"error": (proc.stderr or proc.stdout).strip().splitlines()[-1:]}
    return json.loads(line[0][7:])


def _ms(run: dict, name: str, peer: str) -> float | None:
    return run[name].get(peer, {}).get("ms_per_step")


def _spread(values: list[float]) -> str:
    """The median, with the range over the runs when there are several: ``0.82 (0.78–0.85)``."""
    if not values:
        return "n/a"
    med = statistics.median(values)
    return f"{med:.2f}" if len(values) == 1 else f"{med:.2f} ({min(values):.2f}–{max(values):.2f})"


def _print_table(runs: list[dict], floors: dict[str, float], columns: list[str]) -> None:
    """One row per workload: each column's median ms/step (range over the runs), Lamina / best peer and Lamina jit /
    best peer per run, Lamina / floor and the compile time of the compiled rows."""
    heads = "Lamina / best peer | Lamina jit / best peer | Lamina / floor | jit compile s"
    print("| workload | " + " | ".join(columns) + f" | {heads} |")
    print("|---|" + "---|" * (len(columns) + 4))
    for name in runs[0]:
        cells, ratios, jit_ratios, ours_all = [], [], [], []
        for peer in columns:
            cells.append(_spread([_ms(r, name, peer) for r in runs if _ms(r, name, peer) is not None]))
        for r in runs:
            row = r[name]
            peers = [row[p]["ms_per_step"] for p in PEERS[1:] if "ms_per_step" in row.get(p, {})]
            if "ms_per_step" in row.get("lamina", {}):
                ours_all.append(row["lamina"]["ms_per_step"])
                if peers:
                    ratios.append(row["lamina"]["ms_per_step"] / min(peers))
            if peers and row.get("lamina-jit", {}).get("compiled"):
                jit_ratios.append(row["lamina-jit"]["ms_per_step"] / min(peers))
        floor = _spread([o / floors[name] for o in ours_all]) if name in floors else ""
        jit = [r[name]["lamina-jit"] for r in runs if "compile_s" in r[name].get("lamina-jit", {})]
        compile_s = _spread([j["compile_s"] for j in jit]) if jit else ""
        if jit and not all(j.get("compiled") for j in jit):
            compile_s += " (eager fallback)"
        jit_ratio = _spread(jit_ratios) if jit_ratios else ""
        print(f"| {name} | " + " | ".join(cells) + f" | {_spread(ratios)} | {jit_ratio} | {floor} | {compile_s} |")
    if "mlp" in runs[0]:
        for key, label in (("predict_ms", "predict(x[:1]) ms"), ("call_ms", "model(x[:1]) ms")):
            cells = [_spread([r["mlp"][p][key] for r in runs if key in r["mlp"].get(p, {})]) for p in columns]
            print(f"| mlp {label} | " + " | ".join(cells) + " | | | | |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workloads", default=",".join(WORKLOADS))
    parser.add_argument("--peers", default=",".join(COLUMNS))
    parser.add_argument("--steps", type=int, help="steps per epoch (default: each workload's full data set)")
    parser.add_argument("--epochs", type=int, help="epochs, the first one a warm-up (default: each workload's)")
    parser.add_argument("--threads", type=int, help="CPU threads for every library (1 keeps a loaded machine fair)")
    parser.add_argument("--repeat", type=int, default=1, help="run everything this many times; cells show the range")
    parser.add_argument("--peak-gflops", type=float, default=PEAK_GFLOPS, help="the machine's float32 matmul peak")
    parser.add_argument("--import-time", action="store_true", help="also time `import lamina` vs `import keras`")
    parser.add_argument("--child", nargs=2, metavar=("PEER", "WORKLOAD"), help=argparse.SUPPRESS)
    parser.add_argument("--cfg", help=argparse.SUPPRESS)
    parser.add_argument("--json", help="also write the results to this file")
    parser.add_argument("--jax-python", help="interpreter with jax for the keras-jax peer (see above)")
    args = parser.parse_args()
    if args.child:
        child(*args.child, json.loads(args.cfg))
        return
    import torch

    names, columns = args.workloads.split(","), args.peers.split(",")
    cfgs = {}
    for name in names:
        cfg = dict(WORKLOADS[name])
        if args.steps:
            cfg["n"] = min(cfg["n"], args.steps * cfg["batch"])
        if args.epochs:
            cfg["epochs"] = max(2, args.epochs)
        if args.threads:
            cfg["threads"] = args.threads
        cfgs[name] = cfg
    floors = {name: floor_ms(name, cfgs[name]["batch"], args.peak_gflops) for name in names}
    print("FLOP floor ms/step: " + ", ".join(f"{n} {f:.2f}" for n, f in floors.items()), flush=True)
    runs: list[dict[str, dict[str, dict]]] = []
    for rep in range(args.repeat):
        results: dict[str, dict[str, dict]] = {}
        for name in names:  # peers of a workload one after the other, so that they see the same machine load
            results[name] = {}
            for peer in columns:
                results[name][peer] = _run_child(peer, name, cfgs[name], args.jax_python)
                print(f"run {rep + 1} {name:11s} {peer:12s} {results[name][peer]}", flush=True)
        runs.append(results)

    device = torch.cuda.get_device_name() if torch.cuda.is_available() else "cpu"
    threads = args.threads or torch.get_num_threads()
    print(f"\ntorch {torch.__version__}, {threads} threads, device {device}, {args.repeat} run(s)\n")
    _print_table(runs, floors, columns)
    out: dict = {"runs": runs, "floor_ms": floors, "cfg": cfgs}
    if args.import_time:
        out["import_s"] = {lib: _import_time(lib) for lib in ("lamina", "keras")}
        print(f"\nimport time (best of 3, fresh interpreter): {out['import_s']}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(out, f, indent=2)


if __name__ == "__main__":
    main()
