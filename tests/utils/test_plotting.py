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
