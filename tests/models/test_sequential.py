"""The Keras "Sequential model" guide's snippets, run on Lamina and compared with the real Keras."""

import warnings

import keras  # the real peer: a test extra, never skipped
import numpy as np
import pytest
import torch

import lamina


def _fresh() -> None:
    keras.backend.clear_session(free_memory=False)
    lamina.backend.clear_session(free_memory=False)


def _both(fn):
    """``fn(lib)`` for Keras then Lamina, each after clearing both sessions."""
    results = []
    for lib in (keras, lamina):
        _fresh()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            results.append(fn(lib))
    return results


def _guide_model(lib):
    layers = lib.layers
    return lib.Sequential(
        [
            layers.Dense(2, activation="relu", name="layer1"),
            layers.Dense(3, activation="relu", name="layer2"),
            layers.Dense(4, name="layer3"),
        ]
    )


def _weights(model):
    return [(v.path, tuple(v.shape)) for v in model.weights]


def test_list_constructor_and_call():
    def run(lib):
        model = _guide_model(lib)
        y = model(np.ones((3, 3), "float32"))
        return tuple(y.shape), [layer.name for layer in model.layers], _weights(model), model.count_params()

    expected, got = _both(run)
    assert got == expected
    assert got[0] == (3, 4) and got[3] == 33


def test_sequential_equals_chained_calls():
    _fresh()
    model = _guide_model(lamina)
    x = torch.ones(3, 3)
    y = model(x)
    layer1, layer2, layer3 = model.layers
    torch.testing.assert_close(layer3(layer2(layer1(x))), y)


def test_add_pop_layers_and_weights_after_first_call():
    def run(lib):
        model = _guide_model(lib)
        model(np.ones((3, 3), "float32"))
        popped = model.pop().name
        after_pop = [layer.name for layer in model.layers]
        layer = lib.layers.Dense(4)
        fresh_weights = list(layer.weights)
        model.add(layer)
        model(np.ones((3, 3), "float32"))
        return popped, after_pop, fresh_weights, [la.name for la in model.layers], _weights(model)

    expected, got = _both(run)
    assert got == expected
    assert got[0] == "layer3" and got[2] == [] and got[3][-1] == "dense"


def test_incremental_add_builds_lazily():
    def run(lib):
        model = lib.Sequential()
        model.add(lib.layers.Dense(2, activation="relu"))
        model.add(lib.layers.Dense(3, activation="relu"))
        model.add(lib.layers.Dense(4))
        before = (model.built, list(model.weights))
        model(np.ones((1, 5), "float32"))
        return before, model.built, _weights(model)

    expected, got = _both(run)
    assert got == expected
    assert got[0] == (False, [])


def test_pop_on_empty_model_raises():
    with pytest.raises(TypeError, match="has no layers to pop"):
        lamina.Sequential().pop()


def test_get_layer_by_name_and_index_and_errors():
    def run(lib):
        model = _guide_model(lib)
        out = [model.get_layer(name="layer2").name, model.get_layer(index=0).name, model.get_layer(index=-1).name]
        for kwargs in ({"name": "nope"}, {"index": 5}, {}, {"name": "layer1", "index": 0}):
            try:
                model.get_layer(**kwargs)
            except ValueError as e:
                out.append(str(e))
        return out

    expected, got = _both(run)
    assert got == expected
    assert "No such layer: nope" in got[3]


def test_duplicate_names_rejected():
    def run(lib):
        model = lib.Sequential([lib.layers.Dense(2, name="layer1")])
        with pytest.raises(ValueError) as info:
            model.add(lib.layers.Dense(3, name="layer1"))
        with pytest.raises(ValueError, match="Name 'same' is already the name of a layer"):
            lib.Sequential([lib.layers.Dense(2, name="same"), lib.layers.Dense(2, name="same")])
        return str(info.value)

    expected, got = _both(run)
    assert got == expected
    assert "'layer1'" in got


def test_only_layers_can_be_added():
    with pytest.raises(ValueError, match="Only instances of"):
        lamina.Sequential().add("not a layer")


def test_build_with_shape():
    def run(lib):
        model = _guide_model(lib)
        model.build((None, 4))
        return model.built, _weights(model), model.input_shape, model.output_shape

    expected, got = _both(run)
    assert got == expected
    assert got[1][0] == ("sequential/layer1/kernel", (4, 2))


def test_input_first_layer_gives_shapes_at_once():
    def run(lib):
        model = lib.Sequential()
        model.add(lib.Input(shape=(4,)))
        model.add(lib.layers.Dense(2, activation="relu"))
        return (
            model.built,
            model.input_shape,
            model.output_shape,
            [t.shape for t in model.inputs],
            [t.shape for t in model.outputs],
            [layer.name for layer in model.layers],
            _weights(model),
        )

    expected, got = _both(run)
    assert got == expected
    assert got[1:3] == ((None, 4), (None, 2))


def test_input_shape_argument_on_first_layer():
    def run(lib):
        model = lib.Sequential()
        model.add(lib.layers.Dense(2, activation="relu", input_shape=(4,)))
        return model.built, model.input_shape, model.output_shape, len(model.weights)

    expected, got = _both(run)
    assert got == expected
    assert got == (True, (None, 4), (None, 2), 2)


def test_guide_convnet_output_shapes():

    def run(lib):
        layers = lib.layers
        model = lib.Sequential()
        model.add(lib.Input(shape=(250, 250, 3)))
        model.add(layers.Conv2D(32, 5, strides=2, activation="relu"))
        model.add(layers.Conv2D(32, 3, activation="relu"))
        model.add(layers.MaxPooling2D(3))
        shapes = [model.output_shape]
        for _ in range(2):
            model.add(layers.Conv2D(32, 3, activation="relu"))
        model.add(layers.MaxPooling2D(3))
        for _ in range(2):
            model.add(layers.Conv2D(32, 3, activation="relu"))
        model.add(layers.MaxPooling2D(2))
        shapes.append(model.output_shape)
        model.add(layers.GlobalMaxPooling2D())
        model.add(layers.Dense(10))
        shapes.append(model.output_shape)
        return shapes, [layer.name for layer in model.layers], model.count_params()

    expected, got = _both(run)
    assert got == expected
    assert got[0] == [(None, 40, 40, 32), (None, 4, 4, 32), (None, 10)] and got[2] == 49002


def test_nested_sequential_weights_and_call():
    def run(lib):
        inner = lib.Sequential([lib.layers.Dense(3, name="a"), lib.layers.Dense(2, name="b")], name="inner")
        outer = lib.Sequential([lib.Input((4,)), lib.layers.Dense(5, name="first"), inner], name="outer")
        y = outer(np.ones((2, 4), "float32"))
        return tuple(y.shape), _weights(outer), outer.output_shape, [la.name for la in outer.layers]

    expected, got = _both(run)
    assert got == expected


def test_trainable_freezing_is_recursive():
    def run(lib):
        inner = lib.Sequential([lib.layers.Dense(3, name="a"), lib.layers.Dense(2, name="b")], name="inner")
        outer = lib.Sequential([lib.Input((4,)), lib.layers.Dense(5, name="first"), inner], name="outer")
        inner.trainable = False
        frozen = (
            [layer.trainable for layer in inner.layers],
            len(outer.trainable_weights),
            len(outer.non_trainable_weights),
        )
        outer.trainable = True
        # transfer-learning recipe from the guide: freeze all layers except the last one
        for layer in outer.layers[:-1]:
            layer.trainable = False
        return frozen, [layer.trainable for layer in outer.layers], len(outer.trainable_weights)

    expected, got = _both(run)
    assert got == expected
    assert got[0] == ([False, False], 2, 4)


def test_frozen_layer_gets_no_gradient():
    _fresh()
    model = _guide_model(lamina)
    model(np.ones((3, 3), "float32"))
    model.layers[0].trainable = False
    model(torch.ones(3, 3)).sum().backward()
    assert all(p.grad is None for p in model.layers[0].parameters())
    assert all(p.grad is not None for p in model.layers[2].parameters())


def test_feature_extraction_with_functional_model():

    def run(lib):
        layers = lib.layers
        initial_model = lib.Sequential(
            [
                lib.Input(shape=(250, 250, 3)),
                layers.Conv2D(32, 5, strides=2, activation="relu"),
                layers.Conv2D(32, 3, activation="relu", name="my_intermediate_layer"),
                layers.Conv2D(32, 3, activation="relu"),
            ]
        )
        all_features = lib.Model(inputs=initial_model.inputs, outputs=[layer.output for layer in initial_model.layers])
        one_feature = lib.Model(
            inputs=initial_model.inputs, outputs=initial_model.get_layer(name="my_intermediate_layer").output
        )
        x = np.ones((1, 250, 250, 3), "float32")
        return [tuple(f.shape) for f in all_features(x)], tuple(one_feature(x).shape)

    expected, got = _both(run)
    assert got == expected
    assert got[1] == (1, 121, 121, 32)


def test_config_round_trip_with_keras():
    _fresh()
    model = lamina.Sequential([lamina.Input((4,)), lamina.layers.Dense(2, name="layer1")], name="seq")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clone = keras.Sequential.from_config(model.get_config())
    assert [layer.name for layer in clone.layers] == ["layer1"]
    assert clone.output_shape == model.output_shape


def _summary_blocks(text):
    blocks, current = [], None
    for line in text.splitlines():
        if line.startswith('Model: "'):
            current = [line]
        elif current is not None:
            current.append(line)
            if line.startswith(" Non-trainable params:"):
                blocks.append("\n".join(current))
                current = None
    return blocks


def test_guide_example_script_prints_what_keras_prints(capsys):
    """examples/sequential_model.py run as is, and with its imports pointed at Keras: same summaries."""
    import pathlib

    source = (pathlib.Path(__file__).parents[2] / "examples" / "sequential_model.py").read_text()
    keras_source = (
        source.replace("import lamina as keras", "import keras")
        .replace("from lamina import layers, ops", "from keras import layers, ops")
        .replace("from lamina.models.functional import", "from keras.src.models.functional import")
    )
    assert keras_source != source
    outputs = []
    for code in (keras_source, source):
        _fresh()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            exec(compile(code, "sequential_model.py", "exec"), {"__name__": "__main__"})
        outputs.append(capsys.readouterr().out)
    expected, got = (_summary_blocks(out) for out in outputs)
    assert len(got) == 9
    assert got == expected
    shapes = [line for line in outputs[1].splitlines() if line.startswith(("[(1, 123", "(1, 121", "Number of"))]
    assert shapes == [line for line in outputs[0].splitlines() if line.startswith(("[(1, 123", "(1, 121", "Number of"))]
    assert len(shapes) == 3
