"""Saving: Keras's config schema and registry (the ``.keras`` format and weights files build on it)."""

from lamina.backend.atomic import atomic_write
from lamina.saving.saving_api import load_model, load_weights, save_model, save_weights
from lamina.serialization import (
    CustomObjectScope,
    custom_object_scope,
    deserialize_keras_object,
    get_custom_objects,
    get_registered_name,
    get_registered_object,
    register_keras_serializable,
    serialize_keras_object,
)

__all__ = [
    "atomic_write",
    "load_model",
    "load_weights",
    "save_model",
    "save_weights",
    "CustomObjectScope",
    "custom_object_scope",
    "deserialize_keras_object",
    "get_custom_objects",
    "get_registered_name",
    "get_registered_object",
    "register_keras_serializable",
    "serialize_keras_object",
]
