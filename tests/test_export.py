"""``model.export``: ONNX (run in onnxruntime), torch.export and TorchScript give the model's outputs."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import lamina
from lamina import layers

ort = pytest.importorskip("onnxruntime")
pytest.importorskip("onnxscript")


def _predict(model, x):
    with torch.no_grad():
        out = model(x)
    return [o.cpu().numpy() for o in out] if isinstance(out, (list, tuple)) else out.cpu().numpy()


def _device(model):
    return next(model.parameters()).device


def _conv_model():
    return lamina.Sequential(
        [
            lamina.Input((8, 8, 3)),
            layers.Conv2D(4, 3, padding="same", activation="relu"),
            layers.BatchNormalization(),
            layers.MaxPooling2D(2),
            layers.Flatten(),
            layers.Dense(3, activation="softmax"),
        ]
    )


def test_onnx_runs_in_onnxruntime_with_a_dynamic_batch(tmp_path):
    model = _conv_model()
    model.export(tmp_path / "m.onnx", verbose=False)
    session = ort.InferenceSession(str(tmp_path / "m.onnx"))
    (inp,) = session.get_inputs()
    assert inp.shape[1:] == [8, 8, 3] and not isinstance(inp.shape[0], int)
    for batch in (1, 5):
        x = np.random.default_rng(batch).standard_normal((batch, 8, 8, 3)).astype("float32")
        (got,) = session.run(None, {inp.name: x})
        np.testing.assert_allclose(got, _predict(model, x), atol=1e-5)


def test_onnx_functional_model_with_two_inputs_and_outputs(tmp_path):
    a, b = lamina.Input((3,)), lamina.Input((4,))
    h = layers.Concatenate()([layers.Dense(5)(a), b])
    model = lamina.Model([a, b], [layers.Dense(2)(h), layers.Dense(1)(h)])
    model.export(tmp_path / "f.onnx", verbose=False)
    session = ort.InferenceSession(str(tmp_path / "f.onnx"))
    xa = np.random.default_rng(0).standard_normal((3, 3)).astype("float32")
    xb = np.random.default_rng(1).standard_normal((3, 4)).astype("float32")
    names = [i.name for i in session.get_inputs()]
    got = session.run(None, dict(zip(names, (xa, xb), strict=True)))
    for g, w in zip(got, _predict(model, [xa, xb]), strict=True):
        np.testing.assert_allclose(g, w, atol=1e-5)


def test_torch_export_program_round_trips(tmp_path):
    model = _conv_model()
    model.export(tmp_path / "m.pt2", format="torch", verbose=False)
    program = torch.export.load(str(tmp_path / "m.pt2"))
    x = np.random.default_rng(0).standard_normal((3, 8, 8, 3)).astype("float32")
    with torch.no_grad():
        got = program.module()(torch.from_numpy(x).to(_device(model)))
    np.testing.assert_allclose(got.cpu().numpy(), _predict(model, x), atol=1e-5)


def test_torchscript(tmp_path):
    model = lamina.Sequential([lamina.Input((4,)), layers.Dense(3, activation="tanh"), layers.Dense(2)])
    model.export(tmp_path / "m.ts", format="torchscript", verbose=False)
    scripted = torch.jit.load(str(tmp_path / "m.ts"))
    x = np.random.default_rng(0).standard_normal((2, 4)).astype("float32")
    with torch.no_grad():
        got = scripted(torch.from_numpy(x).to(_device(model))).cpu().numpy()
    np.testing.assert_allclose(got, _predict(model, x), atol=1e-6)


def test_export_arguments_are_checked(tmp_path, capsys):
    model = lamina.Sequential([lamina.Input((4,)), layers.Dense(2)])
    with pytest.raises(ValueError, match="Unrecognized format='tf_saved_model'"):
        model.export(tmp_path / "m", format="tf_saved_model")
    unbuilt = lamina.Sequential([layers.Dense(2)])
    with pytest.raises(ValueError, match="no known input shape"):
        unbuilt.export(tmp_path / "u.onnx")
    unbuilt.export(tmp_path / "u.onnx", input_signature=[(None, 4)])
    assert "Saved artifact" in capsys.readouterr().out
    session = ort.InferenceSession(str(tmp_path / "u.onnx"))
    x = np.ones((2, 4), "float32")
    np.testing.assert_allclose(session.run(None, {session.get_inputs()[0].name: x})[0], _predict(unbuilt, x), atol=1e-6)
