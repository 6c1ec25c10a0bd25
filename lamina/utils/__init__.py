"""Utilities: seeds and helpers Keras keeps in ``keras.utils``."""

from lamina.backend import set_random_seed

__all__ = ["set_random_seed"]
