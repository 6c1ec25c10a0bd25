"""``Sequential``: a plain stack of layers, one input tensor and one output tensor."""

from __future__ import annotations

import os
import sys
import warnings
from typing import Any

import torch

from lamina.backend import naming
from lamina.backend.naming import auto_name
from lamina.layers.call_context import _scope_stack
from lamina.layers.core.input_layer import InputLayer
from lamina.layers.layer import Layer
from lamina.layers.weights import standardize_shape
from lamina.models.functional import adjust_input_rank
from lamina.models.model import Model
from lamina.models.relu_pooling import max_pool_then_relu, relu_commutes_with
from lamina.ops.operation import KerasTensor
from lamina.serialization import deserialize_keras_object, serialize_keras_object


class Sequential(Model):
    """A linear stack of layers, built from a list or with ``add()``.

    With an ``Input`` (or ``input_shape=`` on the first layer) the model is built at once and
    ``summary()`` shows every output shape; otherwise it is built by the first call.

    Args:
        layers: optional list of layers (an ``Input(...)`` first is allowed).
        trainable: whether the model's weights are trained.
        name: model name, default ``sequential``, ``sequential_1``, ...

    Example:
        >>> import numpy as np, lamina
        >>> from lamina import layers
        >>> model = lamina.Sequential([
        ...     layers.Dense(2, activation="relu", name="layer1"),
        ...     layers.Dense(3, activation="relu", name="layer2"),
        ...     layers.Dense(4, name="layer3"),
        ... ])
        >>> model(np.ones((3, 3), "float32")).shape
        torch.Size([3, 4])
        >>> model.count_params()
        33
        >>> model.pop().name
        'layer3'
        >>> [layer.name for layer in model.layers]
        ['layer1', 'layer2']
    """

    def __init__(
        self, layers: list[Any] | None = None, trainable: bool = True, name: str | None = None, **kwargs: Any
    ) -> None:
        super().__init__(trainable=trainable, name=name, **kwargs)
        self.__dict__["_seq"] = []
        self.__dict__["_keys"] = {}
        if layers:
            if not isinstance(layers, (list, tuple)):
                layers = [layers]
            for layer in layers:
                self.add(layer, rebuild=False)
            self._maybe_rebuild()

    # ------------------------------------------------------------------ stack editing
    def add(self, layer: Any, rebuild: bool = True) -> None:
        """Adds a layer on top of the stack (an ``Input(...)`` tensor is accepted as the first element)."""
        if (
            isinstance(layer, Layer)
            and not isinstance(layer, InputLayer)
            and getattr(layer, "_batch_input_shape", None) is not None
            and not self.__dict__.get("_from_config")
        ):
            _warn_input_shape_argument()
        if (
            not self._seq
            and getattr(layer, "_batch_input_shape", None) is not None
            and isinstance(layer, Layer)
            and not isinstance(layer, InputLayer)
        ):
            self.add(InputLayer(batch_shape=layer._batch_input_shape, dtype=layer.compute_dtype), rebuild=False)
        if isinstance(layer, KerasTensor) and layer._keras_history is not None:
            origin = layer._keras_history[0]
            if isinstance(origin, InputLayer):
                layer = origin
        if not isinstance(layer, Layer):
            raise ValueError(
                "Only instances of `lamina.layers.Layer` can be added to a Sequential model. "
                f"Received: {layer!r} (of type {type(layer)})"
            )
        if any(existing.name == layer.name for existing in self._seq):
            raise ValueError(
                f"All layers added to a Sequential model should have unique names. Name '{layer.name}' is already "
                "the name of a layer in this model. Update the `name` argument to pass a unique name."
            )
        if isinstance(layer, InputLayer):
            if self._seq and isinstance(self._seq[0], InputLayer):
                raise ValueError(
                    f"Sequential model '{self.name}' has already been configured to use input shape "
                    f"{self._seq[0].batch_shape}. You cannot add a different Input layer to it."
                )
            if self._seq:
                raise ValueError(f"Sequential model '{self.name}': an InputLayer can only be the first layer.")
        self._seq.append(layer)
        if not isinstance(layer, InputLayer):
            key = self._module_key(layer.name)
            self._keys[layer.name] = key
            self.add_module(key, layer)
        if rebuild:
            self._maybe_rebuild()
        else:
            self._unbuild()

    def pop(self, rebuild: bool = True) -> Layer:
        """Removes and returns the last layer.

        Raises:
            TypeError: if the model has no layers.
        """
        if not self.layers:
            raise TypeError(f"Sequential model '{self.name}' has no layers to pop.")
        layer = self._seq.pop()
        key = self._keys.pop(layer.name)
        del self._modules[key]
        self._unbuild()
        if rebuild:
            self._maybe_rebuild()
        return layer

    def _unbuild(self) -> None:
        self.__dict__["built"] = False
        self.__dict__["_inputs_list"] = None
        self.__dict__["_outputs_list"] = None

    def _maybe_rebuild(self) -> None:
        self._unbuild()
        if self._seq and isinstance(self._seq[0], InputLayer) and len(self._seq) > 1:
            self._maybe_build(self._seq[0].batch_shape)
        elif len(self._seq) > 1 and isinstance(self._seq[0], Model):
            # a model with a known input shape first (a pretrained base): build at once, as Keras does
            shape = getattr(self._seq[0], "input_shape", None)
            if isinstance(shape, tuple) and all(d is None or isinstance(d, int) for d in shape):
                self._maybe_build(shape)

    @property
    def layers(self) -> list[Layer]:
        """The layers of the stack, without the InputLayer."""
        return [layer for layer in self._seq if not isinstance(layer, InputLayer)]

    # ------------------------------------------------------------------ build / call
    def build(self, input_shape: Any = None) -> None:
        """Builds every layer for ``input_shape`` (batch included) by running the stack on a symbolic input."""
        if not self.layers:
            raise ValueError(
                f"Sequential model {self.name} cannot be built because it has no layers. Call `model.add(layer)`."
            )
        try:
            input_shape = standardize_shape(input_shape)
        except TypeError:
            # several inputs: build the layers by running them, without a symbolic graph
            self.built = True
            return
        if isinstance(self._seq[0], InputLayer):
            configured = tuple(self._seq[0].batch_shape)
            if len(configured) != len(input_shape) or any(
                a is not None and b is not None and a != b for a, b in zip(configured, input_shape)
            ):
                raise ValueError(
                    f"Sequential model '{self.name}' has already been configured to use input shape "
                    f"{self._seq[0].batch_shape}. You cannot build it with input_shape {input_shape}"
                )
        else:
            self._seq.insert(0, InputLayer(batch_shape=input_shape, dtype=self.layers[0].compute_dtype))
        for layer in self.layers:
            layer._inbound_nodes.clear()
        x = self._seq[0].output
        inputs = x
        scope = _scope_stack()
        direct = not naming.scope_is_open_for(self)  # `model.build(shape)` called by the user
        if direct:  # weight paths start with the model name, as under _maybe_build (Keras: sequential/dense/kernel)
            scope.append(naming.caller_entry(self.name, self))
        try:
            for layer in self.layers:
                x = layer(x)
        finally:
            if direct:
                scope.pop()
        self.__dict__["_inputs_list"] = [inputs]
        self.__dict__["_outputs_list"] = [x] if isinstance(x, KerasTensor) else list(x)
        self.built = True
        auto_name("Functional")  # Keras builds its stack as a `Functional`, which takes the next "functional" name

    def call(self, inputs: Any, training: bool | None = None, mask: Any = None) -> Any:
        x = inputs
        if self._seq and isinstance(self._seq[0], InputLayer):  # as Keras's functional stack: (N, 28, 28) data
            x = self._one_input(x)
            x = adjust_input_rank(x, self._seq[0].batch_shape)  # for Input((28, 28, 1)) gets its last axis
        if mask is not None and isinstance(x, torch.Tensor):
            x._keras_mask = mask
        layers = self.layers
        i = 0
        while i < len(layers):
            layer = layers[i]
            if i + 1 < len(layers) and relu_commutes_with(layer, layers[i + 1], x):
                x = max_pool_then_relu(layer, layers[i + 1], x)
                i += 2
            else:
                x = layer(x)
                i += 1
        return x

    def _one_input(self, x: Any) -> Any:
        """A Sequential model has one input: a one-item list is unwrapped (as Keras's functional stack does);
        a dict, a longer list, None or a string (for a non-string input) is refused, naming the model."""
        if isinstance(x, (list, tuple)) and len(x) == 1:
            x = x[0]
        elif isinstance(x, dict) and list(x) == [self._seq[0].name]:  # by input name, as Keras's functional stack
            x = x[self._seq[0].name]
        text = isinstance(x, (str, bytes)) and self._seq[0].dtype != "string"
        if x is None or text or isinstance(x, (list, tuple, dict)):
            shown = f"a {type(x).__name__} of {len(x)} items" if isinstance(x, (list, tuple, dict)) else repr(x)[:80]
            raise self._error(
                f"one input of shape {tuple(self._seq[0].batch_shape)}",
                f"inputs={shown}",
                "Pass one array or tensor.",
                TypeError if x is None or text else ValueError,
            )
        return x

    def compute_output_shape(self, input_shape: Any) -> Any:
        shape = input_shape
        for layer in self.layers:
            shape = layer.compute_output_shape(shape)
        return shape

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        return None

    # ------------------------------------------------------------------ config
    def get_config(self) -> dict[str, Any]:
        config = Layer.get_config(self)
        config.pop("batch_input_shape", None)
        config["layers"] = [serialize_keras_object(layer) for layer in self._seq]
        if self._seq and isinstance(self._seq[0], InputLayer):
            config["build_input_shape"] = list(self._seq[0].batch_shape)
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any], custom_objects: dict | None = None) -> Sequential:
        config = dict(config)
        layer_configs = config.pop("layers", None)
        if not isinstance(layer_configs, (list, tuple)):
            raise ValueError(
                "A Sequential config needs `layers`, a list of layer configs. "
                f"Received: layers={layer_configs!r} (config keys: {sorted(config, key=str)})"[:400]
            )
        build_input_shape = config.pop("build_input_shape", None)
        config.pop("dtype", None)
        model = cls(**{k: v for k, v in config.items() if k in ("name", "trainable")})
        model.__dict__["_from_config"] = True  # a saved input shape is not the user's `input_shape=`: no warning
        try:
            for layer_config in layer_configs:
                model.add(deserialize_keras_object(layer_config, custom_objects=custom_objects), rebuild=False)
        finally:
            model.__dict__.pop("_from_config")
        model._maybe_rebuild()
        if model.built:
            for _ in range(len(model._seq) - 2):  # Keras rebuilds after each add, each time a "functional" name
                auto_name("Functional")
        elif build_input_shape is not None:
            model._maybe_build(tuple(build_input_shape))
        return model


_LAMINA_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _warn_input_shape_argument() -> None:
    """Keras's ``UserWarning`` for a layer given ``input_shape=``/``input_dim=``, pointed at the user's line."""
    level, frame = 2, sys._getframe(1)  # level 2 is the caller of this function
    while frame is not None and frame.f_code.co_filename.startswith(_LAMINA_DIR):
        level, frame = level + 1, frame.f_back
    warnings.warn(
        "Do not pass an `input_shape`/`input_dim` argument to a layer. When using Sequential models, "
        "prefer using an `Input(shape)` object as the first layer in the model instead.",
        UserWarning,
        stacklevel=level,
    )
