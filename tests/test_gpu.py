"""GPU checks (skipped without CUDA): the same training on the GPU as on the CPU, device placement, precision."""

import numpy as np
import pytest
import torch

import lamina
from lamina import layers
from tests.trainers.test_jit_compile import _twins

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")


def _convnet():
    return lamina.Sequential(
        [
            lamina.Input((8, 8, 1)),
            layers.Conv2D(8, 3, activation="relu"),
            layers.MaxPooling2D(2),
            layers.Flatten(),
            layers.Dense(3),
        ]
    )


def _fit(device, policy="float32"):
    lamina.mixed_precision.set_global_policy(policy)
    try:
        with lamina.backend.device_scope(device):
            lamina.utils.set_random_seed(0)
            model = _convnet()
            model.compile(
                optimizer="adam",
                loss=lamina.losses.SparseCategoricalCrossentropy(from_logits=True),
                metrics=["accuracy"],
            )
            rng = np.random.default_rng(0)
            x = rng.random((64, 8, 8, 1), dtype=np.float32)
            y = rng.integers(0, 3, 64)
            h = model.fit(x, y, batch_size=16, epochs=3, shuffle=False, verbose=0)
            return model, h
    finally:
        lamina.mixed_precision.set_global_policy("float32")


def test_weights_and_batches_live_on_the_gpu():
    model, _ = _fit("cuda")
    assert all(p.is_cuda for p in model.parameters())
    assert all(v.value.is_cuda for v in model.optimizer.variables)
    out = model.predict(np.zeros((2, 8, 8, 1), "float32"), verbose=0)
    assert isinstance(out, np.ndarray) and out.shape == (2, 3)


def test_gpu_training_matches_cpu():
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cuda.matmul.allow_tf32 = False
    gpu, hg = _fit("cuda")
    cpu, hc = _fit("cpu")
    np.testing.assert_allclose(hg.history["loss"], hc.history["loss"], rtol=1e-4, atol=1e-5)
    for a, b in zip(gpu.get_weights(), cpu.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-3, atol=1e-4)


@pytest.mark.parametrize("policy", ["mixed_float16", "mixed_bfloat16"])
def test_mixed_precision_on_gpu(policy):
    _, h = _fit("cuda", policy)
    assert np.isfinite(h.history["loss"]).all() and h.history["loss"][-1] < h.history["loss"][0]


def test_model_moves_with_to():
    model = _convnet()
    model.to("cuda")
    x = torch.zeros(2, 8, 8, 1, device="cuda")
    assert model(x).is_cuda


def test_compiled_whole_step_is_captured_in_a_cuda_graph_and_trains_as_eager():
    """jit_compile=True on CUDA: the one-program train step is compiled for CUDA-graph replay (no capture skipped),
    and three epochs with a ragged last batch give the eager twin's losses and weights."""
    from torch._dynamo.utils import counters

    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    counters.clear()
    with lamina.backend.device_scope("cuda"):
        jit, eager = _twins(
            lambda: lamina.Sequential([lamina.Input((6,)), layers.Dense(16, activation="relu"), layers.Dense(3)]),
            lamina.losses.SparseCategoricalCrossentropy(from_logits=True),
            metrics=["accuracy"],
        )
        rng = np.random.default_rng(0)
        x, y = rng.random((72, 6), dtype=np.float32), rng.integers(0, 3, 72)
        h_jit = jit.fit(x, y, batch_size=16, epochs=3, shuffle=False, verbose=0)
        h_eager = eager.fit(x, y, batch_size=16, epochs=3, shuffle=False, verbose=0)
    whole = jit._compiled_whole
    assert whole.fallback_reason is None and whole.cuda_graphs_used and whole.graphs_compiled == 1
    assert counters["inductor"]["cudagraph_skips"] == 0  # Inductor counts each graph it could not capture
    np.testing.assert_allclose(h_jit.history["loss"], h_eager.history["loss"], rtol=1e-4)
    for a, b in zip(jit.get_weights(), eager.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, atol=1e-4)
