"""ReversibleEmbedding: harness both directions, tied and untied weights, soft cap, masks, Keras parity."""

import numpy as np
import pytest
import torch

import lamina
from lamina import layers
from tests.layers.harness import keras_layer_from_config, make_input, run_layer_test, to_numpy


@pytest.mark.parametrize(
    "kwargs",
    [
        {"input_dim": 10, "output_dim": 4},
        {"input_dim": 10, "output_dim": 4, "tie_weights": False, "mask_zero": True},
    ],
)
def test_reversible_embedding_forward_harness(kwargs):
    run_layer_test(layers.ReversibleEmbedding, kwargs, (2, 5), input_dtype="int32")


@pytest.mark.parametrize(
    "kwargs",
    [
        {"input_dim": 10, "output_dim": 4},
        {"input_dim": 12, "output_dim": 4, "tie_weights": False, "logit_soft_cap": 2.0},
        {"input_dim": 10, "output_dim": 4, "reverse_dtype": "float32"},
    ],
)
def test_reverse_matches_keras_and_trains(kwargs):
    # (the harness calls without `reverse`, whose output shape compute_output_shape(shape) cannot know)
    import keras

    emb = layers.ReversibleEmbedding(**kwargs)
    ids = make_input((2, 5), "int32")
    emb(ids)
    rng = np.random.default_rng(0)
    for w in emb.weights:
        w.assign(rng.standard_normal(w.shape).astype("float32"))
    hidden = torch.as_tensor(make_input((2, 5, 4), seed=2))
    logits = emb(hidden, reverse=True)
    assert logits.shape == (2, 5, kwargs["input_dim"])
    twin = keras_layer_from_config("ReversibleEmbedding", emb.get_config())
    twin(keras.ops.convert_to_tensor(ids))
    twin.set_weights(emb.get_weights())
    expected = twin(keras.ops.convert_to_tensor(to_numpy(hidden)), reverse=True)
    np.testing.assert_allclose(to_numpy(logits), to_numpy(expected), atol=1e-5)
    logits.sum().backward()
    table = emb.embeddings if emb.tie_weights else emb.reverse_embeddings
    assert table.grad is not None and float(table.grad.abs().sum()) > 0


def test_reverse_uses_the_tied_table_and_matches_keras():
    import keras

    emb = layers.ReversibleEmbedding(10, 4, logit_soft_cap=3.0)
    ids = make_input((2, 5), "int32")
    hidden = emb(ids)
    emb.embeddings.data.normal_()
    hidden = emb(ids)
    logits = emb(hidden, reverse=True)
    raw = hidden @ emb.embeddings.t()
    torch.testing.assert_close(logits, torch.tanh(raw / 3.0) * 3.0)
    twin = keras_layer_from_config("ReversibleEmbedding", emb.get_config())
    twin(keras.ops.convert_to_tensor(ids))
    twin.set_weights(emb.get_weights())
    np.testing.assert_allclose(
        to_numpy(logits), to_numpy(twin(twin(keras.ops.convert_to_tensor(ids)), reverse=True)), atol=1e-5
    )
    assert [w.path for w in emb.weights] == ["reversible_embedding/embeddings"]


def test_untied_weights_mask_and_symbolic_shapes():
    emb = layers.ReversibleEmbedding(7, 3, tie_weights=False, mask_zero=True)
    ids = torch.tensor([[1, 0, 2]])
    hidden = emb(ids)
    assert torch.equal(hidden._keras_mask, ids != 0)
    logits = emb(hidden, reverse=True)
    assert getattr(logits, "_keras_mask", None) is None
    assert [(w.name, w.shape) for w in emb.weights] == [("embeddings", (7, 3)), ("reverse_embeddings", (3, 7))]
    inp = lamina.Input((5,), dtype="int32")
    sym_hidden = emb(inp)
    assert sym_hidden.shape == (None, 5, 3) and emb(sym_hidden, reverse=True).shape == (None, 5, 7)


def test_initial_weights_argument_counts_the_reverse_table():
    table, reverse = np.ones((5, 2), "float32"), np.zeros((2, 5), "float32")
    emb = layers.ReversibleEmbedding(5, 2, tie_weights=False, weights=[table, reverse])
    assert np.array_equal(emb.get_weights()[1], reverse)
    with pytest.raises(ValueError, match=r'"reversible_embedding_\d+" \(ReversibleEmbedding\) expects 2 weight arrays'):
        layers.ReversibleEmbedding(5, 2, tie_weights=False, weights=[table])
