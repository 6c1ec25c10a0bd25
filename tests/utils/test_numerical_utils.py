"""to_categorical and normalize: same inputs as Keras, equal outputs (values, shape, dtype, type)."""

import keras
import numpy as np
import pytest
import torch

from lamina.utils import normalize, to_categorical


def _same(ours, theirs):
    assert type(ours) is type(theirs)
    assert ours.dtype == theirs.dtype
    assert tuple(ours.shape) == tuple(theirs.shape)
    np.testing.assert_array_equal(np.asarray(ours), np.asarray(theirs))


@pytest.mark.parametrize(
    "x, num_classes",
    [
        ([0, 1, 2, 3], 4),
        ([0, 1, 2], None),
        ([[0], [1], [3]], None),
        ([[1]], None),
        (np.array([[0, 1], [2, 0]]), None),
        (np.array([[0, 1], [2, 0]]), 5),
        ([1.7, 0.2], None),  # truncated to int64 as Keras
        ([], 2),
        (3, None),
        (np.int64(2), 3),
        (["1", "0"], None),
        ([0, 1], 0),  # 0 means "infer" in Keras
        (np.array([True, False]), None),
        (np.array([0, 1], dtype="uint8"), np.int64(3)),
        (np.zeros((2, 3, 1), dtype="int32"), 2),
    ],
)
def test_to_categorical_equals_keras(x, num_classes):
    _same(to_categorical(x, num_classes), keras.utils.to_categorical(x, num_classes))


@pytest.mark.parametrize("x", [torch.tensor([0, 2]), torch.tensor([[0], [2]]), torch.tensor([-1, 1])])
def test_to_categorical_tensor_equals_keras(x):
    _same(to_categorical(x, 3), keras.utils.to_categorical(x, 3))


def test_to_categorical_tensor_infers_num_classes():
    # Keras on torch needs num_classes here (TypeError from torch); Lamina infers it as for arrays
    out = to_categorical(torch.tensor([0, 2]))
    assert out.tolist() == [[1, 0, 0], [0, 0, 1]]


def test_label_too_large_is_named_and_is_an_index_error_as_in_keras():
    with pytest.raises(IndexError, match="out of bounds"):
        keras.utils.to_categorical([0, 5], num_classes=3)
    with pytest.raises(ValueError, match=r"num_classes=3 \(given\)\. Received a label 5"):
        to_categorical([0, 5], num_classes=3)
    with pytest.raises(IndexError, match="Received a label 5"):
        to_categorical([0, 5], num_classes=3)
    with pytest.raises(ValueError, match="Received a label 3"):
        to_categorical(torch.tensor([0, 3]), num_classes=3)


def test_negative_label_in_array_is_refused():
    # Keras marks the last class for -1 (NumPy indexing from the end): a silently wrong row
    assert keras.utils.to_categorical([-1, 0], num_classes=2)[0].tolist() == [0.0, 1.0]
    with pytest.raises(ValueError, match="Received a label -1"):
        to_categorical([-1, 0], num_classes=2)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"x": [0, 1], "num_classes": 2.0}, TypeError, r"Received: num_classes=2\.0"),
        ({"x": [0, 1], "num_classes": -2}, ValueError, r"Received: num_classes=-2"),
        ({"x": []}, ValueError, "cannot infer `num_classes` from an empty `x`"),
        ({"x": ["a"]}, ValueError, "invalid literal"),
    ],
)
def test_to_categorical_bad_input_errors_like_keras(kwargs, error, match):
    with pytest.raises(error):
        keras.utils.to_categorical(**kwargs)
    with pytest.raises(error, match=match):
        to_categorical(**kwargs)


@pytest.mark.parametrize(
    "x, kwargs",
    [
        (np.arange(6.0).reshape(2, 3), {}),
        (np.arange(6.0).reshape(2, 3), {"order": 1}),
        (np.arange(6.0).reshape(2, 3), {"axis": 1}),
        (np.arange(12.0).reshape(2, 3, 2), {"axis": 1}),
        (np.arange(12.0).reshape(2, 3, 2), {"axis": -2}),
        (np.arange(6, dtype="float32").reshape(2, 3), {}),
        (np.arange(6).reshape(2, 3), {}),
        (np.zeros((2, 3)), {}),
        (np.arange(1.0, 4.0), {}),  # a vector comes back (1, n), as in Keras
        (np.arange(1.0, 4.0), {"axis": 0}),
        (np.arange(6.0).reshape(2, 3), {"order": np.inf}),
    ],
)
def test_normalize_equals_keras(x, kwargs):
    _same(normalize(x, **kwargs), keras.utils.normalize(x, **kwargs))


def test_normalize_tensor_and_list_equal_keras():
    t = torch.arange(6.0).reshape(2, 3)
    np.testing.assert_allclose(normalize(t).numpy(), keras.utils.normalize(t).numpy(), rtol=1e-6)
    assert isinstance(normalize([[1.0, 2.0]]), torch.Tensor)
    np.testing.assert_allclose(normalize([[1.0, 2.0]]).numpy(), keras.utils.normalize([[1.0, 2.0]]).numpy())


def test_normalize_axis0_on_a_matrix_is_right():
    # Keras expands the norms at axis -1 for axis=0: wrong values for a square matrix
    m = np.arange(9.0).reshape(3, 3) + 1
    np.testing.assert_allclose(normalize(m, axis=0), m / np.linalg.norm(m, axis=0, keepdims=True))
    assert not np.allclose(keras.utils.normalize(m, axis=0), normalize(m, axis=0))


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"axis": 2}, ValueError, r"Received: axis=2"),
        ({"axis": 1.0}, TypeError, r"Received: axis=1\.0"),
    ],
)
def test_normalize_bad_axis(kwargs, error, match):
    with pytest.raises(error, match=match):
        normalize(np.ones((2, 3)), **kwargs)
