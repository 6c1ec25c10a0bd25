"""StringLookup and IntegerLookup: the shared harness, every output mode, invert, saving, and bad input.

Keras's outputs for these layers need TensorFlow; ``test_text_layers_parity.py`` compares every mode
with Keras's recorded outputs. Here: the harness, behaviours around the numbers, and the errors.
"""

import numpy as np
import pytest
import torch

import lamina
from lamina import layers
from tests.layers.harness import run_layer_test

WORDS = np.array([["a", "b", "q"], ["c", "a", "a"]])
INTS = np.array([[12, 36, 5], [1138, 42, 12]])


@pytest.mark.parametrize(
    "kwargs",
    [
        {"vocabulary": ["a", "b", "c"]},
        {"vocabulary": ["a", "b", "c"], "mask_token": "", "num_oov_indices": 2},
        {"vocabulary": ["a", "b", "c"], "output_mode": "one_hot"},
        {"vocabulary": ["a", "b", "c"], "output_mode": "multi_hot"},
        {"vocabulary": ["a", "b", "c"], "output_mode": "count", "max_tokens": 6, "pad_to_max_tokens": True},
        {"vocabulary": ["a", "b", "c"], "output_mode": "tf_idf", "idf_weights": [1.0, 2.0, 3.0]},
    ],
)
def test_string_lookup_harness(kwargs):
    # Keras needs TensorFlow for this layer (fixture parity instead of live parity); a lookup has no float
    # gradient, so the training check only runs where the output is float (tf_idf). The mixed-precision check
    # compares with the symbolic dtype, which for one_hot/multi_hot/count is Keras's float32 while the eager
    # output is Keras's int64: it runs for int and tf_idf.
    mode = kwargs.get("output_mode", "int")
    run_layer_test(
        layers.StringLookup,
        kwargs,
        WORDS.shape,
        input_dtype="string",
        input_data=WORDS,
        keras_parity=False,
        run_mixed_precision_check=mode in ("int", "tf_idf"),
    )


@pytest.mark.parametrize(
    "kwargs",
    [
        {"vocabulary": [12, 36, 1138, 42]},
        {"vocabulary": [12, 36, 1138, 42], "mask_token": 0, "num_oov_indices": 3},
        {"vocabulary": [12, 36, 1138, 42], "output_mode": "multi_hot"},
        {"vocabulary": [12, 36, 1138, 42], "output_mode": "tf_idf", "idf_weights": [1.0, 2.0, 3.0, 4.0]},
        {"vocabulary": [12, 36, 1138, 42], "invert": True},
    ],
)
def test_integer_lookup_harness(kwargs):
    # no live Keras parity: Keras needs TensorFlow for this layer; see test_string_lookup_harness for the rest
    data = np.array([[1, 2, 9], [0, 4, 3]]) if kwargs.get("invert") else INTS
    run_layer_test(
        layers.IntegerLookup,
        kwargs,
        data.shape,
        input_dtype="int64",
        input_data=data,
        keras_parity=False,
        run_mixed_precision_check=kwargs.get("output_mode", "int") in ("int", "tf_idf"),
    )


def test_string_invert_returns_numpy_strings():
    layer = layers.StringLookup(vocabulary=["a", "b"], invert=True, mask_token="")
    out = layer(torch.tensor([[0, 1, 2, 3, 7]]))
    assert isinstance(out, np.ndarray) and out.tolist() == [["", "[UNK]", "a", "b", "[UNK]"]]
    assert layer.get_vocabulary() == ["", "[UNK]", "a", "b"]


def test_round_trip_string_lookup_and_invert():
    vocab = ["x", "y", "z"]
    forward = layers.StringLookup(vocabulary=vocab)
    back = layers.StringLookup(vocabulary=vocab, invert=True)
    words = np.array([["z", "x"], ["y", "nope"]])
    assert back(forward(words)).tolist() == [["z", "x"], ["y", "[UNK]"]]


def test_integer_lookup_keeps_large_ids_exact_and_runs_in_torch():
    big = 2**53 + 1  # not representable in float64: the lookup must never pass through floats
    layer = layers.IntegerLookup(vocabulary=[big, 7])
    assert layer(torch.tensor([[big, 7, big - 1]])).tolist() == [[1, 2, 0]]
    inputs = lamina.Input(shape=(3,), dtype="int64")
    model = lamina.Model(inputs, layer(inputs))
    assert model(np.array([[big, 7, 3]])).tolist() == [[1, 2, 0]]


def test_bytes_inputs_are_decoded():
    layer = layers.StringLookup(vocabulary=["é", "b"])
    assert layer(np.array([["é".encode(), b"b", b"z"]])).tolist() == [[1, 2, 0]]


def test_adapt_counts_and_tie_order():
    layer = layers.StringLookup()
    layer.adapt(np.array(["b", "a", "c", "a", "b", "d"]))  # a:2 b:2 c:1 d:1 -> ties by token, descending
    assert layer.get_vocabulary() == ["[UNK]", "b", "a", "d", "c"]
    ints = layers.IntegerLookup(max_tokens=3)
    ints.adapt([5, 5, 9, 9, 1])
    assert ints.get_vocabulary() == [-1, 9, 5]


def test_tf_idf_saves_idf_weights_in_the_layer_vars(tmp_path):
    layer = layers.StringLookup(output_mode="tf_idf")
    layer.adapt(np.array([["a", "b"], ["a", "c"]]))
    inputs = lamina.Input(shape=(2,), dtype="string")
    model = lamina.Model(inputs, layer(inputs))
    path = tmp_path / "m.keras"
    model.save(path)
    import io
    import zipfile

    import h5py

    with zipfile.ZipFile(path) as zf:
        names = zf.namelist()
        h5 = h5py.File(io.BytesIO(zf.read("model.weights.h5")))
        idf = h5["layers/string_lookup/vars/idf_weights"][()]
        assert zf.read("assets/layers/string_lookup/vocabulary.txt") == b"[UNK]\na\nc\nb"
    np.testing.assert_allclose(idf, layer.idf_weights.numpy())
    assert names[:3] == ["metadata.json", "config.json", "model.weights.h5"]
    loaded = lamina.saving.load_model(path)
    x = np.array([["a", "c"], ["zz", "b"]])
    np.testing.assert_array_equal(loaded(x).numpy(), model(x).numpy())


def test_bad_input():
    strings = layers.StringLookup(vocabulary=["a"])
    with pytest.raises(TypeError, match=r'"string_lookup.*" \(StringLookup\) expects string inputs.*int64'):
        strings(np.array([1, 2]))
    ints = layers.IntegerLookup(vocabulary=[1])
    with pytest.raises(TypeError, match=r'"integer_lookup.*" \(IntegerLookup\) expects (numeric|integer) inputs.*U1'):
        ints(np.array(["a"]))
    with pytest.raises(ValueError, match=r"StringLookup\) expects every input in its vocabulary.*\['z'\]"):
        layers.StringLookup(vocabulary=["a"], num_oov_indices=0)(np.array(["a", "z"]))
    with pytest.raises(ValueError, match=r"StringLookup\): the passed vocabulary has at least one repeated term.*'a'"):
        layers.StringLookup(vocabulary=["a", "b", "a"])
    with pytest.raises(
        ValueError, match=r"reserved mask token at unexpected location.*mask_token=M at vocabulary index \[1\]"
    ):
        layers.StringLookup(vocabulary=["a", "M"], mask_token="M")
    with pytest.raises(ValueError, match=r"reserved OOV token at unexpected location.*oov_token=\[UNK\]"):
        layers.StringLookup(vocabulary=["a", "[UNK]"], invert=True)
    with pytest.raises(ValueError, match=r"StringLookup\) cannot adapt on empty data"):
        layers.StringLookup().adapt(np.array([], dtype=str))
    with pytest.raises(ValueError, match=r"Cannot set an empty vocabulary"):
        layers.StringLookup(vocabulary=[])
    with pytest.raises(ValueError, match=r"larger than the maximum vocab size. Received vocabulary size is 4"):
        layers.StringLookup(vocabulary=["a", "b", "c"], max_tokens=3)
    with pytest.raises(ValueError, match=r"`output_mode` must be `'int'` when `invert` is true"):
        layers.StringLookup(invert=True, output_mode="count")
    with pytest.raises(ValueError, match=r"`idf_weights` must be set if output_mode is 'tf_idf'|idf_weights` argument"):
        layers.StringLookup(vocabulary=["a"], output_mode="tf_idf")
    with pytest.raises(ValueError, match=r"`salt` can only be used when `oov_method='farmhash'`"):
        layers.IntegerLookup(salt=3)
    with pytest.raises(ValueError, match=r"Only `vocabulary_dtype='int64'` is supported"):
        layers.IntegerLookup(vocabulary_dtype="int32")
    with pytest.raises(ValueError, match=r"`sparse=True` can only be used with the TensorFlow backend"):
        layers.StringLookup(output_mode="count", sparse=True)
    with pytest.raises(ValueError, match=r"Vocabulary file .*missing.txt does not exist"):
        layers.StringLookup(vocabulary="/nonexistent/missing.txt")
