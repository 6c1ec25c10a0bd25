"""``Pipeline``: preprocessing layers applied in sequence, as a single layer."""

from __future__ import annotations

from typing import Any

from lamina import serialization
from lamina.layers.layer import Layer

__all__ = ["Pipeline"]


class Pipeline(Layer):
    """Applies ``layers`` one after another (like a ``Sequential`` that is a layer, not a model).

    Like the augmentation layers it holds, a pipeline called directly runs in training mode
    (``training=True``), as in Keras; pass ``training=False`` (or call ``.eval()``) for inference.

    Args:
        layers: the layers, in order.
        name: optional name.

    Example:
        >>> import torch, lamina
        >>> from lamina import layers
        >>> pipe = layers.Pipeline([layers.RandomFlip(seed=1), layers.Rescaling(1 / 255)])
        >>> pipe(torch.full((1, 2, 2, 1), 255.0), training=False).flatten().tolist()
        [1.0, 1.0, 1.0, 1.0]
    """

    _autocast_inputs = False

    def __init__(self, layers: list, name: str | None = None, **kwargs: Any) -> None:
        super().__init__(name=name, **kwargs)
        if not isinstance(layers, (list, tuple)) or not all(isinstance(layer, Layer) for layer in layers):
            raise self._error("`layers` to be a list of layers", f"layers={layers!r}")
        self._pipeline_layers = list(layers)
        self.built = True
        self.train(True)

    @property
    def layers(self) -> list:
        return self._pipeline_layers

    def call(self, inputs: Any, training: bool = True, mask: Any = None) -> Any:
        outputs = inputs
        for layer in self._pipeline_layers:
            kwargs: dict[str, Any] = {}
            if layer._call_has_mask and mask is not None:
                kwargs["mask"] = mask
            if layer._call_has_training and training is not None:
                kwargs["training"] = training
            outputs = layer(outputs, **kwargs)
            mask = getattr(outputs, "_keras_mask", None)
        return outputs

    def compute_output_shape(self, input_shape: Any) -> Any:
        for layer in self._pipeline_layers:
            input_shape = layer.compute_output_shape(input_shape)
        return input_shape

    def get_config(self) -> dict[str, Any]:
        return {
            "layers": [serialization.serialize_keras_object(layer) for layer in self._pipeline_layers],
            "name": self.name,
        }

    @classmethod
    def from_config(cls, config: dict[str, Any], custom_objects: dict | None = None) -> Pipeline:
        layers = config.get("layers")
        if not isinstance(layers, (list, tuple)):
            raise ValueError(
                "`Pipeline` config must contain a `layers` key mapping to a list of serialized layers. "
                f"Received config with layers={layers}."
            )
        config = {**config, "layers": [serialization.deserialize_keras_object(x, custom_objects) for x in layers]}
        return cls(**config)

    def extra_repr(self) -> str:
        return f"name={self.name!r}, layers={[layer.name for layer in self._pipeline_layers]}"
