"""Truncated normals: every value within two standard deviations, the truncated law's spread, seeds repeat;
the lowercase aliases (keras.initializers.glorot_uniform) against Keras."""

import keras
import numpy as np
import pytest

import lamina
from lamina import initializers


def test_truncated_normal_bounds_spread_and_seed():
    init = initializers.TruncatedNormal(mean=1.0, stddev=0.5, seed=7)
    values = init((400_000,)).numpy()
    assert values.min() >= 0.0 and values.max() <= 2.0
    # a unit normal cut at +-2 has standard deviation 0.8796
    np.testing.assert_allclose(values.std(), 0.5 * 0.87962566, rtol=1e-2)
    np.testing.assert_allclose(values.mean(), 1.0, atol=5e-3)
    np.testing.assert_array_equal(
        values, initializers.TruncatedNormal(mean=1.0, stddev=0.5, seed=7)((400_000,)).numpy()
    )


def test_he_normal_variance_matches_keras_formula():
    kernel = initializers.get("he_normal")((3, 3, 64, 128)).numpy()
    fan_in = 3 * 3 * 64
    assert np.abs(kernel).max() <= 2 * np.sqrt(2.0 / fan_in) / 0.87962566 + 1e-6
    np.testing.assert_allclose(kernel.std(), np.sqrt(2.0 / fan_in), rtol=2e-2)


_LOWERCASE = [n for n in dir(keras.initializers) if n[0].islower() and n not in ("deserialize", "get", "serialize")]


@pytest.mark.parametrize("name", _LOWERCASE)
def test_lowercase_aliases_are_keras_classes(name):
    ours, theirs = getattr(lamina.initializers, name), getattr(keras.initializers, name)
    assert ours.__name__ == theirs.__name__  # glorot_uniform is the class GlorotUniform, in both
    assert isinstance(lamina.initializers.get(name), ours)
    expected = keras.initializers.serialize(theirs())
    if name == "identity":  # Keras's Identity has no get_config and drops `gain`; Lamina keeps it (Keras reads it)
        assert expected["config"] == {}
        assert keras.initializers.deserialize({**expected, "config": {"gain": 2.0}}).gain == 2.0
        expected["config"] = {"gain": 1.0}
    assert lamina.initializers.serialize(ours()) == expected


@pytest.mark.parametrize(
    "name,kwargs,shape",
    [
        ("zeros", {}, (2, 3)),
        ("ones", {}, (3,)),
        ("constant", {"value": 1.5}, (2, 2)),
        ("identity", {"gain": 2.0}, (3, 4)),
    ],
)
def test_lowercase_deterministic_initializers_equal_keras(name, kwargs, shape):
    ours = getattr(lamina.initializers, name)(**kwargs)(shape)
    theirs = getattr(keras.initializers, name)(**kwargs)(shape)
    np.testing.assert_array_equal(np.asarray(ours), keras.ops.convert_to_numpy(theirs))


def test_lowercase_random_initializer_follows_its_formula():
    values = np.asarray(lamina.initializers.glorot_uniform(seed=1)((200, 300)))
    limit = np.sqrt(6 / (200 + 300))
    assert values.shape == (200, 300) and np.abs(values).max() <= limit
    assert values.std() == pytest.approx(limit / np.sqrt(3), rel=0.02)
