"""Every data/file utility takes Keras's parameters: same names, order, defaults and kinds."""

import inspect

import keras
import pytest

import lamina

NAMES = [
    "to_categorical",
    "normalize",
    "pad_sequences",
    "get_file",
    "load_img",
    "img_to_array",
    "array_to_img",
    "save_img",
    "image_dataset_from_directory",
    "text_dataset_from_directory",
    "audio_dataset_from_directory",
    "timeseries_dataset_from_array",
    "split_dataset",
    "Progbar",
]


def _params(fn):
    return [(p.name, p.default, p.kind) for p in inspect.signature(fn).parameters.values()]


@pytest.mark.parametrize("name", NAMES)
def test_signature_equals_keras(name):
    ours, theirs = _params(getattr(lamina.utils, name)), _params(getattr(keras.utils, name))
    # Lamina may add trailing keyword parameters with defaults (Progbar's `stream`)
    assert ours[: len(theirs)] == theirs
    assert all(default is not inspect.Parameter.empty for _, default, _ in ours[len(theirs) :])


def test_smart_resize_signature_equals_keras():
    ours = _params(lamina.preprocessing.image.smart_resize)
    assert ours == _params(keras.preprocessing.image.smart_resize)


def test_sequence_and_progbar_are_exported():
    for name in [*NAMES, "Sequence"]:
        assert name in lamina.utils.__all__
