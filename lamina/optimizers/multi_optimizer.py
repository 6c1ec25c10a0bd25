"""``MultiOptimizer`` and ``OptimizerMap``: different optimizers for different variables, as Keras 3.15 has."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, MutableMapping, Sequence
from typing import Any

from lamina.optimizers.base_optimizer import Optimizer
from lamina.optimizers.loss_scale_optimizer import LossScaleOptimizer
from lamina.serialization import deserialize_keras_object, serialize_keras_object


class OptimizerMap(MutableMapping):
    """Variable paths (exact, else regular expressions matched with ``re.fullmatch``) to optimizers.

    Args:
        default_optimizer: the optimizer of variables no key matches.
        optimizer_map: ``{path or pattern: optimizer}``.

    Example:
        >>> import lamina
        >>> from lamina import optimizers
        >>> m = optimizers.OptimizerMap(optimizers.RMSprop(name="rmsprop"))
        >>> m["encoder/.*"] = optimizers.SGD(name="sgd")
        >>> m["encoder/dense/kernel"].name, m["decoder/dense/kernel"].name
        ('sgd', 'rmsprop')
    """

    def __init__(self, default_optimizer: Optimizer, optimizer_map: dict[str, Optimizer] | None = None) -> None:
        if not isinstance(default_optimizer, Optimizer):
            raise TypeError(f"default_optimizer must be a Keras Optimizer instance. Received: {default_optimizer!r}")
        if optimizer_map is not None and not isinstance(optimizer_map, dict):
            raise TypeError(f"optimizer_map must be a dictionary. Received: {optimizer_map!r}")
        self._default_optimizer = default_optimizer
        self._optimizer_map: dict[str, Optimizer] = {}
        for key, optimizer in (optimizer_map or {}).items():
            self[key] = optimizer

    @property
    def default_optimizer(self) -> Optimizer:
        return self._default_optimizer

    def __getitem__(self, key: str) -> Optimizer:
        if key in self._optimizer_map:
            return self._optimizer_map[key]
        matching = [pattern for pattern in self._optimizer_map if re.fullmatch(pattern, key)]
        if len(matching) > 1:
            raise ValueError(f"Multiple optimizers assigned to variable {key}.")
        if matching:
            return self._optimizer_map[matching[0]]
        return self._default_optimizer

    def __setitem__(self, key: str, optimizer: Optimizer) -> None:
        if key in self._optimizer_map:
            raise ValueError(
                f"'{key}' already exists in the OptimizerMap with value {self._optimizer_map[key]}. Please make "
                "sure to not use duplicated keys."
            )
        if not isinstance(key, str):
            raise ValueError(f"key must be a string. Received: {key!r}")
        if not isinstance(optimizer, Optimizer):
            raise ValueError(f"optimizer must be a Keras Optimizer instance. Received: {optimizer!r}")
        if isinstance(optimizer, LossScaleOptimizer):
            raise ValueError("optimizer cannot be LossScaleOptimizer.")
        if isinstance(optimizer, MultiOptimizer):
            raise ValueError("optimizer cannot be MultiOptimizer.")
        self._optimizer_map[key] = optimizer

    def __delitem__(self, key: str) -> None:
        del self._optimizer_map[key]

    def __len__(self) -> int:
        return len(self._optimizer_map)

    def __iter__(self) -> Iterator[str]:
        return iter(self._optimizer_map)

    def __call__(self, variable: Any) -> Optimizer:
        return self[variable.path]

    def get_config(self) -> dict[str, Any]:
        return {
            "default_optimizer": serialize_keras_object(self._default_optimizer),
            "optimizer_map": serialize_keras_object(self._optimizer_map),
        }

    @classmethod
    def from_config(cls, config: dict[str, Any], custom_objects: dict | None = None) -> OptimizerMap:
        default = deserialize_keras_object(config["default_optimizer"], custom_objects=custom_objects)
        mapping = {
            k: deserialize_keras_object(v, custom_objects=custom_objects)
            for k, v in (config.get("optimizer_map") or {}).items()
        }
        return cls(default, mapping)


class MultiOptimizer(Optimizer):
    """Applies each variable's gradient with the optimizer an ``OptimizerMap`` (or a function) picks for it.

    The inner optimizers keep their own state and learning rates (read them through ``optimizers``);
    ``learning_rate`` is not defined on the ``MultiOptimizer`` itself, as in Keras.

    Args:
        optimizer_map: an :class:`OptimizerMap`, or a function ``variable -> optimizer``.
        loss_scale_factor: overrides the inner optimizers' ``loss_scale_factor``.
        name: the optimizer's name.

    Example:
        >>> import numpy as np, lamina
        >>> from lamina import layers, optimizers
        >>> model = lamina.Sequential([lamina.Input((3,)), layers.Dense(4, name="encoder"), layers.Dense(1)])
        >>> mapping = optimizers.OptimizerMap(optimizers.SGD(), {".*encoder/.*": optimizers.Adam()})
        >>> opt = optimizers.MultiOptimizer(mapping)
        >>> model.compile(optimizer=opt, loss="mse")
        >>> _ = model.fit(np.ones((4, 3), "float32"), np.ones((4, 1), "float32"), verbose=0)
        >>> [type(o).__name__ for o in opt.optimizers], int(opt.iterations.numpy())
        (['Adam', 'SGD'], 1)
    """

    def __init__(
        self,
        optimizer_map: OptimizerMap | Callable[[Any], Optimizer],
        loss_scale_factor: float | None = None,
        name: str | None = None,
    ) -> None:
        if not callable(optimizer_map):
            raise TypeError(
                "optimizer_map must be an OptimizerMap or a function returning an optimizer for a variable. "
                f"Received: optimizer_map={optimizer_map!r}"
            )
        super().__init__(learning_rate=0.0, loss_scale_factor=loss_scale_factor, name=name)
        self._optimizer_map = optimizer_map
        self._inner_optimizers: list[Optimizer] = []
        candidates = list(optimizer_map.values()) if hasattr(optimizer_map, "values") else []
        default = getattr(optimizer_map, "default_optimizer", None)
        if default is not None:
            candidates.append(default)
        for opt in candidates:
            if all(opt is not known for known in self._inner_optimizers):
                opt.loss_scale_factor = loss_scale_factor
                self._inner_optimizers.append(opt)

    def build(self, var_list: Sequence[Any]) -> None:
        if self.built:
            return
        var_list = list(var_list)
        self._var_to_optimizer_idx: dict[int, int] = {}
        indices: dict[int, int] = {}
        groups: list[list[Any]] = [[] for _ in self._inner_optimizers]
        for i, var in enumerate(var_list):
            opt = self._optimizer_map(var)
            if not isinstance(opt, Optimizer):
                raise ValueError(f"Optimizer for variable {var.path} is not an Optimizer instance. Received: {opt!r}")
            if isinstance(opt, LossScaleOptimizer):
                raise ValueError("LossScaleOptimizer cannot be used inside an MultiOptimizer.")
            if isinstance(opt, MultiOptimizer):
                raise ValueError("MultiOptimizer cannot be used inside an MultiOptimizer.")
            position = next((j for j, known in enumerate(self._inner_optimizers) if known is opt), None)
            if position is None:
                opt.loss_scale_factor = self.loss_scale_factor
                self._inner_optimizers.append(opt)
                groups.append([])
                position = len(self._inner_optimizers) - 1
            self._var_to_optimizer_idx[self._var_key(var)] = position
            indices[self._var_key(var)] = i
            groups[position].append(var)
        for opt, variables in zip(self._inner_optimizers, groups, strict=True):
            if variables:
                opt.build(variables)
        super().build(var_list)
        self._trainable_variables_indices = indices

    @property
    def optimizers(self) -> list[Optimizer]:
        """The inner optimizers, in the order they were first given or met."""
        return self._inner_optimizers

    @property
    def variables(self) -> list[Any]:
        """The own state (``iteration``, ``learning_rate``), then each inner optimizer's, as Keras orders them."""
        out = self._variables[:]
        for opt in self._inner_optimizers:
            out.extend(opt.variables)
        return out

    @property
    def learning_rate(self) -> Any:
        raise AttributeError(
            "Learning rate cannot be accessed on a MultiOptimizer. Access the learning rate on the individual "
            "sub-optimizers instead."
        )

    @learning_rate.setter
    def learning_rate(self, value: Any) -> None:
        raise AttributeError(
            "Learning rate cannot be set on a MultiOptimizer. Set the learning rate on the individual sub-optimizers "
            "instead."
        )

    @property
    def loss_scale_factor(self) -> float | None:
        return self.__dict__.get("_loss_scale_factor")

    @loss_scale_factor.setter
    def loss_scale_factor(self, value: float | None) -> None:
        self.__dict__["_loss_scale_factor"] = value
        for opt in self.__dict__.get("_inner_optimizers", []):
            opt.loss_scale_factor = value

    def apply(self, grads: Sequence[Any], trainable_variables: Sequence[Any] | None = None) -> None:
        """Hands each gradient to its variable's optimizer, then counts the step."""
        grads = list(grads)
        if len(grads) == 0:
            return
        if trainable_variables is None:
            if not self.built:
                raise ValueError(
                    "When passing `grads` without `variables`, the optimizer must already be built on a list of "
                    "variables. Call `optimizer.build(trainable_variables)` first."
                )
            trainable_variables = self._trainable_variables
        trainable_variables = list(trainable_variables)
        if not self.built:
            self.build(trainable_variables)
        if len(grads) != len(trainable_variables):
            raise ValueError(
                "Gradients must match trainable variables one-to-one. "
                f"Received {len(grads)} gradients and {len(trainable_variables)} variables."
            )
        groups: list[list[tuple[Any, Any]]] = [[] for _ in self._inner_optimizers]
        for grad, var in zip(grads, trainable_variables, strict=True):
            key = self._var_key(var)
            if key not in self._var_to_optimizer_idx:
                raise ValueError(
                    f"Unknown variable: {getattr(var, 'path', var)}. This optimizer was built for other variables."
                )
            groups[self._var_to_optimizer_idx[key]].append((grad, var))
        for opt, pairs in zip(self._inner_optimizers, groups, strict=True):
            if pairs:
                sub_grads, sub_vars = zip(*pairs)
                opt.apply(list(sub_grads), list(sub_vars))
        self._iterations.value.add_(1)

    def finalize_variable_values(self, var_list: Sequence[Any]) -> None:
        groups: list[list[Any]] = [[] for _ in self._inner_optimizers]
        for var in var_list:
            groups[self._var_to_optimizer_idx[self._var_key(var)]].append(var)
        for opt, variables in zip(self._inner_optimizers, groups, strict=True):
            if variables:
                opt.finalize_variable_values(variables)

    def set_weights(self, weights: Sequence[Any]) -> None:
        self._require_built("set_weights")
        weights = list(weights)
        if len(weights) != len(self.variables):
            raise ValueError(
                f"MultiOptimizer has {len(self.variables)} variables; received {len(weights)} weights to set."
            )
        own = len(self._variables)
        for variable, weight in zip(self._variables, weights[:own], strict=True):
            variable.assign(weight)
        start = own
        for opt in self._inner_optimizers:
            count = len(opt.variables)
            if count:
                opt.set_weights(weights[start : start + count])
                start += count

    def get_config(self) -> dict[str, Any]:
        return {
            "optimizer_map": serialize_keras_object(self._optimizer_map),
            "loss_scale_factor": self.loss_scale_factor,
            "name": self.name,
        }

    @classmethod
    def from_config(cls, config: dict[str, Any], custom_objects: dict | None = None) -> MultiOptimizer:
        config = dict(config)
        config["optimizer_map"] = deserialize_keras_object(config["optimizer_map"], custom_objects=custom_objects)
        return cls(**config)
