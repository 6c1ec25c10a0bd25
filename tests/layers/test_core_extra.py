import os

os.environ.setdefault("KERAS_BACKEND", "torch")

import base64  # noqa: E402
import marshal  # noqa: E402
import warnings  # noqa: E402

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from keras.src.saving import serialization_lib as keras_serialization  # noqa: E402

import lamina  # noqa: E402
from lamina import (
    layers,  # noqa: E402
    serialization,  # noqa: E402
)
from tests.layers.harness import keras_layer_from_config, run_layer_test  # noqa: E402


@pytest.fixture
def unsafe():
    """Lambda bytecode may be loaded, here and in the real Keras, inside the test only."""
    with serialization.SafeModeScope(False), keras_serialization.SafeModeScope(False):
        yield


# ---------------------------------------------------------------------------------------------- Lambda
def _bytecode_by_meaning(config):
    """Re-marshalling a loaded code object changes marshal's reference flags, not the code: compare the code."""
    config = dict(config)
    fn = config["function"]
    if fn.get("class_name") == "__lambda__":
        code = marshal.loads(base64.decodebytes(fn["config"]["code"].encode("ascii")))
        inner = {**fn["config"], "code": (code.co_code, code.co_consts, code.co_names, code.co_varnames)}
        config["function"] = {**fn, "config": inner}
    return config


@pytest.mark.parametrize(
    "kwargs,shape",
    [
        ({"function": lambda x: x * 2 + 1}, (2, 3)),
        ({"function": lambda x, k: x * k, "arguments": {"k": 3.0}}, (2, 3)),
        ({"function": lambda x: x[:, :2], "output_shape": (2,)}, (2, 5)),
        ({"function": lambda x: x.sum(-1)}, (2, 3, 4)),
    ],
)
def test_lambda(kwargs, shape, unsafe):
    layer = run_layer_test(layers.Lambda, kwargs, shape, config_normalizer=_bytecode_by_meaning)
    # the config Keras writes for the same layer is ours
    kconfig = keras_layer_from_config("Lambda", layer.get_config()).get_config()
    assert _bytecode_by_meaning(kconfig) == _bytecode_by_meaning(layer.get_config())


def test_lambda_named_function_needs_no_unsafe_mode():
    layer = run_layer_test(layers.Lambda, {"function": lamina.activations.relu}, (2, 3))
    assert layer.get_config()["function"]["class_name"] == "function"


def test_lambda_config_schema():
    config = layers.Lambda(lambda x: x + 1).get_config()
    assert config["function"]["class_name"] == "__lambda__"
    assert set(config["function"]["config"]) == {"code", "defaults", "closure"}
    assert "output_shape" not in config and "mask" not in config and config["arguments"] == {}


def test_lambda_bytecode_refused_in_safe_mode():
    offset = 5.0
    layer = layers.Lambda(lambda x: x + offset, name="lam")
    config = layer.get_config()
    with pytest.raises(ValueError, match="safe_mode=False"):
        layers.Lambda.from_config(config)
    with pytest.raises(ValueError, match="arbitrary|runs code"):
        serialization.deserialize_keras_object(serialization.serialize_keras_object(layer))
    # trusted: explicit argument, scope, or deserialize_keras_object(safe_mode=False)
    for rebuilt in (
        layers.Lambda.from_config(config, safe_mode=False),
        serialization.deserialize_keras_object(serialization.serialize_keras_object(layer), safe_mode=False),
    ):
        assert rebuilt(torch.ones(2)).tolist() == [6.0, 6.0]  # the closure came back too
    with serialization.SafeModeScope(False):
        assert serialization.in_safe_mode() is False
        assert layers.Lambda.from_config(config)(torch.zeros(1)).tolist() == [5.0]
    assert serialization.in_safe_mode() is None
    # an outer safe scope wins over a nested unsafe request, as in Keras
    with serialization.SafeModeScope(True), pytest.raises(ValueError, match="Lambda"):
        serialization.deserialize_keras_object(serialization.serialize_keras_object(layer), safe_mode=False)


def test_enable_unsafe_deserialization():
    config = layers.Lambda(lambda x: -x).get_config()
    try:
        serialization.enable_unsafe_deserialization()
        assert serialization.in_safe_mode() is False
        assert layers.Lambda.from_config(config)(torch.ones(1)).tolist() == [-1.0]
        with serialization.SafeModeScope(True), pytest.raises(ValueError, match="Lambda"):
            layers.Lambda.from_config(config)
    finally:
        serialization._UNSAFE_DESERIALIZATION_ENABLED[0] = False
    with pytest.raises(ValueError, match="Lambda"):
        layers.Lambda.from_config(config)


def test_lambda_mask_training_and_symbolic_shape():
    seen = []

    def fn(x, training=None):
        seen.append(training)
        return x * 2

    layer = layers.Lambda(fn, mask=lambda inputs, mask: inputs[..., 0] > 0)
    x = torch.tensor([[[1.0, 1.0], [-1.0, 0.0]]])
    for _ in range(2):  # the second call takes the built fast path
        assert layer(x)._keras_mask.tolist() == [[True, False]]
    layer(x, training=True)
    assert seen == [False, False, True]
    out = layers.Lambda(lambda x: x.sum(-1))(lamina.Input((3, 4)))
    assert out.shape == (None, 3)
    out = layers.Lambda(lambda x: x.long())(lamina.Input((3,)))
    assert out.dtype == "int64"
    out = layers.Lambda(lambda x: [x, x], output_shape=[(3,), (3,)])(lamina.Input((3,)))
    assert [o.shape for o in out] == [(None, 3), (None, 3)]


def test_lambda_not_callable():
    with pytest.raises(ValueError, match="callable"):
        layers.Lambda(3)


# ---------------------------------------------------------------------------------------------- Masking
def _padded(seed=0):
    x = np.random.default_rng(seed).standard_normal((3, 5, 4)).astype("float32")
    x[0, 3:] = 0.0
    x[1, 0] = 0.0
    x[2, 2, :2] = 0.0  # partly zero: not masked
    return x


@pytest.mark.parametrize("kwargs", [{}, {"mask_value": 0.0}])
def test_masking(kwargs):
    run_layer_test(layers.Masking, kwargs, (3, 5, 4), input_data=_padded())


def test_masking_custom_value_and_keras_mask():
    x = _padded()
    x[x == 0.0] = -1.0
    layer = layers.Masking(mask_value=-1.0)
    klayer = keras_layer_from_config("Masking", layer.get_config())
    for _ in range(2):
        y = layer(x)
        expected_mask = keras.ops.convert_to_numpy(klayer.compute_mask(keras.ops.convert_to_tensor(x)))
        assert np.array_equal(y._keras_mask.numpy(), expected_mask)
    assert y._keras_mask.tolist() == [[True, True, True, False, False], [False] + [True] * 4, [True] * 5]
    assert (y[0, 3:] == 0).all() and (y[1, 0] == 0).all()
    np.testing.assert_allclose(y.numpy(), keras.ops.convert_to_numpy(klayer(keras.ops.convert_to_tensor(x))))


def test_masking_mask_reaches_next_layer():
    got = {}

    def consume(x, mask=None):
        got["mask"] = mask
        return x

    model = lamina.Sequential([lamina.Input((5, 4)), layers.Masking(), layers.Lambda(consume)])
    model(_padded())
    assert got["mask"].tolist()[0] == [True, True, True, False, False]


# ---------------------------------------------------------------------------------------------- EinsumDense
@pytest.mark.parametrize(
    "kwargs,shape,kernel,bias",
    [
        ({"equation": "ab,bc->ac", "output_shape": 4, "bias_axes": "c"}, (2, 3), (3, 4), (4,)),
        ({"equation": "ab,bc->ac", "output_shape": (4,), "activation": "relu"}, (2, 3), (3, 4), None),
        ({"equation": "abc,cd->abd", "output_shape": (None, 4), "bias_axes": "d"}, (2, 3, 5), (5, 4), (4,)),
        ({"equation": "abc,cde->abde", "output_shape": (None, 2, 4), "bias_axes": "de"}, (2, 3, 5), (5, 2, 4), (2, 4)),
        ({"equation": "abc,cde->abde", "output_shape": (3, 2, 4), "bias_axes": "b"}, (2, 3, 5), (5, 2, 4), (3, 1, 1)),
        ({"equation": "...b,bc->...c", "output_shape": 4, "bias_axes": "c"}, (2, 3, 5), (5, 4), (4,)),
        ({"equation": "...bc,cd->...bd", "output_shape": (None, 4), "bias_axes": "d"}, (2, 6, 3, 5), (5, 4), (4,)),
        ({"equation": "abc...,cd->abd...", "output_shape": (None, 4), "bias_axes": "d"}, (2, 3, 5, 2), (5, 4), (4, 1)),
        ({"equation": "abcd,cde->abe", "output_shape": (None, 6)}, (2, 3, 4, 5), (4, 5, 6), None),
    ],
)
def test_einsum_dense(kwargs, shape, kernel, bias):
    layer = run_layer_test(layers.EinsumDense, kwargs, shape)
    shapes = [w.shape for w in layer.weights]
    assert shapes == ([kernel] if bias is None else [kernel, bias])
    assert [w.name for w in layer.weights] == (["kernel"] if bias is None else ["kernel", "bias"])


def test_einsum_dense_symbolic_keeps_known_shared_axes():
    out = layers.EinsumDense("abc,cd->abd", output_shape=(None, 4))(lamina.Input((7, 5)))
    assert out.shape == (None, 7, 4)


def test_einsum_dense_kernel_initializer_uses_einsum_fans():
    lamina.utils.set_random_seed(0)
    layer = layers.EinsumDense("abc,cde->abde", output_shape=(None, 8, 16))
    layer.build((None, 3, 64))
    limit = (6 / (64 + 8 * 16)) ** 0.5  # glorot over input axis c and output axes d, e
    assert layer.kernel.abs().max().item() <= limit
    assert layer.kernel.abs().max().item() > 0.8 * limit
    assert layer.get_config()["kernel_initializer"]["config"]["input_axes"] is None


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"equation": "ab->ac", "output_shape": 4}, "Invalid einsum equation"),
        ({"equation": "ab,bc->ad", "output_shape": 4}, "Dimension 'd'"),
        ({"equation": "ab,bxc->ac", "output_shape": 4}, "Weight dimension 'x'"),
        ({"equation": "ab,bc->ac", "output_shape": 4, "bias_axes": "z"}, "Bias dimension 'z'"),
        ({"equation": "abc,cd->abd", "output_shape": (9, 4)}, "shared dimension 'b'"),
    ],
)
def test_einsum_dense_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        layers.EinsumDense(**kwargs, name="ed")(
            np.zeros((2, 3, 5) if "abc" in kwargs["equation"] else (2, 3), "float32")
        )


def test_einsum_dense_wrong_contracted_size_names_layer():
    layer = layers.EinsumDense("ab,bc->ac", output_shape=4, name="ed")
    layer(np.zeros((2, 3), "float32"))
    with pytest.raises(ValueError, match=r'Layer "ed" \(EinsumDense\) expects last axis 3'):
        layer(np.zeros((2, 5), "float32"))


# ---------------------------------------------------------------------------------------------- Embedding
@pytest.mark.parametrize(
    "kwargs,shape",
    [
        ({"input_dim": 10, "output_dim": 4}, (2, 5)),
        ({"input_dim": 10, "output_dim": 3, "mask_zero": True}, (2, 5)),
        ({"input_dim": 10, "output_dim": 2, "embeddings_initializer": "glorot_uniform"}, (2, 3, 4)),
        ({"input_dim": 10, "output_dim": 3, "embeddings_regularizer": "l2"}, (4,)),
    ],
)
def test_embedding(kwargs, shape):
    layer = run_layer_test(layers.Embedding, kwargs, shape, input_dtype="int64", check_symbolic=len(shape) > 1)
    assert [(w.name, w.shape) for w in layer.weights] == [("embeddings", (kwargs["input_dim"], kwargs["output_dim"]))]


def test_embedding_int32_input_parity():
    run_layer_test(
        layers.Embedding,
        {"input_dim": 7, "output_dim": 3},
        (2, 4),
        input_dtype="int32",
        input_data=np.array([[0, 1, 6, 2], [3, 3, 0, 5]], "int32"),
    )


def test_embedding_default_initializer_is_uniform():
    layer = layers.Embedding(100, 8)
    layer.build()
    init = layer.get_config()["embeddings_initializer"]
    assert init["class_name"] == "RandomUniform" and init["config"]["maxval"] == 0.05
    assert layer.embeddings.abs().max().item() <= 0.05


def test_embedding_mask_zero_puts_keras_mask():
    layer = layers.Embedding(10, 3, mask_zero=True)
    x = np.array([[1, 2, 0, 0], [3, 0, 4, 0]])
    for _ in range(2):  # first call builds; the second takes the built fast path
        y = layer(x)
        assert y._keras_mask.tolist() == [[True, True, False, False], [True, False, True, False]]
    assert layers.Embedding(10, 3)(x).__dict__.get("_keras_mask") is None
    assert torch.equal(layer.compute_mask(torch.as_tensor(x)), torch.as_tensor(x) != 0)


def test_embedding_mask_reaches_next_layer():
    got = {}

    def consume(x, mask=None):
        got["mask"] = mask
        return x

    model = lamina.Sequential(
        [lamina.Input((4,), dtype="int64"), layers.Embedding(10, 3, mask_zero=True), layers.Lambda(consume)]
    )
    model(np.array([[1, 0, 2, 0]]))
    assert got["mask"].tolist() == [[True, False, True, False]]


def test_embedding_input_dtypes():
    layer = layers.Embedding(5, 2, weights=[np.arange(10, dtype="float32").reshape(5, 2)])
    assert layer(np.array([[1.7, 3.2]], "float32")).tolist() == [[[2.0, 3.0], [6.0, 7.0]]]  # floats truncated
    assert layer(np.array([[1.7, 3.2]])).tolist() == [[[2.0, 3.0], [6.0, 7.0]]]  # float64 too
    assert layer(torch.tensor([[True, False]])).tolist() == [[[2.0, 3.0], [0.0, 1.0]]]
    assert layer(torch.tensor([4], dtype=torch.int32)).dtype == torch.float32
    with pytest.raises(TypeError, match="numeric"):
        layer(np.array([["a", "b"]]))
    with pytest.raises(TypeError, match=r'Layer "embedding" \(Embedding\) expects integer indices'):
        layer(torch.tensor([1 + 2j]))
    with pytest.raises(IndexError, match=r"expects indices in \[0, 5\), but received indices in \[1, 9\]"):
        layer(np.array([[1, 9]]))


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"input_dim": 0, "output_dim": 2}, "input_dim=0"),
        ({"input_dim": 3.0, "output_dim": 2}, "input_dim=3.0"),
        ({"input_dim": 3, "output_dim": -1}, "output_dim=-1"),
    ],
)
def test_embedding_bad_args(kwargs, match):
    with pytest.raises(ValueError, match=match):
        layers.Embedding(**kwargs)


def test_embedding_input_length_deprecated_and_config_from_keras():
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        layers.Embedding(5, 2, input_length=3)
    assert any("input_length" in str(m.message) for m in w)
    kconfig = keras.layers.Embedding(6, 3, mask_zero=True).get_config()
    ours = layers.Embedding.from_config(kconfig)
    assert ours.get_config() == kconfig


@pytest.mark.parametrize(
    "make,x",
    [
        (
            lambda: layers.EinsumDense("abc,cd->abd", (None, 4), bias_axes="d", dtype="mixed_bfloat16"),
            torch.randn(2, 3, 5),
        ),
        (lambda: layers.Embedding(10, 4, mask_zero=True, dtype="mixed_bfloat16"), torch.tensor([[1, 0, 3]])),
        (lambda: layers.Masking(dtype="mixed_bfloat16"), torch.randn(2, 3, 4)),
    ],
)
def test_mixed_precision_float32_weights_compute_dtype_outputs(make, x):
    layer = make()
    y = layer(x)
    assert y.dtype == torch.bfloat16
    assert all(w.dtype == torch.float32 for w in layer.weights)
