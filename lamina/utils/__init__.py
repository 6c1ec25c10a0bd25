"""Utilities: seeds and helpers Keras keeps in ``keras.utils``."""

from lamina.backend import set_random_seed
from lamina.callbacks.history import plot_history
from lamina.callbacks.progbar import Progbar
from lamina.trainers.data_adapters import PyDataset
from lamina.trainers.data_adapters import PyDataset as Sequence
from lamina.utils import bounding_boxes
from lamina.utils.audio_dataset_utils import audio_dataset_from_directory
from lamina.utils.dataset_utils import split_dataset
from lamina.utils.feature_space import FeatureSpace
from lamina.utils.file_utils import get_file
from lamina.utils.image_dataset_utils import image_dataset_from_directory
from lamina.utils.image_utils import array_to_img, img_to_array, load_img, save_img
from lamina.utils.numerical_utils import normalize, to_categorical
from lamina.utils.plotting import model_to_dot, plot_model
from lamina.utils.sequence_utils import pad_sequences
from lamina.utils.text_dataset_utils import text_dataset_from_directory
from lamina.utils.timeseries_dataset_utils import timeseries_dataset_from_array

__all__ = [
    "FeatureSpace",
    "Progbar",
    "PyDataset",
    "model_to_dot",
    "plot_history",
    "plot_model",
    "set_random_seed",
    "Sequence",
    "array_to_img",
    "audio_dataset_from_directory",
    "bounding_boxes",
    "get_file",
    "image_dataset_from_directory",
    "img_to_array",
    "load_img",
    "normalize",
    "pad_sequences",
    "save_img",
    "split_dataset",
    "text_dataset_from_directory",
    "timeseries_dataset_from_array",
    "to_categorical",
]
