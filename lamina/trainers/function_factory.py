"""The function factory of the trainer: wraps a step once, eagerly or with ``torch.compile``.

The wrapped step is kept until the model is compiled again (``jit_compile=True`` compiles it)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch


class StepFunctions:
    """Wraps each step once (eager, or ``torch.compile`` with ``jit_compile=True``)."""

    @property
    def jit_compile(self) -> bool:
        return self._jit_compile

    @jit_compile.setter
    def jit_compile(self, value: bool) -> None:
        # As Keras's setter: the step functions made so far are dropped and made again on the next call.
        self.__dict__["_jit_compile"] = bool(value) and not self._run_eagerly
        self.__dict__["train_function"] = None

    @property
    def run_eagerly(self) -> bool:
        return self._run_eagerly

    # ------------------------------------------------------------------ function factory
    @property
    def _compiled_forward(self) -> Any:
        return self.__dict__.get("_compiled_fwd")

    def make_train_function(self, force: bool = False) -> Any:
        if self.train_function is not None and not force:
            return self.train_function
        self.__dict__["_cached_train_vars"] = None
        if self._jit_compile:
            self.__dict__["_compiled_fwd"] = torch.compile(self._forward_loss)
        else:
            self.__dict__["_compiled_fwd"] = None

        def one_step(data: Any) -> Mapping[str, Any]:
            return self.train_step(data)

        self.__dict__["train_function"] = one_step
        return one_step

    def make_test_function(self, force: bool = False) -> Any:
        if self.test_function is not None and not force:
            return self.test_function

        def one_step(data: Any) -> Mapping[str, Any]:
            with torch.no_grad():
                return self.test_step(data)

        self.__dict__["test_function"] = one_step
        return one_step

    def make_predict_function(self, force: bool = False) -> Any:
        if self.predict_function is not None and not force:
            return self.predict_function

        def one_step(data: Any) -> Any:
            with torch.inference_mode():
                return self.predict_step(data)

        self.__dict__["predict_function"] = one_step
        return one_step
