"""The scopes of the top-level API: name_scope, SymbolicScope, RematScope/remat and device, against Keras."""

import keras
import numpy as np
import pytest
import torch

import lamina


def _paths(k):
    """The variable paths one program makes under `k` (keras or lamina)."""

    class Block(k.layers.Layer):
        def build(self, input_shape):
            self.inner = k.layers.Dense(2, name="inner")
            self.inner.build(input_shape)
            self.w = self.add_weight(shape=(1,), name="w")

        def call(self, x):
            return self.inner(x)

    out = []
    with k.name_scope("outer"):
        out.append(k.Variable(1.0, name="v").path)
        with k.name_scope("inner"):
            out.append(k.Variable(1.0, name="w").path)
        dense = k.layers.Dense(2, name="dd")
        dense.build((None, 3))  # built directly, inside the user's scope
        out.append(dense.kernel.path)
        with k.name_scope("p"):
            with k.name_scope("q", override_parent="zz"):
                out.append(k.Variable(1.0, name="o").path)
    block = Block(name="block")
    block.build((None, 3))
    out += [v.path for v in block.weights]
    model = k.Sequential([k.Input((3,)), k.layers.Dense(2, name="a"), Block(name="blk")], name="seq")
    out += [v.path for v in model.weights]
    with k.name_scope(""):
        out.append(k.Variable(1.0, name="e").path)
    with k.name_scope("same"):  # a user's scope named like the layer is not the layer's own: no deduplication
        same = k.layers.Dense(2, name="same")
        same.build((None, 3))
        out.append(same.kernel.path)
    return out


def test_name_scope_paths_match_keras():
    theirs = _paths(keras)
    lamina.backend.clear_session(free_memory=False)
    assert _paths(lamina) == theirs
    assert theirs[:4] == ["outer/v", "outer/inner/w", "outer/dd/kernel", "zz/q/o"]
    assert theirs[-1] == "same/same/kernel"


def test_name_scope_attributes_and_errors():
    scope = lamina.name_scope("abc", override_parent="xyz")
    ref = keras.name_scope("abc", override_parent="xyz")
    assert (scope.name, scope.override_parent, scope.deduplicate) == (ref.name, ref.override_parent, ref.deduplicate)
    for bad in ("a/b", 3):
        with pytest.raises(ValueError, match="cannot contain character `/`. Received: name="):
            lamina.name_scope(bad)
        with pytest.raises(ValueError, match="cannot contain character `/`"):
            keras.name_scope(bad)


def test_name_scope_deduplicates_the_same_caller():
    caller = object()
    with lamina.name_scope("blk", caller=caller):
        with lamina.name_scope("blk", caller=caller):
            same = lamina.Variable(1.0, name="v").path
        with lamina.name_scope("blk", caller=caller, deduplicate=False):
            nested = lamina.Variable(1.0, name="v").path
    assert (same, nested) == ("blk/v", "blk/blk/v")


def test_symbolic_scope():
    from lamina.backend.symbolic_scope import get_symbolic_scope, in_symbolic_scope

    assert not in_symbolic_scope()
    with lamina.SymbolicScope() as outer:
        assert get_symbolic_scope() is outer
        with lamina.SymbolicScope() as inner:
            assert get_symbolic_scope() is inner
        assert get_symbolic_scope() is outer
    assert get_symbolic_scope() is None


def _symbolic_flags(k, in_scope):
    """What `in_symbolic_scope()` says inside `call` for a symbolic then a real call, under `k`."""
    seen = []

    class Probe(k.layers.Layer):
        def call(self, x):
            seen.append(in_scope())
            return x * 2

    layer = Probe()
    layer(k.Input((3,)))
    layer(np.ones((1, 3), "float32"))
    return seen


def test_symbolic_scope_is_open_during_shape_inference():
    from keras.src.backend.common.symbolic_scope import in_symbolic_scope as keras_in_scope

    from lamina.backend.symbolic_scope import in_symbolic_scope

    seen = _symbolic_flags(lamina, in_symbolic_scope)
    # Keras runs `call` twice on a symbolic input (build's shape inference, then the output spec)
    assert seen == _symbolic_flags(keras, keras_in_scope) == [True, True, False]


# -- remat ------------------------------------------------------------------------------------------------------


def _grads(k, remat_mode, x, weights=None):
    """Output and weight gradients of a small MLP built under `k.RematScope(**remat_mode)` (or none)."""
    k.utils.set_random_seed(3)

    def make():
        return k.Sequential([k.Input((4,)), k.layers.Dense(8, activation="tanh"), k.layers.Dense(1)])

    if remat_mode is None:
        model = make()
    else:
        with k.RematScope(**remat_mode):
            model = make()
    if weights is not None:
        model.set_weights(weights)
    out = model(torch.as_tensor(x), training=True)
    grads = torch.autograd.grad((out**2).sum(), [v.value for v in model.trainable_weights])
    return out.detach().numpy(), [g.numpy() for g in grads], model.get_weights()


@pytest.mark.parametrize(
    "mode",
    [
        {"mode": "full"},
        {"mode": "activations"},
        {"mode": "larger_than", "output_size_threshold": 4},
        {"mode": "list_of_layers", "layer_names": ["dense"]},
        {"mode": None},
    ],
)
def test_remat_scope_gives_the_gradients_of_no_remat(mode):
    x = np.random.default_rng(0).normal(size=(5, 4)).astype("float32")
    ref_out, ref_grads, weights = _grads(lamina, None, x)
    lamina.backend.clear_session(free_memory=False)
    out, grads, _ = _grads(lamina, mode, x, weights)
    np.testing.assert_allclose(out, ref_out, rtol=1e-6)
    assert len(grads) == len(ref_grads) == 4
    for g, r in zip(grads, ref_grads, strict=True):
        np.testing.assert_allclose(g, r, rtol=1e-5, atol=1e-7)
    keras_out, keras_grads, _ = _grads(keras, mode, x, weights)  # Keras's own remat on the same weights
    np.testing.assert_allclose(out, keras_out, rtol=1e-5, atol=1e-6)
    assert len(keras_grads) == len(grads)
    for g, r in zip(grads, keras_grads, strict=True):
        np.testing.assert_allclose(g, r, rtol=1e-4, atol=1e-6)


def test_remat_scope_marks_the_layers_it_covers():
    with lamina.RematScope(mode="list_of_layers", layer_names=["big"]):
        big, small = lamina.layers.Dense(4, name="big"), lamina.layers.Dense(4, name="small")
        with lamina.RematScope(mode=None):
            off = lamina.layers.Dense(4, name="off")
    plain = lamina.layers.Dense(4)
    assert big._remat_mode.mode == "list_of_layers" and big._remat_mode.layer_names == ["big"]
    assert small._remat_mode.mode == "list_of_layers"  # the scope decides per call by name
    assert getattr(off, "_remat_mode", None) is None or off._remat_mode.mode is None
    assert getattr(plain, "_remat_mode", None) is None
    from lamina.backend.remat import get_current_remat_mode

    assert get_current_remat_mode() is None


def test_remat_scope_errors_match_keras():
    with pytest.raises(ValueError, match="Invalid mode 'sometimes'"):
        lamina.RematScope(mode="sometimes")
    with pytest.raises(ValueError, match="Invalid mode 'sometimes'"):
        keras.RematScope(mode="sometimes")
    with pytest.raises(TypeError, match="`output_size_threshold` must be an integer"):
        lamina.RematScope(mode="larger_than", output_size_threshold=1.5)
    with pytest.raises(TypeError, match="`remat` expects a function or a layer. Received: f=3"):
        lamina.remat(3)


def test_remat_function_recomputes_in_backward():
    calls = []

    def f(x):
        calls.append(1)
        return torch.sin(x) * 2

    x = torch.linspace(-1, 1, 5, requires_grad=True)
    y = lamina.remat(f)(x)
    assert len(calls) == 1
    y.sum().backward()
    assert len(calls) == 2  # run again for the backward pass: nothing was stored
    torch.testing.assert_close(x.grad, 2 * torch.cos(x.detach()))
    k_x = x.detach().clone().requires_grad_(True)
    keras.remat(lambda t: torch.sin(t) * 2)(k_x).sum().backward()
    torch.testing.assert_close(x.grad, k_x.grad)


def test_remat_wraps_a_layer():
    lamina.utils.set_random_seed(0)
    layer = lamina.layers.Dense(3)
    x = torch.ones(2, 4)
    expected = layer(x)
    torch.testing.assert_close(lamina.remat(layer)(x), expected)


# -- device -----------------------------------------------------------------------------------------------------


def test_device_places_new_weights():
    with lamina.device("cpu"):
        assert str(lamina.backend.default_device()) == "cpu"
        dense = lamina.layers.Dense(2)
        dense.build((None, 3))
    assert dense.kernel.device.type == "cpu"
    with lamina.device("CPU:0"):
        assert lamina.backend.default_device().type == "cpu"


def test_device_errors():
    with pytest.raises(ValueError, match="Received: device_name=3"):
        lamina.device(3)
    with pytest.raises(ValueError, match="`device_name`: 'tpu:9' is not a device"):
        with lamina.device("tpu:9"):
            pass


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a GPU")
def test_device_gpu_name_is_cuda():
    with lamina.device("gpu:0"):
        v = lamina.Variable(np.ones(2, "float32"))
    assert v.device.type == "cuda"
