"""Models: ``Sequential``, ``Model`` (functional and subclassed), ``summary``, saving and cloning.

``keras.models`` also offers ``load_model``, ``save_model`` and ``model_from_json``; they live with the file
formats in :mod:`lamina.saving` (a layer above), so the entries here import it on use: models and saving are
the one pair of concerns that call each other, as in Keras.
"""

from typing import Any

from lamina import serialization
from lamina.models.cloning import clone_model
from lamina.models.functional import Functional
from lamina.models.model import Model
from lamina.models.sequential import Sequential


def load_model(filepath: Any, custom_objects: dict | None = None, compile: bool = True, safe_mode: bool = True) -> Any:
    """Loads a model saved by ``model.save()``; see :func:`lamina.saving.load_model`."""
    from lamina.saving import saving_api

    return saving_api.load_model(filepath, custom_objects=custom_objects, compile=compile, safe_mode=safe_mode)


def save_model(model: Any, filepath: Any, overwrite: bool = True, zipped: bool | None = None, **kwargs: Any) -> None:
    """Saves a model; see :func:`lamina.saving.save_model`."""
    from lamina.saving import saving_api

    saving_api.save_model(model, filepath, overwrite=overwrite, zipped=zipped, **kwargs)


def model_from_json(json_string: str, custom_objects: dict | None = None) -> Any:
    """Rebuilds a model from ``model.to_json()``; see :func:`lamina.saving.saving_api.model_from_json`."""
    from lamina.saving import saving_api

    return saving_api.model_from_json(json_string, custom_objects=custom_objects)


__all__ = ["Model", "Sequential", "clone_model", "load_model", "model_from_json", "save_model"]

serialization.register_builtins("keras", {"Model": Model, "Sequential": Sequential})
# Keras writes `Model(inputs, outputs)` as this class, with its class name as `registered_name`.
serialization.register_builtins("keras.src.models.functional", {"Functional": Functional}, self_registered=True)
