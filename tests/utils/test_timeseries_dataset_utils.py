"""timeseries_dataset_from_array: Keras's windows, targets and argument checks, without TensorFlow."""

import keras
import numpy as np
import pytest
import torch

import lamina
from lamina.utils import timeseries_dataset_from_array
from tests.fixtures.make_dataset_utils import TIMESERIES_CASES, timeseries_inputs
from tests.utils.dataset_refs import ref_batches


def _build(name):
    kwargs = dict(TIMESERIES_CASES[name])
    with_targets = kwargs.pop("with_targets", True)
    data, targets = timeseries_inputs()
    return timeseries_dataset_from_array(data, targets if with_targets else None, **kwargs)


@pytest.mark.parametrize("name", ["ts_basic", "ts_stride_rate", "ts_start_end", "ts_no_targets"])
def test_batches_equal_keras(name):
    ds = _build(name)
    ours = [[p.numpy() for p in (b if isinstance(b, tuple) else (b,))] for b in ds]
    theirs = ref_batches(name)
    assert len(ds) == len(ours) == len(theirs)
    for our_parts, ref_parts in zip(ours, theirs, strict=True):
        for a, b in zip(our_parts, ref_parts, strict=True):
            assert a.dtype == b.dtype and a.shape == b.shape
            np.testing.assert_array_equal(a, b)


def test_shuffled_windows_are_keras_windows():
    ds = _build("ts_shuffled")
    ours = sorted((tuple(w.flatten().tolist()), int(t)) for x, y in ds for w, t in zip(x, y, strict=True))
    theirs = sorted(
        (tuple(w.flatten().tolist()), int(t)) for x, y in ref_batches("ts_shuffled") for w, t in zip(x, y, strict=True)
    )
    assert ours == theirs
    first, second = ([int(t) for _, y in ds for t in y] for _ in range(2))
    assert first != second and sorted(first) == sorted(second)


def test_torch_and_list_inputs_and_fit():
    data = torch.arange(40, dtype=torch.float32).reshape(20, 2)
    ds = timeseries_dataset_from_array(data, data[:, 0], sequence_length=4, batch_size=8)
    x, y = next(iter(ds))
    assert tuple(x.shape) == (8, 4, 2) and y.tolist() == data[:8, 0].tolist()
    assert len(timeseries_dataset_from_array(list(range(10)), None, sequence_length=2)) == 1
    model = lamina.Sequential([lamina.Input((4, 2)), lamina.layers.Flatten(), lamina.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    history = model.fit(ds, epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2 and np.isfinite(history.history["loss"]).all()
    assert model.predict(ds, verbose=0).shape == (17, 1)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"start_index": -1},
        {"start_index": 30},
        {"start_index": 5, "end_index": 5},
        {"end_index": 30},
        {"end_index": -2},
        {"sampling_rate": 0},
        {"sampling_rate": 30},
        {"sequence_stride": 0},
        {"sequence_stride": 30},
        {"format": "pandas"},
    ],
)
def test_bad_arguments_error_as_keras(kwargs):
    data = np.zeros((30, 2))
    with pytest.raises(ValueError) as keras_error:
        keras.utils.timeseries_dataset_from_array(data, None, sequence_length=3, **kwargs)
    with pytest.raises(ValueError, match=str(keras_error.value).split("Received")[0][:30].replace("`", ".")):
        timeseries_dataset_from_array(data, None, sequence_length=3, **kwargs)


def test_bad_types():
    with pytest.raises(TypeError, match=r"Received: sequence_length=2\.5"):
        timeseries_dataset_from_array(np.zeros(10), None, sequence_length=2.5)
    with pytest.raises(TypeError, match="`data` must be an array"):
        timeseries_dataset_from_array(3, None, sequence_length=2)
    with pytest.raises(ValueError, match=r"Received: batch_size=-4"):
        timeseries_dataset_from_array(np.zeros(10), None, sequence_length=2, batch_size=-4)
