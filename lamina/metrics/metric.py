"""``Metric``: stateful evaluation (``update_state`` / ``result`` / ``reset_state``) as ``keras.metrics.Metric``.

State lives in :class:`~lamina.variable.Variable` objects owning torch tensors. The state follows the
data: before every ``update_state`` the base checks the device of the incoming prediction (a Python
attribute comparison) and, the first time it differs, moves all state there. Updates run under
``torch.no_grad()`` and never read values back to the host, so a training step has no hidden sync.
"""

from __future__ import annotations

import functools
from typing import Any

import torch

from lamina import backend
from lamina.backend.naming import auto_name
from lamina.losses.loss import compute_dtype_of, to_tensor
from lamina.variable import Variable


def _tensor_device(args: tuple, kwargs: dict) -> torch.device | None:
    """The device of the prediction among ``update_state``'s arguments (``y_pred`` first, else any tensor)."""
    y_pred = kwargs.get("y_pred")
    if y_pred is None and len(args) >= 2:
        y_pred = args[1]
    if isinstance(y_pred, torch.Tensor):
        return y_pred.device
    for a in (*args, *kwargs.values()):
        if isinstance(a, torch.Tensor):
            return a.device
    return None


def _wrap_update_state(fn: Any) -> Any:
    @functools.wraps(fn)
    def update_state(self: Metric, *args: Any, **kwargs: Any) -> Any:
        device = _tensor_device(args, kwargs)
        if device is not None and device != self._device:
            self._move_to(device)
        with torch.no_grad():
            return fn(self, *args, **kwargs)

    update_state._lamina_placed = True
    return update_state


class Metric:
    """Base class of metrics: subclasses create state with ``add_variable`` and implement ``update_state``
    and ``result`` (``reset_state`` zeroes every variable by default).

    Args:
        dtype: dtype of the metric's computations (default ``floatx()``).
        name: name of the metric instance (automatic from the class name by default).

    Example:
        >>> import torch
        >>> import lamina
        >>> class Count(lamina.metrics.Metric):
        ...     def __init__(self, name="count", dtype=None):
        ...         super().__init__(name=name, dtype=dtype)
        ...         self.n = self.add_variable(shape=(), initializer="zeros", name="n")
        ...     def update_state(self, y_true, y_pred, sample_weight=None):
        ...         self.n.assign_add(y_pred.shape[0])
        ...     def result(self):
        ...         return self.n.value
        >>> m = Count()
        >>> m.update_state(torch.ones(3), torch.ones(3)); m.update_state(torch.ones(2), torch.ones(2))
        >>> float(m.result())
        5.0
    """

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        fn = cls.__dict__.get("update_state")
        if fn is not None and not getattr(fn, "_lamina_placed", False):
            cls.update_state = _wrap_update_state(fn)

    def __init__(self, dtype: Any = None, name: str | None = None) -> None:
        object.__setattr__(self, "_variables", [])
        object.__setattr__(self, "_metrics", [])
        self._device: torch.device | None = None
        self.name = name or auto_name(type(self).__name__)
        self._dtype = compute_dtype_of(dtype)

    # -- state ------------------------------------------------------------------
    @property
    def dtype(self) -> str:
        return self._dtype

    @property
    def device(self) -> torch.device:
        """Where the state lives (the default device until the first update)."""
        return self._device if self._device is not None else backend.default_device()

    def add_variable(
        self, shape: Any, initializer: Any, dtype: Any = None, aggregation: str = "sum", name: str | None = None
    ) -> Variable:
        """Creates a non-trainable state variable on the metric's device and tracks it."""
        self._check_super_called()
        variable = Variable(
            initializer=initializer,
            shape=tuple(shape) if shape is not None else None,
            dtype=dtype,
            trainable=False,
            name=name,
            device=self.device,
            aggregation=aggregation,
        )
        variable.path = f"{self.name.replace('/', '>')}/{variable.name}"
        self._variables.append(variable)
        return variable

    def add_weight(
        self, shape: Any = (), initializer: Any = None, dtype: Any = None, name: str | None = None
    ) -> Variable:
        """Alias of :meth:`add_variable` (Keras's backwards-compatible name)."""
        return self.add_variable(shape=shape, initializer=initializer or "zeros", dtype=dtype, name=name)

    @property
    def variables(self) -> list[Variable]:
        out = list(self._variables)
        for m in self._metrics:
            out.extend(m.variables)
        return out

    def _move_to(self, device: torch.device) -> None:
        """Moves all state (and sub-metrics' state) to ``device``; runs once per device change."""
        for v in self._variables:
            v._move_to(device)
        for m in self._metrics:
            m._move_to(device)
        self._device = device

    def _tensor(self, x: Any, dtype: Any = None) -> torch.Tensor:
        """``x`` as a tensor on the state's device."""
        return to_tensor(x, dtype=dtype, device=self.device)

    # -- API ----------------------------------------------------------------------
    def reset_state(self) -> None:
        """Sets every state variable back to zero."""
        for v in self.variables:
            with torch.no_grad():
                v.value.zero_()

    def update_state(self, *args: Any, **kwargs: Any) -> None:
        raise NotImplementedError(f"{type(self).__name__} must implement `update_state`.")

    def result(self) -> torch.Tensor:
        raise NotImplementedError(f"{type(self).__name__} must implement `result`.")

    def __call__(self, *args: Any, **kwargs: Any) -> torch.Tensor:
        """Updates the state with a batch and returns the result so far."""
        self._check_super_called()
        self.update_state(*args, **kwargs)
        return self.result()

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, "dtype": self.dtype}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Metric:
        return cls(**config)

    def _obj_type(self) -> str:
        return "Metric"

    def __setattr__(self, name: str, value: Any) -> None:
        # Track sub-metrics and Variables assigned as attributes, as Keras's Tracker does.
        if "_variables" in self.__dict__:
            if isinstance(value, Metric) and value is not self and not any(m is value for m in self._metrics):
                self._metrics.append(value)
            elif isinstance(value, Variable) and not any(v is value for v in self._variables):
                self._variables.append(value)
        object.__setattr__(self, name, value)

    def _check_super_called(self) -> None:
        if "_variables" not in self.__dict__:
            raise RuntimeError("You forgot to call `super().__init__()` in the `__init__()` method. Go add it!")

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name}>"

    def __str__(self) -> str:
        return self.__repr__()
