"""fit / evaluate / predict behaviour a Keras user relies on, and the bad-input errors."""

import io

import numpy as np
import pytest
import torch

import lamina
from lamina import layers


def _model(units=3, d=4):
    m = lamina.Sequential([lamina.Input((d,)), layers.Dense(8, activation="relu"), layers.Dense(units)])
    m.compile(
        optimizer="adam", loss=lamina.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"]
    )
    return m


def _data(n=64, d=4, classes=3):
    rng = np.random.default_rng(0)
    return rng.standard_normal((n, d)).astype("float32"), rng.integers(0, classes, n)


def test_history_keys_and_predict_types():
    x, y = _data()
    model = _model()
    h = model.fit(x, y, epochs=2, batch_size=16, validation_data=(x[:16], y[:16]), verbose=0)
    assert list(h.history) == ["accuracy", "loss", "val_accuracy", "val_loss"] or set(h.history) == {
        "accuracy",
        "loss",
        "val_accuracy",
        "val_loss",
    }
    assert len(h.history["loss"]) == 2 and h.epoch == [0, 1]
    out = model.predict(x[:3], verbose=0)
    assert isinstance(out, np.ndarray) and out.shape == (3, 3)
    big = model.predict(x, batch_size=8, verbose=0)
    np.testing.assert_allclose(big[:3], out, rtol=1e-5, atol=1e-6)


def test_fit_before_compile_raises():
    m = lamina.Sequential([lamina.Input((4,)), layers.Dense(2)])
    with pytest.raises(ValueError, match="compile"):
        m.fit(np.ones((4, 4)), np.ones((4,)))


def test_mismatched_lengths_raise_before_any_change():
    model = _model()
    before = [w.copy() for w in model.get_weights()]
    with pytest.raises(ValueError, match="cardinality"):
        model.fit(np.ones((10, 4), "float32"), np.zeros(9), verbose=0)
    for a, b in zip(before, model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_unknown_names_list_valid_ones():
    m = lamina.Sequential([lamina.Input((4,)), layers.Dense(2)])
    with pytest.raises(ValueError, match="adam"):
        m.compile(optimizer="adamm", loss="mse")
    with pytest.raises(ValueError, match="mean_squared_error|mse"):
        m.compile(optimizer="adam", loss="msee")
        m.fit(np.ones((4, 4)), np.ones((4, 2)), verbose=0)


def test_torch_inputs_dataloader_generator_and_pydataset():
    x, y = _data(32)
    model = _model()
    model.fit(torch.from_numpy(x), torch.from_numpy(y), epochs=1, verbose=0)
    ds = torch.utils.data.TensorDataset(torch.from_numpy(x), torch.from_numpy(y))
    model.fit(torch.utils.data.DataLoader(ds, batch_size=8), epochs=1, verbose=0)

    def gen():
        for i in range(0, 32, 8):
            yield x[i : i + 8], y[i : i + 8]

    model.fit(gen(), epochs=1, verbose=0)

    class Batches(lamina.utils.PyDataset):
        def __len__(self):
            return 4

        def __getitem__(self, i):
            return x[i * 8 : (i + 1) * 8], y[i * 8 : (i + 1) * 8]

    h = model.fit(Batches(workers=2), epochs=2, verbose=0)
    assert len(h.history["loss"]) == 2
    assert model.evaluate(Batches(), verbose=0)[0] > 0


def test_dict_and_list_inputs_and_pandas():
    pd = pytest.importorskip("pandas")
    x, y = _data(32)
    model = _model()
    model.fit(pd.DataFrame(x), pd.Series(y), epochs=1, verbose=0)


def test_batch_variants():
    x, y = _data(16)
    model = _model()
    loss, acc = model.train_on_batch(x, y)
    assert loss > 0 and 0 <= acc <= 1
    logs = model.test_on_batch(x, y, return_dict=True)
    assert set(logs) == {"loss", "accuracy"}
    assert model.predict_on_batch(x).shape == (16, 3)


def test_stop_training_from_callback():
    x, y = _data()
    model = _model()

    class StopAfterTwo(lamina.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if batch == 1:
                self.model.stop_training = True

    seen = []
    h = model.fit(
        x,
        y,
        batch_size=8,
        epochs=5,
        verbose=0,
        callbacks=[StopAfterTwo(), lamina.callbacks.LambdaCallback(on_train_batch_end=lambda b, logs: seen.append(b))],
    )
    assert seen == [0, 1] and len(h.history["loss"]) == 1


def test_dropout_only_active_in_fit():
    calls = []

    class Spy(lamina.layers.Layer):
        def call(self, x, training=None):
            calls.append(training)
            return x

    model = lamina.Sequential([lamina.Input((4,)), Spy(), layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    calls.clear()
    x = np.ones((8, 4), "float32")
    model.fit(x, np.ones((8, 1), "float32"), batch_size=8, epochs=1, verbose=0)
    model.evaluate(x, np.ones((8, 1), "float32"), verbose=0)
    model.predict(x, verbose=0)
    assert True in calls
    assert calls[-1] is False and calls[-2] is False


def test_add_loss_is_added_to_the_objective():
    class Penalty(lamina.layers.Layer):
        def call(self, x):
            self.add_loss(100.0 * torch.ones(()))
            return x

    model = lamina.Sequential([lamina.Input((4,)), Penalty(), layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    x = np.zeros((8, 4), "float32")
    loss = model.evaluate(x, np.zeros((8, 1), "float32"), verbose=0)
    assert loss == pytest.approx(100.0)


def test_custom_train_step_override():
    class MyModel(lamina.Sequential):
        def train_step(self, data):
            self.custom_calls = getattr(self, "custom_calls", 0) + 1
            return super().train_step(data)

    model = MyModel([lamina.Input((4,)), layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    model.fit(np.ones((16, 4), "float32"), np.ones((16, 1), "float32"), batch_size=4, verbose=0)
    assert model.custom_calls == 4


def test_verbose_outputs(capsys):
    x, y = _data(32)
    model = _model()
    model.fit(x, y, epochs=2, batch_size=8, verbose=2)
    out = capsys.readouterr().out
    lines = [line for line in out.splitlines() if line.strip()]
    assert lines[0] == "Epoch 1/2"
    assert lines[1].startswith("4/4 - ") and "accuracy:" in lines[1] and "loss:" in lines[1]
    assert len(lines) == 4
    model.fit(x, y, epochs=1, batch_size=8, verbose=1)
    out = capsys.readouterr().out
    assert "━" in out and "4/4" in out


def test_progbar_draws_keras_line():
    from lamina.callbacks.progbar import Progbar

    stream = io.StringIO()
    bar = Progbar(32, verbose=1, stream=stream)
    bar.update(32, {"accuracy": 0.91, "loss": 0.29})
    text = stream.getvalue()
    assert (
        "32/32" in text
        and "━" * 20 in text.replace("\x1b[0m", "").replace("\x1b[32m", "").replace("\x1b[37m", "")
        and "accuracy: 0.9100 - loss: 0.2900" in text
    )


def test_labels_out_of_range_raise_before_training():
    model = _model(units=3)
    x = np.ones((8, 4), "float32")
    before = model.get_weights()
    with pytest.raises(ValueError, match="range|label"):
        model.fit(x, np.full(8, 7), verbose=0)
    for a, b in zip(before, model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_jit_compile_trains():
    x, y = _data(32)
    model = lamina.Sequential([lamina.Input((4,)), layers.Dense(8, activation="relu"), layers.Dense(3)])
    model.compile(
        optimizer="adam", loss=lamina.losses.SparseCategoricalCrossentropy(from_logits=True), jit_compile=True
    )
    h = model.fit(x, y, epochs=2, batch_size=16, verbose=0)
    assert h.history["loss"][1] < h.history["loss"][0] * 1.5


def test_target_shape_mismatch_is_named_before_training():
    model = lamina.Sequential([lamina.Input((4,)), layers.Dense(2, name="out")])
    model.compile(optimizer="adam", loss="mse")
    before = model.get_weights()
    with pytest.raises(ValueError, match=r"mean_squared_error.*\(8, 2\).*\(8, 3\)"):
        model.fit(np.ones((8, 4), "float32"), np.ones((8, 3), "float32"), verbose=0)
    for a, b in zip(before, model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    model.fit(np.ones((8, 4), "float32"), np.ones((8, 2), "float32"), verbose=0)  # the right shape trains


def test_predict_rejects_strings_with_the_model_named():
    model = lamina.Sequential([lamina.Input((2,)), layers.Dense(1)], name="strings")
    with pytest.raises(TypeError, match=r'"strings" expects numeric inputs.*<U1'):
        model.predict(np.array([["a", "b"]]), verbose=0)
