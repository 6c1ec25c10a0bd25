"""Parity of ``lamina.ops`` NumPy-like ops with the real ``keras.ops`` (torch backend)."""

import numpy as np
import pytest
import torch
from keras import ops as kops

import lamina
from lamina import ops
from tests.ops import assert_parity, case, f32, ints

X = f32(3, 4)
Y = f32(3, 4)
ROW = f32(4)
POS = f32(3, 4, low=0.1, high=3.0)
UNIT = f32(3, 4, low=-0.9, high=0.9)
BIG = f32(3, 4, low=1.1, high=3.0)
X3 = f32(2, 3, 4)
INT = ints(3, 4)
J = ints(3, 4, low=1, high=4)
I64 = ints(3, 4, dtype="int64")
I8 = ints(3, 4, dtype="int8")
U8 = ints(3, 4, low=0, high=9, dtype="uint8")
B = X > 0
B2 = Y > 0
F16 = X.astype("float16")
F64 = X.astype("float64")
NANS = np.array([[1.0, np.nan, 3.0], [np.nan, np.nan, np.nan], [2.0, -1.0, np.nan]], "float32")
SQ = f32(3, 3) + 3 * np.eye(3, dtype="float32")
V3 = f32(2, 3)
W3 = f32(2, 3)

UNARY_FLOAT = [
    "abs",
    "absolute",
    "negative",
    "sign",
    "square",
    "exp",
    "expm1",
    "exp2",
    "sin",
    "cos",
    "tan",
    "arctan",
    "sinh",
    "cosh",
    "tanh",
    "arcsinh",
    "floor",
    "ceil",
    "trunc",
    "round",
    "reciprocal",
    "isnan",
    "isinf",
    "isfinite",
    "logical_not",
    "cbrt",
    "fabs",
    "signbit",
    "deg2rad",
    "rad2deg",
    "sinc",
    "copy",
    "ravel",
    "nan_to_num",
    "isposinf",
    "isneginf",
    "real",
    "conj",
]
UNARY_POS = ["sqrt", "log", "log1p", "log2", "log10"]
UNARY_UNIT = ["arcsin", "arccos", "arctanh"]
UNARY_INT = [
    "abs",
    "negative",
    "sign",
    "square",
    "sqrt",
    "exp",
    "log1p",
    "sin",
    "floor",
    "ceil",
    "round",
    "trunc",
    "logical_not",
    "cbrt",
    "deg2rad",
    "fabs",
    "tanh",
    "isnan",
    "isfinite",
]
BINARY = [
    "add",
    "subtract",
    "multiply",
    "divide",
    "true_divide",
    "floor_divide",
    "mod",
    "fmod",
    "power",
    "maximum",
    "minimum",
    "fmax",
    "fmin",
    "equal",
    "not_equal",
    "greater",
    "greater_equal",
    "less",
    "less_equal",
    "logical_and",
    "logical_or",
    "logical_xor",
    "arctan2",
    "logaddexp",
    "logaddexp2",
    "hypot",
    "divide_no_nan",
    "heaviside",
    "nextafter",
    "isclose",
]

CASES = (
    [case(n, X, id=f"{n}-f32") for n in UNARY_FLOAT]
    + [case(n, POS, id=f"{n}-pos") for n in UNARY_POS]
    + [case(n, UNIT, id=f"{n}-unit") for n in UNARY_UNIT]
    + [case("arccosh", BIG), case("i0", X, atol=1e-5), case("round", X * 10, 1, id="round-decimals")]
    + [case(n, INT, id=f"{n}-int32") for n in UNARY_INT]
    + [case(n, I64, id=f"{n}-int64") for n in ("sqrt", "exp", "floor", "square", "abs")]
    + [case(n, B, id=f"{n}-bool") for n in ("abs", "square", "sign", "logical_not")]
    + [case(n, F16, id=f"{n}-f16", atol=1e-3) for n in ("exp", "sqrt", "floor", "abs")]
    + [case(n, X, Y, id=f"{n}-f32") for n in BINARY if n not in ("mod", "fmod", "floor_divide", "power")]
    + [case(n, POS, Y, id=f"{n}-pos") for n in ("mod", "fmod", "floor_divide", "power")]
    + [
        case(n, INT, J, id=f"{n}-int")
        for n in (
            "add",
            "subtract",
            "multiply",
            "divide",
            "floor_divide",
            "mod",
            "maximum",
            "minimum",
            "equal",
            "greater",
            "logical_and",
            "hypot",
            "arctan2",
            "logaddexp",
        )
    ]
    + [
        case(n, X, 2, id=f"{n}-f32-pyint")
        for n in ("add", "multiply", "power", "maximum", "divide", "floor_divide", "minimum", "greater")
    ]
    + [
        case(n, INT, 2.5, id=f"{n}-int-pyfloat")
        for n in ("add", "multiply", "maximum", "divide", "floor_divide", "minimum", "less")
    ]
    + [case(n, I8, U8, id=f"{n}-int8-uint8") for n in ("add", "multiply", "maximum", "subtract")]
    + [case(n, I8, 3, id=f"{n}-int8-pyint") for n in ("add", "multiply", "maximum")]
    + [case(n, F16, X, id=f"{n}-f16-f32", atol=1e-3) for n in ("add", "maximum", "arctan2")]
    + [case(n, B, B2, id=f"{n}-bool") for n in ("add", "multiply", "logical_xor", "maximum")]
    + [case(n, X, ROW, id=f"{n}-broadcast") for n in ("add", "subtract", "maximum", "greater")]
    + [case(n, F64, X, id=f"{n}-f64") for n in ("add", "multiply")]
    + [
        case("bitwise_and", INT, J),
        case("bitwise_or", INT, J),
        case("bitwise_xor", INT, J),
        case("bitwise_not", INT),
        case("bitwise_invert", INT),
        case("left_shift", J, 2),
        case("right_shift", J * 8, J),
        case("bitwise_left_shift", J, J),
        case("gcd", INT, J),
        case("lcm", INT, J),
        case("ldexp", X, J),
        case("clip", X, -0.5, 0.5),
        case("clip", INT, -2, 3, id="clip-int"),
        case("clip", B, 0, 1, id="clip-bool"),
        case("clip", X, ROW, 1.0, id="clip-tensor-bounds"),
        case("where", B, X, Y),
        case("where", B, 1.0, 0.0, id="where-scalars"),
        case("where", B, INT, 0.5, id="where-mixed"),
        case("allclose", X, X + 1e-7),
        case("isclose", INT, J, id="isclose-int"),
        case("nan_to_num", NANS, nan=-1.0, id="nan_to_num-value"),
    ]
)

REDUCTIONS = [
    "sum",
    "mean",
    "max",
    "min",
    "prod",
    "std",
    "var",
    "all",
    "any",
    "amax",
    "amin",
    "ptp",
    "count_nonzero",
    "logsumexp",
    "median",
    "nansum",
    "nanmean",
    "nanmax",
    "nanmin",
    "nanprod",
    "nanvar",
    "nanstd",
    "nanmedian",
]
AXES = [None, 0, -1, (0, 2)]
REDUCE_CASES = (
    [case(n, X3, axis=a, id=f"{n}-axis{a}", atol=1e-5) for n in REDUCTIONS for a in AXES if n != "count_nonzero"]
    + [case("count_nonzero", X3 > 0)]
    + [
        case(n, X3, axis=1, keepdims=True, id=f"{n}-keepdims", atol=1e-5)
        for n in REDUCTIONS
        if n not in ("count_nonzero",)
    ]
    + [
        case(n, INT, axis=0, id=f"{n}-int")
        for n in ("sum", "mean", "max", "prod", "std", "var", "all", "any", "median")
    ]
    + [case(n, I8, id=f"{n}-int8") for n in ("sum", "prod", "max")]
    + [case(n, B, id=f"{n}-bool") for n in ("sum", "prod", "all", "any", "mean", "count_nonzero")]
    + [case(n, F16, axis=0, id=f"{n}-f16", atol=1e-2) for n in ("sum", "mean", "var", "std", "max")]
    + [
        case(n, NANS, axis=1, id=f"{n}-nans")
        for n in ("nansum", "nanmean", "nanmax", "nanmin", "nanprod", "nanargmax", "nanargmin")
    ]
    + [case(n, X3, id=n) for n in ("argmax", "argmin", "nanargmax", "nanargmin")]
    + [case(n, X3, axis=a, id=f"{n}-axis{a}") for n in ("argmax", "argmin", "argsort", "sort") for a in (0, -1)]
    + [
        case("argmax", X3, axis=1, keepdims=True),
        case("argmin", B, axis=0, id="argmin-bool"),
        case("sort", X3, axis=None, id="sort-flat"),
        case("argsort", X3, axis=None, id="argsort-flat"),
        case("max", X, axis=0, initial=0.5, id="max-initial"),
        case("min", X, axis=1, initial=0.0, id="min-initial"),
        case("sum", X3, axis=(), id="sum-empty-axis"),
        case("mean", X3, axis=[], id="mean-empty-axis"),
    ]
    + [case(n, X3, axis=a, id=f"{n}-axis{a}") for n in ("cumsum", "cumprod") for a in (None, 0, -1)]
    + [
        case("cumsum", INT, axis=1, id="cumsum-int"),
        case("cumsum", B, axis=0, id="cumsum-bool"),
        case("cumsum", I64, id="cumsum-int64"),
        case("cumsum", X, dtype="float64", id="cumsum-dtype"),
        case("cumprod", I8, axis=0, id="cumprod-int8"),
        case("nancumsum", NANS, axis=1),
        case("nancumprod", NANS, axis=0),
    ]
    + [
        case(n, X3, 0.3, axis=a, id=f"{n}-axis{a}", atol=1e-5)
        for n in ("quantile", "nanquantile")
        for a in (None, 1, (0, 2))
    ]
    + [
        case("quantile", X3, [0.1, 0.9], axis=1, keepdims=True, id="quantile-vector-keepdims"),
        case("quantile", X3, 0.5, axis=0, method="nearest", id="quantile-nearest"),
        case("percentile", X3, 40, axis=2),
        case("nanpercentile", NANS, [10, 50], axis=1),
        case("average", X3, axis=1),
        case("average", X, axis=1, weights=POS, id="average-w-full"),
        case("trace", SQ),
        case("trace", X3, offset=1, axis1=1, axis2=2, id="trace-3d"),
        case("trace", I8[:, :3], id="trace-int8"),
        case("trapezoid", X3),
        case("trapezoid", X3, dx=0.5, axis=1, id="trapezoid-dx"),
        case("trapezoid", X, ROW, id="trapezoid-x"),
    ]
)

SHAPE_CASES = [
    case("reshape", X3, (4, -1)),
    case("reshape", X3, 24, id="reshape-int"),
    case("transpose", X3),
    case("transpose", X3, (1, 0, 2), id="transpose-axes"),
    case("expand_dims", X, 0),
    case("expand_dims", X, -1, id="expand_dims-neg"),
    case("expand_dims", X, (0, 3), id="expand_dims-tuple"),
    case("squeeze", X[None, :, None]),
    case("squeeze", X[None, :, None], axis=0, id="squeeze-axis"),
    case("squeeze", X[None, :, None], axis=(0, 2), id="squeeze-axes"),
    case("concatenate", [X, Y]),
    case("concatenate", [X, Y], axis=1, id="concatenate-1"),
    case("stack", [X, Y]),
    case("stack", [X, Y], axis=-1, id="stack-last"),
    case("hstack", [X, Y]),
    case("vstack", [X, Y]),
    case("dstack", [X, Y]),
    case("append", X, Y),
    case("append", X, Y, axis=0, id="append-0"),
    case("split", X3, 2, axis=0),
    case("split", X3, [1, 3], axis=2, id="split-indices"),
    case("array_split", X3, 3, axis=2),
    case("hsplit", X, 2),
    case("vsplit", X3, 2),
    case("dsplit", X3, [1]),
    case("tile", X, 2),
    case("tile", X, (2, 1, 3), id="tile-tuple"),
    case("repeat", X, 2),
    case("repeat", X, 2, axis=1, id="repeat-axis"),
    case("broadcast_to", ROW, (3, 4)),
    case("flip", X3),
    case("flip", X3, axis=1, id="flip-axis"),
    case("flip", X3, axis=(0, 2), id="flip-axes"),
    case("fliplr", X),
    case("flipud", X),
    case("rot90", X),
    case("rot90", X3, k=3, axes=(1, 2), id="rot90-axes"),
    case("roll", X, 1),
    case("roll", X, -2, axis=1, id="roll-axis"),
    case("roll", X, (1, 2), axis=(0, 1), id="roll-2"),
    case("moveaxis", X3, 0, -1),
    case("moveaxis", X3, (0, 1), (2, 0), id="moveaxis-tuple"),
    case("swapaxes", X3, 0, 2),
    case("take", X, [0, 2]),
    case("take", X, [[0, 3], [-1, 1]], axis=1, id="take-axis"),
    case("take", X, np.array([2, 0]), axis=0, id="take-axis0"),
    case("take_along_axis", X, np.argsort(X, axis=1), axis=1),
    case("take_along_axis", X, np.array([[0, 1, 2, 0]]), axis=0, id="take_along_axis-bcast"),
    case("pad", X, ((1, 2), (0, 1))),
    case("pad", X, ((1, 1), (2, 0)), mode="reflect", id="pad-reflect"),
    case("pad", X, ((1, 1), (2, 2)), constant_values=3.0, id="pad-value"),
    case("pad", INT, ((0, 1), (1, 0)), id="pad-int"),
    case("ravel", X3),
    case("diag", X),
    case("diag", ROW, k=1, id="diag-vector"),
    case("diagflat", X),
    case("diagonal", X3, offset=1, axis1=1, axis2=2),
    case("triu", X),
    case("tril", X3, k=-1),
    case("meshgrid", ROW, f32(2)),
    case("meshgrid", ROW, f32(2), indexing="ij", id="meshgrid-ij"),
    case("diff", X3),
    case("diff", X3, n=2, axis=0, id="diff-n2"),
    case("vander", ROW),
    case("vander", ROW, N=3, increasing=True, id="vander-inc"),
    case("searchsorted", np.sort(ROW), X.reshape(-1)),
    case("searchsorted", np.array([1, 2, 2, 3]), np.array([2, 0, 4]), side="right", id="searchsorted-right"),
    case("digitize", X, np.array([-1.0, 0.0, 1.0], "float32")),
    case("unravel_index", np.array([1, 5, 11]), (3, 4)),
    case("unique", np.array([3, 1, 3, 2])),
    case("unique", np.array([3, 1, 3, 2]), return_counts=True, return_inverse=True, id="unique-counts"),
    case("unique", np.array([3, 1, 3, 2]), size=5, fill_value=-1, id="unique-size"),
    case("bincount", np.array([0, 1, 1, 3])),
    case("bincount", np.array([0, 1, 1]), minlength=4, id="bincount-min"),
    case("bincount", np.array([0, 1, 1]), weights=np.array([0.5, 1.0, 2.0], "float32"), id="bincount-w"),
    case("histogram", X.reshape(-1)),
    case("histogram", X.reshape(-1), bins=4, range=(-1.0, 1.0), id="hist-range"),
    case("isin", INT, np.array([1, 2, 3])),
    case("isin", INT, np.array([1, 2]), invert=True, id="isin-invert"),
    case("select", [X < -1, X > 1], [X, Y]),
    case("select", [B], [INT], default=-1, id="select-default"),
    case("size", X3),
    case("ndim", X3),
    case("get_item", X3, (0, slice(1, 3))),
    case("rearrange", X3, "b h w -> w (b h)"),
    case("rearrange", f32(6, 4), "(a b) c -> b (c a)", a=2, id="rearrange-split"),
    case("rearrange", f32(2, 3, 4, 5), "b h w c -> b c h w", id="rearrange-transpose"),
]

PRODUCT_CASES = [
    case("matmul", X, X.T, atol=1e-5),
    case("matmul", X3, f32(4, 2), id="matmul-batched", atol=1e-5),
    case("matmul", ROW, X.T, id="matmul-vector", atol=1e-5),
    case("matmul", INT, J.T, id="matmul-int"),
    case("matmul", I8, I8.T, id="matmul-int8"),
    case("matmul", B, B2.T, id="matmul-bool"),
    case("dot", X, X.T, atol=1e-5),
    case("dot", ROW, ROW, id="dot-vectors", atol=1e-5),
    case("dot", X, 2.0, id="dot-scalar"),
    case("dot", INT, J.T, id="dot-int"),
    case("tensordot", X3, f32(4, 3), axes=1, atol=1e-5),
    case("tensordot", X3, f32(3, 4), axes=([1, 2], [0, 1]), id="tensordot-lists", atol=1e-5),
    case("einsum", "ij,kj->ik", X, Y, atol=1e-5),
    case("einsum", "bij->bji", X3, id="einsum-transpose"),
    case("einsum", "ij,ij->", I8, I8, id="einsum-int8"),
    case("outer", ROW, f32(3)),
    case("inner", X, Y, atol=1e-5),
    case("vdot", ROW, ROW, atol=1e-5),
    case("cross", V3, W3),
    case("cross", V3.T, W3.T, axis=0, id="cross-axis"),
    case("kron", f32(2, 2), f32(2, 3)),
    case("corrcoef", X, atol=1e-5),
    case("correlate", ROW, f32(2)),
    case("correlate", ROW, f32(3), mode="full", id="correlate-full"),
    case("norm", X, atol=1e-5),
    case("norm", X, axis=1, id="norm-axis", atol=1e-5),
    case("norm", X, ord=1, axis=0, keepdims=True, id="norm-ord1"),
    case("norm", X, ord="fro", id="norm-fro", atol=1e-5),
    case("norm", INT, id="norm-int", atol=1e-5),
]

CREATION_CASES = [
    case("zeros", (2, 3)),
    case("zeros", 3, dtype="int32", id="zeros-int"),
    case("ones", (2,)),
    case("ones", (2, 2), dtype="bool", id="ones-bool"),
    case("full", (2, 3), 7),
    case("full", (2,), 1.5, id="full-f"),
    case("full", (2, 3), ROW[:3], id="full-array"),
    case("full", (2,), 3, dtype="float32", id="full-dtype"),
    case("zeros_like", X),
    case("ones_like", INT),
    case("full_like", X, 2),
    case("full_like", INT, 2.7, id="full_like-int"),
    case("zeros_like", X, dtype="int32", id="zeros_like-dtype"),
    case("arange", 5),
    case("arange", 1, 7, 2, id="arange-step"),
    case("arange", 0.0, 1.0, 0.25, id="arange-f"),
    case("arange", 5, dtype="float32", id="arange-dtype"),
    case("arange", 3, 0, -1, id="arange-down"),
    case("linspace", 0, 1, 5),
    case("linspace", 2.0, 3.0, 4, endpoint=False, id="linspace-noend"),
    case("linspace", 0, 10, 5, dtype="int32", id="linspace-int"),
    case("linspace", 0.0, 1.0, 3, retstep=True, id="linspace-retstep"),
    case("logspace", 0, 2, 3, atol=1e-4),
    case("geomspace", 1, 1000, 4, atol=1e-3),
    case("eye", 3),
    case("eye", 2, 4, k=1, id="eye-k"),
    case("eye", 3, k=-1, dtype="int32", id="eye-neg"),
    case("identity", 3),
    case("tri", 3),
    case("tri", 3, 4, k=1, id="tri-k"),
    case("array", [[1, 2], [3, 4]]),
    case("array", [1.0, 2.0], dtype="float16", id="array-dtype"),
    case("hamming", 5),
    case("hanning", 5),
    case("bartlett", 5),
    case("blackman", 5, atol=1e-6),
    case("kaiser", 5, 3.0, atol=1e-5),
]


def _run(name, args, kwargs, atol, check_dtype):
    ours = getattr(ops, name)(*args, **kwargs)
    theirs = getattr(kops, name)(*args, **kwargs)
    assert_parity(ours, theirs, atol=atol, check_dtype=check_dtype)


@pytest.mark.parametrize("name,args,kwargs,atol,check_dtype", CASES)
def test_elementwise_parity(name, args, kwargs, atol, check_dtype):
    _run(name, args, kwargs, atol, check_dtype)


@pytest.mark.parametrize("name,args,kwargs,atol,check_dtype", REDUCE_CASES)
def test_reduction_parity(name, args, kwargs, atol, check_dtype):
    _run(name, args, kwargs, atol, check_dtype)


@pytest.mark.parametrize("name,args,kwargs,atol,check_dtype", SHAPE_CASES)
def test_shape_parity(name, args, kwargs, atol, check_dtype):
    _run(name, args, kwargs, atol, check_dtype)


@pytest.mark.parametrize("name,args,kwargs,atol,check_dtype", PRODUCT_CASES)
def test_product_parity(name, args, kwargs, atol, check_dtype):
    _run(name, args, kwargs, atol, check_dtype)


@pytest.mark.parametrize("name,args,kwargs,atol,check_dtype", CREATION_CASES)
def test_creation_parity(name, args, kwargs, atol, check_dtype):
    _run(name, args, kwargs, atol, check_dtype)


# ----------------------------------------------------------------------------- deliberate NumPy semantics
# Where keras-on-torch errors or disagrees with NumPy (its other backends follow NumPy), we follow NumPy.

NUMPY_CASES = [
    ("count_nonzero", np.count_nonzero, (X3 > 0,), {"axis": 0}),
    ("count_nonzero", np.count_nonzero, (X3 > 0,), {"axis": (0, 2)}),
    ("average", np.average, (X3,), {"axis": 1, "weights": np.array([0.2, 0.3, 0.5], "float32")}),
    ("average", np.average, (X,), {"weights": POS}),
    ("concatenate", np.concatenate, ([X, Y],), {"axis": None}),
    ("repeat", np.repeat, (X, [1, 2, 0]), {"axis": 0}),
    ("vdot", np.vdot, (X, Y), {}),
    ("max", np.max, (X,), {"keepdims": True}),
    ("argmax", np.argmax, (X3,), {"keepdims": True}),
    ("pad", np.pad, (X, ((1, 2),)), {}),
    ("pad", np.pad, (X3, 1), {"mode": "symmetric"}),
    ("pad", np.pad, (X, ((2, 2), (0, 3))), {"mode": "wrap"}),
    ("pad", np.pad, (X, 2), {"mode": "edge"}),
    ("correlate", np.correlate, (f32(5), f32(3)), {"mode": "same"}),
    ("cross", np.cross, (f32(4, 2), f32(4, 2)), {}),
    ("cross", np.cross, (f32(3, 2), f32(3, 3)), {}),
    ("cross", np.cross, (f32(3, 4), f32(3, 4)), {"axisa": 0, "axisb": 0, "axisc": 0}),
    ("squeeze", np.squeeze, (X[None, :, None],), {"axis": (-2,)}),
    ("median", np.median, (f32(4, 6),), {"axis": 1}),
    ("geomspace", np.geomspace, (2.0, 64.0, 6), {}),
    ("linspace", np.linspace, (np.array([0.0, 1.0]), np.array([1.0, 3.0]), 5), {}),
    ("logspace", np.logspace, (0.0, 2.0, 4), {"endpoint": False}),
]


@pytest.mark.parametrize("name,ref,args,kwargs", NUMPY_CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(NUMPY_CASES)])
def test_numpy_parity(name, ref, args, kwargs):
    got = getattr(ops, name)(*args, **kwargs)
    np.testing.assert_allclose(
        np.asarray(got.numpy(), np.float64), np.asarray(ref(*args, **kwargs), np.float64), rtol=1e-5, atol=1e-5
    )
    assert tuple(got.shape) == np.shape(ref(*args, **kwargs))


def test_nonzero_and_one_arg_where_are_index_tuples_like_numpy():
    # keras-on-torch stacks them into one (ndim, n) tensor; we return NumPy's tuple, which indexes directly.
    got = ops.nonzero(INT)
    assert isinstance(got, tuple) and all(t.dtype == torch.int32 for t in got)
    np.testing.assert_array_equal(np.stack([t.numpy() for t in got]), np.stack(np.nonzero(INT)))
    np.testing.assert_array_equal(np.asarray(kops.nonzero(INT)), np.stack([t.numpy() for t in got]))
    np.testing.assert_array_equal(torch.as_tensor(X)[ops.where(B)].numpy(), X[B])


def test_top_level_keepdims_without_axis_keeps_rank():
    assert tuple(ops.max(X, keepdims=True).shape) == (1, 1)
    assert tuple(ops.sum(X3, keepdims=True).shape) == (1, 1, 1)
    np.testing.assert_allclose(ops.mean(X3, keepdims=True).numpy(), X3.mean(keepdims=True), rtol=1e-6)


def test_pad_single_pair_applies_to_every_axis_like_numpy():
    np.testing.assert_array_equal(ops.pad(X, ((1, 2),)).numpy(), np.pad(X, ((1, 2),)))
    np.testing.assert_array_equal(ops.pad(X, 1).numpy(), np.pad(X, 1))
    for mode in ("edge", "symmetric", "wrap", "reflect"):
        np.testing.assert_array_equal(
            ops.pad(X3, ((0, 1), (2, 1), (1, 3)), mode=mode).numpy(),
            np.pad(X3, ((0, 1), (2, 1), (1, 3)), mode=mode),
            err_msg=mode,
        )
    np.testing.assert_array_equal(ops.pad(B, 1).numpy(), np.pad(B, 1))


def test_squeeze_of_non_unit_axis_raises():
    with pytest.raises(ValueError, match="not 1"):
        ops.squeeze(X, axis=0)


def test_argpartition_partitions():
    x = f32(4, 7)
    idx = ops.argpartition(x, 3, axis=-1).numpy()
    assert idx.dtype == np.int32
    part = np.take_along_axis(x, idx, axis=-1)
    kth = np.sort(x, axis=-1)[:, 3:4]
    assert (part[:, :3] <= kth).all() and (part[:, 4:] >= kth).all()
    np.testing.assert_array_equal(part[:, 3:4], kth)


def test_correlate_same_mode_matches_numpy():
    a, v = f32(5), f32(3)
    np.testing.assert_allclose(ops.correlate(a, v, mode="same").numpy(), np.correlate(a, v, "same"), atol=1e-6)
    np.testing.assert_allclose(ops.correlate(v, a, mode="full").numpy(), np.correlate(v, a, "full"), atol=1e-6)


def test_unique_return_index_matches_numpy():
    x = np.array([4, 2, 4, 1, 2, 9])
    values, index, inverse, counts = ops.unique(x, return_index=True, return_inverse=True, return_counts=True)
    ref = np.unique(x, return_index=True, return_inverse=True, return_counts=True)
    for got, want in zip((values, index, inverse, counts), ref, strict=True):
        np.testing.assert_array_equal(got.numpy(), want)


def test_cross_of_2d_vectors_is_scalar_z():
    np.testing.assert_allclose(ops.cross(f32(4, 2) * 0 + [1.0, 0.0], [0.0, 2.0]).numpy(), np.full(4, 2.0))


# ----------------------------------------------------------------------------- inputs, devices, dtypes


def test_accepts_tensors_variables_lists_and_scalars():
    v = lamina.Variable(X, name="v")
    t = torch.as_tensor(Y)
    np.testing.assert_allclose(ops.convert_to_numpy(ops.add(v, t)), X + Y, rtol=1e-6)
    np.testing.assert_allclose(ops.convert_to_numpy(ops.matmul(v, t.T)), X @ Y.T, rtol=1e-5, atol=1e-5)
    assert ops.add([1, 2], [3, 4]).tolist() == [4, 6]
    assert ops.add(1, 2).item() == 3 and ops.add(1, 2).dtype == torch.int32
    assert ops.multiply(2.0, 3).dtype == torch.float32


def test_results_stay_on_the_input_device():
    t = torch.as_tensor(X, device="meta")
    assert ops.add(t, 1.0).device.type == "meta"
    assert ops.where(t > 0, t, np.float32(0)).device.type == "meta"
    assert ops.concatenate([t, t]).device.type == "meta"
    with lamina.backend.device_scope("meta"):
        assert ops.zeros((2,)).device.type == "meta"
        assert ops.arange(3).device.type == "meta"


def test_float64_numpy_is_kept_like_keras_ops():
    # keras.ops.convert_to_tensor keeps NumPy float64 (only layers cast inputs to floatx).
    assert ops.add(F64, 1.0).dtype == kops.add(F64, 1.0).dtype == torch.float64
    assert ops.mean(F64).dtype == torch.float64


def test_gradients_flow():
    x = torch.tensor(X, requires_grad=True)
    loss = ops.sum(ops.square(ops.tanh(x))) + ops.mean(ops.logsumexp(x, axis=1))
    loss.backward()
    assert x.grad is not None and torch.isfinite(x.grad).all()


# ----------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    "fn",
    [
        lambda: ops.sum(X, axis=5),
        lambda: ops.mean(X, axis=-3),
        lambda: ops.argmax(X, axis=2),
        lambda: ops.expand_dims(X, 4),
        lambda: ops.concatenate([X, Y], axis=3),
        lambda: ops.take(X, [0], axis=2),
        lambda: ops.flip(X, axis=2),
        lambda: ops.transpose(X, (0, 2)),
        lambda: ops.moveaxis(X, 0, 3),
    ],
    ids=["sum", "mean", "argmax", "expand_dims", "concatenate", "take", "flip", "transpose", "moveaxis"],
)
def test_bad_axis_raises(fn):
    # torch's own IndexError for a bad reduction axis, as on Keras's torch backend
    with pytest.raises((IndexError, ValueError), match="out of (range|bounds)"):
        fn()


def test_rearrange_errors():
    with pytest.raises(ValueError, match="rank"):
        ops.rearrange(X, "a b c -> c b a")
    with pytest.raises(ValueError, match="exactly once"):
        ops.rearrange(X, "a b -> a c")
    with pytest.raises(ValueError, match="infer"):
        ops.rearrange(X, "(a b) c -> a b c")


def test_argument_errors():
    with pytest.raises(ValueError, match="divisible"):
        ops.split(X, 3, axis=1)
    with pytest.raises(ValueError, match="constant_values"):
        ops.pad(X, 1, mode="reflect", constant_values=1)
    with pytest.raises(ValueError, match="both"):
        ops.where(B, X)
    with pytest.raises(TypeError, match="`N`"):
        ops.eye(2.0)
    with pytest.raises(ValueError, match="empty"):
        ops.max(np.zeros((0,), "float32"))
    with pytest.raises(ValueError, match="1-D"):
        ops.searchsorted(X, X)
    with pytest.raises(ValueError, match="unknown dimension"):
        ops.reshape(X, (-1, -1))
    with pytest.raises(TypeError, match="integer"):
        ops.ldexp(X, X)
    with pytest.raises(ValueError, match="lists"):
        ops.select(B, X)
    with pytest.raises(TypeError, match="string data"):
        ops.add(X, "a")
    with pytest.raises((RuntimeError, ValueError), match="must match|broadcast"):
        ops.add(X, f32(5))
