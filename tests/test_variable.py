"""A weight is one object: Keras's Variable and a registered torch Parameter (or buffer) at once."""

import copy
import io
import os
import pickle
import subprocess
import sys

import numpy as np
import pytest
import torch

import lamina
from lamina import layers, ops

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class Linear(lamina.layers.Layer):
    """The subclassing guide's first layer, with only the import changed."""

    def __init__(self, units=32, input_dim=32):
        super().__init__()
        self.w = self.add_weight(shape=(input_dim, units), initializer="random_normal", trainable=True)
        self.b = self.add_weight(shape=(units,), initializer="zeros", trainable=True)

    def call(self, inputs):
        return ops.matmul(inputs, self.w) + self.b


def test_subclassing_guide_weights_are_the_attributes():
    linear_layer = Linear(4, 2)
    y = linear_layer(np.ones((2, 2), "float32"))
    assert tuple(y.shape) == (2, 4)
    assert linear_layer.weights == [linear_layer.w, linear_layer.b]  # the guide's assertion
    params = dict(linear_layer.named_parameters())
    assert params["w"] is linear_layer.w and params["b"] is linear_layer.b
    assert [v.path for v in linear_layer.weights] == ["linear/variable", "linear/variable_1"]


def test_pixelcnn_masked_kernel_assign():
    """keras.io PixelCNN: ``self.conv.kernel.assign(self.conv.kernel * self.mask)`` inside a layer."""

    class PixelConvLayer(layers.Layer):
        def __init__(self, **kwargs):
            super().__init__()
            self.conv = layers.Conv2D(**kwargs)

        def build(self, input_shape):
            self.conv.build(input_shape)
            kernel_shape = ops.shape(self.conv.kernel)
            self.mask = np.zeros(shape=kernel_shape, dtype="float32")
            self.mask[: kernel_shape[0] // 2, ...] = 1.0

        def call(self, inputs):
            self.conv.kernel.assign(self.conv.kernel * self.mask)
            return self.conv(inputs)

    layer = PixelConvLayer(filters=2, kernel_size=3, padding="same")
    layer(np.ones((1, 5, 5, 1), "float32"))
    kernel = layer.conv.kernel.numpy()
    assert np.all(kernel[1:] == 0) and np.any(kernel[:1] != 0)
    assert dict(layer.named_parameters())["conv.kernel"] is layer.conv.kernel


def test_keras_api_on_the_parameter():
    dense = layers.Dense(2, name="d")
    dense.build((None, 3))
    v = dense.kernel
    assert isinstance(v, lamina.Variable) and isinstance(v, torch.nn.Parameter)
    assert v.value is v and v.path == "d/kernel" and v.name == "kernel" and v.trainable
    v.assign(np.ones((3, 2)))
    v.assign_add(np.ones((3, 2)))
    v.assign_sub(0.5 * np.ones((3, 2)))
    np.testing.assert_array_equal(v.numpy(), np.full((3, 2), 1.5, "float32"))
    assert np.asarray(v).dtype == np.float32
    with pytest.raises(ValueError, match=r'Variable "d/kernel" expects a value of shape \(3, 2\)'):
        v.assign(np.ones((2, 2)))
    # arithmetic and ops give plain tensors; torch functions take the variable directly
    assert type(v * 2) is torch.Tensor and float((v * 2).sum()) == 18.0
    assert float(ops.sum(v)) == 9.0 and float(torch.sum(v)) == 9.0
    assert repr(v).startswith("<Variable path=d/kernel, shape=(3, 2), dtype=float32")


def test_trainable_flag_drives_requires_grad():
    model = lamina.Sequential([lamina.Input((3,)), layers.Dense(2), layers.Dense(1)])
    first = model.layers[0]
    first.trainable = False
    assert not first.kernel.trainable and not first.kernel.requires_grad
    assert len(model.trainable_weights) == 2 and model.trainable_weights[0] is model.layers[1].kernel
    first.trainable = True
    assert first.kernel.requires_grad


def test_state_is_a_buffer_variable_and_survives_moves():
    bn = layers.BatchNormalization()
    bn.build((None, 3))
    mean = bn.moving_mean
    assert isinstance(mean, lamina.Variable) and not mean.trainable
    assert dict(bn.named_buffers())["moving_mean"] is mean
    bn.to(torch.float64)
    assert bn.moving_mean is mean and mean.dtype == torch.float64 and bn.weights[2] is mean
    assert dict(bn.named_buffers())["moving_mean"] is mean


def test_state_dict_and_torch_optimizer_see_the_variables():
    model = lamina.Sequential([lamina.Input((4,)), layers.Dense(3), layers.BatchNormalization(), layers.Dense(1)])
    sd = model.state_dict()
    assert len(sd) == len(model.weights) == 8
    assert all(type(t) is torch.Tensor for t in sd.values())  # torch's own state_dict stores plain tensors
    assert {id(p) for p in model.parameters()} == {id(v) for v in model.trainable_weights}
    before = [w.numpy() for w in model.trainable_weights]
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    x = torch.arange(20, dtype=torch.float32).reshape(5, 4).sin()
    loss = ((model(x, training=True) - 1.0) ** 2).sum()  # squared: a plain sum of batch-normalized values is constant
    loss.backward()
    opt.step()
    moved = [not np.array_equal(b, w.numpy()) for b, w in zip(before, model.trainable_weights, strict=True)]
    assert moved == [True] * 6
    kernel = model.layers[0].kernel
    model.load_state_dict(sd)
    assert model.layers[0].kernel is kernel


def test_torch_multi_tensor_optimizers_accept_variables():
    from torch.optim.optimizer import _default_to_fused_or_foreach

    dense = layers.Dense(2)
    dense.build((None, 3))
    params = list(dense.parameters())
    assert all(type(p) is lamina.Variable for p in params)
    if torch.cuda.is_available():  # on CPU torch never defaults to foreach; the lists still must accept us
        assert _default_to_fused_or_foreach([p.cuda() for p in params], False, False)[1]
    from torch.optim import optimizer

    assert lamina.Variable in optimizer._foreach_supported_types


def test_copies_keep_class_and_keras_attributes():
    dense = layers.Dense(2, name="dd")
    dense.build((None, 3))
    clone = copy.deepcopy(dense)
    assert type(clone.kernel) is lamina.Variable and clone.kernel.path == "dd/kernel"
    assert clone.kernel is not dense.kernel and clone.weights[0] is clone.kernel
    np.testing.assert_array_equal(clone.kernel.numpy(), dense.kernel.numpy())
    restored = pickle.loads(pickle.dumps(dense.kernel))
    assert type(restored) is lamina.Variable and restored.path == "dd/kernel" and restored.requires_grad
    buf = io.BytesIO()
    torch.save(dense, buf)
    buf.seek(0)
    loaded = torch.load(buf, weights_only=False)
    assert type(loaded.kernel) is lamina.Variable and loaded.weights[0] is loaded.kernel


def test_torch_compile_sees_parameters():
    model = lamina.Sequential([lamina.Input((4,)), layers.Dense(3, activation="relu"), layers.Dense(1)])
    x = torch.randn(5, 4)
    compiled = torch.compile(model, backend="eager")  # dynamo tracing; no compiler toolchain needed
    torch.testing.assert_close(compiled(x), model(x))


_DDP_SCRIPT = """
import datetime, sys
import torch, torch.distributed as dist
import lamina
from lamina import layers
dist.init_process_group("gloo", init_method="file://" + sys.argv[1], rank=0, world_size=1,
                        timeout=datetime.timedelta(seconds=60))
try:
    model = lamina.Sequential([lamina.Input((4,)), layers.Dense(2)])
    ddp = torch.nn.parallel.DistributedDataParallel(model)
    ddp(torch.ones(3, 4)).sum().backward()
    kernel = model.layers[0].kernel
    print("grad", kernel.grad is not None, type(kernel).__name__, kernel.grad.shape == kernel.shape)
finally:
    dist.destroy_process_group()
"""


def test_ddp_wraps_a_lamina_model(tmp_path):
    # in its own process (a file store: no port to collide with), so a process group can never
    # outlive the test or stall the suite
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [ROOT, os.environ.get("PYTHONPATH")]))}
    for name in ("WORLD_SIZE", "RANK", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"):
        env.pop(name, None)
    done = subprocess.run(
        [sys.executable, "-c", _DDP_SCRIPT, str(tmp_path / "store")],
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.split() == ["grad", "True", "Variable", "True"], done.stdout


def test_standalone_variable_and_layer_tracking():
    class Counter(layers.Layer):
        def __init__(self):
            super().__init__()
            self.total = lamina.Variable(0.0, trainable=False, name="total")

        def call(self, x):
            self.total.assign_add(ops.sum(x))
            return x

    layer = Counter()
    layer(np.ones((2, 2), "float32"))
    assert float(layer.total) == 4.0
    assert layer.weights == [layer.total] and layer.non_trainable_weights == [layer.total]
    assert dict(layer.named_buffers())["total"] is layer.total


# -- the constructor: Keras's positional order, defaults and argument checks ---------------------------------


def test_constructor_signature_is_keras_order():
    import inspect

    import keras

    ours = list(inspect.signature(lamina.Variable.__init__).parameters)
    theirs = list(inspect.signature(keras.Variable.__init__).parameters)
    # Keras takes `**kwargs` last; ours are the keyword-only `device` and `path`
    assert ours[: len(theirs) - 1] == theirs[:-1]
    assert ours[len(theirs) - 1 :] == ["device", "path"]


@pytest.mark.parametrize(
    ("args", "kwargs"),
    [
        (("ones", (2, 3)), {}),
        ((np.ones(2),), {}),
        ((np.ones(2, "float16"),), {}),
        (([1.0, 2.0],), {}),
        ((np.ones(2), None, "int32", False), {}),
        ((np.ones(2, "float32"), None, None, True, False, "mean", "on_read", "vv"), {}),
        ((np.ones(3, "float32"),), {"aggregation": None, "synchronization": None, "name": "n"}),
    ],
)
def test_constructor_matches_keras(args, kwargs):
    import keras

    theirs = keras.Variable(*args, **kwargs)
    ours = lamina.Variable(*args, **kwargs)
    assert tuple(ours.shape) == tuple(theirs.shape)
    assert lamina.backend.standardize_dtype(ours.dtype) == keras.backend.standardize_dtype(theirs.dtype)
    assert ours.trainable == theirs.trainable
    assert (ours.aggregation, ours.synchronization) == (theirs.aggregation, theirs.synchronization)
    if "name" in kwargs or len(args) > 7:
        assert ours.name == theirs.name and ours.path == theirs.path
    np.testing.assert_array_equal(np.asarray(ours), np.asarray(theirs))


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"initializer": np.ones(2), "name": "a/b"}, ValueError, "cannot contain character `/`. Received: name='a/b'"),
        ({"initializer": np.ones(2), "name": 3}, ValueError, "must be a string.*Received: name=3"),
        ({"initializer": np.ones(2), "aggregation": "max"}, ValueError, "aggregation`.*Received: aggregation='max'"),
        ({"initializer": np.ones(2), "synchronization": "x"}, ValueError, "synchronization`.*Received: synchron"),
        ({"initializer": "ones"}, ValueError, "the `shape` argument should be specified.*shape=None"),
        ({"initializer": "nope", "shape": (2,)}, ValueError, "Unknown initializer: 'nope'"),
    ],
)
def test_constructor_errors_match_keras(kwargs, error, match):
    import keras

    with pytest.raises(error, match=match):
        lamina.Variable(**kwargs)
    with pytest.raises(ValueError):  # Keras refuses the same input
        keras.Variable(**kwargs)


def test_constructor_is_stricter_than_keras_where_keras_is_silent():
    # Keras ignores a `shape` that disagrees with the value and unknown keywords; we say so instead
    with pytest.raises(ValueError, match=r"expects an initial value of shape \(3,\), but received shape \(2,\)"):
        lamina.Variable(np.ones(2), shape=(3,))
    with pytest.raises(TypeError, match=r"unexpected keyword arguments: \['foo'\]"):
        lamina.Variable(np.ones(2), foo=1)


# -- StatelessScope ------------------------------------------------------------------------------------------


def _both():
    import keras

    return [keras, lamina]


def _np(k, x):
    return np.asarray(k.ops.convert_to_numpy(x))


def test_stateless_scope_maps_and_records_assigns_like_keras():
    x = np.arange(6, dtype="float32").reshape(2, 3)
    results = []
    for k in _both():
        layer = k.layers.Dense(2, kernel_initializer="ones")
        layer.build((None, 3))
        with k.StatelessScope([(layer.kernel, np.full((3, 2), 2.0, "float32"))]) as scope:
            y = _np(k, layer(x))
            layer.bias.assign(np.array([1.0, 3.0], "float32"))
            layer.bias.assign_add(np.array([1.0, 1.0], "float32"))
            current = _np(k, scope.get_current_value(layer.bias))
            in_scope = _np(k, layer.bias.value)
            y2 = _np(k, layer(x))
            kernel_seen = _np(k, scope.get_current_value(layer.kernel))
        after = (layer.kernel.numpy(), layer.bias.numpy())
        results.append((y, current, in_scope, y2, kernel_seen, *after))
    for ours, theirs in zip(results[1], results[0], strict=True):
        np.testing.assert_allclose(ours, theirs)
    np.testing.assert_array_equal(results[1][-1], [0.0, 0.0])  # the bias itself never changed


def test_stateless_scope_layer_attributes_keep_the_variable_api():
    layer = layers.Dense(2, name="dd")
    layer.build((None, 3))
    kernel = layer.kernel
    with lamina.StatelessScope([(kernel, np.zeros((3, 2), "float32"))]) as scope:
        seen = layer.kernel  # the slot holds the scope's value, seen as a variable
        assert isinstance(seen, lamina.Variable) and seen.path == "dd/kernel" and seen.name == "kernel"
        np.testing.assert_array_equal(seen.numpy(), np.zeros((3, 2)))
        assert seen.value is scope.get_current_value(kernel)
        seen.assign(np.ones((3, 2)))  # reaches the scope, not the variable
        np.testing.assert_array_equal(scope.get_current_value(seen).numpy(), np.ones((3, 2)))
        assert layer.weights[0] is kernel  # `weights` lists the variables themselves
    assert layer.kernel is kernel and dict(layer.named_parameters())["kernel"] is kernel
    assert not np.array_equal(kernel.numpy(), np.ones((3, 2)))


def test_stateless_scope_gradients_flow_to_the_mapped_values():
    grads = []
    for k in _both():
        k.utils.set_random_seed(0)
        layer = k.layers.Dense(2)
        layer.build((None, 3))
        value = torch.arange(6, dtype=torch.float32).reshape(3, 2).requires_grad_(True)
        with k.StatelessScope([(layer.kernel, value)]):
            out = layer(torch.ones(4, 3))
        (grad,) = torch.autograd.grad((out**2).sum(), value)
        grads.append(grad.detach().cpu().numpy())
    np.testing.assert_allclose(grads[1], grads[0], rtol=1e-6)


@pytest.mark.parametrize("mapped", [True, False])
def test_stateless_scope_batch_normalization_moving_stats(mapped):
    x = np.array([[0.0, 1.0, 2.0], [3.0, 4.0, 5.0], [1.0, -1.0, 0.5]], "float32")
    results = []
    for k in _both():
        bn = k.layers.BatchNormalization(momentum=0.5)
        bn.build((None, 3))
        mapping = [(v, v.numpy() + 1.0) for v in bn.non_trainable_variables] if mapped else []
        with k.StatelessScope(mapping) as scope:
            y = _np(k, bn(x, training=True))
            y_inference = _np(k, bn(x, training=False))  # reads the updated statistics
            stats = [_np(k, scope.get_current_value(v)) for v in bn.non_trainable_variables]
        after = [v.numpy() for v in bn.non_trainable_variables]
        results.append((y, y_inference, *stats, *after))
    for ours, theirs in zip(results[1], results[0], strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(results[1][-2], np.zeros(3))  # the moving mean itself is untouched
    np.testing.assert_array_equal(results[1][-1], np.ones(3))


def test_stateless_scope_collect_losses_like_keras():
    counts = []
    for k in _both():

        class Penalty(k.layers.Layer):
            def call(self, x):
                self.add_loss(k.ops.sum(x))
                return x

        layer = Penalty()
        x = np.arange(6, dtype="float32").reshape(2, 3)
        with k.StatelessScope(collect_losses=True) as scope:
            layer(x)
            inside = [float(_np(k, t)) for t in layer.losses]
        with k.StatelessScope() as quiet:
            layer(x)
        counts.append(([float(_np(k, t)) for t in scope.losses], inside, len(quiet.losses), len(layer.losses)))
    assert counts[1] == counts[0] == ([15.0], [15.0], 0, 0)


def test_stateless_scope_nested_and_restored_like_keras():
    results = []
    for k in _both():
        v = k.Variable(np.ones(2, "float32"))
        with k.StatelessScope([(v, np.full(2, 5.0, "float32"))]) as outer:
            with k.StatelessScope([(v, np.full(2, 7.0, "float32"))]) as inner:
                first = _np(k, v.value)
                v.assign(np.full(2, 9.0, "float32"))
                inner_value = _np(k, v.value)
                outer_value = _np(k, outer.get_current_value(v))
            after_inner = _np(k, v.value)
            recorded = _np(k, inner.get_current_value(v))
        results.append((first, inner_value, outer_value, after_inner, recorded, v.numpy()))
    for ours, theirs in zip(results[1], results[0], strict=True):
        np.testing.assert_array_equal(ours, theirs)
    assert lamina.variable.get_stateless_scope() is None


def test_stateless_scope_nested_in_a_layer_slot():
    layer = layers.Dense(1, use_bias=False, kernel_initializer="ones")
    layer.build((None, 2))
    kernel = layer.kernel
    x = np.ones((1, 2), "float32")
    with lamina.StatelessScope([(kernel, np.full((2, 1), 2.0, "float32"))]):
        with lamina.StatelessScope([(kernel, np.full((2, 1), 3.0, "float32"))]):
            assert float(layer(x).detach()[0, 0]) == 6.0
        assert float(layer(x).detach()[0, 0]) == 4.0
    assert float(layer(x).detach()[0, 0]) == 2.0 and layer.kernel is kernel


def test_stateless_scope_restores_after_an_exception():
    layer = layers.Dense(1)
    layer.build((None, 2))
    kernel = layer.kernel
    with pytest.raises(RuntimeError, match="boom"):
        with lamina.StatelessScope([(kernel, np.zeros((2, 1), "float32"))]):
            raise RuntimeError("boom")
    assert layer.kernel is kernel and lamina.variable.get_stateless_scope() is None


def test_stateless_scope_errors_match_keras():
    import keras

    layer = layers.Dense(2)
    layer.build((None, 3))
    with pytest.raises(ValueError, match="all keys in argument `mapping` must be Variable instances"):
        lamina.StatelessScope([(1, 2)])
    with pytest.raises(ValueError, match="all keys in argument `mapping` must be Variable instances"):
        keras.StatelessScope([(1, 2)])
    with pytest.raises(ValueError, match=r"For variable dense/kernel of shape \(3, 2\), received .* shape \(2, 2\)"):
        lamina.StatelessScope([(layer.kernel, np.zeros((2, 2)))])
    with pytest.raises(ValueError, match="must be a list of \\(variable, value\\) pairs"):
        lamina.StatelessScope([layer.kernel])


def test_stateless_scope_on_a_deepcopied_and_pickled_model():
    model = lamina.Sequential([lamina.Input((3,)), layers.Dense(2), layers.BatchNormalization()])
    x = np.arange(6, dtype="float32").reshape(2, 3)
    for clone in (copy.deepcopy(model), pickle.loads(pickle.dumps(model))):
        weights = clone.weights
        mapping = [(v, np.zeros(tuple(v.shape), "float32")) for v in clone.layers[0].weights]
        mapping += [(v, v.numpy()) for v in clone.layers[1].weights]  # gamma 1, beta 0, mean 0, variance 1
        with lamina.StatelessScope(mapping) as scope:
            out = clone(x, training=True)
            np.testing.assert_array_equal(out.detach().numpy(), np.zeros((2, 2)))
            moved = scope.get_current_value(clone.layers[1].moving_variance)
        np.testing.assert_allclose(moved.numpy(), np.full(2, 0.99), rtol=1e-6)  # 0.99 * 1 + 0.01 * var(zeros)
        assert [w.numpy().tolist() for w in clone.weights] == [w.numpy().tolist() for w in model.weights]
        assert all(a is b for a, b in zip(clone.weights, weights, strict=True))
