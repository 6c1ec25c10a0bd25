"""keras.Function and keras.Operation as a user writes them, against Keras."""

import keras
import numpy as np
import pytest
import torch

import lamina


def _graph(k):
    a = k.Input((4,), name="a")
    b = k.Input((4,), name="b")
    total = k.ops.add(a, k.ops.multiply(b, 2.0))
    outputs = {"sum": k.ops.sum(total, axis=-1), "relu": k.ops.relu(total - 1.0), "a": a}
    return k.Function([a, b], outputs, name="fn")


def _np(t):
    return t.detach().cpu().numpy() if isinstance(t, torch.Tensor) else np.asarray(t)


def _inputs():
    rng = np.random.default_rng(0)
    return [torch.as_tensor(rng.normal(size=(3, 4)).astype("float32")) for _ in range(2)]


def test_function_runs_its_graph_like_keras():
    ours, theirs = _graph(lamina), _graph(keras)
    x = _inputs()
    got, expected = ours(x), theirs(x)
    assert sorted(got) == sorted(expected) == ["a", "relu", "sum"]
    for key in expected:
        np.testing.assert_allclose(_np(got[key]), _np(expected[key]), rtol=1e-6)
    assert ours.name == theirs.name == "fn"
    assert len(ours.inputs) == len(theirs.inputs) == 2
    assert len(ours.outputs) == len(theirs.outputs) == 3
    assert len(ours.operations) == len(theirs.operations)
    # the same operations in the same (Keras's) order; Lamina wraps plain ops in one `OpLayer` class
    names = [op.name for op in ours.operations]
    assert names == [op.name for op in theirs.operations] == ["b", "a", "multiply", "add", "subtract", "relu", "sum"]


def test_function_with_a_layer_and_nested_structures():
    def build(k):
        x = k.Input((3,), name="x")
        dense = k.layers.Dense(2, name="d")
        y = dense(x)
        return k.Function({"x": x}, (y, [k.ops.tanh(y)])), dense

    ours, dense = build(lamina)
    theirs, keras_dense = build(keras)
    keras_dense.set_weights(dense.get_weights())
    x = {"x": torch.ones(2, 3)}
    got, expected = ours(x), theirs(x)
    assert isinstance(got, tuple) and isinstance(got[1], list) and len(got[1]) == 1
    np.testing.assert_allclose(_np(got[0]), _np(expected[0]), rtol=1e-6)
    np.testing.assert_allclose(_np(got[1][0]), _np(expected[1][0]), rtol=1e-6)
    assert any(op is dense for op in ours.operations)


def test_function_called_on_symbolic_inputs_gives_symbolic_outputs():
    fn = _graph(lamina)
    out = fn([lamina.Input((4,)), lamina.Input((4,))])
    assert lamina.utils.is_keras_tensor(out["sum"]) and out["sum"].shape == (None,)
    assert out["relu"].shape == (None, 4)


def test_function_errors():
    a, b = lamina.Input((2,), name="a"), lamina.Input((2,), name="b")
    with pytest.raises(ValueError, match="disconnected|Disconnected"):
        lamina.Function([a], a + b)
    with pytest.raises(ValueError, match="must be symbolic KerasTensors. Received: inputs="):
        lamina.Function([np.ones(2)], a)
    fn = lamina.Function([a, b], a + b, name="pair")
    with pytest.raises(ValueError, match='Function "pair" expects 2 input\\(s\\)'):
        fn([torch.ones(1, 2)])


class _ScaledSum:
    """The same Operation subclass written against `k`."""

    @staticmethod
    def make(k):
        class ScaledSum(k.Operation):
            def __init__(self, scale, name=None):
                super().__init__(name=name)
                self.scale = scale

            def call(self, x, y):
                return (x + y) * self.scale

            def compute_output_spec(self, x, y):
                return k.KerasTensor(x.shape, dtype=x.dtype)

        return ScaledSum


def test_operation_subclass_runs_eagerly_and_symbolically_like_keras():
    ours_cls, theirs_cls = _ScaledSum.make(lamina), _ScaledSum.make(keras)
    x, y = _inputs()
    ours, theirs = ours_cls(3.0, name="scaled"), theirs_cls(3.0, name="scaled")
    np.testing.assert_allclose(_np(ours(x, y)), _np(theirs(x, y)), rtol=1e-6)
    assert ours.name == theirs.name == "scaled"
    sym = ours(lamina.Input((4,)), lamina.Input((4,)))
    keras_sym = theirs(keras.Input((4,)), keras.Input((4,)))
    assert tuple(sym.shape) == tuple(keras_sym.shape) == (None, 4)
    assert sym._keras_history[0] is ours  # recorded in the graph, so a Function can replay it
    a, b = lamina.Input((4,)), lamina.Input((4,))
    fn = lamina.Function([a, b], ours_cls(2.0)(a, b))
    np.testing.assert_allclose(_np(fn([x, y])), (x + y).numpy() * 2.0, rtol=1e-6)


def test_operation_names_are_unique_and_checked():
    first, second = lamina.Operation(), lamina.Operation()
    assert first.name != second.name and first.name.startswith("operation")
    with pytest.raises(ValueError, match="Received: name="):
        lamina.Operation(name="a/b")
