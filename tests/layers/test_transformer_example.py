"""keras.io "Text classification with Transformer", run with only the import changed, beside real Keras.

https://keras.io/examples/nlp/text_classification_with_transformer/ — the example's code (its
``TransformerBlock`` and ``TokenAndPositionEmbedding`` layers, model, compile and fit) is executed as written,
once under ``import keras`` and once under ``import lamina as keras``. The IMDB download is replaced by
generated token ids of the example's shapes (maxlen 200, vocabulary 20,000), fewer of them to stay fast.
Lamina's initial weights are copied into the Keras model; the untrained models then agree on every prediction,
and the training curves agree within the noise of the example's dropout (random masks differ between the two).
"""

import numpy as np

KERAS_IMPORTS = """
import keras
from keras import ops
from keras import layers
"""
LAMINA_IMPORTS = """
import lamina as keras
from lamina import ops
from lamina import layers
"""

EXAMPLE_MODEL = """
class TransformerBlock(layers.Layer):
    def __init__(self, embed_dim, num_heads, ff_dim, rate=0.1):
        super().__init__()
        self.att = layers.MultiHeadAttention(num_heads=num_heads, key_dim=embed_dim)
        self.ffn = keras.Sequential(
            [layers.Dense(ff_dim, activation="relu"), layers.Dense(embed_dim),]
        )
        self.layernorm1 = layers.LayerNormalization(epsilon=1e-6)
        self.layernorm2 = layers.LayerNormalization(epsilon=1e-6)
        self.dropout1 = layers.Dropout(rate)
        self.dropout2 = layers.Dropout(rate)

    def call(self, inputs):
        attn_output = self.att(inputs, inputs)
        attn_output = self.dropout1(attn_output)
        out1 = self.layernorm1(inputs + attn_output)
        ffn_output = self.ffn(out1)
        ffn_output = self.dropout2(ffn_output)
        return self.layernorm2(out1 + ffn_output)


class TokenAndPositionEmbedding(layers.Layer):
    def __init__(self, maxlen, vocab_size, embed_dim):
        super().__init__()
        self.token_emb = layers.Embedding(input_dim=vocab_size, output_dim=embed_dim)
        self.pos_emb = layers.Embedding(input_dim=maxlen, output_dim=embed_dim)

    def call(self, x):
        maxlen = ops.shape(x)[-1]
        positions = ops.arange(start=0, stop=maxlen, step=1)
        positions = self.pos_emb(positions)
        x = self.token_emb(x)
        return x + positions


vocab_size = 20000  # Only consider the top 20k words
maxlen = 200  # Only consider the first 200 words of each movie review

embed_dim = 32  # Embedding size for each token
num_heads = 2  # Number of attention heads
ff_dim = 32  # Hidden layer size in feed forward network inside transformer

inputs = layers.Input(shape=(maxlen,))
embedding_layer = TokenAndPositionEmbedding(maxlen, vocab_size, embed_dim)
x = embedding_layer(inputs)
transformer_block = TransformerBlock(embed_dim, num_heads, ff_dim)
x = transformer_block(x)
x = layers.GlobalAveragePooling1D()(x)
x = layers.Dropout(0.1)(x)
x = layers.Dense(20, activation="relu")(x)
x = layers.Dropout(0.1)(x)
outputs = layers.Dense(2, activation="softmax")(x)

model = keras.Model(inputs=inputs, outputs=outputs)
"""

EXAMPLE_FIT = """
model.compile(
    optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"]
)
history = model.fit(
    x_train, y_train, batch_size=32, epochs=2, validation_data=(x_val, y_val), verbose=0
)
"""


def _data(n_train=192, n_val=32, seed=0):
    """What ``imdb.load_data`` + ``pad_sequences`` give: int32 ids below 20,000, left-padded with 0, labels 0/1;
    positive reviews carry a few words from one small set, negative ones from another (a signal to learn)."""
    rng = np.random.default_rng(seed)

    def reviews(n):
        ids = rng.integers(100, 20000, size=(n, 200)).astype("int32")
        labels = rng.integers(0, 2, size=n)
        for row, label in zip(ids, labels, strict=True):
            length = rng.integers(40, 201)
            row[: 200 - length] = 0
            cue = rng.choice(np.arange(200 - length, 200), 8)
            row[cue] = rng.integers(1, 50, 8) + 50 * (1 - label)
        return ids, labels.astype("int64")

    (x_train, y_train), (x_val, y_val) = reviews(n_train), reviews(n_val)
    return x_train, y_train, x_val, y_val


def _run(imports, namespace):
    exec(imports + EXAMPLE_MODEL, namespace)  # noqa: S102 - the example's own code, as written
    return namespace


def _pair(data):
    """The example's model under Lamina and under Keras, Keras holding Lamina's initial weights."""
    ours = _run(LAMINA_IMPORTS, dict(data))
    theirs = _run(KERAS_IMPORTS, dict(data))
    lmodel, kmodel = ours["model"], theirs["model"]
    assert [w.shape for w in lmodel.weights] == [tuple(w.shape) for w in kmodel.weights]
    kmodel.set_weights(lmodel.get_weights())
    return ours, theirs


def test_transformer_text_classification_example_matches_keras():
    import keras as real_keras

    x_train, y_train, x_val, y_val = _data()
    data = {"x_train": x_train, "y_train": y_train, "x_val": x_val, "y_val": y_val}
    ours, theirs = _pair(data)
    lmodel, kmodel = ours["model"], theirs["model"]
    # token + position embeddings, MHA (4 projections), FFN, 2 LayerNorms, the head
    assert lmodel.count_params() == kmodel.count_params() == 640000 + 6400 + 8416 + 2112 + 128 + 660 + 42
    # same weights: same predictions (inference: no dropout)
    np.testing.assert_allclose(lmodel.predict(x_val, verbose=0), kmodel.predict(x_val, verbose=0), atol=1e-5, rtol=1e-5)

    # the example as written: shuffled batches and dropout, whose random draws differ between the two, so the
    # curves agree to that noise (a few 0.01 on this small data) and both learn
    real_keras.utils.set_random_seed(1)
    ours["keras"].utils.set_random_seed(1)
    exec(EXAMPLE_FIT, ours)  # noqa: S102
    exec(EXAMPLE_FIT, theirs)  # noqa: S102
    lh, kh = ours["history"].history, theirs["history"].history
    assert set(lh) == set(kh) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    for key in ("loss", "val_loss"):
        assert len(lh[key]) == len(kh[key]) == 2
        np.testing.assert_allclose(lh[key], kh[key], atol=0.1, err_msg=key)
    assert lh["loss"][1] < lh["loss"][0] and kh["loss"][1] < kh["loss"][0]  # both learn (by how much is the data's)


def test_transformer_example_training_steps_equal_keras_without_randomness():
    # the same model, compile and fit with the two random parts held still (dropout rates 0, batches in order):
    # attention, its backward pass, Adam and the metrics then give Keras's curve number for number
    x_train, y_train, x_val, y_val = _data(n_train=96)
    data = {"x_train": x_train, "y_train": y_train, "x_val": x_val, "y_val": y_val}
    ours, theirs = _pair(data)
    for namespace in (ours, theirs):
        layers = namespace["model"]._flatten_layers()
        dropouts = [la for la in layers if type(la).__name__ == "Dropout" and la.rate > 0]
        assert len(dropouts) == 4
        for layer in dropouts:
            layer.rate = 0.0
        exec(EXAMPLE_FIT.replace("verbose=0", "verbose=0, shuffle=False"), namespace)  # noqa: S102
    lh, kh = ours["history"].history, theirs["history"].history
    for key in ("loss", "accuracy", "val_loss", "val_accuracy"):
        np.testing.assert_allclose(lh[key], kh[key], atol=1e-4, rtol=1e-4, err_msg=key)
