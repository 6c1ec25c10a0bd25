"""keras.io "Text classification from scratch" (fchollet), run on Lamina without TensorFlow.

The example's code with ``import lamina as keras``, on a tiny generated IMDB-like corpus (the real
one is an 80 MB download), sizes shrunk so it runs in seconds. Its structure is kept: raw
``text_dataset_from_directory`` datasets with a validation split, a custom standardization that
strips ``<br />``, ``TextVectorization`` adapted on the text-only dataset, vectorization mapped over
the datasets with ``cache().prefetch()``, the 1D-convnet trained and evaluated, then the end-to-end
model that takes raw strings.

The lines that called TensorFlow directly are the only other changes, each marked ``# Lamina:``:
``custom_standardization`` uses NumPy's string functions (Keras hands a standardize callable a NumPy
array on non-TensorFlow backends; ``tf.strings`` needs TensorFlow), ``tf.expand_dims`` becomes
``np.expand_dims``, and a text batch is printed as the NumPy array it already is (no ``.numpy()``).

Run: ``python examples/text_classification_from_scratch.py`` (writes the corpus to a temporary folder).
"""

import os
import re
import string
import tempfile

import numpy as np

import lamina as keras  # was: import keras
from lamina import layers  # was: from keras import layers

# ---------------------------------------------------------------- Load the data: IMDB movie review sentiment
POSITIVE = "great wonderful loved superb brilliant moving funny charming excellent perfect".split()
NEGATIVE = "boring awful hated dull terrible slow stupid bland painful worst".split()
NEUTRAL = "the movie film plot actors story scenes a it was and this with i".split()


def write_tiny_imdb(root: str, seed: int = 0) -> None:
    """``aclImdb/{train,test}/{neg,pos}/*.txt`` with a few dozen short reviews (and some ``<br />``)."""
    rng = np.random.default_rng(seed)
    for split, count in (("train", 40), ("test", 16)):
        for label, words in (("neg", NEGATIVE), ("pos", POSITIVE)):
            folder = os.path.join(root, "aclImdb", split, label)
            os.makedirs(folder, exist_ok=True)
            for i in range(count):
                tokens = list(rng.choice(NEUTRAL, 8)) + list(rng.choice(words, 3))
                rng.shuffle(tokens)
                text = " ".join(tokens[:6]) + ".<br /><br />" + " ".join(tokens[6:]).capitalize() + "!"
                with open(os.path.join(folder, f"{i}_{rng.integers(1, 11)}.txt"), "w") as f:
                    f.write(text)


def main(root: str) -> dict:
    os.chdir(root)
    write_tiny_imdb(root)

    batch_size = 8
    raw_train_ds = keras.utils.text_dataset_from_directory(
        "aclImdb/train",
        batch_size=batch_size,
        validation_split=0.2,
        subset="training",
        seed=1337,
    )
    raw_val_ds = keras.utils.text_dataset_from_directory(
        "aclImdb/train",
        batch_size=batch_size,
        validation_split=0.2,
        subset="validation",
        seed=1337,
    )
    raw_test_ds = keras.utils.text_dataset_from_directory("aclImdb/test", batch_size=batch_size)

    print(f"Number of batches in raw_train_ds: {raw_train_ds.cardinality()}")
    print(f"Number of batches in raw_val_ds: {raw_val_ds.cardinality()}")
    print(f"Number of batches in raw_test_ds: {raw_test_ds.cardinality()}")

    # It's important to take a look at your raw data to ensure your normalization
    # and tokenization will work as expected.
    for text_batch, label_batch in raw_train_ds.take(1):
        for i in range(5):
            print(text_batch[i])  # Lamina: was text_batch.numpy()[i]; texts are NumPy arrays already
            print(label_batch.numpy()[i])

    # ------------------------------------------------------------ Prepare the data
    # Having looked at our data above, we see that the raw text contains HTML break
    # tags of the form '<br />'. These tags will not be removed by the default
    # standardizer (which doesn't strip HTML). Because of this, we will need to
    # create a custom standardization function.
    def custom_standardization(input_data):
        lowercase = np.char.lower(input_data)  # Lamina: was tf.strings.lower
        stripped_html = np.char.replace(lowercase, "<br />", " ")  # Lamina: was tf.strings.regex_replace
        punctuation = re.compile(f"[{re.escape(string.punctuation)}]")
        return np.vectorize(lambda s: punctuation.sub("", s))(stripped_html)  # Lamina: was tf.strings.regex_replace

    # Model constants.
    max_features = 200
    embedding_dim = 16
    sequence_length = 60

    # Now that we have our custom standardization, we can instantiate our text
    # vectorization layer. We are using this layer to normalize, split, and map
    # strings to integers, so we set our 'output_mode' to 'int'.
    vectorize_layer = keras.layers.TextVectorization(
        standardize=custom_standardization,
        max_tokens=max_features,
        output_mode="int",
        output_sequence_length=sequence_length,
    )

    # Now that the vectorize_layer has been created, call `adapt` on a text-only
    # dataset to create the vocabulary. You don't have to batch, but for very large
    # datasets this means you're not keeping spare copies of the dataset in memory.

    # Let's make a text-only dataset (no labels):
    text_ds = raw_train_ds.map(lambda x, y: x)
    # Let's call `adapt`:
    vectorize_layer.adapt(text_ds)

    # ------------------------------------------------------------ Two options to vectorize the data
    def vectorize_text(text, label):
        text = np.expand_dims(text, -1)  # Lamina: was tf.expand_dims(text, -1)
        return vectorize_layer(text), label

    # Vectorize the data.
    train_ds = raw_train_ds.map(vectorize_text)
    val_ds = raw_val_ds.map(vectorize_text)
    test_ds = raw_test_ds.map(vectorize_text)

    # Do async prefetching / buffering of the data for best performance on GPU.
    train_ds = train_ds.cache().prefetch(buffer_size=10)
    val_ds = val_ds.cache().prefetch(buffer_size=10)
    test_ds = test_ds.cache().prefetch(buffer_size=10)

    # ------------------------------------------------------------ Build a model
    # A integer input for vocab indices.
    inputs = keras.Input(shape=(None,), dtype="int64")

    # Next, we add a layer to map those vocab indices into a space of dimensionality
    # 'embedding_dim'.
    x = layers.Embedding(max_features, embedding_dim)(inputs)
    x = layers.Dropout(0.5)(x)

    # Conv1D + global max pooling
    x = layers.Conv1D(16, 7, padding="valid", activation="relu", strides=3)(x)
    x = layers.Conv1D(16, 7, padding="valid", activation="relu", strides=3)(x)
    x = layers.GlobalMaxPooling1D()(x)

    # We add a vanilla hidden layer:
    x = layers.Dense(16, activation="relu")(x)
    x = layers.Dropout(0.5)(x)

    # We project onto a single unit output layer, and squash it with a sigmoid:
    predictions = layers.Dense(1, activation="sigmoid", name="predictions")(x)

    model = keras.Model(inputs, predictions)

    # Compile the model with binary crossentropy loss and an adam optimizer.
    model.compile(loss="binary_crossentropy", optimizer="adam", metrics=["accuracy"])

    # ------------------------------------------------------------ Train the model
    epochs = 3

    # Fit the model using the train and test datasets.
    history = model.fit(train_ds, validation_data=val_ds, epochs=epochs, verbose=2)

    # ------------------------------------------------------------ Evaluate the model on the test set
    test_results = model.evaluate(test_ds, verbose=0)
    print(test_results)

    # ------------------------------------------------------------ Make an end-to-end model
    # A string input
    inputs = keras.Input(shape=(1,), dtype="string")
    # Turn strings into vocab indices
    indices = vectorize_layer(inputs)
    # Turn vocab indices into predictions
    outputs = model(indices)

    # Our end to end model
    end_to_end_model = keras.Model(inputs, outputs)
    end_to_end_model.compile(loss="binary_crossentropy", optimizer="adam", metrics=["accuracy"])

    # Test it with `raw_test_ds`, which yields raw strings
    end_to_end_results = end_to_end_model.evaluate(raw_test_ds, verbose=0)
    print(end_to_end_results)
    return {
        "history": history.history,
        "test": test_results,
        "end_to_end": end_to_end_results,
        "vocabulary": vectorize_layer.get_vocabulary(),
    }


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as folder:
        main(folder)
