"""Shared helpers: run the same gradients through a Lamina and a Keras optimizer and compare."""

from __future__ import annotations

import numpy as np
import torch

import lamina

SHAPES = [(3, 4), (4,), (2, 3, 2), (1,)]


def make_data(steps: int = 5, seed: int = 0, shapes: list[tuple[int, ...]] = SHAPES):
    rng = np.random.default_rng(seed)
    init = [rng.normal(size=s).astype("float32") for s in shapes]
    grads = [[rng.normal(size=s).astype("float32") for s in shapes] for _ in range(steps)]
    return init, grads


def make_variables(init):
    import keras

    kv = [keras.Variable(a.copy(), name=f"v{i}") for i, a in enumerate(init)]
    lv = [lamina.Variable(a.copy(), name=f"v{i}") for i, a in enumerate(init)]
    return kv, lv


def assert_close(keras_values, lamina_values, rtol: float = 1e-6, atol: float = 1e-7) -> None:
    for k, m in zip(keras_values, lamina_values, strict=True):
        k = np.asarray(k.numpy() if hasattr(k, "numpy") else k)
        m = np.asarray(m.numpy() if hasattr(m, "numpy") else m)
        assert k.shape == m.shape
        np.testing.assert_allclose(m, k, rtol=rtol, atol=atol)


def run_parity(
    keras_opt,
    lamina_opt,
    steps: int = 5,
    seed: int = 0,
    none_at: int | None = None,
    shapes: list[tuple[int, ...]] = SHAPES,
):
    """Applies ``steps`` gradient sets to both optimizers; compares weights after each step and states at the end."""
    init, grads = make_data(steps, seed, shapes)
    kv, lv = make_variables(init)
    # Adam on CPU runs torch's fused kernel (one pass per tensor): the same update rule, with eps rescaled to
    # Keras's placement, but m/v are updated with lerp and the step in another order, so values differ from
    # Keras's op-by-op rounding by a few float32 ulps per step (measured up to 4e-6 relative after 5 steps).
    tol = {"rtol": 1e-5, "atol": 1e-6} if type(lamina_opt).__name__ == "Adam" else {}
    for g in grads:
        kg = [torch.tensor(x) for x in g]
        lg = [torch.tensor(x) for x in g]
        if none_at is not None:
            kg[none_at] = None
            lg[none_at] = None
        keras_opt.apply(kg, kv)
        lamina_opt.apply(lg, lv)
        assert_close(kv, lv, **tol)
    assert len(keras_opt.variables) == len(lamina_opt.variables)
    assert_close(keras_opt.variables, lamina_opt.variables, **tol)
    return kv, lv
