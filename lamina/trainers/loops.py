"""The loop of the trainer: epochs and batches from the data adapter, callbacks and validation.

Also the single-batch entry points (``train_on_batch``...). Host syncs are marked ``# host sync``."""

from __future__ import annotations

import sys
import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np
import torch

from lamina import backend
from lamina import losses as losses_module
from lamina.backend import config, host_memory
from lamina.backend import distribution_lib as _dist_lib
from lamina.backend.traceback_utils import filter_traceback
from lamina.callbacks import CallbackList
from lamina.callbacks.logs import check_logs, pythonify_logs
from lamina.callbacks.progbar import interactive_output
from lamina.trainers import data_adapters
from lamina.trainers.argument_checks import (
    check_class_weight,
    check_count,
    check_data,
    check_fit_arguments,
    check_sample_weight,
)
from lamina.trainers.compile_utils import CompileMetrics, _flat_outputs
from lamina.trainers.data_adapters import unpack_x_y_sample_weight
from lamina.trainers.logs import _LazyLogs
from lamina.trainers.target_validation import validate_targets
from lamina.tree import flatten, map_structure


class TrainingLoops:
    """The loop: ``fit``/``evaluate``/``predict`` over the data adapter's batches, with callbacks."""

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
                    validate_targets(t, p, inner)
                except ValueError as e:
                    raise ValueError(f'Model "{self.name}": {e}') from None
                self._check_target_shape(inner, t, p)

    def _check_data(self, x: Any, y: Any = None) -> None:
        single = len(self.__dict__.get("_inputs_list") or [None]) == 1
        check_data("x", x, single)
        check_data("y", y, len(getattr(self, "output_names", None) or [None]) == 1)

    def _explain_step_error(self, batch: Any, error: BaseException) -> None:
        """A step failed inside torch (a label out of range, a ``sample_weight`` of the wrong shape): find
        the argument at fault and raise a ``ValueError`` naming it, else re-raise the original error.
        Runs only after a failure, so the happy path pays nothing; the failure came before any update."""
        x, y, sample_weight = unpack_x_y_sample_weight(batch)
        if y is not None and self._compile_loss is not None:
            try:
                self._validate_first_batch(batch)  # raises the ValueError when the targets are at fault
                with torch.no_grad():
                    y_pred = self(x, training=False)
            except (IndexError, RuntimeError):
                raise error from None  # the model itself fails on this batch: its own error says why
            if sample_weight is not None:
                for sw, p in zip(flatten(sample_weight), flatten(y_pred)):
                    if isinstance(sw, torch.Tensor) and isinstance(p, torch.Tensor):
                        _check_sample_weight_shape(self.name, sw, p)
        raise error

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
    @filter_traceback
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
        check_fit_arguments(
            batch_size, epochs, initial_epoch, steps_per_epoch, validation_steps, validation_batch_size,
            validation_freq, validation_split, validation_data, class_weight, sample_weight,
            needs_targets=self._compile_loss is not None,
        )  # fmt: skip
        self._check_data(x, y)
        verbose = _resolve_verbose(verbose)
        if config.max_epochs() and config.max_epochs() < epochs:  # keras.config.set_max_epochs, for debugging
            warnings.warn(f"Limiting epochs to {config.max_epochs()}", stacklevel=2)
            epochs = config.max_epochs()
        adapter, val_adapter = self._fit_adapters(
            x, y, sample_weight, batch_size, _capped(steps_per_epoch, config.max_steps_per_epoch(), "steps_per_epoch"),
            shuffle, class_weight, validation_split, validation_data, validation_batch_size,
            _capped(validation_steps, config.max_steps_per_epoch(), "steps_per_epoch"),
        )  # fmt: skip
        dist = _dist_lib._ACTIVE  # [distribution] None unless a multi-process DataParallel is set
        if dist is not None:  # [distribution] per-process data shards; file-writing callbacks on rank 0 only
            adapter, val_adapter, callbacks = dist._fit_begin(self, adapter, val_adapter, callbacks)
        cbs = self._callback_list(callbacks, verbose, epochs, adapter.num_batches, add_history=True)
        self.__dict__["stop_training"] = False
        steps = adapter.num_batches
        self.__dict__["_planned_train_steps"] = steps * max(epochs - initial_epoch, 0) if steps else None
        train_fn = self.make_train_function()
        if self.__dict__.get("_jit_auto_state") is not None:  # jit_compile="auto": decided again for this fit
            self._jit_auto_state.new_fit()
        if dist is not None:  # [distribution] forward through DDP, per-batch gradient weights
            train_fn = dist._wrap_train_function(self, train_fn, adapter)
        self.__dict__["_cached_train_vars"] = None
        self.__dict__["_fit_adapter"] = adapter
        epoch_logs: dict[str, Any] = {}
        cbs.on_train_begin()
        initial_epoch = int(getattr(self, "_initial_epoch_override", None) or initial_epoch)
        self.__dict__.pop("_initial_epoch_override", None)
        previous_mode = self.training
        with host_memory.reuse_freed_memory():  # freed tensors' pages are kept for the next step
            try:
                for epoch in range(initial_epoch, epochs):
                    cbs.on_epoch_begin(epoch)
                    logs = self._train_epoch(adapter, train_fn, cbs, epoch, first=epoch == initial_epoch)
                    if dist is not None:  # [distribution] global metrics; rank 0's BatchNorm statistics
                        logs = dist._global_logs(self, logs, sync_buffers=True)
                    # As Keras: the step's logs as they are (a custom step's nested dicts, tensors); the
                    # CallbackList pythonifies them once, so History's keys come in Keras's order.
                    epoch_logs = dict(self._logs_or_metrics(logs))
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
        optimizer = getattr(self, "optimizer", None)
        if epochs > 0 and getattr(optimizer, "built", False) and hasattr(optimizer, "finalize_variable_values"):
            # as Keras's fit: with `use_ema=True` the model ends training holding the moving averages
            optimizer.finalize_variable_values(self.trainable_weights)
        cbs.on_train_end(epoch_logs)
        return self.history

    def _fit_adapters(
        self, x: Any, y: Any, sample_weight: Any, batch_size: Any, steps: Any, shuffle: Any, class_weight: Any,
        validation_split: float, validation_data: Any, validation_batch_size: Any, validation_steps: Any,
    ) -> tuple[Any, Any]:  # fmt: skip
        """The data adapters of ``fit``: the training data and, if any, the validation data."""
        device = self._device()
        if validation_split and validation_data is None:
            (x, y, sample_weight), validation_data = data_adapters.train_validation_split(
                (x, y, sample_weight), validation_split
            )
        adapter = data_adapters.get_data_adapter(
            x, y, sample_weight, batch_size=batch_size, steps=steps, shuffle=shuffle, class_weight=class_weight,
            device=device,
        )  # fmt: skip
        if validation_data is None:
            return adapter, None
        if isinstance(validation_data, (tuple, list)) and not isinstance(
            validation_data[0], (torch.utils.data.DataLoader,)
        ):
            vx, vy, vsw = unpack_x_y_sample_weight(tuple(validation_data))
        else:
            vx, vy, vsw = validation_data, None, None
        val_adapter = data_adapters.get_data_adapter(
            vx, vy, vsw, batch_size=validation_batch_size or batch_size, steps=validation_steps, shuffle=False,
            device=device,
        )  # fmt: skip
        return adapter, val_adapter

    def _callback_list(self, callbacks: Any, verbose: int, epochs: int, steps: Any, add_history: bool) -> Any:
        """The user's callbacks as a ``CallbackList`` (with ``History`` and the progress bar added)."""
        if isinstance(callbacks, CallbackList):
            return callbacks
        return CallbackList(
            callbacks,
            add_history=add_history,
            add_progbar=verbose != 0,
            model=self,
            verbose=verbose,
            epochs=epochs,
            steps=steps,
        )

    def _train_epoch(self, adapter: Any, train_fn: Any, cbs: Any, epoch: int, first: bool) -> Mapping[str, Any]:
        """One epoch of training steps; returns the last step's logs."""
        self.reset_metrics()
        self.__dict__["_cached_train_vars"] = None
        begin_hooks = cbs.needs("on_train_batch_begin")
        end_hooks = cbs.needs("on_train_batch_end")
        spe = self.steps_per_execution
        logs: Mapping[str, Any] = {}
        step = -1
        for step, batch in enumerate(adapter.epoch_iterator(epoch)):
            if first and step == 0:
                self._symbolic_build_from_batch(batch)
                self._validate_first_batch(batch)
            if begin_hooks and step % spe == 0:
                cbs.on_train_batch_begin(step)
            try:
                logs = train_fn(batch)
            except (IndexError, RuntimeError) as e:
                self._explain_step_error(batch, e)
            if end_hooks and (step + 1) % spe == 0:
                cbs.on_train_batch_end(step, logs)
            if self.stop_training:
                break
        if step < 0:
            raise ValueError(
                "The training data yielded no batches for this epoch. Check `x`, `steps_per_epoch` and `batch_size`."
            )
        adapter.on_epoch_end()
        return logs

    def _logs_or_metrics(self, logs: Any) -> Mapping[str, Any]:
        """The model's metric results, unless a custom step returned other keys (Keras's
        ``_get_metrics_result_or_logs``): then the step's own logs, flattened later as Keras does."""
        if isinstance(logs, _LazyLogs):
            return self.get_metrics_result()
        check_logs(logs)
        metric_logs = self.get_metrics_result()
        return metric_logs if not logs or set(logs) == set(metric_logs) else logs

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
            try:
                logs = test_fn(batch)
            except (IndexError, RuntimeError) as e:
                self._explain_step_error(batch, e)
            if end_hooks:
                cbs.on_test_batch_end(step, logs)
        if dist is not None:  # [distribution] global metrics
            logs = dist._global_logs(self, logs)
        result = pythonify_logs(self._logs_or_metrics(logs))
        cbs.on_test_end(result)
        return result

    def _reset_eval_metrics(self) -> None:
        # Validation inside fit uses the same metric objects as training, after the epoch's values
        # have been read, exactly as Keras does.
        self.reset_metrics()

    @filter_traceback
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
        check_count("batch_size", batch_size)
        check_count("steps", steps)
        check_sample_weight(sample_weight)
        self._check_data(x, y)
        verbose = _resolve_verbose(verbose)
        steps = _capped(steps, config.max_steps_per_epoch(), "steps_per_epoch")
        adapter = data_adapters.get_data_adapter(
            x, y, sample_weight, batch_size=batch_size, steps=steps, shuffle=False, device=self._device()
        )
        if _dist_lib._ACTIVE is not None:  # [distribution] rank 0's weights everywhere, per-process shards
            adapter, callbacks = _dist_lib._ACTIVE._eval_begin(self, adapter, callbacks)
        cbs = self._callback_list(callbacks, verbose, 1, adapter.num_batches, add_history=False)
        with host_memory.reuse_freed_memory():
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
    @filter_traceback
    def predict(
        self,
        x: Any,
        batch_size: int | None = None,
        verbose: Any = "auto",
        steps: int | None = None,
        callbacks: list | None = None,
    ) -> Any:
        """The model's outputs for ``x`` as NumPy arrays (batched, inference mode, no gradients)."""
        check_count("batch_size", batch_size)
        check_count("steps", steps)
        self._check_data(x)
        verbose = _resolve_verbose(verbose)
        device = self._device()
        steps = _capped(steps, config.max_steps_per_epoch(), "steps_per_epoch")
        if (
            callbacks is None
            and verbose != 1
            and steps is None
            and isinstance(x, np.ndarray)
            and not (x.dtype.kind in "USO" and _takes_text(self))  # text goes through the adapter (kept in NumPy)
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
            out = self.make_predict_function()((xt,))  # compiles under jit_compile, as the batched path does
            if verbose == 2:
                sys.stdout.write("1/1 - 0s\n")
            return map_structure(backend.to_numpy, out)
        adapter = data_adapters.get_data_adapter(x, batch_size=batch_size, steps=steps, shuffle=False, device=device)
        dist = _dist_lib._ACTIVE
        if dist is not None:  # [distribution] rank 0's weights everywhere, per-process shards
            adapter, callbacks = dist._eval_begin(self, adapter, callbacks)
        cbs = self._callback_list(callbacks, verbose, 1, adapter.num_batches, add_history=False)
        predict_fn = self.make_predict_function()
        cbs.on_predict_begin()
        begin_hooks = cbs.needs("on_predict_batch_begin")
        end_hooks = cbs.needs("on_predict_batch_end")
        outputs: list[Any] = []
        with host_memory.reuse_freed_memory():
            for step, batch in enumerate(adapter.epoch_iterator(0)):
                if isinstance(batch, tuple) and len(batch) > 1 and not isinstance(x, (list, tuple)):
                    batch = batch[:1] if isinstance(adapter, data_adapters.ArrayDataAdapter) else batch
                if begin_hooks:
                    cbs.on_predict_batch_begin(step)
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
        check_class_weight(class_weight)
        check_sample_weight(sample_weight)
        batch = self._one_batch(x, y, sample_weight, class_weight)
        self._symbolic_build_from_batch(batch)
        try:
            logs = self.make_train_function()(batch)
        except (IndexError, RuntimeError) as e:
            self._explain_step_error(batch, e)
        logs = pythonify_logs(self._logs_or_metrics(logs))
        return logs if return_dict else self._flatten_metrics_in_order(logs)

    def test_on_batch(self, x: Any, y: Any = None, sample_weight: Any = None, return_dict: bool = False) -> Any:
        """Loss and metrics on exactly this batch (metrics are reset first)."""
        self._assert_compile_called("test_on_batch")
        check_sample_weight(sample_weight)
        batch = self._one_batch(x, y, sample_weight)
        self._symbolic_build_from_batch(batch)
        self.reset_metrics()
        try:
            logs = self.make_test_function()(batch)
        except (IndexError, RuntimeError) as e:
            self._explain_step_error(batch, e)
        logs = pythonify_logs(self._logs_or_metrics(logs))
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


def _check_sample_weight_shape(model_name: str, sw: torch.Tensor, pred: torch.Tensor) -> None:
    """One weight per sample, or per loss element (a trailing axis of size 1 aside)."""
    per_sample = tuple(pred.shape[:-1]) if pred.ndim > 1 else tuple(pred.shape)
    shape = tuple(sw.shape)
    while len(shape) > 1 and shape[-1] == 1:
        shape = shape[:-1]
    if shape != per_sample[: len(shape)]:
        raise ValueError(
            f'Model "{model_name}": `sample_weight` must hold one weight per sample (shape {per_sample[:1]}) or '
            f"per loss element (shape {per_sample}), but received sample_weight of shape {tuple(sw.shape)} for "
            f"an output of shape {tuple(pred.shape)}."
        ) from None


def _takes_text(model: Any) -> bool:
    """False only when the model's inputs are known and none is a ``"string"`` input."""
    inputs = model.__dict__.get("_inputs_list")
    if not inputs:
        return True
    return any(getattr(t, "dtype", None) == "string" for t in inputs)


def _capped(value: int | None, cap: int | None, name: str) -> int | None:
    """``value`` (steps; ``None`` for the whole data) limited by ``keras.config.set_max_steps_per_epoch``."""
    if cap and (not value or cap < value):
        warnings.warn(f"Limiting {name} to {cap}", stacklevel=3)
        return cap
    return value


def _resolve_verbose(verbose: Any) -> int:
    if verbose == "auto":  # the live bar where it redraws in place (terminal, notebook), else a line per epoch
        return 1 if interactive_output() else 2
    if verbose not in (0, 1, 2, True, False):
        raise ValueError(f"`verbose` must be 'auto', 0, 1 or 2. Received: verbose={verbose!r}")
    if _dist_lib._ACTIVE is not None and not _dist_lib._ACTIVE.is_chief:  # [distribution] rank 0 alone prints
        return 0
    return int(verbose)


def _concat_outputs(outputs: list[Any]) -> Any:
    """Per-batch predictions joined along the batch axis, leaf by leaf, as NumPy arrays."""

    def concat(*parts: Any) -> np.ndarray:
        if isinstance(parts[0], torch.Tensor):
            return backend.to_numpy(torch.cat(parts, dim=0))
        return np.concatenate([np.asarray(p) for p in parts])

    return map_structure(concat, *outputs)
