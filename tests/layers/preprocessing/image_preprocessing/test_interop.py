""".keras files with image and audio preprocessing layers cross between Keras 3 and Lamina both ways."""

import numpy as np
import pytest

import lamina
from tests.saving.kx import keras


def _image_model(K):
    pipeline = K.layers.Pipeline([K.layers.RandomContrast(0.2, seed=1), K.layers.RandomBrightness(0.1, seed=2)])
    return K.Sequential(
        [
            K.Input((12, 10, 3)),
            K.layers.RandomFlip("horizontal", seed=1),
            K.layers.RandomRotation(0.1, fill_mode="constant", seed=2),
            K.layers.RandomZoom(0.2, seed=3),
            pipeline,
            K.layers.Resizing(8, 8, interpolation="bicubic"),
            K.layers.CenterCrop(6, 6),
            K.layers.AutoContrast(),
            K.layers.Rescaling(1 / 255),
            K.layers.Conv2D(4, 3, activation="relu"),
            K.layers.GlobalAveragePooling2D(),
            K.layers.Dense(2),
        ]
    )


def _audio_model(K):
    return K.Sequential(
        [
            K.Input((256, 1)),
            K.layers.STFTSpectrogram(mode="log", frame_length=32, frame_step=16),
            K.layers.GlobalAveragePooling1D(),
            K.layers.Dense(2),
        ]
    )


MODELS = {"image": (_image_model, (2, 12, 10, 3)), "audio": (_audio_model, (2, 256, 1))}


def _data(shape):
    return np.random.default_rng(0).uniform(0, 255, shape).astype("float32")


@pytest.mark.parametrize("family", list(MODELS))
def test_keras_file_loads_in_lamina(family, tmp_path):
    build, shape = MODELS[family]
    kmodel = build(keras())
    kmodel.save(tmp_path / "k.keras")
    x = _data(shape)
    expected = kmodel.predict(x, verbose=0)  # inference: the random layers pass images through
    ours = lamina.models.load_model(tmp_path / "k.keras")
    assert [type(layer).__name__ for layer in ours.layers] == [type(layer).__name__ for layer in kmodel.layers]
    np.testing.assert_allclose(ours.predict(x, verbose=0), expected, atol=1e-4, rtol=1e-4)


@pytest.mark.parametrize("family", list(MODELS))
def test_lamina_file_loads_in_keras(family, tmp_path):
    build, shape = MODELS[family]
    ours = build(lamina)
    ours.save(tmp_path / "l.keras")
    x = _data(shape)
    expected = ours.predict(x, verbose=0)
    kmodel = keras().models.load_model(tmp_path / "l.keras")
    np.testing.assert_allclose(kmodel.predict(x, verbose=0), expected, atol=1e-4, rtol=1e-4)
    for a, b in zip(kmodel.layers, ours.layers, strict=True):
        assert a.get_config() == b.get_config() or type(a).__name__ == "Pipeline"
