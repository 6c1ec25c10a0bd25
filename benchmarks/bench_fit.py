"""Side-by-side training speed: Lamina vs Keras 3 (torch), Keras 3 (jax) and a hand-written PyTorch loop.

Each peer runs the same workload in its own subprocess (Keras picks its backend at import), one
after the other in the same run, and reports ms/step of a warm epoch (the median of the timed
epochs after one warm-up epoch). Predict latency of one sample is measured for the mlp.

    python benchmarks/bench_fit.py                    # all workloads, all peers
    python benchmarks/bench_fit.py --workloads mlp --peers lamina,torch

Workloads (float32, Adam, sparse categorical cross-entropy from logits, accuracy metric):
  mlp        Input(784) -> Dense(256, relu) -> Dense(256, relu) -> Dense(10); 20,000 samples; batch 128
  mnist_cnn  Input(28,28,1) -> Conv2D(32,3,relu) -> MaxPool(2) -> Conv2D(64,3,relu) -> MaxPool(2) -> Flatten
             -> Dropout(0.5) -> Dense(10); 6,000 samples; batch 128
  seed_cnn   the Sequential guide's convnet on (250,250,3) -> GlobalMaxPooling2D -> Dense(10); 256 samples; batch 32
"""

from __future__ import annotations

import argparse
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
}
PEERS = ["lamina", "keras-torch", "keras-jax", "torch"]


def _data(name: str, n: int):
    import numpy as np

    rng = np.random.default_rng(0)
    shape = {"mlp": (784,), "mnist_cnn": (28, 28, 1), "seed_cnn": (250, 250, 3)}[name]
    x = rng.random((n, *shape), dtype=np.float32)
    y = rng.integers(0, 10, n)
    return x, y


def _keras_like_model(keras, name: str):
    layers = keras.layers
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
    if peer == "lamina":
        import lamina as keras
    else:
        import keras
    x, y = _data(name, cfg["n"])
    model = _keras_like_model(keras, name)
    model.compile(
        optimizer=keras.optimizers.Adam(1e-3),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    timer = _EpochTimer()

    class Cb(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            timer.begin()

        def on_epoch_end(self, epoch, logs=None):
            timer.end()

    model.fit(x, y, batch_size=cfg["batch"], epochs=cfg["epochs"], verbose=0, callbacks=[Cb()])
    steps = -(-cfg["n"] // cfg["batch"])
    result = {"ms_per_step": 1000 * statistics.median(timer.times[1:]) / steps}
    if name == "mlp":
        one = x[:1]
        for _ in range(20):
            model.predict(one, verbose=0)
        t = time.perf_counter()
        reps = 200
        for _ in range(reps):
            model.predict(one, verbose=0)
        result["predict_ms"] = 1000 * (time.perf_counter() - t) / reps
        if peer == "lamina":
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


def run_torch(name: str, cfg: dict) -> dict:
    import torch
    from torch import nn

    x, y = _data(name, cfg["n"])
    if name == "mlp":
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


def child(peer: str, name: str) -> None:
    cfg = WORKLOADS[name]
    result = run_torch(name, cfg) if peer == "torch" else run_keras_like(peer, name, cfg)
    print("RESULT " + json.dumps(result))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workloads", default=",".join(WORKLOADS))
    parser.add_argument("--peers", default=",".join(PEERS))
    parser.add_argument("--child", nargs=2, metavar=("PEER", "WORKLOAD"), help=argparse.SUPPRESS)
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    import torch

    results: dict[str, dict[str, dict]] = {}
    for name in args.workloads.split(","):
        results[name] = {}
        for peer in args.peers.split(","):
            env = dict(os.environ)
            if peer.startswith("keras-"):
                env["KERAS_BACKEND"] = peer.split("-", 1)[1]
            env.setdefault("KERAS_BACKEND", "torch")
            proc = subprocess.run(
                [sys.executable, __file__, "--child", peer, name], env=env, capture_output=True, text=True
            )
            line = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
            if proc.returncode != 0 or not line:
                results[name][peer] = {"error": (proc.stderr or proc.stdout).strip().splitlines()[-1:]}
            else:
                results[name][peer] = json.loads(line[0][7:])
            print(f"{name:10s} {peer:12s} {results[name][peer]}", flush=True)

    device = torch.cuda.get_device_name() if torch.cuda.is_available() else "cpu"
    print(f"\ntorch {torch.__version__}, {torch.get_num_threads()} threads, device {device}\n")
    print("| workload | " + " | ".join(PEERS) + " | Lamina / best peer |")
    print("|---|" + "---|" * (len(PEERS) + 1))
    for name, row in results.items():
        cells = []
        for peer in PEERS:
            r = row.get(peer, {})
            cells.append(f"{r['ms_per_step']:.2f}" if "ms_per_step" in r else "n/a")
        peers = [row[p]["ms_per_step"] for p in PEERS[1:] if "ms_per_step" in row.get(p, {})]
        ratio = row.get("lamina", {}).get("ms_per_step", float("nan")) / min(peers) if peers else float("nan")
        print(f"| {name} (ms/step) | " + " | ".join(cells) + f" | {ratio:.2f} |")
    if "mlp" in results:
        row = results["mlp"]
        for key, label in (("predict_ms", "predict(x[:1]) ms"), ("call_ms", "model(x[:1]) ms")):
            cells = [f"{row[p][key]:.3f}" if key in row.get(p, {}) else "n/a" for p in PEERS]
            print(f"| mlp {label} | " + " | ".join(cells) + " | |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)


if __name__ == "__main__":
    main()
