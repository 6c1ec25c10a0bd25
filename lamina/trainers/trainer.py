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
import sys
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np
import torch

from lamina import backend, optimizers, tree
from lamina import losses as losses_module
from lamina import metrics as metrics_module
from lamina.backend import distribution_lib as _dist_lib
from lamina.callbacks import CallbackList
from lamina.serialization import deserialize_keras_object, serialize_keras_object
from lamina.trainers import data_adapters
from lamina.trainers.compile_utils import CompileLoss, CompileMetrics, _flat_outputs
from lamina.trainers.data_adapters import unpack_x_y_sample_weight
from lamina.tree import flatten, map_structure


class _LazyLogs(Mapping):
    """Batch logs computed only if someone reads them (so unread batches cost no metric math)."""

    __slots__ = ("_model", "_values")

    def __init__(self, model: Trainer) -> None:
        self._model = model
        self._values: dict[str, Any] | None = None

    def _get(self) -> dict[str, Any]:
        if self._values is None:  # Python floats in sorted order, as Keras hands batch logs to callbacks
            self._values = _to_python(self._model.get_metrics_result())
        return self._values

    def __getitem__(self, key: str) -> Any:
        return self._get()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._get())

    def __len__(self) -> int:
        return len(self._get())

    def __repr__(self) -> str:
        return repr(self._get())


def _to_python(logs: Mapping[str, Any]) -> dict[str, float]:
    out = {}
    for k, v in sorted(logs.items()):  # Keras's pythonify_logs sorts the keys
        if isinstance(v, torch.Tensor):
            v = float(v.detach())  # host sync (one per logging point)
        elif not isinstance(v, (float, str)):  # a Variable a custom metric returns, NumPy values, ints
            with contextlib.suppress(TypeError, ValueError):
                v = float(v)
        out[k] = v
    return out


def _resolve_verbose(verbose: Any) -> int:
    if verbose == "auto":
        return 1 if (hasattr(sys.stdout, "isatty") and sys.stdout.isatty()) else 2
    if verbose not in (0, 1, 2, True, False):
        raise ValueError(f"`verbose` must be 'auto', 0, 1 or 2. Received: verbose={verbose!r}")
    if _dist_lib._ACTIVE is not None and not _dist_lib._ACTIVE.is_chief:  # [distribution] rank 0 alone prints
        return 0
    return int(verbose)


class Trainer:
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
            jit_compile: ``True`` wraps the forward and loss in ``torch.compile``; ``"auto"`` means eager.
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
        self.__dict__["_run_eagerly"] = bool(run_eagerly)
        self.__dict__["train_function"] = None
        self.__dict__["test_function"] = None
        self.__dict__["predict_function"] = None
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

    def _forward_loss(self, x: Any, y: Any, sample_weight: Any) -> tuple[Any, torch.Tensor]:
        y_pred = self(x, training=True)
        loss = self._compute_loss(x, y, y_pred, sample_weight, training=True)
        return y_pred, loss

    def train_step(self, data: Any) -> Mapping[str, Any]:
        """One optimization step on a batch: forward, loss, backward, optimizer update, metrics."""
        x, y, sample_weight = unpack_x_y_sample_weight(data)
        with self._autocast():
            fwd = self._compiled_forward or self._forward_loss
            y_pred, loss = fwd(x, y, sample_weight)
        self._track_loss(loss, _batch_size(x))
        variables = self._train_variables()
        if variables:
            for v in variables:
                v.value.grad = None
            opt = self.optimizer
            scaled = opt.scale_loss(loss) if hasattr(opt, "scale_loss") else loss
            scaled.backward()
            opt.apply([v.value.grad for v in variables], variables)
        return self.compute_metrics(x, y, y_pred, sample_weight)

    def test_step(self, data: Any) -> Mapping[str, Any]:
        """One evaluation step on a batch: forward in inference mode, loss and metrics."""
        x, y, sample_weight = unpack_x_y_sample_weight(data)
        with self._autocast():
            y_pred = self(x, training=False)
            loss = self._compute_loss(x, y, y_pred, sample_weight, training=False)
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
            return self(x, training=False)

    def _train_variables(self) -> list[Any]:
        cached = self.__dict__.get("_cached_train_vars")
        if cached is None:
            cached = self.trainable_weights
            self.__dict__["_cached_train_vars"] = cached
        return cached

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

    # ------------------------------------------------------------------ helpers
    def _symbolic_build_from_batch(self, batch: Any) -> None:
        """Builds the model (and the optimizer) from the first batch, before any weight changes."""
        if not self.built:
            x, _, _ = unpack_x_y_sample_weight(batch)
            with torch.no_grad():
                self(x, training=False)
        if self.optimizer is not None and not getattr(self.optimizer, "built", False):
            self.optimizer.build(self.trainable_weights)

    def _validate_first_batch(self, batch: Any) -> None:
        """Checks targets against the loss once (labels in range, shapes compatible) before training."""
        x, y, _ = unpack_x_y_sample_weight(batch)
        if y is None or self._compile_loss is None:
            return

        validate = getattr(losses_module, "validate_targets", None)
        if validate is None:
            return
        with torch.no_grad():
            y_pred = self(x, training=False)
        if not self._compile_loss.built:
            self._compile_loss.build(y, y_pred)

        trues = _flat_outputs(y, self._compile_loss.output_names)
        preds = _flat_outputs(y_pred, self._compile_loss.output_names)
        for loss_fn, t, p in zip(self._compile_loss.losses, trues, preds):
            if loss_fn is not None and t is not None:
                inner = loss_fn.fn if isinstance(loss_fn, losses_module.LossFunctionWrapper) else loss_fn
                try:
                    validate(t, p, inner)
                except ValueError as e:
                    raise ValueError(f'Model "{self.name}": {e}') from None
                self._check_target_shape(inner, t, p)

    def _check_target_shape(self, loss: Any, y_true: Any, y_pred: Any) -> None:
        """Built-in elementwise losses need ``y_true`` to broadcast with ``y_pred`` (after Keras's squeeze of a
        trailing 1); a clear error here beats torch's broadcasting message in the middle of a step."""
        name = getattr(loss, "__name__", type(loss).__name__)
        module = getattr(loss, "__module__", type(loss).__module__) or ""
        if not module.startswith("lamina.losses") or "sparse" in name.lower() or "ctc" in name.lower():
            return
        ts, ps = tuple(getattr(y_true, "shape", ())), tuple(getattr(y_pred, "shape", ()))
        if len(ts) == len(ps) + 1 and ts and ts[-1] == 1:
            ts = ts[:-1]
        elif len(ps) == len(ts) + 1 and ps and ps[-1] == 1:
            ps = ps[:-1]
        try:
            torch.broadcast_shapes(ts, ps)
        except RuntimeError:
            raise ValueError(
                f'Model "{self.name}": the loss {name} expects targets of the output\'s shape {tuple(y_pred.shape)}, '
                f"but received y_true of shape {tuple(y_true.shape)}. Check the labels, or the last layer's size."
            ) from None

    # ------------------------------------------------------------------ fit
    def fit(
        self,
        x: Any = None,
        y: Any = None,
        batch_size: int | None = None,
        epochs: int = 1,
        verbose: Any = "auto",
        callbacks: list | None = None,
        validation_split: float = 0.0,
        validation_data: Any = None,
        shuffle: bool | str = True,
        class_weight: dict | None = None,
        sample_weight: Any = None,
        initial_epoch: int = 0,
        steps_per_epoch: int | None = None,
        validation_steps: int | None = None,
        validation_batch_size: int | None = None,
        validation_freq: int | list = 1,
    ) -> Any:
        """Trains the model for ``epochs`` epochs and returns a ``History``.

        ``x`` may be arrays/tensors (or lists/dicts of them, or a pandas DataFrame), a torch
        ``Dataset``/``DataLoader``, a generator, or a ``lamina.utils.PyDataset``. Dropout and
        BatchNormalization run in training mode only here.

        Raises:
            ValueError: if ``compile`` was not called, lengths of ``x``/``y`` differ, or the targets
                do not fit the loss — always before any weight changes.
        """
        self._assert_compile_called("fit")
        if epochs is None or epochs < 0:
            raise ValueError(f"`epochs` must be a non-negative integer. Received: epochs={epochs!r}")
        verbose = _resolve_verbose(verbose)
        device = self._device()
        if validation_split and validation_data is None:
            (x, y, sample_weight), validation_data = data_adapters.train_validation_split(
                (x, y, sample_weight), validation_split
            )
        adapter = data_adapters.get_data_adapter(
            x,
            y,
            sample_weight,
            batch_size=batch_size,
            steps=steps_per_epoch,
            shuffle=shuffle,
            class_weight=class_weight,
            device=device,
        )
        val_adapter = None
        if validation_data is not None:
            if isinstance(validation_data, (tuple, list)) and not isinstance(
                validation_data[0], (torch.utils.data.DataLoader,)
            ):
                vx, vy, vsw = unpack_x_y_sample_weight(tuple(validation_data))
            else:
                vx, vy, vsw = validation_data, None, None
            val_adapter = data_adapters.get_data_adapter(
                vx,
                vy,
                vsw,
                batch_size=validation_batch_size or batch_size,
                steps=validation_steps,
                shuffle=False,
                device=device,
            )
        dist = _dist_lib._ACTIVE  # [distribution] None unless a multi-process DataParallel is set
        if dist is not None:  # [distribution] per-process data shards; file-writing callbacks on rank 0 only
            adapter, val_adapter, callbacks = dist._fit_begin(self, adapter, val_adapter, callbacks)

        cbs = (
            callbacks
            if isinstance(callbacks, CallbackList)
            else CallbackList(
                callbacks,
                add_history=True,
                add_progbar=verbose != 0,
                model=self,
                verbose=verbose,
                epochs=epochs,
                steps=adapter.num_batches,
            )
        )
        self.__dict__["stop_training"] = False
        first = True
        train_fn = self.make_train_function()
        if dist is not None:  # [distribution] forward through DDP, per-batch gradient weights
            train_fn = dist._wrap_train_function(self, train_fn, adapter)
        self.__dict__["_cached_train_vars"] = None
        self.__dict__["_fit_adapter"] = adapter
        logs: Mapping[str, Any] = {}
        epoch_logs: dict[str, float] = {}
        spe = self.steps_per_execution
        cbs.on_train_begin()
        initial_epoch = int(getattr(self, "_initial_epoch_override", None) or initial_epoch)
        self.__dict__.pop("_initial_epoch_override", None)
        previous_mode = self.training
        try:
            for epoch in range(initial_epoch, epochs):
                self.reset_metrics()
                self.__dict__["_cached_train_vars"] = None
                cbs.on_epoch_begin(epoch)
                begin_hooks = cbs.needs("on_train_batch_begin")
                end_hooks = cbs.needs("on_train_batch_end")
                step = -1
                for step, batch in enumerate(adapter.epoch_iterator(epoch)):
                    if first:
                        self._symbolic_build_from_batch(batch)
                        self._validate_first_batch(batch)
                        first = False
                    if begin_hooks and step % spe == 0:
                        cbs.on_train_batch_begin(step)
                    logs = train_fn(batch)
                    if end_hooks and (step + 1) % spe == 0:
                        cbs.on_train_batch_end(step, logs)
                    if self.stop_training:
                        break
                if step < 0:
                    raise ValueError(
                        "The training data yielded no batches for this epoch. Check `x`, "
                        "`steps_per_epoch` and `batch_size`."
                    )
                adapter.on_epoch_end()
                if dist is not None:  # [distribution] global metrics; rank 0's BatchNorm statistics
                    logs = dist._global_logs(self, logs, sync_buffers=True)
                epoch_logs = _to_python(self._logs_or_metrics(logs))
                if val_adapter is not None and self._should_eval(epoch, validation_freq):
                    val_logs = self._evaluate_adapter(val_adapter, cbs, verbose=0, in_fit=True)
                    epoch_logs.update({f"val_{k}": v for k, v in val_logs.items()})
                cbs.on_epoch_end(epoch, epoch_logs)
                if self.stop_training:
                    break
        finally:
            self.train(previous_mode)
            if dist is not None:  # [distribution] unwrap DDP from the step
                dist._fit_end(self)
        cbs.on_train_end(epoch_logs)
        return self.history

    def _logs_or_metrics(self, logs: Mapping[str, Any]) -> Mapping[str, Any]:
        if isinstance(logs, _LazyLogs) or not logs:
            return self.get_metrics_result()
        return logs

    @staticmethod
    def _should_eval(epoch: int, validation_freq: int | list) -> bool:
        epoch += 1
        if isinstance(validation_freq, int):
            return epoch % validation_freq == 0
        if isinstance(validation_freq, (list, tuple)):
            return epoch in validation_freq
        raise ValueError(
            f"Expected `validation_freq` to be a list or int. Received: validation_freq={validation_freq!r}"
        )

    # ------------------------------------------------------------------ evaluate
    def _evaluate_adapter(self, adapter: Any, cbs: Any, verbose: int, in_fit: bool = False) -> dict[str, float]:
        test_fn = self.make_test_function()
        dist = _dist_lib._ACTIVE
        if dist is not None:  # [distribution] stand-in samples of empty shards do not count
            test_fn = dist._wrap_test_function(self, test_fn, adapter)
        self.reset_metrics() if not in_fit else self._reset_eval_metrics()
        cbs.on_test_begin()
        begin_hooks = cbs.needs("on_test_batch_begin")
        end_hooks = cbs.needs("on_test_batch_end")
        logs: Mapping[str, Any] = {}
        built = self.built
        for step, batch in enumerate(adapter.epoch_iterator(0)):
            if not built:
                self._symbolic_build_from_batch(batch)
                built = True
            if begin_hooks:
                cbs.on_test_batch_begin(step)
            logs = test_fn(batch)
            if end_hooks:
                cbs.on_test_batch_end(step, logs)
        if dist is not None:  # [distribution] global metrics
            logs = dist._global_logs(self, logs)
        result = _to_python(self._logs_or_metrics(logs))
        cbs.on_test_end(result)
        return result

    def _reset_eval_metrics(self) -> None:
        # Validation inside fit uses the same metric objects as training, after the epoch's values
        # have been read, exactly as Keras does.
        self.reset_metrics()

    def evaluate(
        self,
        x: Any = None,
        y: Any = None,
        batch_size: int | None = None,
        verbose: Any = "auto",
        sample_weight: Any = None,
        steps: int | None = None,
        callbacks: list | None = None,
        return_dict: bool = False,
        **kwargs: Any,
    ) -> Any:
        """Loss and metrics on the data, in inference mode: ``[loss, *metrics]`` or a dict with ``return_dict``."""
        self._assert_compile_called("evaluate")
        if kwargs:
            raise ValueError(f"Invalid keyword arguments: {sorted(kwargs)}")
        verbose = _resolve_verbose(verbose)
        adapter = data_adapters.get_data_adapter(
            x, y, sample_weight, batch_size=batch_size, steps=steps, shuffle=False, device=self._device()
        )
        if _dist_lib._ACTIVE is not None:  # [distribution] rank 0's weights everywhere, per-process shards
            adapter, callbacks = _dist_lib._ACTIVE._eval_begin(self, adapter, callbacks)
        cbs = (
            callbacks
            if isinstance(callbacks, CallbackList)
            else CallbackList(
                callbacks, add_progbar=verbose != 0, model=self, verbose=verbose, epochs=1, steps=adapter.num_batches
            )
        )
        logs = self._evaluate_adapter(adapter, cbs, verbose)
        if return_dict:
            return logs
        return self._flatten_metrics_in_order(logs)

    def _flatten_metrics_in_order(self, logs: dict[str, Any]) -> Any:
        names = []
        for m in self.metrics:
            if isinstance(m, CompileMetrics):
                names.extend(sub.name for sub in m.metrics)
            else:
                names.append(m.name)
        results = [logs[n] for n in names if n in logs]
        results += [logs[k] for k in sorted(logs) if k not in names]
        return results[0] if len(results) == 1 else results

    # ------------------------------------------------------------------ predict
    def predict(
        self,
        x: Any,
        batch_size: int | None = None,
        verbose: Any = "auto",
        steps: int | None = None,
        callbacks: list | None = None,
    ) -> Any:
        """The model's outputs for ``x`` as NumPy arrays (batched, inference mode, no gradients)."""
        verbose = _resolve_verbose(verbose)
        device = self._device()
        if (
            callbacks is None
            and verbose != 1
            and steps is None
            and isinstance(x, np.ndarray)
            and self.built
            and len(x) <= (batch_size or 32)
        ):
            # Fast path for small in-memory inputs: one batch, no adapter, no callback machinery.
            if x.dtype == np.float64:
                x = x.astype(np.float32)
            if x.dtype.kind not in "fiub":
                raise TypeError(
                    f'Model "{self.name}" expects numeric inputs, but received an array of dtype {x.dtype} '
                    f"(shape {x.shape}). Convert the data to numbers first."
                )
            xt = torch.from_numpy(np.ascontiguousarray(x))
            if xt.device != device:
                xt = xt.to(device)
            with torch.inference_mode():
                out = self.predict_step((xt,))
            if verbose == 2:
                sys.stdout.write("1/1 - 0s\n")
            return map_structure(backend.to_numpy, out)
        adapter = data_adapters.get_data_adapter(x, batch_size=batch_size, steps=steps, shuffle=False, device=device)
        dist = _dist_lib._ACTIVE
        if dist is not None:  # [distribution] rank 0's weights everywhere, per-process shards
            adapter, callbacks = dist._eval_begin(self, adapter, callbacks)
        cbs = (
            callbacks
            if isinstance(callbacks, CallbackList)
            else CallbackList(
                callbacks, add_progbar=verbose != 0, model=self, verbose=verbose, epochs=1, steps=adapter.num_batches
            )
        )
        predict_fn = self.make_predict_function()
        cbs.on_predict_begin()
        end_hooks = cbs.needs("on_predict_batch_end")
        outputs: list[Any] = []
        for step, batch in enumerate(adapter.epoch_iterator(0)):
            if isinstance(batch, tuple) and len(batch) > 1 and not isinstance(x, (list, tuple)):
                batch = batch[:1] if isinstance(adapter, data_adapters.ArrayDataAdapter) else batch
            out = predict_fn(batch)
            outputs.append(out)
            if end_hooks:
                cbs.on_predict_batch_end(step, {"outputs": out})
        cbs.on_predict_end()
        if not outputs:
            raise ValueError("`predict` got no data: the input yielded no batches.")
        if dist is not None:  # [distribution] all processes' outputs, in the original order
            return dist._gather_predictions(outputs, adapter)
        return _concat_outputs(outputs)

    # ------------------------------------------------------------------ batch variants
    def train_on_batch(
        self,
        x: Any,
        y: Any = None,
        sample_weight: Any = None,
        class_weight: dict | None = None,
        return_dict: bool = False,
    ) -> Any:
        """One training step on exactly this batch; returns the metrics so far."""
        self._assert_compile_called("train_on_batch")
        batch = self._one_batch(x, y, sample_weight, class_weight)
        self._symbolic_build_from_batch(batch)
        logs = _to_python(self._logs_or_metrics(self.make_train_function()(batch)))
        return logs if return_dict else self._flatten_metrics_in_order(logs)

    def test_on_batch(self, x: Any, y: Any = None, sample_weight: Any = None, return_dict: bool = False) -> Any:
        """Loss and metrics on exactly this batch (metrics are reset first)."""
        self._assert_compile_called("test_on_batch")
        batch = self._one_batch(x, y, sample_weight)
        self._symbolic_build_from_batch(batch)
        self.reset_metrics()
        logs = _to_python(self._logs_or_metrics(self.make_test_function()(batch)))
        return logs if return_dict else self._flatten_metrics_in_order(logs)

    def predict_on_batch(self, x: Any) -> Any:
        """The outputs for exactly this batch, as NumPy arrays."""
        return map_structure(backend.to_numpy, self.make_predict_function()(self._one_batch(x)))

    def _one_batch(self, x: Any, y: Any = None, sample_weight: Any = None, class_weight: dict | None = None) -> Any:
        """Exactly the given data as one batch on the device (the ``*_on_batch`` methods)."""
        adapter = data_adapters.get_data_adapter(
            x, y, sample_weight, shuffle=False, class_weight=class_weight, device=self._device()
        )
        if isinstance(adapter, data_adapters.ArrayDataAdapter):  # all samples, not batch_size=32 of them
            adapter.batch_size = adapter.num_samples
            adapter.num_batches = 1
        return next(iter(adapter.epoch_iterator(0)))


def _batch_size(x: Any) -> int:
    for t in flatten(x):
        if hasattr(t, "shape") and len(t.shape):
            return int(t.shape[0])
    return 1


def _concat_outputs(outputs: list[Any]) -> Any:
    """Per-batch predictions joined along the batch axis, leaf by leaf, as NumPy arrays."""

    def concat(*parts: Any) -> np.ndarray:
        if isinstance(parts[0], torch.Tensor):
            return backend.to_numpy(torch.cat(parts, dim=0))
        return np.concatenate([np.asarray(p) for p in parts])

    return map_structure(concat, *outputs)
