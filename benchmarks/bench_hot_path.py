"""The hot path of one checkout: mlp fit (ms/step, best warm epoch of 3) and predict(x[:1]) (ms, median of 200).

Compare two checkouts by alternating runs, one thread each (how the Variable design was checked):

    for r in 1 2 3; do for tree in ../old ../new; do python benchmarks/bench_hot_path.py $tree; done; done
"""

import json
import os
import statistics
import sys
import time

sys.path.insert(0, sys.argv[1])
os.chdir(sys.argv[1])
import numpy as np
import torch

torch.set_num_threads(1)
import lamina
from lamina import layers

rng = np.random.default_rng(0)
x = rng.random((5120, 784), dtype=np.float32)
y = rng.integers(0, 10, 5120)
m = lamina.Sequential(
    [lamina.Input((784,)), layers.Dense(256, activation="relu"), layers.Dense(256, activation="relu"), layers.Dense(10)]
)
m.compile(optimizer="adam", loss=lamina.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
m.fit(x, y, batch_size=128, epochs=1, verbose=0)
ts = []
for _ in range(3):
    t = time.perf_counter()
    m.fit(x, y, batch_size=128, epochs=1, verbose=0)
    ts.append((time.perf_counter() - t) / 40 * 1e3)
p = []
for _ in range(20):
    m.predict(x[:1], verbose=0)
for _ in range(200):
    t = time.perf_counter()
    m.predict(x[:1], verbose=0)
    p.append((time.perf_counter() - t) * 1e3)
print(json.dumps({"fit_ms_per_step": min(ts), "predict1_ms": statistics.median(p), "file": lamina.__file__}))
