"""GPU checks (skipped without CUDA): the same training on the GPU as on the CPU, device placement, precision."""

import numpy as np
import pytest
import torch

import lamina
from lamina import layers

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
