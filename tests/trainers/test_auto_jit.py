"""``jit_compile="auto"``: eager in fits too short to repay a compile (on the CPU, under ten minutes) and on devices
without a measured compiler; else the compiled whole step is kept only when its timed steps were faster. Patching
the rule's constants makes a tiny fit long enough."""

import numpy as np

import lamina
from lamina import layers
from lamina.trainers import auto_jit


def _model():
    model = lamina.Sequential([lamina.Input((4,)), layers.Dense(8, activation="relu"), layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse", metrics=["mae"])  # jit_compile="auto", the default
    return model


def _data(n=64):
    rng = np.random.default_rng(0)
    return rng.random((n, 4), dtype=np.float32), rng.random((n, 1), dtype=np.float32)


def test_auto_keeps_a_short_cpu_fit_eager():
    model = _model()
    model.fit(*_data(), batch_size=8, epochs=2, verbose=0)  # 16 steps: 8 timed eagerly, 8 left
    assert model._jit_auto_state.decision.startswith("eager: the fit is too short to repay a compile (8 steps of")
    assert model._compiled_fwd is None and model._compiled_update is None and model._compiled_whole is None
    assert model.jit_compile is False


def test_auto_stays_eager_on_a_device_without_a_measured_compiler(monkeypatch):
    monkeypatch.setattr(auto_jit, "AUTO_COMPILE_DEVICES", ("cuda",))
    model = _model()
    model.fit(*_data(), batch_size=8, epochs=1, verbose=0)
    assert model._jit_auto_state.decision == "eager: no compiler measured on cpu"
    assert model._compiled_whole is None


def test_auto_keeps_a_short_fit_eager_and_decides_again_for_a_longer_one(monkeypatch):
    monkeypatch.setattr(auto_jit, "AUTO_COMPILE_DEVICES", ("cpu",))
    monkeypatch.setattr(auto_jit, "WARM_STEPS", 1)
    monkeypatch.setattr(auto_jit, "TIMED_STEPS", 2)
    monkeypatch.setattr(auto_jit, "MIN_EAGER_SECONDS", {"cpu": 1e9})
    model = _model()
    model.fit(*_data(), batch_size=8, epochs=1, verbose=0)
    state = model._jit_auto_state
    assert state.decision.startswith("eager: the fit is too short to repay a compile (5 steps of")
    assert model._compiled_fwd is None and model._compiled_update is None
    monkeypatch.setattr(auto_jit, "MIN_EAGER_SECONDS", {"cpu": 0.0})
    monkeypatch.setattr(auto_jit, "KEEP_RATIO", 0.0)  # no compiled step is that fast: measured, then dropped
    model.fit(*_data(), batch_size=8, epochs=1, verbose=0)
    assert model._jit_auto_state is state and state.decision.startswith("eager: ")
    assert "too short" not in state.decision and state.compile_seconds > 0
    assert model._compiled_fwd is None and model._compiled_update is None  # back to the eager step


def test_auto_keeps_the_compiled_step_when_faster_with_eager_results(monkeypatch):
    monkeypatch.setattr(auto_jit, "AUTO_COMPILE_DEVICES", ("cpu",))
    monkeypatch.setattr(auto_jit, "WARM_STEPS", 1)
    monkeypatch.setattr(auto_jit, "TIMED_STEPS", 2)
    monkeypatch.setattr(auto_jit, "MIN_EAGER_SECONDS", {"cpu": 0.0})
    monkeypatch.setattr(auto_jit, "KEEP_RATIO", 1e9)  # any compiled step counts as faster
    lamina.utils.set_random_seed(3)
    auto, eager = _model(), _model()
    eager.set_weights(auto.get_weights())
    eager.jit_compile = False
    x, y = _data()
    h_auto = auto.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    h_eager = eager.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    assert auto._jit_auto_state.decision.startswith("compiled: ")
    assert auto._compiled_whole.fallback_reason is None and auto._compiled_whole.graphs_compiled == 1  # one program
    np.testing.assert_allclose(h_auto.history["loss"], h_eager.history["loss"], rtol=1e-5)
    for a, b in zip(auto.get_weights(), eager.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, atol=1e-5)


def test_auto_leaves_a_distributed_step_alone(monkeypatch):
    """Under DataParallel the step's forward is DDP's (it averages the gradients): "auto" never replaces it."""
    monkeypatch.setattr(auto_jit, "AUTO_COMPILE_DEVICES", ("cpu",))
    monkeypatch.setattr(auto_jit, "WARM_STEPS", 1)
    monkeypatch.setattr(auto_jit, "TIMED_STEPS", 1)
    monkeypatch.setattr(auto_jit, "MIN_EAGER_SECONDS", {"cpu": 0.0})
    model = _model()
    model.__dict__["_dist_saved_fwd"] = None  # what DataParallel's fit set-up leaves on the model
    model.fit(*_data(), batch_size=8, epochs=1, verbose=0)
    assert model._jit_auto_state.decision == "eager: distributed training keeps its DDP step"
    assert model._compiled_fwd is None and model._compiled_update is None
