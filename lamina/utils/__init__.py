"""Utilities: seeds and helpers Keras keeps in ``keras.utils``."""

from lamina.backend import set_random_seed
from lamina.callbacks.history import plot_history
from lamina.callbacks.progbar import Progbar
from lamina.trainers.data_adapters import PyDataset
from lamina.utils.plotting import model_to_dot, plot_model

__all__ = ["Progbar", "PyDataset", "model_to_dot", "plot_history", "plot_model", "set_random_seed"]
