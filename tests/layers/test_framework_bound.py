"""TFSMLayer, JaxLayer, FlaxLayer: Lamina runs on PyTorch, so they raise and say what to use instead."""

import pytest

import lamina
from lamina import layers


@pytest.mark.parametrize(
    "cls, args, instead",
    [
        (layers.TFSMLayer, ("exported_dir",), r"load_model\('model.keras'\)"),
        (layers.JaxLayer, (lambda x: x,), "TorchModuleWrapper"),
        (layers.FlaxLayer, (object(),), "TorchModuleWrapper"),
    ],
)
def test_constructing_raises_and_names_the_alternative(cls, args, instead):
    with pytest.raises(ValueError, match=rf"{cls.__name__} runs .* PyTorch only.*{instead}"):
        cls(*args)


def test_a_config_naming_one_fails_the_same_way():
    config = {"module": "keras.layers", "class_name": "TFSMLayer", "config": {"filepath": "x"}, "registered_name": None}
    with pytest.raises(ValueError, match="TFSMLayer runs TensorFlow"):
        lamina.serialization.deserialize_keras_object(config)
