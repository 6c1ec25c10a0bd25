"""TextVectorization: the shared harness, adapt sources, vocabulary API, callables and bad input.

Outputs and vocabularies equal Keras's: ``test_text_layers_parity.py`` checks them against Keras's
recorded outputs (Keras needs TensorFlow for this layer, so there is no live Keras parity here).
"""

import numpy as np
import pytest
import torch

import lamina
from lamina import layers
from tests.layers.harness import run_layer_test

TEXTS = np.array([["The cat sat."], ["A dog, a cat!"], ["nothing known"]])
VOCAB = ["a", "cat", "dog", "the", "sat"]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"vocabulary": VOCAB, "output_sequence_length": 4},
        {"vocabulary": VOCAB, "output_mode": "multi_hot"},
        {"vocabulary": VOCAB, "output_mode": "count", "ngrams": 2},
        {"vocabulary": VOCAB, "output_mode": "tf_idf", "idf_weights": [0.5, 1.0, 1.5, 2.0, 2.5]},
    ],
)
def test_harness(kwargs):
    # Keras runs this layer only with TensorFlow: no live Keras parity (the fixture parity covers it).
    # The mixed-precision check compares with the symbolic dtype, which for bag-of-words modes is Keras's
    # float32 while the eager output is int64 (as Keras's own eager output): it runs for int and tf_idf.
    mixed = kwargs.get("output_mode", "int") in ("int", "tf_idf")
    run_layer_test(
        layers.TextVectorization,
        kwargs,
        TEXTS.shape,
        input_dtype="string",
        input_data=TEXTS,
        keras_parity=False,
        run_mixed_precision_check=mixed,
    )


def test_adapt_sources_give_the_same_vocabulary():
    texts = ["b a c", "a b", "a", "d d d d"]
    from_array = layers.TextVectorization()
    from_array.adapt(np.array(texts))
    from_list = layers.TextVectorization()
    from_list.adapt(texts)
    from_batches = layers.TextVectorization()
    from_batches.adapt(iter([np.array(texts[:2]), np.array(texts[2:])]))
    from_loader = layers.TextVectorization()
    from_loader.adapt(torch.utils.data.DataLoader(texts, batch_size=3))
    expected = ["", "[UNK]", "d", "a", "b", "c"]  # counts 4, 3, 2, 1
    for layer in (from_array, from_list, from_batches, from_loader):
        assert layer.get_vocabulary() == expected
    assert from_array.vocabulary_size() == 6
    assert from_array.get_vocabulary(include_special_tokens=False) == ["d", "a", "b", "c"]


def test_adapt_on_text_dataset_from_directory(tmp_path):
    for label, text in (("neg", "bad movie"), ("pos", "great movie"), ("pos", "great fun")):
        folder = tmp_path / label
        folder.mkdir(exist_ok=True)
        (folder / f"{len(list(folder.iterdir()))}.txt").write_text(text)
    ds = lamina.utils.text_dataset_from_directory(tmp_path, batch_size=2, shuffle=False)
    layer = layers.TextVectorization(output_sequence_length=3)
    layer.adapt(ds.map(lambda x, y: x))
    assert layer.get_vocabulary() == ["", "[UNK]", "movie", "great", "fun", "bad"]
    texts, _ = next(iter(ds))
    assert layer(texts).tolist() == [[5, 2, 0], [3, 2, 0]]  # "bad movie", "great movie"


def test_max_tokens_keeps_the_most_frequent_and_ties_by_token_descending():
    layer = layers.TextVectorization(max_tokens=4)
    layer.adapt(["x y z", "y z", "q"])
    assert layer.get_vocabulary() == ["", "[UNK]", "z", "y"]


def test_standardize_is_ascii_lowercase_and_ascii_punctuation():
    layer = layers.TextVectorization(split=None)
    layer.set_vocabulary(["école", "naïve"])
    # tf.strings.lower leaves non-ASCII letters alone: "ÉCOLE" -> "École", not "école"
    assert layer([["ÉCOLE"], ["école!"], ["NAÏVE"], ["«naïve»"]]).tolist() == [[1], [2], [1], [1]]


def test_whitespace_split_is_ascii_whitespace_only():
    layer = layers.TextVectorization(standardize=None)
    layer.adapt(["a\tb\nc\x0bd\x0ce\rf", "g\u00a0h i\u3000j"])
    vocab = layer.get_vocabulary(include_special_tokens=False)
    assert sorted(vocab) == sorted(["a", "b", "c", "d", "e", "f", "g\u00a0h", "i\u3000j"])


def test_callable_standardize_and_split_get_numpy_strings():
    seen = []

    def standardize(x):
        seen.append((type(x), x.dtype.kind))
        return np.char.replace(np.char.lower(x), "<br />", " ")

    def split(x):
        return [s.split("-") for s in x]

    layer = layers.TextVectorization(standardize=standardize, split=split, output_sequence_length=3)
    layer.adapt(np.array(["A-B<br />-C", "a-a"]))
    assert seen[0] == (np.ndarray, "U")
    assert layer.get_vocabulary() == ["", "[UNK]", "a", "c", "b "]
    assert layer(np.array(["a-c"])).tolist() == [[2, 3, 0]]


def test_registered_callable_standardize_round_trips_through_config():
    @lamina.saving.register_keras_serializable(package="TextTest")
    def upper_only(x):
        return np.char.upper(x)

    layer = layers.TextVectorization(standardize=upper_only, vocabulary=["HI"])
    config = layer.get_config()
    assert config["standardize"]["registered_name"] == "TextTest>upper_only"
    clone = layers.TextVectorization.from_config(config)
    assert clone(["hi"]).tolist() == [[2]]


def test_vocabulary_file(tmp_path):
    path = tmp_path / "vocab.txt"
    path.write_text("the\r\ncat\ndog\n", encoding="utf-8")
    layer = layers.TextVectorization(vocabulary=str(path))
    assert layer.get_vocabulary() == ["", "[UNK]", "the", "cat", "dog"]
    assert layer.get_config()["vocabulary"] is None  # the vocabulary goes to the assets instead
    layer.set_vocabulary(["a", "b"])
    assert layer.vocabulary_size() == 4


def test_set_vocabulary_and_idf_weights():
    layer = layers.TextVectorization(output_mode="tf_idf")
    layer.set_vocabulary(["a", "b"], idf_weights=[1.0, 3.0])
    # the OOV slot gets the mean weight, as in Keras
    assert layer._lookup_layer.idf_weights.tolist() == [2.0, 1.0, 3.0]
    assert layer(["a a b z"]).tolist() == [[2.0, 2.0, 3.0]]


def test_scalar_text_and_model_with_string_input():
    layer = layers.TextVectorization(vocabulary=["a", "b"])
    assert layer("a b c").tolist() == [2, 3, 1]
    inputs = lamina.Input(shape=(1,), dtype="string")
    model = lamina.Model(inputs, layer(inputs))
    assert model(np.array(["b a"])).tolist() == [[3, 2]]  # (batch,) text feeds a (None, 1) input, as in Keras


def test_fit_on_strings_end_to_end():
    texts = np.array(["good", "bad", "good good", "bad bad"] * 4)
    labels = np.array([1, 0, 1, 0] * 4, "float32")
    vectorize = layers.TextVectorization(output_mode="multi_hot")
    vectorize.adapt(texts)
    inputs = lamina.Input(shape=(1,), dtype="string")
    model = lamina.Model(inputs, layers.Dense(1, activation="sigmoid")(vectorize(inputs)))
    model.compile("adam", "binary_crossentropy")
    history = model.fit(texts, labels, epochs=2, batch_size=4, shuffle=True, verbose=0)
    assert len(history.history["loss"]) == 2 and np.isfinite(history.history["loss"]).all()
    assert model.predict(list(texts[:3]), verbose=0).shape == (3, 1)


def test_bad_input():
    layer = layers.TextVectorization(vocabulary=["a"])
    with pytest.raises(TypeError, match=r'"text_vectorization.*" \(TextVectorization\) expects string inputs.*int64'):
        layer(np.array([[1], [2]]))
    with pytest.raises(TypeError, match=r"TextVectorization\) expects string inputs.*tensor of dtype float32"):
        layer(torch.ones(2, 1))
    with pytest.raises(ValueError, match=r"input rank must be 1 or the last shape dimension must be 1"):
        layer(np.array([["a", "b"]]))
    with pytest.raises(ValueError, match=r"Cannot adapt layer .* after setting a static vocabulary"):
        layer.adapt(["a b"])
    fresh = layers.TextVectorization()
    with pytest.raises(ValueError, match=r"TextVectorization\) cannot adapt on empty data"):
        fresh.adapt([])
    with pytest.raises(ValueError, match=r"repeated term.*\['a'\]"):
        layers.TextVectorization(vocabulary=["a", "b", "a"])
    with pytest.raises(ValueError, match=r"reserved mask token at unexpected location.*mask_token= at vocabulary"):
        layers.TextVectorization(vocabulary=["a", ""])
    with pytest.raises(ValueError, match=r"must not be set if `output_mode` is not 'int'"):
        layers.TextVectorization(output_mode="count", output_sequence_length=3)
    with pytest.raises(ValueError, match=r"Unknown value for `split` argument of TextVectorization"):
        layers.TextVectorization(split="comma")
    with pytest.raises(ValueError, match=r"`ragged=True` can only be used with the TensorFlow backend"):
        layers.TextVectorization(ragged=True)
    with pytest.raises(ValueError, match=r"must set the layer's vocabulary|expects a vocabulary before it is called"):
        layers.TextVectorization(output_mode="multi_hot")(["a"])
