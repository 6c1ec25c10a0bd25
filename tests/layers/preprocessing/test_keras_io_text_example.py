"""keras.io "Text classification from scratch", replayed by ``examples/text_classification_from_scratch.py``."""

import importlib.util
import os

import numpy as np

_PATH = os.path.join(os.path.dirname(__file__), "..", "..", "..", "examples", "text_classification_from_scratch.py")


def test_text_classification_from_scratch(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)  # the example works in its data folder
    spec = importlib.util.spec_from_file_location("text_classification_from_scratch", _PATH)
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    result = example.main(str(tmp_path))
    printed = capsys.readouterr().out
    assert "Number of batches in raw_train_ds: 8" in printed and "Epoch 3/3" in printed
    assert sorted(result["history"]) == ["accuracy", "loss", "val_accuracy", "val_loss"]
    assert all(len(v) == 3 and np.isfinite(v).all() for v in result["history"].values())
    vocab = result["vocabulary"]
    assert vocab[:2] == ["", "[UNK]"] and "superb" in vocab
    assert not any("<" in t or "." in t or "!" in t for t in vocab)  # the custom standardization ran
    # the end-to-end model (raw strings in) scores the raw test set as the model did its vectorized copy
    np.testing.assert_allclose(result["end_to_end"], result["test"], rtol=1e-5)
