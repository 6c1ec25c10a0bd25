"""keras.io examples that start from keras.datasets, run with only the import changed.

The data files are tiny upstream-format files served from the loopback server (the
examples' preprocessing and models are kept, sizes shrunk so each runs in a second).
"""

import numpy as np
import pytest

import lamina as keras
from lamina import layers
from tests.datasets import upstream_files as files


@pytest.fixture
def serve(http_server, tmp_path, monkeypatch):
    import hashlib

    monkeypatch.setenv("KERAS_HOME", str(tmp_path))

    def serve(module, name, data):
        http_server.add(name, data)
        monkeypatch.setattr(module, "ORIGIN_FOLDER", http_server.base_url)
        monkeypatch.setattr(module, "FILE_HASH", hashlib.sha256(data).hexdigest())

    return serve


def test_simple_mnist_convnet(serve):
    # https://keras.io/examples/vision/mnist_convnet/
    serve(keras.datasets.mnist, "mnist.npz", files.mnist())
    num_classes, input_shape = 10, (28, 28, 1)
    (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
    x_train = x_train.astype("float32") / 255
    x_test = x_test.astype("float32") / 255
    x_train = np.expand_dims(x_train, -1)
    x_test = np.expand_dims(x_test, -1)
    y_train = keras.utils.to_categorical(y_train, num_classes)
    y_test = keras.utils.to_categorical(y_test, num_classes)
    model = keras.Sequential(
        [
            keras.Input(shape=input_shape),
            layers.Conv2D(8, kernel_size=(3, 3), activation="relu"),
            layers.MaxPooling2D(pool_size=(2, 2)),
            layers.Flatten(),
            layers.Dropout(0.5),
            layers.Dense(num_classes, activation="softmax"),
        ]
    )
    model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    history = model.fit(x_train, y_train, batch_size=4, epochs=1, validation_split=0.3, verbose=0)
    assert set(history.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    score = model.evaluate(x_test, y_test, verbose=0)
    assert len(score) == 2 and np.isfinite(score).all()


def test_imdb_bidirectional_lstm(serve):
    # https://keras.io/examples/nlp/bidirectional_lstm_imdb/
    serve(keras.datasets.imdb, "imdb.npz", files.imdb())
    max_features, maxlen = 30, 10
    (x_train, y_train), (x_val, y_val) = keras.datasets.imdb.load_data(num_words=max_features)
    x_train = keras.utils.pad_sequences(x_train, maxlen=maxlen)
    x_val = keras.utils.pad_sequences(x_val, maxlen=maxlen)
    assert x_train.shape == (9, maxlen) and x_train.dtype == np.int32 and x_train.max() < max_features
    inputs = keras.Input(shape=(None,), dtype="int32")
    x = layers.Embedding(max_features, 8)(inputs)
    x = layers.Bidirectional(layers.LSTM(4, return_sequences=True))(x)
    x = layers.Bidirectional(layers.LSTM(4))(x)
    outputs = layers.Dense(1, activation="sigmoid")(x)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    history = model.fit(x_train, y_train, batch_size=4, epochs=1, validation_data=(x_val, y_val), verbose=0)
    assert np.isfinite(history.history["val_loss"]).all()


def test_boston_housing_regression(serve):
    serve(keras.datasets.boston_housing, "boston_housing.npz", files.housing(13, 30))
    (x_train, y_train), (x_test, y_test) = keras.datasets.boston_housing.load_data()
    mean, std = x_train.mean(axis=0), x_train.std(axis=0)
    x_train, x_test = (x_train - mean) / std, (x_test - mean) / std
    model = keras.Sequential([keras.Input((13,)), layers.Dense(8, activation="relu"), layers.Dense(1)])
    model.compile(optimizer="rmsprop", loss="mse", metrics=["mae"])
    model.fit(x_train, y_train, epochs=2, batch_size=8, verbose=0)
    assert model.predict(x_test, verbose=0).shape == (6, 1)
