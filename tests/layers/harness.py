"""The one layer-test harness every layer goes through.

``run_layer_test`` checks, for one layer configuration:

1. the layer is unbuilt with ``weights == []`` (unless it has no weights to make);
2. calling it on data builds it, and the output shape equals ``compute_output_shape``
   and the symbolic (``Input``) output shape, with ``None`` batch;
3. ``get_config`` -> ``from_config`` gives an equal config;
4. the weight count and every weight shape equal the real Keras 3 layer's, built from the
   *same config dict* (which also proves our config is one Keras reads);
5. with Lamina's weights copied into the Keras layer, the forward outputs agree to ``atol``.
"""

from __future__ import annotations

import os

os.environ.setdefault("KERAS_BACKEND", "torch")

from typing import Any  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

import lamina  # noqa: E402


def _keras():
    import keras

    return keras


def make_input(shape: tuple, dtype: str = "float32", seed: int = 0, low: int = 0, high: int = 10) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if dtype.startswith("int"):
        return rng.integers(low, high, size=shape).astype(dtype)
    return rng.standard_normal(shape).astype(dtype)


def keras_layer_from_config(class_name: str, config: dict[str, Any]) -> Any:
    keras = _keras()
    cls = getattr(keras.layers, class_name)
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
) -> Any:
    """Runs the checks above; returns the built Lamina layer.

    ``config_normalizer(config) -> config``, if given, is applied to both configs before the
    round-trip comparison (e.g. to compare a Lambda's bytecode by meaning, not marshal bytes).
    """
    call_kwargs = call_kwargs or {}
    layer = layer_cls(**init_kwargs)
    if not layer.built:
        assert layer.weights == [], f"{layer_cls.__name__}: unbuilt layer should have no weights"

    x = input_data if input_data is not None else make_input(input_shape, input_dtype, seed)
    out = layer(x, **call_kwargs)
    outs = out if isinstance(out, (list, tuple)) else [out]
    assert layer.built
    for o in outs:
        assert isinstance(o, torch.Tensor), f"{layer_cls.__name__} returned {type(o)}"

    # compute_output_shape agrees with the real output
    shape_in = tuple(np.shape(x)) if not isinstance(x, (list, tuple)) else [tuple(np.shape(v)) for v in x]
    computed = layer.compute_output_shape(shape_in)
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
        sym_out = sym_layer(inp, **call_kwargs)
        sym_outs = sym_out if isinstance(sym_out, (list, tuple)) else [sym_out]
        for so, o in zip(sym_outs, outs):
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
            if v.dtype.startswith("float"):
                base = v.numpy()
                # keep variances positive for normalization layers
                if "variance" in v.name:
                    v.assign(rng.uniform(0.5, 1.5, size=v.shape).astype(v.dtype))
                else:
                    v.assign((base + rng.standard_normal(v.shape) * 0.1).astype(v.dtype))
        out = layer(x, **call_kwargs)

    if keras_parity:
        klayer = keras_layer_from_config(layer_cls.__name__, config)
        kx = x
        keras_forward(klayer, kx, **call_kwargs)  # builds it
        kshapes = [tuple(w.shape) for w in klayer.weights]
        lshapes = [tuple(w.shape) for w in layer.weights]
        assert kshapes == lshapes, f"{layer_cls.__name__}: Keras weights {kshapes} vs Lamina {lshapes}"
        klayer.set_weights(layer.get_weights())
        expected = keras_forward(klayer, kx, **call_kwargs)
        got = to_numpy(out)
        if isinstance(expected, list):
            for e, g in zip(expected, got):
                np.testing.assert_allclose(g, e, atol=atol, rtol=rtol)
        else:
            np.testing.assert_allclose(got, expected, atol=atol, rtol=rtol)
        assert klayer.count_params() == layer.count_params()
    return layer
