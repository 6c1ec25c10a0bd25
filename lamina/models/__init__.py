"""Models: ``Sequential``, ``Model`` (functional and subclassed), ``summary``, saving and cloning."""

from lamina.models.cloning import clone_model
from lamina.models.model import Model
from lamina.models.sequential import Sequential
from lamina.saving.saving_api import load_model, model_from_json, save_model

__all__ = ["Model", "Sequential", "clone_model", "load_model", "model_from_json", "save_model"]
