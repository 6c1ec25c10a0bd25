"""The Keras guides "The Functional API" and the end of "The Sequential model" (feature extraction,
transfer learning), replayed with only the imports changed.

Every model is built twice, with the real Keras (torch backend) and with Lamina, after clearing both
sessions so automatic names agree; summaries are compared as whole strings, and training runs compare
their histories after copying Lamina's initial weights into the Keras model.
"""

import json
import warnings

import keras  # the real peer: a test extra, never skipped
import numpy as np
import pytest
import torch

import lamina

RNG = np.random.default_rng(0)


def _fresh() -> None:
    keras.backend.clear_session(free_memory=False)
    lamina.backend.clear_session(free_memory=False)


def _summary(model, **kwargs) -> str:
    out = []
    model.summary(print_fn=out.append, **kwargs)
    return "\n".join(out)


def _build_both(build):
    """``build(lib)`` run for Keras then for Lamina, each after a fresh session."""
    built = []
    for lib in (keras, lamina):
        _fresh()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            built.append(build(lib))
    return built


def _assert_same_summaries(kmodels, lmodels, **kwargs) -> None:
    kmodels = kmodels if isinstance(kmodels, (list, tuple)) else [kmodels]
    lmodels = lmodels if isinstance(lmodels, (list, tuple)) else [lmodels]
    for km, lm in zip(kmodels, lmodels, strict=True):
        expected, got = _summary(km, **kwargs), _summary(lm, **kwargs)
        assert got == expected, f"\nKeras:\n{expected}\nLamina:\n{got}"


def _copy_weights(src, dst) -> None:
    dst.set_weights([np.asarray(w) for w in src.get_weights()])


def _np(x):
    return x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)


def _assert_histories_close(h_lam, h_ker, rtol=1e-4, atol=1e-5) -> None:
    assert list(h_lam.history) == list(h_ker.history)
    for key, values in h_ker.history.items():
        np.testing.assert_allclose(h_lam.history[key], values, rtol=rtol, atol=atol, err_msg=key)


# ------------------------------------------------------------------------------------------------ introduction
def mnist_model(lib):
    layers = lib.layers
    inputs = lib.Input(shape=(784,))
    dense = layers.Dense(64, activation="relu")
    x = dense(inputs)
    x = layers.Dense(64, activation="relu")(x)
    outputs = layers.Dense(10)(x)
    return lib.Model(inputs=inputs, outputs=outputs, name="mnist_model")


def test_inputs_describe_shape_and_dtype():
    inputs = lamina.Input(shape=(784,))
    img_inputs = lamina.Input(shape=(32, 32, 3))
    assert inputs.shape == (None, 784) and inputs.dtype == "float32"
    assert img_inputs.shape == (None, 32, 32, 3)


def test_mnist_mlp_summary_matches_keras():
    kmodel, lmodel = _build_both(mnist_model)
    _assert_same_summaries(kmodel, lmodel)
    assert lmodel.count_params() == kmodel.count_params() == 55050
    assert [la.name for la in lmodel.layers] == [la.name for la in kmodel.layers]


def test_mnist_mlp_train_evaluate_save_and_reload(tmp_path):
    kmodel, lmodel = _build_both(mnist_model)
    _copy_weights(lmodel, kmodel)
    x_train = RNG.random((160, 784), dtype=np.float32)
    y_train = RNG.integers(0, 10, size=(160,))
    x_test, y_test = x_train[:40], y_train[:40]
    histories, scores = [], []
    for lib, model in ((lamina, lmodel), (keras, kmodel)):
        model.compile(
            loss=lib.losses.SparseCategoricalCrossentropy(from_logits=True),
            optimizer=lib.optimizers.RMSprop(),
            metrics=["accuracy"],
        )
        histories.append(
            model.fit(x_train, y_train, batch_size=64, epochs=2, validation_split=0.2, shuffle=False, verbose=0)
        )
        scores.append(model.evaluate(x_test, y_test, verbose=0))
    _assert_histories_close(*histories)
    assert sorted(histories[0].history) == ["accuracy", "loss", "val_accuracy", "val_loss"]
    np.testing.assert_allclose(scores[0], scores[1], rtol=1e-4, atol=1e-5)

    path = str(tmp_path / "path_to_my_model.keras")
    lmodel.save(path)
    expected = _np(lmodel.predict(x_test, verbose=0))
    del lmodel
    reloaded = lamina.models.load_model(path)  # recreated purely from the file
    assert reloaded.name == "mnist_model" and reloaded.optimizer.iterations.numpy() > 0
    np.testing.assert_allclose(_np(reloaded.predict(x_test, verbose=0)), expected, rtol=1e-5, atol=1e-6)
    by_keras = keras.models.load_model(path)  # and the real Keras reads it too
    np.testing.assert_allclose(_np(by_keras.predict(x_test, verbose=0)), expected, rtol=1e-5, atol=1e-5)
    assert _summary(by_keras) == _summary(reloaded)


# ------------------------------------------------------------------------------------------------ autoencoders
def autoencoder_one_graph(lib):
    layers = lib.layers
    encoder_input = lib.Input(shape=(28, 28, 1), name="img")
    x = layers.Conv2D(16, 3, activation="relu")(encoder_input)
    x = layers.Conv2D(32, 3, activation="relu")(x)
    x = layers.MaxPooling2D(3)(x)
    x = layers.Conv2D(32, 3, activation="relu")(x)
    x = layers.Conv2D(16, 3, activation="relu")(x)
    encoder_output = layers.GlobalMaxPooling2D()(x)
    encoder = lib.Model(encoder_input, encoder_output, name="encoder")

    x = layers.Reshape((4, 4, 1))(encoder_output)
    x = layers.Conv2DTranspose(16, 3, activation="relu")(x)
    x = layers.Conv2DTranspose(32, 3, activation="relu")(x)
    x = layers.UpSampling2D(3)(x)
    x = layers.Conv2DTranspose(16, 3, activation="relu")(x)
    decoder_output = layers.Conv2DTranspose(1, 3, activation="relu")(x)
    autoencoder = lib.Model(encoder_input, decoder_output, name="autoencoder")
    return encoder, autoencoder


def autoencoder_nested(lib):
    layers = lib.layers
    encoder_input = lib.Input(shape=(28, 28, 1), name="original_img")
    x = layers.Conv2D(16, 3, activation="relu")(encoder_input)
    x = layers.Conv2D(32, 3, activation="relu")(x)
    x = layers.MaxPooling2D(3)(x)
    x = layers.Conv2D(32, 3, activation="relu")(x)
    x = layers.Conv2D(16, 3, activation="relu")(x)
    encoder_output = layers.GlobalMaxPooling2D()(x)
    encoder = lib.Model(encoder_input, encoder_output, name="encoder")

    decoder_input = lib.Input(shape=(16,), name="encoded_img")
    x = layers.Reshape((4, 4, 1))(decoder_input)
    x = layers.Conv2DTranspose(16, 3, activation="relu")(x)
    x = layers.Conv2DTranspose(32, 3, activation="relu")(x)
    x = layers.UpSampling2D(3)(x)
    x = layers.Conv2DTranspose(16, 3, activation="relu")(x)
    decoder_output = layers.Conv2DTranspose(1, 3, activation="relu")(x)
    decoder = lib.Model(decoder_input, decoder_output, name="decoder")

    autoencoder_input = lib.Input(shape=(28, 28, 1), name="img")
    encoded_img = encoder(autoencoder_input)
    decoded_img = decoder(encoded_img)
    autoencoder = lib.Model(autoencoder_input, decoded_img, name="autoencoder")
    return encoder, decoder, autoencoder


def test_one_graph_of_layers_defines_two_models():
    kmodels, lmodels = _build_both(autoencoder_one_graph)
    _assert_same_summaries(kmodels, lmodels)
    encoder, autoencoder = lmodels
    assert autoencoder.output_shape == (None, 28, 28, 1)
    assert encoder.count_params() == kmodels[0].count_params() == 18672
    assert autoencoder.count_params() == kmodels[1].count_params() == 28241
    # the encoder's layers are the autoencoder's first layers: same objects, same weights
    assert all(a is b for a, b in zip(encoder.layers, autoencoder.layers[: len(encoder.layers)], strict=True))


def test_models_are_callable_like_layers_and_nest():
    kmodels, lmodels = _build_both(autoencoder_nested)
    _assert_same_summaries(kmodels, lmodels)
    _assert_same_summaries(kmodels, lmodels, expand_nested=True)
    encoder, decoder, autoencoder = lmodels
    assert [la.name for la in autoencoder.layers] == ["img", "encoder", "decoder"]
    assert autoencoder.layers[1] is encoder and autoencoder.layers[2] is decoder
    x = RNG.random((2, 28, 28, 1), dtype=np.float32)
    np.testing.assert_allclose(_np(autoencoder(x)), _np(decoder(encoder(x))), rtol=1e-5, atol=1e-6)
    # the nested models reuse their weights: the autoencoder owns exactly the encoder's and decoder's
    assert {id(v) for v in autoencoder.weights} == {id(v) for v in encoder.weights + decoder.weights}


def ensemble(lib):
    layers = lib.layers

    def get_model():
        inputs = lib.Input(shape=(128,))
        outputs = layers.Dense(1)(inputs)
        return lib.Model(inputs, outputs)

    model1 = get_model()
    model2 = get_model()
    model3 = get_model()
    inputs = lib.Input(shape=(128,))
    y1 = model1(inputs)
    y2 = model2(inputs)
    y3 = model3(inputs)
    outputs = layers.average([y1, y2, y3])
    ensemble_model = lib.Model(inputs=inputs, outputs=outputs)
    return model1, model2, model3, ensemble_model


def test_ensembling_averages_the_models():
    kmodels, lmodels = _build_both(ensemble)
    _assert_same_summaries(kmodels, lmodels)
    _assert_same_summaries(kmodels[-1], lmodels[-1], expand_nested=True)
    assert (
        [m.name for m in lmodels]
        == [m.name for m in kmodels]
        == ["functional", "functional_1", "functional_2", "functional_3"]
    )
    *members, ens = lmodels
    x = RNG.random((4, 128), dtype=np.float32)
    mean = np.mean([_np(m(x)) for m in members], axis=0)
    np.testing.assert_allclose(_np(ens(x)), mean, rtol=1e-5, atol=1e-6)


# ------------------------------------------------------------------------------------------------ multi-input/output
NUM_TAGS, NUM_WORDS, NUM_DEPARTMENTS = 12, 10000, 4


def ticket_model(lib, dict_io=False):
    layers = lib.layers
    title_input = lib.Input(shape=(None,), name="title")  # variable-length sequence of ints
    body_input = lib.Input(shape=(None,), name="body")
    tags_input = lib.Input(shape=(NUM_TAGS,), name="tags")  # binary vectors of size NUM_TAGS
    title_features = layers.Embedding(NUM_WORDS, 64)(title_input)
    body_features = layers.Embedding(NUM_WORDS, 64)(body_input)
    title_features = layers.LSTM(128)(title_features)
    body_features = layers.LSTM(32)(body_features)
    x = layers.concatenate([title_features, body_features, tags_input])
    priority_pred = layers.Dense(1, name="priority")(x)
    department_pred = layers.Dense(NUM_DEPARTMENTS, name="department")(x)
    if dict_io:
        return lib.Model(
            inputs={"title": title_input, "body": body_input, "tags": tags_input},
            outputs={"priority": priority_pred, "department": department_pred},
        )
    return lib.Model(inputs=[title_input, body_input, tags_input], outputs=[priority_pred, department_pred])


def _ticket_data(n=64):
    title = RNG.integers(NUM_WORDS, size=(n, 10))
    body = RNG.integers(NUM_WORDS, size=(n, 12))
    tags = RNG.integers(2, size=(n, NUM_TAGS)).astype("float32")
    priority = RNG.random(size=(n, 1))
    dept = RNG.integers(2, size=(n, NUM_DEPARTMENTS))
    return {"title": title, "body": body, "tags": tags}, {"priority": priority, "department": dept}


@pytest.mark.parametrize("dict_io", [False, True])
def test_multi_input_multi_output_summary_with_connections(dict_io):
    kmodel, lmodel = _build_both(lambda lib: ticket_model(lib, dict_io))
    _assert_same_summaries(kmodel, lmodel)
    assert "Connected to" in _summary(lmodel)
    assert lmodel.count_params() == kmodel.count_params()
    # Keras flattens dicts by sorted key: inputs, outputs and output names follow that order
    assert [t.name for t in lmodel.inputs] == [t.name for t in kmodel.inputs]
    assert [t.shape for t in lmodel.outputs] == [t.shape for t in kmodel.outputs]
    assert lmodel.output_names == kmodel.output_names
    x, _ = _ticket_data(3)
    got, expected = lmodel(x), kmodel(x)
    if dict_io:
        assert list(got) == list(expected) == ["department", "priority"]


@pytest.mark.parametrize("dict_losses", [False, True])
def test_multi_output_fit_with_loss_list_or_dict_and_loss_weights(dict_losses):
    kmodel, lmodel = _build_both(ticket_model)
    _copy_weights(lmodel, kmodel)
    x, y = _ticket_data()
    histories = []
    for lib, model in ((lamina, lmodel), (keras, kmodel)):
        bce = lib.losses.BinaryCrossentropy(from_logits=True)
        cce = lib.losses.CategoricalCrossentropy(from_logits=True)
        if dict_losses:
            model.compile(
                optimizer=lib.optimizers.RMSprop(1e-3),
                loss={"priority": bce, "department": cce},
                loss_weights={"priority": 1.0, "department": 0.2},
            )
        else:
            model.compile(optimizer=lib.optimizers.RMSprop(1e-3), loss=[bce, cce], loss_weights=[1.0, 0.2])
        histories.append(model.fit(x, y, epochs=2, batch_size=32, shuffle=False, verbose=0))
    _assert_histories_close(*histories, rtol=1e-3, atol=1e-4)
    assert sorted(histories[0].history) == ["department_loss", "loss", "priority_loss"]


# ------------------------------------------------------------------------------------------------ toy ResNet
def toy_resnet(lib):
    layers = lib.layers
    inputs = lib.Input(shape=(32, 32, 3), name="img")
    x = layers.Conv2D(32, 3, activation="relu")(inputs)
    x = layers.Conv2D(64, 3, activation="relu")(x)
    block_1_output = layers.MaxPooling2D(3)(x)

    x = layers.Conv2D(64, 3, activation="relu", padding="same")(block_1_output)
    x = layers.Conv2D(64, 3, activation="relu", padding="same")(x)
    block_2_output = layers.add([x, block_1_output])

    x = layers.Conv2D(64, 3, activation="relu", padding="same")(block_2_output)
    x = layers.Conv2D(64, 3, activation="relu", padding="same")(x)
    block_3_output = layers.add([x, block_2_output])

    x = layers.Conv2D(64, 3, activation="relu")(block_3_output)
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dense(256, activation="relu")(x)
    x = layers.Dropout(0.5)(x)
    outputs = layers.Dense(10)(x)
    return lib.Model(inputs, outputs, name="toy_resnet")


def test_toy_resnet_summary_count_and_training_step():
    kmodel, lmodel = _build_both(toy_resnet)
    _assert_same_summaries(kmodel, lmodel)
    assert lmodel.count_params() == kmodel.count_params() == 223242
    x = RNG.random((8, 32, 32, 3), dtype=np.float32)
    _copy_weights(lmodel, kmodel)
    np.testing.assert_allclose(_np(lmodel(x)), _np(kmodel(x)), rtol=1e-4, atol=1e-5)  # inference: no dropout
    y = np.eye(10, dtype="float32")[RNG.integers(0, 10, size=(8,))]  # keras.utils.to_categorical
    lmodel.compile(
        optimizer=lamina.optimizers.RMSprop(1e-3),
        loss=lamina.losses.CategoricalCrossentropy(from_logits=True),
        metrics=["acc"],
    )
    history = lmodel.fit(x, y, batch_size=4, epochs=1, validation_split=0.25, verbose=0)
    assert sorted(history.history) == ["acc", "loss", "val_acc", "val_loss"]


# ------------------------------------------------------------------------------------------------ shared layers
def shared_embedding(lib):
    layers = lib.layers
    shared = layers.Embedding(1000, 128)  # 1000 unique words mapped to 128-dimensional vectors
    text_input_a = lib.Input(shape=(None,), dtype="int32")
    text_input_b = lib.Input(shape=(None,), dtype="int32")
    encoded_input_a = shared(text_input_a)
    encoded_input_b = shared(text_input_b)
    return shared, lib.Model([text_input_a, text_input_b], [encoded_input_a, encoded_input_b])


def test_shared_layer_used_on_two_inputs():
    (kshared, kmodel), (lshared, lmodel) = _build_both(shared_embedding)
    _assert_same_summaries(kmodel, lmodel)
    assert lmodel.count_params() == 128000  # one set of weights for both paths
    assert len(lshared._inbound_nodes) == 2
    assert lshared.output is lmodel.outputs[0]  # `output` is the first call's, as in Keras
    tokens = RNG.integers(1000, size=(2, 5)).astype("int32")
    a, b = lmodel([tokens, tokens])
    np.testing.assert_array_equal(_np(a), _np(b))


# ------------------------------------------------------------------------------------------------ reuse nodes
def small_vgg(lib):
    """A small stand-in for ``keras.applications.VGG19()`` (same kind of graph, no download)."""
    layers = lib.layers
    inputs = lib.Input(shape=(32, 32, 3))
    x = layers.Conv2D(8, 3, activation="relu", padding="same", name="block1_conv1")(inputs)
    x = layers.Conv2D(8, 3, activation="relu", padding="same", name="block1_conv2")(x)
    x = layers.MaxPooling2D(2, name="block1_pool")(x)
    x = layers.Conv2D(16, 3, activation="relu", padding="same", name="block2_conv1")(x)
    x = layers.Flatten(name="flatten")(x)
    outputs = layers.Dense(10, activation="softmax", name="predictions")(x)
    return lib.Model(inputs, outputs, name="vgg_like")


def test_extract_and_reuse_intermediate_nodes():
    def build(lib):
        vgg = small_vgg(lib)
        features_list = [layer.output for layer in vgg.layers]
        feat_extraction_model = lib.Model(inputs=vgg.input, outputs=features_list)
        return vgg, feat_extraction_model

    kmodels, lmodels = _build_both(build)
    _assert_same_summaries(kmodels, lmodels)
    vgg, extractor = lmodels
    img = RNG.random((1, 32, 32, 3), dtype=np.float32)
    features = extractor(img)
    assert [tuple(f.shape) for f in features] == [
        (1, 32, 32, 3),
        (1, 32, 32, 8),
        (1, 32, 32, 8),
        (1, 16, 16, 8),
        (1, 16, 16, 16),
        (1, 4096),
        (1, 10),
    ]
    np.testing.assert_allclose(_np(features[-1]), _np(vgg(img)), rtol=1e-5, atol=1e-6)
    assert vgg.inputs[0] is vgg.input and extractor.inputs == vgg.inputs


# ------------------------------------------------------------------------------------------------ custom layers
def _custom_dense_class(lib):
    class CustomDense(lib.layers.Layer):
        def __init__(self, units=32):
            super().__init__()
            self.units = units

        def build(self, input_shape):
            self.w = self.add_weight(shape=(input_shape[-1], self.units), initializer="random_normal", trainable=True)
            self.b = self.add_weight(shape=(self.units,), initializer="random_normal", trainable=True)

        def call(self, inputs):
            return lib.ops.matmul(inputs, self.w) + self.b

        def get_config(self):
            return {"units": self.units}

    return CustomDense


def test_custom_layer_in_functional_model_config_round_trip_and_clone():
    def build(lib):
        CustomDense = _custom_dense_class(lib)
        inputs = lib.Input((4,))
        outputs = CustomDense(10)(inputs)
        model = lib.Model(inputs, outputs)
        config = model.get_config()
        new_model = lib.Model.from_config(config, custom_objects={"CustomDense": CustomDense})
        return model, new_model, CustomDense

    (kmodel, knew, _), (lmodel, lnew, LCustomDense) = _build_both(build)
    _assert_same_summaries([kmodel, knew], [lmodel, lnew])
    assert lmodel.count_params() == 50
    assert [la["class_name"] for la in lmodel.get_config()["layers"]] == ["InputLayer", "CustomDense"]
    assert json.loads(json.dumps(lmodel.get_config()))["layers"][1]["config"] == {"units": 10}
    x = RNG.random((3, 4), dtype=np.float32)
    lnew.set_weights(lmodel.get_weights())
    np.testing.assert_allclose(_np(lnew(x)), _np(lmodel(x)), rtol=1e-6)
    clone = lamina.models.clone_model(lmodel)
    assert isinstance(clone.layers[1], LCustomDense) and clone.layers[1] is not lmodel.layers[1]
    assert clone(x).shape == (3, 10)


# ------------------------------------------------------------------------------------------------ mix and match
UNITS, TIMESTEPS, INPUT_DIM, BATCH = 32, 10, 5, 16


def _custom_rnn_class(lib, classifier_factory):
    ops, layers = lib.ops, lib.layers

    class CustomRNN(layers.Layer):
        def __init__(self):
            super().__init__()
            self.units = UNITS
            self.projection_1 = layers.Dense(units=UNITS, activation="tanh")
            self.projection_2 = layers.Dense(units=UNITS, activation="tanh")
            self.classifier = classifier_factory()

        def call(self, inputs):
            outputs = []
            state = ops.zeros(shape=(inputs.shape[0], self.units))
            for t in range(inputs.shape[1]):
                x = inputs[:, t, :]
                h = self.projection_1(x)
                y = h + self.projection_2(state)
                state = y
                outputs.append(y)
            features = ops.stack(outputs, axis=1)
            return self.classifier(features)

    return CustomRNN


def test_functional_model_inside_a_subclassed_layer():
    def build(lib):
        layers = lib.layers
        inputs = lib.Input((None, UNITS))
        x = layers.GlobalAveragePooling1D()(inputs)
        outputs = layers.Dense(1)(x)
        model = lib.Model(inputs, outputs)
        rnn_model = _custom_rnn_class(lib, lambda: model)()
        out = rnn_model(lib.ops.zeros((1, TIMESTEPS, INPUT_DIM)))
        return model, rnn_model, out

    (kmodel, krnn, kout), (lmodel, lrnn, lout) = _build_both(build)
    assert tuple(lout.shape) == tuple(kout.shape) == (1, 1)
    _assert_same_summaries(kmodel, lmodel)
    assert lrnn.classifier is lmodel
    assert [v.name for v in lrnn.weights] == [v.name for v in krnn.weights]
    assert [v.shape for v in lrnn.weights] == [tuple(v.shape) for v in krnn.weights]


def test_subclassed_layer_inside_a_functional_model():
    def build(lib):
        layers = lib.layers
        CustomRNN = _custom_rnn_class(lib, lambda: layers.Dense(1))
        # a static batch size: CustomRNN's inner computation needs it (the `state` zeros tensor)
        inputs = lib.Input(batch_shape=(BATCH, TIMESTEPS, INPUT_DIM))
        x = layers.Conv1D(32, 3)(inputs)
        outputs = CustomRNN()(x)
        model = lib.Model(inputs, outputs)
        rnn_model = CustomRNN()
        out = rnn_model(lib.ops.zeros((1, 10, 5)))
        return model, out

    (kmodel, kout), (lmodel, lout) = _build_both(build)
    _assert_same_summaries(kmodel, lmodel)
    # sub-layers built inside the custom layer's call live under its name: custom_rnn/dense/kernel...
    assert [v.path for v in lmodel.weights] == [v.path for v in kmodel.weights]
    assert tuple(lout.shape) == tuple(kout.shape) == (1, 10, 1)
    assert lmodel.output_shape == (BATCH, TIMESTEPS - 2, 1)
    assert lmodel(RNG.random((BATCH, TIMESTEPS, INPUT_DIM), dtype=np.float32)).shape == (BATCH, TIMESTEPS - 2, 1)


def _functional_subclass(lib):
    class MyModel(lib.Model):
        def __init__(self, **kwargs):
            inputs = lib.Input((3,))
            x = lib.layers.Dense(4, activation="relu")(inputs)
            outputs = lib.layers.Dense(2)(x)
            super().__init__(inputs=inputs, outputs=outputs, **kwargs)

    return MyModel


def test_model_subclass_with_a_functional_constructor_becomes_functional(tmp_path):
    def build(lib):
        model = _functional_subclass(lib)()
        model.compile(optimizer="adam", loss="mse")
        return model

    kmodel, lmodel = _build_both(build)
    _assert_same_summaries(kmodel, lmodel)
    from lamina.models.functional import Functional

    assert isinstance(lmodel, Functional) and type(lmodel).__name__ == "MyModel"
    assert lmodel.name == kmodel.name == "my_model"
    assert [la.name for la in lmodel.layers] == [la.name for la in kmodel.layers]
    assert lmodel.get_config() == {
        "name": "my_model",
        "trainable": True,
        "dtype": {
            "module": "keras",
            "class_name": "DTypePolicy",
            "config": {"name": "float32"},
            "registered_name": None,
        },
    }
    x, y = RNG.random((8, 3), dtype=np.float32), RNG.random((8, 2), dtype=np.float32)
    lmodel.fit(x, y, epochs=1, verbose=0)
    path = str(tmp_path / "sub.keras")
    lmodel.save(path)
    LMyModel = type(lmodel)
    reloaded = lamina.models.load_model(path, custom_objects={"MyModel": LMyModel})
    assert type(reloaded) is LMyModel
    np.testing.assert_allclose(_np(reloaded.predict(x, verbose=0)), _np(lmodel.predict(x, verbose=0)), rtol=1e-6)
    # the real Keras reads Lamina's file into its own class, and Lamina reads Keras's
    KMyModel = type(kmodel)
    by_keras = keras.models.load_model(path, custom_objects={"MyModel": KMyModel})
    assert type(by_keras) is KMyModel
    # two libraries' float32 sums: relative 1e-5, plus an absolute floor for outputs near zero
    np.testing.assert_allclose(
        _np(by_keras.predict(x, verbose=0)), _np(lmodel.predict(x, verbose=0)), rtol=1e-5, atol=1e-7
    )
    kpath = str(tmp_path / "keras_sub.keras")
    kmodel.save(kpath)
    from_keras = lamina.models.load_model(kpath, custom_objects={"MyModel": LMyModel})
    assert type(from_keras) is LMyModel
    np.testing.assert_allclose(_np(from_keras.predict(x, verbose=0)), _np(kmodel.predict(x, verbose=0)), rtol=1e-5)
    # a second instance reuses the (now functional) class directly
    other = LMyModel(name="other")
    assert other.name == "other" and other(x).shape == (8, 2)

    # a subclass may still override call on top of the graph
    class Doubled(lamina.Model):
        def __init__(self):
            inputs = lamina.Input((3,))
            super().__init__(inputs, lamina.layers.Dense(2)(inputs))

        def call(self, inputs, training=None):
            return super().call(inputs) * 2

    doubled = Doubled()
    np.testing.assert_allclose(_np(doubled(x)), 2 * _np(doubled.layers[1](x)), rtol=1e-6)
    assert doubled(lamina.Input((3,))).shape == (None, 2)


# ------------------------------------------------------------------------------------------------ operators
def operators(lib):
    a, b = lib.Input((4,)), lib.Input((4,))
    x = a + b
    outs = [
        x,
        x * 2,
        (x * 2)[:, 0],
        1.0 - x,
        -x,
        lib.layers.Dense(3)(x / 2.0),
        x[..., None, :2],
        abs(x) ** 2,
        (x > 0) & (x < 1),
        round(x, 1),
    ]
    return lib.Model([a, b], outs)


def test_operators_on_symbolic_tensors_are_named_and_serialized_as_keras_ops(tmp_path):
    kmodel, lmodel = _build_both(operators)
    _assert_same_summaries(kmodel, lmodel)
    assert [la.name for la in lmodel.layers] == [la.name for la in kmodel.layers]  # operations are not layers
    assert [op.name for op in lmodel.operations] == [op.name for op in kmodel.operations]
    lconfig = json.loads(json.dumps(lmodel.get_config()))
    kconfig = json.loads(json.dumps(kmodel.get_config()))
    for lc, kc in zip(lconfig["layers"], kconfig["layers"], strict=True):
        if kc["module"].startswith("keras.src.ops"):
            assert lc == kc
    data = [RNG.random((2, 4), dtype=np.float32), RNG.random((2, 4), dtype=np.float32)]
    _copy_weights(lmodel, kmodel)
    expected = [_np(o) for o in kmodel(data)]
    for model in (lmodel, lamina.Model.from_config(kconfig), lamina.Model.from_config(lconfig)):
        model.set_weights(lmodel.get_weights())
        for got, want in zip(model(data), expected, strict=True):
            np.testing.assert_allclose(_np(got), want, rtol=1e-5, atol=1e-6)
    keras_reads = keras.Model.from_config(lconfig)
    _copy_weights(lmodel, keras_reads)
    for got, want in zip(keras_reads(data), expected, strict=True):
        np.testing.assert_allclose(_np(got), want, rtol=1e-5, atol=1e-6)
    # through .keras files both ways
    kmodel.save(str(tmp_path / "k.keras"))
    lmodel.save(str(tmp_path / "l.keras"))
    for model in (
        lamina.models.load_model(str(tmp_path / "k.keras")),
        keras.models.load_model(str(tmp_path / "l.keras")),
    ):
        for got, want in zip(model(data), expected, strict=True):
            np.testing.assert_allclose(_np(got), want, rtol=1e-5, atol=1e-6)
    # operators take the next automatic names like any layer: `add`, then `add_1` for a layers.Add
    assert lamina.layers.Add().name == "add_1"
    with pytest.raises(
        NotImplementedError, match="Iterating over a symbolic KerasTensor"
    ):  # as in Keras; `__getitem__` alone would make this index forever
        first, second = lamina.Input((2,))


# ------------------------------------------------------------------------------------------------ Sequential guide
def convnet(lib):
    layers = lib.layers
    return lib.Sequential(
        [
            lib.Input(shape=(250, 250, 3)),
            layers.Conv2D(32, 5, strides=2, activation="relu"),
            layers.Conv2D(32, 3, activation="relu", name="my_intermediate_layer"),
            layers.Conv2D(32, 3, activation="relu"),
        ]
    )


def test_sequential_feature_extraction_with_functional_models():
    def build(lib):
        initial_model = convnet(lib)
        feature_extractor = lib.Model(
            inputs=initial_model.inputs, outputs=[layer.output for layer in initial_model.layers]
        )
        one = lib.Model(
            inputs=initial_model.inputs, outputs=initial_model.get_layer(name="my_intermediate_layer").output
        )
        return initial_model, feature_extractor, one

    kmodels, lmodels = _build_both(build)
    _assert_same_summaries(kmodels, lmodels)
    assert [m.name for m in lmodels] == [m.name for m in kmodels] == ["sequential", "functional_1", "functional_2"]
    initial_model, feature_extractor, one = lmodels
    x = lamina.ops.ones((1, 250, 250, 3))
    features = feature_extractor(x)
    assert [tuple(f.shape) for f in features] == [(1, 123, 123, 32), (1, 121, 121, 32), (1, 119, 119, 32)]
    assert tuple(one(x).shape) == (1, 121, 121, 32)
    np.testing.assert_allclose(_np(features[-1]), _np(initial_model(x)), rtol=1e-5, atol=1e-6)


def mlp(lib):
    layers = lib.layers
    return lib.Sequential(
        [
            lib.Input(shape=(784,)),
            layers.Dense(32, activation="relu"),
            layers.Dense(32, activation="relu"),
            layers.Dense(32, activation="relu"),
            layers.Dense(10),
        ]
    )


def test_transfer_learning_freeze_all_but_last_layer(tmp_path):
    def build(lib):
        model = mlp(lib)
        for layer in model.layers[:-1]:
            layer.trainable = False
        return model

    kmodel, lmodel = _build_both(build)
    _assert_same_summaries(kmodel, lmodel, show_trainable=True)
    # pretrained weights come from a file, as in the guide
    path = str(tmp_path / "pretrained.weights.h5")
    source = mlp(lamina)
    source.save_weights(path)
    lmodel.load_weights(path)
    frozen = [w.numpy().copy() for layer in lmodel.layers[:-1] for w in layer.weights]
    last = [w.numpy().copy() for w in lmodel.layers[-1].weights]
    lmodel.compile(optimizer="adam", loss=lamina.losses.SparseCategoricalCrossentropy(from_logits=True))
    lmodel.fit(RNG.random((32, 784), dtype=np.float32), RNG.integers(0, 10, size=(32,)), epochs=2, verbose=0)
    for before, w in zip(frozen, [w for layer in lmodel.layers[:-1] for w in layer.weights], strict=True):
        np.testing.assert_array_equal(before, w.numpy())
    assert all(not np.allclose(b, w.numpy()) for b, w in zip(last, lmodel.layers[-1].weights, strict=True))
    assert len(lmodel.trainable_weights) == len(kmodel.trainable_weights) == 2


def base_with_batchnorm(lib):
    """A small stand-in for ``keras.applications.Xception(include_top=False, pooling="avg")``."""
    layers = lib.layers
    inputs = lib.Input((8, 8, 3))
    x = layers.Conv2D(8, 3, name="conv")(inputs)
    x = layers.BatchNormalization(name="bn")(x)
    x = layers.Activation("relu", name="relu")(x)
    outputs = layers.GlobalAveragePooling2D(name="avg_pool")(x)
    return lib.Model(inputs, outputs, name="base")


def test_transfer_learning_with_a_frozen_base_model():
    def build(lib):
        base_model = base_with_batchnorm(lib)
        base_model.trainable = False
        model = lib.Sequential([base_model, lib.layers.Dense(10)])
        return base_model, model

    (kbase, kmodel), (lbase, lmodel) = _build_both(build)
    _assert_same_summaries(kmodel, lmodel, show_trainable=True)
    _assert_same_summaries(kmodel, lmodel, show_trainable=True, expand_nested=True)
    assert len(lmodel.trainable_weights) == len(kmodel.trainable_weights) == 2
    assert len(lmodel.non_trainable_weights) == len(kmodel.non_trainable_weights) == 6
    before = [w.numpy().copy() for w in lbase.weights]
    bn = lbase.get_layer("bn")
    _copy_weights(lmodel, kmodel)
    x = RNG.normal(3.0, 2.0, size=(16, 8, 8, 3)).astype("float32")
    y = RNG.random((16, 10), dtype=np.float32)
    histories = []
    for lib, model in ((lamina, lmodel), (keras, kmodel)):
        model.compile(optimizer=lib.optimizers.SGD(0.1), loss=lib.losses.MeanSquaredError())
        histories.append(model.fit(x, y, epochs=2, batch_size=8, shuffle=False, verbose=0))
    _assert_histories_close(*histories)
    # every base weight, BatchNormalization's moving statistics included, stays as it was
    for b, w in zip(before, lbase.weights, strict=True):
        np.testing.assert_array_equal(b, w.numpy())
    np.testing.assert_array_equal(bn.moving_mean.numpy(), np.zeros(8, "float32"))
    assert not np.allclose(lmodel.layers[-1].get_weights()[0], 0)


# ------------------------------------------------------------------------------------------------ Keras's edges
def test_model_names_follow_keras_after_a_sequential():
    def build(lib):
        seq = lib.Sequential([lib.Input((3,)), lib.layers.Dense(2), lib.layers.Dense(2)])
        inputs = lib.Input((3,))
        return seq, lib.Model(inputs, lib.layers.Dense(1)(inputs))

    (kseq, kfun), (lseq, lfun) = _build_both(build)
    assert lfun.name == kfun.name == "functional_1"  # the Sequential's stack took "functional"
    _assert_same_summaries([kseq, kfun], [lseq, lfun])

    def rebuild_from_config(lib):  # Keras re-adds the layers one by one: one "functional" name per rebuild
        config = lib.Sequential([lib.Input((3,)), lib.layers.Dense(2), lib.layers.Dense(2)]).get_config()
        lib.backend.clear_session(free_memory=False)
        lib.Sequential.from_config(config)
        inputs = lib.Input((3,))
        return lib.Model(inputs, lib.layers.Dense(1)(inputs))

    kfun, lfun = _build_both(rebuild_from_config)
    assert lfun.name == kfun.name == "functional_2"


def test_unbuilt_models_have_no_inputs_and_build_checks_the_shape():
    model = lamina.Sequential([lamina.layers.Dense(2)])
    with pytest.raises(AttributeError, match="has no attribute 'inputs'"):
        model.inputs  # noqa: B018
    with pytest.raises(AttributeError, match="has no attribute 'outputs'"):
        model.outputs  # noqa: B018
    assert getattr(model, "inputs", None) is None

    class Sub(lamina.Model):
        def call(self, x):
            return x

    with pytest.raises(AttributeError, match="has no attribute 'inputs'"):
        Sub().inputs  # noqa: B018
    built = lamina.Sequential([lamina.Input((3,)), lamina.layers.Dense(2)])
    with pytest.raises(ValueError, match="already been configured to use input shape"):
        built.build((None, 4))
    kbuilt = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    with pytest.raises(ValueError, match="already been configured to use input shape"):
        kbuilt.build((None, 4))
    built.build((None, 3))  # the same shape is fine
    assert built(np.ones((5, 3), "float32")).shape == (5, 2)
