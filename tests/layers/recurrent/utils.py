"""Shared helpers for the recurrent-layer tests: Keras parity with masks and initial states."""

import numpy as np

import lamina
from tests.layers.harness import keras_layer_from_config, make_input, to_numpy


def keras():
    import keras as k

    return k


def randomize(layer, seed=1, scale=0.5):
    rng = np.random.default_rng(seed)
    for v in layer.weights:
        v.assign((rng.standard_normal(v.shape) * scale).astype(lamina.backend.standardize_dtype(v.dtype)))


def keras_twin(layer, x_shape):
    """The real Keras layer built from our config, holding our weights."""
    klayer = keras_layer_from_config(type(layer).__name__, layer.get_config())
    klayer(keras().ops.convert_to_tensor(np.zeros(x_shape, "float32")))
    klayer.set_weights(layer.get_weights())
    return klayer


def random_mask(batch, steps, seed=0, first_true=False):
    rng = np.random.default_rng(seed)
    mask = rng.random((batch, steps)) > 0.35
    if first_true:
        mask[:, 0] = True
    return mask


def assert_parity(layer, x, atol=1e-5, **call_kwargs):
    """Calls our (built) layer and its Keras twin with the same arguments; compares all outputs."""
    k = keras()
    klayer = keras_twin(layer, x.shape)
    ours = layer(x, **call_kwargs)
    kkw = {}
    for key, value in call_kwargs.items():
        if key == "mask":
            kkw[key] = k.ops.convert_to_tensor(np.asarray(value))
        elif key == "initial_state":
            kkw[key] = [k.ops.convert_to_tensor(np.asarray(v)) for v in value]
        else:
            kkw[key] = value
    theirs = klayer(k.ops.convert_to_tensor(x), **kkw)
    ours_l = ours if isinstance(ours, (list, tuple)) else [ours]
    theirs_l = theirs if isinstance(theirs, (list, tuple)) else [theirs]
    assert len(ours_l) == len(theirs_l)
    for o, t in zip(ours_l, theirs_l, strict=True):
        np.testing.assert_allclose(to_numpy(o), to_numpy(t), atol=atol, rtol=1e-5)
    return ours


def built(layer_cls, kwargs, shape, seed=1):
    layer = layer_cls(**kwargs)
    x = make_input(shape)
    layer(x)
    randomize(layer, seed)
    return layer, x
