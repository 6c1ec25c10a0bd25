"""The function factory of the trainer: wraps a step once, eagerly or with ``torch.compile``.

With ``jit_compile=True`` the forward pass and loss of each step (train, test, predict) run through
``torch.compile``. What cannot be compiled never stops ``fit``: the first failure (from the tracer
or the Inductor backend, forward or backward graph) is answered by running that function eagerly
from then on, with one warning that names the reason. The wrapped steps are kept until the model is
compiled again (or ``jit_compile`` is set).
"""

from __future__ import annotations

import types
import warnings
from collections.abc import Callable, Mapping
from typing import Any

import torch


def _reason(error: BaseException) -> str:
    """The first line of what went wrong, e.g. ``TypeError: expected Tensor() for op: ...``, followed by the first
    line of its root cause when the compiler wrapped one (that line names the op or the user's code)."""

    def first_line(e: BaseException) -> str:
        text = str(e).strip().splitlines()
        return f"{type(e).__name__}: {text[0] if text else ''}".strip().rstrip(":")

    root, seen = error, {id(error)}
    while (nxt := root.__cause__ or root.__context__) is not None and id(nxt) not in seen:
        seen.add(id(nxt))
        root = nxt
    if root is error:
        return first_line(error)
    return f"{first_line(error)} (caused by {first_line(root)})"


def _own_copy(method: Any, tag: str) -> Any:
    """``method`` rebound through a function with its own code object.

    ``torch.compile`` caches compiled code (and counts recompilations) per code object, so the same
    method compiled for several models would share one cache: each model's graph would replace the
    last one's guards, the shapes of different models would be taken for dynamic sizes, and after eight
    models every new one would silently run eagerly. A copy of the code per model and step keeps
    them apart.
    """
    fn = method.__func__
    code = fn.__code__.replace(co_name=f"{fn.__code__.co_name}_{tag}")
    copy = types.FunctionType(code, fn.__globals__, code.co_name, fn.__defaults__, fn.__closure__)
    copy.__kwdefaults__ = fn.__kwdefaults__
    return types.MethodType(copy, method.__self__)


class JitFunction:
    """A step's forward (and loss) through ``torch.compile``, falling back to eager once, with a warning.

    Shapes are compiled static (``dynamic=False``): a new batch size compiles a new graph instead of a
    symbolic one, as symbolic batch sizes still break some kernels (convolutions, dropout's noise).
    A compiler error in one graph is caught in the backend, so nothing of that step has run when the
    function switches to eager; an error while tracing is answered by running the step again eagerly.

    Args:
        method: the model's bound method to compile.
        what: ``"train"``, ``"test"`` or ``"predict"`` (named in the warning).
    """

    def __init__(self, method: Any, what: str) -> None:
        self.eager = method
        self.what = what
        self.model_name = getattr(method.__self__, "name", type(method.__self__).__name__)
        self.fallback_reason: str | None = None
        self._backend_error: str | None = None
        tag = f"{what}_{id(method.__self__):x}"
        self._compiled = torch.compile(_own_copy(method, tag), backend=self._backend, dynamic=False)

    def _backend(self, gm: torch.fx.GraphModule, example_inputs: list[Any]) -> Callable[..., Any]:
        """Inductor, with the backward graph compiled up front (so its errors surface here too); a graph it
        cannot compile runs as traced, eagerly."""
        inductor = torch._dynamo.lookup_backend("inductor")
        try:
            with torch._functorch.config.patch(force_non_lazy_backward_lowering=True):
                return inductor(gm, example_inputs)
        except Exception as e:  # any compiler failure: this graph runs eagerly, and the function after it
            if self._backend_error is None:
                self._backend_error = _reason(e)
            return gm.forward

    def __call__(self, *args: Any) -> Any:
        if self.fallback_reason is not None:
            return self.eager(*args)
        try:
            out = self._compiled(*args)
        except Exception as e:
            out = self.eager(*args)  # the user's own error raises here, as it would without jit_compile
            self._fall_back(_reason(e))
            return out
        if self._backend_error is not None:
            self._fall_back(self._backend_error)
        return out

    def _fall_back(self, reason: str) -> None:
        self.fallback_reason = reason
        warnings.warn(
            f'jit_compile: torch.compile could not compile the {self.what} step of model "{self.model_name}"; '
            f"it runs eagerly from now on (same results, without the compiler's speed-up). Reason: {reason}",
            UserWarning,
            stacklevel=4,
        )


class StepFunctions:
    """Wraps each step once (eager, or ``torch.compile`` with ``jit_compile=True``)."""

    @property
    def jit_compile(self) -> bool:
        return self._jit_compile

    @jit_compile.setter
    def jit_compile(self, value: bool) -> None:
        # As Keras's setter: the step functions made so far are dropped and made again on the next call.
        self.__dict__["_jit_compile"] = bool(value) and not self._run_eagerly
        self._reset_step_functions()

    def _reset_step_functions(self) -> None:
        for name in ("train_function", "test_function", "predict_function"):
            self.__dict__[name] = None
        for name in ("_compiled_fwd", "_compiled_test_fwd", "_compiled_predict"):
            self.__dict__.pop(name, None)

    @property
    def run_eagerly(self) -> bool:
        return self._run_eagerly

    # ------------------------------------------------------------------ function factory
    @property
    def _compiled_forward(self) -> Any:
        return self.__dict__.get("_compiled_fwd")

    def _jit(self, method: Any, what: str) -> JitFunction | None:
        return JitFunction(method, what) if self._jit_compile else None

    def make_train_function(self, force: bool = False) -> Any:
        if self.train_function is not None and not force:
            return self.train_function
        self.__dict__["_cached_train_vars"] = None
        self.__dict__["_compiled_fwd"] = self._jit(self._forward_loss, "train")

        def one_step(data: Any) -> Mapping[str, Any]:
            return self.train_step(data)

        self.__dict__["train_function"] = one_step
        return one_step

    def make_test_function(self, force: bool = False) -> Any:
        if self.test_function is not None and not force:
            return self.test_function
        self.__dict__["_compiled_test_fwd"] = self._jit(self._eval_forward_loss, "test")

        def one_step(data: Any) -> Mapping[str, Any]:
            with torch.no_grad():
                return self.test_step(data)

        self.__dict__["test_function"] = one_step
        return one_step

    def make_predict_function(self, force: bool = False) -> Any:
        if self.predict_function is not None and not force:
            return self.predict_function
        self.__dict__["_compiled_predict"] = self._jit(self._predict_forward, "predict")

        def one_step(data: Any) -> Any:
            with torch.inference_mode():
                return self.predict_step(data)

        self.__dict__["predict_function"] = one_step
        return one_step
