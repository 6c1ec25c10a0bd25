"""Utilities: seeds and helpers Keras keeps in ``keras.utils``."""

from lamina.backend import set_random_seed
from lamina.trainers.data_adapters import PyDataset
from lamina.utils.plotting import model_to_dot, plot_history, plot_model

# isort: split
# data and file utilities (keras.utils: get_file, ...)
from lamina.utils.file_utils import get_file
from lamina.utils.numerical_utils import normalize, to_categorical
from lamina.utils.sequence_utils import pad_sequences

__all__ = ["PyDataset", "model_to_dot", "plot_history", "plot_model", "set_random_seed"]

# data and file utilities
__all__ += ["get_file", "normalize", "pad_sequences", "to_categorical"]
