"""MultiHeadAttention, GroupQueryAttention, Attention, AdditiveAttention: harness, Keras parity, masks, fast path."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import lamina
from lamina import layers
from tests.layers.harness import keras_layer_from_config, make_input, run_layer_test, to_numpy


def keras():
    import keras as k

    return k


def _twin(layer, *args, **kwargs):
    """The real Keras layer from our config, called once on the same arguments, holding our weights."""
    k = keras()
    klayer = keras_layer_from_config(type(layer).__name__, layer.get_config())
    klayer(*[k.ops.convert_to_tensor(a) for a in args], **_keras_kwargs(kwargs))
    klayer.set_weights(layer.get_weights())
    return klayer


def _keras_kwargs(kwargs):
    k = keras()
    return {n: k.ops.convert_to_tensor(v) if isinstance(v, np.ndarray) else v for n, v in kwargs.items()}


def _randomize(layer, seed=1, scale=0.4):
    rng = np.random.default_rng(seed)
    for w in layer.weights:
        w.assign((rng.standard_normal(w.shape) * scale).astype("float32"))


def _assert_parity(layer, *args, atol=1e-5, **kwargs):
    ours = layer(*args, **kwargs)
    klayer = _twin(layer, *args, **kwargs)
    theirs = klayer(*[keras().ops.convert_to_tensor(a) for a in args], **_keras_kwargs(kwargs))
    ours_l = list(ours) if isinstance(ours, (list, tuple)) else [ours]
    theirs_l = list(theirs) if isinstance(theirs, (list, tuple)) else [theirs]
    assert len(ours_l) == len(theirs_l)
    for o, t in zip(ours_l, theirs_l, strict=True):
        np.testing.assert_allclose(to_numpy(o), to_numpy(t), atol=atol, rtol=1e-5)
    return ours


Q, V = make_input((2, 5, 4)), make_input((2, 6, 4), seed=3)


# ---------------------------------------------------------------------------- MultiHeadAttention: harness
# (return_attention_scores is checked against Keras below: the harness compares compute_output_shape, which, as
# in Keras, gives the output's shape only, with every output)
@pytest.mark.parametrize(
    "kwargs, extra, call_kwargs",
    [
        ({"num_heads": 2, "key_dim": 3}, {"value": V}, {}),
        ({"num_heads": 3, "key_dim": 2, "value_dim": 4, "output_shape": (2, 3), "use_bias": False}, {"value": V}, {}),
        ({"num_heads": 2, "key_dim": 3}, {"value": V, "key": make_input((2, 6, 7), seed=4)}, {}),
        ({"num_heads": 2, "key_dim": 2}, {"value": Q}, {"use_causal_mask": True}),
        ({"num_heads": 2, "key_dim": 2, "dropout": 0.3, "seed": 1}, {"value": V}, {}),
        ({"num_heads": 2, "key_dim": 3, "use_gate": True, "sliding_window": 2}, {"value": Q}, {}),
    ],
)
def test_mha_harness(kwargs, extra, call_kwargs):
    run_layer_test(layers.MultiHeadAttention, kwargs, None, input_data=Q, extra_inputs=extra, call_kwargs=call_kwargs)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"num_heads": 2, "key_dim": 2},  # default axes (1, 2): the flattened fused path
        {"num_heads": 2, "key_dim": 2, "attention_axes": 2},  # one of two position axes: Keras's einsum path
        {"num_heads": 2, "key_dim": 2, "attention_axes": (1, 2), "output_shape": 3},
    ],
)
def test_mha_harness_rank4(kwargs):
    x = make_input((2, 3, 4, 5))
    run_layer_test(layers.MultiHeadAttention, kwargs, None, input_data=x, extra_inputs={"value": x})


def test_mha_weights_layout_names_and_config_equal_keras():
    mha = layers.MultiHeadAttention(num_heads=3, key_dim=4, value_dim=2, output_shape=(5,), name="att")
    mha(Q, V)
    assert [(w.path, w.shape) for w in mha.weights] == [
        ("att/query/kernel", (4, 3, 4)),
        ("att/query/bias", (3, 4)),
        ("att/key/kernel", (4, 3, 4)),
        ("att/key/bias", (3, 4)),
        ("att/value/kernel", (4, 3, 2)),
        ("att/value/bias", (3, 2)),
        ("att/attention_output/kernel", (3, 2, 5)),
        ("att/attention_output/bias", (5,)),
    ]
    klayer = _twin(mha, Q, V)
    config = mha.get_config()
    assert config == klayer.get_config()
    assert config["attention_axes"] == (1,)  # resolved at build, as Keras writes it
    assert mha.get_build_config() == {"shapes_dict": {"query_shape": [2, 5, 4], "value_shape": [2, 6, 4]}}
    assert [type(m).__name__ for m in mha.children()] == ["EinsumDense"] * 3 + ["Softmax", "Dropout", "EinsumDense"]


# ---------------------------------------------------------------------------- masks
@pytest.mark.parametrize(
    "mask_shape",
    [(2, 5, 6), (1, 5, 6), (5, 6), (2, 1, 6), (2, 2, 5, 6)],
)
def test_mha_attention_mask_shapes_match_keras(mask_shape):
    rng = np.random.default_rng(0)
    mask = rng.random(mask_shape) > 0.4
    mha = layers.MultiHeadAttention(num_heads=2, key_dim=3)
    mha(Q, V)
    _randomize(mha)
    _assert_parity(mha, Q, V, attention_mask=mask)
    _assert_parity(mha, Q, V, attention_mask=mask, return_attention_scores=True)


def test_mha_causal_mask_with_attention_mask_and_sliding_window_match_keras():
    rng = np.random.default_rng(1)
    mask = rng.random((2, 5, 5)) > 0.3
    mha = layers.MultiHeadAttention(num_heads=2, key_dim=3, sliding_window=3)
    mha(Q, Q)
    _randomize(mha)
    _assert_parity(mha, Q, Q, attention_mask=mask, use_causal_mask=True)
    _assert_parity(mha, Q, Q, use_causal_mask=True, return_attention_scores=True)


def _masked_ids():
    ids = np.array([[3, 1, 4, 0, 0, 0], [5, 9, 2, 6, 5, 0]], dtype="int32")
    return ids


def test_mha_masks_from_embedding_mask_zero_match_keras_in_a_functional_model():
    # the query mask makes padded query rows attend to nothing; Keras's two attention paths treat those rows
    # differently (dot-product attention averages the values, the einsum path gives zeros): dropout=0.1 takes
    # the einsum path in Keras, so both behaviours are covered
    ids = _masked_ids()
    for dropout in (0.0, 0.1):
        models = []
        for K in (lamina, keras()):
            inputs = K.Input((6,), dtype="int32")
            x = K.layers.Embedding(10, 4, mask_zero=True)(inputs)
            a = K.layers.MultiHeadAttention(num_heads=2, key_dim=3, dropout=dropout)(x, x)
            y = K.layers.GlobalAveragePooling1D()(K.layers.Add()([x, a]))
            models.append(K.Model(inputs, [a, y]))
        ours, theirs = models
        _randomize(ours)
        theirs.set_weights(ours.get_weights())
        got, expected = ours(ids), theirs(ids)
        assert len(got) == len(expected) == 2
        for g, e in zip(got, expected, strict=True):
            np.testing.assert_allclose(to_numpy(g), to_numpy(e), atol=1e-5)


def test_mha_output_carries_the_query_mask_and_the_inputs_lose_theirs():
    emb = layers.Embedding(10, 4, mask_zero=True)
    x = emb(torch.as_tensor(_masked_ids()))
    out = layers.MultiHeadAttention(num_heads=2, key_dim=2)(x, x)
    assert torch.equal(out._keras_mask, torch.as_tensor(_masked_ids() != 0))
    assert getattr(x, "_keras_mask", None) is None  # Keras removes the consumed masks from the inputs


def test_mha_value_mask_alone_matches_keras():
    mha = layers.MultiHeadAttention(num_heads=2, key_dim=3)
    mha(Q, V)
    _randomize(mha)
    value = torch.as_tensor(V)
    mask = torch.as_tensor([[True] * 4 + [False] * 2, [True] * 6])
    value._keras_mask = mask
    ours = mha(Q, value)
    kvalue = keras().ops.convert_to_tensor(V)
    kvalue._keras_mask = mask.clone()
    theirs = _twin(mha, Q, V)(keras().ops.convert_to_tensor(Q), kvalue)
    np.testing.assert_allclose(to_numpy(ours), to_numpy(theirs), atol=1e-5)


# ---------------------------------------------------------------------------- the fused path
def _count_sdpa(monkeypatch):
    calls = []
    original = F.scaled_dot_product_attention

    def counting(*args, **kwargs):
        calls.append(args[0].shape)
        return original(*args, **kwargs)

    monkeypatch.setattr(F, "scaled_dot_product_attention", counting)
    return calls


def test_mha_runs_through_scaled_dot_product_attention_with_the_numbers_of_the_softmax_path(monkeypatch):
    calls = _count_sdpa(monkeypatch)
    mha = layers.MultiHeadAttention(num_heads=4, key_dim=8)
    x = torch.as_tensor(make_input((3, 7, 16)))
    mask = torch.as_tensor(np.random.default_rng(0).random((3, 7, 7)) > 0.3)
    fused = mha(x, x, attention_mask=mask)  # self-attention: one matmul for q, k, v
    assert calls == [(3, 4, 7, 8)]
    explicit, scores = mha(x, x, attention_mask=mask, return_attention_scores=True)
    assert len(calls) == 1 and scores.shape == (3, 4, 7, 7)
    torch.testing.assert_close(fused, explicit, atol=1e-5, rtol=1e-5)
    cross = mha(x, x.clone(), attention_mask=mask)  # three separate projections
    torch.testing.assert_close(cross, explicit, atol=1e-5, rtol=1e-5)
    assert len(calls) == 2


def test_mha_fused_path_gradients_match_the_softmax_path():
    mha = layers.MultiHeadAttention(num_heads=2, key_dim=4)
    x = torch.as_tensor(make_input((2, 5, 6)))
    mha(x, x)
    grads = []
    for scores in (False, True):
        mha.zero_grad()
        out = mha(x, x, return_attention_scores=scores, use_causal_mask=True)
        (out[0] if scores else out).square().sum().backward()
        grads.append([w.value.grad.clone() for w in mha.weights])
    for a, b in zip(*grads, strict=True):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-4)


def _sdpa_kernels(fn):
    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as prof:
        fn()
    return {e.key for e in prof.key_averages() if "scaled_dot_product" in e.key}


def test_flash_attention_switches():
    x = torch.as_tensor(make_input((2, 8, 16)))
    assert lamina.backend.is_flash_attention_enabled() is None
    default = layers.MultiHeadAttention(num_heads=2, key_dim=8)
    assert "aten::_scaled_dot_product_flash_attention_for_cpu" in _sdpa_kernels(lambda: default(x, x))
    lamina.backend.disable_flash_attention()
    try:
        assert lamina.backend.is_flash_attention_enabled() is False
        off = layers.MultiHeadAttention(num_heads=2, key_dim=8)
        off(x, x)
        off.set_weights(default.get_weights())
        kernels = _sdpa_kernels(lambda: off(x, x))
        assert "aten::_scaled_dot_product_flash_attention_for_cpu" not in kernels
        assert "aten::_scaled_dot_product_attention_math" in kernels
        torch.testing.assert_close(off(x, x), default(x, x), atol=1e-5, rtol=1e-5)
    finally:
        lamina.backend.enable_flash_attention()
    assert lamina.backend.is_flash_attention_enabled() is None
    forced = layers.MultiHeadAttention(num_heads=2, key_dim=8, flash_attention=True)
    forced(x, x)
    with pytest.raises(ValueError, match=r"multi_head_attention_\d+.*return_attention_scores=False"):
        forced(x, x, return_attention_scores=True)
    with pytest.raises(ValueError, match="MultiHeadAttention expects `dropout` to be 0.0 with flash_attention=True"):
        layers.MultiHeadAttention(num_heads=2, key_dim=8, flash_attention=True, dropout=0.1)


# ---------------------------------------------------------------------------- bad input
def test_mha_bad_arguments_and_inputs_name_the_layer():
    with pytest.raises(
        ValueError, match=r"MultiHeadAttention expects `num_heads` to be a positive integer.*num_heads=0"
    ):
        layers.MultiHeadAttention(num_heads=0, key_dim=2)
    with pytest.raises(ValueError, match=r'Layer "att" \(MultiHeadAttention\) expects `key_dim`.*key_dim=2.5'):
        layers.MultiHeadAttention(num_heads=2, key_dim=2.5, name="att")
    mha = layers.MultiHeadAttention(num_heads=2, key_dim=3, name="att")
    with pytest.raises(ValueError, match=r'"att" \(MultiHeadAttention\) expects `value` and `key` of equal shapes'):
        mha(Q, V, make_input((2, 4, 4)))
    mha(Q, V)
    with pytest.raises(
        ValueError, match=r'"att".*attention_mask of shape \(2, 5, 6\).*received attention_mask.shape=\(2, 5, 5\)'
    ):
        mha(Q, V, attention_mask=np.ones((2, 5, 5), bool))
    with pytest.raises(ValueError, match=r"attention_mask.shape=\(6,\)"):
        mha(Q, V, attention_mask=np.ones((6,), bool))
    with pytest.raises(TypeError, match=r'"att" \(MultiHeadAttention\) expects `query` and `value` tensors'):
        mha(Q)
    with pytest.raises(ValueError, match="rank >= 3"):
        layers.MultiHeadAttention(num_heads=2, key_dim=3)(np.ones((2, 4), "float32"), np.ones((2, 4), "float32"))


def test_mha_symbolic_outputs_and_scores_shapes():
    q, v = lamina.Input((5, 4)), lamina.Input((7, 3))
    out, scores = layers.MultiHeadAttention(num_heads=3, key_dim=2, output_shape=6)(q, v, return_attention_scores=True)
    assert out.shape == (None, 5, 6) and scores.shape == (None, 3, 5, 7)
    model = lamina.Model([q, v], [out, scores])
    got = model([make_input((2, 5, 4)), make_input((2, 7, 3))])
    assert [tuple(t.shape) for t in got] == [(2, 5, 6), (2, 3, 5, 7)]


def test_mha_mixed_precision_runs_the_fused_path_in_bfloat16():
    mha = layers.MultiHeadAttention(num_heads=2, key_dim=4, dtype="mixed_bfloat16")
    x = torch.as_tensor(make_input((2, 6, 8)))
    out = mha(x, x)
    assert out.dtype == torch.bfloat16 and all(w.dtype == torch.float32 for w in mha.weights)


# ---------------------------------------------------------------------------- GroupQueryAttention
@pytest.mark.parametrize(
    "kwargs, call_kwargs",
    [
        ({"head_dim": 2, "num_query_heads": 4, "num_key_value_heads": 2}, {}),
        ({"head_dim": 3, "num_query_heads": 2, "num_key_value_heads": 1, "use_bias": False}, {}),
        ({"head_dim": 2, "num_query_heads": 4, "num_key_value_heads": 4}, {"use_causal_mask": True}),
        ({"head_dim": 2, "num_query_heads": 4, "num_key_value_heads": 2, "dropout": 0.2, "use_gate": True}, {}),
    ],
)
def test_gqa_harness(kwargs, call_kwargs):
    run_layer_test(
        layers.GroupQueryAttention, kwargs, None, input_data=Q, extra_inputs={"value": V}, call_kwargs=call_kwargs
    )


def test_gqa_masks_causal_and_weights_match_keras():
    gqa = layers.GroupQueryAttention(head_dim=2, num_query_heads=4, num_key_value_heads=2, sliding_window=3)
    gqa(Q, Q)
    _randomize(gqa)
    mask = np.random.default_rng(2).random((2, 5, 5)) > 0.3
    _assert_parity(gqa, Q, Q, attention_mask=mask)
    _assert_parity(gqa, Q, Q, use_causal_mask=True, return_attention_scores=True)
    assert [w.path for w in gqa.weights][::2] == [
        "grouped_query_attention/query/kernel",
        "grouped_query_attention/key/kernel",
        "grouped_query_attention/value/kernel",
        "grouped_query_attention/attention_output/kernel",
    ]
    assert lamina.serialization.serialize_keras_object(gqa)["class_name"] == "GroupQueryAttention"


def test_gqa_bad_input_names_layer_expected_and_received():
    with pytest.raises(ValueError, match=r"expects `num_key_value_heads` to be a divisor of num_query_heads=4.*=3"):
        layers.GroupQueryAttention(head_dim=2, num_query_heads=4, num_key_value_heads=3)
    gqa = layers.GroupQueryAttention(head_dim=2, num_query_heads=2, num_key_value_heads=1, name="gqa")
    with pytest.raises(ValueError, match=r'"gqa" \(GroupedQueryAttention\) expects query and value with the same last'):
        gqa(Q, make_input((2, 6, 3)))
    gqa(Q, V)
    with pytest.raises(ValueError, match=r'"gqa".*received attention_mask.shape=\(2, 6, 5\)'):
        gqa(Q, V, attention_mask=np.ones((2, 6, 5), bool))


# ---------------------------------------------------------------------------- Attention, AdditiveAttention
@pytest.mark.parametrize(
    "cls, kwargs, call_kwargs",
    [
        (layers.Attention, {}, {}),
        (layers.Attention, {"use_scale": True}, {}),
        (layers.Attention, {"score_mode": "concat", "use_scale": True}, {"use_causal_mask": True}),
        (layers.Attention, {"dropout": 0.2, "seed": 3}, {"use_causal_mask": True}),
        (layers.AdditiveAttention, {}, {}),
        (layers.AdditiveAttention, {"use_scale": False}, {"use_causal_mask": True}),
    ],
)
def test_attention_harness(cls, kwargs, call_kwargs):
    x = [Q, V, make_input((2, 6, 4), seed=5)] if cls is layers.AdditiveAttention else [Q, V]
    run_layer_test(cls, kwargs, None, input_data=x, call_kwargs=call_kwargs)


@pytest.mark.parametrize("cls", [layers.Attention, layers.AdditiveAttention])
def test_attention_masks_match_keras(cls):
    layer = cls(use_scale=True)
    layer([Q, V])
    _randomize(layer)
    q_mask = np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]], bool)
    v_mask = np.array([[1, 1, 0, 0, 0, 0], [1, 1, 1, 1, 1, 0]], bool)
    k = keras()
    klayer = keras_layer_from_config(cls.__name__, layer.get_config())
    klayer([k.ops.convert_to_tensor(Q), k.ops.convert_to_tensor(V)])
    klayer.set_weights(layer.get_weights())
    for call_kwargs in ({}, {"return_attention_scores": True}, {"use_causal_mask": True}):
        ours = layer([Q, V], mask=[q_mask, v_mask], **call_kwargs)
        theirs = klayer(
            [k.ops.convert_to_tensor(Q), k.ops.convert_to_tensor(V)],
            mask=[k.ops.convert_to_tensor(q_mask), k.ops.convert_to_tensor(v_mask)],
            **call_kwargs,
        )
        ours_l = ours if isinstance(ours, tuple) else (ours,)
        theirs_l = theirs if isinstance(theirs, tuple) else (theirs,)
        assert len(ours_l) == len(theirs_l)
        for o, t in zip(ours_l, theirs_l, strict=True):
            np.testing.assert_allclose(to_numpy(o), to_numpy(t), atol=1e-5)


def test_attention_takes_masks_from_its_inputs_and_keeps_the_query_mask():
    emb = layers.Embedding(10, 4, mask_zero=True)
    ids = torch.as_tensor(_masked_ids())
    q = emb(ids)
    out = layers.Attention()([q, emb(ids)])
    assert torch.equal(out._keras_mask, ids != 0)
    assert torch.equal(out[0, 3:], torch.zeros(3, 4))  # masked query positions give zeros


def test_attention_bad_input_names_the_layer():
    att = layers.Attention(name="att")
    with pytest.raises(ValueError, match=r'"att" \(Attention\) expects a list of inputs \[query, value\]'):
        att(torch.ones(2, 3, 4))
    with pytest.raises(ValueError, match=r'"att" \(Attention\) expects a list of 2 or 3 inputs'):
        att([torch.ones(2, 3, 4)])
    with pytest.raises(ValueError, match=r"query and key with the same last dimension.*\(2, 3, 4\).*\(2, 5, 3\)"):
        att([torch.ones(2, 3, 4), torch.ones(2, 5, 3)])
    with pytest.raises(ValueError, match=r"Attention expects `score_mode` to be one of.*score_mode='cosine'"):
        layers.Attention(score_mode="cosine")
