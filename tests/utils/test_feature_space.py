"""``keras.utils.FeatureSpace`` without TensorFlow, against Keras's recorded outputs, configs and files.

Keras's FeatureSpace adapts through ``tf.data``: ``tests/fixtures/make_text_preprocessing.py keras`` ran it
(TensorFlow backend) on ``feature_space_cases()`` and recorded outputs, encoded shapes and configs. Lamina
reads the same data as a dict of arrays, or a list of dict batches where Keras had a batched dataset.
"""

import json
import os

import numpy as np
import pandas as pd
import pytest
import torch

import lamina
from lamina.utils import FeatureSpace
from tests.fixtures import make_text_preprocessing as fx

with open(os.path.join(fx.HERE, "feature_space.json"), encoding="utf-8") as _f:
    CASES = {case["id"]: case for case in json.load(_f)["cases"]}


def _adapted(case):
    fs = fx.make_feature_space(case, lamina)
    adapt = case["adapt"]
    if "batches" in adapt:
        fs.adapt([fx.feature_space_inputs(b) for b in adapt["batches"]])
    else:
        fs.adapt(fx.feature_space_inputs(adapt))
    return fs


@pytest.mark.parametrize("case_id", sorted(CASES))
def test_same_as_keras(case_id):
    case = CASES[case_id]
    fs = _adapted(case)
    out = fs(fx.feature_space_inputs(case["call"]))
    want = case["output"]
    if "value" not in want:  # dict mode
        assert sorted(out) == sorted(want)
        for key in want:
            assert fx.encode(out[key])["dtype"] == want[key]["dtype"]
            np.testing.assert_array_equal(out[key].numpy(), fx.decode(want[key]), err_msg=key)
    else:
        assert fx.encode(out)["dtype"] == want["dtype"]
        np.testing.assert_allclose(out.numpy(), fx.decode(want), atol=1e-5)
    encoded = fs.get_encoded_features()
    shapes = {k: list(v.shape) for k, v in encoded.items()} if isinstance(encoded, dict) else list(encoded.shape)
    assert shapes == case["encoded_shape"]
    assert json.loads(json.dumps(fs.get_config())) == case["config"]


def test_adapt_from_a_dataloader_of_dict_batches_and_a_generator():
    case = CASES["fs_batched_adapt"]
    batches = [fx.feature_space_inputs(b) for b in case["adapt"]["batches"]]
    from_list = _adapted(case)
    from_gen = fx.make_feature_space(case, lamina)
    from_gen.adapt(iter(batches))
    rows = [{k: v[i] for k, v in batches[0].items()} for i in range(8)]
    rows += [{k: v[i] for k, v in b.items()} for b in batches[1:] for i in range(8)]
    from_loader = fx.make_feature_space(case, lamina)
    from_loader.adapt(torch.utils.data.DataLoader(rows, batch_size=8))
    query = fx.feature_space_inputs(case["call"])
    np.testing.assert_allclose(from_gen(query).numpy(), from_list(query).numpy())
    np.testing.assert_allclose(from_loader(query).numpy(), from_list(query).numpy(), atol=1e-6)


def test_save_and_load_feature_space_and_a_model_on_it(tmp_path):
    case = CASES["fs_concat_all"]
    fs = _adapted(case)
    query = fx.feature_space_inputs(case["call"])
    fs.save(tmp_path / "fs.keras")
    loaded = lamina.saving.load_model(tmp_path / "fs.keras")
    assert isinstance(loaded, FeatureSpace)
    np.testing.assert_allclose(loaded(query).numpy(), fs(query).numpy())
    inputs = fs.get_inputs()
    assert sorted(inputs) == sorted(case["features"]) and all(t.shape == (None, 1) for t in inputs.values())
    model = lamina.Model(inputs, lamina.layers.Dense(1)(fs.get_encoded_features()))
    model.save(tmp_path / "model.keras")
    again = lamina.saving.load_model(tmp_path / "model.keras")
    batch = {k: v[:, None] for k, v in query.items()}
    np.testing.assert_allclose(again(batch).detach().numpy(), model(batch).detach().numpy(), atol=1e-6)


def test_structured_data_classification_with_feature_space():
    # keras.io "Structured data classification with FeatureSpace", on a small generated frame: pandas in,
    # adapt on the features, a training model on the encoded features, an inference model on raw dicts
    rng = np.random.default_rng(0)
    n = 64
    dataframe = pd.DataFrame(
        {
            "sex": rng.integers(0, 2, n),
            "cp": rng.integers(0, 4, n),
            "thal": rng.choice(["fixed", "normal", "reversible"], n),
            "age": rng.integers(30, 70, n).astype("float32"),
            "oldpeak": rng.uniform(0, 4, n).astype("float32"),
            "target": rng.integers(0, 2, n),
        }
    )
    labels = dataframe.pop("target").to_numpy("float32")
    feature_space = FeatureSpace(
        features={
            "sex": FeatureSpace.integer_categorical(num_oov_indices=0),
            "cp": FeatureSpace.integer_categorical(num_oov_indices=0),
            "thal": FeatureSpace.string_categorical(num_oov_indices=0),
            "age": FeatureSpace.float_discretized(num_bins=5),
            "oldpeak": FeatureSpace.float_normalized(),
        },
        crosses=[FeatureSpace.cross(feature_names=("sex", "age"), crossing_dim=8 * 5)],
        output_mode="concat",
    )
    feature_space.adapt(dict(dataframe))
    dict_inputs = feature_space.get_inputs()
    encoded_features = feature_space.get_encoded_features()
    x = lamina.layers.Dense(8, activation="relu")(encoded_features)
    predictions = lamina.layers.Dense(1, activation="sigmoid")(x)
    training_model = lamina.Model(inputs=encoded_features, outputs=predictions)
    training_model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    inference_model = lamina.Model(inputs=dict_inputs, outputs=predictions)
    preprocessed = feature_space(dict(dataframe))
    history = training_model.fit(preprocessed, labels, epochs=2, batch_size=16, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    sample = {k: np.asarray([v]) for k, v in dataframe.iloc[0].to_dict().items()}
    prob = inference_model.predict(sample, verbose=0)
    assert prob.shape == (1, 1) and 0.0 <= float(prob[0, 0]) <= 1.0
    np.testing.assert_allclose(prob, training_model.predict(feature_space(sample), verbose=0), atol=1e-6)


def test_bad_input():
    with pytest.raises(ValueError, match=r"The `features` argument cannot be None or empty"):
        FeatureSpace({})
    with pytest.raises(ValueError, match=r"Invalid feature type: fancy"):
        FeatureSpace({"a": "fancy"})
    with pytest.raises(
        ValueError, match=r"should be present in the `features` dict. Received unknown features: \('a', 'z'\)"
    ):
        FeatureSpace({"a": "float"}, crosses=[("a", "z")])
    with pytest.raises(ValueError, match=r"Expected one of \{'dict', 'concat'\}. Received: output_mode=list"):
        FeatureSpace({"a": "float"}, output_mode="list")
    fs = FeatureSpace({"a": "string_categorical"})
    with pytest.raises(ValueError, match=r"You need to call `.adapt\(dataset\)` on the FeatureSpace"):
        fs({"a": ["x"]})
    with pytest.raises(
        ValueError, match=r"expects the feature 'a' in the data passed to adapt\(\), but received only \['b'\]"
    ):
        fs.adapt({"b": ["x"]})
    with pytest.raises(ValueError, match=r"can only be called on a dataset of dicts or a dict"):
        fs.adapt(3)
    fs.adapt({"a": ["x", "y"]})
    with pytest.raises(ValueError, match=r"A FeatureSpace can only be called with a dict"):
        fs(["x"])
    ints = FeatureSpace({"a": FeatureSpace.string_categorical(output_mode="int")})
    with pytest.raises(ValueError, match=r"Cannot concatenate features because feature 'a' has not been encoded"):
        ints.adapt({"a": ["x"]})
    floats = FeatureSpace(
        {"a": FeatureSpace.feature(dtype="float32", preprocessor=lamina.layers.Rescaling(2.0), output_mode="one_hot")}
    )
    with pytest.raises(
        ValueError, match=r"Feature 'a' has `output_mode='one_hot'`. Thus its preprocessor should return an integer"
    ):
        floats.get_encoded_features()
