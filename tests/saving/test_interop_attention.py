"""Keras 3 files <-> Lamina for the attention family, ConvLSTM, ReversibleEmbedding and TorchModuleWrapper.

As in ``test_interop_keras``: one builder per family, using only the shared Keras API, builds the Keras model
(``K = keras``) and the Lamina one (``K = lamina``); files go both ways with equal predictions, and the
weights files have Keras's layout (dataset paths and ``vars`` group names).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import lamina
from tests.saving.kx import h5_group_names, h5_tree, keras, keras_predict, lamina_predict
from tests.saving.test_interop_keras import _close, _inputs, _randomize


def _mha(K):
    seq, ctx = K.Input((6, 8)), K.Input((5, 4))
    x = K.layers.MultiHeadAttention(num_heads=2, key_dim=3, dropout=0.1)(seq, seq)
    x = K.layers.LayerNormalization()(K.layers.Add()([seq, x]))
    y = K.layers.MultiHeadAttention(num_heads=2, key_dim=4, value_dim=2, output_shape=5, name="cross")(x, ctx)
    z = K.layers.MultiHeadAttention(num_heads=1, key_dim=2, use_bias=False, use_gate=True)(y, ctx, ctx)
    return K.Model([seq, ctx], K.layers.GlobalAveragePooling1D()(z))


def _mha_masked(K):
    ids = K.Input((7,), dtype="int32")
    x = K.layers.Embedding(10, 8, mask_zero=True)(ids)
    a = K.layers.MultiHeadAttention(num_heads=2, key_dim=4)(x, x)
    x = K.layers.Add()([x, a])
    return K.Model(ids, K.layers.Dense(3)(K.layers.GlobalAveragePooling1D()(x)))


def _gqa(K):
    seq = K.Input((6, 8))
    x = K.layers.GroupQueryAttention(head_dim=2, num_query_heads=4, num_key_value_heads=2)(seq, seq)
    return K.Model(seq, K.layers.Dense(2)(x))


def _attention(K):
    q, v = K.Input((4, 3)), K.Input((6, 3))
    a = K.layers.Attention(use_scale=True, score_mode="concat")([q, v])
    b = K.layers.AdditiveAttention()([q, v, v])
    return K.Model([q, v], K.layers.Concatenate()([a, b]))


def _conv_lstm(K):
    return K.Sequential(
        [
            K.Input((3, 6, 6, 2)),
            K.layers.ConvLSTM2D(3, 3, padding="same", return_sequences=True),
            K.layers.ConvLSTM2D(2, 2, strides=2),
            K.layers.Flatten(),
            K.layers.Dense(2),
        ]
    )


def _conv_lstm_1d_3d(K):
    return K.Sequential(
        [
            K.Input((3, 4, 4, 4, 1)),
            K.layers.ConvLSTM3D(2, 2, return_sequences=True),
            K.layers.Reshape((3, 9, 6)),
            K.layers.ConvLSTM1D(2, 3, padding="same"),
        ]
    )


def _reversible(K):
    ids = K.Input((5,), dtype="int32")
    emb = K.layers.ReversibleEmbedding(10, 4, tie_weights=False)
    return K.Model(ids, emb(emb(ids), reverse=True))


FAMILIES = {
    "mha": (_mha, [(6, 8), (5, 4)]),
    "mha_masked": (_mha_masked, [("int", 7)]),
    "gqa": (_gqa, [(6, 8)]),
    "attention": (_attention, [(4, 3), (6, 3)]),
    "conv_lstm2d": (_conv_lstm, [(3, 6, 6, 2)]),
    "conv_lstm1d_3d": (_conv_lstm_1d_3d, [(3, 4, 4, 4, 1)]),
    "reversible_embedding": (_reversible, [("int", 5)]),
}


def _masked_ids(x):
    x = np.array(x)
    x[0, 4:] = 0  # padding: the masks reach the attention
    x[1, 0] = 0
    return x


@pytest.mark.parametrize("family", list(FAMILIES))
def test_keras_file_loads_in_lamina(family, tmp_path):
    builder, specs = FAMILIES[family]
    kmodel = builder(keras())
    _randomize(kmodel)
    kmodel.save(tmp_path / "k.keras")
    kmodel.save_weights(tmp_path / "k.weights.h5")
    x = _inputs(specs)
    if family == "mha_masked":
        x = _masked_ids(x)
    expected = keras_predict(kmodel, x)
    ours = lamina.models.load_model(tmp_path / "k.keras")
    _close(lamina_predict(ours, x), expected)
    fresh = builder(lamina)
    fresh.load_weights(tmp_path / "k.weights.h5")
    _close(lamina_predict(fresh, x), expected)


@pytest.mark.parametrize("family", list(FAMILIES))
def test_lamina_file_loads_in_keras(family, tmp_path):
    builder, specs = FAMILIES[family]
    k = keras()
    ours = builder(lamina)
    _randomize(ours)
    ours.save(tmp_path / "l.keras")
    ours.save_weights(tmp_path / "l.weights.h5")
    x = _inputs(specs)
    if family == "mha_masked":
        x = _masked_ids(x)
    expected = lamina_predict(ours, x)
    kmodel = k.models.load_model(tmp_path / "l.keras")
    _close(keras_predict(kmodel, x), expected)
    kfresh = builder(k)
    kfresh.load_weights(tmp_path / "l.weights.h5")
    _close(keras_predict(kfresh, x), expected)
    kfresh.save_weights(tmp_path / "k.weights.h5")
    assert h5_tree(tmp_path / "l.weights.h5") == h5_tree(tmp_path / "k.weights.h5")
    assert set(h5_group_names(tmp_path / "l.weights.h5")) == set(h5_group_names(tmp_path / "k.weights.h5"))


def test_mha_weight_paths_in_the_file_are_keras_paths(tmp_path):
    model = _mha(lamina)
    model.save_weights(tmp_path / "l.weights.h5")
    tree = h5_tree(tmp_path / "l.weights.h5")
    assert tree["layers/multi_head_attention/query_dense/vars/0"] == (8, 2, 3)
    assert tree["layers/multi_head_attention/output_dense/vars/0"] == (2, 3, 8)
    # layers sit under their class's snake-case name, numbered per model (not under their `name`)
    assert tree["layers/multi_head_attention_1/value_dense/vars/0"] == (4, 2, 2)
    assert tree["layers/multi_head_attention_1/output_dense/vars/0"] == (2, 2, 5)
    assert tree["layers/multi_head_attention_2/_gate_dense/vars/0"] == (5, 1, 2)
    names = h5_group_names(tmp_path / "l.weights.h5")
    assert names["layers/multi_head_attention/_softmax/vars"] == "softmax"
    assert names["layers/multi_head_attention/_dropout_layer/vars"] == "dropout"


# ---------------------------------------------------------------------------- TorchModuleWrapper
def _wrapped(K):
    torch.manual_seed(0)
    module = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4), torch.nn.Tanh())
    inputs = K.Input((3,))
    x = K.layers.TorchModuleWrapper(module, output_shape=(None, 4))(inputs)
    return K.Model(inputs, K.layers.Dense(2)(x))


def _train_a_little(model, K):
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((16, 3)).astype("float32"), rng.standard_normal((16, 2)).astype("float32")
    model.compile(optimizer=K.optimizers.SGD(0.1), loss="mse")
    model.fit(x, y, batch_size=8, epochs=2, verbose=0)  # moves BatchNorm's running statistics too


@pytest.mark.parametrize("direction", ["keras_to_lamina", "lamina_to_keras"])
def test_torch_module_wrapper_files_cross_both_ways(direction, tmp_path):
    k = keras()
    src_mod, dst_mod = (k, lamina) if direction == "keras_to_lamina" else (lamina, k)
    src = _wrapped(src_mod)
    _train_a_little(src, src_mod)
    src.save(tmp_path / "m.keras")
    src.save_weights(tmp_path / "m.weights.h5")
    x = np.random.default_rng(1).standard_normal((5, 3)).astype("float32")
    predict = {k: keras_predict, lamina: lamina_predict}
    expected = predict[src_mod](src, x)
    with pytest.raises(ValueError, match="safe_mode=False"):
        dst_mod.models.load_model(tmp_path / "m.keras")
    loaded = dst_mod.models.load_model(tmp_path / "m.keras", safe_mode=False)
    _close(predict[dst_mod](loaded, x), expected)
    fresh = _wrapped(dst_mod)
    fresh.load_weights(tmp_path / "m.weights.h5")
    _close(predict[dst_mod](fresh, x), expected)
    fresh.save_weights(tmp_path / "again.weights.h5")
    # the module's state_dict keys, buffers included, in the wrapper's own `vars` (Keras's torch-backend layout)
    tree = h5_tree(tmp_path / "again.weights.h5")
    saved = {k: v for k, v in h5_tree(tmp_path / "m.weights.h5").items() if not k.startswith("optimizer/")}
    assert tree == saved
    assert tree["layers/torch_module_wrapper/vars/1.running_var"] == (4,)
    assert tree["layers/torch_module_wrapper/vars/0.weight"] == (4, 3)
