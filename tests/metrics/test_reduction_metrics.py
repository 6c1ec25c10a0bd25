import keras
import numpy as np
import pytest
import torch

import lamina
from lamina import metrics
from tests.metrics.parity import to_np

RNG = np.random.default_rng(7)


@pytest.mark.parametrize("cls_name", ["Mean", "Sum"])
@pytest.mark.parametrize(
    "shape,weight_shape", [((5,), None), ((5,), (5,)), ((4, 3), (4,)), ((4, 3), (4, 3)), ((2, 3, 2), (2, 1))]
)
def test_mean_sum_parity(cls_name, shape, weight_shape):
    ours, ref = getattr(metrics, cls_name)(), getattr(keras.metrics, cls_name)()
    for _ in range(3):
        values = RNG.normal(size=shape).astype("float32")
        sw = None if weight_shape is None else RNG.random(weight_shape).astype("float32")
        ours.update_state(values, sample_weight=sw)
        ref.update_state(values, sample_weight=sw)
    np.testing.assert_allclose(to_np(ours.result()), to_np(ref.result()), rtol=1e-5)
    assert ours.get_config() == ref.get_config()
    assert [v.path for v in ours.variables] == [v.path for v in ref.variables]
    ours.reset_state()
    assert float(ours.result()) == 0.0


def test_mean_metric_wrapper_parity_and_config():
    y_true, y_pred = RNG.normal(size=(6, 3)).astype("float32"), RNG.normal(size=(6, 3)).astype("float32")
    sw = RNG.random(6).astype("float32")
    ours = metrics.MeanMetricWrapper(lamina.losses.huber, name="h", delta=0.5)
    ref = keras.metrics.MeanMetricWrapper(keras.losses.huber, name="h", delta=0.5)
    for o, r in ((ours, ref),):
        o.update_state(y_true, y_pred, sample_weight=sw)
        r.update_state(y_true, y_pred, sample_weight=sw)
        o.update_state(y_true[:2], y_pred[:2])
        r.update_state(y_true[:2], y_pred[:2])
    np.testing.assert_allclose(to_np(ours.result()), to_np(ref.result()), rtol=1e-5)
    assert ours.get_config() == ref.get_config()
    assert ours._direction == "down"
    rebuilt = keras.metrics.MeanMetricWrapper.from_config(ours.get_config())
    back = metrics.MeanMetricWrapper.from_config(ref.get_config())
    assert back._fn is lamina.losses.huber
    rebuilt.update_state(y_true, y_pred)
    back.update_state(y_true, y_pred)
    np.testing.assert_allclose(to_np(back.result()), to_np(rebuilt.result()), rtol=1e-5)


def test_mean_metric_wrapper_uses_mask():
    y_true, y_pred = RNG.normal(size=(5, 3)).astype("float32"), RNG.normal(size=(5, 3)).astype("float32")
    mask = torch.tensor([True, False, True, True, False])
    ours, ref = metrics.MeanSquaredError(), keras.metrics.MeanSquaredError()
    p1, p2 = torch.as_tensor(y_pred), torch.as_tensor(y_pred)
    p1._keras_mask, p2._keras_mask = mask, mask
    ours.update_state(y_true, p1)
    ref.update_state(y_true, p2)
    np.testing.assert_allclose(to_np(ours.result()), to_np(ref.result()), rtol=1e-6)


def test_update_keeps_no_graph_and_call_returns_result():
    m = metrics.Mean()
    x = torch.ones(3, requires_grad=True)
    out = m(x * 2)
    assert not out.requires_grad and float(out) == 2.0
    assert not m.total.value.requires_grad
