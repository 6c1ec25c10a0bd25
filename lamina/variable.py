"""``Variable``: the Keras-facing view of a weight.

A layer's weight *is* an ordinary ``nn.Parameter`` (trainable) or buffer
(state) registered on the layer under its attribute name, so ``state_dict()``,
optimizers, DDP and ``torch.compile`` see plain torch tensors. ``Variable`` is a
thin view over that tensor giving the Keras API (``.numpy()``, ``.assign()``,
``.path``). A ``Variable`` can also own its tensor (optimizer slots, metric state).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from lamina import backend, serialization


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
        name: short name (``"kernel"``); ``path`` adds the owning layers.

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
        "__weakref__",
    )

    def __init__(
        self,
        initializer: Any = None,
        shape: tuple[int, ...] | None = None,
        dtype: Any = None,
        trainable: bool = True,
        name: str | None = None,
        *,
        device: torch.device | None = None,
        aggregation: str = "none",
        autocast: bool = True,
    ) -> None:
        self._owner = None
        self._attr = None
        self.name = name or "variable"
        self.path = self.name
        self._trainable = bool(trainable)
        self.regularizer = None
        self.constraint = None
        self.autocast = autocast
        self.aggregation = aggregation
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
        """Sets the value in place (same shape), returns ``self``."""
        new = self._coerce(value)
        with torch.no_grad():
            self.value.copy_(new)
        return self

    def assign_add(self, value: Any) -> Variable:
        new = self._coerce(value)
        with torch.no_grad():
            self.value.add_(new)
        return self

    def assign_sub(self, value: Any) -> Variable:
        new = self._coerce(value)
        with torch.no_grad():
            self.value.sub_(new)
        return self

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
