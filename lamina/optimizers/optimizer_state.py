"""The optimizer's state as arrays: ``get_weights``/``set_weights`` and the ``.keras``/``.weights.h5`` store,
in Keras 3's layout or tf.keras 2's (slots per variable), matched by count and shapes.

A mixin of :class:`lamina.optimizers.Optimizer`.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from lamina.variable import Variable


class OptimizerWeights:
    """Saving and loading an optimizer's variables, for :class:`Optimizer`."""

    def _require_built(self, method: str) -> None:
        """Keras's error for ``method`` called before the optimizer has its variables."""
        if not self.built:
            raise ValueError(
                f"You are calling `{method}()` on an optimizer that has not yet been built. Please call "
                "`optimizer.build(trainable_variables)` to create the optimizer weights before calling "
                f"`{method}()`."
            )

    def set_weights(self, weights: Sequence[Any]) -> None:
        """Sets the optimizer's variables from arrays, in ``variables`` order."""
        self._require_built("set_weights")
        for variable, weight in zip(self._variables, weights):
            if tuple(variable.shape) != tuple(np.shape(weight)):
                raise ValueError(
                    f"Optimizer variable {variable.path} has shape {tuple(variable.shape)} not compatible with "
                    f"provided weight shape {tuple(np.shape(weight))}."
                )
            variable.assign(weight)

    def get_weights(self) -> list[np.ndarray]:
        return [v.numpy() for v in self._variables]

    def save_own_variables(self, store: Any) -> None:
        """Writes the state as ``store["0"], store["1"], ...`` (Keras's h5 layout)."""
        for i, variable in enumerate(self.variables):
            store[str(i)] = variable.numpy()

    def load_own_variables(self, store: Any) -> None:
        """Reads the state written by :meth:`save_own_variables` (or by Keras)."""
        if len(store.keys()) != len(self.variables):
            msg = (
                f"Skipping variable loading for optimizer '{self.name}', because it has {len(self.variables)} "
                f"variables whereas the saved optimizer has {len(store.keys())} variables. "
            )
            if len(self.variables) == 0:
                msg += "This is likely because the optimizer has not been called/built yet."
            warnings.warn(msg, stacklevel=2)
            return
        for i, variable in enumerate(self.variables):
            variable.assign(np.asarray(store[str(i)]))

    # ------------------------------------------------------------------ saved state in either layout
    def _tf_keras_variables(self) -> list[Variable | None]:
        """This optimizer's variables in the order tf.keras 2 saves its state: ``iteration``, then the
        slots, as Keras 3 orders them. tf.keras keeps the learning rate out of its variables; a
        ``None`` marks a value tf.keras saves that this optimizer does not keep."""
        return [v for v in self._variables if v is not self._learning_rate]

    def _after_tf_keras_state(self) -> None:
        """Rebuilds what tf.keras 2 does not save, from the loaded state (base: nothing)."""

    def _match_saved_state(self, arrays: Sequence[Any]) -> tuple[list[tuple[Variable, Any]], bool] | None:
        """Pairs a saved state list with this optimizer's variables: ``(pairs, from_tf_keras)``, or None.

        Keras 3 saves ``variables`` as they are (``iteration``, ``learning_rate``, the slots);
        tf.keras 2 saves ``iteration`` and the slots only (see :meth:`_tf_keras_variables`).
        Every shape must fit, so a list of another optimizer or model is never half-loaded.
        """
        shapes = [tuple(np.shape(a)) for a in arrays]
        for layout, from_tf_keras in ((self.variables, False), (self._tf_keras_variables(), True)):
            if len(layout) == len(shapes) and all(
                v is None or tuple(v.shape) == s for v, s in zip(layout, shapes, strict=True)
            ):
                return [(v, a) for v, a in zip(layout, arrays, strict=True) if v is not None], from_tf_keras
        return None

    def _load_matched_state(self, matched: tuple[list[tuple[Variable, Any]], bool]) -> None:
        """Assigns what :meth:`_match_saved_state` paired."""
        pairs, from_tf_keras = matched
        for variable, array in pairs:
            variable.assign(np.asarray(array))
        if from_tf_keras:
            self._after_tf_keras_state()
        self._cache = {}
