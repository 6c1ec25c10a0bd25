"""Truncated normals: every value within two standard deviations, the truncated law's spread, seeds repeat."""

import numpy as np

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
