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
from typing import Any

import numpy as np
import torch

from lamina import backend, serialization


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
        name: str | None = None,
        **kwargs: Any,
    ) -> Variable:
        value = _make_value(initializer, shape, dtype, kwargs.get("device"), name or "variable")
        grad = bool(trainable) and (value.is_floating_point() or value.is_complex())
        return torch.Tensor._make_subclass(cls, value, grad)

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
        synchronization: str = "auto",
        path: str | None = None,
    ) -> None:
        d = self.__dict__
        d["_keras_name"] = name or "variable"
        d["path"] = path or d["_keras_name"]
        d["_trainable"] = bool(trainable)
        d["regularizer"] = None
        d["constraint"] = None
        d["autocast"] = autocast
        d["aggregation"] = aggregation
        d["synchronization"] = synchronization
        d["_attr"] = None  # the attribute name it is registered under on its layer, if any

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
        """The tensor itself (the variable is the tensor)."""
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
        """Sets the value in place (same shape and dtype), returns the variable."""
        new = self._coerce(value)
        with torch.no_grad():
            self.copy_(new)
        return self

    def assign_add(self, value: Any) -> Variable:
        new = self._coerce(value)
        with torch.no_grad():
            self.add_(new)
        return self

    def assign_sub(self, value: Any) -> Variable:
        new = self._coerce(value)
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
        out.__dict__.update(copy.deepcopy(self.__dict__, memo))
        return out

    def __reduce_ex__(self, protocol: Any) -> tuple:
        return (_rebuild, (self.data, self.requires_grad, dict(self.__dict__)))


def _rebuild(data: torch.Tensor, requires_grad: bool, state: dict[str, Any]) -> Variable:
    v = torch.Tensor._make_subclass(Variable, data, requires_grad)
    Variable.__init__(v)
    v.__dict__.update(state)
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
            raise ValueError(f'Variable "{name}": a shape is needed when the initializer is {initializer!r}.')
        init = _initializer(initializer)
        tdtype = backend.torch_dtype(dtype)
        with torch.no_grad():
            value = init(tuple(int(s) for s in shape), dtype=tdtype)
        value = backend.convert_to_tensor(value, dtype=tdtype, device=dev)
    else:
        if isinstance(initializer, torch.Tensor):
            initializer = initializer.detach()
        value = backend.convert_to_tensor(initializer, dtype=dtype, device=dev)
        if shape is not None and tuple(value.shape) != tuple(shape):
            raise ValueError(
                f'Variable "{name}" expects an initial value of shape {tuple(shape)}, '
                f"but received shape {tuple(value.shape)}."
            )
    return value.detach().clone().contiguous()


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
