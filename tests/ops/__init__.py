"""Parity helpers for ``lamina.ops`` against the real ``keras.ops`` on its torch backend."""

import numpy as np
import torch

RNG = np.random.default_rng(0)


def f32(*shape, low=-2.0, high=2.0):
    """A float32 array of ``shape`` with uniform values (fresh each call, deterministic overall)."""
    return RNG.uniform(low, high, size=shape).astype("float32")


def ints(*shape, low=-5, high=6, dtype="int32"):
    return RNG.integers(low, high, size=shape).astype(dtype)


def _leaves(x):
    if isinstance(x, (list, tuple)):
        out = []
        for v in x:
            out.extend(_leaves(v))
        return out
    return [x]


def _np(x):
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu()
        if x.dtype == torch.bfloat16:
            x = x.float()
        return x.numpy()
    if hasattr(x, "numpy") and not isinstance(x, np.ndarray):
        return np.asarray(x.numpy())
    return np.asarray(x)


def _dtype_name(x):
    if isinstance(x, torch.Tensor):
        return str(x.dtype).removeprefix("torch.")
    return np.asarray(x).dtype.name


def assert_parity(ours, theirs, atol=1e-6, rtol=1e-5, check_dtype=True):
    """Same structure, shapes, dtypes (torch names) and values (NaN-equal) for ``ours`` and ``theirs``."""
    a, b = _leaves(ours), _leaves(theirs)
    assert len(a) == len(b), f"structure differs: {len(a)} vs {len(b)} outputs"
    for i, (x, y) in enumerate(zip(a, b, strict=True)):
        assert isinstance(x, torch.Tensor) or np.isscalar(x), f"output {i} is {type(x).__name__}, not a tensor"
        if check_dtype:
            assert _dtype_name(x) == _dtype_name(y), f"output {i}: dtype {_dtype_name(x)} vs keras {_dtype_name(y)}"
        xn, yn = _np(x), _np(y)
        assert xn.shape == yn.shape, f"output {i}: shape {xn.shape} vs keras {yn.shape}"
        if xn.dtype.kind in "fc" or yn.dtype.kind in "fc":
            np.testing.assert_allclose(
                xn.astype(np.complex128 if xn.dtype.kind == "c" else np.float64),
                yn.astype(np.complex128 if yn.dtype.kind == "c" else np.float64),
                atol=atol,
                rtol=rtol,
                equal_nan=True,
                err_msg=f"output {i}",
            )
        else:
            np.testing.assert_array_equal(xn, yn, err_msg=f"output {i}")


def case(name, *args, id=None, atol=1e-6, check_dtype=True, **kwargs):
    """A parametrize entry: call ``ops.<name>(*args, **kwargs)`` in both libraries."""
    import pytest

    return pytest.param(name, args, kwargs, atol, check_dtype, id=id or name)
