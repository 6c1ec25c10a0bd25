"""Legacy HDF5 (tf.keras 2 and Keras 3's ``model.save("x.h5")``): read both, write what Keras reads."""

from __future__ import annotations

import json

import h5py
import numpy as np
import pytest

import lamina
from lamina import layers
from lamina.saving import legacy_h5
from tests.saving.kx import keras, keras_predict, lamina_predict

X = np.random.default_rng(0).standard_normal((4, 3)).astype("float32")


def _init(name, config=None):
    return {"module": "keras.initializers", "class_name": name, "config": config or {}, "registered_name": None}


def _dense_config(name, units, activation, first=False):
    config = {
        "name": name,
        "trainable": True,
        "dtype": "float32",
        "units": units,
        "activation": activation,
        "use_bias": True,
        "kernel_initializer": _init("GlorotUniform", {"seed": None}),
        "bias_initializer": _init("Zeros"),
        "kernel_regularizer": None,
        "bias_regularizer": None,
        "activity_regularizer": None,
        "kernel_constraint": None,
        "bias_constraint": None,
    }
    if first:
        config["batch_input_shape"] = [None, 3]
    return {
        "module": "keras.layers",
        "class_name": "Dense",
        "config": config,
        "registered_name": None,
        "build_config": {"input_shape": [None, 3 if first else 4]},
    }


def _tf_keras_2_file(path, rng):
    """A file laid out exactly as tf.keras 2.15 ``model.save("x.h5")`` writes it."""
    model_config = {
        "class_name": "Sequential",
        "config": {
            "name": "sequential",
            "layers": [
                {
                    "module": "keras.layers",
                    "class_name": "InputLayer",
                    "registered_name": None,
                    "config": {
                        "batch_input_shape": [None, 3],
                        "dtype": "float32",
                        "sparse": False,
                        "ragged": False,
                        "name": "dense_input",
                    },
                },
                _dense_config("dense", 4, "relu", first=True),
                {
                    "module": "keras.layers",
                    "class_name": "BatchNormalization",
                    "registered_name": None,
                    "config": {
                        "name": "batch_normalization",
                        "trainable": True,
                        "dtype": "float32",
                        "axis": [1],
                        "momentum": 0.99,
                        "epsilon": 0.001,
                        "center": True,
                        "scale": True,
                        "beta_initializer": _init("Zeros"),
                        "gamma_initializer": _init("Ones"),
                        "moving_mean_initializer": _init("Zeros"),
                        "moving_variance_initializer": _init("Ones"),
                        "beta_regularizer": None,
                        "gamma_regularizer": None,
                        "beta_constraint": None,
                        "gamma_constraint": None,
                    },
                },
                _dense_config("dense_1", 2, "linear"),
            ],
        },
    }
    training_config = {
        "loss": "mse",
        "metrics": None,
        "weighted_metrics": None,
        "loss_weights": None,
        "optimizer_config": {
            "module": "keras.optimizers",
            "class_name": "Adam",
            "registered_name": None,
            "config": {
                "name": "Adam",
                "weight_decay": None,
                "clipnorm": None,
                "global_clipnorm": None,
                "clipvalue": None,
                "use_ema": False,
                "ema_momentum": 0.99,
                "ema_overwrite_frequency": None,
                "jit_compile": False,
                "is_legacy_optimizer": False,
                "learning_rate": 0.001,
                "beta_1": 0.9,
                "beta_2": 0.999,
                "epsilon": 1e-07,
                "amsgrad": False,
            },
        },
    }
    values = {
        "dense": [("dense/kernel:0", rng.standard_normal((3, 4))), ("dense/bias:0", rng.standard_normal(4))],
        "batch_normalization": [
            ("batch_normalization/gamma:0", rng.uniform(0.5, 1.5, 4)),
            ("batch_normalization/beta:0", rng.standard_normal(4)),
            ("batch_normalization/moving_mean:0", rng.standard_normal(4)),
            ("batch_normalization/moving_variance:0", rng.uniform(0.5, 1.5, 4)),
        ],
        "dense_1": [("dense_1/kernel:0", rng.standard_normal((4, 2))), ("dense_1/bias:0", rng.standard_normal(2))],
    }
    with h5py.File(path, "w") as f:
        f.attrs["keras_version"] = b"2.15.0"
        f.attrs["backend"] = b"tensorflow"
        f.attrs["model_config"] = json.dumps(model_config).encode()
        f.attrs["training_config"] = json.dumps(training_config).encode()
        group = f.create_group("model_weights")
        group.attrs["layer_names"] = [b"dense_input", b"dense", b"batch_normalization", b"dense_1"]
        group.attrs["backend"] = b"tensorflow"
        group.attrs["keras_version"] = b"2.15.0"
        group.create_group("dense_input").attrs["weight_names"] = np.array([], dtype="S1")
        for layer, weights in values.items():
            g = group.create_group(layer)
            g.attrs["weight_names"] = [n.encode() for n, _ in weights]
            for n, v in weights:
                g.create_dataset(n, data=np.asarray(v, "float32"))
        group.create_group("top_level_model_weights").attrs["weight_names"] = np.array([], dtype="S1")
    return {k: [np.asarray(v, "float32") for _, v in w] for k, w in values.items()}


def _reference(v, x):
    (k1, b1), (g, be, mu, var), (k2, b2) = v["dense"], v["batch_normalization"], v["dense_1"]
    h = np.maximum(x @ k1 + b1, 0)
    h = g * (h - mu) / np.sqrt(var + 1e-3) + be
    return h @ k2 + b2


def test_tf_keras_2_model_file_loads(tmp_path):
    values = _tf_keras_2_file(tmp_path / "old.h5", np.random.default_rng(3))
    model = lamina.models.load_model(tmp_path / "old.h5")
    assert [la.name for la in model.layers] == ["dense", "batch_normalization", "dense_1"]
    np.testing.assert_allclose(lamina_predict(model, X), _reference(values, X), atol=1e-5)
    assert model.compiled and model.optimizer.__class__.__name__ == "Adam"
    uncompiled = lamina.models.load_model(tmp_path / "old.h5", compile=False)
    assert not uncompiled.compiled


def test_tf_keras_2_weights_load_by_order_and_by_name(tmp_path):
    values = _tf_keras_2_file(tmp_path / "old.h5", np.random.default_rng(4))
    model = lamina.Sequential(
        [lamina.Input((3,)), layers.Dense(4, activation="relu"), layers.BatchNormalization(), layers.Dense(2)]
    )
    model.load_weights(tmp_path / "old.h5")
    np.testing.assert_allclose(lamina_predict(model, X), _reference(values, X), atol=1e-5)
    named = lamina.Sequential(
        [
            lamina.Input((3,)),
            layers.Dense(4, activation="relu", name="dense"),
            layers.BatchNormalization(name="batch_normalization"),
            layers.Dense(2, name="dense_1"),
            layers.Dense(2, name="not_in_file"),
        ]
    )
    before = named.get_layer("not_in_file").kernel.detach().clone()
    named.load_weights(tmp_path / "old.h5", by_name=True)
    np.testing.assert_allclose(named.get_layer("dense").kernel.detach().cpu().numpy(), values["dense"][0])
    assert np.array_equal(named.get_layer("not_in_file").kernel.detach().cpu().numpy(), before.cpu().numpy())


def test_keras3_legacy_h5_loads_with_optimizer_state(tmp_path):
    k = keras()
    kmodel = k.Sequential([k.Input((3,)), k.layers.Dense(4, activation="relu"), k.layers.Dense(2)])
    kmodel.compile(optimizer="adam", loss="mse", metrics=["mae"])
    kmodel.fit(X, np.ones((4, 2), "float32"), verbose=0, epochs=1)
    kmodel.save(tmp_path / "k.h5")
    model = lamina.models.load_model(tmp_path / "k.h5")
    np.testing.assert_allclose(lamina_predict(model, X), keras_predict(kmodel, X), atol=1e-5)
    for a, b in zip(model.optimizer.variables, kmodel.optimizer.variables, strict=True):
        np.testing.assert_allclose(a.numpy(), np.asarray(b.numpy()), atol=1e-7)
    fresh = lamina.Sequential([lamina.Input((3,)), layers.Dense(4, activation="relu"), layers.Dense(2)])
    fresh.load_weights(tmp_path / "k.h5")
    np.testing.assert_allclose(lamina_predict(fresh, X), keras_predict(kmodel, X), atol=1e-5)


def test_lamina_legacy_h5_loads_in_keras(tmp_path):
    k = keras()
    model = lamina.Sequential([lamina.Input((3,)), layers.Dense(4, activation="relu"), layers.Dense(2)])
    # a loss object: Keras 3.15 cannot compile its own legacy h5 files from a loss *string* ("mse")
    model.compile(optimizer="adam", loss=lamina.losses.MeanSquaredError())
    model.fit(X, np.ones((4, 2), "float32"), verbose=0, epochs=1)
    model.save(tmp_path / "l.h5")
    kmodel = k.models.load_model(tmp_path / "l.h5")
    np.testing.assert_allclose(keras_predict(kmodel, X), lamina_predict(model, X), atol=1e-5)
    # Keras 3 builds the slots of a legacy file's optimizer only at its first step: it holds the two scalars
    assert [v.path for v in kmodel.optimizer.variables] == ["adam/iteration", "adam/learning_rate"]
    for a, b in zip(kmodel.optimizer.variables, model.optimizer.variables[:2], strict=True):
        np.testing.assert_allclose(np.asarray(a.numpy()), b.numpy(), atol=1e-7)
    kfresh = k.Sequential([k.Input((3,)), k.layers.Dense(4, activation="relu"), k.layers.Dense(2)])
    kfresh.load_weights(tmp_path / "l.h5")
    np.testing.assert_allclose(keras_predict(kfresh, X), lamina_predict(model, X), atol=1e-5)
    again = lamina.models.load_model(tmp_path / "l.h5")
    np.testing.assert_array_equal(lamina_predict(again, X), lamina_predict(model, X))


def test_legacy_functional_config(tmp_path):
    """tf.keras 2 functional configs: class "Model"/"Functional" with list-style inbound nodes."""
    config = {
        "class_name": "Model",
        "config": {
            "name": "model",
            "layers": [
                {
                    "class_name": "InputLayer",
                    "name": "inp",
                    "inbound_nodes": [],
                    "config": {"batch_input_shape": [None, 3], "dtype": "float32", "sparse": False, "name": "inp"},
                },
                {
                    "class_name": "Dense",
                    "name": "d",
                    "inbound_nodes": [[["inp", 0, 0, {}]]],
                    "config": {
                        "name": "d",
                        "units": 2,
                        "activation": "linear",
                        "use_bias": True,
                        "dtype": "float32",
                        "trainable": True,
                    },
                },
            ],
            "input_layers": [["inp", 0, 0]],
            "output_layers": [["d", 0, 0]],
        },
    }
    kernel = np.arange(6, dtype="float32").reshape(3, 2)
    with h5py.File(tmp_path / "f.h5", "w") as f:
        f.attrs["model_config"] = json.dumps(config)
        f.attrs["keras_version"] = "2.4.0"
        group = f.create_group("model_weights")
        group.attrs["layer_names"] = [b"inp", b"d"]
        group.create_group("inp").attrs["weight_names"] = np.array([], dtype="S1")
        g = group.create_group("d")
        g.attrs["weight_names"] = [b"d/kernel:0", b"d/bias:0"]
        g.create_dataset("d/kernel:0", data=kernel)
        g.create_dataset("d/bias:0", data=np.ones(2, "float32"))
    with pytest.warns(UserWarning, match="No training configuration"):
        model = lamina.models.load_model(tmp_path / "f.h5")
    np.testing.assert_allclose(lamina_predict(model, X), X @ kernel + 1, atol=1e-5)


def test_chunked_attributes_round_trip(tmp_path):
    names = [f"layer_with_a_long_name_{i:05d}".encode() for i in range(3000)]  # > 64 KB: split in chunks
    with h5py.File(tmp_path / "a.h5", "w") as f:
        legacy_h5.save_attributes(f, "layer_names", names)
        assert "layer_names" not in f.attrs and "layer_names0" in f.attrs
        assert legacy_h5.load_attributes(f, "layer_names") == [n.decode() for n in names]


def test_legacy_weight_count_mismatch_is_reported(tmp_path):
    _tf_keras_2_file(tmp_path / "old.h5", np.random.default_rng(5))
    model = lamina.Sequential([lamina.Input((3,)), layers.Dense(4), layers.Dense(2)])
    with pytest.raises(ValueError, match="layer count mismatch"):
        model.load_weights(tmp_path / "old.h5")
    wrong = lamina.Sequential([lamina.Input((3,)), layers.Dense(5), layers.BatchNormalization(), layers.Dense(2)])
    with pytest.raises(ValueError, match=r"expects shape \(3, 5\), the file has shape \(3, 4\)") as info:
        wrong.load_weights(tmp_path / "old.h5")
    assert "dense_1" in str(info.value) or "dense" in str(info.value)
