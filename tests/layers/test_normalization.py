import numpy as np
import pytest
import torch

import lamina
from lamina import layers
from tests.layers.harness import keras_layer_from_config, make_input, run_layer_test, to_numpy


def _keras():
    import keras

    return keras


# ----------------------------------------------------------------------------- BatchNormalization
@pytest.mark.parametrize(
    "kwargs,shape",
    [
        ({}, (4, 3)),
        ({"momentum": 0.9, "epsilon": 1e-2}, (2, 5, 3)),
        ({"axis": 1}, (2, 3, 4, 4)),  # channels_first
        ({"center": False}, (2, 4, 4, 3)),
        ({"scale": False, "center": False}, (3, 2, 4)),
    ],
)
def test_batch_norm_inference_parity(kwargs, shape):
    run_layer_test(
        layers.BatchNormalization,
        kwargs,
        shape,
        expected_num_weights=4 - (not kwargs.get("center", 1)) - (not kwargs.get("scale", 1)),
    )


def _bn_training_parity(kwargs, shape, mask=None, seed=0):
    keras = _keras()
    layer = layers.BatchNormalization(**kwargs)
    x = make_input(shape, seed=seed) * 3 + 1
    layer.build(x.shape)
    rng = np.random.default_rng(seed + 5)
    for v in layer.weights:
        if "variance" in v.name:
            v.assign(rng.uniform(0.5, 1.5, v.shape).astype("float32"))
        else:
            v.assign(rng.standard_normal(v.shape).astype("float32"))
    klayer = keras_layer_from_config("BatchNormalization", layer.get_config())
    klayer.build(x.shape)
    klayer.set_weights(layer.get_weights())
    call_kw = {} if mask is None else {"mask": mask}
    got = layer(x, training=True, **({} if mask is None else {"mask": torch.as_tensor(mask)}))
    expected = to_numpy(
        klayer(
            keras.ops.convert_to_tensor(x),
            training=True,
            **({} if mask is None else {"mask": keras.ops.convert_to_tensor(mask)}),
        )
    )
    del call_kw
    np.testing.assert_allclose(to_numpy(got), expected, atol=1e-5, rtol=1e-5)
    for w, kw in zip(layer.weights, klayer.weights, strict=True):
        np.testing.assert_allclose(w.numpy(), to_numpy(kw.value), atol=1e-5, rtol=1e-5, err_msg=w.name)
    # inference afterwards uses the updated moving statistics
    np.testing.assert_allclose(
        to_numpy(layer(x)), to_numpy(klayer(keras.ops.convert_to_tensor(x))), atol=1e-5, rtol=1e-5
    )
    return layer


@pytest.mark.parametrize(
    "kwargs,shape",
    [
        ({}, (6, 3)),
        ({"momentum": 0.5}, (2, 5, 4, 3)),
        ({"axis": 1, "epsilon": 1e-5}, (3, 4, 5, 5)),  # channels_first
        ({"center": False, "scale": False}, (4, 5, 2)),
        ({"renorm": True, "renorm_clipping": {"rmax": 2.0, "rmin": 0.5, "dmax": 1.0}}, (8, 3)),
        ({"renorm": True, "renorm_momentum": 0.5}, (4, 2, 3)),
    ],
)
def test_batch_norm_training_parity_and_moving_stats(kwargs, shape):
    _bn_training_parity(kwargs, shape)


def test_batch_norm_training_with_mask_parity():
    mask = np.array([[1, 1, 0, 1], [0, 1, 1, 1]], bool)
    _bn_training_parity({}, (2, 4, 3), mask=mask)


def test_batch_norm_moving_update_formula_uses_biased_variance():
    bn = layers.BatchNormalization(momentum=0.9)
    x = torch.tensor([[0.0, 1.0], [2.0, 5.0], [4.0, 6.0]])
    bn(x, training=True)
    mean = x.mean(0)
    var = x.var(0, unbiased=False)
    torch.testing.assert_close(bn.moving_mean, 0.1 * mean)
    torch.testing.assert_close(bn.moving_variance, 0.9 + 0.1 * var)


def test_batch_norm_single_value_per_channel_training():
    bn = layers.BatchNormalization(momentum=0.5)
    y = bn(torch.tensor([[3.0, -1.0]]), training=True)
    torch.testing.assert_close(y, torch.zeros(1, 2))
    torch.testing.assert_close(bn.moving_mean, torch.tensor([1.5, -0.5]))


def test_frozen_batch_norm_runs_in_inference_and_keeps_stats():
    keras = _keras()
    x = make_input((5, 3)) * 2 + 3
    bn = layers.BatchNormalization()
    bn.build(x.shape)
    bn.trainable = False
    before = [w.numpy().copy() for w in bn.weights]
    y = bn(x, training=True)
    for b, w in zip(before, bn.weights, strict=True):
        np.testing.assert_array_equal(b, w.numpy())
    np.testing.assert_allclose(to_numpy(y), to_numpy(bn(x, training=False)), atol=1e-6)
    kbn = keras.layers.BatchNormalization()
    kbn.build(x.shape)
    kbn.trainable = False
    np.testing.assert_allclose(to_numpy(y), to_numpy(kbn(keras.ops.convert_to_tensor(x), training=True)), atol=1e-5)
    assert bn.trainable_weights == [] and len(bn.non_trainable_weights) == 4


def test_batch_norm_weights_names_kinds_and_buffers():
    bn = layers.BatchNormalization(name="bn")
    bn.build((None, 4))
    assert [(w.path, w.trainable) for w in bn.weights] == [
        ("bn/gamma", True),
        ("bn/beta", True),
        ("bn/moving_mean", False),
        ("bn/moving_variance", False),
    ]
    assert [n for n, _ in bn.named_parameters()] == ["gamma", "beta"]
    assert [n for n, _ in bn.named_buffers()] == ["moving_mean", "moving_variance"]
    assert list(bn.state_dict()) == ["gamma", "beta", "moving_mean", "moving_variance"]


def test_batch_norm_training_gradients_flow():
    bn = layers.BatchNormalization()
    x = torch.randn(6, 3, requires_grad=True)
    bn(x, training=True).square().sum().backward()
    assert x.grad is not None and bn.gamma.grad is not None and bn.beta.grad is not None


def test_batch_norm_module_train_flag_drives_training():
    bn = layers.BatchNormalization()
    x = torch.randn(8, 2) + 5
    bn(x)
    assert torch.all(bn.moving_mean == 0)
    bn.train()
    bn(x)
    assert torch.all(bn.moving_mean != 0)


def test_batch_norm_errors():
    bn = layers.BatchNormalization(name="bn")
    bn(np.ones((2, 3), "float32"))
    with pytest.raises(ValueError, match=r'Layer "bn" \(BatchNormalization\) expects'):
        bn(np.ones((2, 4), "float32"))
    with pytest.raises(ValueError, match="renorm_clipping"):
        layers.BatchNormalization(renorm=True, renorm_clipping={"foo": 1})
    with pytest.raises(ValueError, match="mask"):
        layers.BatchNormalization()(torch.ones(2, 3, 4), training=True, mask=torch.ones(2, dtype=torch.bool))


def test_batch_norm_in_sequential_symbolic():
    model = lamina.Sequential([lamina.Input((4, 4, 3)), layers.BatchNormalization()])
    assert model.output_shape == (None, 4, 4, 3)


def test_batch_norm_config_matches_keras_keys():
    keras = _keras()
    ours = layers.BatchNormalization(renorm=True).get_config()
    theirs = keras.layers.BatchNormalization(renorm=True).get_config()
    assert list(ours) == list(theirs)
    ours.pop("name"), theirs.pop("name")
    assert ours == theirs


# ----------------------------------------------------------------------------- LayerNormalization
@pytest.mark.parametrize(
    "kwargs,shape",
    [
        ({}, (2, 5)),
        ({"epsilon": 1e-5, "center": False}, (2, 3, 4)),
        ({"axis": [-2, -1]}, (2, 3, 4)),
        ({"axis": [1, 2, 3], "scale": False}, (2, 3, 4, 2)),
        ({"rms_scaling": True}, (2, 3, 4)),
    ],
)
def test_layer_norm_parity(kwargs, shape):
    with pytest.warns(UserWarning) if kwargs.get("rms_scaling") else _nullcontext():
        run_layer_test(layers.LayerNormalization, kwargs, shape)


class _nullcontext:
    def __enter__(self):
        return self

    def __exit__(self, *a):
        return False


def test_layer_norm_non_trailing_axes_normalizes_those_axes():
    # Keras's torch backend mis-handles non-trailing axes (it calls F.layer_norm on the wrong
    # dims); Lamina normalizes the requested axes, as the TensorFlow and JAX backends do.
    x = make_input((2, 3, 4)) * 2 + 1
    ln = layers.LayerNormalization(axis=1)
    ln.build(x.shape)
    assert ln.weights[0].shape == (3,)
    rng = np.random.default_rng(0)
    g, b = rng.standard_normal(3).astype("float32"), rng.standard_normal(3).astype("float32")
    ln.set_weights([g, b])
    m, v = x.mean(1, keepdims=True), x.var(1, keepdims=True)
    expected = (x - m) / np.sqrt(v + 1e-3) * g[None, :, None] + b[None, :, None]
    np.testing.assert_allclose(to_numpy(ln(x)), expected, atol=1e-5)
    assert ln.get_config()["axis"] == [1]


def test_layer_norm_config_and_errors():
    keras = _keras()
    assert list(layers.LayerNormalization().get_config()) == list(keras.layers.LayerNormalization().get_config())
    with pytest.raises(TypeError, match="axis"):
        layers.LayerNormalization(axis="x")
    with pytest.raises(ValueError, match="out of bounds"):
        layers.LayerNormalization(axis=3)(np.ones((2, 3), "float32"))


def test_layer_norm_half_precision_computes_in_float32():
    ln = layers.LayerNormalization(dtype="mixed_float16")
    x = torch.randn(2, 8) * 100
    y = ln(x)
    assert y.dtype == torch.float16
    torch.testing.assert_close(y.float(), torch.nn.functional.layer_norm(x, (8,), eps=1e-3), atol=1e-2, rtol=1e-2)


# ----------------------------------------------------------------------------- GroupNormalization
@pytest.mark.parametrize(
    "kwargs,shape",
    [
        ({"groups": 2}, (2, 4, 4, 6)),
        ({"groups": 3, "axis": 1}, (2, 6, 5)),  # channels_first
        ({"groups": -1, "center": False}, (2, 5, 4)),
        ({"groups": 1, "epsilon": 1e-5}, (3, 4)),
    ],
)
def test_group_norm_parity(kwargs, shape):
    run_layer_test(layers.GroupNormalization, kwargs, shape)


def test_group_norm_errors_and_instance_mode_config():
    with pytest.raises(ValueError, match="groups=0"):
        layers.GroupNormalization(groups=0)
    with pytest.raises(ValueError, match="cannot be more than"):
        layers.GroupNormalization(groups=8)(np.ones((2, 4), "float32"))
    with pytest.raises(ValueError, match="multiple"):
        layers.GroupNormalization(groups=3)(np.ones((2, 4), "float32"))
    gn = layers.GroupNormalization(groups=-1)
    gn(np.ones((2, 3, 5), "float32"))
    assert gn.get_config()["groups"] == 5


# ----------------------------------------------------------------------------- UnitNormalization
@pytest.mark.parametrize(
    "kwargs,shape",
    [
        ({}, (2, 5)),
        ({"axis": [1, 2]}, (2, 3, 4)),
        ({"axis": 1}, (2, 3, 4)),
    ],
)
def test_unit_norm_parity(kwargs, shape):
    run_layer_test(layers.UnitNormalization, kwargs, shape)


def test_unit_norm_zero_vector_and_errors():
    y = layers.UnitNormalization()(torch.zeros(1, 3))
    assert torch.all(y == 0)
    with pytest.raises(TypeError, match="axis"):
        layers.UnitNormalization(axis="a")


def _sync_bn_worker(rank, world, path, queue):
    import torch.distributed as dist

    dist.init_process_group("gloo", init_method=f"file://{path}", rank=rank, world_size=world)
    try:
        torch.manual_seed(0)
        full = torch.randn(8, 3) * 2 + 1
        part = full[rank * 4 : (rank + 1) * 4].clone().requires_grad_()
        bn = layers.BatchNormalization(synchronized=True, momentum=0.5)
        bn(part, training=True).square().sum().backward()
        queue.put((rank, bn(part).detach().numpy(), bn.moving_variance.numpy().copy(), part.grad.numpy()))
        dist.barrier()
    finally:
        dist.destroy_process_group()


def test_synchronized_batch_norm_across_two_processes(tmp_path):
    import torch.multiprocessing as mp

    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    procs = [ctx.Process(target=_sync_bn_worker, args=(r, 2, str(tmp_path / "pg"), queue)) for r in range(2)]
    for p in procs:
        p.start()
    results = sorted((queue.get(timeout=60) for _ in procs), key=lambda r: r[0])
    for p in procs:
        p.join(timeout=60)
    torch.manual_seed(0)
    full = (torch.randn(8, 3) * 2 + 1).requires_grad_()
    bn = layers.BatchNormalization(momentum=0.5)
    bn(full, training=True).square().sum().backward()
    # global statistics: same moving stats, outputs and input gradients as one process on the whole batch
    np.testing.assert_allclose(np.concatenate([r[1] for r in results]), to_numpy(bn(full)), atol=1e-5)
    np.testing.assert_allclose(results[0][2], bn.moving_variance.numpy(), atol=1e-6)
    np.testing.assert_allclose(np.concatenate([r[3] for r in results]), full.grad.numpy(), atol=1e-5)


# ----------------------------------------------------------------------------- RMSNormalization
@pytest.mark.parametrize(
    "kwargs,shape",
    [
        ({}, (2, 5)),
        ({"axis": [-2, -1], "epsilon": 1e-3}, (2, 3, 4)),
    ],
)
def test_rms_norm_parity(kwargs, shape):
    layer = run_layer_test(layers.RMSNormalization, kwargs, shape)
    assert [w.name for w in layer.weights] == ["scale"]


def test_rms_norm_non_trailing_axis():
    # Keras's torch backend errors on non-trailing axes (F.rms_norm on the wrong dims); Lamina normalizes them
    x = make_input((2, 3, 4))
    layer = layers.RMSNormalization(axis=1)
    layer.build(x.shape)
    layer.set_weights([np.array([1.0, 2.0, 3.0], "float32")])
    expected = x / np.sqrt((x**2).mean(1, keepdims=True) + 1e-6) * np.array([1, 2, 3])[None, :, None]
    np.testing.assert_allclose(to_numpy(layer(x)), expected, atol=1e-5)


# ----------------------------------------------------------------------------- SpectralNormalization
def _spectral_pair(inner, x):
    keras = _keras()
    sn = layers.SpectralNormalization(inner, power_iterations=2)
    sn(x)
    rng = np.random.default_rng(0)
    for v in sn.weights:
        if lamina.backend.standardize_dtype(v.dtype).startswith("float"):
            v.assign(rng.standard_normal(v.shape).astype("float32") * 0.5)
    ksn = keras.layers.SpectralNormalization.from_config(sn.get_config())
    ksn(keras.ops.convert_to_tensor(x))
    ksn.set_weights(sn.get_weights())
    return sn, ksn


@pytest.mark.parametrize(
    "make,x",
    [
        (lambda: layers.Dense(3), make_input((2, 4))),
        (lambda: layers.Conv2D(3, 2) if hasattr(layers, "Conv2D") else layers.Dense(3), make_input((2, 5, 5, 2))),
    ],
)
def test_spectral_norm_training_step_parity(make, x):
    keras = _keras()
    sn, ksn = _spectral_pair(make(), x)
    assert [tuple(w.shape) for w in sn.weights] == [tuple(w.shape) for w in ksn.weights]
    np.testing.assert_allclose(to_numpy(sn(x)), to_numpy(ksn(keras.ops.convert_to_tensor(x))), atol=1e-5)
    y = sn(x, training=True)
    ky = ksn(keras.ops.convert_to_tensor(x), training=True)
    np.testing.assert_allclose(to_numpy(y), to_numpy(ky), atol=1e-5)
    for w, kw in zip(sn.weights, ksn.weights, strict=True):
        np.testing.assert_allclose(w.numpy(), to_numpy(kw.value), atol=1e-5, err_msg=w.path)
    # the normalized kernel has spectral norm ~1 after a few steps
    for _ in range(20):
        sn(x, training=True)
    k = sn.kernel.detach().reshape(-1, sn.kernel.shape[-1])
    assert abs(torch.linalg.matrix_norm(k, ord=2).item() - 1.0) < 1e-2


def test_spectral_norm_weights_order_config_and_errors():
    keras = _keras()
    sn = layers.SpectralNormalization(layers.Dense(2, name="d"), name="sn")
    config = sn.get_config()
    assert config == keras.layers.SpectralNormalization(keras.layers.Dense(2, name="d"), name="sn").get_config()
    sn.build((None, 3))
    assert [w.path for w in sn.weights] == ["sn/d/kernel", "sn/vector_u", "sn/d/bias"]
    assert [w.trainable for w in sn.weights] == [True, False, True]
    config = sn.get_config()
    assert layers.SpectralNormalization.from_config(config).get_config() == config
    with pytest.raises(ValueError, match="power_iterations"):
        layers.SpectralNormalization(layers.Dense(2), power_iterations=0)
    with pytest.raises(ValueError, match="kernel"):
        layers.SpectralNormalization(layers.LayerNormalization())(np.ones((2, 3), "float32"))


def test_spectral_and_rms_norm_keras_file_round_trip(tmp_path):
    keras = _keras()
    x = make_input((2, 4))
    kmodel = keras.Sequential(
        [
            keras.Input((4,)),
            keras.layers.SpectralNormalization(keras.layers.Dense(3)),
            keras.layers.RMSNormalization(),
            keras.layers.BatchNormalization(),
        ]
    )
    kmodel(x, training=True)
    kmodel.save(tmp_path / "k.keras")
    model = lamina.saving.load_model(tmp_path / "k.keras")
    for a, b in zip(model.get_weights(), kmodel.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, atol=1e-6)
    np.testing.assert_allclose(to_numpy(model(x)), to_numpy(kmodel(x)), atol=1e-5)
    model(x, training=True)
    model.save(tmp_path / "l.keras")
    back = keras.saving.load_model(tmp_path / "l.keras")
    for a, b in zip(model.get_weights(), back.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, atol=1e-6)
