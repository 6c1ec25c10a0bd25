"""The training mixin ``Model`` inherits: compile / fit / evaluate / predict with Keras semantics.

Three parts are kept apart:

* the *steps* (``train_step``, ``test_step``, ``predict_step``), overridable as in Keras;
* the *function factory* (``make_train_function`` ...), which wraps a step once, eager or
  with ``torch.compile`` (``jit_compile=True``);
* the *loop* (epochs, batches from the data adapter, callbacks).

Metric state stays on the device. Host syncs are marked ``# host sync``: one per logging point
(epoch end; a progress-bar redraw, throttled), none per step.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from typing import Any

import torch

from lamina import metrics as metrics_module
from lamina import optimizers, tree
from lamina.serialization import deserialize_keras_object, serialize_keras_object
from lamina.trainers.compile_utils import CompileLoss, CompileMetrics
from lamina.trainers.data_adapters import unpack_x_y_sample_weight
from lamina.trainers.function_factory import StepFunctions
from lamina.trainers.logs import _batch_size, _LazyLogs
from lamina.trainers.loops import TrainingLoops
from lamina.variable import get_stateless_scope


class Trainer(TrainingLoops, StepFunctions):
    """Keras's training API on a model: ``compile``, ``fit``, ``evaluate``, ``predict`` and the batch variants."""

    def __init__(self) -> None:
        d = self.__dict__
        d["compiled"] = False
        d["optimizer"] = None
        d["loss"] = None
        d["_compile_loss"] = None
        d["_compile_metrics"] = None
        d["_loss_tracker"] = None
        d["_compile_config"] = None
        d["stop_training"] = False
        d["history"] = None
        d["steps_per_execution"] = 1
        d["_jit_compile"] = False
        d["_jit_auto"] = False
        d["_run_eagerly"] = False
        d["train_function"] = None
        d["test_function"] = None
        d["predict_function"] = None
        d["_metrics"] = []

    # ------------------------------------------------------------------ compile
    def compile(
        self,
        optimizer: Any = "rmsprop",
        loss: Any = None,
        loss_weights: Any = None,
        metrics: Any = None,
        weighted_metrics: Any = None,
        run_eagerly: bool = False,
        steps_per_execution: int = 1,
        jit_compile: bool | str = "auto",
        auto_scale_loss: bool = True,
    ) -> None:
        """Configures the model for training.

        Args:
            optimizer: name or optimizer instance (default ``"rmsprop"``).
            loss: name, function, ``Loss`` instance, or a list/dict of those per output.
            loss_weights: scalar, list or dict weighting each output's loss.
            metrics: list (or per-output list/dict) of names, functions or ``Metric`` instances;
                ``"accuracy"`` is resolved from the loss and output shape as Keras does.
            weighted_metrics: metrics that also receive ``sample_weight``.
            run_eagerly: never compile the step.
            steps_per_execution: batches per call of the step function (callbacks see every N-th batch).
            jit_compile: ``True`` compiles the whole train step with ``torch.compile`` (forward, loss and
                backward as one program, the optimizer update and metric tracking as another) and the
                forward pass of the test and predict steps; a function the compiler cannot handle runs
                eagerly, with one warning. ``"auto"`` compiles the train step only where that was measured
                faster (see ``lamina/trainers/auto_jit.py``; on a CPU it stays eager).
            auto_scale_loss: with a ``mixed_float16`` policy, wrap the optimizer in loss scaling.

        Example:
            >>> import lamina
            >>> model = lamina.Sequential([lamina.Input((4,)), lamina.layers.Dense(3)])
            >>> model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
            >>> model.compiled
            True
        """
        self.__dict__["optimizer"] = optimizers.get(optimizer)
        if (
            auto_scale_loss
            and self._policy_name() == "mixed_float16"
            and not isinstance(self.optimizer, optimizers.LossScaleOptimizer)
        ):
            self.__dict__["optimizer"] = optimizers.LossScaleOptimizer(self.optimizer)
        output_names = self._output_names()
        self.__dict__["loss"] = loss
        self.__dict__["_compile_loss"] = CompileLoss(loss, loss_weights, output_names) if loss is not None else None
        self.__dict__["_compile_metrics"] = (
            CompileMetrics(metrics, weighted_metrics, output_names) if (metrics or weighted_metrics) else None
        )
        self.__dict__["_loss_tracker"] = metrics_module.Mean(name="loss")
        if not isinstance(steps_per_execution, int) or steps_per_execution < 1:
            raise ValueError(f"`steps_per_execution` must be a positive integer. Received: {steps_per_execution!r}")
        self.__dict__["steps_per_execution"] = steps_per_execution
        if jit_compile not in (True, False, "auto"):
            raise ValueError(f"`jit_compile` must be True, False or 'auto'. Received: jit_compile={jit_compile!r}")
        self.__dict__["_jit_compile"] = jit_compile is True and not run_eagerly
        self.__dict__["_jit_auto"] = jit_compile == "auto" and not run_eagerly
        self.__dict__["_run_eagerly"] = bool(run_eagerly)
        self._reset_step_functions()
        self.__dict__["compiled"] = True
        self.__dict__["_compile_config"] = {
            "optimizer": optimizer,
            "loss": loss,
            "loss_weights": loss_weights,
            "metrics": metrics,
            "weighted_metrics": weighted_metrics,
            "run_eagerly": run_eagerly,
            "steps_per_execution": steps_per_execution,
            "jit_compile": jit_compile,
        }

    def _policy_name(self) -> str:
        return getattr(getattr(self, "dtype_policy", None), "name", "float32")

    def _output_names(self) -> list[str] | None:
        names = getattr(self, "output_names", None)
        if names:
            return list(names)
        return None

    def get_compile_config(self) -> dict[str, Any] | None:
        """The ``compile`` arguments, serialized (what a ``.keras`` file stores)."""
        if not self.compiled or self._compile_config is None:
            return None

        cfg = dict(self._compile_config)
        opt = self.optimizer
        inner = getattr(opt, "inner_optimizer", None)
        cfg["optimizer"] = serialize_keras_object(
            opt if inner is None or not isinstance(cfg["optimizer"], str) else opt
        )
        for key in ("loss", "metrics", "weighted_metrics", "loss_weights"):
            cfg[key] = serialize_keras_object(cfg[key])
        return cfg

    def compile_from_config(self, config: dict[str, Any]) -> None:
        def restore(value: Any) -> Any:  # strings ("mse", "accuracy") stay strings, as in Keras
            # a serialized object is rebuilt; other containers are walked into (None); leaves stay
            if isinstance(value, dict) and "class_name" in value:
                return deserialize_keras_object(value)
            return None if isinstance(value, (list, tuple, dict)) else value

        config = dict(config)
        for key in ("optimizer", "loss", "metrics", "weighted_metrics"):
            if key in config:
                config[key] = tree.traverse(restore, config[key])
        config.pop("auto_scale_loss", None)
        self.compile(**config)
        if self.built and self.optimizer is not None and self.trainable_weights:
            self.optimizer.build(self.trainable_weights)

    def _assert_compile_called(self, method: str) -> None:
        if not self.compiled:
            raise ValueError(
                f"You must call `compile()` before using the model. Called: `{method}()` on "
                f'model "{getattr(self, "name", "?")}".'
            )

    # ------------------------------------------------------------------ metrics
    @property
    def metrics(self) -> list[Any]:
        """Loss tracker, compiled metrics, per-output loss trackers, then user metrics (Keras order)."""
        out = []
        if self.compiled:
            if self._loss_tracker is not None:
                out.append(self._loss_tracker)
            if self._compile_metrics is not None:
                out.append(self._compile_metrics)
            if self._compile_loss is not None:
                out.extend(self._compile_loss.metrics)
        out.extend(self._metrics)
        return out

    @property
    def metrics_names(self) -> list[str]:
        return [m.name for m in self.metrics]

    def reset_metrics(self) -> None:
        for m in self.metrics:
            m.reset_state()

    def get_metrics_result(self) -> dict[str, Any]:
        """Current value of every metric, as device tensors (no host sync)."""
        out: dict[str, Any] = {}
        for m in self.metrics:
            r = m.result()
            if isinstance(r, dict):
                out.update(r)
            else:
                out[m.name] = r
        return out

    # ------------------------------------------------------------------ steps
    def _autocast(self) -> contextlib.AbstractContextManager:
        name = self._policy_name()
        if name.startswith("mixed_"):
            dtype = torch.float16 if name == "mixed_float16" else torch.bfloat16
            device = self._device().type
            return torch.autocast(device_type=device, dtype=dtype)
        return contextlib.nullcontext()

    def compute_loss(
        self, x: Any = None, y: Any = None, y_pred: Any = None, sample_weight: Any = None, training: bool = True
    ) -> torch.Tensor:
        """The total loss: compiled losses plus ``self.losses`` (``add_loss`` and regularization)."""
        total = None
        if self._compile_loss is not None and y is not None:
            total = self._compile_loss(y, y_pred, sample_weight)
        for extra in self.losses:
            extra = extra if isinstance(extra, torch.Tensor) else torch.as_tensor(extra)
            extra = extra.sum().to(torch.float32)
            total = extra if total is None else total + extra
        if total is None:
            if self._compile_loss is not None and y is None:
                raise ValueError(
                    f'Model "{self.name}" was compiled with a loss, but `fit` got no targets `y`. '
                    "Pass `y`, or yield (x, y) batches from your dataset."
                )
            raise ValueError(
                f'Model "{self.name}" has no loss to optimize: pass `loss=` to `compile()` or call `add_loss()` '
                "in a layer."
            )
        return total

    def _compute_loss(self, x: Any, y: Any, y_pred: Any, sample_weight: Any, training: bool = True) -> torch.Tensor:
        if "training" in self.compute_loss.__code__.co_varnames:
            return self.compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight, training=training)
        return self.compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight)

    def compute_metrics(self, x: Any, y: Any, y_pred: Any, sample_weight: Any = None) -> Mapping[str, Any]:
        """Updates the compiled metrics and returns the logs (computed lazily, on the device)."""
        if self._compile_metrics is not None and y is not None:
            self._compile_metrics.update_state(y, y_pred, sample_weight)
        return _LazyLogs(self)

    # What ``jit_compile`` compiles: the forward pass and loss of each step (see function_factory).
    def _forward_loss(self, x: Any, y: Any, sample_weight: Any) -> tuple[Any, torch.Tensor]:
        y_pred = self(x, training=True)
        loss = self._compute_loss(x, y, y_pred, sample_weight, training=True)
        return y_pred, loss

    def _eval_forward_loss(self, x: Any, y: Any, sample_weight: Any) -> tuple[Any, torch.Tensor]:
        y_pred = self(x, training=False)
        loss = self._compute_loss(x, y, y_pred, sample_weight, training=False)
        return y_pred, loss

    def _predict_forward(self, x: Any) -> Any:
        return self(x, training=False)

    def train_step(self, data: Any) -> Mapping[str, Any]:
        """One optimization step on a batch: forward, loss, backward, optimizer update, metrics."""
        x, y, sample_weight = unpack_x_y_sample_weight(data)
        whole = self.__dict__.get("_compiled_whole")
        variables = self._train_variables()
        if whole is not None and whole.fallback_reason is None and variables and "_dist_saved_fwd" not in self.__dict__:
            y_pred = whole(x, y, sample_weight, variables)  # jit_compile: forward, backward and update as one program
        else:
            y_pred = self._train_parts(x, y, sample_weight, variables)
        return _LazyLogs(self) if self._default_compute_metrics() else self.compute_metrics(x, y, y_pred, sample_weight)

    def _train_parts(self, x: Any, y: Any, sample_weight: Any, variables: list[Any], compiled: bool = True) -> Any:
        """The train step in two parts: forward + loss, then ``backward()`` and ``_apply_update``; each part is the
        compiled one when ``jit_compile`` made it (and ``compiled``). ``variables``: ``_train_variables()``.
        Returns ``y_pred``."""
        with self._autocast():
            fwd = (self._compiled_forward if compiled else None) or self._forward_loss
            y_pred, loss = fwd(x, y, sample_weight)
        grads = None
        if variables:
            # a variable is its tensor (``.value`` differs only inside a StatelessScope: asked once, not per variable)
            tensors = variables if get_stateless_scope() is None else [v.value for v in variables]
            for t in tensors:
                t.grad = None
            self._scaled_loss(loss).backward()
            grads = [t.grad for t in tensors]
        update = (self.__dict__.get("_compiled_update") if compiled else None) or self._apply_update
        update(x, y, y_pred, sample_weight, loss, grads)
        return y_pred

    def _scaled_loss(self, loss: torch.Tensor) -> torch.Tensor:
        """The loss to differentiate: scaled by the optimizer when it scales losses (``LossScaleOptimizer``)."""
        opt = self.optimizer
        return opt.scale_loss(loss) if hasattr(opt, "scale_loss") else loss

    def _apply_update(self, x: Any, y: Any, y_pred: Any, sample_weight: Any, loss: torch.Tensor, grads: Any) -> None:
        """The second half of the train step (what ``jit_compile`` compiles after the backward pass): the optimizer
        update, the loss tracker and, unless ``compute_metrics`` is overridden, the compiled metrics."""
        if grads is not None:
            self.optimizer.apply(grads, self._train_variables())
        self._track_loss(loss, _batch_size(x))
        if self._default_compute_metrics() and self._compile_metrics is not None and y is not None:
            self._compile_metrics.update_state(y, y_pred, sample_weight)

    def _uses_default_train_step(self) -> bool:
        return type(self).train_step is Trainer.train_step

    def _default_compute_metrics(self) -> bool:
        return type(self).compute_metrics is Trainer.compute_metrics

    def test_step(self, data: Any) -> Mapping[str, Any]:
        """One evaluation step on a batch: forward in inference mode, loss and metrics."""
        x, y, sample_weight = unpack_x_y_sample_weight(data)
        with self._autocast():
            fwd = self.__dict__.get("_compiled_test_fwd") or self._eval_forward_loss
            y_pred, loss = fwd(x, y, sample_weight)
        self._track_loss(loss, _batch_size(x))
        return self.compute_metrics(x, y, y_pred, sample_weight)

    def _track_loss(self, loss: torch.Tensor, batch_size: int) -> None:
        """Keras's loss tracker update, ``total += loss * batch_size; count += batch_size``, in two device ops."""
        tracker = self._loss_tracker
        total = tracker.total.value
        loss = loss.detach()
        if total.device == loss.device and total.dtype == loss.dtype and loss.ndim == 0:
            total.add_(loss * batch_size)
            tracker.count.value.add_(batch_size)  # a Python number: no transfer
        else:
            tracker.update_state(loss, sample_weight=batch_size)

    def predict_step(self, data: Any) -> Any:
        """The model's output for one batch (inference mode)."""
        x, _, _ = unpack_x_y_sample_weight(data)
        with self._autocast():
            return (self.__dict__.get("_compiled_predict") or self._predict_forward)(x)

    def _train_variables(self) -> list[Any]:
        cached = self.__dict__.get("_cached_train_vars")
        if cached is None:
            cached = self.trainable_weights
            self.__dict__["_cached_train_vars"] = cached
        return cached
