"""Utilities: seeds and helpers Keras keeps in ``keras.utils``."""

from lamina.backend import set_random_seed
from lamina.trainers.data_adapters import PyDataset

__all__ = ["PyDataset", "set_random_seed"]
