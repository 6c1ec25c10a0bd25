"""LossScaleOptimizer against Keras 3's: skipped overflow steps, scale halving and growth, state, config."""

import keras
import numpy as np
import pytest
import torch

import lamina
from lamina import optimizers
from tests.optimizers.parity import assert_close, make_data, make_variables


def _run(keras_opt, lamina_opt, bad_steps=(1, 3), steps=6):
    init, grads = make_data(steps)
    kv, lv = make_variables(init)
    for i, g in enumerate(grads):
        g = [x * 1000 for x in g]
        if i in bad_steps:
            g[0] = g[0].copy()
            g[0][0, 0] = np.inf if i % 2 else np.nan
        keras_opt.apply([torch.tensor(x) for x in g], kv)
        lamina_opt.apply([torch.tensor(x) for x in g], lv)
        assert_close(kv, lv)
        assert float(lamina_opt.dynamic_scale.numpy()) == float(keras_opt.dynamic_scale.numpy())
        assert int(lamina_opt.step_counter.numpy()) == int(keras_opt.step_counter.numpy())
        assert int(lamina_opt.iterations) == int(keras_opt.iterations)
    assert_close(keras_opt.variables, lamina_opt.variables)


@pytest.mark.parametrize(
    "name,kwargs", [("Adam", {}), ("SGD", {"momentum": 0.9, "learning_rate": 0.001}), ("RMSprop", {"use_ema": True})]
)
def test_parity_with_keras(name, kwargs):
    ko = keras.optimizers.LossScaleOptimizer(
        getattr(keras.optimizers, name)(**kwargs), initial_scale=1024.0, dynamic_growth_steps=2
    )
    lo = optimizers.LossScaleOptimizer(
        getattr(optimizers, name)(**kwargs), initial_scale=1024.0, dynamic_growth_steps=2
    )
    _run(ko, lo)


def test_defaults_variables_and_scale_loss():
    lo = optimizers.LossScaleOptimizer(optimizers.Adam(loss_scale_factor=3.0))
    assert lo.initial_scale == 2.0**15 and lo.dynamic_growth_steps == 2000
    assert lo.inner_optimizer.loss_scale_factor is None
    assert lo.scale_loss(2.0) == 2.0**16
    w = lamina.Variable([1.0, 2.0], name="w")
    lo.apply([torch.tensor([1.0, 1.0])], [w])
    assert [v.name for v in lo.variables] == [
        "iteration",
        "learning_rate",
        "step_counter",
        "dynamic_scale",
        "iteration",
        "learning_rate",
        "w_momentum",
        "w_velocity",
    ]
    assert float(lo.scale_loss(torch.tensor(1.0))) == 2.0**15
    assert float(lo.learning_rate) == pytest.approx(0.001)
    lo.learning_rate = 0.5
    assert float(lo.inner_optimizer.learning_rate) == 0.5
    assert int(lo.iterations) == 1


def test_overflow_skips_step_and_halves_scale():
    w = lamina.Variable([1.0], name="w")
    lo = optimizers.LossScaleOptimizer(optimizers.SGD(1.0), initial_scale=8.0, dynamic_growth_steps=2)
    lo.apply([torch.tensor([float("inf")])], [w])
    assert w.numpy().tolist() == [1.0] and float(lo.dynamic_scale.numpy()) == 4.0 and int(lo.iterations) == 0
    lo.apply([torch.tensor([4.0])], [w])
    assert w.numpy().tolist() == [0.0] and float(lo.dynamic_scale.numpy()) == 4.0
    lo.apply([torch.tensor([4.0])], [w])
    assert float(lo.dynamic_scale.numpy()) == 8.0 and int(lo.step_counter.numpy()) == 0


def test_config_round_trip_and_keras_cross():
    lo = optimizers.LossScaleOptimizer(optimizers.Adam(0.01), initial_scale=128.0, dynamic_growth_steps=10)
    config = lo.get_config()
    ko = keras.optimizers.LossScaleOptimizer(keras.optimizers.Adam(0.01), initial_scale=128.0, dynamic_growth_steps=10)
    kconfig = ko.get_config()
    assert list(config) == list(kconfig)
    assert config["inner_optimizer"]["config"] == {
        **kconfig["inner_optimizer"]["config"],
        "name": config["inner_optimizer"]["config"]["name"],
    }
    back = optimizers.LossScaleOptimizer.from_config(config)
    assert back.get_config() == config
    assert isinstance(optimizers.LossScaleOptimizer.from_config(kconfig).inner_optimizer, optimizers.Adam)
    assert keras.optimizers.LossScaleOptimizer.from_config(config).initial_scale == 128.0
    assert isinstance(optimizers.deserialize(optimizers.serialize(lo)), optimizers.LossScaleOptimizer)


def test_invalid_arguments():
    with pytest.raises(ValueError, match="dynamic=False"):
        optimizers.LossScaleOptimizer(optimizers.SGD(), dynamic=False)
    with pytest.raises(ValueError, match="clipnorm"):
        optimizers.LossScaleOptimizer(optimizers.SGD(), clipnorm=1.0)
    with pytest.raises(ValueError, match="foo"):
        optimizers.LossScaleOptimizer(optimizers.SGD(), foo=1)
