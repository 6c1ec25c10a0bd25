"""Lamb, Muon, ScheduleFreeAdamW and MultiOptimizer/OptimizerMap against the real Keras 3.15 on torch."""

import keras
import numpy as np
import pytest
import torch

import lamina
from lamina import optimizers
from tests.optimizers.parity import make_data, make_variables, run_parity

CASES = [
    ("Lamb", {}),
    ("Lamb", {"learning_rate": 0.01, "beta_1": 0.8, "weight_decay": 0.01, "clipnorm": 1.0}),
    ("Muon", {}),
    ("Muon", {"learning_rate": 0.01, "nesterov": False, "rms_rate": None, "ns_steps": 3}),
    ("Muon", {"exclude_layers": ["v0"], "adam_lr_ratio": 0.5, "weight_decay": 0.1, "adam_weight_decay": None}),
    ("ScheduleFreeAdamW", {}),
    ("ScheduleFreeAdamW", {"learning_rate": 0.01, "warmup_steps": 3, "weight_decay": 0.01}),
    ("ScheduleFreeAdamW", {"beta_1": 0.5, "epsilon": 1e-6, "global_clipnorm": 0.5}),
]
# 2-D shapes take Muon's Newton-Schulz step; the others its AdamW step
MUON_SHAPES = [(3, 4), (4,), (5, 2), (2, 3, 2), (1,)]


@pytest.mark.parametrize("name,kwargs", CASES)
def test_update_rule_matches_keras(name, kwargs):
    shapes = MUON_SHAPES if name == "Muon" else None
    extra = {"shapes": shapes} if shapes else {}
    k = getattr(keras.optimizers, name)(**kwargs)
    m = getattr(optimizers, name)(**kwargs)
    # Newton-Schulz multiplies matrices five times: float32 rounding compounds (measured ~1e-6 relative)
    kv, lv = run_parity(k, m, **extra)
    assert [v.path.split("/")[-1] for v in k.variables] == [v.path.split("/")[-1] for v in m.variables]
    assert len(kv) == len(lv)


@pytest.mark.parametrize("name,kwargs", CASES)
def test_config_matches_keras_and_round_trips(name, kwargs):
    k = getattr(keras.optimizers, name)(**kwargs)
    m = getattr(optimizers, name)(**kwargs)
    kc, mc = k.get_config(), m.get_config()
    kc.pop("name"), mc.pop("name")
    assert mc == kc
    again = optimizers.deserialize(optimizers.serialize(m))
    assert type(again) is type(m) and again.get_config() == m.get_config()


def test_muon_uses_adamw_for_embeddings_and_non_matrices():
    opt = optimizers.Muon()
    emb = lamina.layers.Embedding(10, 4, name="embedding")
    emb.build((None, 3))
    dense = lamina.layers.Dense(3, name="dense")
    dense.build((None, 4))
    variables = emb.weights + dense.weights
    opt.build(variables)
    assert [opt.adam_velocities[i] is not None for i in range(3)] == [True, False, True]
    assert [v.path.split("/")[-1] for v in opt.variables[2:]] == [
        "embedding_embeddings_momentum",
        "embedding_embeddings_velocity",
        "dense_kernel_momentum",
        "dense_bias_momentum",
        "dense_bias_velocity",
    ]


def test_schedule_free_adamw_follows_keras_on_torch():
    # Keras on torch reads the momentum slot after its in-place update (its JAX/TF backends read the one before);
    # Lamina follows the torch backend, so two steps land where Keras on torch does.
    w0 = np.array([1.0, -2.0, 3.0], "float32")
    g = torch.tensor([0.5, 0.1, -0.3])
    kv, lv = keras.Variable(w0.copy()), lamina.Variable(w0.copy())
    k, m = keras.optimizers.ScheduleFreeAdamW(learning_rate=0.1), optimizers.ScheduleFreeAdamW(learning_rate=0.1)
    for _ in range(2):
        k.apply([g.clone()], [kv])
        m.apply([g.clone()], [lv])
    np.testing.assert_allclose(lv.numpy(), kv.numpy(), rtol=1e-6)
    np.testing.assert_allclose(lv.numpy(), [0.85, -2.15, 3.15], rtol=1e-5)


def _multi(module, init):
    inner = [module.optimizers.Adam(learning_rate=0.01), module.optimizers.SGD(learning_rate=0.1, momentum=0.9)]
    mapping = module.optimizers.OptimizerMap(inner[1], {"v0": inner[0], "v[23]": inner[0]})
    return module.optimizers.MultiOptimizer(mapping)


def test_multi_optimizer_matches_keras():
    keras.backend.clear_session(free_memory=False)  # Keras's optimizer names (adam, adam_1, ...) start over too
    init, grads = make_data(steps=4)
    kv, lv = make_variables(init)
    k, m = _multi(keras, init), _multi(lamina, init)
    for step in grads:
        k.apply([torch.tensor(x) for x in step], kv)
        m.apply([torch.tensor(x) for x in step], lv)
        for a, b in zip(kv, lv, strict=True):
            np.testing.assert_allclose(b.numpy(), a.numpy(), rtol=1e-5, atol=1e-6)
    assert [v.path for v in m.variables] == [v.path for v in k.variables]
    for a, b in zip(k.variables, m.variables, strict=True):
        np.testing.assert_allclose(np.asarray(b.numpy()), np.asarray(a.numpy()), rtol=1e-5, atol=1e-6)
    assert int(m.iterations.numpy()) == int(k.iterations.numpy()) == 4
    assert [type(o).__name__ for o in m.optimizers] == [type(o).__name__ for o in k.optimizers]


def test_multi_optimizer_config_and_errors():
    m = _multi(lamina, None)
    config = optimizers.serialize(m)
    assert config["class_name"] == "MultiOptimizer"
    again = optimizers.deserialize(config)
    assert isinstance(again, optimizers.MultiOptimizer)
    # the map's config repeats a shared optimizer per key, so a round trip gives one per key, as in Keras
    k = keras.optimizers.deserialize(keras.optimizers.serialize(_multi(keras, None)))
    assert [type(o).__name__ for o in again.optimizers] == [type(o).__name__ for o in k.optimizers]
    assert again.get_config()["optimizer_map"]["config"]["optimizer_map"].keys() == {"v0", "v[23]"}
    with pytest.raises(AttributeError, match="sub-optimizers"):
        _ = m.learning_rate
    mapping = optimizers.OptimizerMap(optimizers.SGD())
    with pytest.raises(ValueError, match="cannot be LossScaleOptimizer"):
        mapping["x"] = optimizers.LossScaleOptimizer(optimizers.SGD())
    mapping["a.*"] = optimizers.Adam()
    mapping["ab"] = optimizers.Adam()
    with pytest.raises(ValueError, match="already exists"):
        mapping["ab"] = optimizers.SGD()
    mapping["a.c"] = optimizers.SGD()
    with pytest.raises(ValueError, match="Multiple optimizers"):
        _ = mapping["abc"]
    with pytest.raises(TypeError, match="default_optimizer"):
        optimizers.OptimizerMap("sgd")
    with pytest.raises(ValueError, match="Could not interpret"):
        optimizers.get("multioptimizer")


def test_multi_optimizer_trains_a_model():
    model = lamina.Sequential([lamina.Input((3,)), lamina.layers.Dense(4, name="encoder"), lamina.layers.Dense(1)])
    adam, sgd = optimizers.Adam(), optimizers.SGD()
    opt = optimizers.MultiOptimizer(optimizers.OptimizerMap(sgd, {".*encoder/.*": adam}))
    model.compile(optimizer=opt, loss="mse")
    before = [w.numpy() for w in model.weights]
    model.fit(np.ones((8, 3), "float32"), np.ones((8, 1), "float32"), epochs=2, verbose=0)
    assert all(not np.allclose(a, w.numpy()) for a, w in zip(before, model.weights, strict=True))
    assert int(adam.iterations.numpy()) == int(sgd.iterations.numpy()) == 2
    assert len(adam.variables) == 2 + 2 * 2 and len(sgd.variables) == 2


@pytest.mark.parametrize("lib", [keras, lamina], ids=["keras", "lamina"])
@pytest.mark.parametrize("kind", ["adam", "multi"])
def test_set_weights_before_build_names_the_method(lib, kind):
    """Keras's message, from Lamina's Optimizer and MultiOptimizer alike."""
    if kind == "adam":
        opt = lib.optimizers.Adam()
    else:
        opt = lib.optimizers.MultiOptimizer(lib.optimizers.OptimizerMap(lib.optimizers.SGD(), {}))
    with pytest.raises(ValueError, match=r"calling `set_weights\(\)` on an optimizer that has not yet been built"):
        opt.set_weights([np.zeros(())])


def test_legacy_optimizers_explain_keras_3():
    for name in ("Adam", "SGD", "RMSprop", "Adagrad", "Ftrl", "Optimizer"):
        with pytest.raises(ImportError, match="not supported in Keras 3"):
            getattr(optimizers.legacy, name)(learning_rate=0.1)
    with pytest.raises(ImportError, match="not supported in Keras 3"):
        keras.optimizers.legacy.Adam()
