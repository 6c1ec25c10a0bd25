import numpy as np
import pytest

import lamina
from lamina import layers
from tests.layers.harness import run_layer_test


def _inputs(*shapes, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s).astype("float32") for s in shapes]


@pytest.mark.parametrize(
    "cls", [layers.Add, layers.Subtract, layers.Multiply, layers.Average, layers.Maximum, layers.Minimum]
)
def test_elementwise_merges_match_keras(cls):
    run_layer_test(cls, {}, None, input_data=_inputs((2, 3, 4), (2, 3, 4)), check_symbolic=False)


@pytest.mark.parametrize("cls", [layers.Add, layers.Multiply, layers.Maximum])
def test_three_inputs_and_broadcast(cls):
    run_layer_test(cls, {}, None, input_data=_inputs((2, 3), (2, 3), (2, 3)), check_symbolic=False)
    run_layer_test(cls, {}, None, input_data=_inputs((2, 3, 4), (2, 1, 4)), check_symbolic=False)


@pytest.mark.parametrize("axis,shapes", [(-1, [(2, 3, 4), (2, 3, 5)]), (1, [(2, 3, 4), (2, 2, 4)])])
def test_concatenate(axis, shapes):
    run_layer_test(layers.Concatenate, {"axis": axis}, None, input_data=_inputs(*shapes), check_symbolic=False)


@pytest.mark.parametrize(
    "kwargs,shapes",
    [
        ({"axes": 1}, [(2, 5), (2, 5)]),
        ({"axes": (1, 2)}, [(2, 3, 4), (2, 4, 3)]),
        ({"axes": -1, "normalize": True}, [(2, 3, 4), (2, 5, 4)]),
    ],
)
def test_dot(kwargs, shapes):
    run_layer_test(layers.Dot, kwargs, None, input_data=_inputs(*shapes), check_symbolic=False)


def test_symbolic_merge_shapes():
    a, b = lamina.Input((3, 4)), lamina.Input((3, 4))
    assert layers.add([a, b]).shape == (None, 3, 4)
    assert layers.concatenate([a, b], axis=1).shape == (None, 6, 4)
    assert layers.Dot(axes=2)([a, b]).shape == (None, 3, 3)


def test_merge_errors_name_layer_and_shapes():
    with pytest.raises(ValueError, match=r'"sub" \(Subtract\) expects exactly 2 inputs'):
        layers.Subtract(name="sub")(_inputs((2, 3), (2, 3), (2, 3)))
    with pytest.raises(ValueError, match=r"Concatenate.*\(2, 3, 4\)"):
        layers.Concatenate(axis=1)(_inputs((2, 3, 4), (2, 3, 5)))
    with pytest.raises(ValueError, match="broadcastable"):
        layers.Add()(_inputs((2, 3), (2, 4)))
