"""Parity of ``lamina.ops`` neural-network ops with the real ``keras.ops`` (torch backend)."""

import numpy as np
import pytest
import torch
from keras import ops as kops

import lamina
from lamina import ops
from tests.ops import assert_parity, case, f32, ints

X = f32(3, 6, low=-4.0, high=4.0)
X3 = f32(2, 3, 4)
IMG = f32(2, 7, 6, 3)
SEQ = f32(2, 9, 3)
VOL = f32(1, 5, 4, 6, 2)
PROBS = f32(4, 5, low=0.05, high=1.0)
PROBS = PROBS / PROBS.sum(-1, keepdims=True)
ONEHOT = np.eye(5, dtype="float32")[[0, 3, 4, 1]]
LABELS = np.array([0, 3, 4, 1])
BIN_T = (f32(4, 3) > 0).astype("float32")
BIN_P = f32(4, 3, low=0.05, high=0.95)

ACTIVATIONS = [
    "relu",
    "relu6",
    "sigmoid",
    "sparse_sigmoid",
    "softplus",
    "softsign",
    "soft_shrink",
    "sparse_plus",
    "silu",
    "swish",
    "squareplus",
    "log_sigmoid",
    "leaky_relu",
    "hard_sigmoid",
    "hard_silu",
    "hard_swish",
    "elu",
    "selu",
    "gelu",
    "celu",
    "glu",
    "tanh_shrink",
    "hard_tanh",
    "hard_shrink",
    "softmax",
    "log_softmax",
]

ACT_CASES = [case(n, X) for n in ACTIVATIONS] + [
    case("gelu", X, approximate=False, id="gelu-exact"),
    case("leaky_relu", X, negative_slope=0.01, id="leaky_relu-slope"),
    case("elu", X, alpha=0.5, id="elu-alpha"),
    case("celu", X, alpha=2.0, id="celu-alpha"),
    case("soft_shrink", X, threshold=1.0, id="soft_shrink-t"),
    case("hard_shrink", X, threshold=1.0, id="hard_shrink-t"),
    case("threshold", X, 0.5, -1.0),
    case("squareplus", X, b=1, id="squareplus-b"),
    case("glu", f32(2, 4, 3), axis=1, id="glu-axis"),
    case("softmax", X3, axis=0, id="softmax-axis0"),
    case("softmax", X3, axis=None, id="softmax-none"),
    case("softmax", X3, axis=(1, 2), id="softmax-tuple"),
    case("log_softmax", X3, axis=(0, 2), id="lsm-tuple"),
    case("log_softmax", X3, axis=1, id="log_softmax-axis1"),
    case("relu", ints(3, 4), id="relu-int"),
]


def _conv_kernel(*shape):
    return f32(*shape, low=-1.0, high=1.0)


CONV_CASES = [
    case("conv", SEQ, _conv_kernel(3, 3, 4), atol=1e-5),
    case("conv", SEQ, _conv_kernel(4, 3, 2), strides=2, padding="same", id="conv1d-same-s2", atol=1e-5),
    case("conv", SEQ, _conv_kernel(3, 3, 2), padding="same", dilation_rate=2, id="conv1d-dilated", atol=1e-5),
    case("conv", IMG, _conv_kernel(3, 3, 3, 4), atol=1e-5),
    case("conv", IMG, _conv_kernel(3, 2, 3, 4), strides=(2, 1), padding="same", id="conv2d-same", atol=1e-5),
    case("conv", IMG, _conv_kernel(2, 2, 3, 4), padding="same", id="conv2d-same-even", atol=1e-5),
    case("conv", IMG, _conv_kernel(3, 3, 1, 6), id="conv2d-grouped", atol=1e-5),
    case(
        "conv",
        IMG.transpose(0, 3, 1, 2),
        _conv_kernel(3, 3, 3, 2),
        data_format="channels_first",
        id="conv2d-cf",
        atol=1e-5,
    ),
    case("conv", VOL, _conv_kernel(2, 3, 2, 2, 3), padding="same", id="conv3d", atol=1e-5),
    case("depthwise_conv", IMG, _conv_kernel(3, 3, 3, 2), atol=1e-5),
    case("depthwise_conv", IMG, _conv_kernel(3, 3, 3, 1), strides=2, padding="same", id="dw-same", atol=1e-5),
    case("depthwise_conv", SEQ, _conv_kernel(3, 3, 2), id="dw-1d", atol=1e-5),
    case("separable_conv", IMG, _conv_kernel(3, 3, 3, 2), _conv_kernel(1, 1, 6, 4), atol=1e-5),
    case(
        "separable_conv",
        IMG,
        _conv_kernel(3, 3, 3, 1),
        _conv_kernel(1, 1, 3, 5),
        padding="same",
        id="sep-same",
        atol=1e-5,
    ),
    case("conv_transpose", SEQ, _conv_kernel(3, 4, 3), atol=1e-5),
    case("conv_transpose", SEQ, _conv_kernel(3, 4, 3), strides=2, id="convT1d-s2", atol=1e-5),
    case("conv_transpose", SEQ, _conv_kernel(4, 2, 3), strides=2, padding="same", id="convT1d-same", atol=1e-5),
    case("conv_transpose", IMG, _conv_kernel(3, 3, 2, 3), strides=2, padding="same", id="convT2d-same", atol=1e-5),
    case(
        "conv_transpose",
        IMG,
        _conv_kernel(3, 3, 2, 3),
        strides=(2, 3),
        output_padding=1,
        id="convT2d-outpad",
        atol=1e-5,
    ),
    case("conv_transpose", IMG, _conv_kernel(2, 2, 4, 3), dilation_rate=2, id="convT2d-dilated", atol=1e-5),
    case("conv_transpose", VOL, _conv_kernel(2, 2, 2, 3, 2), strides=2, id="convT3d", atol=1e-5),
]

POOL_CASES = [
    case("max_pool", IMG, 2),
    case("max_pool", IMG, 3, strides=1, padding="same", id="max-same"),
    case("max_pool", SEQ, 2, strides=1, id="max-1d"),
    case("max_pool", VOL, 2, id="max-3d"),
    case("max_pool", IMG.transpose(0, 3, 1, 2), (2, 3), data_format="channels_first", id="max-cf"),
    case("average_pool", IMG, 2, atol=1e-6),
    case("average_pool", SEQ, 3, strides=1, padding="same", id="avg-same"),
    case("average_pool", IMG, (3, 3), strides=1, padding="same", id="avg-same-2d"),
    case("average_pool", VOL, 2, strides=1, id="avg-3d"),
    case("adaptive_average_pool", IMG, (3, 2)),
    case("adaptive_max_pool", IMG, 3),
    case("adaptive_average_pool", SEQ, 4, id="adaptive-avg-1d"),
]

LOSS_CASES = [
    case("binary_crossentropy", BIN_T, BIN_P, atol=1e-5),
    case("binary_crossentropy", BIN_T, f32(4, 3, low=-5, high=5), from_logits=True, id="bce-logits", atol=1e-5),
    case(
        "binary_crossentropy", BIN_T, np.tile(np.array([0.0, 1.0, 0.5], "float32"), (4, 1)), id="bce-edges", atol=1e-5
    ),
    case("categorical_crossentropy", ONEHOT, PROBS, atol=1e-5),
    case("categorical_crossentropy", ONEHOT, f32(4, 5), from_logits=True, id="cce-logits", atol=1e-5),
    case("categorical_crossentropy", ONEHOT.T, PROBS.T * 3, axis=0, id="cce-axis0", atol=1e-5),
    case("sparse_categorical_crossentropy", LABELS, PROBS, atol=1e-5),
    case("sparse_categorical_crossentropy", LABELS[:, None], f32(4, 5), from_logits=True, id="scce-logits", atol=1e-5),
    case("sparse_categorical_crossentropy", LABELS, PROBS.T, axis=0, id="scce-axis0", atol=1e-5),
    case(
        "sparse_categorical_crossentropy",
        ints(2, 3, low=0, high=4),
        f32(2, 3, 4),
        from_logits=True,
        id="scce-3d",
        atol=1e-5,
    ),
    case("psnr", BIN_P, BIN_T, 1.0, atol=1e-4),
]

ENCODE_NORM_CASES = [
    case("one_hot", LABELS, 5),
    case("one_hot", np.array([[1, -1], [2, 0]]), 4, id="one_hot-negative"),
    case("one_hot", LABELS, 5, axis=0, id="one_hot-axis0"),
    case("one_hot", LABELS, 5, dtype="int32", id="oh-int"),
    case("multi_hot", np.array([[0, 2], [1, 1]]), 3),
    case("multi_hot", np.array([0, 2, 2]), 4, id="multi_hot-1d"),
    case("moments", X3, axes=(0, 2), atol=1e-6),
    case("moments", X3, axes=[1], keepdims=True, id="moments-keep"),
    case("batch_normalization", X3, f32(4), f32(4, low=0.5, high=2.0), axis=-1, atol=1e-5),
    case(
        "batch_normalization",
        X3,
        f32(3),
        f32(3, low=0.5, high=2.0),
        axis=1,
        offset=f32(3),
        scale=f32(3),
        epsilon=0.01,
        id="bn-axis1",
        atol=1e-5,
    ),
    case("normalize", X3),
    case("normalize", X3, axis=1, order=1, id="normalize-l1"),
    case("rms_normalization", X3, atol=1e-5),
    case("rms_normalization", X3, scale=f32(4), id="rms-scale", atol=1e-5),
    case("layer_normalization", X3, atol=1e-5),
    case("layer_normalization", X3, f32(4), f32(4), id="ln-gamma-beta", atol=1e-5),
    case("layer_normalization", X3, axis=(1, 2), id="ln-axes", atol=1e-5),
    case("depth_to_space", f32(1, 2, 3, 8), 2),
    case("space_to_depth", f32(1, 4, 6, 3), 2),
    case("depth_to_space", f32(1, 8, 2, 3), 2, data_format="channels_first", id="d2s-cf"),
    case("space_to_depth", f32(1, 3, 4, 6), 2, data_format="channels_first", id="s2d-cf"),
    case("unfold", torch.as_tensor(f32(1, 2, 5, 4)), 3, padding=1, stride=2),
    case("fold", torch.as_tensor(f32(1, 8, 9)), (4, 4), 2, stride=1),
]


def _run(name, args, kwargs, atol, check_dtype):
    ours = getattr(ops, name)(*args, **kwargs)
    theirs = getattr(kops, name)(*args, **kwargs)
    assert_parity(ours, theirs, atol=atol, check_dtype=check_dtype)


@pytest.mark.parametrize("name,args,kwargs,atol,check_dtype", ACT_CASES)
def test_activation_parity(name, args, kwargs, atol, check_dtype):
    _run(name, args, kwargs, atol, check_dtype)


@pytest.mark.parametrize("name,args,kwargs,atol,check_dtype", CONV_CASES)
def test_conv_parity(name, args, kwargs, atol, check_dtype):
    _run(name, args, kwargs, atol, check_dtype)


@pytest.mark.parametrize("name,args,kwargs,atol,check_dtype", POOL_CASES)
def test_pool_parity(name, args, kwargs, atol, check_dtype):
    _run(name, args, kwargs, atol, check_dtype)


@pytest.mark.parametrize("name,args,kwargs,atol,check_dtype", LOSS_CASES)
def test_loss_parity(name, args, kwargs, atol, check_dtype):
    _run(name, args, kwargs, atol, check_dtype)


@pytest.mark.parametrize("name,args,kwargs,atol,check_dtype", ENCODE_NORM_CASES)
def test_encoding_and_normalization_parity(name, args, kwargs, atol, check_dtype):
    _run(name, args, kwargs, atol, check_dtype)


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"is_causal": True},
        {"scale": 0.3},
        {"mask": "mask"},
        {"bias": "bias"},
        {"mask": "mask", "is_causal": True},
    ],
    ids=["plain", "causal", "scale", "mask", "bias", "mask-causal"],
)
def test_dot_product_attention_parity(kwargs):
    q, k, v = f32(2, 4, 2, 8), f32(2, 5, 2, 8), f32(2, 5, 2, 8)
    extra = dict(kwargs)
    if extra.get("mask") == "mask":
        extra["mask"] = f32(2, 2, 4, 5) > -1.0
    if extra.get("bias") == "bias":
        extra["bias"] = f32(2, 2, 4, 5)
    assert_parity(ops.dot_product_attention(q, k, v, **extra), kops.dot_product_attention(q, k, v, **extra), atol=1e-5)


def test_dot_product_attention_grouped_query_heads():
    q, k, v = f32(1, 3, 4, 8), f32(1, 3, 2, 8), f32(1, 3, 2, 8)
    assert_parity(ops.dot_product_attention(q, k, v), kops.dot_product_attention(q, k, v), atol=1e-5)


def test_ctc_loss_and_greedy_decode_parity():
    logits = f32(2, 6, 5)
    target = np.array([[1, 2, 0], [3, 3, 1]])
    tlen, olen = np.array([2, 3]), np.array([6, 5])
    assert_parity(ops.ctc_loss(target, logits, tlen, olen), kops.ctc_loss(target, logits, tlen, olen), atol=1e-4)
    ours = ops.ctc_decode(logits, olen, strategy="greedy", mask_index=0)
    theirs = kops.ctc_decode(logits, olen, strategy="greedy", mask_index=0)
    assert_parity(ours, theirs, atol=1e-5)


# ----------------------------------------------------------------------------- deliberate semantics


def _sparsemax_reference(z):
    """Martins & Astudillo (2016), row by row along the last axis."""
    out = np.zeros_like(z)
    for idx in np.ndindex(z.shape[:-1]):
        row = z[idx]
        s = np.sort(row)[::-1]
        k = np.arange(1, len(row) + 1)
        cums = np.cumsum(s)
        k_max = k[1 + k * s > cums].max()
        out[idx] = np.maximum(row - (cums[k_max - 1] - 1) / k_max, 0)
    return out


def test_sparsemax_matches_reference():
    # keras-on-torch computes the threshold from a sum of cumulative sums; we follow the paper (and JAX).
    np.testing.assert_allclose(ops.sparsemax(X).numpy(), _sparsemax_reference(X), atol=1e-6)
    got = ops.sparsemax(X3, axis=1).numpy()
    np.testing.assert_allclose(got, np.moveaxis(_sparsemax_reference(np.moveaxis(X3, 1, -1)), -1, 1), atol=1e-6)
    np.testing.assert_allclose(got.sum(1), 1.0, atol=1e-6)


def test_one_hot_out_of_range_gives_zeros():
    got = ops.one_hot(np.array([[1, -1], [2, 9]]), 4).numpy()
    np.testing.assert_array_equal(got, np.array([[[0, 1, 0, 0], [0, 0, 0, 0]], [[0, 0, 1, 0], [0, 0, 0, 0]]]))


def test_average_pool_same_excludes_padding_when_asymmetric():
    # keras-on-torch pads with edge values when "same" padding is uneven; TensorFlow/JAX and we leave it out.
    x = np.arange(1.0, 6.0, dtype="float32").reshape(1, 5, 1)
    got = ops.average_pool(x, 2, strides=1, padding="same").numpy().reshape(-1)
    np.testing.assert_allclose(got, [1.5, 2.5, 3.5, 4.5, 5.0])


def test_max_pool_same_pads_with_minus_infinity():
    x = -np.arange(1.0, 6.0, dtype="float32").reshape(1, 5, 1)
    got = ops.max_pool(x, 2, strides=1, padding="same").numpy().reshape(-1)
    np.testing.assert_allclose(got, [-1.0, -2.0, -3.0, -4.0, -5.0])


def test_conv_transpose_inverts_conv_shapes():
    for strides, padding in [(1, "valid"), (2, "same"), (3, "valid")]:
        x = f32(1, 8, 8, 2)
        y = ops.conv(x, f32(3, 3, 2, 4), strides=strides, padding=padding)
        back = ops.conv_transpose(y, f32(3, 3, 2, 4), strides=strides, padding=padding)
        assert back.shape[1] >= y.shape[1] * strides - 2


def test_crossentropy_errors():
    with pytest.raises(ValueError, match="same shape"):
        ops.binary_crossentropy(BIN_T, BIN_P[:, :2])
    with pytest.raises(ValueError, match="same shape"):
        ops.categorical_crossentropy(ONEHOT, PROBS[:, :4])
    with pytest.raises(ValueError, match="last dimension"):
        ops.sparse_categorical_crossentropy(LABELS[:3], PROBS)


def test_conv_errors():
    with pytest.raises(ValueError, match="padding"):
        ops.conv(IMG, f32(3, 3, 3, 2), padding="full")
    with pytest.raises(ValueError, match="multiple"):
        ops.conv(IMG, f32(3, 3, 2, 2))
    with pytest.raises(ValueError, match="ndim"):
        ops.max_pool(f32(2, 3), 2)
    with pytest.raises(ValueError, match="data_format"):
        ops.conv(IMG, f32(3, 3, 3, 2), data_format="nhwc")
    with pytest.raises(ValueError, match="num_classes"):
        ops.multi_hot(LABELS)
    with pytest.raises(ValueError, match="order"):
        ops.normalize(X, order=0)


def test_softmax_warns_on_unit_axis():
    with pytest.warns(UserWarning, match="size 1"):
        ops.softmax(f32(3, 1))


def test_nn_namespace_and_float_casting():
    assert ops.nn.relu is ops.relu and ops.nn.conv is ops.conv
    assert ops.sigmoid(np.array([0, 1])).dtype == torch.float32
    assert ops.softmax(lamina.Variable(X)).shape == X.shape
    x = torch.tensor(IMG, requires_grad=True)
    ops.sum(ops.conv(x, f32(3, 3, 3, 2), padding="same")).backward()
    assert x.grad.shape == IMG.shape
