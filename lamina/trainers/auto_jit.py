"""``jit_compile="auto"``: compile the train step only where it was measured faster, and only in a fit long enough
to repay the compilation.

The rule, per ``fit`` and model:

1. On a device type not in ``AUTO_COMPILE_DEVICES`` (CUDA and the CPU) the step stays eager.
2. The first ``WARM_STEPS`` steps run eagerly, the next ``TIMED_STEPS`` are timed. If the rest of the fit would
   take less than ``MIN_EAGER_SECONDS[device]`` eagerly, compiling cannot repay itself: the step stays eager, so
   a short ``fit`` is never slower. On the CPU that is ten minutes: measured on the 2-core CPU of issue 15
   (``benchmarks/bench_fit.py``), Inductor takes 7-26 s to compile the one-program step of the mlp, the convnets
   and the transformer, 150 s for the LSTM, and the compiled step was 0-25% faster than the eager one; on CUDA,
   where a compile takes tens of seconds and CUDA graphs remove the launch overhead, two minutes.
3. Otherwise the step is compiled (``jit_compile=True``'s one-program step), warmed for ``WARM_STEPS`` steps and
   timed for ``TIMED_STEPS``; it is kept only if its median step is at most ``KEEP_RATIO`` of the eager one
   and nothing fell back to eager; else the model goes back to the eager step for the rest of the fit.

Under a multi-process ``DataParallel`` the step stays eager (its DDP forward must not be replaced).
The timed steps synchronize the device once per step (``# host sync``); no other step does.
``decision`` says what was chosen and why (``model._jit_auto_state.decision``).
"""

from __future__ import annotations

import statistics
import time
from typing import Any

import torch

AUTO_COMPILE_DEVICES = ("cuda", "cpu")
WARM_STEPS = 3
TIMED_STEPS = 5
MIN_EAGER_SECONDS = {"cuda": 120.0, "cpu": 600.0}  # eager seconds left in the fit before a compile can repay
KEEP_RATIO = 0.9


class AutoJit:
    """Decides, over the first steps of a fit, whether the model's train step runs compiled or eagerly.

    Args:
        model: the model whose ``make_train_function`` made this (its ``_planned_train_steps`` is set by ``fit``).
    """

    def __init__(self, model: Any) -> None:
        self.model = model
        self.decision: str | None = None
        self.compile_seconds: float | None = None
        self._step = 0
        self._t = 0.0
        self._eager: list[float] = []
        self._compiled: list[float] = []
        device = model._device()
        self._device = device
        if device.type not in AUTO_COMPILE_DEVICES:
            self.decision = f"eager: no compiler measured on {device.type}"

    def new_fit(self) -> None:
        """A new ``fit``: a decision that the last fit was too short is taken again (this one may be longer)."""
        if self.decision is not None and self.decision.startswith("eager: the fit is too short"):
            self.__init__(self.model)

    def _sync(self) -> None:
        if self._device.type == "cuda":
            torch.cuda.synchronize(self._device)  # host sync: only the timed steps of the decision

    def _timing(self, start: int) -> bool:
        return start <= self._step < start + TIMED_STEPS

    def before_step(self) -> None:
        if self.decision is not None:
            return
        if self._step == WARM_STEPS + TIMED_STEPS:
            self._maybe_compile()
            if self.decision is not None:
                return
        if self._timing(WARM_STEPS) or self._timing(2 * WARM_STEPS + TIMED_STEPS):
            self._sync()
        self._t = time.perf_counter()

    def after_step(self) -> None:
        if self.decision is not None:
            return
        first_compiled = WARM_STEPS + TIMED_STEPS
        if self._step == first_compiled:  # the first compiled step: the compile time, roughly
            self.compile_seconds = time.perf_counter() - self._t
        for start, times in ((WARM_STEPS, self._eager), (2 * WARM_STEPS + TIMED_STEPS, self._compiled)):
            if self._timing(start):
                self._sync()
                times.append(time.perf_counter() - self._t)
        self._step += 1
        if self._step == 2 * (WARM_STEPS + TIMED_STEPS):
            self._keep_or_drop()

    def _maybe_compile(self) -> None:
        if "_dist_saved_fwd" in self.model.__dict__:  # DataParallel's DDP forward stands in the step: keep it
            self.decision = "eager: distributed training keeps its DDP step"
            return
        planned = self.model.__dict__.get("_planned_train_steps")
        left = None if planned is None else planned - self._step
        eager_step = statistics.median(self._eager)
        if left is None or left * eager_step < MIN_EAGER_SECONDS[self._device.type]:
            self.decision = (
                f"eager: the fit is too short to repay a compile ({left} steps of {eager_step * 1e3:.2f} ms)"
            )
            return
        self.model._install_compiled_train_step(True)

    def _keep_or_drop(self) -> None:
        model = self.model
        fell_back = model._jit_fell_back()
        eager, compiled = statistics.median(self._eager), statistics.median(self._compiled)
        if not fell_back and compiled <= KEEP_RATIO * eager:
            self.decision = f"compiled: {compiled * 1e3:.2f} ms/step vs {eager * 1e3:.2f} eager"
            return
        model._install_compiled_train_step(False)
        why = "the compiler fell back" if fell_back else f"{compiled * 1e3:.2f} ms/step vs {eager * 1e3:.2f}"
        self.decision = f"eager: {why}"
