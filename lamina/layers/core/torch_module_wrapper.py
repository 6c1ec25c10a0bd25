"""``TorchModuleWrapper``: any ``torch.nn.Module`` as a Keras layer, saved the way Keras's torch backend saves it."""

from __future__ import annotations

import base64
import io
import weakref
from typing import Any

import numpy as np
import torch
from torch import nn

from lamina import backend, serialization
from lamina.layers.layer import Layer
from lamina.variable import Variable


class TorchModuleWrapper(Layer):
    """Wraps a ``torch.nn.Module`` so that a Keras model tracks, trains and saves its parameters.

    The module's parameters become the layer's weights (trainable where ``requires_grad``): counted by
    ``count_params()`` and ``summary()``, updated by ``fit``, listed in ``get_weights()``. ``.weights.h5`` and
    ``.keras`` files store the module's ``state_dict()`` (buffers such as BatchNorm statistics included) under
    its keys, and ``.keras`` configs hold the pickled module, exactly as Keras's torch backend writes them, so
    files cross both ways. Loading a pickled module runs code from the file: it needs ``safe_mode=False``.

    The module runs in training mode only when the layer is called in training (inside ``fit`` or with
    ``training=True``); Keras's own wrapper also switches it to training mode for a plain call.

    Args:
        module: the ``torch.nn.Module`` (a lazy module must have been called once).
        name: the layer name.
        output_shape: the output shape (batch included) for symbolic use; without it Lamina runs the module
            on placeholder data to find it.

    Example:
        >>> import torch, lamina
        >>> layer = lamina.layers.TorchModuleWrapper(torch.nn.Linear(4, 2))
        >>> layer(torch.ones(3, 4)).shape
        torch.Size([3, 2])
        >>> [(w.path, tuple(w.shape)) for w in layer.weights]
        [('torch_module_wrapper/weight', (2, 4)), ('torch_module_wrapper/bias', (2,))]
    """

    # the module's parameters are this layer's own variables (saved from its state_dict), not a child's
    _unsaved_children = ("module",)

    def __init__(self, module: nn.Module, name: str | None = None, output_shape: Any = None, **kwargs: Any) -> None:
        if not isinstance(module, nn.Module):
            raise TypeError(
                "TorchModuleWrapper expects `module` to be a torch.nn.Module, but received "
                f"module={type(module).__name__}."
            )
        if isinstance(module, nn.modules.lazy.LazyModuleMixin) and module.has_uninitialized_params():
            raise ValueError(
                "TorchModuleWrapper expects an initialized module, but received an uninitialized LazyModule: "
                f"module={module}. Call it once on data before wrapping it."
            )
        super().__init__(name=name, **kwargs)
        self.module = module.to(backend.default_device())
        self.output_shape = None if output_shape is None else tuple(output_shape)
        self._track_module_parameters()

    def _track_module_parameters(self) -> None:
        """Each module parameter becomes a ``Variable`` in place (a ``Variable`` is a ``torch.nn.Parameter``, so
        the module runs and saves its ``state_dict`` as before) and is listed as this layer's weight."""
        owners = dict(self.module.named_modules())
        for full_name, param in list(self.module.named_parameters()):
            owner_name, _, attr = full_name.rpartition(".")
            if isinstance(param, Variable):
                var = param
            else:
                var = Variable(
                    param.data, trainable=param.requires_grad, name=full_name, path=f"{self.name}/{full_name}"
                )
                owners[owner_name]._parameters[attr] = var
                var.__dict__.update(_attr=attr, _owner=weakref.ref(owners[owner_name]))
            (self._trainable_vars if param.requires_grad else self._non_trainable_vars).append(var)
        self.built = True

    def call(self, *args: Any, training: Any = None, **kwargs: Any) -> Any:
        mode = bool(training)
        if self.module.training != mode:
            self.module.train(mode)
        return self.module(*args, **kwargs)

    def compute_output_shape(self, input_shape: Any) -> Any:
        if self.output_shape is None:
            return super().compute_output_shape(input_shape)
        return self.output_shape

    # ------------------------------------------------------------------ saving (Keras's torch-backend format)
    def save_own_variables(self, store: dict) -> None:
        """Writes the module's ``state_dict()`` (parameters and buffers) under its own keys."""
        for key, value in self.module.state_dict().items():
            store[key] = value.detach().cpu().numpy()

    def load_own_variables(self, store: Any) -> None:
        """Loads the ``state_dict()`` saved by :meth:`save_own_variables` (Lamina's or Keras's)."""
        state = {}
        for key in store.keys():
            name = key.decode() if isinstance(key, bytes) else key
            state[name] = torch.as_tensor(np.asarray(store[key]))
        self.module.load_state_dict(state)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        buffer = io.BytesIO()
        torch.save(self.module, buffer)
        config["module"] = base64.b64encode(buffer.getvalue()).decode("ascii")
        config["output_shape"] = None if self.output_shape is None else list(self.output_shape)
        return config

    @classmethod
    def from_config(
        cls, config: dict[str, Any], custom_objects: dict | None = None, safe_mode: bool | None = None
    ) -> TorchModuleWrapper:
        """Unpickles the module; refused in safe mode (the default), since unpickling runs code from the file."""
        config = dict(config)
        if isinstance(config.get("module"), str):
            effective = safe_mode if safe_mode is not None else serialization.in_safe_mode()
            if effective is not False:
                raise ValueError(
                    "Requested the deserialization of a `torch.nn.Module` object via `torch.load()` (a "
                    "TorchModuleWrapper layer). Unpickling can run arbitrary code, so it is disallowed in safe mode "
                    "(the default). If you trust the source of the file, pass `safe_mode=False` to the loading "
                    "function or call `lamina.serialization.enable_unsafe_deserialization()`."
                )
            raw = base64.b64decode(config["module"].encode("ascii"))
            config["module"] = torch.load(io.BytesIO(raw), weights_only=False, map_location=backend.default_device())
        return cls(**config)

    def extra_repr(self) -> str:
        return f"name={self.name!r}"
