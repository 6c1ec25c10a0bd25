"""``jit_compile=True``: every layer family either compiles (the whole train step, forward + loss + backward + the
optimizer update with loss and metric tracking, as one program; where that cannot be traced, as two compiled parts;
the test and predict steps' forward) or that part runs eagerly, with one warning that names the reason; ``fit``
never dies of it.

Compiling costs seconds per graph on a CPU, so the default run uses tiny models, one per situation: a CNN with
BatchNormalization and Dropout and a short last batch (Inductor compiles it), an LSTM (on CPU its fused oneDNN
kernel has no compiler support: the eager fallback), an op the tracer cannot run, a user's own error, and two
Keras-on-jax files compiled one after the other. The guide's convnet, recurrent families and every
``jit_compile: true`` fixture file run under ``-m slow``.
"""

import warnings

import numpy as np
import pytest
import torch

import lamina
from lamina import layers
from tests.saving.legacy_files import check_file, manifest, saved_jit_compile


@pytest.fixture(autouse=True)
def _seeded():
    lamina.utils.set_random_seed(1337)


def _jit_warnings(caught):
    return [str(w.message) for w in caught if str(w.message).startswith("jit_compile:")]


def _fit_recording(model, *args, **kwargs):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        history = model.fit(*args, **kwargs)
    return history, _jit_warnings(caught)


def _twins(build, loss, optimizer="adam", metrics=None):
    """The model compiled with jit_compile=True, and an eager twin with the same weights."""
    jit, eager = build(), build()
    eager.set_weights(jit.get_weights())
    jit.compile(optimizer=optimizer, loss=loss, metrics=metrics, jit_compile=True)
    eager.compile(optimizer=optimizer, loss=loss, metrics=metrics)
    return jit, eager


def test_cnn_with_batchnorm_and_dropout_compiles_with_a_short_last_batch():
    """The first step compiled for 16 samples, the last batch has 8: a new static graph, not a symbolic batch
    size (Dropout's noise and convolutions failed in the compiler with a symbolic one)."""

    def build():
        return lamina.Sequential(
            [
                lamina.Input((6, 6, 1)),
                layers.Conv2D(2, 3),
                layers.BatchNormalization(),
                layers.Dropout(0.5),
                layers.MaxPooling2D(),
                layers.Flatten(),
                layers.Dense(3),
            ]
        )

    loss = lamina.losses.SparseCategoricalCrossentropy(from_logits=True)
    jit, eager = _twins(build, loss)
    rng = np.random.default_rng(0)
    x, y = rng.random((24, 6, 6, 1), dtype=np.float32), rng.integers(0, 3, 24)
    history, warned = _fit_recording(jit, x, y, batch_size=16, epochs=2, shuffle=False, verbose=0)
    assert warned == []
    assert jit._compiled_whole.fallback_reason is None  # Inductor compiled the step, as one program
    assert jit._compiled_whole.graphs_compiled == 1  # the batch of 16; the first step and the batches of 8: eager
    assert np.isfinite(history.history["loss"][0])
    # inference (no dropout): the compiled predict step gives the eager model's outputs for the trained weights
    eager.set_weights(jit.get_weights())
    np.testing.assert_allclose(jit.predict(x[:16], batch_size=16, verbose=0), eager(x[:16]).detach().numpy(), atol=1e-5)
    assert jit._compiled_predict.fallback_reason is None


def test_whole_train_step_compiles_once_and_trains_as_eager_with_a_ragged_last_batch():
    """Forward, loss, backward and the Adam update with loss and accuracy tracking, compiled as one graph: the same
    losses, metrics and weights as the eager twin. One graph for the batch of 16; the ragged batch of 8 closing
    every epoch runs eagerly instead of recompiling (three epochs, still one graph)."""

    def build():
        return lamina.Sequential([lamina.Input((5,)), layers.Dense(8, activation="relu"), layers.Dense(3)])

    loss = lamina.losses.SparseCategoricalCrossentropy(from_logits=True)
    jit, eager = _twins(build, loss, metrics=["accuracy"])
    rng = np.random.default_rng(0)
    x, y = rng.random((40, 5), dtype=np.float32), rng.integers(0, 3, 40)
    h_jit, warned = _fit_recording(jit, x, y, batch_size=16, epochs=3, shuffle=False, verbose=0)
    h_eager = eager.fit(x, y, batch_size=16, epochs=3, shuffle=False, verbose=0)
    assert warned == []
    whole = jit._compiled_whole
    assert whole.fallback_reason is None
    assert whole.graphs_compiled == 1  # one program; no recompile: not for the ragged batch, not per epoch
    assert whole.eager_calls == 3  # the batch of 8 in each of the three epochs
    # asked to capture CUDA graphs, which only a graph on a CUDA device is (tests/test_gpu.py checks the capture)
    assert whole.cuda_graphs is True and whole.cuda_graphs_used is (jit._device().type == "cuda")
    # the two-part step (the fallback) was never compiled
    assert [p.graphs_compiled for p in (jit._compiled_fwd, jit._compiled_update)] == [0, 0]
    assert sorted(h_jit.history) == sorted(h_eager.history) == ["accuracy", "loss"]
    for key in ("loss", "accuracy"):
        np.testing.assert_allclose(h_jit.history[key], h_eager.history[key], rtol=1e-5)
    for a, b in zip(jit.get_weights(), eager.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, atol=1e-5)
    assert int(jit.optimizer.iterations) == int(eager.optimizer.iterations) == 9


def test_custom_train_step_compiles_only_its_forward():
    """A model with its own ``train_step`` does its own update: only the forward pass and loss are compiled."""

    class Custom(lamina.Model):
        def train_step(self, data):
            return super().train_step(data)

    inputs = lamina.Input((3,))
    model = Custom(inputs, layers.Dense(1)(inputs))
    model.compile(optimizer="sgd", loss="mse", jit_compile=True)
    model.make_train_function()
    assert model._compiled_fwd is not None and model._compiled_update is None


def test_lstm_falls_back_to_eager_with_one_warning_and_eager_results():
    def build():
        return lamina.Sequential([lamina.Input((3, 2)), layers.LSTM(4), layers.Dense(1)])

    jit, eager = _twins(build, "mse", optimizer="sgd")
    rng = np.random.default_rng(0)
    x, y = rng.random((32, 3, 2), dtype=np.float32), rng.random((32, 1), dtype=np.float32)
    h_jit, warned = _fit_recording(jit, x, y, batch_size=16, epochs=2, shuffle=False, verbose=0)
    h_eager = eager.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0)
    reason = jit._compiled_fwd.fallback_reason
    if reason is None:  # a backend that compiles the fused LSTM (cuDNN): compiled results are close
        assert warned == []
        np.testing.assert_allclose(h_jit.history["loss"], h_eager.history["loss"], rtol=1e-4)
        return
    assert len(warned) == 1
    assert warned[0].startswith('jit_compile: torch.compile could not compile the train step of model "sequential"')
    assert warned[0].endswith(f"Reason: {reason}") and reason
    np.testing.assert_array_equal(h_jit.history["loss"], h_eager.history["loss"])  # the eager step, exactly
    _, again = _fit_recording(jit, x, y, batch_size=16, epochs=1, verbose=0)
    assert again == []  # one warning: the step stays eager


@torch.library.custom_op("lamina_tests::no_fake_square", mutates_args=())
def _no_fake_square(x: torch.Tensor) -> torch.Tensor:
    return x * x  # an op with no fake (meta) implementation: the tracer cannot run it


class _Square(layers.Layer):
    def call(self, x):
        return _no_fake_square(x)


def test_an_op_the_tracer_cannot_run_falls_back_with_the_reason():
    model = lamina.Sequential([lamina.Input((3,)), _Square(), layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse", jit_compile=True)
    x = np.ones((24, 3), "float32")  # the first step runs eagerly (it builds the optimizer), the second step falls
    # back from the whole step to its two compiled parts, the third one to eager
    history, warned = _fit_recording(model, x, np.ones((24, 1), "float32"), batch_size=8, verbose=0)
    assert len(warned) == 1 and "no_fake_square" in warned[0]
    assert "no_fake_square" in model._compiled_whole.fallback_reason  # the whole step fell back quietly first
    assert np.isfinite(history.history["loss"][0])
    np.testing.assert_allclose(model.predict(x, verbose=0), model(x).detach().numpy())


class _RefusesThree(layers.Layer):
    def call(self, x):
        if x.shape[0] == 3:
            raise ValueError("This layer refuses batches of 3 samples.")
        return x


def test_the_users_own_error_is_raised_not_swallowed():
    model = lamina.Sequential([lamina.Input((2,)), _RefusesThree(), layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse", jit_compile=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(ValueError, match="refuses batches of 3"):
            model.fit(np.ones((3, 2), "float32"), np.ones((3, 1), "float32"), verbose=0)
    assert _jit_warnings(caught) == []


def test_jit_compile_setter_and_recompile_reset_the_compiled_steps():
    model = lamina.Sequential([lamina.Input((2,)), layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse", jit_compile=True)
    model.make_train_function()
    assert model._compiled_fwd is not None
    model.jit_compile = False
    assert model._compiled_forward is None and model.train_function is None
    model.compile(optimizer="sgd", loss="mse", jit_compile=True, run_eagerly=True)
    assert model.jit_compile is False


JIT_FILES = [
    (producer, case)
    for producer in ("keras3_jax", "keras3_tensorflow")
    for case in manifest(producer)["cases"]
    if "keras" in manifest(producer)["cases"][case]["files"] and saved_jit_compile(producer, case, "keras")
]


def test_keras_jax_files_compile_one_after_another():
    """Files Keras wrote on jax say ``jit_compile: true``. Compiled in one process, each model's step keeps its
    own compiler cache: the second is not traced as a symbolic variant of the first (which crashed Inductor)."""
    assert ("keras3_jax", "depthwise") in JIT_FILES and ("keras3_jax", "conv_transpose") in JIT_FILES
    for case in ("depthwise", "conv_transpose"):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            check_file("keras3_jax", case, "keras", compiled=True)
        assert _jit_warnings(caught) == []


@pytest.mark.slow
@pytest.mark.parametrize(("producer", "case"), JIT_FILES, ids=[f"{p}-{c}" for p, c in JIT_FILES])
def test_every_jit_compile_file_resumes_training_compiled(producer, case):
    check_file(producer, case, "keras", compiled=True)


@pytest.mark.slow
def test_guide_convnet_fits_compiled_with_validation():
    """The keras.io MNIST convnet (on random digits) with jit_compile=True, validation split and short batches."""
    num_classes, input_shape = 10, (28, 28, 1)
    rng = np.random.default_rng(0)
    x_train = rng.random((300, 28, 28, 1), dtype=np.float32)
    y_train = lamina.utils.to_categorical(rng.integers(0, 10, 300), num_classes)
    model = lamina.Sequential(
        [
            lamina.Input(shape=input_shape),
            layers.Conv2D(32, kernel_size=(3, 3), activation="relu"),
            layers.MaxPooling2D(pool_size=(2, 2)),
            layers.Conv2D(64, kernel_size=(3, 3), activation="relu"),
            layers.MaxPooling2D(pool_size=(2, 2)),
            layers.Flatten(),
            layers.Dropout(0.5),
            layers.Dense(num_classes, activation="softmax"),
        ]
    )
    model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"], jit_compile=True)
    history, warned = _fit_recording(model, x_train, y_train, batch_size=128, epochs=2, validation_split=0.1, verbose=0)
    assert warned == []
    assert sorted(history.history) == ["accuracy", "loss", "val_accuracy", "val_loss"]
    assert all(np.isfinite(v).all() for v in history.history.values())
    assert model.evaluate(x_train, y_train, verbose=0)[0] > 0


@pytest.mark.slow
@pytest.mark.parametrize("family", ["bidirectional_lstm", "gru", "simple_rnn", "embedding_lstm", "conv1d_bn"])
def test_layer_families_compile_or_fall_back_once(family):
    rng = np.random.default_rng(0)
    seq = rng.random((32, 5, 3), dtype=np.float32)
    builds = {
        "bidirectional_lstm": ([lamina.Input((5, 3)), layers.Bidirectional(layers.LSTM(4)), layers.Dense(1)], seq),
        "gru": ([lamina.Input((5, 3)), layers.GRU(4), layers.Dense(1)], seq),
        "simple_rnn": (
            [lamina.Input((5, 3)), layers.SimpleRNN(4, return_sequences=True), layers.Flatten(), layers.Dense(1)],
            seq,
        ),  # fmt: skip
        "embedding_lstm": (
            [lamina.Input((5,), dtype="int32"), layers.Embedding(10, 4), layers.LSTM(4), layers.Dense(1)],
            rng.integers(0, 10, (32, 5)),
        ),  # fmt: skip
        "conv1d_bn": (
            [
                lamina.Input((5, 3)),
                layers.Conv1D(4, 3),
                layers.BatchNormalization(),
                layers.Dropout(0.2),
                layers.GlobalAveragePooling1D(),
                layers.Dense(1),
            ],
            seq,
        ),  # fmt: skip
    }
    stack, x = builds[family]
    model = lamina.Sequential(stack)
    model.compile(optimizer="adam", loss="mse", jit_compile=True)
    history, warned = _fit_recording(model, x, rng.random((32, 1)), batch_size=16, epochs=2, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    reason = model._compiled_fwd.fallback_reason
    assert warned == ([] if reason is None else [w for w in warned if reason in w]) and len(warned) <= 1


def _whole_step_models():
    """Tiny models for the one-program step, each with what the functional gradient must get right."""

    def bn_state():  # moving statistics change inside the forward pass: written back after the transform
        return lamina.Sequential(
            [
                lamina.Input((4,)),
                layers.Dense(6, use_bias=False),  # a bias before BN has no gradient but noise
                layers.BatchNormalization(),
                layers.ReLU(),
                layers.Dense(3),
            ]
        )

    def shared_frozen_regularized():  # one layer reached twice, a frozen layer, an L2 penalty (self.losses)
        inputs = lamina.Input((4,))
        frozen = layers.Dense(4, name="frozen")
        frozen.trainable = False
        shared = layers.Dense(4, activation="tanh", kernel_regularizer=lamina.regularizers.L2(0.01))
        h = shared(shared(frozen(inputs)))
        return lamina.Model(inputs, layers.Dense(3)(h))

    def attention():  # Embedding, MultiHeadAttention, LayerNormalization, pooling
        inputs = lamina.Input((5,), dtype="int64")
        x = layers.Embedding(20, 8)(inputs)
        x = layers.LayerNormalization()(layers.Add()([x, layers.MultiHeadAttention(2, 4)(x, x)]))
        return lamina.Model(inputs, layers.Dense(3)(layers.GlobalAveragePooling1D()(x)))

    def conv_bn():
        return lamina.Sequential(
            [
                lamina.Input((6, 6, 2)),
                layers.Conv2D(3, 3, padding="same", use_bias=False),  # a bias before BN has no gradient but noise
                layers.BatchNormalization(),
                layers.MaxPooling2D(),
                layers.Flatten(),
                layers.Dense(3),
            ]
        )

    return {"bn_state": bn_state, "shared_frozen_regularized": shared_frozen_regularized, "attention": attention,
            "conv_bn": conv_bn}  # fmt: skip


_SLOW_WHOLE = {"attention", "conv_bn"}


@pytest.mark.parametrize(
    "case",
    [pytest.param(c, marks=pytest.mark.slow) if c in _SLOW_WHOLE else c for c in _whole_step_models()],
)
def test_one_program_step_trains_as_the_eager_step(case):
    """The whole step compiled as one graph gives the eager twin's losses, metrics, weights and non-trainable state
    (BatchNormalization's moving statistics, a frozen layer) after two epochs with a ragged last batch."""
    build = _whole_step_models()[case]
    loss = lamina.losses.SparseCategoricalCrossentropy(from_logits=True)
    jit, eager = _twins(build, loss, metrics=["accuracy"])
    rng = np.random.default_rng(0)
    shape = jit.inputs[0].shape[1:]
    x = rng.integers(0, 20, (40, *shape)) if case == "attention" else rng.random((40, *shape), dtype=np.float32)
    y = rng.integers(0, 3, 40)
    h_jit, warned = _fit_recording(jit, x, y, batch_size=16, epochs=2, shuffle=False, verbose=0)
    h_eager = eager.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0)
    assert warned == []
    assert jit._compiled_whole.fallback_reason is None and jit._compiled_whole.graphs_compiled == 1
    for key in ("loss", "accuracy"):
        np.testing.assert_allclose(h_jit.history[key], h_eager.history[key], rtol=1e-4, atol=1e-6)
    names = [w.path for w in jit.weights]
    assert len(names) == len(eager.weights) == len(jit.get_weights()) > 0
    for name, a, b in zip(names, jit.get_weights(), eager.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, atol=2e-5, err_msg=name)


def test_one_program_step_with_loss_scaling_trains_as_eager():
    """mixed_float16: autocast inside the gradient transform, and the LossScaleOptimizer's scaled loss differentiated
    and unscaled in the update, all in the one program; the eager twin's losses and weights."""
    lamina.mixed_precision.set_global_policy("mixed_float16")
    try:
        jit, eager = _twins(
            lambda: lamina.Sequential(
                [lamina.Input((6,)), layers.Dense(16, activation="relu"), layers.Dense(3, dtype="float32")]
            ),
            lamina.losses.SparseCategoricalCrossentropy(from_logits=True),
        )
        rng = np.random.default_rng(0)
        x, y = rng.random((48, 6), dtype=np.float32), rng.integers(0, 3, 48)
        h_jit, warned = _fit_recording(jit, x, y, batch_size=16, epochs=2, shuffle=False, verbose=0)
        h_eager = eager.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0)
    finally:
        lamina.mixed_precision.set_global_policy("float32")
    assert type(jit.optimizer).__name__ == "LossScaleOptimizer"
    assert warned == [] and jit._compiled_whole.fallback_reason is None and jit._compiled_whole.graphs_compiled == 1
    np.testing.assert_allclose(h_jit.history["loss"], h_eager.history["loss"], rtol=1e-5)
    for a, b in zip(jit.get_weights(), eager.get_weights(), strict=True):
        np.testing.assert_allclose(a.astype("float32"), b.astype("float32"), atol=1e-5)


def test_guards_are_skipped_within_a_fit_and_run_again_when_the_weights_trained_change():
    """Within a fit the compiled step skips the compiler's guards while its arguments (batch shapes, the trainable
    weights) are those of the last guarded call; a layer frozen by a callback at an epoch's end, or between fits,
    changes the weights passed in, so the guards run, the step recompiles and trains as the eager twin does."""

    def build():
        return lamina.Sequential([lamina.Input((5,)), layers.Dense(8, activation="relu"), layers.Dense(3)])

    class FreezeFirstAfterEpoch0(lamina.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 0:
                self.model.layers[0].trainable = False
                self.kernel = self.model.layers[0].kernel.numpy().copy()

    loss = lamina.losses.SparseCategoricalCrossentropy(from_logits=True)
    jit, eager = _twins(build, loss, optimizer="sgd")
    rng = np.random.default_rng(0)
    x, y = rng.random((48, 5), dtype=np.float32), rng.integers(0, 3, 48)
    histories = {}
    for name, model in (("jit", jit), ("eager", eager)):
        freeze = FreezeFirstAfterEpoch0()
        first = model.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0, callbacks=[freeze])
        np.testing.assert_array_equal(model.layers[0].kernel.numpy(), freeze.kernel)  # frozen for epoch 2
        model.layers[0].trainable = True
        second = model.fit(x, y, batch_size=16, epochs=1, shuffle=False, verbose=0)
        assert not np.array_equal(model.layers[0].kernel.numpy(), freeze.kernel)  # trained again
        histories[name] = first.history["loss"] + second.history["loss"]
    whole = jit._compiled_whole
    assert whole.fallback_reason is None
    assert whole.graphs_compiled == 2  # all weights, then without the first layer's (fit 2 finds the first graph)
    assert whole.trusted_calls == 5  # 9 steps: the first eager, then one guarded call per fit and per new weights
    np.testing.assert_allclose(histories["jit"], histories["eager"], rtol=1e-5)
    for a, b in zip(jit.get_weights(), eager.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, atol=1e-6)


def test_a_batch_of_new_length_within_a_fit_runs_the_guards_and_recompiles():
    """Batches of one size but two sequence lengths from a generator: a batch whose shapes differ from the trusted
    call's runs the guards (a new static graph), and the compiled step trains as the eager one."""

    def build():
        inputs = lamina.Input((None,), dtype="int64")
        h = layers.GlobalAveragePooling1D()(layers.Embedding(12, 4)(inputs))
        return lamina.Model(inputs, layers.Dense(3)(h))

    rng = np.random.default_rng(1)
    batches = [(rng.integers(0, 12, (8, length)), rng.integers(0, 3, 8)) for length in (5, 5, 7, 7, 5, 7)]
    loss = lamina.losses.SparseCategoricalCrossentropy(from_logits=True)
    jit, eager = _twins(build, loss, optimizer="sgd")
    h_jit, warned = _fit_recording(jit, iter(list(batches)), epochs=1, verbose=0)
    h_eager = eager.fit(iter(list(batches)), epochs=1, verbose=0)
    assert warned == []
    whole = jit._compiled_whole
    assert whole.fallback_reason is None and whole.graphs_compiled == 2  # length 5, length 7
    assert whole.trusted_calls == 1  # the second batch of 7; every change of length ran the guards
    np.testing.assert_allclose(h_jit.history["loss"], h_eager.history["loss"], rtol=1e-5)
    for a, b in zip(jit.get_weights(), eager.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, atol=1e-6)


def test_a_users_force_eager_stance_is_kept():
    """Under the user's ``torch.compiler.set_stance("force_eager")`` the step runs eagerly throughout: the
    guard-skipping stance of trusted calls is not put in its place (nothing is compiled, no call is trusted)."""
    jit, eager = _twins(
        lambda: lamina.Sequential([lamina.Input((5,)), layers.Dense(3)]),
        lamina.losses.SparseCategoricalCrossentropy(from_logits=True),
        optimizer="sgd",
    )
    rng = np.random.default_rng(0)
    x, y = rng.random((48, 5), dtype=np.float32), rng.integers(0, 3, 48)
    with torch.compiler.set_stance("force_eager"):
        h_jit = jit.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0)
    h_eager = eager.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0)
    whole = jit._compiled_whole
    assert whole.graphs_compiled == 0 and whole.trusted_calls == 0
    np.testing.assert_allclose(h_jit.history["loss"], h_eager.history["loss"], rtol=1e-6)
