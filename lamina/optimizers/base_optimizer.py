"""The ``Optimizer`` base: Keras 3's optimizer contract on torch tensors.

Every step runs under ``torch.no_grad()`` directly on the parameters, with the
multi-tensor ``torch._foreach_*`` kernels, with no host synchronisation: the step
counter and learning rate stay device tensors, and what Keras decides with
``ops.cond`` (gradient accumulation, EMA overwrite, loss scaling) is decided
with ``torch.where`` so ``apply`` can be traced by ``torch.compile``.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np
import torch

from lamina import backend, initializers
from lamina.backend.naming import auto_name
from lamina.optimizers import schedules
from lamina.optimizers.gradient_transforms import GradientTransforms
from lamina.optimizers.optimizer_state import OptimizerWeights
from lamina.optimizers.optimizer_utils import _is_schedule, _scalar, _tensor, computed_once
from lamina.serialization import deserialize_keras_object, serialize_keras_object
from lamina.variable import Variable

_BASE_DEFAULTS = {
    "weight_decay": None,
    "clipnorm": None,
    "clipvalue": None,
    "global_clipnorm": None,
    "use_ema": False,
    "ema_momentum": 0.99,
    "ema_overwrite_frequency": None,
    "loss_scale_factor": None,
    "gradient_accumulation_steps": None,
}


class Optimizer(GradientTransforms, OptimizerWeights):
    """Base class of all optimizers, with Keras 3's arguments and state layout.

    A subclass creates its slots in ``build(variables)`` with
    :meth:`add_optimizer_variables` and implements either
    ``update_step(gradient, variable, learning_rate)`` (one variable at a time,
    as in Keras) or ``_parallel_update_step(grads, variables, learning_rate)``
    (all at once, with ``torch._foreach_*``).

    Args:
        learning_rate: a float, a ``LearningRateSchedule`` or a callable without arguments.
        weight_decay: if set, decoupled weight decay ``w -= w * weight_decay * lr`` before each step.
        clipnorm: clip each gradient to this L2 norm.
        clipvalue: clip each gradient element to ``[-clipvalue, clipvalue]``.
        global_clipnorm: clip all gradients together to this global L2 norm.
        use_ema: keep an exponential moving average of the weights.
        ema_momentum: momentum of that average.
        ema_overwrite_frequency: every this many steps, overwrite the weights with their average.
        loss_scale_factor: the loss is multiplied by it (``scale_loss``) and the gradients divided by it.
        gradient_accumulation_steps: update only every this many steps, with the mean gradient.
        name: the name (``"adam"``, ``"adam_1"``, ... by default).

    Example:
        >>> import torch, lamina
        >>> w = lamina.Variable([1.0, 2.0], name="w")
        >>> opt = lamina.optimizers.SGD(learning_rate=0.5)
        >>> opt.apply([torch.tensor([1.0, 1.0])], [w])
        >>> w.numpy().tolist(), int(opt.iterations)
        ([0.5, 1.5], 1)
    """

    def __init__(
        self,
        learning_rate: Any,
        weight_decay: float | None = None,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        global_clipnorm: float | None = None,
        use_ema: bool = False,
        ema_momentum: float = 0.99,
        ema_overwrite_frequency: int | None = None,
        loss_scale_factor: float | None = None,
        gradient_accumulation_steps: int | None = None,
        name: str | None = None,
        **kwargs: Any,
    ) -> None:
        if kwargs.pop("decay", None) is not None:
            warnings.warn("Argument `decay` is no longer supported and will be ignored.", stacklevel=2)
        if kwargs:
            raise ValueError(f"Argument(s) not recognized: {kwargs}")
        self.name = name if name is not None else auto_name(self.__class__.__name__)
        self.weight_decay = weight_decay
        self.clipnorm = clipnorm
        self.global_clipnorm = global_clipnorm
        self.clipvalue = clipvalue
        self.use_ema = use_ema
        self.loss_scale_factor = loss_scale_factor
        self.gradient_accumulation_steps = gradient_accumulation_steps
        if gradient_accumulation_steps:
            if not gradient_accumulation_steps >= 2:
                raise ValueError(
                    "`gradient_accumulation_steps` must be an integer >= 2. "
                    f"Received: gradient_accumulation_steps={gradient_accumulation_steps}"
                )
        if use_ema:
            if ema_momentum > 1 or ema_momentum < 0:
                raise ValueError(f"`ema_momentum` must be in the range [0, 1]. Received: ema_momentum={ema_momentum}")
            freq = ema_overwrite_frequency
            if freq and (not isinstance(freq, int) or freq < 1):
                raise ValueError(
                    "`ema_overwrite_frequency` must be an integer >= 1 or None. "
                    f"Received: ema_overwrite_frequency={ema_overwrite_frequency}"
                )
        self.ema_momentum = ema_momentum
        self.ema_overwrite_frequency = ema_overwrite_frequency
        if sum(a is not None for a in (clipnorm, clipvalue, global_clipnorm)) > 1:
            raise ValueError(
                "Only one of `clipnorm`, `clipvalue` and `global_clipnorm` can be set. Received: "
                f"clipnorm={clipnorm}, clipvalue={clipvalue}, global_clipnorm={global_clipnorm}"
            )
        self.built = False
        self._variables: list[Variable] = []
        self._trainable_variables: list[Any] = []
        self._trainable_variables_indices: dict[int, int] = {}
        self._all_indices: list[int] = []
        self._cache: dict[Any, Any] = {}  # per-step constants and slot tensor lists (device-bound)
        self._device = backend.default_device()

        self._iterations = self._make_variable(0, "int32", "iteration")
        self._track_variable(self._iterations)
        if _is_schedule(learning_rate) or callable(learning_rate):
            self._learning_rate = learning_rate
        else:
            learning_rate = self._check_learning_rate(learning_rate)
            self._learning_rate = self._make_variable(learning_rate, backend.floatx(), "learning_rate")
            self._track_variable(self._learning_rate)

    # ------------------------------------------------------------------ helpers
    @staticmethod
    def _check_learning_rate(learning_rate: Any) -> float:
        if isinstance(learning_rate, (float, np.floating)):
            return float(learning_rate)
        if isinstance(learning_rate, torch.Tensor) and learning_rate.ndim == 0 and learning_rate.is_floating_point():
            return float(learning_rate)
        raise ValueError(
            "Argument `learning_rate` should be float, or an instance of LearningRateSchedule, or a callable "
            "(that takes in the current iteration value and returns the corresponding learning rate value). "
            f"Received instead: learning_rate={learning_rate}"
        )

    def _make_variable(self, value: Any, dtype: str, name: str, path: str | None = None) -> Variable:
        v = Variable(
            value, dtype=dtype, trainable=False, name=name, device=self._device, aggregation="only_first_replica"
        )
        v.path = path if path is not None else f"{self.name}/{name}"
        return v

    def _track_variable(self, variable: Variable) -> None:
        if all(v is not variable for v in self._variables):
            self._variables.append(variable)

    def _untrack_variable(self, variable: Variable) -> None:
        self._variables = [v for v in self._variables if v is not variable]

    def _var_key(self, variable: Any) -> int:
        return id(variable)

    def _get_variable_index(self, variable: Any) -> int:
        return self._trainable_variables_indices[self._var_key(variable)]

    def _move_to(self, device: torch.device) -> None:
        """Moves the optimizer's own tensors to ``device`` (the model was moved after build)."""
        self._device = device
        self._cache = {}
        for v in self._all_own_variables():
            v._move_to(device)

    def _all_own_variables(self) -> list[Variable]:
        out = list(self._variables)
        if isinstance(self._learning_rate, Variable) and all(v is not self._learning_rate for v in out):
            out.append(self._learning_rate)
        if all(v is not self._iterations for v in out):
            out.append(self._iterations)
        return out

    # ------------------------------------------------------------------ state
    @property
    def iterations(self) -> Any:
        """The number of steps applied (a device ``Variable``); with gradient accumulation, steps // that many."""
        if self.gradient_accumulation_steps:
            return torch.floor_divide(self._iterations.value, self.gradient_accumulation_steps)
        return self._iterations

    @property
    def variables(self) -> list[Variable]:
        """The optimizer's state in Keras's order: ``iteration``, ``learning_rate``, then the slots."""
        return self._variables[:]

    def build(self, variables: Sequence[Any]) -> None:
        """Creates the state for ``variables`` (base: EMA averages and gradient accumulators)."""
        variables = list(variables)
        if variables:
            device = _tensor(variables[0]).device
            if device != self._device:
                self._move_to(device)
        if self.use_ema:
            self._model_variables_moving_average = self.add_optimizer_variables(variables, "average")
        if self.gradient_accumulation_steps:
            self._accumulated_gradients = []
        for i, variable in enumerate(variables):
            self._trainable_variables_indices[self._var_key(variable)] = i
            if self.gradient_accumulation_steps:
                self._accumulated_gradients.append(
                    self.add_variable_from_reference(variable, name="gradient_accumulator")
                )
        self._trainable_variables = variables[:]
        self._all_indices = list(range(len(variables)))
        self._cache = {}
        self.built = True

    def add_variable(
        self,
        shape: Sequence[int],
        initializer: Any = "zeros",
        dtype: Any = None,
        aggregation: str = "none",
        layout: Any = None,
        name: str | None = None,
    ) -> Variable:
        """Adds a state variable (not trainable) to the optimizer and returns it."""
        init = initializers.get(initializer)
        tdtype = backend.torch_dtype(dtype)
        with torch.no_grad():
            value = init(tuple(int(s) for s in shape), dtype=tdtype)
        value = backend.convert_to_tensor(value, dtype=tdtype, device=self._device)
        v = Variable(value, trainable=False, name=name, device=self._device, aggregation=aggregation)
        v.path = f"{self.name}/{v.name}"
        self._track_variable(v)
        return v

    def add_variable_from_reference(
        self, reference_variable: Any, name: str | None = None, initializer: Any = "zeros"
    ) -> Variable:
        """Adds a slot shaped like ``reference_variable``, named ``<its path with _>_<name>`` as in Keras."""
        name = name or "var"
        if hasattr(reference_variable, "path"):
            name = f"{reference_variable.path.replace('/', '_')}_{name}"
        else:
            name = f"{str(getattr(reference_variable, 'name', 'variable')).replace('/', '_').replace(':', '_')}_{name}"
        ref = _tensor(reference_variable)
        if isinstance(initializer, str) and initializer == "zeros":
            value = torch.zeros_like(ref, memory_format=torch.contiguous_format)
        elif isinstance(initializer, initializers.Constant):
            value = torch.full_like(ref, initializer.value, memory_format=torch.contiguous_format)
        else:
            init = initializers.get(initializer)
            with torch.no_grad():
                value = backend.convert_to_tensor(
                    init(tuple(ref.shape), dtype=ref.dtype), dtype=ref.dtype, device=ref.device
                )
        v = Variable(value.detach(), trainable=False, name=name, device=ref.device)
        v.path = f"{self.name}/{name}"
        self._track_variable(v)
        return v

    def add_optimizer_variables(
        self, trainable_variables: Sequence[Any], name: str | Sequence[str], initializer: Any = "zeros"
    ) -> Any:
        """One slot per variable for each name; several names interleave per variable (Keras order)."""
        names = [name] if isinstance(name, str) else list(name)
        if isinstance(name, str):
            inits = [initializer]
        elif isinstance(initializer, (str, initializers.Initializer)):
            inits = [initializer] * len(names)
        else:
            inits = list(initializer)
        if len(names) != len(inits):
            raise ValueError(
                "The number of provided names must match the number of provided initializers. "
                f"Received name='{name}', initializer='{initializer}'"
            )
        out: tuple[list[Variable], ...] = tuple([] for _ in names)
        for variable in trainable_variables:
            for i, (n, init) in enumerate(zip(names, inits)):
                out[i].append(self.add_variable_from_reference(variable, name=n, initializer=init))
        return out[0] if isinstance(name, str) else out

    def _check_variables_are_known(self, variables: Iterable[Any]) -> None:
        for v in variables:
            if self._var_key(v) not in self._trainable_variables_indices:
                raise ValueError(
                    f"Unknown variable: {v}. This optimizer can only be called for the variables it was originally "
                    "built with. When working with a new set of variables, you should recreate a new optimizer "
                    "instance."
                )

    def assign(self, variable: Any, value: Any) -> None:
        variable.assign(value) if isinstance(variable, Variable) else variable.copy_(value)

    def assign_add(self, variable: Any, value: Any) -> None:
        variable.assign_add(value) if isinstance(variable, Variable) else variable.add_(value)

    def assign_sub(self, variable: Any, value: Any) -> None:
        variable.assign_sub(value) if isinstance(variable, Variable) else variable.sub_(value)

    # ------------------------------------------------------------------ learning rate
    @property
    def learning_rate(self) -> Any:
        """The current learning rate: the ``Variable``, or the schedule's value at this step."""
        return self._get_current_learning_rate()

    @learning_rate.setter
    def learning_rate(self, learning_rate: Any) -> None:
        prev = self._learning_rate if isinstance(self._learning_rate, Variable) else None
        if _is_schedule(learning_rate) or callable(learning_rate):
            self._learning_rate = learning_rate
        else:
            if _is_schedule(self._learning_rate):
                raise TypeError(
                    "This optimizer was created with a `LearningRateSchedule` object as its `learning_rate` "
                    "constructor argument, hence its learning rate is not settable. If you need the learning rate "
                    "to be settable, you should instantiate the optimizer with a float `learning_rate` argument."
                )
            if isinstance(self._learning_rate, Variable):
                self._learning_rate.assign(learning_rate)
            else:  # was a plain callable: back to a variable
                self._learning_rate = self._make_variable(
                    float(_tensor(learning_rate)), backend.floatx(), "learning_rate"
                )
                self._variables.insert(1, self._learning_rate)
        if prev is not None and not isinstance(self._learning_rate, Variable):
            self._untrack_variable(prev)

    def _get_current_learning_rate(self) -> Any:
        if _is_schedule(self._learning_rate):
            return self._learning_rate(self._iterations)
        if isinstance(self._learning_rate, Variable):
            return self._learning_rate
        if callable(self._learning_rate):
            return self._learning_rate()
        return self._learning_rate

    def _lr_tensor(self, like: torch.Tensor, learning_rate: Any = None) -> torch.Tensor:
        """The (current) learning rate as a 0-d tensor of ``like``'s dtype on its device."""
        lr = _tensor(self._get_current_learning_rate() if learning_rate is None else learning_rate)
        if isinstance(lr, torch.Tensor):
            lr = lr.to(dtype=like.dtype, device=like.device)
            return computed_once(lr) if _is_schedule(self._learning_rate) else lr  # a schedule's value: once
        return _scalar(float(lr), like)

    def _local_step(self, like: torch.Tensor, offset: int = 1) -> torch.Tensor:
        """``iterations + offset`` as ``like``'s dtype (Adam's bias-correction step)."""
        return (_tensor(self.iterations) + offset).to(like.dtype)

    def _prepare(self, variables: list[Any]) -> tuple[list[int], list[torch.Tensor]]:
        """Indices into the built variable list, and the parameter tensors."""
        if variables is self._trainable_variables:  # the usual step: every variable, in build order
            return self._all_indices, [_tensor(v) for v in variables]
        return [self._get_variable_index(v) for v in variables], [_tensor(v) for v in variables]

    def _slots(self, slots: list[Variable], idx: list[int]) -> list[torch.Tensor]:
        """The tensors of ``slots`` at ``idx`` (cached for the full list: slot tensors are never replaced)."""
        if idx is not self._all_indices or torch.compiler.is_compiling():  # a traced graph needs no cache
            return [slots[i].value for i in idx]
        key = ("slots", id(slots))
        hit = self._cache.get(key)
        if hit is None or hit[0] is not slots:
            hit = (slots, [s.value for s in slots])
            self._cache[key] = hit
        return hit[1]

    def _const(self, value: float, like: torch.Tensor) -> torch.Tensor:
        """A cached 0-d constant with ``like``'s dtype and device (``ops.cast(value, dtype)`` in Keras)."""
        if torch.compiler.is_compiling():  # constants are free in a graph; a cache would retrace once
            return _scalar(value, like)
        key = (value, like.dtype, like.device)
        t = self._cache.get(key)
        if t is None:
            t = _scalar(value, like)
            self._cache[key] = t
        return t

    # ------------------------------------------------------------------ applying gradients
    def apply_gradients(self, grads_and_vars: Iterable[tuple[Any, Any]]) -> Variable:
        """Applies ``(gradient, variable)`` pairs; returns ``iterations``."""
        grads, trainable_variables = zip(*grads_and_vars)
        self.apply(grads, trainable_variables)
        return self._iterations

    def apply(self, grads: Sequence[Any], trainable_variables: Sequence[Any] | None = None) -> None:
        """Updates the variables from their gradients (``None`` gradients are skipped) and counts the step.

        ``grads`` match ``trainable_variables`` one to one, or, when they are not given,
        the variables the optimizer was built with. The first call builds the optimizer.
        """
        grads = list(grads)
        if len(grads) == 0:
            return
        if trainable_variables is None:
            if not self.built:
                raise ValueError(
                    "When passing `grads` without `variables`, the optimizer must already be built on a list of "
                    "variables. Call `optimizer.build(trainable_variables)` first. "
                )
            if len(grads) != len(self._trainable_variables_indices):
                raise ValueError(
                    "When passing `grads` as a list of gradient tensors, the gradients must match "
                    f"`optimizer.variables` one-to-on. Received a list of {len(grads)} gradients, but the optimizer "
                    f"is tracking {len(self._trainable_variables)} trainable variables."
                )
            trainable_variables = self._trainable_variables
        else:
            trainable_variables = list(trainable_variables)
            if not self.built:
                self.build(trainable_variables)
                self.built = True
            built = self._trainable_variables
            if len(trainable_variables) == len(built) and all(a is b for a, b in zip(trainable_variables, built)):
                trainable_variables = built  # same variables in build order: the fast path
            else:
                self._check_variables_are_known(trainable_variables)
        with torch.no_grad():
            first = _tensor(trainable_variables[0])
            if first.device != self._device:
                self._move_to(first.device)
            grads, trainable_variables = self._filter_empty_gradients(grads, trainable_variables)
            grads = [_tensor(g) for g in grads]
            scale = self.loss_scale_factor
            if scale is not None:
                grads = [g / scale for g in grads]
            self._backend_apply_gradients(grads, trainable_variables)
            for variable in trainable_variables:
                constraint = getattr(variable, "constraint", None)
                if constraint is not None:
                    t = _tensor(variable)
                    t.copy_(constraint(t))
            self._iterations.value.add_(1)

    def _filter_empty_gradients(self, grads: list[Any], variables: list[Any]) -> tuple[list[Any], list[Any]]:
        if all(g is not None for g in grads):
            return grads, variables
        kept = [(g, v) for g, v in zip(grads, variables) if g is not None]
        if not kept:
            raise ValueError("No gradients provided for any variable.")
        missing = [getattr(v, "path", getattr(v, "name", "?")) for g, v in zip(grads, variables) if g is None]
        warnings.warn(
            f"Gradients do not exist for variables {missing} when minimizing the loss. If using `model.compile()`, "
            "did you forget to provide a `loss` argument?",
            stacklevel=3,
        )
        return [g for g, _ in kept], [v for _, v in kept]

    def _backend_apply_gradients(self, grads: list[torch.Tensor], trainable_variables: list[Any]) -> None:
        if self.gradient_accumulation_steps:
            steps = self.gradient_accumulation_steps
            is_update_step = torch.eq(torch.remainder(self._iterations.value + 1, steps), 0)
            acc = [self._accumulated_gradients[self._get_variable_index(v)].value for v in trainable_variables]
            total = torch._foreach_add(grads, acc)
            avg = torch._foreach_div(total, steps)
            skip = {id(a) for a in self._accumulated_gradients}
            if self.use_ema:
                skip.update(id(a) for a in self._model_variables_moving_average)
            state = [_tensor(v) for v in trainable_variables]
            state += [v.value for v in self._variables[1:] if id(v) not in skip and v is not self._learning_rate]
            self._masked_update(is_update_step, state, lambda: self._clip_decay_update(avg, trainable_variables))
            for a, t in zip(acc, total):
                a.copy_(torch.where(is_update_step, torch.zeros_like(t), t))
        else:
            self._clip_decay_update(grads, trainable_variables)
        if self.use_ema:
            self._update_model_variables_moving_average(self._trainable_variables)
            if self.ema_overwrite_frequency:
                it = _tensor(self.iterations)
                should = torch.eq(torch.remainder(it + 1, self.ema_overwrite_frequency), 0)
                for var, avg in zip(self._trainable_variables, self._model_variables_moving_average):
                    t = _tensor(var)
                    t.copy_(torch.where(should, avg.value, t))

    @staticmethod
    def _masked_update(mask: torch.Tensor, state: list[torch.Tensor], fn: Callable[[], None]) -> None:
        """Runs ``fn`` (which updates ``state`` in place) and keeps its result only where ``mask`` is true."""
        before = [t.clone() for t in state]
        fn()
        for t, b in zip(state, before):
            t.copy_(torch.where(mask, t, b))

    def _clip_decay_update(self, grads: list[torch.Tensor], trainable_variables: list[Any]) -> None:
        grads = self._clip_gradients(grads)
        self._apply_weight_decay(trainable_variables)
        self._backend_update_step(grads, trainable_variables, self.learning_rate)

    def _backend_update_step(
        self, grads: list[torch.Tensor], trainable_variables: list[Any], learning_rate: Any
    ) -> None:
        if hasattr(self, "_parallel_update_step"):
            self._parallel_update_step(grads, trainable_variables, learning_rate)
            return
        for grad, var in zip(grads, trainable_variables):
            self.update_step(grad, var, learning_rate)

    def update_step(self, gradient: torch.Tensor, variable: Variable, learning_rate: Any) -> None:
        raise NotImplementedError

    # ------------------------------------------------------------------ loss scaling, weights
    def scale_loss(self, loss: Any) -> Any:
        """``loss * loss_scale_factor`` when a factor is set, else ``loss``."""
        if self.loss_scale_factor is not None:
            return loss * self.loss_scale_factor
        return loss

    # ------------------------------------------------------------------ config
    def get_config(self) -> dict[str, Any]:
        """Keras's config keys (``name``, ``learning_rate``, ... then the algorithm's)."""
        if _is_schedule(self._learning_rate):
            learning_rate = schedules.serialize(self._learning_rate)
        elif isinstance(self._learning_rate, Variable):
            learning_rate = float(self._learning_rate.numpy())
        elif isinstance(self._learning_rate, torch.Tensor):
            learning_rate = float(self._learning_rate)
        elif callable(self._learning_rate):
            learning_rate = serialize_keras_object(self._learning_rate)
        else:
            learning_rate = 0.5
        return {
            "name": self.name,
            "learning_rate": learning_rate,
            "weight_decay": self.weight_decay,
            "clipnorm": self.clipnorm,
            "global_clipnorm": self.global_clipnorm,
            "clipvalue": self.clipvalue,
            "use_ema": self.use_ema,
            "ema_momentum": self.ema_momentum,
            "ema_overwrite_frequency": self.ema_overwrite_frequency,
            "loss_scale_factor": self.loss_scale_factor,
            "gradient_accumulation_steps": self.gradient_accumulation_steps,
        }

    @classmethod
    def from_config(cls, config: dict[str, Any], custom_objects: dict | None = None) -> Optimizer:
        """Rebuilds the optimizer (without state) from :meth:`get_config`'s output."""
        config = dict(config)
        if isinstance(config.get("learning_rate"), dict):
            config["learning_rate"] = deserialize_keras_object(config["learning_rate"], custom_objects=custom_objects)
        return cls(**config)

    def __repr__(self) -> str:
        return f"<{self.__class__.__name__} name={self.name}, built={self.built}>"
