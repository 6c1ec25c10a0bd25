"""``Variable``: a weight that is at once Keras's ``Variable`` and a real ``torch.nn.Parameter``.

One object everywhere: what ``add_weight`` returns, what ``layer.kernel`` holds, what ``layer.weights``
lists and what ``model.parameters()`` / ``state_dict()`` / a torch optimizer / DDP / ``torch.compile``
see is the same tensor. On top of the tensor it carries Keras's API: ``.assign()``, ``.assign_add()``,
``.assign_sub()``, ``.numpy()``, ``.value``, ``.path``, ``.name``, ``.trainable``.

A trainable weight is registered on its layer as a parameter, a non-trainable one (a BatchNormalization
moving mean, a metric's count) as a buffer; both are ``Variable`` objects. Arithmetic on a variable gives
plain tensors, as torch does for parameters.

Two things follow from being a real tensor: ``variable.dtype`` is the ``torch.dtype``
(``lamina.backend.standardize_dtype(v.dtype)`` gives Keras's name), and ``variable.shape`` is a
``torch.Size`` (a tuple, so ``v.shape == (2, 3)`` holds).
"""

from __future__ import annotations

import copy
import threading
from typing import Any

import numpy as np
import torch

from lamina import backend, serialization
from lamina.backend import naming

_AGGREGATIONS = (None, "none", "mean", "sum", "only_first_replica")
_SYNCHRONIZATIONS = (None, "none", "on_read", "on_write", "auto")


class Variable(torch.nn.Parameter):
    """A named, optionally trainable tensor with Keras's ``Variable`` API.

    Args:
        initializer: an initializer (callable ``(shape, dtype) -> tensor``), its name, or an initial value
            (array, tensor, scalar).
        shape: the shape, needed when ``initializer`` is a callable or name.
        dtype: dtype name, default ``floatx()`` (a value's own dtype when it is an array or tensor).
        trainable: whether optimizers update it (``requires_grad``).
        name: short name (``"kernel"``); ``path`` adds the owning layers (``"dense/kernel"``).

    Example:
        >>> import lamina
        >>> v = lamina.Variable([1.0, 2.0], name="v")
        >>> v.assign_add([1.0, 1.0]).numpy().tolist()
        [2.0, 3.0]
        >>> tuple(v.shape), v.path, v.trainable
        ((2,), 'v', True)
        >>> (v * 2).tolist()
        [4.0, 6.0]
    """

    def __new__(
        cls,
        initializer: Any = None,
        shape: tuple[int, ...] | None = None,
        dtype: Any = None,
        trainable: bool = True,
        autocast: bool = True,
        aggregation: str | None = "none",
        synchronization: str | None = "auto",
        name: str | None = None,
        layout: Any = None,
        **kwargs: Any,
    ) -> Variable:
        _check_arguments(name, aggregation, synchronization, kwargs)
        value = _make_value(initializer, shape, dtype, kwargs.get("device"), name or "variable")
        grad = bool(trainable) and (value.is_floating_point() or value.is_complex())
        return torch.Tensor._make_subclass(cls, value, grad)

    def __init__(
        self,
        initializer: Any = None,
        shape: tuple[int, ...] | None = None,
        dtype: Any = None,
        trainable: bool = True,
        autocast: bool = True,
        aggregation: str | None = "none",
        synchronization: str | None = "auto",
        name: str | None = None,
        layout: Any = None,
        *,
        device: torch.device | None = None,
        path: str | None = None,
    ) -> None:
        d = self.__dict__
        d["_keras_name"] = name or naming.auto_name("variable")  # variable, variable_1, ... as in Keras
        if path is None:
            scope = naming.current_path()  # `with lamina.name_scope("block"):` -> "block/<name>", as in Keras
            path = f"{scope}/{d['_keras_name']}" if scope else d["_keras_name"]
        d["path"] = path
        d["_trainable"] = bool(trainable)
        d["regularizer"] = None
        d["constraint"] = None
        d["autocast"] = autocast
        d["aggregation"] = aggregation or "none"
        d["synchronization"] = synchronization or "none"
        d["_layout"] = layout  # a sharding hint for Keras's JAX distribution: kept, without effect (as Keras on torch)
        d["_attr"] = None  # the attribute name it is registered under on its layer, if any
        d["_owner"] = None  # a weak reference to that layer (set when it registers the variable)

    # -- Keras API ------------------------------------------------------------------------------------
    @property
    def name(self) -> str:  # type: ignore[override]
        """The short name (``"kernel"``); torch's own read-only ``Tensor.name`` is shadowed."""
        return self.__dict__.get("_keras_name", "variable")

    @name.setter
    def name(self, value: str) -> None:
        self.__dict__["_keras_name"] = value

    @property
    def value(self) -> torch.Tensor:
        """The tensor itself (the variable is the tensor); inside a ``StatelessScope`` that maps or updated this
        variable, the scope's value."""
        scope = get_stateless_scope()
        if scope is not None:
            mapped = scope.state_mapping.get(id(self))
            if mapped is not None:
                return mapped
        return self

    @property
    def trainable(self) -> bool:
        return self._trainable

    @trainable.setter
    def trainable(self, value: bool) -> None:
        self.__dict__["_trainable"] = bool(value)
        if self.is_floating_point() or self.is_complex():
            self.requires_grad_(bool(value))

    def numpy(self, *, force: bool = False) -> np.ndarray:  # type: ignore[override]
        """A NumPy copy of the value (never a view that later updates would change); ``force`` is torch's
        argument, accepted for torch's own callers (a copy is always made)."""
        out = backend.to_numpy(self)
        return out.copy() if self.device.type == "cpu" and self.dtype != torch.bfloat16 else out

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        a = self.numpy()
        return a if dtype is None else a.astype(dtype)

    def _coerce(self, value: Any) -> torch.Tensor:
        new = backend.convert_to_tensor(value, dtype=self.dtype, device=self.device)
        if new.shape != self.shape:
            try:
                new = torch.broadcast_to(new, self.shape)
            except RuntimeError:
                raise ValueError(
                    f'Variable "{self.path}" expects a value of shape {tuple(self.shape)}, '
                    f"but received shape {tuple(new.shape)}."
                ) from None
        return new

    def assign(self, value: Any) -> Variable:
        """Sets the value in place (same shape and dtype), returns the variable; inside a ``StatelessScope`` the
        new value is recorded in the scope instead."""
        new = self._coerce(value)
        scope = get_stateless_scope()
        if scope is not None:  # recorded in the scope; the variable keeps its value
            scope.add_update((self, new))
            return self
        with torch.no_grad():
            self.copy_(new)
        return self

    def assign_add(self, value: Any) -> Variable:
        new = self._coerce(value)
        scope = get_stateless_scope()
        if scope is not None:  # recorded in the scope; the variable keeps its value
            scope.add_update((self, self.value + new))
            return self
        with torch.no_grad():
            self.add_(new)
        return self

    def assign_sub(self, value: Any) -> Variable:
        new = self._coerce(value)
        scope = get_stateless_scope()
        if scope is not None:  # recorded in the scope; the variable keeps its value
            scope.add_update((self, self.value - new))
            return self
        with torch.no_grad():
            self.sub_(new)
        return self

    def _move_to(self, device: torch.device) -> None:
        """Moves the value to ``device`` in place (the object stays the same)."""
        if self.device == device:
            return
        moved = self.data.to(device)
        try:
            self.data = moved
        except RuntimeError:  # tensor types torch cannot swap storage between (e.g. to "meta"): swap whole tensors
            state = dict(self.__dict__)
            torch.utils.swap_tensors(self, torch.Tensor._make_subclass(Variable, moved, self.requires_grad))
            self.__dict__.update(state)

    def __repr__(self) -> str:  # type: ignore[override]
        dtype = backend.standardize_dtype(self.dtype)
        return f"<Variable path={self.path}, shape={tuple(self.shape)}, dtype={dtype}, value={self.numpy()}>"

    # -- copies keep the class and the Keras attributes ------------------------------------------------
    def __deepcopy__(self, memo: dict) -> Variable:
        if id(self) in memo:
            return memo[id(self)]
        out = _rebuild(self.data.clone(memory_format=torch.preserve_format), self.requires_grad, {})
        memo[id(self)] = out
        state = {k: v for k, v in self.__dict__.items() if k != "_owner"}
        out.__dict__.update(copy.deepcopy(state, memo))
        out.__dict__["_owner"] = None  # the copied layer re-points it (WeightTracking.__setstate__)
        return out

    def __reduce_ex__(self, protocol: Any) -> tuple:
        state = dict(self.__dict__)
        state["_owner"] = None  # a weak reference does not pickle; the layer re-points it when it is rebuilt
        return (_rebuild, (self.data, self.requires_grad, state))

    def _slots(self) -> dict[str, Any] | None:
        """The dict of the owning layer that holds this variable's slot (its parameters or its buffers), or ``None``
        when the variable belongs to no layer."""
        owner = self._owner() if self._owner is not None else None
        if owner is None or self._attr is None:
            return None
        return owner._parameters if self._attr in owner._parameters else owner._buffers

    def _in_slot(self) -> torch.Tensor:
        """What the owning layer computes with: the tensor in its slot (``torch.func.functional_call`` puts its own
        tensors there, a ``StatelessScope`` its values), else ``value``."""
        slots = self._slots()
        slot = None if slots is None else slots.get(self._attr)
        return slot if slot is not None and slot is not self else self.value

    def _swap(self, tensor: torch.Tensor | None) -> torch.Tensor | None:
        """Puts ``tensor`` in the slot of the layer that registered this variable (what the layer's code reads
        as ``self.kernel``) and returns what was there; ``None`` when the variable belongs to no layer (then only
        ``.value`` reads the scope's value)."""
        slots = self._slots()
        if slots is None:
            return None
        old = slots[self._attr]
        # for the scope's duration the slot holds the scope's value (as torch.func.functional_call does), seen
        # through a `_ScopedVariable` so that `layer.kernel.assign(...)`, `.value` and `.path` still work
        restore = tensor is None or tensor is self or isinstance(tensor, _ScopedVariable)  # the slot's earlier content
        slots[self._attr] = tensor if restore else _scoped(self, tensor)
        return old


class _ScopedVariable(Variable):
    """What a layer's slot holds inside a ``StatelessScope``: the scope's value (sharing its storage and its
    autograd history), with the Keras attributes of the variable it stands for; ``assign`` and ``value`` go to
    that variable, so they reach the scope."""

    @property
    def value(self) -> torch.Tensor:
        return self._source.value

    def assign(self, value: Any) -> Variable:
        return self._source.assign(value)

    def assign_add(self, value: Any) -> Variable:
        return self._source.assign_add(value)

    def assign_sub(self, value: Any) -> Variable:
        return self._source.assign_sub(value)

    def numpy(self, *, force: bool = False) -> np.ndarray:  # type: ignore[override]
        return backend.to_numpy(self.detach().as_subclass(torch.Tensor)).copy()

    def __deepcopy__(self, memo: dict) -> Variable:
        return copy.deepcopy(self._source, memo)

    def __reduce_ex__(self, protocol: Any) -> tuple:
        return self._source.__reduce_ex__(protocol)


def _scoped(variable: Variable, tensor: torch.Tensor) -> _ScopedVariable:
    out = tensor.as_subclass(_ScopedVariable)  # a view: in-place updates land on the scope's tensor
    out.__dict__.update({k: v for k, v in variable.__dict__.items() if k != "_owner"})
    out.__dict__["_owner"] = None
    out.__dict__["_source"] = variable
    return out


_scopes = threading.local()


def get_stateless_scope() -> StatelessScope | None:
    """The innermost open ``StatelessScope`` of this thread, or ``None``."""
    return getattr(_scopes, "stateless", None)


def in_stateless_scope() -> bool:
    return get_stateless_scope() is not None


class StatelessScope:
    """A block in which variables are not updated: values come from ``state_mapping`` and updates are
    recorded in the scope, as Keras's ``StatelessScope`` does.

    Inside the block, each variable of ``state_mapping`` holds the given value (layers compute with it),
    and ``variable.assign(...)`` (``assign_add``, ``assign_sub``) records the new value in the scope
    instead of changing the variable; ``scope.get_current_value(variable)`` reads it. On exit every
    variable has its original value again. Updates that a layer makes to a variable of the mapping
    directly in torch (``BatchNormalization``'s moving statistics) land on the scope's copy; variables
    left out of the mapping are read as they are, so pass every variable the code may update.

    Args:
        state_mapping: ``[(variable, value), ...]``: the values the variables take in the block.
        collect_losses: collect the losses layers add inside the block in ``scope.losses``.
        initialize_variables: accepted for Keras compatibility (Lamina variables are created initialized).

    Example:
        >>> import torch, lamina
        >>> layer = lamina.layers.Dense(1, use_bias=False, kernel_initializer="ones")
        >>> layer.build((None, 2))
        >>> kernel = layer.weights[0]
        >>> with lamina.StatelessScope([(kernel, torch.full((2, 1), 3.0))]) as scope:
        ...     y = layer(torch.ones(1, 2))
        ...     _ = kernel.assign(torch.zeros(2, 1))
        ...     updated = scope.get_current_value(kernel)
        >>> y.tolist(), updated.flatten().tolist(), kernel.numpy().flatten().tolist()
        ([[6.0]], [0.0, 0.0], [1.0, 1.0])
    """

    def __init__(
        self, state_mapping: Any = None, collect_losses: bool = False, initialize_variables: bool = True
    ) -> None:
        self.collect_losses = collect_losses
        self.initialize_variables = initialize_variables
        self.losses: list[Any] = []
        self._loss_owners: dict[int, int] = {}  # id(loss) -> id(layer that added it)
        self.state_mapping: dict[int, torch.Tensor] = {}
        self._variables: dict[int, Variable] = {}
        self._originals: dict[int, torch.Tensor] = {}
        self._active = False
        for pair in state_mapping or []:
            if not isinstance(pair, (tuple, list)) or len(pair) != 2:
                raise ValueError(
                    f"`state_mapping` must be a list of (variable, value) pairs. Received an item: {pair!r}"
                )
            k, v = pair
            if not isinstance(k, Variable):
                raise ValueError(
                    "Invalid reference variable in StatelessScope: all keys in argument `mapping` must be "
                    f"Variable instances. Received instead: {k!r}"
                )
            target = k.data
            value = v.data if isinstance(v, Variable) else v
            value = backend.convert_to_tensor(value, dtype=target.dtype, device=target.device)
            if tuple(value.shape) != tuple(target.shape):
                raise ValueError(
                    "Invalid variable value in StatelessScope: all values in argument `mapping` must be tensors "
                    f"with a shape that matches the corresponding variable shape. For variable {k.path} of shape "
                    f"{tuple(target.shape)}, received a value of shape {tuple(value.shape)}."
                )
            # a copy (differentiable), so torch-level in-place updates never reach the caller's tensor
            self.state_mapping[id(k)] = value.clone()
            self._variables[id(k)] = k

    def __enter__(self) -> StatelessScope:
        self.original_scope = get_stateless_scope()
        _scopes.stateless = self
        self._active = True
        for key, var in self._variables.items():
            self._originals[key] = var._swap(self.state_mapping[key])  # None for a variable of no layer
        return self

    def add_loss(self, loss: Any) -> None:
        self.losses.append(loss)

    def add_update(self, update: tuple[Variable, Any]) -> None:
        """Records ``(variable, new_value)``: the variable reads ``new_value`` until the block ends."""
        variable, value = update
        key = id(variable)
        self.state_mapping[key] = value
        self._variables[key] = variable
        if self._active:
            old = variable._swap(value)
            if key not in self._originals:
                self._originals[key] = old

    def get_current_value(self, variable: Variable) -> torch.Tensor | None:
        """The variable's value in this scope (mapped or updated), or ``None`` if the scope never saw it."""
        variable = getattr(variable, "_source", variable)  # `layer.kernel` read inside the scope
        return self.state_mapping.get(id(variable))  # the tensor in the layer's slot: in-place updates land on it

    def __exit__(self, *exc: Any) -> None:
        for key, original in self._originals.items():
            if original is not None:
                self._variables[key]._swap(original)
        self._originals.clear()
        self._active = False
        _scopes.stateless = self.original_scope


def update_state(variable: torch.Tensor, value: torch.Tensor) -> None:
    """Writes ``value`` into a layer's state ``variable`` in place (a moving statistic); inside a
    ``StatelessScope`` the update is recorded in the scope instead, so the variable keeps its value, as Keras's
    ``assign`` inside a scope does."""
    if get_stateless_scope() is not None and isinstance(variable, Variable):
        variable.assign(value)
        return
    with torch.no_grad():
        variable.copy_(value)


def _rebuild(data: torch.Tensor, requires_grad: bool, state: dict[str, Any]) -> Variable:
    v = torch.Tensor._make_subclass(Variable, data, requires_grad)
    v.__dict__.update(state)  # not __init__: an unnamed rebuild must not draw a name (variable_N) from the counter
    return v


def _initializer(identifier: Any) -> Any:
    """An initializer from a callable or a name (looked up in the registry: initializers sit above us)."""
    if not isinstance(identifier, str):
        return identifier
    init = serialization.get_builtin("keras.initializers", identifier)
    if init is None:
        raise ValueError(f"Unknown initializer: {identifier!r}. Pass an initializer object or a known name.")
    return init() if isinstance(init, type) else init


def _make_value(initializer: Any, shape: Any, dtype: Any, device: Any, name: str) -> torch.Tensor:
    dev = device if device is not None else backend.default_device()
    if isinstance(initializer, str) or (callable(initializer) and not isinstance(initializer, torch.Tensor)):
        if shape is None:
            raise ValueError(
                f'Variable "{name}": when creating a Variable from an initializer, the `shape` argument should be '
                f"specified. Received: initializer={initializer!r} and shape={shape}"
            )
        init = _initializer(initializer)
        tdtype = backend.torch_dtype(dtype)
        with torch.no_grad():
            value = init(tuple(int(s) for s in shape), dtype=tdtype)
        value = backend.convert_to_tensor(value, dtype=tdtype, device=dev)
    else:
        if isinstance(initializer, torch.Tensor):
            initializer = initializer.detach()
        elif dtype is None and isinstance(initializer, (np.ndarray, np.generic)):
            dtype = initializer.dtype  # Keras: an array keeps its own dtype (float64 stays float64)
        value = backend.convert_to_tensor(initializer, dtype=dtype, device=dev)
        if shape is not None and tuple(value.shape) != tuple(shape):
            raise ValueError(
                f'Variable "{name}" expects an initial value of shape {tuple(shape)}, '
                f"but received shape {tuple(value.shape)}."
            )
    return value.detach().clone().contiguous()


def _check_arguments(name: Any, aggregation: Any, synchronization: Any, kwargs: dict) -> None:
    """Keras's argument checks, with its messages."""
    extra = set(kwargs) - {"device", "path"}
    if extra:
        raise TypeError(f"Variable() got unexpected keyword arguments: {sorted(extra)}")
    if name is not None and (not isinstance(name, str) or "/" in name):
        raise ValueError(f"Argument `name` must be a string and cannot contain character `/`. Received: name={name!r}")
    if aggregation not in _AGGREGATIONS:
        raise ValueError(
            "Invalid value for argument `aggregation`. Expected one of `None`, `'none'`, `'mean'`, `'sum'`, "
            f"`'only_first_replica'`. Received: aggregation={aggregation!r}"
        )
    if synchronization not in _SYNCHRONIZATIONS:
        raise ValueError(
            "Invalid value for argument `synchronization`. Expected one of `None`, `'none'`, `'on_read'`, "
            f"`'on_write'`, `'auto'`. Received: synchronization={synchronization!r}"
        )


def _allow_multi_tensor_optimizers() -> None:
    """torch's optimizers pick their fast multi-tensor (foreach/fused) paths only for parameters whose type is
    exactly ``Tensor`` or ``Parameter``. A ``Variable``'s tensor ops are plain torch ops (its torch-function
    hook is torch's own disabled one), so it qualifies: add it to those lists, so that
    ``torch.optim.Adam(model.parameters())`` on a GPU keeps its default fast path for a Lamina model."""
    import torch.optim.optimizer as optim_module
    import torch.utils._foreach_utils as foreach_utils

    for module in (optim_module, foreach_utils):
        supported = getattr(module, "_foreach_supported_types", None)
        if isinstance(supported, list) and Variable not in supported:
            supported.append(Variable)


_allow_multi_tensor_optimizers()
