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
