"""Learning-rate schedules against Keras 3's at many steps; configs and serialization."""

import copy

import keras
import numpy as np
import pytest
import torch

import lamina
from lamina.optimizers import schedules

STEPS = [0, 1, 2, 3, 5, 7, 10, 11, 25, 49, 50, 100, 1000]

CASES = [
    ("ExponentialDecay", {"initial_learning_rate": 0.1, "decay_steps": 10, "decay_rate": 0.9}),
    ("ExponentialDecay", {"initial_learning_rate": 0.1, "decay_steps": 3, "decay_rate": 0.5, "staircase": True}),
    ("PiecewiseConstantDecay", {"boundaries": [5, 10], "values": [1.0, 0.5, 0.1]}),
    ("PiecewiseConstantDecay", {"boundaries": [3], "values": [0.3, 0.01]}),
    ("PolynomialDecay", {"initial_learning_rate": 0.1, "decay_steps": 25}),
    (
        "PolynomialDecay",
        {"initial_learning_rate": 0.1, "decay_steps": 7, "end_learning_rate": 0.01, "power": 2.0, "cycle": True},
    ),
    ("InverseTimeDecay", {"initial_learning_rate": 0.1, "decay_steps": 5, "decay_rate": 0.5}),
    ("InverseTimeDecay", {"initial_learning_rate": 0.1, "decay_steps": 5, "decay_rate": 0.5, "staircase": True}),
    ("CosineDecay", {"initial_learning_rate": 0.1, "decay_steps": 50}),
    ("CosineDecay", {"initial_learning_rate": 0.1, "decay_steps": 50, "alpha": 0.1}),
    ("CosineDecay", {"initial_learning_rate": 0.0, "decay_steps": 40, "warmup_target": 0.2, "warmup_steps": 10}),
    (
        "CosineDecay",
        {"initial_learning_rate": 0.01, "decay_steps": 40, "alpha": 0.05, "warmup_target": 0.1, "warmup_steps": 0},
    ),
    ("CosineDecayRestarts", {"initial_learning_rate": 0.1, "first_decay_steps": 5}),
    (
        "CosineDecayRestarts",
        {"initial_learning_rate": 0.1, "first_decay_steps": 4, "t_mul": 1.0, "m_mul": 0.5, "alpha": 0.1},
    ),
    ("CosineDecayRestarts", {"initial_learning_rate": 0.1, "first_decay_steps": 3, "t_mul": 1.5, "m_mul": 0.9}),
]


@pytest.mark.parametrize("name,kwargs", CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CASES)])
def test_values_match_keras(name, kwargs):
    ks, ls = getattr(keras.optimizers.schedules, name)(**kwargs), getattr(schedules, name)(**kwargs)
    for step in STEPS:
        kstep = keras.Variable(step, dtype="int32", trainable=False)
        lstep = lamina.Variable(np.int32(step), dtype="int32")
        expected = np.asarray(ks(kstep))
        got = ls(lstep)
        assert isinstance(got, torch.Tensor) and got.ndim == 0
        np.testing.assert_allclose(got.numpy(), expected, rtol=1e-6, atol=1e-9, err_msg=f"step={step}")
        np.testing.assert_allclose(ls(step).numpy(), np.asarray(ks(step)), rtol=1e-6, atol=1e-9)
    assert got.dtype == torch.float32


@pytest.mark.parametrize("name,kwargs", CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CASES)])
def test_config_matches_keras_and_round_trips(name, kwargs):
    ks, ls = getattr(keras.optimizers.schedules, name)(**kwargs), getattr(schedules, name)(**kwargs)
    config = ls.get_config()
    assert config == ks.get_config()
    assert getattr(schedules, name).from_config(config).get_config() == config
    serialized = schedules.serialize(ls)
    assert serialized == keras.optimizers.schedules.serialize(ks)
    assert schedules.deserialize(copy.deepcopy(serialized)).get_config() == config
    assert keras.optimizers.schedules.deserialize(copy.deepcopy(serialized)).get_config() == config


def test_schedule_follows_step_device_and_tensor_steps():
    s = schedules.PolynomialDecay(1.0, 10, end_learning_rate=0.0)
    assert float(s(torch.tensor(5))) == pytest.approx(0.5)
    assert float(s(torch.tensor(5.0))) == pytest.approx(0.5)
    assert s(torch.tensor(5, dtype=torch.int64)).device == torch.device("cpu")


@pytest.mark.parametrize(
    "cls,kwargs,match",
    [
        (
            schedules.ExponentialDecay,
            {"initial_learning_rate": 0.1, "decay_steps": 0, "decay_rate": 0.9},
            "decay_steps",
        ),
        (schedules.PolynomialDecay, {"initial_learning_rate": 0.1, "decay_steps": -1}, "decay_steps"),
        (
            schedules.InverseTimeDecay,
            {"initial_learning_rate": 0.1, "decay_steps": 0, "decay_rate": 0.5},
            "decay_steps",
        ),
        (schedules.CosineDecay, {"initial_learning_rate": 0.1, "decay_steps": 0}, "decay_steps"),
        (schedules.CosineDecayRestarts, {"initial_learning_rate": 0.1, "first_decay_steps": 0}, "first_decay_steps"),
        (schedules.PiecewiseConstantDecay, {"boundaries": [1, 2], "values": [1.0]}, "length of boundaries"),
    ],
)
def test_invalid_arguments(cls, kwargs, match):
    with pytest.raises(ValueError, match=match):
        cls(**kwargs)


def test_base_class_must_be_overridden():
    with pytest.raises(NotImplementedError, match=r"must override `__call__\(self, step\)`"):
        schedules.LearningRateSchedule()(1)
    with pytest.raises(NotImplementedError, match=r"must override `get_config\(\)`"):
        schedules.LearningRateSchedule().get_config()


def test_custom_schedule_in_optimizer():
    class Halving(schedules.LearningRateSchedule):
        def __call__(self, step):
            return 1.0 / (2.0**step)

        def get_config(self):
            return {}

    w = lamina.Variable([0.0], name="w")
    opt = lamina.optimizers.SGD(learning_rate=Halving())
    for _ in range(3):
        opt.apply([torch.tensor([-1.0])], [w])
    assert w.numpy().tolist() == [1.75]
