"""``Variable``: the Keras-facing view of a weight.

A layer's weight *is* an ordinary ``nn.Parameter`` (trainable) or buffer
(state) registered on the layer under its attribute name, so ``state_dict()``,
optimizers, DDP and ``torch.compile`` see plain torch tensors. ``Variable`` is a
thin view over that tensor giving the Keras API (``.numpy()``, ``.assign()``,
``.path``). A ``Variable`` can also own its tensor (optimizer slots, metric state).
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np
import torch

from lamina import backend, serialization
from lamina.backend import naming

_AGGREGATIONS = (None, "none", "mean", "sum", "only_first_replica")
_SYNCHRONIZATIONS = (None, "none", "on_read", "on_write", "auto")


def _unwrap(x: Any) -> Any:
    if isinstance(x, Variable):
        return x.value
    if isinstance(x, (list, tuple)):
        return type(x)(_unwrap(v) for v in x)
    if isinstance(x, dict):
        return {k: _unwrap(v) for k, v in x.items()}
    return x


class Variable:
    """A named, optionally trainable tensor with Keras's ``Variable`` API.

    Args:
        initializer: an initializer (callable ``(shape, dtype) -> tensor``), its
            name, or an initial value (array, tensor, scalar).
        shape: the shape, needed when ``initializer`` is a callable or name.
        dtype: dtype name, default ``floatx()``.
        trainable: whether optimizers update it.
        autocast: whether mixed-precision layers read it in their compute dtype.
        aggregation: how distributed replicas combine it (``"none"``, ``"mean"``, ``"sum"``,
            ``"only_first_replica"``).
        synchronization: Keras's replica synchronization mode (``"auto"``, ``"on_read"``, ``"on_write"``...).
        name: short name (``"kernel"``; ``variable``, ``variable_1``... by default); ``path`` adds the
            owning layers or name scopes.
        layout: Keras's sharding layout for its JAX distribution; kept, without effect (as on Keras's torch
            backend).
        device: where the value lives (default: :func:`lamina.backend.default_device`).

    Example:
        >>> import lamina
        >>> v = lamina.Variable([1.0, 2.0], name="v")
        >>> v.assign_add([1.0, 1.0]).numpy().tolist()
        [2.0, 3.0]
        >>> v.shape, v.dtype
        ((2,), 'float32')
    """

    __slots__ = (
        "_owner",
        "_attr",
        "_tensor",
        "name",
        "path",
        "_trainable",
        "regularizer",
        "constraint",
        "autocast",
        "aggregation",
        "synchronization",
        "_layout",
        "__weakref__",
    )

    def __init__(
        self,
        initializer: Any,
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
        **kwargs: Any,
    ) -> None:
        if kwargs:
            raise TypeError(f"Variable() got unexpected keyword arguments: {sorted(kwargs)}")
        if name is not None and (not isinstance(name, str) or "/" in name):
            raise ValueError(
                f"Argument `name` must be a string and cannot contain character `/`. Received: name={name!r}"
            )
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
        self._owner = None
        self._attr = None
        self.name = name or naming.auto_name("variable")  # variable, variable_1, ... as in Keras
        scope = naming.current_path()  # `with lamina.name_scope("block"):` -> "block/<name>", as in Keras
        self.path = f"{scope}/{self.name}" if scope else self.name
        self._trainable = bool(trainable)
        self.regularizer = None
        self.constraint = None
        self.autocast = autocast
        self.aggregation = aggregation or "none"
        self.synchronization = synchronization or "none"
        self._layout = layout  # a sharding hint for Keras's JAX distribution: kept, without effect (as Keras on torch)
        self._tensor = _make_value(initializer, shape, dtype, device, self.name)

    # -- storage ---------------------------------------------------------------
    @classmethod
    def _view(cls, owner: torch.nn.Module, attr: str, name: str, path: str, trainable: bool) -> Variable:
        v = cls.__new__(cls)
        v._owner = owner
        v._attr = attr
        v._tensor = None
        v.name = name
        v.path = path
        v._trainable = trainable
        v.regularizer = None
        v.constraint = None
        v.autocast = True
        v.aggregation = "none"
        v.synchronization = "auto"
        v._layout = None
        return v

    @property
    def value(self) -> torch.Tensor:
        """The underlying torch tensor (the registered parameter or buffer itself)."""
        if self._owner is None:
            return self._tensor
        owner = self._owner
        t = owner._parameters.get(self._attr)
        if t is None:
            t = owner._buffers[self._attr]
        return t

    @property
    def trainable(self) -> bool:
        return self._trainable

    @trainable.setter
    def trainable(self, value: bool) -> None:
        self._trainable = bool(value)
        t = self.value
        if isinstance(t, torch.nn.Parameter):
            t.requires_grad_(self._trainable)

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.value.shape)

    @property
    def ndim(self) -> int:
        return self.value.ndim

    @property
    def dtype(self) -> str:
        return backend.standardize_dtype(self.value.dtype)

    @property
    def device(self) -> torch.device:
        return self.value.device

    # -- Keras API --------------------------------------------------------------
    def numpy(self) -> np.ndarray:
        """A NumPy copy of the value (never a view that later updates would change)."""
        value = self.value
        out = backend.to_numpy(value)
        return out.copy() if value.device.type == "cpu" and value.dtype != torch.bfloat16 else out

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        a = self.numpy()
        return a if dtype is None else a.astype(dtype)

    def _coerce(self, value: Any) -> torch.Tensor:
        t = self.value
        if isinstance(value, Variable):
            value = value.value
        new = backend.convert_to_tensor(value, dtype=t.dtype, device=t.device)
        if tuple(new.shape) != tuple(t.shape):
            if new.numel() == t.numel() and new.ndim == 0:
                new = new.expand(t.shape)
            else:
                try:
                    new = torch.broadcast_to(new, t.shape)
                except RuntimeError:
                    raise ValueError(
                        f'Variable "{self.path}" expects a value of shape {tuple(t.shape)}, '
                        f"but received shape {tuple(new.shape)}."
                    ) from None
        return new

    def assign(self, value: Any) -> Variable:
        """Sets the value in place (same shape), returns ``self``; inside a ``StatelessScope`` the new value
        is recorded in the scope instead."""
        new = self._coerce(value)
        scope = get_stateless_scope()
        if scope is not None:
            scope.add_update((self, new))
            return self
        with torch.no_grad():
            self.value.copy_(new)
        return self

    def assign_add(self, value: Any) -> Variable:
        new = self._coerce(value)
        scope = get_stateless_scope()
        if scope is not None:
            scope.add_update((self, self.value + new))
            return self
        with torch.no_grad():
            self.value.add_(new)
        return self

    def assign_sub(self, value: Any) -> Variable:
        new = self._coerce(value)
        scope = get_stateless_scope()
        if scope is not None:
            scope.add_update((self, self.value - new))
            return self
        with torch.no_grad():
            self.value.sub_(new)
        return self

    def _swap(self, tensor: torch.Tensor) -> torch.Tensor:
        """Puts ``tensor`` where the value lives (the layer's parameter/buffer slot); returns the old one."""
        if self._owner is None:
            old, self._tensor = self._tensor, tensor
            return old
        owner = self._owner
        slots = owner._parameters if self._attr in owner._parameters else owner._buffers
        old = slots[self._attr]
        slots[self._attr] = tensor  # a plain tensor for the scope's duration, as torch.func.functional_call does
        return old

    def __repr__(self) -> str:
        return f"<Variable path={self.path}, shape={self.shape}, dtype={self.dtype}, value={self.numpy()}>"

    # -- behave like a tensor in user code --------------------------------------
    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):  # noqa: ANN001, ANN206
        return func(*_unwrap(args), **_unwrap(kwargs or {}))

    def __getitem__(self, idx: Any) -> torch.Tensor:
        return self.value[idx]

    def __len__(self) -> int:
        return len(self.value)

    def __float__(self) -> float:
        return float(self.value)

    def __int__(self) -> int:
        return int(self.value)

    def __bool__(self) -> bool:
        return bool(self.value)

    def __hash__(self) -> int:
        return id(self)

    def __eq__(self, other: Any) -> Any:  # elementwise, as Keras
        return self.value == _unwrap(other)

    def __ne__(self, other: Any) -> Any:
        return self.value != _unwrap(other)

    def __lt__(self, other: Any) -> Any:
        return self.value < _unwrap(other)

    def __le__(self, other: Any) -> Any:
        return self.value <= _unwrap(other)

    def __gt__(self, other: Any) -> Any:
        return self.value > _unwrap(other)

    def __ge__(self, other: Any) -> Any:
        return self.value >= _unwrap(other)

    def __neg__(self) -> torch.Tensor:
        return -self.value

    def __abs__(self) -> torch.Tensor:
        return self.value.abs()

    def __add__(self, o: Any) -> torch.Tensor:
        return self.value + _unwrap(o)

    def __radd__(self, o: Any) -> torch.Tensor:
        return _unwrap(o) + self.value

    def __sub__(self, o: Any) -> torch.Tensor:
        return self.value - _unwrap(o)

    def __rsub__(self, o: Any) -> torch.Tensor:
        return _unwrap(o) - self.value

    def __mul__(self, o: Any) -> torch.Tensor:
        return self.value * _unwrap(o)

    def __rmul__(self, o: Any) -> torch.Tensor:
        return _unwrap(o) * self.value

    def __truediv__(self, o: Any) -> torch.Tensor:
        return self.value / _unwrap(o)

    def __rtruediv__(self, o: Any) -> torch.Tensor:
        return _unwrap(o) / self.value

    def __pow__(self, o: Any) -> torch.Tensor:
        return self.value ** _unwrap(o)

    def __rpow__(self, o: Any) -> torch.Tensor:
        return _unwrap(o) ** self.value

    def __matmul__(self, o: Any) -> torch.Tensor:
        return self.value @ _unwrap(o)

    def __rmatmul__(self, o: Any) -> torch.Tensor:
        return _unwrap(o) @ self.value


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
            target = k.value
            value = v.value if isinstance(v, Variable) else v
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
            self._originals[key] = var._swap(self.state_mapping[key])
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
            self._originals.setdefault(key, old)

    def get_current_value(self, variable: Variable) -> torch.Tensor | None:
        """The variable's value in this scope (mapped or updated), or ``None`` if the scope never saw it."""
        key = id(variable)
        if key in self._originals and self._active:
            return variable.value  # the swapped slot: also sees torch-level in-place updates
        return self.state_mapping.get(key)

    def __exit__(self, *exc: Any) -> None:
        for key, original in self._originals.items():
            var = self._variables[key]
            self.state_mapping[key] = var._swap(original)
        self._originals.clear()
        self._active = False
        _scopes.stateless = self.original_scope


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
            raise ValueError(f'Variable "{name}": a shape is needed when the initializer is {initializer!r}.')
        init = _initializer(initializer)
        tdtype = backend.torch_dtype(dtype)
        with torch.no_grad():
            value = init(tuple(int(s) for s in shape), dtype=tdtype)
        value = backend.convert_to_tensor(value, dtype=tdtype, device=dev)
    else:
        value = backend.convert_to_tensor(initializer, dtype=dtype, device=dev)
        if shape is not None and tuple(value.shape) != tuple(shape):
            raise ValueError(
                f'Variable "{name}" expects an initial value of shape {tuple(shape)}, '
                f"but received shape {tuple(value.shape)}."
            )
    return value.detach().clone()
