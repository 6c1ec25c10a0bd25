"""keras.config: every setting against Keras's, and the ones fit, the progress bar and tracebacks honour."""

import logging
import traceback

import keras
import numpy as np
import pytest

import lamina
from lamina import config


@pytest.fixture(autouse=True)
def _restore():
    yield
    config.set_max_epochs(None)
    config.set_max_steps_per_epoch(None)
    config.enable_interactive_logging()
    config.enable_traceback_filtering()
    config.enable_flash_attention()
    config.set_floatx("float32")
    config.set_epsilon(1e-7)
    config.set_image_data_format("channels_last")
    config.set_dtype_policy("float32")


def test_all_25_names_and_defaults_match_keras():
    names = [n for n in dir(keras.config) if not n.startswith("_")]
    assert len(names) == 25
    for name in names:
        assert callable(getattr(config, name)), name
    for getter in (
        "floatx",
        "epsilon",
        "image_data_format",
        "max_epochs",
        "max_steps_per_epoch",
        "is_interactive_logging_enabled",
        "is_traceback_filtering_enabled",
        "is_flash_attention_enabled",
        "is_nnx_enabled",
    ):
        assert getattr(config, getter)() == getattr(keras.config, getter)(), getter
    assert config.backend() == keras.config.backend() == "torch"
    assert config.dtype_policy().name == keras.config.dtype_policy().name
    assert lamina.config is config and lamina.backend.floatx is config.floatx


def test_setters_and_their_errors():
    config.set_floatx("float16")
    assert config.floatx() == lamina.backend.floatx() == "float16"
    config.set_epsilon(1e-5)
    assert config.epsilon() == 1e-5
    config.set_image_data_format("channels_first")
    assert lamina.layers.Conv2D(2, 3).data_format == "channels_first"
    config.set_dtype_policy("mixed_bfloat16")
    assert lamina.layers.Dense(2).dtype_policy.name == "mixed_bfloat16"
    with pytest.raises(ValueError, match="floatx=.int8"):
        config.set_floatx("int8")
    with pytest.raises(ValueError, match="Received: data_format=nhwc"):  # Keras's message, no quotes
        config.set_image_data_format("nhwc")
    with pytest.raises(ValueError, match="max_epochs=0"):
        config.set_max_epochs(0)
    with pytest.raises(ValueError, match="max_steps_per_epoch='2'"):
        config.set_max_steps_per_epoch("2")
    with pytest.raises(ValueError, match="backend='jax'"):
        config.set_backend("jax")
    config.set_backend("torch")


def _model():
    model = lamina.Sequential([lamina.Input((2,)), lamina.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    return model


class _Count(lamina.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.train = self.test = self.predict = 0

    def on_train_batch_end(self, batch, logs=None):
        self.train += 1

    def on_test_batch_end(self, batch, logs=None):
        self.test += 1

    def on_predict_batch_end(self, batch, logs=None):
        self.predict += 1


def test_max_epochs_and_steps_cap_fit_evaluate_predict():
    x, y = np.ones((64, 2), "float32"), np.zeros((64, 1), "float32")
    config.set_max_epochs(2)
    config.set_max_steps_per_epoch(3)
    count = _Count()
    model = _model()
    with pytest.warns(UserWarning, match="Limiting epochs to 2"):
        history = model.fit(x, y, batch_size=8, epochs=5, verbose=0, callbacks=[count])
    assert len(history.history["loss"]) == 2 and count.train == 2 * 3
    model.evaluate(x, y, batch_size=8, verbose=0, callbacks=[count])
    out = model.predict(x, batch_size=8, verbose=0, callbacks=[count])
    assert count.test == 3 and count.predict == 3 and out.shape == (24, 1)
    config.set_max_epochs(None)
    config.set_max_steps_per_epoch(None)
    assert len(model.fit(x, y, batch_size=32, epochs=3, verbose=0).history["loss"]) == 3


def test_interactive_logging_sends_progress_to_logging(capsys, caplog):
    x, y = np.ones((8, 2), "float32"), np.zeros((8, 1), "float32")
    config.disable_interactive_logging()
    assert lamina.utils.is_interactive_logging_enabled() is False
    with caplog.at_level(logging.INFO, logger="lamina"):
        _model().fit(x, y, epochs=2, verbose=2)
    assert capsys.readouterr().out == ""
    assert any("Epoch 2/2" in r.message for r in caplog.records)
    assert any("loss:" in r.message and "\x1b" not in r.message for r in caplog.records)
    config.enable_interactive_logging()
    _model().fit(x, y, epochs=2, verbose=2)
    assert "Epoch 2/2" in capsys.readouterr().out


def test_traceback_filtering_hides_lamina_frames():
    model = _model()
    x = np.ones((4, 3), "float32")  # wrong width

    def frames():
        try:
            model.predict(x, verbose=0, batch_size=2)
        except ValueError as e:
            return [f.filename for f in traceback.extract_tb(e.__traceback__)]
        raise AssertionError("no error")

    filtered = frames()
    # what is left of Lamina: the filter's own frame, and the line that raised (kept when every inner frame is
    # Lamina's, so the error still has a location, as in Keras)
    # (the input check lives in lamina/layers/input_spec.py)
    assert sum("/lamina/" in f for f in filtered) == 2 and filtered[-1].endswith("/lamina/layers/input_spec.py")
    config.disable_traceback_filtering()
    assert config.is_traceback_filtering_enabled() is False
    assert sum("/lamina/" in f for f in frames()) > 3


def test_clear_session_resets_what_keras_resets():
    config.set_dtype_policy("mixed_float16")
    config.disable_interactive_logging()
    config.disable_flash_attention()
    config.disable_traceback_filtering()
    config.set_max_epochs(3)
    lamina.layers.Dense(1), lamina.layers.Dense(1)
    lamina.backend.clear_session(free_memory=False)
    assert config.dtype_policy().name == "float32"
    assert config.is_interactive_logging_enabled() is True
    assert config.is_flash_attention_enabled() is None
    assert config.is_traceback_filtering_enabled() is True
    assert config.max_epochs() == 3  # a module setting in Keras too: kept
    assert lamina.layers.Dense(1).name == "dense"
    lamina.backend.clear_session(free_memory=False)
    with pytest.raises(TypeError, match="free_memory='yes'"):
        lamina.backend.clear_session(free_memory="yes")


def _capped_run(k):
    """Epochs run, training batches per epoch and validation batches under max_epochs=2, max_steps_per_epoch=3."""
    k.config.set_max_epochs(2)
    k.config.set_max_steps_per_epoch(3)
    batches, val = [], []

    class Count(k.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            batches.append(0)

        def on_train_batch_end(self, batch, logs=None):
            batches[-1] += 1

        def on_test_batch_end(self, batch, logs=None):
            val.append(batch)

    try:
        model = k.Sequential([k.Input((2,)), k.layers.Dense(1)])
        model.compile(optimizer="sgd", loss="mse")
        x, y = np.ones((64, 2), "float32"), np.zeros((64, 1), "float32")
        with pytest.warns(UserWarning, match="Limiting epochs to 2"):
            history = model.fit(x, y, batch_size=8, epochs=4, verbose=0, validation_data=(x, y), callbacks=[Count()])
    finally:
        k.config.set_max_epochs(None)
        k.config.set_max_steps_per_epoch(None)
    return len(history.history["loss"]), batches, len(val), sorted(history.history)


def test_max_epochs_and_steps_cap_fit_like_keras():
    ours = _capped_run(lamina)
    assert ours == _capped_run(keras)
    assert ours[:2] == (2, [3, 3])
