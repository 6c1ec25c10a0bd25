"""The function factory of the trainer: wraps a step once, eagerly or with ``torch.compile``.

With ``jit_compile=True`` the whole train step is compiled as one program: forward pass, loss, gradients (taken by
``torch.func``, see ``whole_step``), the optimizer update and the loss and metric tracking, one graph per input
signature. A model that program cannot be traced for (a fused kernel without compiler support, Python side effects
inside the gradient transform) quietly gets the step in two compiled parts instead: the forward pass and loss (with
its backward graph, compiled by AOTAutograd), ``loss.backward()``, then the optimizer update with the tracking.
Test and predict steps compile their forward pass.

What cannot be compiled never stops ``fit``: the first failure (from the tracer or the Inductor backend, forward or
backward graph) is answered by running that function eagerly from then on, with one warning that names the reason.
The wrapped steps are kept until the model is compiled again (or ``jit_compile`` is set). ``jit_compile="auto"`` is
decided per fit (see ``auto_jit``).
"""

from __future__ import annotations

import types
import warnings
from collections.abc import Callable, Mapping
from typing import Any

import torch

from lamina import tree
from lamina.trainers import auto_jit
from lamina.trainers.whole_step import WholeStep


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


def _leading_dim(value: Any) -> int | None:
    """The batch size of a step's first argument: the leading size of its first tensor (``None`` if it has none)."""
    for leaf in tree.flatten(value):
        if isinstance(leaf, torch.Tensor) and leaf.ndim:
            return leaf.shape[0]
    return None


def _signature(args: tuple[Any, ...]) -> Any:
    """What a compiled graph is specialized on, read from a call's arguments: their nesting (containers, dict keys)
    with, for each leaf, a tensor's type, shape, strides, dtype, device and ``requires_grad``, a weight's identity,
    or a plain value (other objects by type and identity). Compared with ``==``."""
    return tree.map_structure(_leaf_signature, args)


def _leaf_signature(value: Any) -> Any:
    if isinstance(value, torch.nn.Parameter):  # the trainable weights: these very tensors
        return id(value)
    if isinstance(value, torch.Tensor):
        return (type(value), value.shape, value.stride(), value.dtype, value.device, value.requires_grad)
    if value is None or isinstance(value, (bool, int, float, str)):
        return (type(value), value)
    return (type(value), id(value))


def _default_stance() -> bool:
    """Whether the compiler runs with its default stance (a user's ``torch.compiler.set_stance("force_eager")``, say,
    must not be replaced by the guard-skipping one); unknown (another torch's internals) counts as not default."""
    stance = getattr(getattr(torch._dynamo, "eval_frame", None), "_stance", None)
    return getattr(stance, "stance", None) == "default" and getattr(stance, "backend", 1) is None


def _on_cuda(example_inputs: list[Any]) -> bool:
    """Whether a graph's tensor inputs live on a CUDA device (CUDA graphs capture only those)."""
    return any(isinstance(t, torch.Tensor) and t.device.type == "cuda" for t in example_inputs)


class JitFunction:
    """A part of a step through ``torch.compile``, falling back to eager once, with a warning.

    Shapes are compiled static (``dynamic=False``), as symbolic batch sizes still break some kernels
    (convolutions, dropout's noise). The graph is compiled for the batch size of the first call; a
    call with another batch size (the ragged last batch of an epoch, a one-sample ``predict``) runs
    eagerly (the same computation), so that it neither recompiles once per epoch size nor exhausts
    the compiler's recompile limit. A compiler error in one graph is caught in the backend, so
    nothing of that call has run when the function switches to eager; an error while tracing is
    answered by running the call again eagerly.

    Args:
        method: the model's bound method to compile; its first argument holds the batch (``x``).
        eager_first_call: run the first call eagerly, so that the state a function builds on its first call
            (the optimizer's slots, the metrics' variables) is not made inside the traced graph.
        what: what is compiled, named in the warning (``"train"``, ``"test"``, ``"predict"``,
            ``"optimizer update of the train"``).
        eager: what runs instead of the compiled function (default: ``method`` itself, uncompiled).
        quiet: fall back without a warning (the whole train step: its fallback, the two-part step, is compiled too
            and warns itself).
        cuda_graphs: capture graphs whose inputs live on a CUDA device in CUDA graphs (Inductor's
            ``triton.cudagraphs``, what ``mode="reduce-overhead"`` sets): a replay launches the whole step at once,
            from static copies of the batch, so small steps are not bound by Python and kernel launches. Only for
            functions whose outputs are used before the next call (a replay overwrites them): the whole train step.
        trust_guards: between two ``new_fit()`` calls, a call whose arguments match those of the last call that
            ran the compiler's guards (same nesting, tensor shapes, strides, dtypes, devices, the same weights) skips
            the guards (``torch.compiler.set_stance(skip_guard_eval_unsafe=True)``). They check every attribute the
            traced step read, ~600 checks (0.26 ms) per step of a three-layer MLP; within one ``fit`` those are
            fixed, as Keras's own compiled step is traced once per ``fit`` (the trainable weights, read once per
            epoch, are part of the arguments). ``make_train_function`` calls ``new_fit()`` at each ``fit`` and each
            ``train_on_batch``.

    Attributes:
        graphs_compiled: how many graphs the backend compiled (a recompile adds one).
        eager_calls: calls run eagerly because their batch size was not the compiled one.
        trusted_calls: calls that skipped the compiler's guards (``trust_guards``).
    """

    def __init__(
        self,
        method: Any,
        what: str,
        eager_first_call: bool = False,
        eager: Any = None,
        quiet: bool = False,
        cuda_graphs: bool = False,
        trust_guards: bool = False,
    ) -> None:
        self.eager = method if eager is None else eager
        self.what = what
        self.quiet = quiet
        self.cuda_graphs = cuda_graphs
        self.cuda_graphs_used = False  # whether a graph was compiled for CUDA-graph capture
        self.model_name = getattr(method.__self__, "name", type(method.__self__).__name__)
        self.fallback_reason: str | None = None
        self.graphs_compiled = 0
        self.eager_calls = 0
        self.trusted_calls = 0
        self._batch_size: int | None = None
        self._eager_first_call = eager_first_call
        self._backend_error: str | None = None
        self._trust_guards = trust_guards
        self._trusted: Any = None  # the signature of the last guarded call's arguments, since new_fit()
        tag = f"{what.replace(' ', '_')}_{id(method.__self__):x}"
        self._compiled = torch.compile(_own_copy(method, tag), backend=self._backend, dynamic=False)

    def _backend(self, gm: torch.fx.GraphModule, example_inputs: list[Any]) -> Callable[..., Any]:
        """Inductor, with the backward graph compiled up front (so its errors surface here too); a graph it
        cannot compile runs as traced, eagerly."""
        inductor = torch._dynamo.lookup_backend("inductor")
        self.graphs_compiled += 1
        capture = self.cuda_graphs and _on_cuda(example_inputs)
        try:
            import torch._inductor.config as inductor_config

            with (
                torch._functorch.config.patch(force_non_lazy_backward_lowering=True),
                inductor_config.patch({"triton.cudagraphs": True} if capture else {}),
            ):
                compiled = inductor(gm, example_inputs)
            self.cuda_graphs_used |= capture
            return compiled
        except Exception as e:  # any compiler failure: this graph runs eagerly, and the function after it
            if self._backend_error is None:
                self._backend_error = _reason(e)
            return gm.forward

    def __call__(self, *args: Any) -> Any:
        if self.fallback_reason is not None:
            return self.eager(*args)
        size = _leading_dim(args[0]) if args else None
        if self._batch_size is None:
            self._batch_size = size
            if self._eager_first_call:  # lazily built state (optimizer slots, metric variables) is made eagerly
                return self.eager(*args)
        elif size != self._batch_size:
            self.eager_calls += 1
            return self.eager(*args)
        try:
            out = self._run_compiled(args)
        except Exception as e:
            out = self.eager(*args)  # the user's own error raises here, as it would without jit_compile
            self._fall_back(_reason(e))
            return out
        if self._backend_error is not None:
            self._fall_back(self._backend_error)
        return out

    def _run_compiled(self, args: tuple[Any, ...]) -> Any:
        if not self._trust_guards:
            return self._compiled(*args)
        signature = _signature(args)
        if signature == self._trusted and _default_stance():
            self.trusted_calls += 1
            with torch.compiler.set_stance(skip_guard_eval_unsafe=True):
                return self._compiled(*args)
        out = self._compiled(*args)
        self._trusted = signature
        return out

    def new_fit(self) -> None:
        """The next call runs the compiler's guards again (the model or the data may have changed)."""
        self._trusted = None

    def _fall_back(self, reason: str) -> None:
        self.fallback_reason = reason
        if self.quiet:
            return
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
    def jit_compile(self, value: bool | str) -> None:
        # As Keras's setter: the step functions made so far are dropped and made again on the next call.
        self.__dict__["_jit_compile"] = value is True and not self._run_eagerly
        self.__dict__["_jit_auto"] = value == "auto" and not self._run_eagerly
        self._reset_step_functions()

    def _reset_step_functions(self) -> None:
        for name in ("train_function", "test_function", "predict_function"):
            self.__dict__[name] = None
        for name in (
            "_compiled_whole",
            "_compiled_fwd",
            "_compiled_update",
            "_compiled_test_fwd",
            "_compiled_predict",
            "_jit_auto_state",
        ):
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
        whole = self.__dict__.get("_compiled_whole")
        if whole is not None:  # a new fit (or train_on_batch call): the compiler's guards run again first
            whole.new_fit()
        if self.train_function is not None and not force:
            return self.train_function
        self.__dict__["_cached_train_vars"] = None
        self._install_compiled_train_step(self._jit_compile)
        auto = auto_jit.AutoJit(self) if self.__dict__.get("_jit_auto") and self._uses_default_train_step() else None
        self.__dict__["_jit_auto_state"] = auto

        def one_step(data: Any) -> Mapping[str, Any]:
            return self.train_step(data)

        def auto_step(data: Any) -> Mapping[str, Any]:
            auto = self.__dict__["_jit_auto_state"]
            auto.before_step()
            logs = self.train_step(data)
            auto.after_step()
            return logs

        fn = one_step if auto is None else auto_step
        self.__dict__["train_function"] = fn
        return fn

    def _install_compiled_train_step(self, on: bool) -> None:
        """The compiled train step. With the trainer's own ``train_step``: the whole step as one program
        (``whole_step``); where that cannot be traced, two compiled parts, forward + loss + backward and the
        optimizer update with loss and metric tracking. A custom ``train_step`` does its own update: its forward
        pass and loss are compiled. Each function is compiled on its first compiled call, so the two parts cost
        nothing unless the whole step falls back (or ``DataParallel`` stands its DDP forward in the step)."""
        self.__dict__["_compiled_fwd"] = JitFunction(self._forward_loss, "train") if on else None
        whole = on and self._uses_default_train_step()
        self.__dict__["_compiled_update"] = (
            JitFunction(self._apply_update, "optimizer update of the train", eager_first_call=True) if whole else None
        )
        if whole:
            step = WholeStep(self)
            whole = JitFunction(
                step.traced,
                "train",
                eager_first_call=True,
                eager=step.eager,
                quiet=True,
                cuda_graphs=True,
                trust_guards=True,
            )
        self.__dict__["_compiled_whole"] = whole or None

    def _jit_fell_back(self) -> bool:
        """Whether the compiled train step runs eagerly now: the whole step fell back, and so did one of its parts."""
        whole = self.__dict__.get("_compiled_whole")
        if whole is not None and whole.fallback_reason is None:
            return False
        parts = [self.__dict__.get(k) for k in ("_compiled_fwd", "_compiled_update")]
        return any(p is not None and p.fallback_reason is not None for p in parts)

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
