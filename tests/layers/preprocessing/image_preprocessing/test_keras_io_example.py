"""keras.io "Image classification from scratch" (https://keras.io/examples/vision/image_classification_from_scratch/),
run with only the import changed: its augmentation block, its small Xception-like convnet, ModelCheckpoint,
and single-image inference through keras.utils. The cats-vs-dogs files are replaced by generated images of
the same shape (180x180x3, two classes; the default run uses 48x48 and the slow one the example's size), few
of them, so the example runs in seconds."""

import numpy as np
import pytest

import lamina as keras
from lamina import layers


def run_example(tmp_path, image_size=(180, 180), count=4, batch_size=2):
    # --- the example's code from here, with the data replaced ---
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (count, *image_size, 3)).astype("float32")
    labels = (np.arange(count) % 2).astype("float32")

    data_augmentation_layers = [
        layers.RandomFlip("horizontal"),
        layers.RandomRotation(0.1),
    ]

    def data_augmentation(images):
        for layer in data_augmentation_layers:
            images = layer(images)
        return images

    augmented = data_augmentation(images)  # the example plots these; here: same shape, changed pixels
    assert tuple(augmented.shape) == images.shape

    def make_model(input_shape, num_classes):
        inputs = keras.Input(shape=input_shape)
        x = data_augmentation(inputs)  # "Option 1": the augmentation inside the model, active in fit only

        # Entry block
        x = layers.Rescaling(1.0 / 255)(x)
        x = layers.Conv2D(128, 3, strides=2, padding="same")(x)
        x = layers.BatchNormalization()(x)
        x = layers.Activation("relu")(x)

        previous_block_activation = x  # Set aside residual

        for size in [256, 512, 728]:
            x = layers.Activation("relu")(x)
            x = layers.SeparableConv2D(size, 3, padding="same")(x)
            x = layers.BatchNormalization()(x)

            x = layers.Activation("relu")(x)
            x = layers.SeparableConv2D(size, 3, padding="same")(x)
            x = layers.BatchNormalization()(x)

            x = layers.MaxPooling2D(3, strides=2, padding="same")(x)

            # Project residual
            residual = layers.Conv2D(size, 1, strides=2, padding="same")(previous_block_activation)
            x = layers.add([x, residual])  # Add back residual
            previous_block_activation = x  # Set aside next residual

        x = layers.SeparableConv2D(1024, 3, padding="same")(x)
        x = layers.BatchNormalization()(x)
        x = layers.Activation("relu")(x)

        x = layers.GlobalAveragePooling2D()(x)
        if num_classes == 2:
            units = 1
        else:
            units = num_classes

        x = layers.Dropout(0.25)(x)
        # We specify activation=None so as to return logits
        outputs = layers.Dense(units, activation=None)(x)
        return keras.Model(inputs, outputs)

    model = make_model(input_shape=image_size + (3,), num_classes=2)

    epochs = 1
    callbacks = [keras.callbacks.ModelCheckpoint(str(tmp_path / "save_at_{epoch}.keras"))]
    model.compile(
        optimizer=keras.optimizers.Adam(3e-4),
        loss=keras.losses.BinaryCrossentropy(from_logits=True),
        metrics=[keras.metrics.BinaryAccuracy(name="acc")],
    )
    history = model.fit(
        images,
        labels,
        batch_size=batch_size,
        epochs=epochs,
        callbacks=callbacks,
        validation_data=(images, labels),
        verbose=0,
    )

    # Run inference on new data
    keras.utils.save_img(str(tmp_path / "6779.jpg"), images[0])
    img = keras.utils.load_img(str(tmp_path / "6779.jpg"), target_size=image_size)
    img_array = keras.utils.img_to_array(img)
    img_array = keras.ops.expand_dims(img_array, 0)  # Create batch axis

    predictions = model.predict(img_array)
    score = float(keras.ops.sigmoid(predictions[0][0]))
    print(f"This image is {100 * (1 - score):.2f}% cat and {100 * score:.2f}% dog.")
    # --- end of the example's code ---
    return model, history, score


@pytest.mark.parametrize(
    "image_size", [(48, 48), pytest.param((180, 180), marks=pytest.mark.slow)], ids=["small", "example_size"]
)
def test_image_classification_from_scratch(tmp_path, image_size):
    model, history, score = run_example(tmp_path, image_size)
    assert sorted(history.history) == ["acc", "loss", "val_acc", "val_loss"]
    assert np.isfinite(history.history["loss"]).all() and 0.0 <= score <= 1.0
    assert (tmp_path / "save_at_1.keras").exists()
    reloaded = keras.saving.load_model(str(tmp_path / "save_at_1.keras"))
    assert [type(layer).__name__ for layer in reloaded.layers[1:3]] == ["RandomFlip", "RandomRotation"]
    x = np.random.default_rng(1).integers(0, 256, (2, *image_size, 3)).astype("float32")
    np.testing.assert_allclose(reloaded.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-5)
