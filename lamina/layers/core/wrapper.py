"""``Wrapper``: the base of layers that wrap another layer.

``TimeDistributed``, ``Bidirectional`` and ``SpectralNormalization`` build on it."""

from __future__ import annotations

from typing import Any

from lamina.layers.layer import Layer, build_child
from lamina.serialization import deserialize_keras_object, serialize_keras_object


class Wrapper(Layer):
    """Base class of layers that wrap another layer (``TimeDistributed``); the wrapped layer is ``self.layer``.

    Example:
        >>> import lamina
        >>> w = lamina.layers.TimeDistributed(lamina.layers.Dense(2))
        >>> isinstance(w, lamina.layers.Wrapper)
        True
    """

    def __init__(self, layer: Layer, **kwargs: Any) -> None:
        if not isinstance(layer, Layer):
            raise ValueError(
                f"Layer {layer} supplied to Wrapper isn't a supported layer type. Please ensure wrapped "
                "layer is a valid Keras layer."
            )
        super().__init__(**kwargs)
        self.layer = layer

    def build(self, input_shape: Any = None) -> None:
        build_child(self, self.layer, input_shape)
        self.built = True

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config["layer"] = serialize_keras_object(self.layer)
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any], custom_objects: dict | None = None) -> Wrapper:
        config = dict(config)
        layer = deserialize_keras_object(config.pop("layer"), custom_objects=custom_objects)
        return cls(layer, **config)
