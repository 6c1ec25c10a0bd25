"""TorchModuleWrapper: parameters as weights, summary, fit, saving in Keras's torch-backend layout."""

import io
import re

import numpy as np
import pytest
import torch

import lamina
from lamina import layers
from tests.layers.harness import make_input


class TwoLayer(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = torch.nn.Linear(4, 8)
        self.norm = torch.nn.BatchNorm1d(8)
        self.out = torch.nn.Linear(8, 3)
        self.out.bias.requires_grad_(False)

    def forward(self, x):
        return self.out(torch.relu(self.norm(self.fc(x))))


def test_parameters_are_the_layers_weights():
    module = TwoLayer()
    layer = layers.TorchModuleWrapper(module, name="wrapped")
    assert layer.built
    assert [(w.path, w.shape, w.trainable) for w in layer.weights] == [
        ("wrapped/fc.weight", (8, 4), True),
        ("wrapped/fc.bias", (8,), True),
        ("wrapped/norm.weight", (8,), True),
        ("wrapped/norm.bias", (8,), True),
        ("wrapped/out.weight", (3, 8), True),
        ("wrapped/out.bias", (3,), False),
    ]
    assert layer.weights[0].value is module.fc.weight  # the same tensor, not a copy
    assert layer.count_params() == sum(p.numel() for p in module.parameters())
    layer.set_weights([np.full(w.shape, 0.5, "float32") for w in layer.weights])
    assert torch.equal(module.out.bias, torch.full((3,), 0.5))
    layer.trainable = False
    assert not module.fc.weight.requires_grad and layer.trainable_weights == []


def test_summary_counts_the_module_parameters():
    inputs = lamina.Input((4,))
    model = lamina.Model(inputs, layers.TorchModuleWrapper(TwoLayer(), output_shape=(None, 3))(inputs))
    buffer = io.StringIO()
    model.summary(print_fn=lambda line, **kw: buffer.write(line + "\n"))
    text = buffer.getvalue()
    assert re.search(r"Total params: 83 ", text), text  # 40 + 16 + 27 parameters; BatchNorm buffers excluded
    assert re.search(r"Trainable params: 80 ", text) and re.search(r"Non-trainable params: 3 ", text)


def test_fit_trains_the_module_and_switches_its_mode():
    torch.manual_seed(0)
    module = TwoLayer()
    inputs = lamina.Input((4,))
    model = lamina.Model(inputs, layers.TorchModuleWrapper(module)(inputs))  # shape found by a placeholder run
    assert model.output_shape == (None, 3)
    model.compile(optimizer=lamina.optimizers.Adam(0.01), loss="mse")
    x, y = make_input((32, 4)), make_input((32, 3), seed=1)
    before = module.fc.weight.detach().clone()
    history = model.fit(x, y, epochs=4, batch_size=8, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert not torch.equal(before, module.fc.weight)
    assert not torch.equal(module.norm.running_mean, torch.zeros(8))  # ran in training mode inside fit
    model.predict(x, verbose=0)
    assert not module.training  # and in inference mode for predict


def test_weights_file_holds_the_state_dict_and_restores_it(tmp_path):
    inputs = lamina.Input((4,))
    model = lamina.Model(inputs, layers.TorchModuleWrapper(TwoLayer())(inputs))
    model.compile(optimizer="sgd", loss="mse")
    model.fit(make_input((8, 4)), make_input((8, 3)), verbose=0, epochs=1)  # BatchNorm statistics move too
    model.save_weights(tmp_path / "w.weights.h5")
    inputs2 = lamina.Input((4,))
    other = lamina.Model(inputs2, layers.TorchModuleWrapper(TwoLayer())(inputs2))
    other.load_weights(tmp_path / "w.weights.h5")
    source, target = model.layers[1].module.state_dict(), other.layers[1].module.state_dict()
    assert list(source) == list(target)
    for key in source:
        assert torch.equal(source[key], target[key]), key


def test_keras_file_round_trip_needs_unsafe_mode(tmp_path):
    inputs = lamina.Input((4,))
    model = lamina.Model(inputs, layers.TorchModuleWrapper(TwoLayer(), output_shape=(None, 3))(inputs))
    model.save(tmp_path / "m.keras")
    with pytest.raises(ValueError, match=r"torch.load\(\).*safe_mode=False"):
        lamina.saving.load_model(tmp_path / "m.keras")
    loaded = lamina.saving.load_model(tmp_path / "m.keras", safe_mode=False)
    x = make_input((5, 4))
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    assert isinstance(loaded.layers[1].module, TwoLayer)


def test_bad_modules_are_refused():
    with pytest.raises(TypeError, match=r"TorchModuleWrapper expects `module` to be a torch.nn.Module.*module=str"):
        layers.TorchModuleWrapper("linear")
    with pytest.raises(ValueError, match="uninitialized LazyModule"):
        layers.TorchModuleWrapper(torch.nn.LazyLinear(3))
