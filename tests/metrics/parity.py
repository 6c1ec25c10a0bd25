"""Parity check of a lamina metric against the real keras metric: accumulation, reset, config, variables."""

import keras
import numpy as np
import torch

import lamina


def to_np(x):
    if isinstance(x, torch.Tensor):
        return x.detach().cpu().numpy()
    return np.asarray(x)


def check_metric(cls_name, kwargs, batches, sample_weights=None, rtol=1e-5, atol=1e-6):
    """Feeds the same batches to lamina's and Keras's metric and compares everything observable.

    Args:
        cls_name: class name in both ``lamina.metrics`` and ``keras.metrics``.
        kwargs: constructor arguments (a ``name`` is added so configs compare equal).
        batches: list of ``(y_true, y_pred)`` numpy pairs, fed with several ``update_state`` calls.
        sample_weights: optional list (one per batch) of sample weights.
    """
    kwargs = {"name": "m", **kwargs}
    ours_cls, ref_cls = getattr(lamina.metrics, cls_name), getattr(keras.metrics, cls_name)
    ours, ref = ours_cls(**kwargs), ref_cls(**kwargs)
    sample_weights = sample_weights or [None] * len(batches)

    def feed(o, r):
        for (y_true, y_pred), sw in zip(batches, sample_weights, strict=True):
            o.update_state(
                torch.as_tensor(y_true),
                torch.as_tensor(y_pred),
                sample_weight=None if sw is None else torch.as_tensor(sw),
            )
            r.update_state(y_true, y_pred, sample_weight=sw)
        np.testing.assert_allclose(to_np(o.result()), to_np(r.result()), rtol=rtol, atol=atol)

    feed(ours, ref)
    assert [(v.name, v.shape) for v in ours.variables] == [(v.name, tuple(v.shape)) for v in ref.variables]
    assert all(v.device == torch.device("cpu") or v.device.type == "cuda" for v in ours.variables)

    # reset_state: the state is zero again and accumulates from scratch
    ours.reset_state()
    ref.reset_state()
    for v, w in zip(ours.variables, ref.variables, strict=True):
        np.testing.assert_array_equal(v.numpy(), to_np(w.value))
    feed(ours, ref)

    # configs: same dict, and each library rebuilds the other's metric
    config = ours.get_config()
    assert config == ref.get_config()
    feed(ours_cls.from_config(ref.get_config()), ref_cls.from_config(config))
    assert lamina.metrics.serialize(ours) == keras.metrics.serialize(ref)
    return ours, ref
