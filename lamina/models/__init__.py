"""Models: ``Sequential``, ``Model`` (functional and subclassed), ``summary``, saving and cloning."""

from lamina import serialization
from lamina.models.cloning import clone_model
from lamina.models.functional import Functional
from lamina.models.model import Model
from lamina.models.sequential import Sequential
from lamina.saving.saving_api import load_model, model_from_json, save_model

__all__ = ["Model", "Sequential", "clone_model", "load_model", "model_from_json", "save_model"]

serialization.register_builtins("keras", {"Model": Model, "Sequential": Sequential})
# Keras writes `Model(inputs, outputs)` as this class, with its class name as `registered_name`.
serialization.register_builtins("keras.src.models.functional", {"Functional": Functional}, self_registered=True)
