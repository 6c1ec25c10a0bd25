"""lamina.random against keras.random (torch backend): the same numbers for the same seeds."""

import inspect

import keras
import numpy as np
import pytest
import torch

import lamina
from lamina import random

DRAWS = [
    ("normal", ((3, 4),), {"mean": 1.0, "stddev": 2.0}),
    ("uniform", ((3, 4),), {"minval": -1.0, "maxval": 3.0}),
    ("uniform", ((),), {}),
    ("randint", ((5, 2), 0, 10), {}),
    ("truncated_normal", ((6,),), {"stddev": 0.5}),
    ("gamma", ((4,), 2.0), {}),
    ("beta", ((4,), 2.0, 3.0), {}),
    ("binomial", ((4,), 10, 0.3), {}),
]


@pytest.mark.parametrize("name,args,kwargs", DRAWS)
def test_draws_equal_keras_for_an_int_seed(name, args, kwargs):
    got = getattr(random, name)(*args, seed=42, **kwargs)
    expected = getattr(keras.random, name)(*args, seed=42, **kwargs)
    assert got.dtype == expected.dtype
    assert torch.equal(got, expected.cpu())
    assert torch.equal(got, getattr(random, name)(*args, seed=42, **kwargs))  # an int seed repeats


def test_seed_generator_sequence_equals_keras():
    ours, theirs = random.SeedGenerator(5), keras.random.SeedGenerator(5)
    draws = [random.uniform((4,), seed=ours) for _ in range(3)]
    expected = [keras.random.uniform((4,), seed=theirs) for _ in range(3)]
    assert len(draws) == len(expected)
    for a, b in zip(draws, expected, strict=True):
        assert torch.equal(a, b.cpu())
    assert not torch.equal(draws[0], draws[1])
    assert ours.state.numpy().tolist() == [5, 3] == theirs.state.numpy().tolist()
    assert ours.state.path == f"{ours.name}/seed_generator_state" and ours.state.dtype == torch.int32


def test_shuffle_categorical_dropout_equal_keras():
    x = torch.arange(20).reshape(10, 2)
    assert torch.equal(random.shuffle(x, seed=3), keras.random.shuffle(x, seed=3))
    assert torch.equal(random.shuffle(x, axis=1, seed=3), keras.random.shuffle(x, axis=1, seed=3))
    logits = np.array([[0.0, 1.0, 2.0], [2.0, 0.0, -1.0]], "float32")
    assert torch.equal(random.categorical(logits, 6, seed=4), keras.random.categorical(logits, 6, seed=4))
    ones = torch.ones(50)
    assert torch.equal(random.dropout(ones, 0.3, seed=9), keras.random.dropout(ones, 0.3, seed=9))
    noise = random.dropout(torch.ones(4, 6), 0.5, noise_shape=(None, 1), seed=1)
    assert all(len(set(row.tolist())) == 1 for row in noise)  # one draw per row
    assert torch.equal(random.dropout(ones, 1.0), torch.zeros(50)) and random.dropout(ones, 0.0) is not None


def test_unseeded_draws_follow_set_random_seed():
    lamina.utils.set_random_seed(7)
    a = random.normal((3,))
    b = random.normal((3,))
    lamina.utils.set_random_seed(7)
    assert torch.equal(random.normal((3,)), a)
    assert not torch.equal(a, b)
    unseeded = random.SeedGenerator()
    assert isinstance(unseeded.get_config()["name"], str) and unseeded.get_config()["seed"] is None


def test_seed_generator_config_round_trip():
    gen = random.SeedGenerator(3, name="gen")
    clone = random.SeedGenerator.from_config(gen.get_config())
    assert clone.get_config() == {"seed": 3, "name": "gen"}
    assert torch.equal(random.uniform((2,), seed=gen), random.uniform((2,), seed=clone))


def test_signatures_match_keras():
    for name in random.__all__:
        ours, theirs = getattr(random, name), getattr(keras.random, name)
        target, ref = (ours.__init__, theirs.__init__) if inspect.isclass(ours) else (ours, theirs)
        assert list(inspect.signature(target).parameters) == list(inspect.signature(ref).parameters), name
    assert sorted(random.__all__) == sorted(n for n in dir(keras.random) if not n.startswith("_"))


def test_bad_arguments():
    with pytest.raises(ValueError, match="requires a floating point `dtype`"):
        random.uniform((2,), dtype="int32")
    with pytest.raises(ValueError, match="requires an integer `dtype`"):
        random.randint((2,), 0, 3, dtype="float32")
    with pytest.raises(ValueError, match="2-D tensor"):
        random.categorical([0.0, 1.0], 2)
    with pytest.raises(ValueError, match="Argument `seed` must be either an integer"):
        random.normal((2,), seed="seven")
    with pytest.raises(ValueError, match="must be an integer"):
        random.SeedGenerator(seed=1.5)
    with pytest.raises(ValueError, match="Unrecognized keyword arguments"):
        random.SeedGenerator(1, colour="red")


def test_meta_device_draws_shapes_only():
    with lamina.backend.device_scope("meta"):
        x = random.normal((2, 3), seed=1)
    assert x.device.type == "meta" and tuple(x.shape) == (2, 3)
