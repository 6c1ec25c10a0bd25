"""The public surface is Keras's: constructor signatures, module contents, argument errors."""

from __future__ import annotations

import importlib
import inspect

import keras
import numpy as np
import pytest

import lamina
from tests.applications import parity
from tests.applications.specs import FAMILY, keras_constructor

BUILDERS = {
    "resnet": "ResNet",
    "densenet": "DenseNet",
    "efficientnet": "EfficientNet",
    "efficientnet_v2": "EfficientNetV2",
    "convnext": "ConvNeXt",
    "nasnet": "NASNet",
}


def _parameters(fn) -> list[tuple]:
    return [(p.name, p.kind, p.default) for p in inspect.signature(fn).parameters.values()]


@pytest.mark.parametrize("name", sorted(FAMILY))
def test_constructor_signatures_are_keras(name):
    assert _parameters(getattr(lamina.applications, name)) == _parameters(getattr(keras.applications, name))
    assert getattr(lamina.applications, name).__doc__.startswith("Instantiates the ")


@pytest.mark.parametrize("family", sorted(set(FAMILY.values())) + ["imagenet_utils", "resnet50"])
def test_family_modules_offer_keras_functions(family):
    ours = getattr(lamina.applications, family)
    theirs = getattr(keras.applications, family)
    public = [n for n in dir(theirs) if not n.startswith("_")]
    assert public and all(hasattr(ours, n) for n in public)
    for fn in ("preprocess_input", "decode_predictions"):
        assert _parameters(getattr(ours, fn)) == _parameters(getattr(theirs, fn))


@pytest.mark.parametrize("family, builder", sorted(BUILDERS.items()))
def test_family_builders_take_keras_arguments(family, builder):
    ours = getattr(importlib.import_module(f"lamina.applications.{family}"), builder)
    theirs = getattr(importlib.import_module(f"keras.src.applications.{family}"), builder)
    assert _parameters(ours) == _parameters(theirs)


def _both_raise(call, match):
    """``call(library_applications)`` raises the same ValueError in Keras and in Lamina."""
    keras.backend.clear_session(free_memory=False)
    with pytest.raises(ValueError, match=match):
        call(keras.applications)
    with pytest.raises(ValueError, match=match):
        call(lamina.applications)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda a: a.ResNet50(weights="no/such/file.h5"), "The `weights` argument should be either"),
        (lambda a: a.VGG16(weights="imagenet", classes=10), "`classes` should be 1000"),
        (lambda a: a.ResNet50(weights="imagenet", input_shape=(200, 200, 3)), r"`input_shape` should be \(224, 224"),
        (lambda a: a.Xception(weights=None, input_shape=(64, 64, 3), include_top=False), "at least 71x71"),
        (lambda a: a.InceptionV3(weights=None, input_shape=(299, 299)), "tuple of three integers"),
        (lambda a: a.MobileNet(weights="imagenet", depth_multiplier=2), "depth multiplier must be 1"),
        (lambda a: a.MobileNet(weights="imagenet", alpha=0.3), "alpha can be one of"),
        (lambda a: a.MobileNetV2(weights="imagenet", alpha=0.3), "alpha must be one of"),
        (lambda a: a.MobileNetV3Small(weights="imagenet", alpha=0.5), "alpha can be one of `0.75`, `1.0`"),
        (lambda a: a.MobileNetV3Large(weights=None, input_shape=(16, 16, 3)), "at least 32x32"),
        (lambda a: a.NASNetLarge(weights="imagenet", input_shape=(None, None, 3), include_top=False), "static"),
        (lambda a: a.DenseNet121(weights=None, input_shape=(None, None, 3)), "static `input_shape`"),
    ],
)
def test_argument_errors_are_keras(call, match):
    _both_raise(call, match)


def test_pretrained_weights_need_softmax_or_logits(tmp_path):
    path = str(tmp_path / "w.weights.h5")
    base = lamina.applications.MobileNetV3Small(weights=None, input_shape=(32, 32, 3), classes=3)
    base.save_weights(path)
    with pytest.raises(ValueError, match="Only `None` and `softmax` activations are allowed"):
        lamina.applications.MobileNetV3Small(
            weights=path, input_shape=(32, 32, 3), classes=3, classifier_activation="sigmoid"
        )
    model = lamina.applications.MobileNetV3Small(
        weights=path, input_shape=(32, 32, 3), classes=3, classifier_activation=None
    )
    x = np.ones((1, 32, 32, 3), "float32")
    np.testing.assert_allclose(
        model(x, training=False).detach().softmax(-1).numpy(), base(x, training=False).detach().numpy(), rtol=1e-5
    )


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda s: s.app("nasnet").NASNet(penultimate_filters=100, weights=None), "must be a multiple of 24"),
        (
            lambda s: s.app("inception_resnet_v2").inception_resnet_block(s.lib.Input((8, 8, 4)), 0.1, "block9", 1),
            "Unknown Inception-ResNet block type",
        ),
        (
            lambda s: s.app("convnext").ConvNeXt(
                [1, 1, 1, 1], [8, 16, 24, 32], weights="imagenet", weights_name="convnext_tiny", include_top=False
            ),
            "Architecture configuration does not match convnext_tiny",
        ),
        (
            lambda s: s.app("efficientnet").EfficientNet(
                1.0, 1.0, 32, blocks_args=[{"repeats": 0, "filters_in": 8, "filters_out": 8}], weights=None
            ),
            "must be > 0",
        ),
    ],
)
def test_builder_errors_are_keras(call, match):
    keras.backend.clear_session(free_memory=False)
    for side in (parity.KERAS, parity.LAMINA):
        with pytest.raises(ValueError, match=match):
            call(side)


def test_input_tensor_sources_become_the_model_inputs():
    inputs = lamina.Input(shape=(32, 32, 3))
    scaled = lamina.layers.Rescaling(1 / 255)(inputs)
    model = lamina.applications.MobileNetV2(input_tensor=scaled, weights=None, include_top=False, alpha=0.35)
    keras.backend.clear_session(free_memory=False)
    kin = keras.Input(shape=(32, 32, 3))
    kmodel = keras.applications.MobileNetV2(
        input_tensor=keras.layers.Rescaling(1 / 255)(kin), weights=None, include_top=False, alpha=0.35
    )
    assert model.inputs[0] is inputs
    assert [layer.name for layer in model.layers] == [layer.name for layer in kmodel.layers]
    assert model.name == kmodel.name == "mobilenetv2_0.35_None"  # Keras names it from the (None) input_shape


def test_constructors_build_on_the_keras_family_modules():
    for name, family in FAMILY.items():
        assert getattr(getattr(lamina.applications, family), name) is getattr(lamina.applications, name)
    assert keras_constructor("ResNet50") is keras.applications.ResNet50
