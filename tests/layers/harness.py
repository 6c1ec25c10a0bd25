"""The one layer-test harness every layer goes through.

``run_layer_test`` checks, for one layer configuration:

1. the layer is unbuilt with ``weights == []`` (unless it has no weights to make);
2. calling it on data builds it, and the output shape equals ``compute_output_shape``
   and the symbolic (``Input``) output shape, with ``None`` batch;
3. ``get_config`` -> ``from_config`` gives an equal config;
4. the weight count and every weight shape equal the real Keras 3 layer's, built from the
   *same config dict* (which also proves our config is one Keras reads);
5. with Lamina's weights copied into the Keras layer, the forward outputs agree to ``atol``;

and, as Keras's own ``run_layer_test`` does beyond that:

6. one training step: the layer inside a model, ``fit`` for one step with ``sum(y_pred)`` as the loss (a
   manual autograd step for layers with several outputs or tensor call arguments); the loss and every weight
   stay finite, and weights that receive a gradient move;
7. a save/reload round trip: the layer in a functional model, saved as ``.keras`` and loaded back, gives
   the same outputs;
8. a mixed-precision call (``mixed_bfloat16``, which torch runs on the CPU): float weights stay float32 and
   each output has the dtype the symbolic call predicts.
"""

from __future__ import annotations

import os

os.environ.setdefault("KERAS_BACKEND", "torch")

from typing import Any  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

import lamina  # noqa: E402
from lamina import tree  # noqa: E402


def _keras():
    import keras

    return keras


def dtype_name(variable: Any) -> str:
    """Keras's dtype name of a weight (a Lamina weight is a torch Parameter: its ``dtype`` is a torch dtype)."""
    return lamina.backend.standardize_dtype(variable.dtype)


def make_input(shape: tuple, dtype: str = "float32", seed: int = 0, low: int = 0, high: int = 10) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if dtype.startswith("int"):
        return rng.integers(low, high, size=shape).astype(dtype)
    return rng.standard_normal(shape).astype(dtype)


def keras_layer_from_config(class_name: str, config: dict[str, Any]) -> Any:
    keras = _keras()
    cls = getattr(keras.layers, class_name, None)
    if cls is None:  # exported under another name (class GroupedQueryAttention is keras.layers.GroupQueryAttention)
        cls = next(v for v in vars(keras.layers).values() if getattr(v, "__name__", None) == class_name)
    return cls.from_config(config)


def to_numpy(x: Any) -> Any:
    if isinstance(x, (list, tuple)):
        return [to_numpy(v) for v in x]
    if isinstance(x, torch.Tensor):
        return x.detach().cpu().numpy()
    if hasattr(x, "numpy"):
        return np.asarray(x.numpy() if not hasattr(x, "detach") else x.detach().cpu().numpy())
    return np.asarray(x)


def keras_forward(klayer: Any, x: Any, **call_kwargs: Any) -> Any:
    keras = _keras()
    if isinstance(x, (list, tuple)):
        kx = [keras.ops.convert_to_tensor(v) for v in x]
    else:
        kx = keras.ops.convert_to_tensor(x)
    return to_numpy(klayer(kx, **call_kwargs))


def run_layer_test(
    layer_cls: type,
    init_kwargs: dict[str, Any],
    input_shape: tuple,
    *,
    input_dtype: str = "float32",
    expected_output_shape: tuple | None = None,
    expected_num_weights: int | None = None,
    keras_parity: bool = True,
    atol: float = 1e-5,
    rtol: float = 1e-5,
    call_kwargs: dict[str, Any] | None = None,
    input_data: Any = None,
    randomize_weights: bool = True,
    check_symbolic: bool = True,
    seed: int = 0,
    config_normalizer: Any = None,
    run_training_check: bool = True,
    run_saving_check: bool = True,
    run_mixed_precision_check: bool = True,
    extra_inputs: dict[str, Any] | None = None,
) -> Any:
    """Runs the checks above; returns the built Lamina layer.

    ``config_normalizer(config) -> config``, if given, is applied to both configs before the
    round-trip comparison (e.g. to compare a Lambda's bytecode by meaning, not marshal bytes).
    ``extra_inputs`` (``{"value": array, ...}``) are further tensor arguments of the call, for layers called
    as ``layer(query, value=...)``: passed by keyword, and model inputs in the symbolic, saving and
    mixed-precision checks.
    """
    call_kwargs = call_kwargs or {}
    extra = dict(extra_inputs or {})
    layer = layer_cls(**init_kwargs)
    if not layer.built:
        assert layer.weights == [], f"{layer_cls.__name__}: unbuilt layer should have no weights"

    x = input_data if input_data is not None else make_input(input_shape, input_dtype, seed)
    out = layer(x, **extra, **call_kwargs)
    outs = out if isinstance(out, (list, tuple)) else [out]
    assert layer.built
    for o in outs:
        assert isinstance(o, torch.Tensor), f"{layer_cls.__name__} returned {type(o)}"

    # compute_output_shape agrees with the real output
    shape_in = tuple(np.shape(x)) if not isinstance(x, (list, tuple)) else [tuple(np.shape(v)) for v in x]
    computed = layer.compute_output_shape(shape_in, **{f"{k}_shape": tuple(np.shape(v)) for k, v in extra.items()})
    if isinstance(out, (list, tuple)):
        assert [tuple(c) for c in computed] == [tuple(o.shape) for o in out], (computed, [o.shape for o in out])
    else:
        assert tuple(computed) == tuple(out.shape), (
            f"{layer_cls.__name__}: compute_output_shape {computed} != actual {tuple(out.shape)}"
        )
    if expected_output_shape is not None:
        assert tuple(out.shape) == tuple(expected_output_shape), (tuple(out.shape), expected_output_shape)
    if expected_num_weights is not None:
        assert len(layer.weights) == expected_num_weights, [w.path for w in layer.weights]

    # symbolic call on an Input with a None batch gives the same shape with None first
    if check_symbolic and not isinstance(x, (list, tuple)):
        sym_layer = layer_cls(**init_kwargs)
        inp = lamina.Input(batch_shape=(None, *np.shape(x)[1:]), dtype=input_dtype)
        sym_out = sym_layer(inp, **_symbolic_inputs(extra), **call_kwargs)
        sym_outs = sym_out if isinstance(sym_out, (list, tuple)) else [sym_out]
        assert len(sym_outs) == len(outs), f"{layer_cls.__name__}: {len(sym_outs)} symbolic outputs, {len(outs)} real"
        for so, o in zip(sym_outs, outs, strict=True):
            assert so.shape[0] is None or so.shape[0] == o.shape[0]
            assert tuple(so.shape[1:]) == tuple(o.shape[1:]), (so.shape, o.shape)

    # config round trip
    config = layer.get_config()
    clone = layer_cls.from_config(config)
    normalize = config_normalizer or (lambda c: c)
    assert normalize(clone.get_config()) == normalize(config), f"{layer_cls.__name__}: config round trip differs"

    if randomize_weights:
        rng = np.random.default_rng(seed + 1)
        for v in layer.weights:
            if dtype_name(v).startswith("float"):
                base = v.numpy()
                # keep variances positive for normalization layers
                if "variance" in v.name:
                    v.assign(rng.uniform(0.5, 1.5, size=v.shape).astype(dtype_name(v)))
                else:
                    v.assign((base + rng.standard_normal(v.shape) * 0.1).astype(dtype_name(v)))
        out = layer(x, **extra, **call_kwargs)

    if keras_parity:
        klayer = keras_layer_from_config(layer_cls.__name__, config)
        kx = x
        kextra = {k: _keras().ops.convert_to_tensor(v) for k, v in extra.items()}
        keras_forward(klayer, kx, **kextra, **call_kwargs)  # builds it
        kshapes = [tuple(w.shape) for w in klayer.weights]
        lshapes = [tuple(w.shape) for w in layer.weights]
        assert kshapes == lshapes, f"{layer_cls.__name__}: Keras weights {kshapes} vs Lamina {lshapes}"
        klayer.set_weights(layer.get_weights())
        expected = keras_forward(klayer, kx, **kextra, **call_kwargs)
        got = to_numpy(out)
        if isinstance(expected, list):
            assert len(expected) == len(got), f"{layer_cls.__name__}: {len(got)} outputs, Keras gives {len(expected)}"
            for e, g in zip(expected, got, strict=True):
                np.testing.assert_allclose(g, e, atol=atol, rtol=rtol)
        else:
            np.testing.assert_allclose(got, expected, atol=atol, rtol=rtol)
        assert klayer.count_params() == layer.count_params()
    if run_training_check:
        _check_training_step(layer_cls, init_kwargs, x, call_kwargs, seed, extra)
    if run_saving_check and not _has_array(call_kwargs):
        _check_save_reload(layer, x, call_kwargs, extra)
    if run_mixed_precision_check:
        _check_mixed_precision(layer_cls, init_kwargs, x, call_kwargs, extra)
    return layer


def _has_array(structure: Any) -> bool:
    return any(isinstance(v, (np.ndarray, torch.Tensor)) for v in tree.flatten(structure))


def _float_leaves(out: Any) -> list[torch.Tensor]:
    return [o for o in tree.flatten(out) if isinstance(o, torch.Tensor) and o.is_floating_point()]


class _SumLoss(lamina.losses.Loss):
    """``sum(y_pred)``: a loss every output shape accepts, as Keras's layer tests use."""

    def __call__(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> torch.Tensor:
        return y_pred.float().sum()


class _Holder(lamina.Model):
    def __init__(self, inner: Any, call_kwargs: dict[str, Any]) -> None:
        super().__init__()
        self.inner = inner
        self.call_kwargs = call_kwargs

    def call(self, inputs: Any, training: bool = False) -> Any:
        return self.inner(inputs, training=training, **self.call_kwargs)


def _check_training_step(
    layer_cls: type, init_kwargs: dict, x: Any, call_kwargs: dict, seed: int, extra: dict | None = None
) -> None:
    extra = extra or {}
    lamina.utils.set_random_seed(seed)
    layer = layer_cls(**init_kwargs)
    probe = layer(x, **extra, **call_kwargs)
    outs = _float_leaves(probe)
    before = [w.numpy() for w in layer.trainable_weights]
    if not outs:
        return  # integer/boolean outputs (lookups, masks): nothing to differentiate
    single = len(tree.flatten(probe)) == 1 and not _has_array(call_kwargs) and not extra
    if single:
        model = _Holder(layer, call_kwargs)
        model.compile(optimizer=lamina.optimizers.SGD(0.01), loss=_SumLoss())
        y = np.zeros(np.shape(tree.flatten(x)[0])[:1], "float32")
        history = model.fit(x, y, batch_size=len(y), epochs=1, verbose=0, shuffle=False)
        loss = history.history["loss"][0]
        assert np.isfinite(loss), f"{layer_cls.__name__}: training loss {loss}"
    else:
        out = layer(x, training=True, **extra, **call_kwargs)
        loss = sum(o.float().sum() for o in _float_leaves(out))
        params = [w.value for w in layer.trainable_weights]
        if not loss.requires_grad:
            return
        loss.backward()
        with torch.no_grad():
            for p in params:
                if p.grad is not None:
                    assert torch.isfinite(p.grad).all(), f"{layer_cls.__name__}: non-finite gradient"
                    p.sub_(0.01 * p.grad)
    after = [w.numpy() for w in layer.trainable_weights]
    assert len(after) == len(before), f"{layer_cls.__name__}: the number of trainable weights changed in training"
    for w, b, a in zip(layer.trainable_weights, before, after, strict=True):
        assert np.isfinite(a).all(), f"{layer_cls.__name__}: weight {w.path} is not finite after one step"
        grad = w.value.grad
        if grad is not None and float(grad.abs().max()) > 1e-6:
            assert not np.array_equal(a, b), f"{layer_cls.__name__}: weight {w.path} got a gradient but did not move"


def _symbolic_inputs(x: Any) -> Any:
    return tree.map_structure(
        lambda a: lamina.Input(batch_shape=(None, *np.shape(a)[1:]), dtype=str(np.asarray(a).dtype)), x
    )


def _check_save_reload(layer: Any, x: Any, call_kwargs: dict, extra: dict | None = None) -> None:
    import tempfile

    extra = extra or {}
    inputs = _symbolic_inputs(x if isinstance(x, (list, tuple)) else x)
    extra_inputs = _symbolic_inputs(extra)
    clone = type(layer).from_config(layer.get_config())
    outputs = clone(inputs, **extra_inputs, **call_kwargs)
    if extra:
        inputs, x = [inputs, *extra_inputs.values()], [x, *extra.values()]
    model = lamina.Model(inputs, outputs)
    model.set_weights(_matching_weights(model, layer))
    expected = to_numpy(model(x))
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "layer.keras")
        model.save(path)
        loaded = lamina.saving.load_model(path, safe_mode=False)  # Lambda bytecode: our own file
    got = to_numpy(loaded(x))
    got, expected = tree.flatten(got), tree.flatten(expected)
    assert len(got) == len(expected), f"{type(layer).__name__}: {len(got)} outputs after reload, {len(expected)} before"
    for g, e in zip(got, expected, strict=True):
        np.testing.assert_array_equal(g, e, err_msg=f"{type(layer).__name__}: outputs differ after save/reload")


def _matching_weights(model: Any, layer: Any) -> list[np.ndarray]:
    weights = layer.get_weights()
    assert len(model.weights) == len(weights), f"{type(layer).__name__}: weights differ in the functional copy"
    return weights


def _check_mixed_precision(
    layer_cls: type, init_kwargs: dict, x: Any, call_kwargs: dict, extra: dict | None = None
) -> None:
    extra = extra or {}
    layer = layer_cls(**{**init_kwargs, "dtype": "mixed_bfloat16"})
    out = layer(x, **extra, **call_kwargs)
    symbolic_layer = layer_cls(**{**init_kwargs, "dtype": "mixed_bfloat16"})
    plain_kwargs = {k: v for k, v in call_kwargs.items() if not _has_array(v)}
    spec = symbolic_layer(_symbolic_inputs(x), **_symbolic_inputs(extra), **plain_kwargs)
    outs, specs = tree.flatten(out), tree.flatten(spec)
    assert len(outs) == len(specs), f"{layer_cls.__name__}: {len(outs)} outputs vs {len(specs)} symbolic"
    for o, sp in zip(outs, specs, strict=True):
        got = lamina.backend.standardize_dtype(o.dtype)
        assert got == sp.dtype, f"{layer_cls.__name__}: mixed_bfloat16 output dtype {got}, symbolic {sp.dtype}"
    for w in layer.weights:
        if dtype_name(w).startswith("float"):
            assert dtype_name(w) == "float32", f"{layer_cls.__name__}: {w.path} is {w.dtype} under mixed precision"
