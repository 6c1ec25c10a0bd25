"""Learning-rate schedules (``keras.optimizers.schedules``), computed as torch tensors.

A schedule is called with the optimizer's step counter (a device tensor) and returns
the learning rate as a 0-d tensor on the same device, with Keras 3's arithmetic.

Example:
    >>> import lamina
    >>> s = lamina.optimizers.schedules.ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5)
    >>> round(float(s(10)), 6)
    0.05
"""

from __future__ import annotations

import math
from typing import Any

import torch

from lamina import backend, serialization
from lamina.variable import Variable


def _step_tensor(step: Any) -> torch.Tensor:
    if isinstance(step, Variable):
        step = step.value
    if isinstance(step, torch.Tensor):
        return step
    if isinstance(step, bool) or not isinstance(step, (int, float)):
        step = float(step) if not isinstance(step, int) else int(step)
    dtype = torch.int32 if isinstance(step, int) else backend.torch_dtype(backend.floatx())
    return torch.full((), step, dtype=dtype, device=backend.default_device())


def _const(value: Any, like: torch.Tensor, dtype: torch.dtype | None = None) -> torch.Tensor:
    """``value`` as a 0-d tensor made on ``like``'s device (a float default of ``floatx``)."""
    if isinstance(value, torch.Tensor):
        return value.to(device=like.device, dtype=dtype or value.dtype)
    if dtype is None:
        if isinstance(value, bool):
            dtype = torch.bool
        elif isinstance(value, int):
            dtype = torch.int32
        else:
            dtype = backend.torch_dtype(backend.floatx())
    return torch.full((), value, dtype=dtype, device=like.device)


def _float_dtype(initial_learning_rate: Any) -> torch.dtype:
    if isinstance(initial_learning_rate, torch.Tensor) and initial_learning_rate.is_floating_point():
        return initial_learning_rate.dtype
    return backend.torch_dtype(backend.floatx())


class LearningRateSchedule:
    """Base class: ``__call__(step) -> learning rate`` plus ``get_config``.

    Example:
        >>> import lamina
        >>> class Halving(lamina.optimizers.schedules.LearningRateSchedule):
        ...     def __call__(self, step):
        ...         return 1.0 / (2 ** step)
        ...     def get_config(self):
        ...         return {}
        >>> Halving()(3)
        0.125
    """

    def __call__(self, step: Any) -> Any:
        raise NotImplementedError(
            f"Learning rate schedule '{self.__class__.__name__}' must override `__call__(self, step)`."
        )

    def get_config(self) -> dict[str, Any]:
        raise NotImplementedError(
            f"Learning rate schedule '{self.__class__.__name__}' must override `get_config()` "
            "in order to be serializable."
        )

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> LearningRateSchedule:
        return cls(**config)


def _check_decay_steps(name: str, value: Any) -> None:
    if value <= 0:
        raise ValueError(f"Argument `{name}` must be > 0. Received: {name}={value}")


class ExponentialDecay(LearningRateSchedule):
    """``initial_learning_rate * decay_rate ** (step / decay_steps)`` (integer division with ``staircase``).

    Example:
        >>> import lamina
        >>> s = lamina.optimizers.schedules.ExponentialDecay(1.0, 2, 0.5, staircase=True)
        >>> [float(s(i)) for i in range(4)]
        [1.0, 1.0, 0.5, 0.5]
    """

    def __init__(
        self,
        initial_learning_rate: float,
        decay_steps: int,
        decay_rate: float,
        staircase: bool = False,
        name: str = "ExponentialDecay",
    ) -> None:
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.decay_rate = decay_rate
        self.staircase = staircase
        self.name = name
        _check_decay_steps("decay_steps", decay_steps)

    def __call__(self, step: Any) -> torch.Tensor:
        step = _step_tensor(step)
        dtype = _float_dtype(self.initial_learning_rate)
        initial_learning_rate = _const(self.initial_learning_rate, step, dtype)
        decay_steps = _const(self.decay_steps, step, dtype)
        decay_rate = _const(self.decay_rate, step, dtype)
        p = step.to(dtype) / decay_steps
        if self.staircase:
            p = torch.floor(p)
        return initial_learning_rate * torch.pow(decay_rate, p)

    def get_config(self) -> dict[str, Any]:
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "decay_rate": self.decay_rate,
            "staircase": self.staircase,
            "name": self.name,
        }


class PiecewiseConstantDecay(LearningRateSchedule):
    """``values[0]`` while ``step <= boundaries[0]``, ``values[1]`` up to ``boundaries[1]``, and so on.

    Example:
        >>> import lamina
        >>> s = lamina.optimizers.schedules.PiecewiseConstantDecay([2, 4], [1.0, 0.5, 0.1])
        >>> [round(float(s(i)), 2) for i in (0, 2, 3, 5)]
        [1.0, 1.0, 0.5, 0.1]
    """

    def __init__(self, boundaries: list[Any], values: list[Any], name: str = "PiecewiseConstant") -> None:
        if len(boundaries) != len(values) - 1:
            raise ValueError(
                "The length of boundaries should be 1 less than the length of values. Received: "
                f"boundaries={boundaries} of length {len(boundaries)}, and values={values} of length {len(values)}."
            )
        self.boundaries = boundaries
        self.values = values
        self.name = name

    def __call__(self, step: Any) -> torch.Tensor:
        step = _step_tensor(step)
        boundaries = [_const(b, step).to(step.dtype) for b in self.boundaries]
        values = [_const(v, step) for v in self.values]
        result_dtype = values[0].dtype
        result = torch.zeros((), dtype=result_dtype, device=step.device)
        result = result + (step <= boundaries[0]).to(result_dtype) * values[0]
        result = result + (step > boundaries[-1]).to(result_dtype) * values[-1]
        for low, high, value in zip(boundaries[:-1], boundaries[1:], values[1:-1]):
            result = result + ((step > low) & (step <= high)).to(result_dtype) * value
        return result

    def get_config(self) -> dict[str, Any]:
        return {"boundaries": self.boundaries, "values": self.values, "name": self.name}


class PolynomialDecay(LearningRateSchedule):
    """Polynomial decay from ``initial_learning_rate`` to ``end_learning_rate`` over ``decay_steps`` (or cycles).

    Example:
        >>> import lamina
        >>> s = lamina.optimizers.schedules.PolynomialDecay(1.0, 4, end_learning_rate=0.0)
        >>> [float(s(i)) for i in (0, 2, 4, 8)]
        [1.0, 0.5, 0.0, 0.0]
    """

    def __init__(
        self,
        initial_learning_rate: float,
        decay_steps: int,
        end_learning_rate: float = 0.0001,
        power: float = 1.0,
        cycle: bool = False,
        name: str = "PolynomialDecay",
    ) -> None:
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.end_learning_rate = end_learning_rate
        self.power = power
        self.cycle = cycle
        self.name = name
        _check_decay_steps("decay_steps", decay_steps)

    def __call__(self, step: Any) -> torch.Tensor:
        step = _step_tensor(step)
        dtype = _float_dtype(self.initial_learning_rate)
        initial_learning_rate = _const(self.initial_learning_rate, step, dtype)
        end_learning_rate = _const(self.end_learning_rate, step, dtype)
        power = _const(self.power, step, dtype)
        global_step_recomp = step.to(dtype)
        decay_steps_recomp = _const(self.decay_steps, step, dtype)
        if self.cycle:
            multiplier = torch.where(
                global_step_recomp == 0, _const(1.0, step, dtype), torch.ceil(global_step_recomp / self.decay_steps)
            )
            decay_steps_recomp = decay_steps_recomp * multiplier
        else:
            global_step_recomp = torch.minimum(global_step_recomp, decay_steps_recomp)
        p = global_step_recomp / decay_steps_recomp
        return (initial_learning_rate - end_learning_rate) * torch.pow(1 - p, power) + end_learning_rate

    def get_config(self) -> dict[str, Any]:
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "end_learning_rate": self.end_learning_rate,
            "power": self.power,
            "cycle": self.cycle,
            "name": self.name,
        }


class InverseTimeDecay(LearningRateSchedule):
    """``initial_learning_rate / (1 + decay_rate * step / decay_steps)`` (integer division with ``staircase``).

    Example:
        >>> import lamina
        >>> s = lamina.optimizers.schedules.InverseTimeDecay(1.0, 1, 1.0)
        >>> [float(s(i)) for i in (0, 1, 3)]
        [1.0, 0.5, 0.25]
    """

    def __init__(
        self,
        initial_learning_rate: float,
        decay_steps: int,
        decay_rate: float,
        staircase: bool = False,
        name: str = "InverseTimeDecay",
    ) -> None:
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.decay_rate = decay_rate
        self.staircase = staircase
        self.name = name
        _check_decay_steps("decay_steps", decay_steps)

    def __call__(self, step: Any) -> torch.Tensor:
        step = _step_tensor(step)
        dtype = _float_dtype(self.initial_learning_rate)
        initial_learning_rate = _const(self.initial_learning_rate, step, dtype)
        decay_steps = _const(self.decay_steps, step, dtype)
        decay_rate = _const(self.decay_rate, step, dtype)
        p = step.to(dtype) / decay_steps
        if self.staircase:
            p = torch.floor(p)
        denom = _const(1, step, dtype) + decay_rate * p
        return initial_learning_rate / denom

    def get_config(self) -> dict[str, Any]:
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "decay_rate": self.decay_rate,
            "staircase": self.staircase,
            "name": self.name,
        }


class CosineDecay(LearningRateSchedule):
    """Cosine decay (Loshchilov & Hutter), with an optional linear warmup to ``warmup_target``.

    Example:
        >>> import lamina
        >>> s = lamina.optimizers.schedules.CosineDecay(0.0, 10, warmup_target=1.0, warmup_steps=10)
        >>> [round(float(s(i)), 3) for i in (0, 5, 10, 15, 20)]
        [0.0, 0.5, 1.0, 0.5, 0.0]
    """

    def __init__(
        self,
        initial_learning_rate: float,
        decay_steps: int,
        alpha: float = 0.0,
        name: str = "CosineDecay",
        warmup_target: float | None = None,
        warmup_steps: int = 0,
    ) -> None:
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.alpha = alpha
        self.name = name
        self.warmup_steps = warmup_steps
        self.warmup_target = warmup_target
        _check_decay_steps("decay_steps", decay_steps)

    def _decay_function(
        self, step: torch.Tensor, decay_steps: torch.Tensor, decay_from_lr: torch.Tensor, dtype: torch.dtype
    ) -> torch.Tensor:
        completed_fraction = step / decay_steps
        pi = _const(math.pi, step, dtype)
        cosine_decayed = 0.5 * (1.0 + torch.cos(pi * completed_fraction))
        decayed = (1 - self.alpha) * cosine_decayed + self.alpha
        return decay_from_lr * decayed

    def _warmup_function(
        self,
        step: torch.Tensor,
        warmup_steps: torch.Tensor,
        warmup_target: torch.Tensor,
        initial_learning_rate: torch.Tensor,
    ) -> torch.Tensor:
        completed_fraction = step / warmup_steps
        total_step_delta = warmup_target - initial_learning_rate
        return total_step_delta * completed_fraction + initial_learning_rate

    def __call__(self, step: Any) -> torch.Tensor:
        step = _step_tensor(step)
        dtype = _float_dtype(self.initial_learning_rate)
        initial_learning_rate = _const(self.initial_learning_rate, step, dtype)
        decay_steps = _const(self.decay_steps, step, dtype)
        global_step_recomp = step.to(dtype)
        if self.warmup_target is None:
            global_step_recomp = torch.minimum(global_step_recomp, decay_steps)
            return self._decay_function(global_step_recomp, decay_steps, initial_learning_rate, dtype)
        warmup_target = _const(self.warmup_target, step, dtype)
        warmup_steps = _const(self.warmup_steps, step, dtype)
        global_step_recomp = torch.minimum(global_step_recomp, decay_steps + warmup_steps)
        # Both branches on the device, then select (Keras's ops.cond without a host read).
        warm = self._warmup_function(global_step_recomp, warmup_steps, warmup_target, initial_learning_rate)
        decay = self._decay_function(global_step_recomp - warmup_steps, decay_steps, warmup_target, dtype)
        return torch.where(global_step_recomp < warmup_steps, warm, decay)

    def get_config(self) -> dict[str, Any]:
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "alpha": self.alpha,
            "name": self.name,
            "warmup_target": self.warmup_target,
            "warmup_steps": self.warmup_steps,
        }


class CosineDecayRestarts(LearningRateSchedule):
    """Cosine decay with warm restarts (SGDR): periods grow by ``t_mul``, peaks scale by ``m_mul``.

    Example:
        >>> import lamina
        >>> s = lamina.optimizers.schedules.CosineDecayRestarts(1.0, 2, t_mul=1.0)
        >>> [round(float(s(i)), 3) for i in range(5)]
        [1.0, 0.5, 1.0, 0.5, 1.0]
    """

    def __init__(
        self,
        initial_learning_rate: float,
        first_decay_steps: int,
        t_mul: float = 2.0,
        m_mul: float = 1.0,
        alpha: float = 0.0,
        name: str = "SGDRDecay",
    ) -> None:
        self.initial_learning_rate = initial_learning_rate
        self.first_decay_steps = first_decay_steps
        self._t_mul = t_mul
        self._m_mul = m_mul
        self.alpha = alpha
        self.name = name
        _check_decay_steps("first_decay_steps", first_decay_steps)

    def __call__(self, step: Any) -> torch.Tensor:
        step = _step_tensor(step)
        dtype = _float_dtype(self.initial_learning_rate)
        initial_learning_rate = _const(self.initial_learning_rate, step, dtype)
        first_decay_steps = _const(self.first_decay_steps, step, dtype)
        alpha = _const(self.alpha, step, dtype)
        t_mul = _const(self._t_mul, step, dtype)
        m_mul = _const(self._m_mul, step, dtype)
        completed_fraction = step.to(dtype) / first_decay_steps
        if float(torch.tensor(self._t_mul, dtype=dtype)) == 1.0:
            i_restart = torch.floor(completed_fraction)
            completed_fraction = completed_fraction - i_restart
        else:
            i_restart = torch.floor(torch.log((1.0 - completed_fraction * (1.0 - t_mul)).to(dtype)) / torch.log(t_mul))
            sum_r = (1.0 - torch.pow(t_mul, i_restart)) / (1.0 - t_mul)
            completed_fraction = (completed_fraction - sum_r) / torch.pow(t_mul, i_restart)
        m_fac = torch.pow(m_mul, i_restart)
        cosine_decayed = 0.5 * m_fac * (1.0 + torch.cos(_const(math.pi, step, dtype) * completed_fraction))
        decayed = (1 - alpha) * cosine_decayed + alpha
        return initial_learning_rate * decayed

    def get_config(self) -> dict[str, Any]:
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "first_decay_steps": self.first_decay_steps,
            "t_mul": self._t_mul,
            "m_mul": self._m_mul,
            "alpha": self.alpha,
            "name": self.name,
        }


_ALL = {
    c.__name__: c
    for c in (
        LearningRateSchedule,
        ExponentialDecay,
        PiecewiseConstantDecay,
        PolynomialDecay,
        InverseTimeDecay,
        CosineDecay,
        CosineDecayRestarts,
    )
}

_FAMILY = serialization.ObjectFamily(
    "keras.optimizers.schedules", "learning rate schedule", _ALL, base=LearningRateSchedule
)


def serialize(learning_rate_schedule: LearningRateSchedule) -> dict[str, Any]:
    """The schedule's Keras config dict (``module``, ``class_name``, ``config``, ...)."""
    return _FAMILY.serialize(learning_rate_schedule)


def deserialize(config: dict[str, Any], custom_objects: dict | None = None) -> LearningRateSchedule:
    """Rebuilds a schedule from :func:`serialize`'s output (or Keras's)."""
    return _FAMILY.deserialize(config, custom_objects)


__all__ = [
    "CosineDecay",
    "CosineDecayRestarts",
    "ExponentialDecay",
    "InverseTimeDecay",
    "LearningRateSchedule",
    "PiecewiseConstantDecay",
    "PolynomialDecay",
    "deserialize",
    "serialize",
]
