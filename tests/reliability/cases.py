"""The bad-input sweep: calls a new user gets wrong, each with the argument or layer its error must name.

Every case is ``Case(id, fn, needle)``: ``fn(K, tmp)`` runs the bad call against the library module ``K``
(``lamina``; the same calls run against ``keras`` where we compare) with a scratch folder ``tmp``; it must
raise ``ValueError`` or ``TypeError`` whose message contains ``needle`` (case-insensitive). Used by
``tests/reliability/test_bad_inputs.py`` and by ``tools/reliability_sweep.py`` (before/after figures).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Case:
    id: str
    fn: Callable[[Any, str], Any]
    needle: str


CASES: list[Case] = []


def case(id: str, needle: str) -> Callable:
    def register(fn: Callable) -> Callable:
        CASES.append(Case(id, fn, needle))
        return fn

    return register


def add(id: str, needle: str, fn: Callable) -> None:
    CASES.append(Case(id, fn, needle))


X = np.ones((4, 3), "float32")
Y = np.ones((4, 2), "float32")


def dense_model(K: Any, compiled: bool = True, loss: str = "mse") -> Any:
    m = K.Sequential([K.layers.Input((3,)), K.layers.Dense(2, name="out")])
    if compiled:
        m.compile(optimizer="sgd", loss=loss)
    return m


def classifier(K: Any) -> Any:
    m = K.Sequential([K.layers.Input((3,)), K.layers.Dense(4, activation="softmax", name="probs")])
    m.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    return m


def two_output_model(K: Any) -> Any:
    i = K.layers.Input((3,), name="x")
    m = K.Model(i, [K.layers.Dense(1, name="head_a")(i), K.layers.Dense(1, name="head_b")(i)])
    return m


def two_input_model(K: Any) -> Any:
    a = K.layers.Input((3,), name="in_a")
    b = K.layers.Input((3,), name="in_b")
    return K.Model([a, b], K.layers.Dense(1, name="joined")(K.layers.Concatenate()([a, b])))


def fit(K: Any, **kw: Any) -> Any:
    m = dense_model(K)
    kw.setdefault("x", X)
    kw.setdefault("y", Y)
    return m.fit(verbose=0, **kw)


# ---------------------------------------------------------------- layer constructors
_BAD_INTS = [("neg", -1), ("zero", 0), ("str", "a"), ("float", 2.5), ("none", None)]
_CTORS: list[tuple[str, str, Callable[[Any, Any], Any]]] = [
    ("Dense", "units", lambda K, v: K.layers.Dense(v)),
    ("EinsumDense_equation", "equation", lambda K, v: K.layers.EinsumDense(v, output_shape=3)),
    ("LSTM", "units", lambda K, v: K.layers.LSTM(v)),
    ("GRU", "units", lambda K, v: K.layers.GRU(v)),
    ("SimpleRNN", "units", lambda K, v: K.layers.SimpleRNN(v)),
    ("LSTMCell", "units", lambda K, v: K.layers.LSTMCell(v)),
    ("Conv1D", "filters", lambda K, v: K.layers.Conv1D(v, 3)),
    ("Conv2D", "filters", lambda K, v: K.layers.Conv2D(v, 3)),
    ("Conv3D", "filters", lambda K, v: K.layers.Conv3D(v, 3)),
    ("Conv2DTranspose", "filters", lambda K, v: K.layers.Conv2DTranspose(v, 3)),
    ("SeparableConv2D", "filters", lambda K, v: K.layers.SeparableConv2D(v, 3)),
    ("Conv2D_kernel_size", "kernel_size", lambda K, v: K.layers.Conv2D(4, v)),
    ("Conv1D_kernel_size", "kernel_size", lambda K, v: K.layers.Conv1D(4, v)),
    ("Conv2D_strides", "strides", lambda K, v: K.layers.Conv2D(4, 3, strides=v)),
    ("Conv2D_dilation_rate", "dilation_rate", lambda K, v: K.layers.Conv2D(4, 3, dilation_rate=v)),
    ("DepthwiseConv2D_kernel_size", "kernel_size", lambda K, v: K.layers.DepthwiseConv2D(v)),
    ("Embedding_input_dim", "input_dim", lambda K, v: K.layers.Embedding(v, 4)),
    ("Embedding_output_dim", "output_dim", lambda K, v: K.layers.Embedding(10, v)),
    ("MaxPooling2D_pool_size", "pool_size", lambda K, v: K.layers.MaxPooling2D(v)),
    ("AveragePooling1D_pool_size", "pool_size", lambda K, v: K.layers.AveragePooling1D(v)),
    ("UpSampling2D_size", "size", lambda K, v: K.layers.UpSampling2D(v)),
    ("RepeatVector_n", "n", lambda K, v: K.layers.RepeatVector(v)),
    ("MultiHeadAttention_num_heads", "num_heads", lambda K, v: K.layers.MultiHeadAttention(v, 4)),
    ("MultiHeadAttention_key_dim", "key_dim", lambda K, v: K.layers.MultiHeadAttention(2, v)),
]
for _name, _arg, _ctor in _CTORS:
    for _tag, _value in _BAD_INTS:
        if _name == "EinsumDense_equation" and _tag != "none" and _tag != "float":
            continue
        if _tag in ("zero", "neg") and _arg in ("strides", "dilation_rate", "n", "size", "pool_size"):
            pass
        add(f"ctor-{_name}-{_tag}", _arg, (lambda c, v: lambda K, tmp: c(K, v))(_ctor, _value))

_BAD_STRINGS: list[tuple[str, str, Callable[[Any], Any]]] = [
    ("Dense_activation", "nope_act", lambda K: K.layers.Dense(2, activation="nope_act")),
    ("Dense_kernel_initializer", "nope_init", lambda K: K.layers.Dense(2, kernel_initializer="nope_init")),
    ("Dense_bias_initializer", "nope_init", lambda K: K.layers.Dense(2, bias_initializer="nope_init")),
    ("Dense_kernel_regularizer", "nope_reg", lambda K: K.layers.Dense(2, kernel_regularizer="nope_reg")),
    ("Dense_kernel_constraint", "nope_con", lambda K: K.layers.Dense(2, kernel_constraint="nope_con")),
    ("Activation", "nope_act", lambda K: K.layers.Activation("nope_act")),
    ("LSTM_activation", "nope_act", lambda K: K.layers.LSTM(2, activation="nope_act")),
    ("Conv2D_padding", "padding", lambda K: K.layers.Conv2D(2, 3, padding="bogus")),
    ("Conv1D_padding", "padding", lambda K: K.layers.Conv1D(2, 3, padding="bogus")),
    ("Conv2D_data_format", "data_format", lambda K: K.layers.Conv2D(2, 3, data_format="bogus")),
    ("MaxPooling2D_padding", "padding", lambda K: K.layers.MaxPooling2D(2, padding="bogus")),
    ("MaxPooling2D_data_format", "data_format", lambda K: K.layers.MaxPooling2D(2, data_format="bogus")),
    ("Flatten_data_format", "data_format", lambda K: K.layers.Flatten(data_format="bogus")),
    ("GlobalAveragePooling2D_data_format", "data_format", lambda K: K.layers.GlobalAveragePooling2D("bogus")),
    ("UpSampling2D_interpolation", "interpolation", lambda K: K.layers.UpSampling2D(interpolation="bogus")),
    ("Bidirectional_merge_mode", "merge_mode", lambda K: K.layers.Bidirectional(K.layers.LSTM(2), "bogus")),
    ("Rescaling_scale", "scale", lambda K: K.layers.Rescaling("a")),
    ("Dropout_rate_high", "rate", lambda K: K.layers.Dropout(1.5)),
    ("Dropout_rate_neg", "rate", lambda K: K.layers.Dropout(-0.1)),
    ("Dropout_rate_str", "rate", lambda K: K.layers.Dropout("a")),
    ("SpatialDropout2D_rate", "rate", lambda K: K.layers.SpatialDropout2D(2.0)),
    ("GaussianNoise_stddev", "stddev", lambda K: K.layers.GaussianNoise(-1.0)),
    ("Reshape_target_shape_str", "target_shape", lambda K: K.layers.Reshape("abc")),
    ("Reshape_two_unknown", "target_shape", lambda K: K.layers.Reshape((-1, -1))),
    ("Permute_dims_repeat", "dims", lambda K: K.layers.Permute((1, 1))),
    ("Permute_dims_zero", "dims", lambda K: K.layers.Permute((0, 1))),
    ("ZeroPadding2D_padding", "padding", lambda K: K.layers.ZeroPadding2D("a")),
    ("Cropping2D_cropping", "cropping", lambda K: K.layers.Cropping2D("a")),
    ("Input_shape_str", "shape", lambda K: K.layers.Input(shape="abc")),
    ("Input_shape_float", "shape", lambda K: K.layers.Input(shape=(2.5,))),
    ("Input_shape_neg", "shape", lambda K: K.layers.Input(shape=(-2,))),
    ("Input_batch_size", "batch_size", lambda K: K.layers.Input(shape=(2,), batch_size="a")),
    ("Lambda_function", "function", lambda K: K.layers.Lambda(5)),
    ("TimeDistributed_layer", "layer", lambda K: K.layers.TimeDistributed(5)),
    ("Bidirectional_layer", "layer", lambda K: K.layers.Bidirectional(K.layers.Dense(2))),
    ("RNN_cell", "cell", lambda K: K.layers.RNN(5)),
    ("BatchNormalization_axis", "axis", lambda K: K.layers.BatchNormalization(axis="a")),
    ("LayerNormalization_axis", "axis", lambda K: K.layers.LayerNormalization(axis="a")),
    ("Sequential_layers", "layers", lambda K: K.Sequential([5])),
    ("Sequential_add", "layer", lambda K: K.Sequential().add(5)),
    ("Model_outputs", "outputs", lambda K: K.Model(K.layers.Input((3,)), "x")),
    ("Model_inputs", "inputs", lambda K: K.Model("x", K.layers.Dense(2)(K.layers.Input((3,))))),
]
for _name, _needle, _ctor in _BAD_STRINGS:
    add(f"ctor-{_name}", _needle, (lambda c: lambda K, tmp: c(K))(_ctor))


# ---------------------------------------------------------------- layer calls with the wrong data
def _built(K: Any, layer: Any, shape: tuple) -> Any:
    layer(np.ones(shape, "float32"))
    return layer


_f = np.float32
_CALLS: list[tuple[str, str, Callable[[Any], Any]]] = [
    ("Dense_features", "d1", lambda K: _built(K, K.layers.Dense(3, name="d1"), (2, 4))(np.ones((2, 5), _f))),
    ("Dense_scalar", "d1", lambda K: K.layers.Dense(3, name="d1")(np.float32(1.0))),
    ("Dense_string", "d1", lambda K: K.layers.Dense(3, name="d1")(np.array(["a", "b"]))),
    ("Dense_none", "d1", lambda K: K.layers.Dense(3, name="d1")(None)),
    ("Conv2D_rank", "c1", lambda K: K.layers.Conv2D(2, 3, name="c1")(np.ones((2, 8, 8), _f))),
    (
        "Conv2D_channels",
        "c1",
        lambda K: _built(K, K.layers.Conv2D(2, 3, name="c1"), (1, 8, 8, 3))(np.ones((1, 8, 8, 4), _f)),
    ),
    ("Conv1D_too_short", "c1", lambda K: K.layers.Conv1D(2, 5, name="c1")(np.ones((1, 3, 2), _f))),
    ("Conv3D_rank", "c1", lambda K: K.layers.Conv3D(2, 3, name="c1")(np.ones((1, 8, 8, 3), _f))),
    ("MaxPooling2D_too_big", "p1", lambda K: K.layers.MaxPooling2D(4, name="p1")(np.ones((1, 2, 2, 1), _f))),
    ("AveragePooling1D_too_big", "p1", lambda K: K.layers.AveragePooling1D(5, name="p1")(np.ones((1, 2, 1), _f))),
    ("MaxPooling2D_rank", "p1", lambda K: K.layers.MaxPooling2D(2, name="p1")(np.ones((4, 4), _f))),
    ("GlobalAveragePooling2D_rank", "g1", lambda K: K.layers.GlobalAveragePooling2D(name="g1")(np.ones((2, 4, 4), _f))),
    ("Softmax_axis", "s1", lambda K: K.layers.Softmax(axis=3, name="s1")(np.ones((2, 3), _f))),
    ("LayerNormalization_axis", "n1", lambda K: K.layers.LayerNormalization(axis=5, name="n1")(np.ones((2, 3), _f))),
    ("BatchNormalization_axis", "n1", lambda K: K.layers.BatchNormalization(axis=4, name="n1")(np.ones((2, 3), _f))),
    (
        "BatchNormalization_features",
        "n1",
        lambda K: _built(K, K.layers.BatchNormalization(name="n1"), (2, 3))(np.ones((2, 4), _f)),
    ),
    ("LSTM_rank", "r1", lambda K: K.layers.LSTM(3, name="r1")(np.ones((2, 5), _f))),
    ("LSTM_features", "r1", lambda K: _built(K, K.layers.LSTM(3, name="r1"), (2, 5, 6))(np.ones((2, 5, 7), _f))),
    ("GRU_features", "r1", lambda K: _built(K, K.layers.GRU(3, name="r1"), (2, 5, 6))(np.ones((2, 5, 7), _f))),
    (
        "SimpleRNN_features",
        "r1",
        lambda K: _built(K, K.layers.SimpleRNN(3, name="r1"), (2, 5, 6))(np.ones((2, 5, 7), _f)),
    ),
    (
        "LSTM_features_seq",
        "r1",
        lambda K: _built(K, K.layers.LSTM(3, return_sequences=True, name="r1"), (2, 5, 6))(np.ones((2, 5, 4), _f)),
    ),
    (
        "LSTM_features_backwards",
        "r1",
        lambda K: _built(K, K.layers.LSTM(3, go_backwards=True, name="r1"), (2, 5, 6))(np.ones((2, 5, 4), _f)),
    ),
    (
        "RNN_LSTMCell_features",
        "r1",
        lambda K: _built(K, K.layers.RNN(K.layers.LSTMCell(3), name="r1"), (2, 5, 6))(np.ones((2, 5, 7), _f)),
    ),
    (
        "RNN_stacked_features",
        "r1",
        lambda K: _built(K, K.layers.RNN([K.layers.GRUCell(3), K.layers.GRUCell(2)], name="r1"), (2, 5, 6))(
            np.ones((2, 5, 7), _f)
        ),
    ),
    (
        "Bidirectional_LSTM_features",
        "lstm_f",
        lambda K: _built(K, K.layers.Bidirectional(K.layers.LSTM(3, name="lstm_f")), (2, 5, 6))(np.ones((2, 5, 7), _f)),
    ),
    (
        "Bidirectional_GRU_features",
        "gru_f",
        lambda K: _built(K, K.layers.Bidirectional(K.layers.GRU(3, name="gru_f")), (2, 5, 6))(np.ones((2, 5, 7), _f)),
    ),
    (
        "ConvLSTM2D_channels",
        "cl1",
        lambda K: _built(K, K.layers.ConvLSTM2D(2, 3, name="cl1"), (1, 2, 5, 5, 3))(np.ones((1, 2, 5, 5, 4), _f)),
    ),
    (
        "LSTM_initial_state_count",
        "r1",
        lambda K: K.layers.LSTM(3, name="r1")(np.ones((2, 5, 6), _f), initial_state=[np.zeros((2, 3), _f)]),
    ),
    (
        "LSTM_initial_state_width",
        "r1",
        lambda K: K.layers.LSTM(3, name="r1")(np.ones((2, 5, 6), _f), initial_state=[np.zeros((2, 5), _f)] * 2),
    ),
    (
        "GRU_initial_state_batch",
        "r1",
        lambda K: K.layers.GRU(3, name="r1")(np.ones((2, 5, 6), _f), initial_state=[np.zeros((3, 3), _f)]),
    ),
    (
        "Concatenate_shapes",
        "cat1",
        lambda K: K.layers.Concatenate(name="cat1")([np.ones((2, 3, 4), _f), np.ones((2, 5, 4), _f)]),
    ),
    ("Add_shapes", "add1", lambda K: K.layers.Add(name="add1")([np.ones((2, 3), _f), np.ones((2, 4), _f)])),
    ("Dot_axes", "dot1", lambda K: K.layers.Dot(axes=1, name="dot1")([np.ones((2, 3), _f), np.ones((2, 4), _f)])),
    ("Reshape_size", "rs1", lambda K: K.layers.Reshape((5,), name="rs1")(np.ones((2, 3), _f))),
    ("Permute_rank", "pm1", lambda K: K.layers.Permute((2, 1), name="pm1")(np.ones((2, 3, 4, 5), _f))),
    ("Cropping2D_too_much", "cr1", lambda K: K.layers.Cropping2D(3, name="cr1")(np.ones((1, 4, 4, 1), _f))),
    (
        "Embedding_float_build",
        "e1",
        lambda K: _built(K, K.layers.Embedding(5, 2, name="e1"), (2, 3))(np.full((2, 3), 9)),
    ),
    ("Embedding_negative", "e1", lambda K: K.layers.Embedding(5, 2, name="e1")(np.full((2, 3), -1))),
    (
        "MultiHeadAttention_dims",
        "mha1",
        lambda K: _built(K, K.layers.MultiHeadAttention(2, 4, name="mha1"), (2, 3, 8)) and None,
    ),
    ("RepeatVector_rank", "rv1", lambda K: K.layers.RepeatVector(3, name="rv1")(np.ones((2, 3, 4), _f))),
    (
        "TimeDistributed_rank",
        "td1",
        lambda K: K.layers.TimeDistributed(K.layers.Dense(2), name="td1")(np.ones((2,), _f)),
    ),
]


def _mha_dims(K: Any) -> Any:
    layer = K.layers.MultiHeadAttention(2, 4, name="mha1")
    q = np.ones((2, 3, 8), _f)
    layer(q, q)
    return layer(np.ones((2, 3, 6), _f), np.ones((2, 3, 6), _f))


_CALLS = [c for c in _CALLS if c[0] != "MultiHeadAttention_dims"] + [("MultiHeadAttention_dims", "mha1", _mha_dims)]
for _name, _needle, _call in _CALLS:
    add(f"call-{_name}", _needle, (lambda c: lambda K, tmp: c(K))(_call))


# ---------------------------------------------------------------- calling models with the wrong structure
_MODEL_CALLS: list[tuple[str, str, Callable[[Any], Any]]] = [
    ("Sequential_none", "input", lambda K: dense_model(K, False)(None)),
    ("Sequential_dict", "input", lambda K: dense_model(K, False)({"a": X})),
    ("Sequential_list", "input", lambda K: dense_model(K, False)([X, X])),
    ("Sequential_string", "input", lambda K: dense_model(K, False)("abc")),
    ("Sequential_features", "out", lambda K: dense_model(K, False)(np.ones((4, 5), _f))),
    ("Functional_none", "input", lambda K: two_output_model(K)(None)),
    ("Functional_list_one_input", "input", lambda K: two_output_model(K)([X, X])),
    ("Functional_dict_wrong_key", "input", lambda K: two_output_model(K)({"zzz": X})),
    ("Functional_features", "x", lambda K: two_output_model(K)(np.ones((4, 5), _f))),
    ("TwoInput_one_array", "input", lambda K: two_input_model(K)(X)),
    ("TwoInput_three_arrays", "input", lambda K: two_input_model(K)([X, X, X])),
    (
        "Sequential_lstm_features_predict",
        "lstm_p",
        lambda K: K.Sequential([K.layers.Input((5, 6)), K.layers.LSTM(3, name="lstm_p")]).predict(
            np.ones((4, 5, 7), _f), verbose=0
        ),
    ),
    (
        "Sequential_gru_features_predict",
        "gru_p",
        lambda K: K.Sequential([K.layers.Input((5, 6)), K.layers.GRU(3, name="gru_p")]).predict(
            np.ones((4, 5, 7), _f), verbose=0
        ),
    ),
    (
        "Sequential_bidi_features_predict",
        "lstm_b",
        lambda K: K.Sequential(
            [K.layers.Input((5, 6)), K.layers.Bidirectional(K.layers.LSTM(3, name="lstm_b"))]
        ).predict(np.ones((4, 5, 7), _f), verbose=0),
    ),
]
for _name, _needle, _call in _MODEL_CALLS:
    add(f"model-{_name}", _needle, (lambda c: lambda K, tmp: c(K))(_call))


def _fit_lstm_features(K: Any, tmp: str) -> Any:
    m = K.Sequential([K.layers.Input((5, 6)), K.layers.LSTM(3, name="lstm_fit")])
    m.compile("sgd", "mse")
    return m.fit(np.ones((4, 5, 7), _f), np.ones((4, 3), _f), verbose=0)


add("model-fit_lstm_features", "lstm_fit", _fit_lstm_features)


# ---------------------------------------------------------------- compile
_COMPILE: list[tuple[str, str, dict]] = [
    ("optimizer_unknown", "nope_opt", {"optimizer": "nope_opt", "loss": "mse"}),
    ("optimizer_int", "optimizer", {"optimizer": 5, "loss": "mse"}),
    ("loss_unknown", "nope_loss", {"optimizer": "sgd", "loss": "nope_loss"}),
    ("loss_int", "loss", {"optimizer": "sgd", "loss": 5}),
    ("metric_unknown", "nope_metric", {"optimizer": "sgd", "loss": "mse", "metrics": ["nope_metric"]}),
    ("metric_int", "metrics", {"optimizer": "sgd", "loss": "mse", "metrics": [5]}),
    ("loss_weights_list_len", "loss_weights", {"optimizer": "sgd", "loss": "mse", "loss_weights": [1, 2]}),
    ("loss_weights_str", "loss_weights", {"optimizer": "sgd", "loss": "mse", "loss_weights": "a"}),
    ("loss_list_len", "loss", {"optimizer": "sgd", "loss": ["mse", "mse"]}),
    ("loss_dict_key", "nope_output", {"optimizer": "sgd", "loss": {"nope_output": "mse"}}),
    ("steps_per_execution_zero", "steps_per_execution", {"optimizer": "sgd", "loss": "mse", "steps_per_execution": 0}),
    ("steps_per_execution_str", "steps_per_execution", {"optimizer": "sgd", "loss": "mse", "steps_per_execution": "a"}),
]


def _compile_then_fit(K: Any, kw: dict) -> Any:
    m = dense_model(K, compiled=False)
    m.compile(**kw)
    return m.fit(X, Y, verbose=0)


for _name, _needle, _kw in _COMPILE:
    add(f"compile-{_name}", _needle, (lambda kw: lambda K, tmp: _compile_then_fit(K, kw))(_kw))


def _two_out_fit(K: Any, loss: Any, y: Any, **kw: Any) -> Any:
    m = two_output_model(K)
    m.compile(optimizer="sgd", loss=loss, **kw)
    return m.fit(X, y, verbose=0)


_Y1 = np.ones((4, 1), _f)
add("compile-two_outputs_one_loss_one_y", "head_b", lambda K, tmp: _two_out_fit(K, "mse", _Y1))
add("compile-two_outputs_one_loss_three_y", "head_a", lambda K, tmp: _two_out_fit(K, "mse", [_Y1, _Y1, _Y1]))
add("compile-two_outputs_three_losses", "loss", lambda K, tmp: _two_out_fit(K, ["mse"] * 3, [_Y1, _Y1]))
add(
    "compile-two_outputs_loss_weights_len",
    "loss_weights",
    lambda K, tmp: _two_out_fit(K, "mse", [_Y1, _Y1], loss_weights=[1.0]),
)
add("compile-two_outputs_y_dict_key", "nope", lambda K, tmp: _two_out_fit(K, "mse", {"head_a": _Y1, "nope": _Y1}))
add("compile-two_outputs_evaluate_one_y", "head_b", lambda K, tmp: _eval_two(K))


def _eval_two(K: Any) -> Any:
    m = two_output_model(K)
    m.compile(optimizer="sgd", loss="mse")
    return m.evaluate(X, _Y1, verbose=0)


add("model-fit_before_compile", "compile", lambda K, tmp: dense_model(K, compiled=False).fit(X, Y, verbose=0))
add("model-evaluate_before_compile", "compile", lambda K, tmp: dense_model(K, compiled=False).evaluate(X, Y, verbose=0))
add(
    "model-train_on_batch_before_compile", "compile", lambda K, tmp: dense_model(K, compiled=False).train_on_batch(X, Y)
)


# ---------------------------------------------------------------- fit / evaluate / predict arguments
def _gen_strings() -> Any:
    while True:
        yield "a", "b"


_FIT: list[tuple[str, str, dict]] = [
    ("x_csv_path", "x", {"x": "data.csv", "y": None}),
    ("x_int", "x", {"x": 5, "y": None}),
    ("x_ragged", "x", {"x": [[1.0, 2.0, 3.0], [1.0]], "y": [[1.0, 1.0], [1.0, 1.0]]}),
    ("x_y_length", "x", {"y": np.ones((3, 2), _f)}),
    ("x_strings", "x", {"x": np.array([["a", "b", "c"]] * 4)}),
    ("y_width", "y", {"y": np.ones((4, 3), _f)}),
    ("generator_strings", "x", {"x": _gen_strings(), "y": None, "steps_per_epoch": 1}),
    ("batch_size_float", "batch_size", {"batch_size": 2.5}),
    ("batch_size_str", "batch_size", {"batch_size": "a"}),
    ("batch_size_neg", "batch_size", {"batch_size": -1}),
    ("batch_size_zero", "batch_size", {"batch_size": 0}),
    ("epochs_str", "epochs", {"epochs": "two"}),
    ("epochs_float", "epochs", {"epochs": 2.5}),
    ("epochs_neg", "epochs", {"epochs": -1}),
    ("initial_epoch_str", "initial_epoch", {"initial_epoch": "a"}),
    ("steps_per_epoch_zero", "steps_per_epoch", {"steps_per_epoch": 0}),
    ("steps_per_epoch_neg", "steps_per_epoch", {"steps_per_epoch": -1}),
    ("steps_per_epoch_str", "steps_per_epoch", {"steps_per_epoch": "a"}),
    ("validation_steps_zero", "validation_steps", {"validation_data": (X, Y), "validation_steps": 0}),
    ("validation_freq_zero", "validation_freq", {"validation_data": (X, Y), "validation_freq": 0}),
    ("validation_freq_str", "validation_freq", {"validation_data": (X, Y), "validation_freq": "a"}),
    ("validation_split_high", "validation_split", {"validation_split": 1.5}),
    ("validation_split_neg", "validation_split", {"validation_split": -0.1}),
    ("validation_split_str", "validation_split", {"validation_split": "a"}),
    ("validation_split_one", "validation_split", {"validation_split": 1.0}),
    ("validation_data_csv", "validation_data", {"validation_data": "val.csv"}),
    ("validation_data_dict", "validation_data", {"validation_data": {"a": X}}),
    ("validation_data_one_tuple", "validation_data", {"validation_data": (X,)}),
    ("validation_data_four_tuple", "validation_data", {"validation_data": (X, Y, Y, Y)}),
    ("validation_data_int", "validation_data", {"validation_data": 5}),
    ("validation_data_features", "out", {"validation_data": (np.ones((4, 5), _f), Y)}),
    ("class_weight_list", "class_weight", {"class_weight": [1, 2]}),
    ("class_weight_str_key", "class_weight", {"class_weight": {"cat": 1}}),
    ("class_weight_str", "class_weight", {"class_weight": "balanced"}),
    ("sample_weight_str", "sample_weight", {"sample_weight": "balanced"}),
    ("sample_weight_len", "sample_weight", {"sample_weight": np.ones(3, _f)}),
    ("sample_weight_2d", "sample_weight", {"sample_weight": np.ones((4, 5), _f)}),
    ("sample_weight_3d", "sample_weight", {"sample_weight": np.ones((4, 2, 2), _f)}),
    ("callbacks_int", "callbacks", {"callbacks": 5}),
    ("callbacks_list_int", "callbacks", {"callbacks": [5]}),
    ("verbose_str", "verbose", {"verbose_override": "loud"}),
]


def _fit_case(kw: dict) -> Callable:
    def run(K: Any, tmp: str) -> Any:
        kw2 = dict(kw)
        verbose = kw2.pop("verbose_override", None)
        m = dense_model(K)
        x = kw2.pop("x", X)
        y = kw2.pop("y", Y)
        return m.fit(x, y, verbose=0 if verbose is None else verbose, **kw2)

    return run


for _name, _needle, _kw in _FIT:
    add(f"fit-{_name}", _needle, _fit_case(_kw))

_Y_OOR = np.array([0, 1, 40, 2])
add("fit-labels_out_of_range", "40", lambda K, tmp: classifier(K).fit(X, _Y_OOR, verbose=0))
add("evaluate-labels_out_of_range", "40", lambda K, tmp: classifier(K).evaluate(X, _Y_OOR, verbose=0))
add("test_on_batch-labels_out_of_range", "40", lambda K, tmp: classifier(K).test_on_batch(X, _Y_OOR))
add("train_on_batch-labels_out_of_range", "40", lambda K, tmp: classifier(K).train_on_batch(X, _Y_OOR))
add("fit-labels_negative", "-1", lambda K, tmp: classifier(K).fit(X, np.array([0, 1, -1, 2]), verbose=0))
add("fit-class_weight_two_outputs", "class_weight", lambda K, tmp: _cw_two(K))


def _cw_two(K: Any) -> Any:
    m = two_output_model(K)
    m.compile(optimizer="sgd", loss="mse")
    return m.fit(X, [_Y1, _Y1], class_weight={0: 1.0, 1: 2.0}, verbose=0)


_EVAL: list[tuple[str, str, Callable[[Any], Any]]] = [
    ("evaluate_batch_size_str", "batch_size", lambda K: dense_model(K).evaluate(X, Y, batch_size="a", verbose=0)),
    ("evaluate_batch_size_zero", "batch_size", lambda K: dense_model(K).evaluate(X, Y, batch_size=0, verbose=0)),
    ("evaluate_steps_zero", "steps", lambda K: dense_model(K).evaluate(X, Y, steps=0, verbose=0)),
    ("evaluate_x_csv", "x", lambda K: dense_model(K).evaluate("data.csv", verbose=0)),
    ("evaluate_x_y_length", "x", lambda K: dense_model(K).evaluate(X, np.ones((3, 2), _f), verbose=0)),
    (
        "evaluate_sample_weight_str",
        "sample_weight",
        lambda K: dense_model(K).evaluate(X, Y, sample_weight="a", verbose=0),
    ),
    ("evaluate_features", "out", lambda K: dense_model(K).evaluate(np.ones((4, 5), _f), Y, verbose=0)),
    ("predict_steps_zero", "steps", lambda K: dense_model(K).predict(X, steps=0, verbose=0)),
    ("predict_steps_neg", "steps", lambda K: dense_model(K).predict(X, steps=-1, verbose=0)),
    ("predict_batch_size_float", "batch_size", lambda K: dense_model(K).predict(X, batch_size=1.5, verbose=0)),
    ("predict_batch_size_zero", "batch_size", lambda K: dense_model(K).predict(X, batch_size=0, verbose=0)),
    ("predict_x_csv", "x", lambda K: dense_model(K).predict("data.csv", verbose=0)),
    ("predict_x_none", "x", lambda K: dense_model(K).predict(None, verbose=0)),
    ("predict_features", "out", lambda K: dense_model(K).predict(np.ones((4, 5), _f), verbose=0)),
    ("predict_rank", "out", lambda K: dense_model(K).predict(np.ones((4,), _f), verbose=0)),
    ("predict_callbacks_int", "callbacks", lambda K: dense_model(K).predict(X, callbacks=5, verbose=0)),
    ("predict_on_batch_features", "out", lambda K: dense_model(K).predict_on_batch(np.ones((4, 5), _f))),
    (
        "train_on_batch_sample_weight",
        "sample_weight",
        lambda K: dense_model(K).train_on_batch(X, Y, sample_weight=np.ones((4, 5), _f)),
    ),
    ("train_on_batch_class_weight", "class_weight", lambda K: dense_model(K).train_on_batch(X, Y, class_weight=[1, 2])),
]
for _name, _needle, _call in _EVAL:
    add(f"eval-{_name}", _needle, (lambda c: lambda K, tmp: c(K))(_call))


# ---------------------------------------------------------------- save / load
def _saved(K: Any, tmp: str, name: str = "m.keras") -> str:
    path = os.path.join(tmp, name)
    dense_model(K).save(path)
    return path


def _weights(K: Any, tmp: str) -> str:
    path = os.path.join(tmp, "m.weights.h5")
    dense_model(K).save_weights(path)
    return path


def _other_model(K: Any) -> Any:
    return K.Sequential([K.layers.Input((3,)), K.layers.Dense(5, name="out")])


_SAVE: list[tuple[str, str, Callable[[Any, str], Any]]] = [
    ("save_txt", "m.txt", lambda K, t: dense_model(K).save(os.path.join(t, "m.txt"))),
    ("save_int", "filepath", lambda K, t: dense_model(K).save(5)),
    ("save_weights_h5", "m.h5", lambda K, t: dense_model(K).save_weights(os.path.join(t, "m.h5"))),
    ("save_weights_int", "filepath", lambda K, t: dense_model(K).save_weights(5)),
    ("save_weights_txt", "m.txt", lambda K, t: dense_model(K).save_weights(os.path.join(t, "m.txt"))),
    ("load_model_missing", "missing.keras", lambda K, t: K.models.load_model(os.path.join(t, "missing.keras"))),
    ("load_model_txt", "m.txt", lambda K, t: K.models.load_model(os.path.join(t, "m.txt"))),
    ("load_model_int", "filepath", lambda K, t: K.models.load_model(5)),
    (
        "load_model_custom_objects_int",
        "custom_objects",
        lambda K, t: K.models.load_model(_saved(K, t), custom_objects=5),
    ),
    (
        "load_model_custom_objects_list",
        "custom_objects",
        lambda K, t: K.models.load_model(_saved(K, t), custom_objects=["a"]),
    ),
    ("load_model_dir", "filepath", lambda K, t: K.models.load_model(t)),
    (
        "load_model_empty_file",
        "m.keras",
        lambda K, t: (open(os.path.join(t, "m.keras"), "wb").close(), K.models.load_model(os.path.join(t, "m.keras"))),
    ),
    (
        "load_model_text_file",
        "m.keras",
        lambda K, t: (
            open(os.path.join(t, "m.keras"), "w").write("hello"),
            K.models.load_model(os.path.join(t, "m.keras")),
        ),
    ),
    (
        "load_weights_missing",
        "missing.weights.h5",
        lambda K, t: dense_model(K).load_weights(os.path.join(t, "missing.weights.h5")),
    ),
    ("load_weights_txt", "m.txt", lambda K, t: dense_model(K).load_weights(os.path.join(t, "m.txt"))),
    ("load_weights_int", "filepath", lambda K, t: dense_model(K).load_weights(5)),
    ("load_weights_mismatch", "out", lambda K, t: _other_model(K).load_weights(_weights(K, t))),
    ("load_weights_keras_mismatch", "out", lambda K, t: _other_model(K).load_weights(_saved(K, t))),
    (
        "load_weights_text_file",
        "m.weights.h5",
        lambda K, t: (
            open(os.path.join(t, "m.weights.h5"), "w").write("hello"),
            dense_model(K).load_weights(os.path.join(t, "m.weights.h5")),
        ),
    ),
]
for _name, _needle, _call in _SAVE:
    add(f"saving-{_name}", _needle, (lambda c: lambda K, tmp: c(K, tmp))(_call))


# ---------------------------------------------------------------- configs
def _seq_config(K: Any) -> dict:
    return dense_model(K, compiled=False).get_config()


def _drop_layers(K: Any) -> Any:
    cfg = _seq_config(K)
    cfg.pop("layers")
    return K.Sequential.from_config(cfg)


def _drop_layer_name(K: Any) -> Any:
    cfg = two_output_model(K).get_config()
    del cfg["layers"][1]["name"]
    return K.Model.from_config(cfg)


def _layer_from(K: Any, cfg: dict) -> Any:
    return K.layers.deserialize(cfg)


def _dense_cfg(**over: Any) -> dict:
    c = {"module": "keras.layers", "class_name": "Dense", "config": {"units": 2, "name": "dz"}, "registered_name": None}
    c.update({k: v for k, v in over.items() if k != "config"})
    c["config"].update(over.get("config", {}))
    return c


def _input_cfg(batch_shape: list) -> dict:
    return {
        "module": "keras.layers",
        "class_name": "InputLayer",
        "config": {"batch_shape": batch_shape, "dtype": "float32", "name": "big_in"},
        "registered_name": None,
    }


def _build_dense(K: Any, units: Any) -> Any:
    layer = K.layers.deserialize(_dense_cfg(config={"units": units}))
    return layer(np.ones((1, 3), _f))


_CONFIGS: list[tuple[str, str, Callable[[Any], Any]]] = [
    ("sequential_without_layers", "layers", _drop_layers),
    ("functional_layer_without_name", "name", _drop_layer_name),
    ("unknown_class", "NopeLayer", lambda K: _layer_from(K, _dense_cfg(class_name="NopeLayer"))),
    ("builtin_with_os_module", "os", lambda K: _layer_from(K, _dense_cfg(module="os", registered_name="os>system"))),
    ("builtin_with_foreign_module", "evil.module", lambda K: _layer_from(K, _dense_cfg(module="evil.module"))),
    ("config_not_dict", "config", lambda K: K.layers.deserialize(5)),
    ("config_inner_not_dict", "config", lambda K: _layer_from(K, _dense_cfg() | {"config": "units=2"})),
    ("config_unknown_arg", "bogus_arg", lambda K: _layer_from(K, _dense_cfg(config={"bogus_arg": 1}))),
    ("units_huge", "units", lambda K: _build_dense(K, 10**12)),
    ("units_float_huge", "units", lambda K: _build_dense(K, 1e12)),
    (
        "batch_shape_huge",
        "after_big",
        lambda K: K.Sequential([K.layers.deserialize(_input_cfg([None, 10**12])), K.layers.Dense(2, name="after_big")]),
    ),
    ("batch_shape_str", "batch_shape", lambda K: K.layers.deserialize(_input_cfg("abc"))),
    ("deserialize_activation_unknown", "nope_act", lambda K: K.activations.deserialize("nope_act")),
    ("get_optimizer_unknown", "nope_opt", lambda K: K.optimizers.get("nope_opt")),
    ("get_loss_unknown", "nope_loss", lambda K: K.losses.get("nope_loss")),
    ("get_metric_unknown", "nope_metric", lambda K: K.metrics.get("nope_metric")),
    ("get_initializer_unknown", "nope_init", lambda K: K.initializers.get("nope_init")),
]
for _name, _needle, _call in _CONFIGS:
    add(f"config-{_name}", _needle, (lambda c: lambda K, tmp: c(K))(_call))


def _ids_unique() -> None:
    seen: set[str] = set()
    for c in CASES:
        if c.id in seen:
            raise ValueError(f"duplicate case id {c.id}")
        seen.add(c.id)


_ids_unique()


# ---------------------------------------------------------------- more of the same families (issue 14 follow-up)
def _rnn_state(K: Any, layer: Any, state: list) -> Any:
    x = np.ones((2, 5, 6), _f)
    layer(x)
    return layer(x, initial_state=state)


_MORE: list[tuple[str, str, Callable[[Any], Any]]] = [
    ("LSTM_initial_state_width", "r1", lambda K: _rnn_state(K, K.layers.LSTM(3, name="r1"), [np.ones((2, 4), _f)] * 2)),
    ("GRU_initial_state_batch", "r1", lambda K: _rnn_state(K, K.layers.GRU(3, name="r1"), [np.ones((3, 3), _f)])),
    (
        "Bidirectional_GRU_features",
        "r1",
        lambda K: _built(K, K.layers.Bidirectional(K.layers.GRU(3, name="r1")), (2, 5, 6))(np.ones((2, 5, 7), _f)),
    ),
    (
        "ConvLSTM1D_channels",
        "r1",
        lambda K: _built(K, K.layers.ConvLSTM1D(2, 3, name="r1"), (1, 4, 8, 3))(np.ones((1, 4, 8, 5), _f)),
    ),
    ("Conv1D_channels", "c1", lambda K: _built(K, K.layers.Conv1D(2, 3, name="c1"), (1, 8, 3))(np.ones((1, 8, 4), _f))),
    (
        "DepthwiseConv2D_channels",
        "c1",
        lambda K: _built(K, K.layers.DepthwiseConv2D(3, name="c1"), (1, 8, 8, 3))(np.ones((1, 8, 8, 4), _f)),
    ),
    ("MaxPooling1D_rank", "p1", lambda K: K.layers.MaxPooling1D(2, name="p1")(np.ones((4, 4), _f))),
    ("AveragePooling2D_too_big", "p1", lambda K: K.layers.AveragePooling2D(3, name="p1")(np.ones((1, 2, 2, 1), _f))),
    ("Softmax_axis_negative", "s1", lambda K: K.layers.Softmax(axis=-4, name="s1")(np.ones((2, 3), _f))),
    ("Embedding_too_big", "e1", lambda K: K.layers.Embedding(3, 2, name="e1")(np.array([[0, 7]]))),
    ("Dense_none_list", "d1", lambda K: K.layers.Dense(3, name="d1")([None])),
]
for _name, _needle, _call in _MORE:
    add(f"call2-{_name}", _needle, (lambda c: lambda K, tmp: c(K))(_call))

_MORE_FIT: list[tuple[str, str, dict]] = [
    ("validation_batch_size_zero", "validation_batch_size", {"validation_data": (X, Y), "validation_batch_size": 0}),
    ("validation_batch_size_str", "validation_batch_size", {"validation_data": (X, Y), "validation_batch_size": "a"}),
    ("validation_freq_list_zero", "validation_freq", {"validation_data": (X, Y), "validation_freq": [0, 1]}),
    ("initial_epoch_neg", "initial_epoch", {"initial_epoch": -1}),
    ("epochs_none", "epochs", {"epochs": None}),
    ("batch_size_bool", "batch_size", {"batch_size": True}),
    ("class_weight_neg_key", "class_weight", {"class_weight": {-1: 1.0}}),
    ("class_weight_str_value", "class_weight", {"class_weight": {0: "a"}}),
    ("validation_data_str_tuple", "out", {"validation_data": (np.ones((4, 4), _f), Y)}),
]
for _name, _needle, _kw in _MORE_FIT:
    add(f"fit2-{_name}", _needle, _fit_case(_kw))

_MORE_SAVING: list[tuple[str, str, Callable[[Any, str], Any]]] = [
    ("save_none", "filepath", lambda K, t: dense_model(K).save(None)),
    ("load_model_none", "filepath", lambda K, t: K.models.load_model(None)),
    ("load_weights_none", "filepath", lambda K, t: dense_model(K).load_weights(None)),
    (
        "load_model_custom_objects_str",
        "custom_objects",
        lambda K, t: K.models.load_model(_saved(K, t), custom_objects="x"),
    ),
]
for _name, _needle, _call in _MORE_SAVING:
    add(f"saving2-{_name}", _needle, (lambda c: lambda K, tmp: c(K, tmp))(_call))

_ids_unique()
