"""Keras 3 files <-> Lamina, both directions, per layer family: same predictions, same optimizer state.

Each family is one builder ``build(K)`` that uses only the shared Keras API, so the same
function builds the Keras model (``K = keras``) and the Lamina one (``K = lamina``).
"""

from __future__ import annotations

import numpy as np
import pytest

import lamina
from tests.saving.kx import h5_tree, keras, keras_predict, lamina_predict


def _dense(K):
    return K.Sequential(
        [
            K.Input((3,)),
            K.layers.Dense(4, activation="relu"),
            K.layers.Dense(2, use_bias=False),
            K.layers.Dense(2, activation="softmax"),
        ]
    )


def _conv(K):
    return K.Sequential(
        [
            K.Input((8, 8, 2)),
            K.layers.Conv2D(3, 3, padding="same", activation="relu"),
            K.layers.DepthwiseConv2D(3, depth_multiplier=2),
            K.layers.SeparableConv2D(4, 3, padding="same"),
            K.layers.Conv2DTranspose(2, 3, strides=2),
            K.layers.Conv2D(2, 1, use_bias=False),
        ]
    )


def _conv1d(K):
    return K.Sequential(
        [
            K.Input((10, 3)),
            K.layers.Conv1D(4, 3, dilation_rate=2),
            K.layers.SeparableConv1D(2, 3),
            K.layers.Conv1DTranspose(3, 2, strides=2),
        ]
    )


def _conv3d(K):
    return K.Sequential([K.Input((4, 4, 4, 1)), K.layers.Conv3D(2, 2), K.layers.Conv3DTranspose(1, 2)])


def _pooling(K):
    return K.Sequential(
        [
            K.Input((8, 8, 3)),
            K.layers.Conv2D(4, 3, padding="same"),
            K.layers.MaxPooling2D(2),
            K.layers.AveragePooling2D(2, strides=1, padding="same"),
            K.layers.GlobalAveragePooling2D(),
            K.layers.Dense(2),
        ]
    )


def _reshaping(K):
    return K.Sequential(
        [
            K.Input((4, 4, 2)),
            K.layers.ZeroPadding2D(1),
            K.layers.Cropping2D(1),
            K.layers.UpSampling2D(2),
            K.layers.Permute((2, 1, 3)),
            K.layers.Reshape((8, 16)),
            K.layers.Dense(3),
            K.layers.Flatten(),
            K.layers.Dense(3),
            K.layers.RepeatVector(2),
            K.layers.Flatten(),
        ]
    )


def _normalization(K):
    return K.Sequential(
        [
            K.Input((6,)),
            K.layers.Dense(8),
            K.layers.BatchNormalization(),
            K.layers.LayerNormalization(),
            K.layers.Reshape((2, 4)),
            K.layers.GroupNormalization(groups=2),
            K.layers.Flatten(),
            K.layers.UnitNormalization(),
            K.layers.Dense(2),
        ]
    )


def _normalization_extra(K):
    return K.Sequential(
        [
            K.Input((6,)),
            K.layers.RMSNormalization(),
            K.layers.SpectralNormalization(K.layers.Dense(4)),
            K.layers.Dense(2),
        ]
    )


def _recurrent(K):
    return K.Sequential(
        [
            K.Input((5, 3)),
            K.layers.LSTM(3, return_sequences=True),
            K.layers.GRU(3, return_sequences=True),
            K.layers.Bidirectional(K.layers.SimpleRNN(2, return_sequences=True)),
            K.layers.TimeDistributed(K.layers.Dense(2)),
            K.layers.GRU(2, reset_after=False),
        ]
    )


def _embedding(K):
    return K.Sequential(
        [K.Input((5,), dtype="int32"), K.layers.Embedding(10, 4), K.layers.GlobalAveragePooling1D(), K.layers.Dense(2)]
    )


def _activations(K):
    return K.Sequential(
        [
            K.Input((4,)),
            K.layers.Dense(4),
            K.layers.PReLU(),
            K.layers.LeakyReLU(0.2),
            K.layers.Dense(3),
            K.layers.ReLU(max_value=2.0),
            K.layers.Softmax(),
        ]
    )


def _einsum(K):
    return K.Sequential([K.Input((3, 4)), K.layers.EinsumDense("abc,cd->abd", output_shape=(None, 5), bias_axes="d")])


def _regularization(K):
    return K.Sequential(
        [
            K.Input((6, 6, 2)),
            K.layers.Dropout(0.3),
            K.layers.GaussianNoise(0.1),
            K.layers.GaussianDropout(0.1),
            K.layers.SpatialDropout2D(0.2),
            K.layers.AlphaDropout(0.1),
            K.layers.ActivityRegularization(l1=0.01),
            K.layers.Flatten(),
            K.layers.Dense(2),
        ]
    )


def _preprocessing(K):
    norm = K.layers.Normalization()
    norm.adapt(np.arange(12, dtype="float32").reshape(4, 3))
    return K.Sequential([K.Input((3,)), norm, K.layers.Rescaling(0.5, offset=1.0), K.layers.Dense(2)])


def _masking(K):
    return K.Sequential(
        [K.Input((5,), dtype="int32"), K.layers.Embedding(10, 4, mask_zero=True), K.layers.LSTM(3), K.layers.Dense(2)]
    )


def _stacked_cells(K):
    return K.Sequential(
        [
            K.Input((5, 3)),
            K.layers.RNN([K.layers.LSTMCell(3), K.layers.GRUCell(2)], return_sequences=True),
            K.layers.Masking(),
            K.layers.SimpleRNN(2),
        ]
    )


def _merging(K):
    a, b = K.Input((4,)), K.Input((4,))
    a2, b2 = K.layers.Dense(4)(a), K.layers.Dense(4)(b)
    merged = [
        K.layers.Add()([a2, b2]),
        K.layers.Subtract()([a2, b2]),
        K.layers.Multiply()([a2, b2]),
        K.layers.Average()([a2, b2]),
        K.layers.Maximum()([a2, b2]),
        K.layers.Minimum()([a2, b2]),
        K.layers.Dot(axes=1, normalize=True)([a2, b2]),
    ]
    return K.Model([a, b], K.layers.Dense(2)(K.layers.Concatenate()(merged)))


def _functional(K):
    a = K.Input((3,), name="a")
    b = K.Input((4,), name="b")
    inner = K.Sequential([K.Input((5,)), K.layers.Dense(5), K.layers.Dense(5)], name="inner")
    x = K.layers.Concatenate()([K.layers.Dense(3)(a), K.layers.Dense(2)(b)])
    x = inner(x)
    y = K.layers.Add()([K.layers.Dense(5)(x), x])
    return K.Model([a, b], [K.layers.Dense(1)(y), K.layers.Dense(2)(x)], name="two_heads")


FAMILIES = {
    "dense": (_dense, [(3,)]),
    "conv2d": (_conv, [(8, 8, 2)]),
    "conv1d": (_conv1d, [(10, 3)]),
    "conv3d": (_conv3d, [(4, 4, 4, 1)]),
    "pooling": (_pooling, [(8, 8, 3)]),
    "reshaping": (_reshaping, [(4, 4, 2)]),
    "normalization": (_normalization, [(6,)]),
    "normalization_extra": (_normalization_extra, [(6,)]),
    "recurrent": (_recurrent, [(5, 3)]),
    "embedding": (_embedding, [("int", 5)]),
    "activations": (_activations, [(4,)]),
    "einsum": (_einsum, [(3, 4)]),
    "regularization": (_regularization, [(6, 6, 2)]),
    "preprocessing": (_preprocessing, [(3,)]),
    "masking": (_masking, [("int", 5)]),
    "stacked_cells": (_stacked_cells, [(5, 3)]),
    "merging": (_merging, [(4,), (4,)]),
    "functional": (_functional, [(3,), (4,)]),
}


def _inputs(specs, seed=0):
    rng = np.random.default_rng(seed)
    out = []
    for spec in specs:
        if spec[0] == "int":
            out.append(rng.integers(0, 10, size=(2, *spec[1:])).astype("int32"))
        else:
            out.append(rng.standard_normal((2, *spec)).astype("float32"))
    return out[0] if len(out) == 1 else out


def _randomize(model, seed=1):
    """Non-trivial values for every weight (moving variances stay positive)."""
    rng = np.random.default_rng(seed)
    values = []
    for w in model.weights:
        v = rng.uniform(-0.6, 0.6, size=tuple(w.shape)).astype("float32")
        if "variance" in w.path or "moving_var" in w.path:
            v = np.abs(v) + 0.5
        values.append(v)
    model.set_weights(values)


def _build(family, K):
    builder, _ = FAMILIES[family]
    return builder(K)


def _close(a, b):
    if isinstance(a, list):
        for x, y in zip(a, b, strict=True):
            np.testing.assert_allclose(x, y, atol=2e-5, rtol=1e-5)
    else:
        np.testing.assert_allclose(a, b, atol=2e-5, rtol=1e-5)


@pytest.mark.parametrize("family", list(FAMILIES))
def test_keras_file_loads_in_lamina(family, tmp_path):
    k = keras()
    kmodel = _build(family, k)
    ours_probe = _build(family, lamina)  # skips if the family is missing
    del ours_probe
    _randomize(kmodel)
    kmodel.save(tmp_path / "k.keras")
    kmodel.save_weights(tmp_path / "k.weights.h5")
    x = _inputs(FAMILIES[family][1])
    expected = keras_predict(kmodel, x)
    ours = lamina.models.load_model(tmp_path / "k.keras")
    _close(lamina_predict(ours, x), expected)
    fresh = _build(family, lamina)
    fresh.load_weights(tmp_path / "k.weights.h5")
    _close(lamina_predict(fresh, x), expected)


@pytest.mark.parametrize("family", list(FAMILIES))
def test_lamina_file_loads_in_keras(family, tmp_path):
    k = keras()
    ours = _build(family, lamina)
    _randomize(ours)
    ours.save(tmp_path / "l.keras")
    ours.save_weights(tmp_path / "l.weights.h5")
    x = _inputs(FAMILIES[family][1])
    expected = lamina_predict(ours, x)
    kmodel = k.models.load_model(tmp_path / "l.keras")
    _close(keras_predict(kmodel, x), expected)
    kfresh = _build(family, k)
    kfresh.load_weights(tmp_path / "l.weights.h5")
    _close(keras_predict(kfresh, x), expected)
    # the two files have the same layout as the one Keras writes for the same model
    kfresh.save_weights(tmp_path / "k.weights.h5")
    assert h5_tree(tmp_path / "l.weights.h5") == h5_tree(tmp_path / "k.weights.h5")


def _trained(K, seed=0):
    model = _dense(K)
    _randomize(model, seed)
    model.compile(optimizer=K.optimizers.Adam(learning_rate=0.01), loss="mse", metrics=["mae"])
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((8, 3)).astype("float32")
    y = rng.uniform(size=(8, 2)).astype("float32")
    model.fit(x, y, batch_size=4, epochs=1, verbose=0, shuffle=False)
    return model, x, y


def _opt_values(model):
    return [np.asarray(v.numpy()) for v in model.optimizer.variables]


@pytest.mark.parametrize("direction", ["keras_to_lamina", "lamina_to_keras"])
def test_compiled_model_resumes_training_with_optimizer_state(direction, tmp_path):
    k = keras()
    src_mod, dst_load = (
        (k, lamina.models.load_model) if direction == "keras_to_lamina" else (lamina, k.models.load_model)
    )
    src, x, y = _trained(src_mod)
    src.save(tmp_path / "m.keras")
    dst = dst_load(tmp_path / "m.keras")
    assert dst.optimizer.__class__.__name__ == "Adam"
    saved, loaded = _opt_values(src), _opt_values(dst)
    assert len(saved) == len(loaded) == 12  # iterations, learning_rate, 2 slots x 5 variables
    assert int(loaded[0]) == 2
    for a, b in zip(saved, loaded, strict=True):
        np.testing.assert_allclose(a, b, atol=1e-7)
    # one more step on each: the same update, since the slots were restored
    src.fit(x, y, batch_size=8, epochs=1, verbose=0, shuffle=False)
    dst.fit(x, y, batch_size=8, epochs=1, verbose=0, shuffle=False)
    predict = lamina_predict if direction == "keras_to_lamina" else keras_predict
    src_predict = keras_predict if direction == "keras_to_lamina" else lamina_predict
    _close(predict(dst, x), src_predict(src, x))


def test_optimizer_state_in_weights_files_both_ways(tmp_path):
    k = keras()
    kmodel, _, _ = _trained(k)
    kmodel.save_weights(tmp_path / "k.weights.h5")
    ours, _, _ = _trained(lamina, seed=5)
    ours.load_weights(tmp_path / "k.weights.h5")
    for a, b in zip(_opt_values(kmodel), _opt_values(ours), strict=True):
        np.testing.assert_allclose(a, b, atol=1e-7)
    ours.save_weights(tmp_path / "l.weights.h5")
    kother, _, _ = _trained(k, seed=7)
    kother.load_weights(tmp_path / "l.weights.h5")
    for a, b in zip(_opt_values(kother), _opt_values(ours), strict=True):
        np.testing.assert_allclose(a, b, atol=1e-7)
    assert set(h5_tree(tmp_path / "l.weights.h5")) == set(h5_tree(tmp_path / "k.weights.h5"))


def test_loss_scale_optimizer_layout_and_state_both_ways(tmp_path):
    k = keras()
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((8, 3)).astype("float32"), rng.uniform(size=(8, 2)).astype("float32")
    models = {}
    for K in (k, lamina):
        model = K.Sequential([K.Input((3,)), K.layers.Dense(2)])
        model.compile(optimizer=K.optimizers.LossScaleOptimizer(K.optimizers.SGD(momentum=0.9)), loss="mse")
        model.fit(x, y, verbose=0, batch_size=4)
        model.save(tmp_path / f"{K.__name__}.keras")
        models[K.__name__] = model
    assert h5_tree(tmp_path / "keras.keras") == h5_tree(tmp_path / "lamina.keras")
    ours = lamina.models.load_model(tmp_path / "keras.keras")
    theirs = k.models.load_model(tmp_path / "lamina.keras")
    for loaded, src in ((ours, models["keras"]), (theirs, models["lamina"])):
        assert type(loaded.optimizer).__name__ == "LossScaleOptimizer"
        for a, b in zip(_opt_values(loaded), _opt_values(src), strict=True):
            np.testing.assert_allclose(a, b, atol=1e-7)


def test_compile_strings_survive_a_lamina_round_trip_for_keras(tmp_path):
    model = _dense(lamina)
    model.compile(optimizer="sgd", loss="categorical_crossentropy", metrics=["accuracy", "mae"])
    model.save(tmp_path / "a.keras")
    again = lamina.models.load_model(tmp_path / "a.keras")
    config = again.get_compile_config()
    assert config["loss"] == "categorical_crossentropy" and config["metrics"] == ["accuracy", "mae"]
    again.save(tmp_path / "b.keras")
    kmodel = keras().models.load_model(tmp_path / "b.keras")
    assert kmodel.compiled and kmodel.loss == "categorical_crossentropy"
