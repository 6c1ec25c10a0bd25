# ruff: noqa: UP032  (the guide's callbacks are kept verbatim, str.format included)
"""The Keras guide "Writing your own callbacks", replayed with ``import lamina as keras``.

The guide's callbacks are written once as functions of the ``keras`` module they receive and run on Lamina and
on the real Keras 3 (torch backend). What they print is compared with Keras where it is deterministic: every
log key every hook receives, the learning-rate schedule, and the evaluation losses of equal weights (``fit``
shuffles with each library's own generator). The data are small generated arrays shaped like the guide's
MNIST (no download). One change to the guide's text: ``np.Inf`` is ``np.inf`` (NumPy 2 removed the alias).
"""

import re

import keras as real_keras
import numpy as np
import pytest

import lamina


@pytest.fixture(autouse=True)
def _seeded():
    lamina.utils.set_random_seed(1337)


def _mnist_like(n=1000, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.random((n, 784)).astype("float32")
    return x, x[:, :780].reshape(n, 10, 78).mean(-1).argmax(-1).astype("uint8")


X_TRAIN, Y_TRAIN = _mnist_like()
X_TEST, Y_TEST = _mnist_like(seed=1)


# Define the Keras model to add callbacks to
def get_model(keras):
    model = keras.Sequential()
    model.add(keras.layers.Dense(1))
    model.compile(
        optimizer=keras.optimizers.RMSprop(learning_rate=0.1),
        loss="mean_squared_error",
        metrics=["mean_absolute_error"],
    )
    return model


def custom_callback(keras):
    class CustomCallback(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            keys = list(logs.keys())
            print("Starting training; got log keys: {}".format(keys))

        def on_train_end(self, logs=None):
            keys = list(logs.keys())
            print("Stop training; got log keys: {}".format(keys))

        def on_epoch_begin(self, epoch, logs=None):
            keys = list(logs.keys())
            print("Start epoch {} of training; got log keys: {}".format(epoch, keys))

        def on_epoch_end(self, epoch, logs=None):
            keys = list(logs.keys())
            print("End epoch {} of training; got log keys: {}".format(epoch, keys))

        def on_test_begin(self, logs=None):
            keys = list(logs.keys())
            print("Start testing; got log keys: {}".format(keys))

        def on_test_end(self, logs=None):
            keys = list(logs.keys())
            print("Stop testing; got log keys: {}".format(keys))

        def on_predict_begin(self, logs=None):
            keys = list(logs.keys())
            print("Start predicting; got log keys: {}".format(keys))

        def on_predict_end(self, logs=None):
            keys = list(logs.keys())
            print("Stop predicting; got log keys: {}".format(keys))

        def on_train_batch_begin(self, batch, logs=None):
            keys = list(logs.keys())
            print("...Training: start of batch {}; got log keys: {}".format(batch, keys))

        def on_train_batch_end(self, batch, logs=None):
            keys = list(logs.keys())
            print("...Training: end of batch {}; got log keys: {}".format(batch, keys))

        def on_test_batch_begin(self, batch, logs=None):
            keys = list(logs.keys())
            print("...Evaluating: start of batch {}; got log keys: {}".format(batch, keys))

        def on_test_batch_end(self, batch, logs=None):
            keys = list(logs.keys())
            print("...Evaluating: end of batch {}; got log keys: {}".format(batch, keys))

        def on_predict_batch_begin(self, batch, logs=None):
            keys = list(logs.keys())
            print("...Predicting: start of batch {}; got log keys: {}".format(batch, keys))

        def on_predict_batch_end(self, batch, logs=None):
            keys = list(logs.keys())
            print("...Predicting: end of batch {}; got log keys: {}".format(batch, keys))

    return CustomCallback()


def basic_example(keras):
    CustomCallback = lambda: custom_callback(keras)  # noqa: N806 (the guide's class name)
    model = get_model(keras)
    model.fit(
        X_TRAIN,
        Y_TRAIN,
        batch_size=128,
        epochs=1,
        verbose=0,
        validation_split=0.5,
        callbacks=[CustomCallback()],
    )
    res = model.evaluate(X_TEST, Y_TEST, batch_size=128, verbose=0, callbacks=[CustomCallback()])
    res = model.predict(X_TEST, batch_size=128, callbacks=[CustomCallback()])
    return res


def _callback_lines(text):
    """The guide's printed lines, without the progress bar that predict draws between them."""
    text = re.sub(r"\x1b\[[0-9;]*m|\x08", "", text)  # colours, and the backspaces Keras redraws with
    text = re.sub(r"\d+/\d+ [━ ]*\S* ?[\d.]+[mu]?s/step", "\n", text)  # a live bar line, wherever it was drawn
    text = re.sub(r"\d+/\d+ - \d+s - [\d.]+[mu]?s/step", "\n", text)  # a verbose=2 line
    return [line.strip() for line in text.replace("\r", "\n").splitlines() if line.strip()]


def test_every_hook_gets_a_dict_with_keras_keys(capsys):
    basic_example(real_keras)
    keras_lines = _callback_lines(capsys.readouterr().out)
    basic_example(lamina)
    lamina_lines = _callback_lines(capsys.readouterr().out)
    assert "Starting training; got log keys: []" in keras_lines
    assert len(lamina_lines) == len(keras_lines) == 22 + 18 + 18  # fit with validation, evaluate, predict
    assert lamina_lines == keras_lines


def loss_and_error_printing_callback(keras):
    class LossAndErrorPrintingCallback(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            print("Up to batch {}, the average loss is {:7.2f}.".format(batch, logs["loss"]))

        def on_test_batch_end(self, batch, logs=None):
            print("Up to batch {}, the average loss is {:7.2f}.".format(batch, logs["loss"]))

        def on_epoch_end(self, epoch, logs=None):
            print(
                "The average loss for epoch {} is {:7.2f} and mean absolute error is {:7.2f}.".format(
                    epoch, logs["loss"], logs["mean_absolute_error"]
                )
            )

    return LossAndErrorPrintingCallback()


def test_usage_of_logs_dict(capsys):
    model = get_model(lamina)
    history = model.fit(
        X_TRAIN, Y_TRAIN, batch_size=128, epochs=2, verbose=0, callbacks=[loss_and_error_printing_callback(lamina)]
    )
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2 * 8 + 2
    assert all(re.fullmatch(r"Up to batch \d, the average loss is +[\d.]+\.", line) for line in lines[:8])
    assert lines[8] == "The average loss for epoch 0 is {:7.2f} and mean absolute error is {:7.2f}.".format(
        history.history["loss"][0], history.history["mean_absolute_error"][0]
    )

    # evaluate is deterministic: the same weights print the same losses as in Keras
    ker = get_model(real_keras)
    ker.build((None, 784))
    ker.set_weights(model.get_weights())
    ker.evaluate(X_TEST, Y_TEST, batch_size=128, verbose=0, callbacks=[loss_and_error_printing_callback(real_keras)])
    keras_lines = capsys.readouterr().out.splitlines()
    model.evaluate(X_TEST, Y_TEST, batch_size=128, verbose=0, callbacks=[loss_and_error_printing_callback(lamina)])
    assert capsys.readouterr().out.splitlines() == keras_lines
    assert len(keras_lines) == 8


def early_stopping_at_min_loss(keras):
    class EarlyStoppingAtMinLoss(keras.callbacks.Callback):
        """Stop training when the loss is at its min, i.e. the loss stops decreasing."""

        def __init__(self, patience=0):
            super().__init__()
            self.patience = patience
            # best_weights to store the weights at which the minimum loss occurs.
            self.best_weights = None

        def on_train_begin(self, logs=None):
            # The number of epoch it has waited when loss is no longer minimum.
            self.wait = 0
            # The epoch the training stops at.
            self.stopped_epoch = 0
            # Initialize the best as infinity.
            self.best = np.inf

        def on_epoch_end(self, epoch, logs=None):
            current = logs.get("loss")
            if np.less(current, self.best):
                self.best = current
                self.wait = 0
                # Record the best weights if current results is better (less).
                self.best_weights = self.model.get_weights()
            else:
                self.wait += 1
                if self.wait >= self.patience:
                    self.stopped_epoch = epoch
                    self.model.stop_training = True
                    print("Restoring model weights from the end of the best epoch.")
                    self.model.set_weights(self.best_weights)

        def on_train_end(self, logs=None):
            if self.stopped_epoch > 0:
                print(f"Epoch {self.stopped_epoch + 1}: early stopping")

    return EarlyStoppingAtMinLoss()


def test_early_stopping_at_min_loss(capsys):
    model = get_model(lamina)
    stopper = early_stopping_at_min_loss(lamina)
    history = model.fit(
        X_TRAIN,
        Y_TRAIN,
        batch_size=64,
        epochs=30,
        verbose=0,
        callbacks=[loss_and_error_printing_callback(lamina), stopper],
    )
    out = capsys.readouterr().out
    losses = history.history["loss"]
    assert stopper.stopped_epoch == len(losses) - 1 > 0
    assert losses[-1] >= min(losses[:-1])  # it stopped at the first epoch that did not improve
    restored = "Restoring model weights from the end of the best epoch.\n"
    assert out.endswith(f"{restored}Epoch {len(losses)}: early stopping\n")
    best = get_model(lamina)
    best.build((None, 784))
    best.set_weights(stopper.best_weights)
    np.testing.assert_array_equal(model.get_weights()[0], best.get_weights()[0])


def custom_learning_rate_scheduler(keras, schedule):
    class CustomLearningRateScheduler(keras.callbacks.Callback):
        """Learning rate scheduler which sets the learning rate according to schedule."""

        def __init__(self, schedule):
            super().__init__()
            self.schedule = schedule

        def on_epoch_begin(self, epoch, logs=None):
            if not hasattr(self.model.optimizer, "learning_rate"):
                raise ValueError('Optimizer must have a "learning_rate" attribute.')
            # Get the current learning rate from model's optimizer.
            lr = self.model.optimizer.learning_rate
            # Call schedule function to get the scheduled learning rate.
            scheduled_lr = self.schedule(epoch, lr)
            # Set the value back to the optimizer before this epoch starts
            self.model.optimizer.learning_rate = scheduled_lr
            print(f"\nEpoch {epoch}: Learning rate is {float(np.array(scheduled_lr))}.")

    return CustomLearningRateScheduler(schedule)


LR_SCHEDULE = [
    # (epoch to start, learning rate) tuples
    (3, 0.05),
    (6, 0.01),
    (9, 0.005),
    (12, 0.001),
]


def lr_schedule(epoch, lr):
    """Helper function to retrieve the scheduled learning rate based on epoch."""
    if epoch < LR_SCHEDULE[0][0] or epoch > LR_SCHEDULE[-1][0]:
        return lr
    for i in range(len(LR_SCHEDULE)):
        if epoch == LR_SCHEDULE[i][0]:
            return LR_SCHEDULE[i][1]
    return lr


def test_learning_rate_scheduling_prints_keras_schedule(capsys):
    def run(keras):
        model = get_model(keras)
        model.fit(
            X_TRAIN[:256],
            Y_TRAIN[:256],
            batch_size=64,
            epochs=15,
            verbose=0,
            callbacks=[loss_and_error_printing_callback(keras), custom_learning_rate_scheduler(keras, lr_schedule)],
        )
        lines = capsys.readouterr().out.splitlines()
        return model, [line for line in lines if "Learning rate" in line]

    _, keras_lines = run(real_keras)
    model, lamina_lines = run(lamina)
    assert len(lamina_lines) == 15
    assert lamina_lines == keras_lines
    assert float(np.array(model.optimizer.learning_rate)) == pytest.approx(0.001)
