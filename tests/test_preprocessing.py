"""keras.preprocessing: the same public names as Keras, each the lamina.utils function."""

import keras

import lamina


def test_preprocessing_names_equal_keras():
    for module, k_module in (
        (lamina.preprocessing, keras.preprocessing),
        (lamina.preprocessing.image, keras.preprocessing.image),
        (lamina.preprocessing.sequence, keras.preprocessing.sequence),
    ):
        keras_names = sorted(n for n in dir(k_module) if not n.startswith("_"))
        assert sorted(module.__all__) == keras_names
    assert lamina.preprocessing.image.load_img is lamina.utils.load_img
    assert lamina.preprocessing.image_dataset_from_directory is lamina.utils.image_dataset_from_directory
