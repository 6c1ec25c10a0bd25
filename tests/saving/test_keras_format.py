"""The ``.keras`` zip: members, config schema, round trips, custom objects, Lambda safe mode, cloning, JSON."""

from __future__ import annotations

import io
import json
import re
import zipfile

import numpy as np
import pytest

import lamina
from lamina import layers
from tests.saving.kx import keras, lamina_predict


def _model():
    return lamina.Sequential([lamina.Input((3,)), layers.Dense(4, activation="relu"), layers.Dense(2)])


X = np.random.default_rng(0).standard_normal((4, 3)).astype("float32")


def test_zip_members_metadata_and_config_schema(tmp_path):
    model = _model()
    model.compile(optimizer="adam", loss="mse", metrics=["mae"])
    model.save(tmp_path / "m.keras")
    with zipfile.ZipFile(tmp_path / "m.keras") as zf:
        infos = zf.infolist()
        assert [i.filename for i in infos] == ["metadata.json", "config.json", "model.weights.h5"]
        assert all(i.compress_type == zipfile.ZIP_STORED for i in infos)  # as Keras writes them
        metadata = json.loads(zf.read("metadata.json"))
        config = json.loads(zf.read("config.json"))
    assert set(metadata) == {"keras_version", "date_saved"}
    assert metadata["keras_version"] == "3.15.1"
    assert re.fullmatch(r"\d{4}-\d\d-\d\d@\d\d:\d\d:\d\d", metadata["date_saved"])
    assert {"module", "class_name", "config", "registered_name", "build_config", "compile_config"} <= set(config)
    assert (config["module"], config["class_name"]) == ("keras", "Sequential")
    assert config["build_config"] == {"input_shape": [None, 3]}
    assert config["compile_config"]["loss"] == "mse" and config["compile_config"]["metrics"] == ["mae"]
    layer_configs = config["config"]["layers"]
    assert [c["class_name"] for c in layer_configs] == ["InputLayer", "Dense", "Dense"]
    assert layer_configs[1]["module"] == "keras.layers"
    assert layer_configs[1]["build_config"] == {"input_shape": [None, 3]}


def test_round_trip_restores_architecture_weights_and_compile(tmp_path):
    model = _model()
    model.compile(optimizer="adam", loss="mse")
    model.save(tmp_path / "m.keras")
    loaded = lamina.models.load_model(tmp_path / "m.keras")
    assert type(loaded) is lamina.Sequential
    assert [la.name for la in loaded.layers] == [la.name for la in model.layers]
    assert loaded.get_config() == model.get_config()
    np.testing.assert_array_equal(lamina_predict(loaded, X), lamina_predict(model, X))
    assert loaded.compiled and loaded.optimizer.__class__.__name__ == "Adam"
    uncompiled = lamina.models.load_model(tmp_path / "m.keras", compile=False)
    assert not uncompiled.compiled
    same = lamina.saving.load_model(tmp_path / "m.keras")  # the lamina.saving alias
    np.testing.assert_array_equal(lamina_predict(same, X), lamina_predict(model, X))


def test_save_model_aliases_file_objects_and_folders(tmp_path):
    model = _model()
    lamina.saving.save_model(model, tmp_path / "a.keras")
    lamina.models.save_model(model, str(tmp_path / "b.keras"))
    buf = io.BytesIO()
    model.save(buf)
    buf.seek(0)
    from_buf = lamina.models.load_model(buf)
    np.testing.assert_array_equal(lamina_predict(from_buf, X), lamina_predict(model, X))
    model.save(tmp_path / "folder", zipped=False)
    from_dir = lamina.models.load_model(tmp_path / "folder")
    np.testing.assert_array_equal(lamina_predict(from_dir, X), lamina_predict(model, X))
    with pytest.raises(ValueError, match="Invalid filepath extension"):
        model.save(tmp_path / "m.pt")
    with pytest.raises(ValueError, match="should not end in `.keras`"):
        model.save(tmp_path / "c.keras", zipped=False)


def test_overwrite_false_keeps_the_existing_file(tmp_path):
    model = _model()
    model.save(tmp_path / "m.keras")
    before = (tmp_path / "m.keras").read_bytes()
    other = _model()
    with pytest.warns(UserWarning, match="Not overwriting"):
        other.save(tmp_path / "m.keras", overwrite=False)
    assert (tmp_path / "m.keras").read_bytes() == before


def test_get_config_from_config_json_and_clone():
    model = _model()
    config = model.get_config()
    rebuilt = lamina.Sequential.from_config(config)
    assert rebuilt.get_config() == config
    text = model.to_json()
    assert json.loads(text)["class_name"] == "Sequential"
    from_json = lamina.models.model_from_json(text)
    assert from_json.get_config() == config
    clone = lamina.models.clone_model(model)
    assert clone.get_config()["layers"][1:] == config["layers"][1:]
    assert all(a is not b for a, b in zip(clone.weights, model.weights, strict=True))
    assert not np.allclose(lamina_predict(clone, X), lamina_predict(model, X))
    clone.set_weights(model.get_weights())
    np.testing.assert_array_equal(lamina_predict(clone, X), lamina_predict(model, X))


def test_clone_with_clone_function_and_compile_state():
    model = _model()
    model.compile(optimizer="sgd", loss="mse")

    def widen(layer):
        config = layer.get_config()
        if config.get("units") == 4:
            config["units"] = 6
        return layer.__class__.from_config(config)

    clone = lamina.models.clone_model(model, clone_function=widen)
    assert clone.layers[0].units == 6 and clone.output_shape == (None, 2)
    assert clone.compiled


def test_clone_functional_model():
    a = lamina.Input((3,))
    h = layers.Dense(4)(a)
    out = layers.Add()([layers.Dense(4)(h), h])
    model = lamina.Model(a, out)
    calls = []

    def call_function(layer, *args, **kwargs):
        calls.append(layer.name)
        return layer(*args, **kwargs)

    clone = lamina.models.clone_model(model, call_function=call_function)
    assert len(calls) == 3
    assert clone.output_shape == model.output_shape
    assert all(a is not b for a, b in zip(clone.layers, model.layers, strict=True))
    clone.set_weights(model.get_weights())
    np.testing.assert_allclose(lamina_predict(clone, X), lamina_predict(model, X), atol=1e-6)


@lamina.saving.register_keras_serializable(package="MyLayers")
class Scale(layers.Layer):
    def __init__(self, factor=2.0, **kwargs):
        super().__init__(**kwargs)
        self.factor = factor

    def build(self, input_shape):
        self.w = self.add_weight(shape=(input_shape[-1],), initializer="ones", name="w")

    def call(self, x):
        return x * self.w * self.factor

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}


class Unregistered(Scale):
    pass


def test_registered_custom_layer_round_trips(tmp_path):
    assert lamina.saving.get_registered_name(Scale) == "MyLayers>Scale"
    model = lamina.Sequential([lamina.Input((3,)), Scale(3.0), layers.Dense(2)])
    model.layers[0].w.data.uniform_(0.5, 1.5)
    model.save(tmp_path / "m.keras")
    config = json.loads(zipfile.ZipFile(tmp_path / "m.keras").read("config.json"))
    assert config["config"]["layers"][1]["registered_name"] == "MyLayers>Scale"
    loaded = lamina.models.load_model(tmp_path / "m.keras")
    assert type(loaded.layers[0]) is Scale and loaded.layers[0].factor == 3.0
    np.testing.assert_array_equal(lamina_predict(loaded, X), lamina_predict(model, X))


def test_custom_objects_argument_and_scope(tmp_path):
    model = lamina.Sequential([lamina.Input((3,)), Unregistered(2.0)])
    model.save(tmp_path / "m.keras")
    with pytest.raises(TypeError, match="Unregistered.*custom_objects"):
        lamina.models.load_model(tmp_path / "m.keras")
    loaded = lamina.models.load_model(tmp_path / "m.keras", custom_objects={"Unregistered": Unregistered})
    assert type(loaded.layers[0]) is Unregistered
    with lamina.saving.CustomObjectScope({"Unregistered": Unregistered}):
        scoped = lamina.models.load_model(tmp_path / "m.keras")
    np.testing.assert_array_equal(lamina_predict(scoped, X), lamina_predict(model, X))


def test_custom_layer_file_loads_in_keras_with_the_same_custom_class(tmp_path):
    k = keras()

    @k.saving.register_keras_serializable(package="MyLayers")
    class Scale(k.layers.Layer):  # noqa: F811 - Keras's twin of the Lamina class above
        def __init__(self, factor=2.0, **kwargs):
            super().__init__(**kwargs)
            self.factor = factor

        def build(self, input_shape):
            self.w = self.add_weight(shape=(input_shape[-1],), initializer="ones", name="w")

        def call(self, x):
            return x * self.w * self.factor

        def get_config(self):
            return {**super().get_config(), "factor": self.factor}

    model = lamina.Sequential([lamina.Input((3,)), globals()["Scale"](3.0)])
    model.layers[0].w.data.uniform_(0.5, 1.5)
    model.save(tmp_path / "m.keras")
    kmodel = k.models.load_model(tmp_path / "m.keras")
    np.testing.assert_allclose(kmodel.predict(X, verbose=0), lamina_predict(model, X), atol=1e-6)


def test_lambda_needs_safe_mode_off(tmp_path):
    model = lamina.Sequential([lamina.Input((3,)), layers.Lambda(lambda x: x * 2 + 1)])
    model.save(tmp_path / "m.keras")
    with pytest.raises(ValueError, match="safe_mode=False"):
        lamina.models.load_model(tmp_path / "m.keras")
    loaded = lamina.models.load_model(tmp_path / "m.keras", safe_mode=False)
    np.testing.assert_allclose(lamina_predict(loaded, X), X * 2 + 1)


@lamina.saving.register_keras_serializable(package="MyModels")
class TwoDense(lamina.Model):
    def __init__(self, units=4, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.hidden = layers.Dense(units, activation="relu")
        self.blocks = [layers.Dense(units), layers.Dense(units)]
        self.head = layers.Dense(2)

    def call(self, x):
        x = self.hidden(x)
        for block in self.blocks:
            x = block(x)
        return self.head(x)

    def get_config(self):
        return {**super().get_config(), "units": self.units}


def test_subclassed_model_is_rebuilt_from_its_build_config(tmp_path):
    model = TwoDense(5)
    model(X)
    model.compile(optimizer="adam", loss="mse")
    model.fit(X, np.ones((4, 2), "float32"), verbose=0)
    model.save(tmp_path / "m.keras")
    loaded = lamina.models.load_model(tmp_path / "m.keras")
    assert type(loaded) is TwoDense and loaded.units == 5
    np.testing.assert_array_equal(lamina_predict(loaded, X), lamina_predict(model, X))
    for a, b in zip(loaded.optimizer.variables, model.optimizer.variables, strict=True):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_subclassed_model_both_ways_with_twin_classes(tmp_path):
    k = keras()

    @k.saving.register_keras_serializable(package="MyModels")
    class TwoDense(k.Model):  # noqa: F811 - Keras's twin of the Lamina class above
        def __init__(self, units=4, **kwargs):
            super().__init__(**kwargs)
            self.units = units
            self.hidden = k.layers.Dense(units, activation="relu")
            self.blocks = [k.layers.Dense(units), k.layers.Dense(units)]
            self.head = k.layers.Dense(2)

        def call(self, x):
            x = self.hidden(x)
            for block in self.blocks:
                x = block(x)
            return self.head(x)

        def get_config(self):
            return {**super().get_config(), "units": self.units}

    kmodel = TwoDense(3)
    kmodel(X)
    kmodel.save(tmp_path / "k.keras")
    ours = lamina.models.load_model(tmp_path / "k.keras")
    np.testing.assert_allclose(lamina_predict(ours, X), kmodel.predict(X, verbose=0), atol=1e-5)
    ours.save(tmp_path / "l.keras")
    again = k.models.load_model(tmp_path / "l.keras")
    np.testing.assert_allclose(again.predict(X, verbose=0), lamina_predict(ours, X), atol=1e-5)
