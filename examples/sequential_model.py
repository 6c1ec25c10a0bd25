"""Keras's "The Sequential model" guide (its model-building part), run on Lamina.

The code is the guide's, with only the imports changed (``import lamina as keras``); it replays the
notebook the guide was followed in: the 3-layer model called on ``ones((3, 3))``, ``layers``, ``pop``,
``add``, ``weights``, ``summary()``, ``Input`` / ``input_shape=``, the add() + summary() debugging
workflow on a convnet, feature extraction with a functional ``Model``, and transfer learning (frozen
layers, then a frozen ``keras.applications.Xception`` base under a new head). Bare expressions the
notebook displayed are printed.

Run: ``python examples/sequential_model.py``
"""

import lamina as keras
from lamina import layers, ops

# ---------------------------------------------------------------- When to use a Sequential model
# Define Sequential model with 3 layers
model = keras.Sequential(
    [
        layers.Dense(2, activation="relu", name="layer1"),
        layers.Dense(3, activation="relu", name="layer2"),
        layers.Dense(4, name="layer3"),
    ]
)
# Call model on a test input
x = ops.ones((3, 3))
y = model(x)
print(x)
print(y)

# is equivalent to this function:
# Create 3 layers
layer1 = layers.Dense(2, activation="relu", name="layer1")
layer2 = layers.Dense(3, activation="relu", name="layer2")
layer3 = layers.Dense(4, name="layer3")

# Call layers on a test input
x = ops.ones((3, 3))
y = layer3(layer2(layer1(x)))

# ---------------------------------------------------------------- Creating a Sequential model
model = keras.Sequential(
    [
        layers.Dense(2, activation="relu", name="layer1"),
        layers.Dense(3, activation="relu", name="layer2"),
        layers.Dense(4, name="layer3"),
    ]
)
model(ops.ones((3, 3)))
print(model.layers)

model.pop()  # the last layer goes
print(model.layers)

layer1 = layers.Dense(4)
print(layer1.weights)  # not built yet: no weights
model.add(layer1)
print(model.layers)

model(ops.ones((3, 3)))  # running the model once creates the new layer's weights
print(model.weights)

model.summary()  # output shapes (3, ...) because it was built on a (3, 3) input

model = keras.Sequential()
model.add(layers.Dense(2, activation="relu"))
model.add(layers.Dense(3, activation="relu"))
model.add(layers.Dense(4))

model.pop()
print(len(model.layers))  # 2

model = keras.Sequential(name="my_sequential")
model.add(layers.Dense(2, activation="relu", name="layer1"))
model.add(layers.Dense(3, activation="relu", name="layer2"))
model.add(layers.Dense(4, name="layer3"))

# ---------------------------------------------------------------- Specifying the input shape in advance
layer = layers.Dense(3)
print(layer.weights)  # Empty

# Call layer on a test input
x = ops.ones((1, 4))
y = layer(x)
print(layer.weights)  # Now it has weights, of shape (4, 3) and (3,)

model = keras.Sequential(
    [
        layers.Dense(2, activation="relu"),
        layers.Dense(3, activation="relu"),
        layers.Dense(4),
    ]
)  # No weights at this stage!

# Call the model on a test input
x = ops.ones((1, 4))
y = model(x)
print("Number of weights after calling the model:", len(model.weights))  # 6

model.summary()

model = keras.Sequential()
model.add(keras.Input(shape=(4,)))
model.add(layers.Dense(2, activation="relu", name="layer1"))

model.summary()
print(model.layers)

model = keras.Sequential()
model.add(layers.Dense(2, activation="relu", input_shape=(4,), name="layer1"))
model.summary()

# ---------------------------------------------------------------- A common debugging workflow: add() + summary()
model = keras.Sequential()
model.add(keras.Input(shape=(250, 250, 3)))  # 250x250 RGB images
model.add(layers.Conv2D(32, 5, strides=2, activation="relu"))
model.add(layers.Conv2D(32, 3, activation="relu"))
model.add(layers.MaxPooling2D(3))

# Can you guess what the current output shape is at this point? Probably not.
# Let's just print it:
model.summary()

# The answer was: (40, 40, 32), so we can keep downsampling...

model.add(layers.Conv2D(32, 3, activation="relu"))
model.add(layers.Conv2D(32, 3, activation="relu"))
model.add(layers.MaxPooling2D(3))
model.add(layers.Conv2D(32, 3, activation="relu"))
model.add(layers.Conv2D(32, 3, activation="relu"))
model.add(layers.MaxPooling2D(2))

# And now?
model.summary()

# Now that we have 4x4 feature maps, time to apply global max pooling.
model.add(layers.GlobalMaxPooling2D())

# Finally, we add a classification layer.
model.add(layers.Dense(10))

model.summary()

# ---------------------------------------------------------------- Feature extraction with a Sequential model
try:  # the functional Model(inputs, outputs) API
    from lamina.models.functional import Functional  # noqa: F401
except ImportError:
    print("Skipping feature extraction: this Lamina has no functional `Model(inputs, outputs)` yet.")
else:
    initial_model = keras.Sequential(
        [
            keras.Input(shape=(250, 250, 3)),
            layers.Conv2D(32, 5, strides=2, activation="relu"),
            layers.Conv2D(32, 3, activation="relu"),
            layers.Conv2D(32, 3, activation="relu"),
        ]
    )
    feature_extractor = keras.Model(
        inputs=initial_model.inputs,
        outputs=[layer.output for layer in initial_model.layers],
    )

    # Call feature extractor on test input.
    x = ops.ones((1, 250, 250, 3))
    features = feature_extractor(x)
    print([tuple(f.shape) for f in features])

    initial_model = keras.Sequential(
        [
            keras.Input(shape=(250, 250, 3)),
            layers.Conv2D(32, 5, strides=2, activation="relu"),
            layers.Conv2D(32, 3, activation="relu", name="my_intermediate_layer"),
            layers.Conv2D(32, 3, activation="relu"),
        ]
    )
    feature_extractor = keras.Model(
        inputs=initial_model.inputs,
        outputs=initial_model.get_layer(name="my_intermediate_layer").output,
    )
    # Call feature extractor on test input.
    x = ops.ones((1, 250, 250, 3))
    features = feature_extractor(x)
    print(tuple(features.shape))

# ---------------------------------------------------------------- Transfer learning with a Sequential model
model = keras.Sequential(
    [
        keras.Input(shape=(784,)),
        layers.Dense(32, activation="relu"),
        layers.Dense(32, activation="relu"),
        layers.Dense(32, activation="relu"),
        layers.Dense(10),
    ]
)

# Freeze all layers except the last one.
for layer in model.layers[:-1]:
    layer.trainable = False

model.summary(show_trainable=True)

# A common blueprint: a pre-trained convolutional base under a new classifier. The guide loads
# weights="imagenet" (Keras's file, downloaded once into ~/.keras/models; a weights file path works too);
# weights=None keeps this replay offline.
base_model = keras.applications.Xception(weights=None, include_top=False, pooling="avg")

# Freeze the base model
base_model.trainable = False

# Use a Sequential model to add a trainable layer on top
model = keras.Sequential([base_model, layers.Dense(1000)])
model.summary(show_trainable=True)
