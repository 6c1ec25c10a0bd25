import shutil

import numpy as np
import pytest

import lamina
from lamina import layers


def _history():
    model = lamina.Sequential([lamina.Input((4,)), layers.Dense(3)])
    model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
    x = np.random.default_rng(0).random((16, 4), dtype=np.float32)
    return model.fit(x, np.zeros((16, 3), "float32"), epochs=3, validation_split=0.25, verbose=0)


def test_history_plot_writes_png(tmp_path):
    pytest.importorskip("matplotlib")
    path = _history().plot(str(tmp_path / "h.png"))
    with open(path, "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(ValueError, match="accuracy"):
        lamina.utils.plot_history(_history(), str(tmp_path / "x.png"), metrics=["accuracy"])


def test_plot_model_dot_and_graphviz(tmp_path):
    a = lamina.Input((4,), name="a")
    b = lamina.Input((4,), name="b")
    out = layers.Dense(1, name="head")(layers.Add(name="sum")([a, b]))
    model = lamina.Model([a, b], out)
    dot_path = lamina.utils.plot_model(model, str(tmp_path / "m.dot"), show_shapes=True, show_layer_names=True)
    text = open(dot_path).read()
    assert "<b>sum</b> (Add)" in text and "<b>head</b> (Dense)" in text and text.count("->") == 3
    assert "Output shape: <b>(None, 1)</b>" in text
    # Keras's default: class names only
    text = open(lamina.utils.plot_model(model, str(tmp_path / "n.dot"))).read()
    assert "<b>Add</b>" in text and "<b>sum</b>" not in text
    if shutil.which("dot") is None:
        with pytest.raises(ImportError, match="Graphviz"):
            lamina.utils.plot_model(model, str(tmp_path / "m.png"))
    else:
        png = lamina.utils.plot_model(model, str(tmp_path / "m.png"))
        assert open(png, "rb").read(4) == b"\x89PNG"


def _nested_model():
    inner = lamina.Sequential([lamina.Input((4,)), layers.Dense(3, activation="relu", name="hidden")], name="inner")
    inner.layers[0].trainable = False
    x = lamina.Input((4,), name="x")
    out = layers.Dense(1, activation="sigmoid", name="head", dtype="float64")(inner(x))
    return lamina.Model(x, out, name="outer")


def test_model_to_dot_parameters():
    model = _nested_model()
    dot = lamina.utils.model_to_dot(model)
    assert dot.to_string() == str(dot) and dot.startswith("digraph G {")
    # Keras's defaults: layer names on, top to bottom, 200 dpi, orthogonal edges, nested models as one node
    assert 'rankdir="TB"' in dot and "dpi=200" in dot and 'splines="ortho"' in dot
    assert "<b>inner</b> (Sequential)" in dot and "hidden" not in dot and "relu" not in dot
    dot = lamina.utils.model_to_dot(model, rankdir="LR", dpi=96, splines="curved", show_layer_names=False)
    assert 'rankdir="LR"' in dot and "dpi=96" in dot and 'splines="curved"' in dot and "<b>inner</b>" not in dot
    nested = lamina.utils.model_to_dot(model, expand_nested=True, show_layer_activations=True)
    assert "<b>hidden</b> (Dense)" in nested and "relu" in nested and "sigmoid" in nested and "cluster" in nested
    typed = lamina.utils.model_to_dot(model, show_dtype=True, show_shapes=True, show_trainable=True)
    assert "float64" in typed and "Output shape: <b>(None, 1)</b>" in typed and "Trainable" in typed
    sub = lamina.utils.model_to_dot(model, subgraph=True)
    assert sub.startswith('subgraph "cluster_outer" {') and "digraph" not in sub


def test_model_to_dot_text_parses_with_pydot():
    pydot = pytest.importorskip("pydot")  # optional: Lamina writes DOT text itself
    dot = lamina.utils.model_to_dot(_nested_model(), expand_nested=True, show_shapes=True)
    (graph,) = pydot.graph_from_dot_data(str(dot))
    assert graph.get_name() == "G" and len(graph.get_edges()) >= 2


def test_model_to_dot_and_plot_model_argument_errors(tmp_path):
    model = _nested_model()
    for fn, args in ((lamina.utils.model_to_dot, ()), (lamina.utils.plot_model, (str(tmp_path / "m.dot"),))):
        with pytest.raises(ValueError, match="`layer_range` is no longer supported"):
            fn(model, *args, layer_range=["x", "head"])
        with pytest.raises(ValueError, match="Unrecognized keyword arguments: \\{'show_colors': True\\}"):
            fn(model, *args, show_colors=True)
        with pytest.raises(ValueError, match="has not yet been built"):
            fn(lamina.Sequential([layers.Dense(2)]), *args)
    with pytest.raises(ValueError, match="`rankdir` must be one of .*Received: rankdir='XY'"):
        lamina.utils.model_to_dot(model, rankdir="XY")
    with pytest.raises(ValueError, match="Received: rankdir='XY'"):
        lamina.utils.plot_model(model, str(tmp_path / "m.dot"), rankdir="XY")
    assert not (tmp_path / "m.dot").exists()  # nothing written on a refused call


def test_plot_model_signature_defaults_match_keras():
    import inspect

    import keras

    for name in ("plot_model", "model_to_dot"):
        ours = inspect.signature(getattr(lamina.utils, name)).parameters
        theirs = inspect.signature(getattr(keras.utils, name)).parameters
        assert list(ours) == list(theirs)
        assert [p.default for p in ours.values()] == [p.default for p in theirs.values()]
    assert inspect.signature(lamina.utils.plot_model).parameters["show_layer_names"].default is False
