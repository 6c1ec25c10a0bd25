"""Text through ``fit``/``evaluate``/``predict``: string arrays, lists of strings and text datasets.

Text stays on the host as NumPy object arrays (torch has no string dtype); batching, shuffling and
``validation_split`` treat it like any array, and the model hands it to its text layers.
"""

import numpy as np
import pytest
import torch

import lamina
from lamina import layers
from lamina.trainers import data_adapters

WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]


def _echo_model():
    """Maps each word to its number: ``y_pred`` shows which text reached which label in a batch."""
    inputs = lamina.Input(shape=(1,), dtype="string")
    ids = layers.StringLookup(vocabulary=WORDS, num_oov_indices=0)(inputs)
    out = layers.Lambda(lambda t: t.float() - 0.0 * t.float())(ids)
    model = lamina.Model(inputs, out)
    return model


def test_array_adapter_batches_and_shuffles_text_with_its_labels():
    x = np.array([[w] for w in WORDS])
    y = np.arange(10, dtype="float32")[:, None]
    adapter = data_adapters.get_data_adapter(x, y, batch_size=4, shuffle=True)
    seen = []
    for bx, by in adapter.epoch_iterator(0):
        assert isinstance(bx, np.ndarray) and bx.dtype == object and isinstance(by, torch.Tensor)
        seen += [(WORDS.index(w), int(v)) for w, v in zip(bx[:, 0], by[:, 0].tolist(), strict=True)]
    assert sorted(seen) == [(i, i) for i in range(10)]
    assert [s[0] for s in seen] != list(range(10))  # shuffled


def test_fit_evaluate_predict_on_arrays_and_lists():
    model = _echo_model()
    model.compile(optimizer="sgd", loss="mse")
    x = np.array([[w] for w in WORDS])
    y = np.arange(10, dtype="float32")[:, None]
    # every text reaches its own label: the loss is exactly 0 whatever the batching and shuffling
    history = model.fit(x, y, batch_size=3, epochs=2, shuffle=True, validation_split=0.2, verbose=0)
    assert history.history["loss"] == [0.0, 0.0] and history.history["val_loss"] == [0.0, 0.0]
    assert model.evaluate(list(WORDS), y, batch_size=4, verbose=0) == 0.0
    assert model.predict(WORDS, batch_size=4, verbose=0).ravel().tolist() == list(range(10))
    assert model.predict(np.array(WORDS[:2]), verbose=0).ravel().tolist() == [0.0, 1.0]  # small: one batch


def test_dataloader_of_text_and_text_dataset_from_directory(tmp_path):
    model = _echo_model()
    model.compile(optimizer="sgd", loss="mse")
    pairs = [(w, float(i)) for i, w in enumerate(WORDS)]
    loader = torch.utils.data.DataLoader(pairs, batch_size=4, shuffle=True)  # collates texts into lists
    assert model.evaluate(loader, verbose=0) == 0.0
    for i, w in enumerate(WORDS[:4]):
        folder = tmp_path / f"c{i}"
        folder.mkdir()
        (folder / "t.txt").write_text(w)
    ds = lamina.utils.text_dataset_from_directory(tmp_path, batch_size=3, shuffle=True, seed=1)
    assert model.evaluate(ds.map(lambda x, y: (x, y.float())), verbose=0) == 0.0
    assert sorted(model.predict(ds.map(lambda x, y: x), verbose=0).ravel().tolist()) == [0.0, 1.0, 2.0, 3.0]


def test_train_on_batch_with_text():
    model = _echo_model()
    model.compile(optimizer="sgd", loss="mse")
    assert model.train_on_batch(np.array(["one", "two"]), np.array([1.0, 2.0])) == 0.0


def test_non_text_objects_are_still_refused():
    with pytest.raises(TypeError, match=r"Data of dtype object cannot be used for training"):
        data_adapters.get_data_adapter(np.array([{"a": 1}, None], dtype=object), np.zeros(2))


def test_models_pass_text_on_but_numeric_layers_refuse_it():
    inputs = lamina.Input(shape=(2,))
    model = lamina.Model(inputs, layers.Dense(1)(inputs))
    with pytest.raises(
        TypeError, match=r'"dense.*" \(Dense\) expects numeric inputs, but received an array of dtype <U1'
    ):
        model(np.array([["a", "b"]]))
