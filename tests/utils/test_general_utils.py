"""The small keras.utils helpers, against Keras: get_source_inputs, is_keras_tensor, pack/unpack_x_y_sample_weight,
standardize_dtype, Config and custom_object_scope."""

import json

import keras
import numpy as np
import pytest
import torch

import lamina


def _functional(k):
    a = k.Input((3,), name="a")
    b = k.Input((2,), name="b")
    h = k.layers.Dense(4, name="h")(a)
    out = k.layers.Concatenate(name="cat")([h, b])
    return a, b, h, out


@pytest.mark.parametrize("k", [lamina, keras], ids=["lamina", "keras"])
def test_get_source_inputs_finds_the_graph_inputs(k):
    a, b, h, out = _functional(k)
    sources = k.utils.get_source_inputs(out)
    assert len(sources) == 2 and sources[0] is a and sources[1] is b
    assert [t for t in k.utils.get_source_inputs(h)] == [a]
    assert k.utils.get_source_inputs(a) == [a]  # an input is its own source


def test_get_source_inputs_gives_back_a_plain_value_like_keras():
    x = np.ones(3)
    assert lamina.utils.get_source_inputs(x) is x
    assert keras.utils.get_source_inputs(x) is x


def test_is_keras_tensor_matches_keras():
    cases = [
        (lamina.Input((3,)), keras.Input((3,))),
        (np.ones(3), np.ones(3)),
        (torch.ones(3), torch.ones(3)),
        (lamina.Variable(np.ones(2)), keras.Variable(np.ones(2))),
        ([lamina.Input((3,))], [keras.Input((3,))]),
    ]
    got = [lamina.utils.is_keras_tensor(x) for x, _ in cases]
    assert got == [keras.utils.is_keras_tensor(y) for _, y in cases]
    assert got == [True, False, False, False, False]


def _structure(packed):
    """A packed value as a comparable tuple of shapes (None stays None), kept in its container type."""
    if packed is None:
        return None
    if isinstance(packed, (tuple, list)):
        return (type(packed).__name__, tuple(_structure(p) for p in packed))
    return np.shape(packed)


@pytest.mark.parametrize(
    "args",
    [
        (np.ones((4, 2)),),
        (np.ones((4, 2)), np.zeros(4)),
        (np.ones((4, 2)), np.zeros(4), np.full(4, 0.5)),
        (np.ones((4, 2)), None, np.full(4, 0.5)),
        ((np.ones((4, 2)), np.ones((4, 3))),),
        ((np.ones((4, 2)), np.ones((4, 3))), np.zeros(4)),
    ],
)
def test_pack_x_y_sample_weight_matches_keras(args):
    ours, theirs = lamina.utils.pack_x_y_sample_weight(*args), keras.utils.pack_x_y_sample_weight(*args)
    assert type(ours) is type(theirs)
    assert _structure(ours) == _structure(theirs)
    x, y, sw = lamina.utils.unpack_x_y_sample_weight(ours)
    kx, ky, ksw = keras.utils.unpack_x_y_sample_weight(theirs)
    assert (_structure(x), _structure(y), _structure(sw)) == (_structure(kx), _structure(ky), _structure(ksw))
    assert x is args[0]  # the round trip gives back the same objects


@pytest.mark.parametrize(
    "data",
    [np.ones(3), (np.ones(3),), (np.ones(3), np.ones(2)), [np.ones(3), np.ones(2), np.ones(1)], {"a": np.ones(3)}],
)
def test_unpack_x_y_sample_weight_matches_keras(data):
    ours = lamina.utils.unpack_x_y_sample_weight(data)
    theirs = keras.utils.unpack_x_y_sample_weight(data)
    assert len(ours) == len(theirs) == 3
    for a, b in zip(ours, theirs, strict=True):
        assert a is b


def test_unpack_refuses_four_items_like_keras():
    data = (np.ones(3),) * 4
    with pytest.raises(ValueError, match="Data is expected to be in format"):
        keras.utils.unpack_x_y_sample_weight(data)
    with pytest.raises(ValueError, match="Data is expected to be in format `x`, `\\(x,\\)`, `\\(x, y\\)`"):
        lamina.utils.unpack_x_y_sample_weight(data)


@pytest.mark.parametrize(
    "dtype",
    [
        None,
        "float32",
        "int",
        "bfloat16",
        np.float64,
        np.dtype("int16"),
        torch.float16,
        torch.int64,
        torch.bool,
        "uint8",
        "complex64",
        int,
        float,
        bool,
    ],
)
def test_standardize_dtype_matches_keras(dtype):
    assert lamina.utils.standardize_dtype(dtype) == keras.utils.standardize_dtype(dtype)


def test_standardize_dtype_refuses_unknown_names():
    with pytest.raises(ValueError, match="Invalid dtype: float33"):
        keras.utils.standardize_dtype("float33")
    with pytest.raises(ValueError, match="Invalid dtype: 'float33'. Expected one of float16, float32"):
        lamina.utils.standardize_dtype("float33")


def test_standardize_dtype_also_takes_torch_names():
    # beyond Keras (which refuses them): torch's own spellings, so `dtype="double"` from PyTorch code works
    with pytest.raises(ValueError, match="Invalid dtype: double"):
        keras.utils.standardize_dtype("double")
    names = ["double", "half", "long", "float"]
    assert [lamina.utils.standardize_dtype(n) for n in names] == ["float64", "float16", "int64", "float32"]


def test_config_behaves_like_keras():
    ours, theirs = lamina.utils.Config(lr=0.1, seed=3), keras.utils.Config(lr=0.1, seed=3)
    for c in (ours, theirs):
        c.units = 8
        c["name"] = "run"
        c.update(lr=0.2)
    assert ours.as_dict() == theirs.as_dict() == {"lr": 0.2, "seed": 3, "units": 8, "name": "run"}
    assert json.loads(ours.to_json()) == json.loads(theirs.to_json())
    assert sorted(ours) == sorted(theirs) and len(ours) == len(theirs) == 4
    assert ("seed" in ours) is ("seed" in theirs) is True
    assert ours.pop("name") == theirs.pop("name") == "run"
    ours.freeze()
    theirs.freeze()
    assert ours.frozen and theirs.frozen
    for c in (ours, theirs):
        with pytest.raises(ValueError, match="frozen"):
            c.lr = 1.0
        with pytest.raises(ValueError, match="frozen"):
            c["lr"] = 1.0
        with pytest.raises(ValueError, match="frozen"):
            c.update(lr=1.0)
    ours.unfreeze()
    ours.lr = 1.0
    assert ours.lr == 1.0 and ours["lr"] == 1.0


def test_config_missing_attribute_is_an_attribute_error():
    config = lamina.utils.Config(learning_rate=0.1)
    # an AttributeError here is Python's protocol (getattr(c, "x", default) must work), as in Keras
    with pytest.raises(AttributeError, match="learning_rat"):
        config.learning_rat  # noqa: B018
    assert getattr(config, "missing", 7) == 7
    with pytest.raises(KeyError, match="missing"):
        config["missing"]


class _Scaled(lamina.layers.Layer):
    def __init__(self, factor=2.0, **kwargs):
        super().__init__(**kwargs)
        self.factor = factor

    def call(self, x):
        return x * self.factor

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}


def test_custom_object_scope_resolves_a_class_by_name():
    config = lamina.utils.serialize_keras_object(_Scaled(3.0, name="s"))
    with pytest.raises(TypeError, match="_Scaled"):
        lamina.utils.deserialize_keras_object(config)
    with lamina.utils.custom_object_scope({"_Scaled": _Scaled}):
        assert lamina.utils.get_registered_object("_Scaled") is _Scaled
        layer = lamina.utils.deserialize_keras_object(config)
        assert lamina.layers.deserialize(config).factor == 3.0
    assert isinstance(layer, _Scaled) and layer.factor == 3.0 and layer.name == "s"
    assert lamina.utils.get_registered_object("_Scaled") is None  # the scope is gone
    with lamina.utils.CustomObjectScope({"_Scaled": _Scaled}), lamina.utils.custom_object_scope({"other": len}):
        found = [lamina.utils.get_registered_object(n) for n in ("_Scaled", "other")]
        assert "_Scaled" not in lamina.utils.get_custom_objects()  # Keras's global dict, not the scopes
    assert found == [_Scaled, len]
    assert [lamina.utils.get_registered_object(n) for n in ("_Scaled", "other")] == [None, None]
    with keras.utils.custom_object_scope({"_Scaled": _Scaled}):
        assert keras.utils.get_registered_object("_Scaled") is _Scaled
    assert keras.utils.get_registered_object("_Scaled") is None


def test_custom_object_scope_loads_a_model_file(tmp_path):
    model = lamina.Sequential([lamina.Input((2,)), _Scaled(4.0, name="scaled")])
    path = str(tmp_path / "m.keras")
    model.save(path)
    with lamina.utils.custom_object_scope({"_Scaled": _Scaled}):
        loaded = lamina.saving.load_model(path)
    x = np.ones((1, 2), "float32")
    np.testing.assert_array_equal(np.asarray(loaded(x)), np.full((1, 2), 4.0, "float32"))
