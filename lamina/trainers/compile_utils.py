"""What ``compile`` resolves: the total loss over outputs, and the metrics per output, with Keras's names.

Keras rules kept here: ``"accuracy"``/``"acc"`` and ``"crossentropy"``/``"ce"`` pick the binary,
sparse or categorical variant from the shapes of ``y_true`` and ``y_pred``; with several
outputs, metric names get the output name as prefix and each output's loss is tracked as
``<output>_loss``.
"""

from __future__ import annotations

from typing import Any

import torch

from lamina import losses as losses_module
from lamina import metrics as metrics_module
from lamina.backend.naming import to_snake_case
from lamina.tree import flatten


def is_binary_or_sparse_categorical(y_true: Any, y_pred: Any) -> tuple[bool, bool]:
    t_shape, p_shape = tuple(y_true.shape), tuple(y_pred.shape)
    is_binary = p_shape[-1] == 1
    is_sparse = len(t_shape) < len(p_shape) or (t_shape[-1] == 1 and p_shape[-1] > 1)
    return is_binary, is_sparse


def _object_name(obj: Any) -> str:
    if hasattr(obj, "name") and isinstance(obj.name, str):
        return obj.name
    if hasattr(obj, "__name__"):
        return to_snake_case(obj.__name__)
    return to_snake_case(type(obj).__name__)


def get_metric(identifier: Any, y_true: Any, y_pred: Any) -> Any:
    if identifier is None:
        raise ValueError("Expected a metric, received `None`.")
    if str(identifier).lower() in ("accuracy", "acc"):
        is_binary, is_sparse = is_binary_or_sparse_categorical(y_true, y_pred)
        if is_binary:
            metric = metrics_module.BinaryAccuracy(name=str(identifier))
        elif is_sparse:
            metric = metrics_module.SparseCategoricalAccuracy(name=str(identifier))
        else:
            metric = metrics_module.CategoricalAccuracy(name=str(identifier))
    else:
        if not (isinstance(identifier, (str, dict)) or callable(identifier)):
            raise TypeError(
                "Each entry of `metrics`/`weighted_metrics` must be a metric name, a function or a Metric "
                f"instance. Received: metrics entry {identifier!r} (of type {type(identifier).__name__})"
            )
        metric = metrics_module.get(identifier)
    name = identifier if isinstance(identifier, str) else _object_name(metric)
    if not isinstance(metric, metrics_module.Metric):
        metric = metrics_module.MeanMetricWrapper(metric, name=name)
    metric.name = name
    return metric


def get_loss(identifier: Any, y_true: Any, y_pred: Any) -> Any:
    if identifier is None:
        return None
    if str(identifier).lower() in ("crossentropy", "ce"):
        is_binary, is_sparse = is_binary_or_sparse_categorical(y_true, y_pred)
        if is_binary:
            fn = losses_module.binary_crossentropy
        elif is_sparse:
            fn = losses_module.sparse_categorical_crossentropy
        else:
            fn = losses_module.categorical_crossentropy
    else:
        fn = losses_module.get(identifier)
    if not isinstance(fn, losses_module.Loss):
        name = identifier if isinstance(identifier, str) else _object_name(fn)
        fn = losses_module.LossFunctionWrapper(fn, name=name)
    return fn


def _flat_outputs(y: Any, output_names: list[str] | None) -> list[Any]:
    if isinstance(y, dict):
        if output_names and (set(y) >= set(output_names) or set(y) <= set(output_names)):
            return [y.get(n) for n in output_names]  # by name; outputs without a target (no loss) get None
        return [y[k] for k in y]
    if isinstance(y, (list, tuple)):
        return list(y)
    return [y]


def _per_output(spec: Any, n: int, names: list[str] | None, what: str) -> list[Any]:
    """Spreads a compile argument over ``n`` outputs (one value for all, a list, or a dict by name)."""
    if n == 1:
        if isinstance(spec, dict) and what in ("loss", "loss_weights"):
            unknown = sorted(set(spec) - set(names or []), key=str)
            if unknown:
                raise ValueError(
                    f"`{what}` names outputs {unknown} that the model does not have. Output names: {names}. "
                    f"Received: {what}={spec!r}"
                )
            return [spec.get(names[0])] if names else [None]
        if isinstance(spec, dict) and names and set(spec) <= set(names):
            return [spec.get(names[0])]
        if isinstance(spec, (list, tuple)) and what in ("loss", "loss_weights"):
            if len(spec) != 1:
                raise ValueError(
                    f"`{what}` has {len(spec)} entries, but the model has 1 output{f' {names}' if names else ''}. "
                    f"Received: {what}={spec!r}"
                )
            return [spec[0]]
        return [spec]
    if isinstance(spec, dict):
        if not names:
            raise ValueError(f"`{what}` is a dict, but the model's outputs have no names to match it.")
        unknown = set(spec) - set(names)
        if unknown:
            raise ValueError(
                f"`{what}` names outputs {sorted(unknown)} that the model does not have. Output names: {names}."
            )
        return [spec.get(name) for name in names]
    if isinstance(spec, (list, tuple)):
        if what in ("metrics", "weighted_metrics") and not (
            len(spec) == n and all(isinstance(s, (list, tuple)) or s is None for s in spec)
        ):
            return [spec] * n
        if len(spec) != n:
            raise ValueError(
                f"`{what}` has {len(spec)} entries, but the model has {n} outputs {names or ''}. "
                f"Received: {what}={spec!r}"
            )
        return list(spec)
    return [spec] * n


def _check_targets(y_true: Any, trues: list, loss_specs: list, names: list[str]) -> None:
    """Every output with a loss needs a target, and every target an output: otherwise training would
    silently leave an output untrained (Keras raises here too)."""
    if isinstance(y_true, dict):
        unknown = sorted(set(y_true) - set(names), key=str)
        if unknown:
            raise ValueError(
                f"The targets `y` name outputs {unknown} that the model does not have. Output names: {names}."
            )
    if len(trues) > len(names):
        raise ValueError(
            f"The model has {len(names)} outputs {names}, but `y` holds {len(trues)} targets. "
            "Pass one target per output (a list in output order or a dict by output name)."
        )
    missing = [
        name
        for i, (name, spec) in enumerate(zip(names, loss_specs))
        if spec is not None and (i >= len(trues) or trues[i] is None)
    ]
    if missing:
        raise ValueError(
            f"The model has {len(names)} outputs {names} and `compile` gave a loss for each of {missing}, but "
            f"`y` holds no target for them (received {len(trues)} target(s)). Pass one target per output "
            "(a list in output order or a dict by output name), or give those outputs `loss=None` "
            "(a dict `loss={name: ...}` with only the outputs you train)."
        )


class CompileLoss:
    """The weighted sum of per-output losses (``loss``, ``loss_weights`` as given to ``compile``)."""

    def __init__(self, loss: Any, loss_weights: Any = None, output_names: list[str] | None = None) -> None:
        if loss_weights is not None and not isinstance(loss_weights, (list, tuple, dict, float, int)):
            raise ValueError(
                "Expected `loss_weights` argument to be a float (single output case) or a list or dict "
                f"(multiple output case). Received instead: loss_weights={loss_weights!r}"
            )
        self._user_loss = loss
        self._user_loss_weights = loss_weights
        self.output_names = output_names
        self.built = False
        self.losses: list[Any] = []
        self.weights: list[float | None] = []
        self.names: list[str | None] = []
        self.metrics: list[Any] = []

    def build(self, y_true: Any, y_pred: Any) -> None:
        preds = _flat_outputs(y_pred, self.output_names)
        trues = _flat_outputs(y_true, self.output_names)
        n = len(preds)
        names = self.output_names if self.output_names and len(self.output_names) == n else None
        loss_specs = _per_output(self._user_loss, n, names, "loss")
        if n > 1:
            wanted = [i for i, spec in enumerate(loss_specs) if spec is not None]
            if not isinstance(y_true, dict) and len(trues) < n and len(trues) == len(wanted):
                # targets given only for the outputs that have a loss, in order
                spread: list[Any] = [None] * n
                for i, t in zip(wanted, trues):
                    spread[i] = t
                trues = spread
            _check_targets(y_true, trues, loss_specs, names or [f"output_{i}" for i in range(n)])
        if self._user_loss_weights is None:
            weights = [None] * n
        elif isinstance(self._user_loss_weights, (int, float)):
            weights = [float(self._user_loss_weights)] * n
        else:
            weights = _per_output(self._user_loss_weights, n, names, "loss_weights")
            for w in weights:
                if w is not None and (isinstance(w, bool) or not isinstance(w, (int, float))):
                    raise TypeError(
                        "`loss_weights` must hold numbers (one per output). "
                        f"Received: loss_weights={self._user_loss_weights!r}"
                    )
        self.losses = [
            get_loss(spec, t, p) if t is not None else None
            for spec, t, p in zip(loss_specs, trues + [None] * (n - len(trues)), preds)
        ]
        self.weights = weights
        self.names = names or [None] * n
        active = [i for i, fn in enumerate(self.losses) if fn is not None]
        if len(active) > 1:
            self.metrics = [metrics_module.Mean(name=f"{self.names[i] or f'output_{i}'}_loss") for i in active]
        self._active = active
        self.built = True

    def __call__(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> torch.Tensor | None:
        if not self.built:
            self.build(y_true, y_pred)
        preds = _flat_outputs(y_pred, self.output_names)
        trues = _flat_outputs(y_true, self.output_names)
        if len(self.losses) == 1:  # fast path: one output
            value = self.losses[0](trues[0], preds[0], sample_weight)
            w = self.weights[0]
            return value if w is None else value * w
        if len(trues) != len(preds):
            active_trues: list[Any] = [None] * len(preds)
            if len(trues) == len(self._active):
                for i, t in zip(self._active, trues):
                    active_trues[i] = t
                trues = active_trues
            else:
                raise ValueError(
                    f"y_true and y_pred have different structures: {len(trues)} targets for {len(preds)} outputs"
                    f" {self.names}."
                )
        sws = (
            _flat_outputs(sample_weight, self.output_names)
            if isinstance(sample_weight, (dict, list, tuple))
            else [sample_weight] * len(preds)
        )
        total = None
        for k, i in enumerate(self._active):
            value = self.losses[i](trues[i], preds[i], sws[i])
            if self.metrics:
                self.metrics[k].update_state(value.detach(), sample_weight=preds[i].shape[0])
            w = self.weights[i]
            if w is not None:
                value = value * w
            total = value if total is None else total + value
        return total


class CompileMetrics:
    """The metrics of ``compile(metrics=..., weighted_metrics=...)``, named as Keras names them."""

    def __init__(self, metrics: Any, weighted_metrics: Any, output_names: list[str] | None = None) -> None:
        for arg, value in (("metrics", metrics), ("weighted_metrics", weighted_metrics)):
            if value and not isinstance(value, (list, tuple, dict)):
                raise ValueError(
                    f"Expected `{arg}` argument to be a list, tuple, or dict. Received instead: {arg}={value!r} "
                    f"of type {type(value)}"
                )
        self._user_metrics = metrics
        self._user_weighted = weighted_metrics
        self.output_names = output_names
        self.built = False
        self.name = "compile_metrics"
        self._flat: list[list[Any]] = []
        self._flat_weighted: list[list[Any]] = []
        self._prefixes: list[str | None] = []

    def _build_set(self, spec: Any, trues: list, preds: list, names: list[str] | None, what: str) -> list[list]:
        n = len(preds)
        if not spec:
            return [[] for _ in range(n)]
        if n == 1:
            return [[get_metric(m, trues[0], preds[0]) for m in flatten(spec)]]
        per = _per_output(spec, n, names, what)
        out = []
        for s, t, p in zip(per, trues, preds):
            if s is None:
                out.append([])
            else:
                out.append([get_metric(m, t, p) for m in (s if isinstance(s, (list, tuple)) else [s])])
        return out

    def build(self, y_true: Any, y_pred: Any) -> None:
        preds = _flat_outputs(y_pred, self.output_names)
        trues = _flat_outputs(y_true, self.output_names)
        n = len(preds)
        names = self.output_names if self.output_names and len(self.output_names) == n else None
        if isinstance(y_pred, dict) and not names:
            names = list(y_pred)
        self._flat = self._build_set(self._user_metrics, trues, preds, names, "metrics")
        self._flat_weighted = self._build_set(self._user_weighted, trues, preds, names, "weighted_metrics")
        self._prefixes = names if (names and n > 1) else [None] * n
        self.built = True

    @property
    def metrics(self) -> list[Any]:
        return [m for ms in self._flat + self._flat_weighted for m in ms]

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        if not self.built:
            self.build(y_true, y_pred)
        preds = _flat_outputs(y_pred, self.output_names)
        trues = _flat_outputs(y_true, self.output_names)
        for ms, t, p in zip(self._flat, trues, preds):
            for m in ms:
                m.update_state(t, p)
        if any(self._flat_weighted):
            if isinstance(sample_weight, (dict, list, tuple)):
                sws = _flat_outputs(sample_weight, self.output_names)
                if len(sws) < len(preds):
                    sws = [sws[0]] * len(preds)
            else:
                sws = [sample_weight] * len(preds)
            for ms, t, p, sw in zip(self._flat_weighted, trues, preds, sws):
                for m in ms:
                    m.update_state(t, p, sample_weight=sw)

    def reset_state(self) -> None:
        for m in self.metrics:
            m.reset_state()

    def result(self) -> dict[str, Any]:
        results: dict[str, Any] = {}
        counters: dict[str, int] = {}
        for ms, prefix in zip(self._flat, self._prefixes):
            for m in ms:
                name = f"{prefix}_{m.name}" if prefix else m.name
                if name in counters:
                    counters[name] += 1
                    name = f"{name}_{counters[name] - 1}"
                else:
                    counters[name] = 1
                results[name] = m.result()
        for ms, prefix in zip(self._flat_weighted, self._prefixes):
            for m in ms:
                name = f"{prefix}_{m.name}" if prefix else m.name
                if name in counters:
                    name = f"weighted_{m.name}"
                    if prefix:
                        name = f"{prefix}_{name}"
                    if name in counters:
                        counters[name] += 1
                        name = f"{name}_{counters[name] - 1}"
                    else:
                        counters[name] = 1
                else:
                    counters[name] = 1
                results[name] = m.result()
        return results
