"""The functional API and the end of the Sequential guide, against real Keras shapes and counts."""

import keras
import numpy as np
import pytest

import lamina
from lamina import layers


def _convnet(lib):
    L = lib.layers
    return lib.Sequential(
        [
            lib.Input(shape=(250, 250, 3)),
            L.Conv2D(32, 5, strides=2, activation="relu"),
            L.Conv2D(32, 3, activation="relu", name="my_intermediate_layer"),
            L.Conv2D(32, 3, activation="relu"),
        ]
    )


def test_feature_extraction_from_sequential_guide():
    initial = _convnet(lamina)
    extractor = lamina.Model(inputs=initial.inputs, outputs=[layer.output for layer in initial.layers])
    feats = extractor(np.ones((1, 250, 250, 3), "float32"))
    assert [tuple(f.shape) for f in feats] == [(1, 123, 123, 32), (1, 121, 121, 32), (1, 119, 119, 32)]
    one = lamina.Model(inputs=initial.inputs, outputs=initial.get_layer(name="my_intermediate_layer").output)
    assert tuple(one(np.ones((1, 250, 250, 3), "float32")).shape) == (1, 121, 121, 32)
    # the features are the Sequential's own intermediate values
    x = np.random.default_rng(0).random((1, 250, 250, 3), dtype=np.float32)
    np.testing.assert_allclose(extractor(x)[-1].detach().numpy(), initial(x).detach().numpy(), rtol=1e-5, atol=1e-6)


def test_transfer_learning_freezing():
    base = lamina.Sequential([lamina.Input((8,)), layers.Dense(16, activation="relu"), layers.Dense(16)])
    base.trainable = False
    model = lamina.Sequential([base, layers.Dense(3)])
    model.build((None, 8))
    assert len(model.trainable_weights) == 2
    model.compile(optimizer="adam", loss="mse")
    frozen = [w.copy() for w in base.get_weights()]
    head = model.layers[-1].get_weights()[0].copy()
    x = np.random.default_rng(0).random((32, 8), dtype=np.float32)
    model.fit(x, np.ones((32, 3), "float32"), epochs=2, verbose=0)
    for a, b in zip(frozen, base.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    assert not np.allclose(head, model.layers[-1].get_weights()[0])
    # freeze all but the last layer, as in the guide
    m2 = lamina.Sequential([lamina.Input((4,)), layers.Dense(4), layers.Dense(4), layers.Dense(2)])
    for layer in m2.layers[:-1]:
        layer.trainable = False
    assert [w.path.split("/")[-2] for w in m2.trainable_weights] == [m2.layers[-1].name] * 2


def _two_io(lib):
    L = lib.layers
    a = lib.Input((4,), name="a")
    b = lib.Input((3,), name="b")
    shared = L.Dense(5, name="shared")
    x = L.Dense(5, name="da")(a)
    y = shared(L.Dense(5, name="db")(b))
    z = L.Add(name="add")([x, y])
    r = L.Dense(5, name="res")(z)
    r = L.Add(name="residual")([r, z])
    out1 = L.Dense(2, name="out1")(r)
    out2 = L.Dense(1, name="out2")(L.Concatenate(name="cat")([x, y]))
    return lib.Model(inputs=[a, b], outputs=[out1, out2], name="two_io")


def test_multi_io_shared_residual_matches_keras():
    lam = _two_io(lamina)
    ker = _two_io(keras)
    assert [la.name for la in lam.layers] == [la.name for la in ker.layers]
    assert lam.count_params() == ker.count_params()
    ker.set_weights(lam.get_weights())
    rng = np.random.default_rng(0)
    xa, xb = rng.random((6, 4), dtype=np.float32), rng.random((6, 3), dtype=np.float32)
    out_l = lam([xa, xb])
    out_k = ker([xa, xb])
    for ol, ok in zip(out_l, out_k, strict=True):
        np.testing.assert_allclose(ol.detach().numpy(), keras.ops.convert_to_numpy(ok), rtol=1e-5, atol=1e-6)
    assert lam.output_names == ker.output_names


def test_fit_with_per_output_losses_and_loss_weights_matches_keras():
    lam = _two_io(lamina)
    ker = _two_io(keras)
    ker.set_weights(lam.get_weights())
    rng = np.random.default_rng(1)
    xa, xb = rng.random((32, 4), dtype=np.float32), rng.random((32, 3), dtype=np.float32)
    y1, y2 = rng.random((32, 2), dtype=np.float32), rng.random((32, 1), dtype=np.float32)
    for m, lib in ((lam, lamina), (ker, keras)):
        m.compile(
            optimizer=lib.optimizers.SGD(0.05),
            loss={"out1": "mse", "out2": "mae"},
            loss_weights={"out1": 1.0, "out2": 0.5},
            metrics={"out1": ["mae"], "out2": ["mse"]},
        )
    hl = lam.fit([xa, xb], [y1, y2], batch_size=8, epochs=2, shuffle=False, verbose=0)
    hk = ker.fit([xa, xb], [y1, y2], batch_size=8, epochs=2, shuffle=False, verbose=0)
    assert sorted(hl.history) == sorted(hk.history)
    for k in hk.history:
        np.testing.assert_allclose(hl.history[k], hk.history[k], rtol=1e-4, atol=1e-5, err_msg=k)


def test_dict_inputs_and_outputs():
    a = lamina.Input((4,), name="a")
    b = lamina.Input((3,), name="b")
    x = layers.Concatenate()([a, b])
    model = lamina.Model(inputs={"a": a, "b": b}, outputs={"score": layers.Dense(1, name="score")(x)})
    out = model({"a": np.ones((2, 4)), "b": np.ones((2, 3))})
    assert set(out) == {"score"} and tuple(out["score"].shape) == (2, 1)
    with pytest.raises(ValueError, match="missing"):
        model({"a": np.ones((2, 4))})


def test_bad_graphs_and_inputs():
    a = lamina.Input((4,), name="a")
    b = lamina.Input((3,), name="b")
    y = layers.Dense(2, name="d2")(b)
    with pytest.raises(ValueError, match="Graph disconnected.*'b'"):
        lamina.Model(a, y)
    m = lamina.Model(b, y)
    with pytest.raises(ValueError, match=r"expects shape \(None, 3\), but received shape \(2, 5\)"):
        m(np.ones((2, 5), "float32"))
    with pytest.raises(ValueError, match="expects 1 input"):
        m([np.ones((2, 3)), np.ones((2, 3))])
    d = layers.Dense(2, name="same")
    e = layers.Dense(2, name="same")
    with pytest.raises(ValueError, match='"same" is used 2 times'):
        lamina.Model(a, e(d(a)))
    with pytest.raises(ValueError, match=r'"d2" \(Dense\) expects last axis 3'):
        layers.Dense(2, name="d2")(a) if False else m.layers[-1](a)


def test_nested_model_as_layer_and_summary_counts():
    inner_in = lamina.Input((4,))
    inner = lamina.Model(inner_in, layers.Dense(3)(inner_in), name="inner")
    x = lamina.Input((4,))
    out = layers.Dense(1)(inner(x))
    model = lamina.Model(x, out)
    assert model.count_params() == 4 * 3 + 3 + 3 + 1
    assert tuple(model(np.ones((2, 4), "float32")).shape) == (2, 1)


def test_subclassed_model_fits():
    class MyModel(lamina.Model):
        def __init__(self):
            super().__init__()
            self.d1 = layers.Dense(8, activation="relu")
            self.d2 = layers.Dense(1)

        def call(self, x):
            return self.d2(self.d1(x))

    model = MyModel()
    model.compile(optimizer="adam", loss="mse")
    h = model.fit(np.ones((16, 4), "float32"), np.ones((16, 1), "float32"), epochs=2, verbose=0)
    assert len(h.history["loss"]) == 2 and len(model.layers) == 2


def test_functional_config_round_trip_and_keras_reads_it():
    lam = _two_io(lamina)
    config = lam.get_config()
    again = lamina.Model.from_config(config)
    assert [la.name for la in again.layers] == [la.name for la in lam.layers]
    ker = keras.Model.from_config(config)
    assert ker.count_params() == lam.count_params()
    back = lamina.Model.from_config(ker.get_config())
    assert back.count_params() == lam.count_params()


def test_activations_are_released_after_their_last_use():
    """Under no_grad an intermediate value is dropped once its last reader ran, not when the call returns."""
    import weakref

    import torch

    seen: dict[str, weakref.ref] = {}
    alive_at_probe: list[list[str]] = []

    class Keep(layers.Layer):
        def call(self, x):
            y = x + 1.0
            seen[self.name] = weakref.ref(y)  # this layer's output
            return y

    class Probe(layers.Layer):
        def call(self, x):
            alive_at_probe.append([name for name, ref in seen.items() if ref() is not None])
            return x

    inputs = lamina.Input(shape=(4,))
    a = Keep(name="a")(inputs)  # read once, by b
    b = Keep(name="b")(a)  # read by c and by the output add
    c = Probe()(Keep(name="c")(b))
    model = lamina.Model(inputs, layers.Add()([b, c]))
    with torch.no_grad():
        out = model(np.zeros((2, 4), "float32"))
    # a's output was read only by b: gone; b's output (read again by the Add) and c's output are alive
    assert alive_at_probe[-1] == ["b", "c"]
    np.testing.assert_allclose(out.numpy(), np.full((2, 4), 5.0))
