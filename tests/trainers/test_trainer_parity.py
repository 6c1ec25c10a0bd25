"""Training parity with the real Keras 3 (torch backend): same data, same initial weights, shuffle off."""

import keras
import numpy as np
import pytest

import lamina
from lamina import layers


def _data(n=96, d=6, classes=3, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, d)).astype("float32")
    y = rng.integers(0, classes, size=n)
    return x, y


def _pair(optimizer_name, **opt_kwargs):
    lam = lamina.Sequential([lamina.Input((6,)), layers.Dense(8, activation="relu"), layers.Dense(3)])
    ker = keras.Sequential([keras.Input((6,)), keras.layers.Dense(8, activation="relu"), keras.layers.Dense(3)])
    ker.set_weights(lam.get_weights())
    lam.compile(
        optimizer=getattr(lamina.optimizers, optimizer_name)(**opt_kwargs),
        loss=lamina.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    ker.compile(
        optimizer=getattr(keras.optimizers, optimizer_name)(**opt_kwargs),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    return lam, ker


@pytest.mark.parametrize(
    "name,kwargs",
    [
        ("SGD", {"learning_rate": 0.1}),
        ("SGD", {"learning_rate": 0.05, "momentum": 0.9, "nesterov": True}),
        ("Adam", {"learning_rate": 0.01}),
        ("RMSprop", {"learning_rate": 0.005}),
    ],
)
def test_fit_matches_keras_epoch_for_epoch(name, kwargs):
    x, y = _data()
    xv, yv = _data(32, seed=1)
    lam, ker = _pair(name, **kwargs)
    h_l = lam.fit(x, y, batch_size=16, epochs=4, shuffle=False, verbose=0, validation_data=(xv, yv))
    h_k = ker.fit(x, y, batch_size=16, epochs=4, shuffle=False, verbose=0, validation_data=(xv, yv))
    assert sorted(h_l.history) == sorted(h_k.history)
    for key in h_k.history:
        np.testing.assert_allclose(h_l.history[key], h_k.history[key], rtol=1e-4, atol=1e-5, err_msg=key)
    for wl, wk in zip(lam.get_weights(), ker.get_weights(), strict=True):
        np.testing.assert_allclose(wl, wk, rtol=1e-4, atol=1e-5)
    ev_l = lam.evaluate(xv, yv, verbose=0, return_dict=True)
    ev_k = ker.evaluate(xv, yv, verbose=0, return_dict=True)
    assert ev_l.keys() == ev_k.keys()
    for k in ev_k:
        np.testing.assert_allclose(ev_l[k], ev_k[k], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(lam.predict(xv, verbose=0), ker.predict(xv, verbose=0), rtol=1e-5, atol=1e-5)


def test_sample_weight_class_weight_and_validation_split_match_keras():
    x, y = _data(80)
    sw = np.random.default_rng(3).uniform(0.5, 2.0, size=80).astype("float32")
    lam, ker = _pair("SGD", learning_rate=0.1)
    kw = dict(batch_size=16, epochs=2, shuffle=False, verbose=0, validation_split=0.25)
    h_l = lam.fit(x, y, sample_weight=sw, **kw)
    h_k = ker.fit(x, y, sample_weight=sw, **kw)
    for key in h_k.history:
        np.testing.assert_allclose(h_l.history[key], h_k.history[key], rtol=1e-4, atol=1e-5, err_msg=key)
    lam, ker = _pair("SGD", learning_rate=0.1)
    cw = {0: 1.0, 1: 2.0, 2: 0.5}
    h_l = lam.fit(x, y, class_weight=cw, batch_size=16, epochs=2, shuffle=False, verbose=0)
    h_k = ker.fit(x, y, class_weight=cw, batch_size=16, epochs=2, shuffle=False, verbose=0)
    np.testing.assert_allclose(h_l.history["loss"], h_k.history["loss"], rtol=1e-4, atol=1e-5)


def test_evaluate_return_forms_match_keras():
    x, y = _data(40)
    lam, ker = _pair("Adam")
    assert len(lam.evaluate(x, y, verbose=0)) == 2
    np.testing.assert_allclose(lam.evaluate(x, y, verbose=0), ker.evaluate(x, y, verbose=0), rtol=1e-5)
    lam.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    assert isinstance(lam.evaluate(x, y, verbose=0), float)
