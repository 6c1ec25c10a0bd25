"""The Keras guide "Training & evaluation with the built-in methods", replayed with ``import lamina as keras``.

Each guide snippet is written once as a function of the ``keras`` module it receives, so the very same code runs
on Lamina and on the real Keras 3 (torch backend). Where the run is deterministic (no shuffling, no dropout, the
same initial weights copied with ``set_weights``) the History, ``evaluate`` and ``predict`` results are compared
with Keras; elsewhere the structure is checked and the loss must go down. The data are small random MNIST-like
arrays (no downloads).
"""

import os

import keras as real_keras
import numpy as np
import pytest
import torch

import lamina

ATOL = 1e-4

pytestmark = [
    # The guide passes fit()'s default shuffle=True with DataLoaders, which Keras warns it ignores.
    pytest.mark.filterwarnings("ignore:`shuffle=True` was passed:UserWarning"),
    # An output compiled with loss None leaves its head without gradients, which both libraries point out.
    pytest.mark.filterwarnings("ignore:Gradients do not exist:UserWarning"),
]


# ---------------------------------------------------------------------------------------------- data and helpers
@pytest.fixture(autouse=True)
def _seeded():
    """Every test starts from the same random state: initial weights (and shuffles) repeat from run to run."""
    lamina.utils.set_random_seed(1337)


def _mnist_like(n_train=256, n_val=64, n_test=64, d=784, seed=0):
    """Arrays shaped like the guide's preprocessed MNIST: float32 (n, 784) in [0, 1], float32 labels 0..9."""
    rng = np.random.default_rng(seed)
    n = n_train + n_val
    x_train = rng.random((n, d)).astype("float32")
    # Learnable labels: the class is the block of pixels with the largest mean.
    y_train = x_train[:, : (d // 10) * 10].reshape(n, 10, -1).mean(-1).argmax(-1).astype("float32")
    x_test = rng.random((n_test, d)).astype("float32")
    y_test = x_test[:, : (d // 10) * 10].reshape(n_test, 10, -1).mean(-1).argmax(-1).astype("float32")
    x_val, y_val = x_train[-n_val:], y_train[-n_val:]
    return (x_train[:-n_val], y_train[:-n_val]), (x_val, y_val), (x_test, y_test)


(X_TRAIN, Y_TRAIN), (X_VAL, Y_VAL), (X_TEST, Y_TEST) = _mnist_like()


def get_uncompiled_model(keras):
    layers = keras.layers
    inputs = keras.Input(shape=(784,), name="digits")
    x = layers.Dense(64, activation="relu", name="dense_1")(inputs)
    x = layers.Dense(64, activation="relu", name="dense_2")(x)
    outputs = layers.Dense(10, activation="softmax", name="predictions")(x)
    model = keras.Model(inputs=inputs, outputs=outputs)
    return model


def get_compiled_model(keras):
    model = get_uncompiled_model(keras)
    model.compile(
        optimizer="rmsprop",
        loss="sparse_categorical_crossentropy",
        metrics=["sparse_categorical_accuracy"],
    )
    return model


def _pair(build):
    """The same model in Lamina and in Keras, with Lamina's initial weights copied into Keras."""
    lam = build(lamina)
    ker = build(real_keras)
    lw = lam.get_weights()
    kw = ker.get_weights()
    assert [w.shape for w in lw] == [w.shape for w in kw]
    ker.set_weights(lw)
    return lam, ker


def _assert_history_equal(h_lam, h_ker, atol=ATOL):
    assert list(h_lam.history) == list(h_ker.history)
    for key, values in h_ker.history.items():
        np.testing.assert_allclose(h_lam.history[key], values, rtol=atol, atol=atol, err_msg=key)
    assert h_lam.epoch == h_ker.epoch


def _assert_logs_equal(lam, ker, atol=ATOL):
    if isinstance(ker, dict):
        assert list(lam) == list(ker)
        for k in ker:
            np.testing.assert_allclose(lam[k], ker[k], rtol=atol, atol=atol, err_msg=k)
    else:
        np.testing.assert_allclose(lam, ker, rtol=atol, atol=atol)


def _assert_weights_equal(lam, ker, atol=ATOL):
    for wl, wk in zip(lam.get_weights(), ker.get_weights(), strict=True):
        np.testing.assert_allclose(wl, wk, rtol=atol, atol=atol)


# ---------------------------------------------------------------------------------------------- API overview
def _overview_model(keras):
    layers = keras.layers
    inputs = keras.Input(shape=(784,), name="digits")
    x = layers.Dense(64, activation="relu", name="dense_1")(inputs)
    x = layers.Dense(64, activation="relu", name="dense_2")(x)
    outputs = layers.Dense(10, activation="softmax", name="predictions")(x)
    model = keras.Model(inputs=inputs, outputs=outputs)
    model.compile(
        optimizer=keras.optimizers.RMSprop(),  # Optimizer
        # Loss function to minimize
        loss=keras.losses.SparseCategoricalCrossentropy(),
        # List of metrics to monitor
        metrics=[keras.metrics.SparseCategoricalAccuracy()],
    )
    return model


def test_end_to_end_fit_evaluate_predict_match_keras():
    lam, ker = _pair(_overview_model)
    kw = dict(batch_size=64, epochs=2, validation_data=(X_VAL, Y_VAL), shuffle=False, verbose=0)
    history = lam.fit(X_TRAIN, Y_TRAIN, **kw)
    h_ker = ker.fit(X_TRAIN, Y_TRAIN, **kw)
    assert isinstance(history, lamina.callbacks.History)
    assert list(history.history) == [
        "loss",
        "sparse_categorical_accuracy",
        "val_loss",
        "val_sparse_categorical_accuracy",
    ]
    assert all(isinstance(v, float) for vs in history.history.values() for v in vs)
    _assert_history_equal(history, h_ker)
    _assert_weights_equal(lam, ker)
    assert history.history["loss"][1] < history.history["loss"][0]

    results = lam.evaluate(X_TEST, Y_TEST, batch_size=128, verbose=0)
    assert isinstance(results, list) and len(results) == 2  # test loss, test acc
    _assert_logs_equal(results, ker.evaluate(X_TEST, Y_TEST, batch_size=128, verbose=0))
    assert lam.metrics_names == ker.metrics_names == ["loss", "compile_metrics"]

    predictions = lam.predict(X_TEST[:3], verbose=0)
    assert isinstance(predictions, np.ndarray) and predictions.shape == (3, 10)
    np.testing.assert_allclose(predictions, ker.predict(X_TEST[:3], verbose=0), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(predictions.sum(-1), 1.0, rtol=1e-5)  # softmax probabilities


def test_progress_output_verbose_2(capsys):
    model = get_compiled_model(lamina)
    model.fit(X_TRAIN, Y_TRAIN, batch_size=64, epochs=2, validation_data=(X_VAL, Y_VAL), verbose=2)
    out = capsys.readouterr().out
    assert "Epoch 1/2" in out and "Epoch 2/2" in out
    assert "4/4 - " in out and "val_sparse_categorical_accuracy:" in out
    model.evaluate(X_TEST, Y_TEST, batch_size=128, verbose=2)
    out = capsys.readouterr().out
    assert out.startswith("1/1 - ") and "loss:" in out


# ---------------------------------------------------------------------------------------------- compile()
def test_compile_string_shortcuts_match_instances():
    def with_strings(keras):
        model = get_uncompiled_model(keras)
        model.compile(
            optimizer="rmsprop",
            loss="sparse_categorical_crossentropy",
            metrics=["sparse_categorical_accuracy"],
        )
        return model

    def with_instances(keras):
        model = get_uncompiled_model(keras)
        model.compile(
            optimizer=keras.optimizers.RMSprop(learning_rate=1e-3),
            loss=keras.losses.SparseCategoricalCrossentropy(),
            metrics=[keras.metrics.SparseCategoricalAccuracy()],
        )
        return model

    lam_s, ker_s = _pair(with_strings)
    lam_i = with_instances(lamina)
    lam_i.set_weights(lam_s.get_weights())
    kw = dict(batch_size=64, epochs=2, shuffle=False, verbose=0)
    h_s = lam_s.fit(X_TRAIN, Y_TRAIN, **kw)
    h_i = lam_i.fit(X_TRAIN, Y_TRAIN, **kw)
    _assert_history_equal(h_s, ker_s.fit(X_TRAIN, Y_TRAIN, **kw))
    _assert_history_equal(h_s, h_i, atol=1e-6)
    assert isinstance(lam_s.optimizer, lamina.optimizers.RMSprop)
    assert lam_s.optimizer.learning_rate == pytest.approx(1e-3)


def test_many_builtin_optimizers_losses_metrics_exist():
    for name in ("SGD", "RMSprop", "Adam"):
        assert issubclass(getattr(lamina.optimizers, name), lamina.optimizers.Optimizer)
    lamina.optimizers.SGD(momentum=0.9)
    for name in ("MeanSquaredError", "KLDivergence", "CosineSimilarity"):
        assert issubclass(getattr(lamina.losses, name), lamina.losses.Loss)
    for name in ("AUC", "Precision", "Recall"):
        assert issubclass(getattr(lamina.metrics, name), lamina.metrics.Metric)


# ---------------------------------------------------------------------------------------------- custom losses
def custom_mean_squared_error_for(keras):
    ops = keras.ops

    def custom_mean_squared_error(y_true, y_pred):
        return ops.mean(ops.square(y_true - y_pred), axis=-1)

    return custom_mean_squared_error


def custom_mse_class_for(keras):
    ops = keras.ops

    class CustomMSE(keras.losses.Loss):
        def __init__(self, regularization_factor=0.1, name="custom_mse"):
            super().__init__(name=name)
            self.regularization_factor = regularization_factor

        def call(self, y_true, y_pred):
            mse = ops.mean(ops.square(y_true - y_pred), axis=-1)
            reg = ops.mean(ops.square(0.5 - y_pred), axis=-1)
            return mse + reg * self.regularization_factor

        def get_config(self):
            return {"regularization_factor": self.regularization_factor, "name": self.name}

    return CustomMSE


def test_custom_loss_function_matches_keras():
    def build(keras):
        model = get_uncompiled_model(keras)
        model.compile(optimizer=keras.optimizers.Adam(), loss=custom_mean_squared_error_for(keras))
        return model

    lam, ker = _pair(build)
    # We need to one-hot encode the labels to use MSE
    y_train_one_hot = lamina.ops.one_hot(Y_TRAIN, num_classes=10)
    assert tuple(y_train_one_hot.shape) == (len(Y_TRAIN), 10)
    kw = dict(batch_size=64, epochs=2, shuffle=False, verbose=0)
    h_lam = lam.fit(X_TRAIN, y_train_one_hot, **kw)
    h_ker = ker.fit(X_TRAIN, real_keras.ops.one_hot(Y_TRAIN, num_classes=10), **kw)
    assert list(h_lam.history) == ["loss"]
    _assert_history_equal(h_lam, h_ker)
    assert h_lam.history["loss"][1] < h_lam.history["loss"][0]


def test_custom_loss_subclass_matches_keras_and_round_trips_config():
    def build(keras):
        model = get_uncompiled_model(keras)
        model.compile(optimizer=keras.optimizers.Adam(), loss=custom_mse_class_for(keras)())
        return model

    lam, ker = _pair(build)
    y_one_hot = np.eye(10, dtype="float32")[Y_TRAIN.astype(int)]
    kw = dict(batch_size=64, epochs=2, shuffle=False, verbose=0)
    _assert_history_equal(lam.fit(X_TRAIN, y_one_hot, **kw), ker.fit(X_TRAIN, y_one_hot, **kw))

    CustomMSE = custom_mse_class_for(lamina)
    loss = CustomMSE(regularization_factor=0.5, name="strong_mse")
    clone = CustomMSE.from_config(loss.get_config())
    assert clone.regularization_factor == 0.5 and clone.name == "strong_mse"
    y_true, y_pred = y_one_hot[:8], np.full((8, 10), 0.2, "float32")
    k_loss = custom_mse_class_for(real_keras)(regularization_factor=0.5)
    np.testing.assert_allclose(float(loss(y_true, y_pred)), float(k_loss(y_true, y_pred)), rtol=1e-6)
    # sample_weight and reduction behave like Keras's Loss.__call__
    sw = np.linspace(0.0, 1.0, 8).astype("float32")
    np.testing.assert_allclose(float(loss(y_true, y_pred, sw)), float(k_loss(y_true, y_pred, sw)), rtol=1e-6)


# ---------------------------------------------------------------------------------------------- custom metrics
def categorical_true_positives_for(keras):
    ops = keras.ops

    class CategoricalTruePositives(keras.metrics.Metric):
        def __init__(self, name="categorical_true_positives", **kwargs):
            super().__init__(name=name, **kwargs)
            self.true_positives = self.add_variable(shape=(), name="ctp", initializer="zeros")

        def update_state(self, y_true, y_pred, sample_weight=None):
            y_pred = ops.reshape(ops.argmax(y_pred, axis=1), (-1, 1))
            values = ops.cast(y_true, "int32") == ops.cast(y_pred, "int32")
            values = ops.cast(values, "float32")
            if sample_weight is not None:
                sample_weight = ops.cast(sample_weight, "float32")
                values = ops.multiply(values, sample_weight)
            self.true_positives.assign_add(ops.sum(values))

        def result(self):
            return self.true_positives

        def reset_state(self):
            # The state of the metric will be reset at the start of each epoch.
            self.true_positives.assign(0.0)

    return CategoricalTruePositives


def test_custom_metric_matches_keras():
    def build(keras):
        model = get_uncompiled_model(keras)
        model.compile(
            optimizer=keras.optimizers.RMSprop(learning_rate=1e-3),
            loss=keras.losses.SparseCategoricalCrossentropy(),
            metrics=[categorical_true_positives_for(keras)()],
        )
        return model

    lam, ker = _pair(build)
    kw = dict(batch_size=64, epochs=3, shuffle=False, verbose=0)
    h_lam = lam.fit(X_TRAIN, Y_TRAIN, **kw)
    h_ker = ker.fit(X_TRAIN, Y_TRAIN, **kw)
    assert list(h_lam.history) == ["categorical_true_positives", "loss"]  # sorted, as Keras logs are
    _assert_history_equal(h_lam, h_ker)
    results = lam.evaluate(X_TEST, Y_TEST, verbose=0, return_dict=True)
    assert all(type(v) is float for v in results.values())  # result() returns a Variable; logs hold floats
    _assert_logs_equal(results, ker.evaluate(X_TEST, Y_TEST, verbose=0, return_dict=True))


def test_custom_metric_standalone_matches_keras():
    lam_m = categorical_true_positives_for(lamina)()
    ker_m = categorical_true_positives_for(real_keras)()
    y_true = np.array([[1], [2], [3], [0]], "float32")
    y_pred = np.eye(4, dtype="float32")[[1, 2, 0, 0]]
    sw = np.array([[1.0], [0.5], [1.0], [2.0]], "float32")
    for m in (lam_m, ker_m):
        m.update_state(y_true, y_pred)
        m.update_state(y_true, y_pred, sample_weight=sw)
    np.testing.assert_allclose(float(lam_m.result()), float(ker_m.result()))
    assert [v.name for v in lam_m.variables] == [v.name for v in ker_m.variables] == ["ctp"]
    lam_m.reset_state()
    assert float(lam_m.result()) == 0.0


# ---------------------------------------------------------------------------------------------- add_loss
def activity_regularization_layer_for(keras):
    ops = keras.ops

    class ActivityRegularizationLayer(keras.layers.Layer):
        def call(self, inputs):
            self.add_loss(ops.sum(inputs) * 0.1)
            return inputs  # Pass-through layer.

    return ActivityRegularizationLayer


def test_add_loss_in_a_layer_matches_keras():
    def build(keras):
        layers = keras.layers
        inputs = keras.Input(shape=(784,), name="digits")
        x = layers.Dense(64, activation="relu", name="dense_1")(inputs)
        # Insert activity regularization as a layer
        x = activity_regularization_layer_for(keras)()(x)
        x = layers.Dense(64, activation="relu", name="dense_2")(x)
        outputs = layers.Dense(10, name="predictions")(x)
        model = keras.Model(inputs=inputs, outputs=outputs)
        model.compile(
            optimizer=keras.optimizers.RMSprop(learning_rate=1e-3),
            loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        )
        return model

    lam, ker = _pair(build)
    kw = dict(batch_size=64, epochs=2, shuffle=False, verbose=0)
    h_lam = lam.fit(X_TRAIN, Y_TRAIN, **kw)
    _assert_history_equal(h_lam, ker.fit(X_TRAIN, Y_TRAIN, **kw), atol=1e-3)
    # The displayed loss is much higher than the crossentropy alone, due to the regularization component.
    plain = lamina.losses.SparseCategoricalCrossentropy(from_logits=True)
    assert h_lam.history["loss"][0] > 2 * float(plain(Y_TRAIN, lam.predict(X_TRAIN, verbose=0)))
    _assert_logs_equal(lam.evaluate(X_TEST, Y_TEST, verbose=0), ker.evaluate(X_TEST, Y_TEST, verbose=0), atol=1e-3)
    assert len(lam.losses) == 1  # the last call's add_loss


def logistic_endpoint_for(keras):
    ops = keras.ops

    class LogisticEndpoint(keras.layers.Layer):
        def __init__(self, name=None):
            super().__init__(name=name)
            self.loss_fn = keras.losses.BinaryCrossentropy(from_logits=True)

        def call(self, targets, logits, sample_weights=None):
            # Compute the training-time loss value and add it
            # to the layer using `self.add_loss()`.
            loss = self.loss_fn(targets, logits, sample_weights)
            self.add_loss(loss)

            # Return the inference-time prediction tensor (for `.predict()`).
            return ops.softmax(logits)

    return LogisticEndpoint


def test_logistic_endpoint_compiled_without_loss_matches_keras():
    def build(keras):
        inputs = keras.Input(shape=(3,), name="inputs")
        targets = keras.Input(shape=(10,), name="targets")
        logits = keras.layers.Dense(10)(inputs)
        predictions = logistic_endpoint_for(keras)(name="predictions")(targets, logits)

        model = keras.Model(inputs=[inputs, targets], outputs=predictions)
        model.compile(optimizer="adam")  # No loss argument!
        return model

    lam, ker = _pair(build)
    rng = np.random.default_rng(1)
    data = {
        "inputs": rng.random((3, 3)),
        "targets": rng.random((3, 10)),
    }
    h_lam = lam.fit(data, verbose=0)
    h_ker = ker.fit(data, verbose=0)
    _assert_history_equal(h_lam, h_ker)
    _assert_weights_equal(lam, ker)
    h_lam = lam.fit(data, epochs=5, verbose=0, shuffle=False)
    assert h_lam.history["loss"][-1] < h_lam.history["loss"][0]
    out = lam.predict(data, verbose=0)
    assert out.shape == (3, 10)
    np.testing.assert_allclose(out.sum(-1), 1.0, rtol=1e-5)


# ---------------------------------------------------------------------------------------------- validation_split
def test_validation_split_matches_keras():
    lam, ker = _pair(get_compiled_model)
    kw = dict(batch_size=64, validation_split=0.2, epochs=2, shuffle=False, verbose=0)
    h_lam = lam.fit(X_TRAIN, Y_TRAIN, **kw)
    _assert_history_equal(h_lam, ker.fit(X_TRAIN, Y_TRAIN, **kw))
    assert "val_loss" in h_lam.history


def test_validation_split_takes_the_last_samples_before_shuffling():
    model = get_compiled_model(lamina)
    h_split = model.fit(X_TRAIN, Y_TRAIN, batch_size=64, validation_split=0.25, epochs=1, verbose=0)
    n_val = len(X_TRAIN) // 4
    val = model.evaluate(X_TRAIN[-n_val:], Y_TRAIN[-n_val:], verbose=0, return_dict=True)
    np.testing.assert_allclose(h_split.history["val_loss"][0], val["loss"], rtol=1e-5)
    with pytest.raises(ValueError, match="validation_split"):
        model.fit(torch.utils.data.DataLoader(_TorchDataset(X_TRAIN, Y_TRAIN)), validation_split=0.2, verbose=0)


# ---------------------------------------------------------------------------------------------- PyDataset / torch
def example_py_dataset_for(keras):
    class ExamplePyDataset(keras.utils.PyDataset):
        def __init__(self, x, y, batch_size, **kwargs):
            super().__init__(**kwargs)
            self.x = x
            self.y = y
            self.batch_size = batch_size

        def __len__(self):
            return int(np.ceil(len(self.x) / float(self.batch_size)))

        def __getitem__(self, idx):
            batch_x = self.x[idx * self.batch_size : (idx + 1) * self.batch_size]
            batch_y = self.y[idx * self.batch_size : (idx + 1) * self.batch_size]
            return batch_x, batch_y

    return ExamplePyDataset


class _TorchDataset(torch.utils.data.Dataset):
    """The guide's ExampleTorchDataset: sample-centric ``__len__``/``__getitem__``."""

    def __init__(self, x, y):
        self.x = x
        self.y = y

    def __len__(self):
        return len(self.x)

    def __getitem__(self, idx):
        return self.x[idx], self.y[idx]


def test_py_dataset_matches_keras():
    results = {}
    lam, ker = _pair(get_compiled_model)
    for name, keras, model in (("lamina", lamina, lam), ("keras", real_keras, ker)):
        ExamplePyDataset = example_py_dataset_for(keras)
        train_py_dataset = ExamplePyDataset(X_TRAIN, Y_TRAIN, batch_size=32)
        val_py_dataset = ExamplePyDataset(X_VAL, Y_VAL, batch_size=32)
        h = model.fit(
            train_py_dataset, batch_size=64, validation_data=val_py_dataset, epochs=2, shuffle=False, verbose=0
        )
        results[name] = (h, model.evaluate(val_py_dataset, verbose=0))
    _assert_history_equal(results["lamina"][0], results["keras"][0])
    _assert_logs_equal(results["lamina"][1], results["keras"][1])


def test_py_dataset_with_worker_threads_keeps_batch_order():
    # Here's a 4-thread, non-multiprocessed example. (Keras 3.15 itself trains the first epoch's batches in the
    # order 1..n-1, 0 with workers > 1 -- its peeked first batch goes last -- so the reference here is the
    # single-threaded run, which the threads must reproduce exactly.)
    ExamplePyDataset = example_py_dataset_for(lamina)
    runs = []
    initial = get_compiled_model(lamina).get_weights()
    for workers in (1, 4):
        train_py_dataset = ExamplePyDataset(X_TRAIN, Y_TRAIN, batch_size=32, workers=workers)
        val_py_dataset = ExamplePyDataset(X_VAL, Y_VAL, batch_size=32, workers=workers)
        model = get_compiled_model(lamina)
        model.set_weights(initial)
        h = model.fit(
            train_py_dataset, batch_size=64, validation_data=val_py_dataset, epochs=2, shuffle=False, verbose=0
        )
        runs.append((h, model.evaluate(val_py_dataset, verbose=0)))
    _assert_history_equal(runs[1][0], runs[0][0], atol=1e-6)
    _assert_logs_equal(runs[1][1], runs[0][1], atol=1e-6)


def test_py_dataset_shuffled_trains():
    ExamplePyDataset = example_py_dataset_for(lamina)
    model = get_compiled_model(lamina)
    h = model.fit(ExamplePyDataset(X_TRAIN, Y_TRAIN, batch_size=32), epochs=3, verbose=0)
    assert h.history["loss"][-1] < h.history["loss"][0]


def test_torch_dataloader_matches_keras():
    train_dataloader = torch.utils.data.DataLoader(_TorchDataset(X_TRAIN, Y_TRAIN), batch_size=32, shuffle=False)
    val_dataloader = torch.utils.data.DataLoader(_TorchDataset(X_VAL, Y_VAL), batch_size=32, shuffle=False)
    lam, ker = _pair(get_compiled_model)
    h_lam = lam.fit(train_dataloader, batch_size=64, validation_data=val_dataloader, epochs=2, verbose=0)
    h_ker = ker.fit(train_dataloader, batch_size=64, validation_data=val_dataloader, epochs=2, verbose=0)
    _assert_history_equal(h_lam, h_ker)
    _assert_logs_equal(lam.evaluate(val_dataloader, verbose=0), ker.evaluate(val_dataloader, verbose=0))
    # steps_per_epoch / validation_steps on a loader, as in the tf.data section
    h = lam.fit(
        train_dataloader, epochs=2, steps_per_epoch=3, validation_data=val_dataloader, validation_steps=1, verbose=0
    )
    h_k = ker.fit(
        train_dataloader, epochs=2, steps_per_epoch=3, validation_data=val_dataloader, validation_steps=1, verbose=0
    )
    _assert_history_equal(h, h_k)
    shuffled = torch.utils.data.DataLoader(_TorchDataset(X_TRAIN, Y_TRAIN), batch_size=32, shuffle=True)
    h = get_compiled_model(lamina).fit(shuffled, epochs=3, verbose=0)
    assert h.history["loss"][-1] < h.history["loss"][0]


# ---------------------------------------------------------------------------------------------- class / sample weights
CLASS_WEIGHT = {
    0: 1.0,
    1: 1.0,
    2: 1.0,
    3: 1.0,
    4: 1.0,
    # Set weight "2" for class "5",
    # making this class 2x more important
    5: 2.0,
    6: 1.0,
    7: 1.0,
    8: 1.0,
    9: 1.0,
}


def test_class_weight_matches_keras():
    lam, ker = _pair(get_compiled_model)
    kw = dict(class_weight=CLASS_WEIGHT, batch_size=64, epochs=2, shuffle=False, verbose=0)
    _assert_history_equal(lam.fit(X_TRAIN, Y_TRAIN, **kw), ker.fit(X_TRAIN, Y_TRAIN, **kw))


def test_sample_weight_numpy_and_dataset_match_keras():
    sample_weight = np.ones(shape=(len(Y_TRAIN),))
    sample_weight[Y_TRAIN == 5] = 2.0
    lam, ker = _pair(get_compiled_model)
    initial = lam.get_weights()
    kw = dict(sample_weight=sample_weight, batch_size=64, epochs=2, shuffle=False, verbose=0)
    h_lam = lam.fit(X_TRAIN, Y_TRAIN, **kw)
    _assert_history_equal(h_lam, ker.fit(X_TRAIN, Y_TRAIN, **kw))

    # The same weights yielded as the third element of each batch.
    class WithWeights(_TorchDataset):
        def __getitem__(self, idx):
            return self.x[idx], self.y[idx], sample_weight[idx]

    loader = torch.utils.data.DataLoader(WithWeights(X_TRAIN, Y_TRAIN), batch_size=64, shuffle=False)
    lam_ds, ker_ds = _pair(get_compiled_model)
    lam_ds.set_weights(initial)
    ker_ds.set_weights(initial)
    h_ds = lam_ds.fit(loader, epochs=2, verbose=0)
    _assert_history_equal(h_ds, ker_ds.fit(loader, epochs=2, verbose=0))
    # Same data, same weights: the dataset route equals the NumPy route (float64 weights become float32).
    _assert_history_equal(h_ds, h_lam, atol=1e-5)


def test_class_weight_changes_the_loss_like_sample_weight():
    sample_weight = np.where(Y_TRAIN == 5, 2.0, 1.0)
    a = get_compiled_model(lamina)
    b = get_compiled_model(lamina)
    b.set_weights(a.get_weights())
    h_a = a.fit(X_TRAIN, Y_TRAIN, class_weight=CLASS_WEIGHT, batch_size=64, epochs=1, shuffle=False, verbose=0)
    h_b = b.fit(X_TRAIN, Y_TRAIN, sample_weight=sample_weight, batch_size=64, epochs=1, shuffle=False, verbose=0)
    _assert_history_equal(h_a, h_b, atol=1e-6)


@pytest.mark.parametrize("source", ["arrays", "py_dataset", "dataloader"])
def test_steps_per_epoch_continues_where_the_last_epoch_stopped(source):
    # "Only use the first batches per epoch": with 4 batches per pass and steps_per_epoch=3, Keras trains on
    # batches 0-2, then 3 (the pass runs out: a warning, a short epoch), then 0-2 of a new pass.
    lam, ker = _pair(get_compiled_model)
    histories = []
    for keras, model in ((lamina, lam), (real_keras, ker)):
        kw = {}
        if source == "arrays":
            data, kw = (X_TRAIN, Y_TRAIN), {"batch_size": 64}
        elif source == "py_dataset":
            data = (example_py_dataset_for(keras)(X_TRAIN, Y_TRAIN, batch_size=64),)
        else:
            data = (torch.utils.data.DataLoader(_TorchDataset(X_TRAIN, Y_TRAIN), batch_size=64),)
        with pytest.warns(UserWarning, match="ran out of data"):
            histories.append(model.fit(*data, epochs=3, steps_per_epoch=3, shuffle=False, verbose=0, **kw))
    _assert_history_equal(*histories)
    _assert_weights_equal(lam, ker)


# ---------------------------------------------------------------------------------------------- multi-input / output
def _img_ts_model(keras):
    layers = keras.layers
    image_input = keras.Input(shape=(32, 32, 3), name="img_input")
    timeseries_input = keras.Input(shape=(None, 10), name="ts_input")

    x1 = layers.Conv2D(3, 3)(image_input)
    x1 = layers.GlobalMaxPooling2D()(x1)

    x2 = layers.Conv1D(3, 3)(timeseries_input)
    x2 = layers.GlobalMaxPooling1D()(x2)

    x = layers.concatenate([x1, x2])

    score_output = layers.Dense(1, name="score_output")(x)
    class_output = layers.Dense(5, name="class_output")(x)

    model = keras.Model(inputs=[image_input, timeseries_input], outputs=[score_output, class_output])
    return model


def _img_ts_data(n=48, seed=2):
    rng = np.random.default_rng(seed)
    img_data = rng.random(size=(n, 32, 32, 3))
    ts_data = rng.random(size=(n, 20, 10))
    score_targets = 1.0 + rng.random(size=(n, 1))  # away from 0, where the percentage error amplifies rounding
    class_targets = rng.random(size=(n, 5))
    return img_data, ts_data, score_targets, class_targets


IMG, TS, SCORE, CLASS = _img_ts_data()
# The guide's class head is a plain Dense(5) under CategoricalCrossentropy (no softmax): the loss divides by the sum
# of raw outputs, which can be near 0, so float rounding differences grow faster than in the other examples.
MULTI_ATOL = 1e-3

MULTI_OUTPUT_COMPILES = {
    "loss_list": lambda keras: dict(
        loss=[keras.losses.MeanSquaredError(), keras.losses.CategoricalCrossentropy()],
    ),
    "metrics_list_of_lists": lambda keras: dict(
        loss=[keras.losses.MeanSquaredError(), keras.losses.CategoricalCrossentropy()],
        metrics=[
            [keras.metrics.MeanAbsolutePercentageError(), keras.metrics.MeanAbsoluteError()],
            [keras.metrics.CategoricalAccuracy()],
        ],
    ),
    "dicts": lambda keras: dict(
        loss={
            "score_output": keras.losses.MeanSquaredError(),
            "class_output": keras.losses.CategoricalCrossentropy(),
        },
        metrics={
            "score_output": [keras.metrics.MeanAbsolutePercentageError(), keras.metrics.MeanAbsoluteError()],
            "class_output": [keras.metrics.CategoricalAccuracy()],
        },
    ),
    "loss_weights": lambda keras: dict(
        loss={
            "score_output": keras.losses.MeanSquaredError(),
            "class_output": keras.losses.CategoricalCrossentropy(),
        },
        metrics={
            "score_output": [keras.metrics.MeanAbsolutePercentageError(), keras.metrics.MeanAbsoluteError()],
            "class_output": [keras.metrics.CategoricalAccuracy()],
        },
        loss_weights={"score_output": 2.0, "class_output": 1.0},
    ),
    "string_names": lambda keras: dict(
        loss=["mse", "categorical_crossentropy"],
        metrics=[["mae"], ["accuracy"]],
        loss_weights=[0.5, 1.0],
    ),
}


@pytest.mark.parametrize("config", sorted(MULTI_OUTPUT_COMPILES))
def test_multi_output_compile_variants_match_keras(config):
    def build(keras):
        model = _img_ts_model(keras)
        model.compile(optimizer=keras.optimizers.RMSprop(1e-3), **MULTI_OUTPUT_COMPILES[config](keras))
        return model

    lam, ker = _pair(build)
    kw = dict(batch_size=16, epochs=2, shuffle=False, verbose=0)
    # Fit on lists
    h_lam = lam.fit([IMG, TS], [SCORE, CLASS], **kw)
    h_ker = ker.fit([IMG, TS], [SCORE, CLASS], **kw)
    _assert_history_equal(h_lam, h_ker, atol=MULTI_ATOL)
    assert {"loss", "score_output_loss", "class_output_loss"} <= set(h_lam.history)
    # Alternatively, fit on dicts
    x_dict = {"img_input": IMG, "ts_input": TS}
    y_dict = {"score_output": SCORE, "class_output": CLASS}
    _assert_history_equal(lam.fit(x_dict, y_dict, **kw), ker.fit(x_dict, y_dict, **kw), atol=MULTI_ATOL)
    _assert_logs_equal(
        lam.evaluate(x_dict, y_dict, verbose=0, return_dict=True),
        ker.evaluate(x_dict, y_dict, verbose=0, return_dict=True),
        atol=MULTI_ATOL,
    )
    _assert_logs_equal(
        lam.evaluate([IMG, TS], [SCORE, CLASS], verbose=0),
        ker.evaluate([IMG, TS], [SCORE, CLASS], verbose=0),
        atol=MULTI_ATOL,
    )
    preds = lam.predict([IMG, TS], verbose=0)
    assert isinstance(preds, list) and [p.shape for p in preds] == [(48, 1), (48, 5)]
    for p_l, p_k in zip(preds, ker.predict([IMG, TS], verbose=0), strict=True):
        np.testing.assert_allclose(p_l, p_k, rtol=MULTI_ATOL, atol=MULTI_ATOL)


@pytest.mark.parametrize("version", ["list", "dict"])
def test_multi_output_without_loss_for_one_output_matches_keras(version):
    def build(keras, version=version):
        model = _img_ts_model(keras)
        if version == "list":
            # List loss version
            model.compile(optimizer=keras.optimizers.RMSprop(1e-3), loss=[None, keras.losses.CategoricalCrossentropy()])
        else:
            # Or dict loss version
            model.compile(
                optimizer=keras.optimizers.RMSprop(1e-3), loss={"class_output": keras.losses.CategoricalCrossentropy()}
            )
        return model

    # Keras 3.15 compiles the dict version but cannot fit it ("Expected keys ['score_output', 'class_output'] in
    # loss dict"), so both versions are checked against Keras's list version, which means the same thing.
    lam, ker = _pair(lambda keras: build(keras, "list" if keras is real_keras else version))
    kw = dict(batch_size=16, epochs=2, shuffle=False, verbose=0)
    h_ker = ker.fit([IMG, TS], [SCORE, CLASS], **kw)
    for y in ([SCORE, CLASS], {"score_output": SCORE, "class_output": CLASS}) + (
        ({"class_output": CLASS},) if version == "dict" else ()
    ):
        model = build(lamina)
        model.set_weights(lam.get_weights())
        h_lam = model.fit([IMG, TS], y, **kw)
        _assert_history_equal(h_lam, h_ker, atol=MULTI_ATOL)
        _assert_weights_equal(model, ker, atol=MULTI_ATOL)
    # The score head gets no gradient: only the class loss trains.
    assert list(h_lam.history) == ["loss"]


def test_multi_output_from_a_dataset_of_dicts_matches_keras():
    class DictDataset(torch.utils.data.Dataset):
        def __len__(self):
            return len(IMG)

        def __getitem__(self, i):
            return ({"img_input": IMG[i], "ts_input": TS[i]}, {"score_output": SCORE[i], "class_output": CLASS[i]})

    def build(keras):
        model = _img_ts_model(keras)
        model.compile(optimizer=keras.optimizers.RMSprop(1e-3), **MULTI_OUTPUT_COMPILES["dicts"](keras))
        return model

    loader = torch.utils.data.DataLoader(DictDataset(), batch_size=16, shuffle=False)
    lam, ker = _pair(build)
    _assert_history_equal(lam.fit(loader, epochs=2, verbose=0), ker.fit(loader, epochs=2, verbose=0), atol=MULTI_ATOL)
    shuffled = torch.utils.data.DataLoader(DictDataset(), batch_size=16, shuffle=True)
    h = lam.fit(shuffled, epochs=3, verbose=0)
    assert h.history["loss"][-1] < h.history["loss"][0]


NUM_TAGS, NUM_WORDS, NUM_DEPARTMENTS = 12, 100, 4


def _ticket_model(keras, dict_outputs=True):
    layers = keras.layers
    title_input = keras.Input(shape=(None,), name="title")  # Variable-length sequence of ints
    body_input = keras.Input(shape=(None,), name="body")  # Variable-length sequence of ints
    tags_input = keras.Input(shape=(NUM_TAGS,), name="tags")  # Binary vectors of size `num_tags`

    # Embed each word in the title into a 8-dimensional vector
    title_features = layers.Embedding(NUM_WORDS, 8)(title_input)
    # Embed each word in the text into a 8-dimensional vector
    body_features = layers.Embedding(NUM_WORDS, 8)(body_input)
    # Reduce sequence of embedded words in the title into a single 16-dimensional vector
    title_features = layers.LSTM(16)(title_features)
    # Reduce sequence of embedded words in the body into a single 8-dimensional vector
    body_features = layers.LSTM(8)(body_features)
    # Merge all available features into a single large vector via concatenation
    x = layers.concatenate([title_features, body_features, tags_input])
    # Stick a logistic regression for priority prediction on top of the features
    priority_pred = layers.Dense(1, name="priority")(x)
    # Stick a department classifier on top of the features
    department_pred = layers.Dense(NUM_DEPARTMENTS, name="department")(x)
    outputs = (
        {"priority": priority_pred, "department": department_pred} if dict_outputs else [priority_pred, department_pred]
    )
    return keras.Model(inputs=[title_input, body_input, tags_input], outputs=outputs)


def _ticket_data(n=64, seed=3):
    rng = np.random.default_rng(seed)
    title_data = rng.integers(NUM_WORDS, size=(n, 5))
    body_data = rng.integers(NUM_WORDS, size=(n, 12))
    tags_data = rng.integers(2, size=(n, NUM_TAGS)).astype("float32")
    priority_targets = rng.random(size=(n, 1))
    dept_targets = rng.integers(2, size=(n, NUM_DEPARTMENTS))
    return title_data, body_data, tags_data, priority_targets, dept_targets


@pytest.mark.parametrize("dict_outputs", [True, False])
def test_ticket_classifier_dict_inputs_and_outputs_match_keras(dict_outputs):
    def build(keras):
        model = _ticket_model(keras, dict_outputs)
        if dict_outputs:
            model.compile(
                optimizer=keras.optimizers.RMSprop(1e-3),
                loss={
                    "priority": keras.losses.BinaryCrossentropy(from_logits=True),
                    "department": keras.losses.CategoricalCrossentropy(from_logits=True),
                },
                loss_weights={"priority": 1.0, "department": 0.2},
                metrics={"priority": ["mae"], "department": ["accuracy"]},
            )
        else:
            model.compile(
                optimizer=keras.optimizers.RMSprop(1e-3),
                loss=[
                    keras.losses.BinaryCrossentropy(from_logits=True),
                    keras.losses.CategoricalCrossentropy(from_logits=True),
                ],
                loss_weights=[1.0, 0.2],
            )
        return model

    title_data, body_data, tags_data, priority_targets, dept_targets = _ticket_data()
    lam, ker = _pair(build)
    x = {"title": title_data, "body": body_data, "tags": tags_data}
    y = {"priority": priority_targets, "department": dept_targets}
    kw = dict(epochs=2, batch_size=16, shuffle=False, verbose=0)
    h_lam = lam.fit(x, y, **kw)
    _assert_history_equal(h_lam, ker.fit(x, y, **kw))
    _assert_weights_equal(lam, ker)
    expected = {"loss", "priority_loss", "department_loss"}
    if dict_outputs:
        expected |= {"priority_mae", "department_accuracy"}
    assert set(h_lam.history) == expected
    _assert_logs_equal(lam.evaluate(x, y, verbose=0, return_dict=True), ker.evaluate(x, y, verbose=0, return_dict=True))
    preds = lam.predict(x, verbose=0)
    if dict_outputs:
        assert isinstance(preds, dict) and preds["priority"].shape == (64, 1)
        assert preds["department"].shape == (64, NUM_DEPARTMENTS)
    # Inputs as a list in the order of the model's inputs work as well.
    h = lam.fit([title_data, body_data, tags_data], y, epochs=3, batch_size=16, verbose=0)
    assert h.history["loss"][-1] < h.history["loss"][0]


# ---------------------------------------------------------------------------------------------- callbacks
def test_early_stopping_matches_keras(capsys):
    lam, ker = _pair(get_compiled_model)
    histories = []
    for keras, model in ((lamina, lam), (real_keras, ker)):
        callbacks = [
            keras.callbacks.EarlyStopping(
                # Stop training when `val_loss` is no longer improving
                monitor="val_loss",
                # "no longer improving" being defined as "no better than 1e-2 less"
                min_delta=1e-2,
                # "no longer improving" being further defined as "for at least 2 epochs"
                patience=2,
                verbose=1,
            )
        ]
        histories.append(
            model.fit(
                X_TRAIN,
                Y_TRAIN,
                epochs=20,
                batch_size=64,
                callbacks=callbacks,
                validation_split=0.2,
                shuffle=False,
                verbose=0,
            )
        )
        assert histories[-1].model is model
    _assert_history_equal(*histories)
    stopped = len(histories[0].epoch)
    assert 2 < stopped < 20
    out = capsys.readouterr().out
    assert out.count(f"Epoch {stopped}: early stopping") == 2  # Lamina's line, then Keras's


def loss_history_for(keras):
    class LossHistory(keras.callbacks.Callback):
        def on_train_begin(self, logs):
            self.per_batch_losses = []

        def on_batch_end(self, batch, logs):
            self.per_batch_losses.append(logs.get("loss"))

    return LossHistory


def test_custom_callback_records_per_batch_losses_like_keras():
    lam, ker = _pair(get_compiled_model)
    recorded = []
    for keras, model in ((lamina, lam), (real_keras, ker)):
        cb = loss_history_for(keras)()
        model.fit(X_TRAIN, Y_TRAIN, epochs=2, batch_size=64, callbacks=[cb], shuffle=False, verbose=0)
        recorded.append(cb.per_batch_losses)
    assert len(recorded[0]) == 8 and all(type(v) is float for v in recorded[0])
    np.testing.assert_allclose(recorded[0], recorded[1], rtol=ATOL, atol=ATOL)


def test_batch_logs_are_sorted_python_floats_like_keras():
    seen = {}

    class Peek(lamina.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            seen["train"] = dict(logs)

        def on_test_batch_end(self, batch, logs=None):
            seen["test"] = dict(logs)

        def on_epoch_end(self, epoch, logs=None):
            seen["epoch"] = logs

    def build(keras):
        model = get_uncompiled_model(keras)
        model.compile(
            optimizer="rmsprop",
            loss="sparse_categorical_crossentropy",
            metrics=[categorical_true_positives_for(keras)(), "sparse_categorical_accuracy"],
        )
        return model

    model = build(lamina)
    model.fit(X_TRAIN, Y_TRAIN, epochs=1, batch_size=64, validation_data=(X_VAL, Y_VAL), callbacks=[Peek()], verbose=0)
    assert list(seen["train"]) == ["categorical_true_positives", "loss", "sparse_categorical_accuracy"]
    assert list(seen["test"]) == list(seen["train"])
    assert list(seen["epoch"]) == sorted(seen["epoch"]) and len(seen["epoch"]) == 6
    types = {k: {type(v).__name__ for v in logs.values()} for k, logs in seen.items()}
    assert types == {"train": {"float"}, "test": {"float"}, "epoch": {"float"}}


def test_model_checkpoint_save_best_only_matches_keras(tmp_path, capsys):
    lam, ker = _pair(get_compiled_model)
    files = {}
    for name, keras, model in (("lamina", lamina, lam), ("keras", real_keras, ker)):
        folder = tmp_path / name
        folder.mkdir()
        callbacks = [
            keras.callbacks.ModelCheckpoint(
                # Path where to save the model
                # The two parameters below mean that we will overwrite
                # the current checkpoint if and only if
                # the `val_loss` score has improved.
                # The saved model name will include the current epoch.
                filepath=str(folder / "mymodel_{epoch}.keras"),
                save_best_only=True,  # Only save a model if `val_loss` has improved.
                monitor="val_loss",
                verbose=1,
            )
        ]
        model.fit(
            X_TRAIN,
            Y_TRAIN,
            epochs=3,
            batch_size=64,
            callbacks=callbacks,
            validation_split=0.2,
            shuffle=False,
            verbose=0,
        )
        files[name] = sorted(os.listdir(folder))
    assert files["lamina"] == files["keras"]
    assert "mymodel_1.keras" in files["lamina"]
    out = capsys.readouterr().out
    assert "Epoch 1: val_loss improved from inf to" in out
    last = files["lamina"][-1]
    restored = lamina.models.load_model(str(tmp_path / "lamina" / last))
    np.testing.assert_allclose(
        restored.predict(X_TEST, verbose=0),
        real_keras.models.load_model(str(tmp_path / "keras" / last)).predict(X_TEST, verbose=0),
        rtol=ATOL,
        atol=ATOL,
    )


def test_checkpoints_for_fault_tolerance(tmp_path):
    # Prepare a directory to store all the checkpoints.
    checkpoint_dir = str(tmp_path / "ckpt")
    if not os.path.exists(checkpoint_dir):
        os.makedirs(checkpoint_dir)

    def make_or_restore_model(keras):
        # Either restore the latest model, or create a fresh one
        # if there is no checkpoint available.
        checkpoints = [checkpoint_dir + "/" + name for name in os.listdir(checkpoint_dir)]
        if checkpoints:
            latest_checkpoint = max(checkpoints, key=os.path.getctime)
            return keras.models.load_model(latest_checkpoint), latest_checkpoint
        return get_compiled_model(keras), None

    model, restored_from = make_or_restore_model(lamina)
    assert restored_from is None
    callbacks = [
        # This callback saves the model every 2 batches.
        # We include the training loss in the saved model name.
        lamina.callbacks.ModelCheckpoint(filepath=checkpoint_dir + "/model-loss={loss:.2f}.keras", save_freq=2)
    ]
    model.fit(X_TRAIN, Y_TRAIN, epochs=1, batch_size=32, callbacks=callbacks, shuffle=False, verbose=0)
    names = os.listdir(checkpoint_dir)
    assert 1 <= len(names) <= 4 and all(n.startswith("model-loss=") and n.endswith(".keras") for n in names)
    for n in names:
        float(n[len("model-loss=") : -len(".keras")])  # the loss, formatted with 2 decimals

    restored, restored_from = make_or_restore_model(lamina)
    assert restored_from is not None
    assert restored.optimizer.iterations.numpy() > 0  # the optimizer state came back too
    before = restored.evaluate(X_TEST, Y_TEST, verbose=0)
    h = restored.fit(X_TRAIN, Y_TRAIN, epochs=2, batch_size=32, shuffle=False, verbose=0)
    assert h.history["loss"][-1] < before[0]
    # Keras reads the same checkpoint.
    ker = real_keras.models.load_model(restored_from)
    lam_again = lamina.models.load_model(restored_from)
    np.testing.assert_allclose(
        lam_again.predict(X_TEST, verbose=0), ker.predict(X_TEST, verbose=0), rtol=1e-5, atol=1e-6
    )


# ---------------------------------------------------------------------------------------------- learning rates
def test_schedule_passed_as_learning_rate_matches_keras():
    def build(keras, decay_steps=100000):
        initial_learning_rate = 0.1
        lr_schedule = keras.optimizers.schedules.ExponentialDecay(
            initial_learning_rate, decay_steps=decay_steps, decay_rate=0.96, staircase=True
        )
        optimizer = keras.optimizers.RMSprop(learning_rate=lr_schedule)
        model = get_uncompiled_model(keras)
        model.compile(
            optimizer=optimizer, loss="sparse_categorical_crossentropy", metrics=["sparse_categorical_accuracy"]
        )
        return model

    for decay_steps in (100000, 2):
        lam, ker = _pair(lambda keras, d=decay_steps: build(keras, d))
        kw = dict(epochs=2, batch_size=64, shuffle=False, verbose=0)
        _assert_history_equal(lam.fit(X_TRAIN, Y_TRAIN, **kw), ker.fit(X_TRAIN, Y_TRAIN, **kw), atol=1e-3)
        assert int(lam.optimizer.iterations.numpy()) == 8
        np.testing.assert_allclose(float(lam.optimizer.learning_rate), float(ker.optimizer.learning_rate), rtol=1e-6)
    assert float(lam.optimizer.learning_rate) == pytest.approx(0.1 * 0.96**4)


def test_reduce_lr_on_plateau_and_learning_rate_scheduler_match_keras():
    def schedule(epoch, lr):
        return lr if epoch < 1 else lr * 0.5

    lam, ker = _pair(get_compiled_model)
    histories = []
    for keras, model in ((lamina, lam), (real_keras, ker)):
        callbacks = [
            keras.callbacks.LearningRateScheduler(schedule),
            keras.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=0, min_delta=10.0),
        ]
        histories.append(
            model.fit(
                X_TRAIN,
                Y_TRAIN,
                epochs=3,
                batch_size=64,
                validation_data=(X_VAL, Y_VAL),
                callbacks=callbacks,
                shuffle=False,
                verbose=0,
            )
        )
    _assert_history_equal(*histories)
    assert "learning_rate" in histories[0].history
    np.testing.assert_allclose(histories[0].history["learning_rate"], [1e-3, 5e-4, 1.25e-4], rtol=1e-6)
    assert float(lam.optimizer.learning_rate) == pytest.approx(float(ker.optimizer.learning_rate))


def test_tensorboard_callback(tmp_path):
    try:
        import tensorboard  # noqa: F401
    except ImportError:
        with pytest.raises(ImportError, match="pip install"):
            lamina.callbacks.TensorBoard(log_dir=str(tmp_path))
        return
    tb = lamina.callbacks.TensorBoard(
        log_dir=str(tmp_path),
        histogram_freq=0,  # How often to log histogram visualizations
        embeddings_freq=0,  # How often to log embedding visualizations
        update_freq="epoch",
    )  # How often to write logs (default: once per epoch)
    model = get_compiled_model(lamina)
    model.fit(X_TRAIN, Y_TRAIN, epochs=2, batch_size=64, validation_data=(X_VAL, Y_VAL), callbacks=[tb], verbose=0)
    assert sorted(os.listdir(tmp_path)) == ["train", "validation"]
    assert os.listdir(tmp_path / "train")
