"""``Model``: a layer that groups layers, with ``summary``, ``get_layer`` and (from the trainer mixin) training.

``Model(inputs, outputs)`` builds a functional model; subclassing ``Model`` and writing
``call`` gives a subclassed model, as in Keras.
"""

from __future__ import annotations

import copy
import io
import warnings
from typing import Any

from lamina.layers.layer import Layer, _to_tuple_shape
from lamina.ops.operation import shapes_to_tensors
from lamina.trainers.trainer import Trainer


class Model(Trainer, Layer):
    """A layer with training and inspection: subclass it and write ``call``, or pass ``inputs``/``outputs``.

    Example:
        >>> import torch, lamina
        >>> class TwoLayers(lamina.Model):
        ...     def __init__(self):
        ...         super().__init__()
        ...         self.hidden = lamina.layers.Dense(8, activation="relu")
        ...         self.out = lamina.layers.Dense(2)
        ...     def call(self, x):
        ...         return self.out(self.hidden(x))
        >>> model = TwoLayers()
        >>> model(torch.ones(1, 3)).shape
        torch.Size([1, 2])
        >>> [layer.name for layer in model.layers]
        ['dense', 'dense_1']
    """

    _passes_strings = True  # string data reaches the model's text layers (TextVectorization, StringLookup, ...)
    _keep_int_inputs = True  # as Keras: a model casts float inputs only; ids reach lookups/hashes/embeddings exact

    def __new__(cls, *args: Any, **kwargs: Any) -> Model:
        if cls is Model and _functional_init_arguments(args, kwargs):
            from lamina.models.functional import Functional

            return Functional.__new__(Functional)
        return super().__new__(cls)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if _functional_init_arguments(args, kwargs):
            # `class MyModel(Model)` whose __init__ calls `super().__init__(inputs=..., outputs=...)`: as in
            # Keras, the class becomes a Functional subclass (Functional replaces Model among its bases).
            from lamina.models.functional import Functional

            _inject_functional_model_class(type(self))
            Functional.__init__(self, *args, **kwargs)
            return
        if type(self) is Model and (args or "inputs" in kwargs):
            raise TypeError("Model(inputs, outputs) needs both `inputs` and `outputs`.")
        Layer.__init__(self, *args, **kwargs)
        Trainer.__init__(self)

    def _module_key(self, name: str) -> str:
        """The submodule name of a layer: its own name, prefixed where it would shadow an attribute of the model
        or is not an identifier (state_dict keys then read ``layer1.kernel``)."""
        key = name.replace(".", "_")
        if hasattr(type(self), key) or key in self.__dict__ or not key.isidentifier():
            key = f"layer_{key}" if key.isidentifier() else f"layer_{len(self._modules)}"
        while key in self._modules:  # never replace another layer's module
            key += "_"
        return key

    @property
    def layers(self) -> list[Layer]:
        """The direct sub-layers, in the order they were created or added."""
        return [layer for layer in self._sublayers() if type(layer).__name__ != "InputLayer"]

    def get_layer(self, name: str | None = None, index: int | None = None) -> Layer:
        """A layer by ``name`` or by ``index`` in ``layers``.

        Raises:
            ValueError: for an unknown name (the message lists the existing ones) or an index out of range.
        """
        if index is not None and name is not None:
            raise ValueError(f"Provide only a layer name or a layer index. Received: index={index}, name={name}.")
        if index is not None:
            layers = self.layers
            if not -len(layers) <= index < len(layers):
                raise ValueError(
                    f"Was asked to retrieve layer at index {index} but model only has {len(layers)} layers."
                )
            return layers[index]
        if name is not None:
            for layer in self.layers:
                if layer.name == name:
                    return layer
            raise ValueError(f"No such layer: {name}. Existing layers are: {[la.name for la in self.layers]}.")
        raise ValueError("Provide either a layer name or layer index at `get_layer`.")

    def summary(
        self,
        line_length: int | None = None,
        positions: list[float] | None = None,
        print_fn: Any = None,
        expand_nested: bool = False,
        show_trainable: bool = False,
        layer_range: Any = None,
        show_flops: bool = False,
        show_memory: bool = False,
    ) -> None:
        """Prints the Keras 3 summary table (name (type), output shape, param #, totals with sizes).

        ``show_flops`` / ``show_memory`` add Lamina's multiply-add and activation-memory
        columns; off by default so the output stays identical to Keras's.
        """
        from lamina.models import summary

        summary.print_summary(
            self,
            line_length=line_length,
            positions=positions,
            print_fn=print_fn,
            expand_nested=expand_nested,
            show_trainable=show_trainable,
            layer_range=layer_range,
            show_flops=show_flops,
            show_memory=show_memory,
        )

    def get_config(self) -> dict[str, Any]:
        return Layer.get_config(self)

    @classmethod
    def from_config(cls, config: dict[str, Any], custom_objects: dict | None = None) -> Model:
        """Rebuilds a model; a functional config (``layers`` + ``input_layers``) gives a functional model."""
        if "layers" in config and "input_layers" in config and "output_layers" in config:
            from lamina.models.functional import functional_from_config, functional_like_constructor

            if cls is Model or functional_like_constructor(cls):  # else a custom constructor takes the config
                return functional_from_config(cls, config, custom_objects)
        return super().from_config(config)

    def build_from_config(self, config: dict[str, Any]) -> None:
        """Recreates the weights from ``get_build_config()`` (on load): a subclassed model without its own
        ``build`` runs ``call`` once on a symbolic input of the saved shape, as Keras does."""
        if not config:
            return
        shape = config.get("input_shape")
        if shape is None or self.built and self.weights or type(self).build is not Layer.build:
            Layer.build_from_config(self, config)
            return
        try:
            self.compute_output_spec(shapes_to_tensors(_to_tuple_shape(shape), self.compute_dtype))
        except Exception as e:  # noqa: BLE001 - reported as Keras does, the weights check then names what is missing
            warnings.warn(
                f"Model '{self.name}' had a build config, but the model cannot be built automatically in "
                f"`build_from_config(config)` ({type(e).__name__}: {e}). You should implement "
                "`def build_from_config(self, config)` (and `get_build_config`) to create the model's "
                "state upon deserialization.",
                stacklevel=2,
            )
            return
        self.__dict__["built"] = True
        self.__dict__["_build_shapes"] = shape

    # ------------------------------------------------------------------ saving (file formats live in lamina.saving)
    def save(self, filepath: Any, overwrite: bool = True, zipped: bool | None = None, **kwargs: Any) -> None:
        """Saves the model as a Keras 3 ``.keras`` file (architecture, weights, compile state, optimizer).

        ``.h5`` writes the legacy HDF5 format; ``zipped=False`` writes an unzipped folder.
        """
        from lamina.backend import distribution_lib
        from lamina.saving import saving_api

        if distribution_lib.skips_writes():  # [distribution] under torchrun, rank 0 alone writes files
            return
        saving_api.save_model(self, filepath, overwrite=overwrite, zipped=zipped, **kwargs)

    def __reduce__(self) -> tuple:
        """Pickling goes through the ``.keras`` format in memory (architecture, weights, compile state and
        optimizer), as Keras pickles its models (scikit-learn's and joblib's copies rely on it)."""
        from lamina.saving import keras_format

        buffer = io.BytesIO()
        keras_format.save_model(self, buffer)
        return (_unpickle_model, (buffer.getvalue(),))

    def __deepcopy__(self, memo: dict) -> Model:
        """``copy.deepcopy`` copies the module's state as for any object (not through ``__reduce__``)."""
        new = type(self).__new__(type(self))
        memo[id(self)] = new
        state = copy.deepcopy(self.__dict__, memo)
        if hasattr(new, "__setstate__"):
            new.__setstate__(state)
        else:
            new.__dict__.update(state)
        return new

    def save_weights(self, filepath: Any, overwrite: bool = True, max_shard_size: Any = None) -> None:
        """Saves all weights (and the optimizer state) to a Keras 3 ``.weights.h5`` file."""
        from lamina.backend import distribution_lib
        from lamina.saving import saving_api

        if distribution_lib.skips_writes():  # [distribution] under torchrun, rank 0 alone writes files
            return
        saving_api.save_weights(self, filepath, overwrite=overwrite, max_shard_size=max_shard_size)

    def load_weights(self, filepath: Any, skip_mismatch: bool = False, **kwargs: Any) -> None:
        """Loads weights from a ``.weights.h5``, ``.keras`` or legacy ``.h5`` file (Lamina's or Keras's)."""
        from lamina.saving import saving_api

        saving_api.load_weights(self, filepath, skip_mismatch=skip_mismatch, **kwargs)

    def to_json(self, **kwargs: Any) -> str:
        """The model's config as a JSON string (``json.dumps`` keyword arguments are passed on)."""
        from lamina.saving import saving_api

        return saving_api.model_to_json(self, **kwargs)

    def export(
        self, filepath: Any, format: str = "onnx", verbose: bool = True, input_signature: Any = None, **kwargs: Any
    ) -> Any:
        """Exports the model for inference: ``format="onnx"``, ``"torch"`` (torch.export) or ``"torchscript"``."""
        from lamina import export

        return export.export_model(
            self, filepath, format=format, verbose=verbose, input_signature=input_signature, **kwargs
        )

    @property
    def inputs(self) -> list[Any]:
        """The symbolic input tensors (a functional model, or a built Sequential); else AttributeError."""
        inputs = self.__dict__.get("_inputs_list")
        if inputs is None:
            raise AttributeError(f"'{type(self).__name__}' object has no attribute 'inputs'")
        return inputs

    @property
    def outputs(self) -> list[Any]:
        """The symbolic output tensors (a functional model, or a built Sequential); else AttributeError."""
        outputs = self.__dict__.get("_outputs_list")
        if outputs is None:
            raise AttributeError(f"'{type(self).__name__}' object has no attribute 'outputs'")
        return outputs

    @property
    def input_shape(self) -> Any:
        ins = self.__dict__.get("_inputs_list")
        if not ins:
            raise AttributeError(f'Model "{self.name}" has no defined input shape yet: give it an Input or build it.')
        return ins[0].shape if len(ins) == 1 else [t.shape for t in ins]

    @property
    def output_shape(self) -> Any:
        outs = self.__dict__.get("_outputs_list")
        if not outs:
            raise AttributeError(f'Model "{self.name}" has no defined output shape yet: give it an Input or build it.')
        return outs[0].shape if len(outs) == 1 else [t.shape for t in outs]


def _functional_init_arguments(args: tuple, kwargs: dict) -> bool:
    """Keras's test for a functional constructor call: ``(inputs, outputs)`` by position or keyword."""
    return len(args) >= 2 or (len(args) == 1 and "outputs" in kwargs) or ("inputs" in kwargs and "outputs" in kwargs)


def _inject_functional_model_class(cls: type) -> type:
    """Puts ``Functional`` in place of ``Model`` among the bases of ``cls`` (and of its Model ancestors)."""
    from lamina.models.functional import Functional

    if cls is Model:
        return Functional
    if cls is object or not issubclass(cls, Model) or issubclass(cls, Functional):
        return cls
    cls.__bases__ = tuple(_inject_functional_model_class(base) for base in cls.__bases__)
    super(cls, cls).__init_subclass__()  # `call` is now Functional's: recompute what the call signature takes
    return cls


def _unpickle_model(data: bytes) -> Model:
    """Rebuilds a pickled model (pickles run code anyway, so safe mode is off, as in Keras)."""
    from lamina.saving import keras_format

    return keras_format.load_model(io.BytesIO(data), compile=True, safe_mode=False)
