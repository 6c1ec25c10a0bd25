"""How a layer holds its weights: ``add_weight``, tracking, ``weights``/``trainable_weights``, ``set_weights``,
freezing, and the losses its weights and calls add (``Layer`` inherits this).

A weight is a :class:`~lamina.variable.Variable`, registered on the module itself: a parameter when
trainable, a buffer when it is state.
"""

from __future__ import annotations

import functools
import math
import os
import weakref
from collections.abc import Iterator
from typing import Any

import numpy as np
import torch
from torch import nn

from lamina import backend, constraints, initializers, regularizers
from lamina.backend import naming
from lamina.backend.naming import auto_name
from lamina.layers.call_context import _LOSSES_USED, _ctx
from lamina.variable import Variable, get_stateless_scope


@functools.cache
def _memory_limit(device: torch.device) -> int:
    """Bytes the device has in all: a weight larger than this can never be allocated."""
    if device.type == "cuda":
        return int(torch.cuda.get_device_properties(device).total_memory)
    try:
        return int(os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):  # not POSIX: no bound known
        return 2**62


def standardize_shape(shape: Any) -> tuple[int | None, ...]:
    if isinstance(shape, int):
        return (shape,)
    return tuple(None if d is None else int(d) for d in shape)


class WeightTracking:
    """The weight side of ``Layer``: creating, registering, listing, freezing and setting weights."""

    # ------------------------------------------------------------------ attributes
    def __setattr__(self, name: str, value: Any) -> None:
        if isinstance(value, Variable):
            if any(v is value for v in self._own_variables()):
                self._rename_weight(value, name)
            else:
                self._track_variable(value, name)
            return
        if isinstance(value, (list, tuple)) and value and all(isinstance(v, nn.Module) for v in value):
            for i, v in enumerate(value):
                nn.Module.__setattr__(self, f"{name}__{i}", v)
            object.__setattr__(self, name, value)
            return
        if isinstance(value, dict) and value and all(isinstance(v, nn.Module) for v in value.values()):
            for k, v in value.items():
                nn.Module.__setattr__(self, f"{name}__{k}", v)
            object.__setattr__(self, name, value)
            return
        nn.Module.__setattr__(self, name, value)

    def _register_variable(self, var: Variable, attr: str) -> None:
        """Registers ``var`` itself under ``attr``: a parameter if trainable, else a buffer (state)."""
        if attr in self.__dict__:
            del self.__dict__[attr]
        if var.trainable:
            self.register_parameter(attr, var)
        else:
            self.register_buffer(attr, var)
        var.__dict__["_attr"] = attr
        var.__dict__["_owner"] = weakref.ref(self)  # where a StatelessScope swaps in its value

    def _track_variable(self, var: Variable, attr: str) -> None:
        """A variable made outside ``add_weight`` and assigned as an attribute becomes one of this layer's
        weights, as Keras tracks it."""
        self._register_variable(var, attr)
        (self._trainable_vars if var.trainable else self._non_trainable_vars).append(var)

    def _rename_weight(self, var: Variable, attr: str) -> None:
        """``self.w = self.add_weight(name="kernel")``: the weight is registered under the attribute name."""
        old = var._attr
        if old == attr:
            return
        store = self._parameters if old in self._parameters else self._buffers
        store.pop(old, None)
        persistent = old not in self._non_persistent_buffers_set
        self._non_persistent_buffers_set.discard(old)
        self._register_variable(var, attr)
        if not persistent:
            self._non_persistent_buffers_set.add(attr)

    def __setstate__(self, state: dict) -> None:
        # a copied or unpickled layer: its variables point back at it (their weak reference is not copied)
        super().__setstate__(state)
        for attr, tensor in [*self._parameters.items(), *self._buffers.items()]:
            if isinstance(tensor, Variable) and tensor._attr == attr:
                tensor.__dict__["_owner"] = weakref.ref(self)

    def _apply(self, fn: Any, recurse: bool = True) -> WeightTracking:
        # torch replaces buffers by new tensors on `.to()`/`.half()`; each state variable takes the new
        # value in place, so the variable objects (in `weights`, in user code) stay the ones registered
        super()._apply(fn, recurse=recurse)
        for var in self._non_trainable_vars:
            current = self._buffers.get(var._attr)
            if current is not None and current is not var:
                var.data = current.detach()
                self._buffers[var._attr] = var
        return self

    # ------------------------------------------------------------------ weights
    def add_weight(
        self,
        shape: Any = None,
        initializer: Any = None,
        dtype: Any = None,
        trainable: bool = True,
        autocast: bool = True,
        regularizer: Any = None,
        constraint: Any = None,
        aggregation: str = "none",
        name: str | None = None,
        **kwargs: Any,
    ) -> Variable:
        """Creates a weight registered on this module and returns its :class:`Variable` view.

        Trainable weights are ``nn.Parameter``s, others buffers. ``initializer`` defaults
        to ``glorot_uniform`` for float weights and ``zeros`` otherwise, as in Keras.
        """
        kwargs.pop("use_resource", None)
        kwargs.pop("synchronization", None)
        if kwargs:
            raise TypeError(f"add_weight() got unexpected keyword argument(s): {', '.join(sorted(kwargs))}")
        shape = () if shape is None else standardize_shape(shape)
        if any(d is None or d < 0 for d in shape):
            raise self._error(
                "a fully defined weight shape",
                f"shape={shape} for weight {name!r}",
                "Build the layer from a known input shape.",
            )
        dtype = backend.standardize_dtype(dtype or self.variable_dtype)
        tdtype = backend.torch_dtype(dtype)
        device = getattr(_ctx, "build_device", None) or backend.default_device()
        nbytes = math.prod(shape) * tdtype.itemsize
        if nbytes > _memory_limit(device):  # refuse before the allocator fails with a RuntimeError
            raise self._error(
                "a weight that fits in memory",
                f"shape={shape} for weight {name!r} ({nbytes / 2**30:.3g} GiB; the {device.type} device has "
                f"{_memory_limit(device) / 2**30:.3g} GiB)",
                "Check the layer's sizes (units, filters, input shape) or the config it was loaded from.",
            )
        if initializer is None:
            initializer = "glorot_uniform" if tdtype.is_floating_point else "zeros"
        # an unnamed weight takes a process-wide unique name (variable, variable_1, ...), as in Keras
        vname = auto_name("variable") if name is None else name
        attr = vname
        if attr in self._parameters or attr in self._buffers or hasattr(type(self), attr) or attr in self.__dict__:
            attr = f"_w_{vname}_{len(self._trainable_vars) + len(self._non_trainable_vars)}"
        # Keras adds a weight under `name_scope(layer.name, caller=layer)`: the open scopes, then the layer's name
        # unless the innermost scope is this layer already (while `_maybe_build` runs)
        prefix = naming.current_path()
        if not naming.scope_is_open_for(self):
            prefix = f"{prefix}/{self.name}" if prefix else self.name
        path = f"{prefix}/{vname}"
        var = Variable(
            initializers.get(initializer), shape, dtype, trainable=trainable, name=vname, device=device, path=path,
            autocast=autocast, aggregation=aggregation,
        )  # fmt: skip
        var.regularizer = regularizers.get(regularizer)
        var.constraint = constraints.get(constraint)
        self._register_variable(var, attr)
        if trainable and not self._trainable:
            var.trainable = False  # a frozen layer's new weights start frozen
        (self._trainable_vars if trainable else self._non_trainable_vars).append(var)
        return var

    add_variable = add_weight

    def _own_variables(self) -> list[Variable]:
        return self._trainable_vars + self._non_trainable_vars

    def _sublayers(self) -> list[WeightTracking]:
        """Direct sub-layers in creation order (Keras's ``_layers``)."""
        return [m for m in self._modules.values() if isinstance(m, WeightTracking)]

    def _flatten_layers(self, include_self: bool = True) -> Iterator[WeightTracking]:
        seen = set()
        stack = [self] if include_self else list(reversed(self._sublayers()))
        while stack:
            layer = stack.pop()
            if id(layer) in seen:
                continue
            seen.add(id(layer))
            yield layer
            stack.extend(reversed(layer._sublayers()))

    @property
    def weights(self) -> list[Variable]:
        """All weights: own trainable, own non-trainable, then each sub-layer's (Keras order)."""
        if not self.built and self._batch_input_shape is not None:
            self._maybe_build(self._batch_input_shape)  # `input_shape=` given: the shape is known, build now
        out, seen = [], set()
        for v in self._own_variables():
            if id(v) not in seen:
                seen.add(id(v))
                out.append(v)
        for layer in self._sublayers():
            for v in layer.weights:
                if id(v) not in seen:
                    seen.add(id(v))
                    out.append(v)
        return out

    variables = weights

    @property
    def trainable_weights(self) -> list[Variable]:
        if not self.trainable:
            return []
        return [v for v in self.weights if v.trainable]

    @property
    def non_trainable_weights(self) -> list[Variable]:
        if not self.trainable:
            return self.weights
        return [v for v in self.weights if not v.trainable]

    trainable_variables = trainable_weights
    non_trainable_variables = non_trainable_weights

    @property
    def trainable(self) -> bool:
        return self._trainable

    @trainable.setter
    def trainable(self, value: bool) -> None:
        value = bool(value)
        self.__dict__["_trainable"] = value
        for v in self._trainable_vars:
            v.trainable = value
        for layer in self._sublayers():
            layer.trainable = value

    def get_weights(self) -> list[np.ndarray]:
        """Weights as NumPy arrays, in ``weights`` order."""
        return [v.numpy() for v in self.weights]

    def set_weights(self, weights: list[Any]) -> None:
        """Sets every weight from arrays in ``weights`` order; checks count and each shape first."""
        params = self.weights
        if len(params) != len(weights):
            raise ValueError(
                f'Layer "{self.name}" ({type(self).__name__}) expects {len(params)} weight arrays, but received '
                f"{len(weights)}. Provided weights: {[np.shape(w) for w in weights]}"
            )
        bad = [
            f"{v.path}: expected {v.shape}, received {tuple(np.shape(w))}"
            for v, w in zip(params, weights)
            if tuple(v.shape) != tuple(np.shape(w))
        ]
        if bad:
            raise ValueError(f'Layer "{self.name}" ({type(self).__name__}) weight shape mismatch: ' + "; ".join(bad))
        for v, w in zip(params, weights):
            v.assign(w)

    def count_params(self) -> int:
        """Number of scalars in all weights.

        Raises:
            ValueError: if the layer is not built yet.
        """
        if not self.built:
            raise ValueError(
                f'Layer "{self.name}" ({type(self).__name__}) is not built yet, so it has no weights to count. '
                "Call it on data or call `build(input_shape)` first."
            )
        return sum(math.prod(v.shape) for v in self.weights)

    # ------------------------------------------------------------------ losses
    def add_loss(self, loss: Any) -> None:
        """Adds a scalar loss (e.g. a penalty computed in ``call``) collected by ``losses``."""
        scope = get_stateless_scope()
        if scope is not None:  # Keras: a stateless block leaves the layer alone, its scope may collect the loss
            if scope.collect_losses:
                scope.add_loss(loss)
                scope._loss_owners[id(loss)] = id(self)  # what `layer.losses` reads inside the block
            return
        _LOSSES_USED[0] = True
        self._losses.append(loss)

    @property
    def losses(self) -> list[torch.Tensor]:
        """Losses from ``add_loss`` in the last call plus weight-regularization penalties."""
        out = []
        scope = get_stateless_scope()
        for layer in self._flatten_layers():
            if scope is None:
                out.extend(layer._losses)
            else:  # Keras: inside a stateless block, the losses this layer added to the scope
                out.extend(x for x in scope.losses if scope._loss_owners.get(id(x)) == id(layer))
            for v in layer._trainable_vars + layer._non_trainable_vars:
                if v.regularizer is not None:
                    out.append(v.regularizer(v._in_slot()))  # the slot: functional_call's tensor, when one is in
        return out

    def _clear_losses(self) -> None:
        for layer in self._flatten_layers():
            if layer._losses:
                layer._losses.clear()
