"""The torch guides "Customizing what happens in fit() with PyTorch" and "Writing a training loop from scratch in
PyTorch", replayed with ``import lamina as keras``.

Each snippet is written once as a function of the ``keras`` module it receives, so the same code runs on Lamina
and on the real Keras 3 (torch backend). Where the run is deterministic (the same initial weights, no shuffling,
or the same torch seed for a shuffling DataLoader) the History, the printed progress line, ``evaluate`` and the
losses are compared with Keras; elsewhere the structure is checked. The data are small generated arrays.
"""

import re

import keras as real_keras
import numpy as np
import pytest
import torch

import lamina

ATOL = 1e-4


@pytest.fixture(autouse=True)
def _seeded():
    lamina.utils.set_random_seed(1337)


def _data(n=96, d=32, seed=0):
    rng = np.random.default_rng(seed)
    return rng.random((n, d)), rng.random((n, 1)), rng.random((n, 1))  # float64, as the guide's np.random.random


def _pair(build):
    """The same model in Lamina and in Keras, with Lamina's initial weights copied into Keras."""
    lam, ker = build(lamina), build(real_keras)
    weights = lam.get_weights()
    assert [w.shape for w in weights] == [w.shape for w in ker.get_weights()]
    ker.set_weights(weights)
    return lam, ker


def _assert_history_equal(h_lam, h_ker):
    assert list(h_lam.history) == list(h_ker.history)  # the same keys, in Keras's order
    for key, values in h_ker.history.items():
        np.testing.assert_allclose(h_lam.history[key], values, rtol=ATOL, atol=ATOL, err_msg=key)


def _progress_lines(text):
    """The verbose=2 epoch lines without their timings: ``4/4 - mae: 0.4 - loss: 0.2``."""
    lines = [line for line in text.splitlines() if re.match(r"^\s*\d+/\d+ - ", line)]
    return [re.sub(r" - \d+s - \d+[mu]?s/step", "", line) for line in lines]


def _fit_both(capsys, build, fit):
    lam, ker = _pair(build)
    h_ker = fit(ker)
    keras_out = capsys.readouterr().out
    h_lam = fit(lam)
    lamina_out = capsys.readouterr().out
    return (lam, h_lam, _progress_lines(lamina_out)), (ker, h_ker, _progress_lines(keras_out))


# ---------------------------------------------------------------------------------------------- a first simple example
def first_example_model(keras):
    class CustomModel(keras.Model):
        def train_step(self, data):
            # Unpack the data. Its structure depends on your model and
            # on what you pass to `fit()`.
            x, y = data

            # Call torch.nn.Module.zero_grad() to clear the leftover gradients
            # for the weights from the previous train step.
            self.zero_grad()

            # Compute loss
            y_pred = self(x, training=True)  # Forward pass
            loss = self.compute_loss(y=y, y_pred=y_pred)

            # Call torch.Tensor.backward() on the loss to compute gradients
            # for the weights.
            loss.backward()

            trainable_weights = [v for v in self.trainable_weights]
            gradients = [v.value.grad for v in trainable_weights]

            # Update weights
            with torch.no_grad():
                self.optimizer.apply(gradients, trainable_weights)

            # Update metrics (includes the metric that tracks the loss)
            for metric in self.metrics:
                if metric.name == "loss":
                    metric.update_state(loss)
                else:
                    metric.update_state(y, y_pred)

            # Return a dict mapping metric names to current value
            # Note that it will include the loss (tracked in self.metrics).
            return {m.name: m.result() for m in self.metrics}

    # Construct and compile an instance of CustomModel
    inputs = keras.Input(shape=(32,))
    outputs = keras.layers.Dense(1)(inputs)
    model = CustomModel(inputs, outputs)
    model.compile(optimizer="adam", loss="mse", metrics=["mae"])
    return model


def test_first_simple_example_nested_logs_match_keras(capsys):
    """The step returns ``{"loss": ..., "compile_metrics": {"mae": ...}}``: Keras flattens it for the bar and
    History."""
    x, y, _ = _data()
    (lam, h_lam, lam_lines), (ker, h_ker, ker_lines) = _fit_both(
        capsys, first_example_model, lambda m: m.fit(x, y, epochs=3, shuffle=False, verbose=2)
    )
    assert list(h_lam.history) == ["mae", "loss"]
    _assert_history_equal(h_lam, h_ker)
    assert len(lam_lines) == len(ker_lines) == 3
    for line_lam, line_ker in zip(lam_lines, ker_lines, strict=True):
        assert line_lam == line_ker, (line_lam, line_ker)
    # As written in the guide: shuffled, verbose="auto" (a line per epoch when captured)
    history = first_example_model(lamina).fit(x, y, epochs=3)
    assert list(history.history) == ["mae", "loss"] and len(history.history["loss"]) == 3


# ---------------------------------------------------------------------------------------------- going lower-level
def lower_level_model(keras):
    class CustomModel(keras.Model):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.loss_tracker = keras.metrics.Mean(name="loss")
            self.mae_metric = keras.metrics.MeanAbsoluteError(name="mae")
            self.loss_fn = keras.losses.MeanSquaredError()

        def train_step(self, data):
            x, y = data

            # Call torch.nn.Module.zero_grad() to clear the leftover gradients
            # for the weights from the previous train step.
            self.zero_grad()

            # Compute loss
            y_pred = self(x, training=True)  # Forward pass
            loss = self.loss_fn(y, y_pred)

            # Call torch.Tensor.backward() on the loss to compute gradients
            # for the weights.
            loss.backward()

            trainable_weights = [v for v in self.trainable_weights]
            gradients = [v.value.grad for v in trainable_weights]

            # Update weights
            with torch.no_grad():
                self.optimizer.apply(gradients, trainable_weights)

            # Compute our own metrics
            self.loss_tracker.update_state(loss)
            self.mae_metric.update_state(y, y_pred)
            return {
                "loss": self.loss_tracker.result(),
                "mae": self.mae_metric.result(),
            }

        @property
        def metrics(self):
            # We list our `Metric` objects here so that `reset_states()` can be
            # called automatically at the start of each epoch
            # or at the start of `evaluate()`.
            return [self.loss_tracker, self.mae_metric]

    # Construct an instance of CustomModel
    inputs = keras.Input(shape=(32,))
    outputs = keras.layers.Dense(1)(inputs)
    model = CustomModel(inputs, outputs)

    # We don't pass a loss or metrics here.
    model.compile(optimizer="adam")
    return model


def test_going_lower_level_own_metrics_match_keras(capsys):
    x, y, _ = _data()
    (lam, h_lam, lam_lines), (ker, h_ker, ker_lines) = _fit_both(
        capsys, lower_level_model, lambda m: m.fit(x, y, epochs=5, shuffle=False, verbose=2)
    )
    _assert_history_equal(h_lam, h_ker)
    assert lam_lines == ker_lines and len(lam_lines) == 5


# ---------------------------------------------------------------------------------------------- sample_weight
def sample_weight_model(keras):
    class CustomModel(keras.Model):
        def train_step(self, data):
            # Unpack the data. Its structure depends on your model and
            # on what you pass to `fit()`.
            if len(data) == 3:
                x, y, sample_weight = data
            else:
                sample_weight = None
                x, y = data

            # Call torch.nn.Module.zero_grad() to clear the leftover gradients
            # for the weights from the previous train step.
            self.zero_grad()

            # Compute loss
            y_pred = self(x, training=True)  # Forward pass
            loss = self.compute_loss(
                y=y,
                y_pred=y_pred,
                sample_weight=sample_weight,
            )

            # Call torch.Tensor.backward() on the loss to compute gradients
            # for the weights.
            loss.backward()

            trainable_weights = [v for v in self.trainable_weights]
            gradients = [v.value.grad for v in trainable_weights]

            # Update weights
            with torch.no_grad():
                self.optimizer.apply(gradients, trainable_weights)

            # Update metrics (includes the metric that tracks the loss)
            for metric in self.metrics:
                if metric.name == "loss":
                    metric.update_state(loss)
                else:
                    metric.update_state(y, y_pred, sample_weight=sample_weight)

            # Return a dict mapping metric names to current value
            # Note that it will include the loss (tracked in self.metrics).
            return {m.name: m.result() for m in self.metrics}

    # Construct and compile an instance of CustomModel
    inputs = keras.Input(shape=(32,))
    outputs = keras.layers.Dense(1)(inputs)
    model = CustomModel(inputs, outputs)
    model.compile(optimizer="adam", loss="mse", metrics=["mae"])
    return model


def test_sample_weight_support_matches_keras(capsys):
    x, y, sw = _data()
    (lam, h_lam, lam_lines), (ker, h_ker, ker_lines) = _fit_both(
        capsys, sample_weight_model, lambda m: m.fit(x, y, sample_weight=sw, epochs=3, shuffle=False, verbose=2)
    )
    _assert_history_equal(h_lam, h_ker)
    assert lam_lines == ker_lines and len(lam_lines) == 3


# ---------------------------------------------------------------------------------------------- evaluation step
def custom_test_step_model(keras):
    class CustomModel(keras.Model):
        def test_step(self, data):
            # Unpack the data
            x, y = data
            # Compute predictions
            y_pred = self(x, training=False)
            # Updates the metrics tracking the loss
            loss = self.compute_loss(y=y, y_pred=y_pred)
            # Update the metrics.
            for metric in self.metrics:
                if metric.name == "loss":
                    metric.update_state(loss)
                else:
                    metric.update_state(y, y_pred)
            # Return a dict mapping metric names to current value.
            # Note that it will include the loss (tracked in self.metrics).
            return {m.name: m.result() for m in self.metrics}

    # Construct an instance of CustomModel
    inputs = keras.Input(shape=(32,))
    outputs = keras.layers.Dense(1)(inputs)
    model = CustomModel(inputs, outputs)
    model.compile(loss="mse", metrics=["mae"])
    return model


def test_own_evaluation_step_matches_keras(capsys):
    x, y, _ = _data()
    lam, ker = _pair(custom_test_step_model)
    result_ker = ker.evaluate(x, y, verbose=2)
    ker_lines = _progress_lines(capsys.readouterr().out)
    result_lam = lam.evaluate(x, y, verbose=2)
    lam_lines = _progress_lines(capsys.readouterr().out)
    np.testing.assert_allclose(result_lam, result_ker, rtol=ATOL, atol=ATOL)
    assert lam_lines == ker_lines and len(lam_lines) == 1
    logs_lam = lam.evaluate(x, y, verbose=0, return_dict=True)
    logs_ker = ker.evaluate(x, y, verbose=0, return_dict=True)
    assert list(logs_lam) == list(logs_ker) == ["mae", "loss"]
    # a custom test step inside fit: validation logs come flattened with the val_ prefix, as in Keras
    h_lam = lam.fit(x, y, validation_data=(x, y), epochs=1, shuffle=False, verbose=0)
    h_ker = ker.fit(x, y, validation_data=(x, y), epochs=1, shuffle=False, verbose=0)
    _assert_history_equal(h_lam, h_ker)


# ---------------------------------------------------------------------------------------------- steps returning tensors
def test_step_logs_with_tensor_values_reach_callbacks_like_keras():
    """Non-scalar tensors and Python numbers in a step's dict reach callbacks as Keras passes them
    (NumPy arrays, floats); a step returning a bare tensor is refused with a clear error."""

    def build(keras):
        class StepModel(keras.Model):
            def train_step(self, data):
                x, y = data
                self.zero_grad()
                loss = self.compute_loss(y=y, y_pred=self(x, training=True))
                loss.backward()
                with torch.no_grad():
                    self.optimizer.apply([v.value.grad for v in self.trainable_weights], self.trainable_weights)
                return {"loss": loss.detach(), "per_output": torch.ones(2) * 3, "step": 1, "extra": {"lr": 0.5}}

        inputs = keras.Input(shape=(32,))
        model = StepModel(inputs, keras.layers.Dense(1)(inputs))
        model.compile(optimizer="sgd", loss="mse")
        return model

    seen = {}

    def recorder(keras):
        class Recorder(keras.callbacks.Callback):
            def on_train_batch_end(self, batch, logs=None):
                seen.setdefault(keras.__name__, []).append(logs)

        return Recorder()

    x, y, _ = _data()
    lam, ker = _pair(build)
    h_ker = ker.fit(x, y, epochs=1, batch_size=48, shuffle=False, verbose=0, callbacks=[recorder(real_keras)])
    h_lam = lam.fit(x, y, epochs=1, batch_size=48, shuffle=False, verbose=0, callbacks=[recorder(lamina)])
    for logs_lam, logs_ker in zip(seen["lamina"], seen["keras"], strict=True):
        assert list(logs_lam) == list(logs_ker) == ["lr", "loss", "per_output", "step"]
        assert isinstance(logs_lam["per_output"], np.ndarray) and isinstance(logs_ker["per_output"], np.ndarray)
        np.testing.assert_array_equal(logs_lam["per_output"], logs_ker["per_output"])
        assert logs_lam["step"] == logs_ker["step"] == 1.0 and logs_lam["lr"] == 0.5
        np.testing.assert_allclose(logs_lam["loss"], logs_ker["loss"], rtol=ATOL)
    assert list(h_lam.history) == list(h_ker.history)

    class BareTensor(lamina.Model):
        def train_step(self, data):
            return torch.tensor(1.0)

    inputs = lamina.Input(shape=(32,))
    model = BareTensor(inputs, lamina.layers.Dense(1)(inputs))
    model.compile(optimizer="sgd", loss="mse")
    with pytest.raises(TypeError, match="Logs must be a dict.*Received: Tensor"):
        model.fit(x, y, epochs=1, verbose=2)


# ---------------------------------------------------------------------------------------------- the GAN
def gan_models(keras, latent_dim=16):
    layers = keras.layers
    # Create the discriminator (the guide's, narrower)
    discriminator = keras.Sequential(
        [
            keras.Input(shape=(28, 28, 1)),
            layers.Conv2D(8, (3, 3), strides=(2, 2), padding="same"),
            layers.LeakyReLU(negative_slope=0.2),
            layers.Conv2D(16, (3, 3), strides=(2, 2), padding="same"),
            layers.LeakyReLU(negative_slope=0.2),
            layers.GlobalMaxPooling2D(),
            layers.Dense(1),
        ],
        name="discriminator",
    )
    # Create the generator
    generator = keras.Sequential(
        [
            keras.Input(shape=(latent_dim,)),
            # We want to generate 128 coefficients to reshape into a 7x7x128 map
            layers.Dense(7 * 7 * 16),
            layers.LeakyReLU(negative_slope=0.2),
            layers.Reshape((7, 7, 16)),
            layers.Conv2DTranspose(16, (4, 4), strides=(2, 2), padding="same"),
            layers.LeakyReLU(negative_slope=0.2),
            layers.Conv2DTranspose(16, (4, 4), strides=(2, 2), padding="same"),
            layers.LeakyReLU(negative_slope=0.2),
            layers.Conv2D(1, (7, 7), padding="same", activation="sigmoid"),
        ],
        name="generator",
    )
    return discriminator, generator


def gan_class(keras):
    class GAN(keras.Model):
        def __init__(self, discriminator, generator, latent_dim):
            super().__init__()
            self.discriminator = discriminator
            self.generator = generator
            self.latent_dim = latent_dim
            self.d_loss_tracker = keras.metrics.Mean(name="d_loss")
            self.g_loss_tracker = keras.metrics.Mean(name="g_loss")
            self.seed_generator = keras.random.SeedGenerator(1337)
            self.built = True

        @property
        def metrics(self):
            return [self.d_loss_tracker, self.g_loss_tracker]

        def compile(self, d_optimizer, g_optimizer, loss_fn):
            super().compile()
            self.d_optimizer = d_optimizer
            self.g_optimizer = g_optimizer
            self.loss_fn = loss_fn

        def train_step(self, real_images):
            device = "cuda" if torch.cuda.is_available() else "cpu"
            if isinstance(real_images, tuple):
                real_images = real_images[0]
            # Sample random points in the latent space
            batch_size = real_images.shape[0]
            random_latent_vectors = keras.random.normal(shape=(batch_size, self.latent_dim), seed=self.seed_generator)

            # Decode them to fake images
            generated_images = self.generator(random_latent_vectors)

            # Combine them with real images
            real_images = torch.tensor(real_images, device=device)
            combined_images = torch.concat([generated_images, real_images], axis=0)

            # Assemble labels discriminating real from fake images
            labels = torch.concat(
                [
                    torch.ones((batch_size, 1), device=device),
                    torch.zeros((batch_size, 1), device=device),
                ],
                axis=0,
            )
            # Add random noise to the labels - important trick!
            labels += 0.05 * keras.random.uniform(labels.shape, seed=self.seed_generator)

            # Train the discriminator
            self.zero_grad()
            predictions = self.discriminator(combined_images)
            d_loss = self.loss_fn(labels, predictions)
            d_loss.backward()
            grads = [v.value.grad for v in self.discriminator.trainable_weights]
            with torch.no_grad():
                self.d_optimizer.apply(grads, self.discriminator.trainable_weights)

            # Sample random points in the latent space
            random_latent_vectors = keras.random.normal(shape=(batch_size, self.latent_dim), seed=self.seed_generator)

            # Assemble labels that say "all real images"
            misleading_labels = torch.zeros((batch_size, 1), device=device)

            # Train the generator (note that we should *not* update the weights
            # of the discriminator)!
            self.zero_grad()
            predictions = self.discriminator(self.generator(random_latent_vectors))
            g_loss = self.loss_fn(misleading_labels, predictions)
            grads = g_loss.backward()
            grads = [v.value.grad for v in self.generator.trainable_weights]
            with torch.no_grad():
                self.g_optimizer.apply(grads, self.generator.trainable_weights)

            # Update metrics and return their value.
            self.d_loss_tracker.update_state(d_loss)
            self.g_loss_tracker.update_state(g_loss)
            return {
                "d_loss": self.d_loss_tracker.result(),
                "g_loss": self.g_loss_tracker.result(),
            }

    return GAN


@pytest.mark.filterwarnings("ignore:To copy construct from a tensor:UserWarning")
def test_end_to_end_gan_trains_from_a_dataloader_of_pairs():
    """The guide's GAN on a DataLoader of (images, images) pairs. Keras 3.15 hands the custom step the
    DataLoader's list (``real_images.shape`` then fails there); Lamina hands it the (x, y) tuple the step
    unpacks, as Keras's own steps read a batch."""
    keras = lamina
    all_digits = np.random.default_rng(0).random((128, 28, 28, 1)).astype("float32")
    dataset = torch.utils.data.TensorDataset(torch.from_numpy(all_digits), torch.from_numpy(all_digits))
    dataloader = torch.utils.data.DataLoader(dataset, batch_size=64, shuffle=True)
    discriminator, generator = gan_models(keras)
    gan = gan_class(keras)(discriminator=discriminator, generator=generator, latent_dim=16)
    gan.compile(
        d_optimizer=keras.optimizers.Adam(learning_rate=0.0003),
        g_optimizer=keras.optimizers.Adam(learning_rate=0.0003),
        loss_fn=keras.losses.BinaryCrossentropy(from_logits=True),
    )
    before = [w.copy() for w in generator.get_weights()]
    history = gan.fit(dataloader, epochs=1, verbose=0)
    assert list(history.history) == ["d_loss", "g_loss"]
    assert all(np.isfinite(v[0]) for v in history.history.values())
    assert any(not np.array_equal(a, b) for a, b in zip(before, generator.get_weights(), strict=True))


# ------------------------------------------------------------------------------------ training loop from scratch
def get_model(keras):
    inputs = keras.Input(shape=(784,), name="digits")
    x1 = keras.layers.Dense(64, activation="relu")(inputs)
    x2 = keras.layers.Dense(64, activation="relu")(x1)
    outputs = keras.layers.Dense(10, name="predictions")(x2)
    model = keras.Model(inputs=inputs, outputs=outputs)
    return model


def _loop_data(keras, n_train=192, n_val=64, batch_size=32):
    rng = np.random.default_rng(1)
    x_train = rng.random((n_train + n_val, 784)).astype("float32")
    y_train = keras.utils.to_categorical(x_train[:, :780].reshape(-1, 10, 78).mean(-1).argmax(-1))
    x_val, y_val = x_train[-n_val:], y_train[-n_val:]
    x_train, y_train = x_train[:-n_val], y_train[:-n_val]
    train_dataset = torch.utils.data.TensorDataset(torch.from_numpy(x_train), torch.from_numpy(y_train))
    val_dataset = torch.utils.data.TensorDataset(torch.from_numpy(x_val), torch.from_numpy(y_val))
    train_dataloader = torch.utils.data.DataLoader(train_dataset, batch_size=batch_size, shuffle=True)
    val_dataloader = torch.utils.data.DataLoader(val_dataset, batch_size=batch_size, shuffle=False)
    return train_dataloader, val_dataloader


def torch_optimizer_loop(keras, model, epochs=2):
    train_dataloader, _ = _loop_data(keras)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = torch.nn.CrossEntropyLoss()
    losses = []
    for epoch in range(epochs):
        for step, (inputs, targets) in enumerate(train_dataloader):
            # Forward pass
            logits = model(inputs)
            loss = loss_fn(logits, targets)

            # Backward pass
            model.zero_grad()
            loss.backward()

            # Optimizer variable updates
            optimizer.step()
            losses.append(float(loss.detach().numpy()))
    return losses


def keras_optimizer_loop(keras, model, epochs=2, with_losses=False):
    train_dataloader, val_dataloader = _loop_data(keras)
    optimizer = keras.optimizers.Adam(learning_rate=1e-3)
    loss_fn = keras.losses.CategoricalCrossentropy(from_logits=True)
    train_acc_metric = keras.metrics.CategoricalAccuracy()
    val_acc_metric = keras.metrics.CategoricalAccuracy()
    losses, accs = [], []
    for epoch in range(epochs):
        for step, (inputs, targets) in enumerate(train_dataloader):
            # Forward pass
            logits = model(inputs)
            loss = loss_fn(targets, logits)
            if with_losses and model.losses:
                loss = loss + torch.sum(*model.losses)

            # Backward pass
            model.zero_grad()
            trainable_weights = [v for v in model.trainable_weights]

            # Call torch.Tensor.backward() on the loss to compute gradients
            # for the weights.
            loss.backward()
            gradients = [v.value.grad for v in trainable_weights]

            # Update weights
            with torch.no_grad():
                optimizer.apply(gradients, trainable_weights)

            # Update training metric.
            train_acc_metric.update_state(targets, logits)
            losses.append(float(loss.detach().numpy()))

        train_acc = train_acc_metric.result()
        train_acc_metric.reset_state()
        for x_batch_val, y_batch_val in val_dataloader:
            val_logits = model(x_batch_val, training=False)
            # Update val metrics
            val_acc_metric.update_state(y_batch_val, val_logits)
        val_acc = val_acc_metric.result()
        val_acc_metric.reset_state()
        accs.append((float(train_acc), float(val_acc)))
    return losses, accs


def _same_shuffles(run, keras, model):
    torch.manual_seed(7)  # the DataLoader's shuffling draws from torch's generator, in both libraries
    return run(keras, model)


def test_loop_with_a_torch_optimizer_and_loss_matches_keras():
    lam, ker = _pair(get_model)
    losses_ker = _same_shuffles(torch_optimizer_loop, real_keras, ker)
    losses_lam = _same_shuffles(torch_optimizer_loop, lamina, lam)
    assert len(losses_lam) == len(losses_ker) == 12
    np.testing.assert_allclose(losses_lam, losses_ker, rtol=1e-3, atol=1e-4)
    assert losses_lam[-1] < losses_lam[0]


def test_loop_with_keras_optimizer_loss_and_metrics_matches_keras():
    lam, ker = _pair(get_model)
    losses_ker, accs_ker = _same_shuffles(keras_optimizer_loop, real_keras, ker)
    losses_lam, accs_lam = _same_shuffles(keras_optimizer_loop, lamina, lam)
    np.testing.assert_allclose(losses_lam, losses_ker, rtol=1e-3, atol=1e-4)
    np.testing.assert_allclose(accs_lam, accs_ker, atol=1e-6)
    np.testing.assert_allclose(lam.get_weights()[0], ker.get_weights()[0], atol=1e-4)


def activity_regularized_model(keras):
    class ActivityRegularizationLayer(keras.layers.Layer):
        def call(self, inputs):
            self.add_loss(1e-2 * torch.sum(inputs))
            return inputs

    inputs = keras.Input(shape=(784,), name="digits")
    x = keras.layers.Dense(64, activation="relu")(inputs)
    # Insert activity regularization as a layer
    x = ActivityRegularizationLayer()(x)
    x = keras.layers.Dense(64, activation="relu")(x)
    outputs = keras.layers.Dense(10, name="predictions")(x)
    return keras.Model(inputs=inputs, outputs=outputs)


def test_loop_with_losses_tracked_by_the_model_matches_keras():
    lam, ker = _pair(activity_regularized_model)
    losses_ker, _ = _same_shuffles(lambda k, m: keras_optimizer_loop(k, m, with_losses=True), real_keras, ker)
    losses_lam, _ = _same_shuffles(lambda k, m: keras_optimizer_loop(k, m, with_losses=True), lamina, lam)
    np.testing.assert_allclose(losses_lam, losses_ker, rtol=1e-3, atol=1e-3)
    assert len(lam.losses) == 1
