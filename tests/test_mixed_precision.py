"""mixed_float16 / mixed_bfloat16 policies: float32 weights, low-precision compute, training still works."""

import numpy as np
import pytest
import torch

import lamina
from lamina import layers


@pytest.fixture
def policy():
    def set_policy(name):
        lamina.mixed_precision.set_global_policy(name)

    yield set_policy
    lamina.mixed_precision.set_global_policy("float32")


def test_mixed_bfloat16_layer(policy):
    policy("mixed_bfloat16")
    layer = layers.Dense(4)
    assert layer.compute_dtype == "bfloat16" and layer.dtype == "float32"
    out = layer(np.ones((2, 3), "float32"))
    assert out.dtype == torch.bfloat16
    assert layer.kernel.dtype == torch.float32


def test_mixed_policy_fit(policy):
    policy("mixed_bfloat16")
    model = lamina.Sequential([lamina.Input((4,)), layers.Dense(16, activation="relu"), layers.Dense(3)])
    model.compile(optimizer="adam", loss=lamina.losses.SparseCategoricalCrossentropy(from_logits=True))
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((64, 4)).astype("float32"), rng.integers(0, 3, 64)
    h = model.fit(x, y, epochs=3, batch_size=16, verbose=0)
    assert np.isfinite(h.history["loss"]).all() and h.history["loss"][-1] < h.history["loss"][0]
    assert all(w.dtype == torch.float32 for w in model.weights)


def test_unknown_policy_rejected():
    with pytest.raises(ValueError, match="mixed_float16"):
        lamina.mixed_precision.set_global_policy("mixed_float8")


def test_mixed_float16_uses_loss_scaling(policy):
    policy("mixed_float16")
    model = lamina.Sequential([lamina.Input((4,)), layers.Dense(16, activation="relu"), layers.Dense(3)])
    model.compile(optimizer="adam", loss=lamina.losses.SparseCategoricalCrossentropy(from_logits=True))
    assert isinstance(model.optimizer, lamina.optimizers.LossScaleOptimizer)
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((64, 4)).astype("float32"), rng.integers(0, 3, 64)
    h = model.fit(x, y, epochs=3, batch_size=16, verbose=0)
    assert np.isfinite(h.history["loss"]).all() and h.history["loss"][-1] < h.history["loss"][0]
