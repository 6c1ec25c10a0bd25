"""How the image layers behave: identity at inference, seeds, devices, dtypes, inside fit, bad input."""

import random

import numpy as np
import pytest
import torch

import lamina
from lamina import layers
from tests.layers.preprocessing.image_preprocessing.cases import HARNESS_CASES

RANDOM = [
    c
    for c in HARNESS_CASES
    if c[0] not in {"Resizing", "CenterCrop", "AutoContrast", "ContrastLimitedAdaptiveHistogramEqualization"}
]
RANDOM_IDS = [f"{c[0]}-{i}" for i, c in enumerate(RANDOM)]


def _images(shape, seed=0):
    return torch.as_tensor(np.random.default_rng(seed).uniform(0, 255, shape).astype("float32"))


@pytest.mark.parametrize("name,kwargs,shape", RANDOM, ids=RANDOM_IDS)
def test_identity_at_inference(name, kwargs, shape):
    x = _images(shape)
    layer = getattr(layers, name)(**kwargs)
    out = layer(x, training=False)
    if name == "RandomCrop":  # at inference RandomCrop center-crops, as Keras documents
        assert tuple(out.shape) == tuple(layer.compute_output_shape(shape))
        return
    assert torch.equal(out, x)
    assert torch.equal(layer.eval()(x), x)  # the torch way to say inference
    if hasattr(layer, "generator"):
        assert layer.generator.state.numpy().tolist()[1] == 0  # nothing drawn


@pytest.mark.parametrize("name,kwargs,shape", RANDOM, ids=RANDOM_IDS)
def test_reproducible_under_a_seed(name, kwargs, shape):
    x = _images(shape)
    if "seed" in kwargs:
        kwargs = {**kwargs, "seed": 11}
    a, b = getattr(layers, name)(**kwargs), getattr(layers, name)(**kwargs)
    random.seed(0)  # AugMix picks chain steps with Python's random, as Keras does
    first = [a(x) for _ in range(2)]
    random.seed(0)
    second = [b(x) for _ in range(2)]
    assert len(first) == len(second) == 2
    for p, q in zip(first, second, strict=True):
        assert torch.equal(p, q)


@pytest.mark.parametrize("name,kwargs,shape", RANDOM, ids=RANDOM_IDS)
def test_random_layers_read_nothing_back_from_the_device(name, kwargs, shape):
    # On the meta device a tensor has no data: any host read (.item(), int(t), a data-dependent branch) fails.
    # Passing here means a training call runs as queued device work, with no synchronisation per batch.
    x = torch.empty(shape, device="meta")
    out = getattr(layers, name)(**kwargs)(x, training=True)
    assert out.device.type == "meta"
    assert tuple(out.shape) == tuple(getattr(layers, name)(**kwargs).compute_output_shape(shape))


def test_direct_call_trains_model_call_infers_like_predict():
    x = _images((4, 8, 8, 3))
    flip = layers.RandomFlip(seed=3)
    assert not all(torch.equal(flip(x), x) for _ in range(4))  # called directly it augments, as in Keras
    model = lamina.Sequential([lamina.Input((8, 8, 3)), layers.RandomFlip(seed=3)])
    assert torch.equal(model(x), x) and torch.equal(torch.as_tensor(model.predict(x, verbose=0)), x)


def test_augmentation_block_inside_fit():
    lamina.utils.set_random_seed(1)
    block = lamina.Sequential([layers.RandomFlip("horizontal"), layers.RandomRotation(0.1), layers.RandomZoom(0.1)])
    inputs = lamina.Input((16, 16, 3))
    x = layers.Rescaling(1.0 / 255)(block(inputs))
    x = layers.Conv2D(4, 3, activation="relu")(x)
    outputs = layers.Dense(2)(layers.GlobalAveragePooling2D()(x))
    model = lamina.Model(inputs, outputs)
    model.compile(optimizer="adam", loss=lamina.losses.SparseCategoricalCrossentropy(from_logits=True))
    images = _images((16, 16, 16, 3)).numpy()
    labels = np.arange(16) % 2
    history = model.fit(images, labels, batch_size=8, epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2 and np.isfinite(history.history["loss"]).all()
    assert model.predict(images, verbose=0).shape == (16, 2)


def test_single_images_and_integer_images():
    x = _images((6, 5, 3))
    assert tuple(layers.RandomRotation(0.2, seed=1)(x).shape) == (6, 5, 3)
    assert tuple(layers.Resizing(3, 4)(x).shape) == (3, 4, 3)
    pixels = x.to(torch.uint8)
    out = layers.Resizing(3, 4)(pixels)
    assert out.dtype == torch.float32 and torch.equal(out, out.round())  # integer images are rounded
    assert layers.RandomFlip(seed=1)(pixels).dtype == torch.float32
    assert layers.RandomFlip(seed=1, dtype="mixed_bfloat16")(x).dtype == torch.bfloat16


def test_dict_inputs_carry_masks_and_labels_along():
    x = _images((2, 8, 8, 3))
    masks = torch.randint(0, 3, (2, 8, 8, 1)).float()
    out = layers.RandomRotation((0.25, 0.25))({"images": x, "segmentation_masks": masks, "labels": torch.eye(2)})
    assert sorted(out) == ["images", "labels", "segmentation_masks"]
    assert torch.equal(out["labels"], torch.eye(2))
    assert torch.equal(out["segmentation_masks"], torch.rot90(masks, 1, dims=(1, 2)))  # nearest keeps mask values


def test_configs_round_trip_and_match_keras_keys():
    import keras

    for name, kwargs, _ in HARNESS_CASES:
        ours = getattr(layers, name)(**kwargs).get_config()
        theirs = getattr(keras.layers, name)(**kwargs).get_config()
        assert sorted(ours) == sorted(theirs), name
        assert getattr(layers, name).from_config(ours).get_config() == ours


BAD_ARGUMENTS = [
    (layers.RandomRotation, {"factor": 2.0}, "`factor` to be a number"),
    (layers.RandomRotation, {"factor": (0.1, 0.2, 0.3)}, "`factor` to be a number"),
    (layers.RandomRotation, {"factor": "big"}, "`factor` to be a number"),
    (layers.RandomRotation, {"factor": 0.1, "fill_mode": "bogus"}, "`fill_mode` to be one of"),
    (layers.RandomZoom, {"height_factor": -1.0}, r"`height_factor` to be a number .* in the range \(-1.0"),
    (layers.RandomTranslation, {"height_factor": 0.1, "width_factor": 1.5}, "`width_factor`"),
    (layers.RandomShear, {"x_factor": 1.5}, "`x_factor`"),
    (layers.RandomContrast, {"factor": -0.5}, "in the range \\[0, 1\\]"),
    (layers.RandomBrightness, {"factor": 0.2, "value_range": 255}, "`value_range` to be a list of two numbers"),
    (layers.RandomGrayscale, {"factor": 1.5}, "`factor` between 0 and 1"),
    (layers.RandomPosterization, {"factor": 9}, "in the range \\[1, 8\\]"),
    (layers.RandomGaussianBlur, {"kernel_size": 4}, "`kernel_size` to be an odd number"),
    (layers.RandomErasing, {"fill_value": [1, 2]}, "`fill_value`"),
    (layers.RandomPerspective, {"scale": 2.0}, "`scale` to be a number in the range"),
    (layers.RandomFlip, {"mode": "diagonal"}, "`mode` to be one of"),
    (layers.Resizing, {"height": 0, "width": 3}, "`height` to be a positive integer"),
    (layers.Resizing, {"height": 2, "width": 3, "interpolation": "lanczos3"}, "`interpolation` to be one of"),
    (
        layers.Resizing,
        {"height": 2, "width": 3, "crop_to_aspect_ratio": True, "pad_to_aspect_ratio": True},
        "at most one",
    ),
    (layers.CenterCrop, {"height": 2, "width": 3, "data_format": "channels_middle"}, "`data_format` to be"),
    (layers.MixUp, {"alpha": 0}, "`alpha` to be a positive number"),
    (layers.Solarization, {"addition_factor": 2}, "`addition_factor`"),
    (layers.RandAugment, {"num_ops": -1}, "`num_ops`"),
    (layers.AugMix, {"num_chains": 0}, "`num_chains`"),
    (layers.Equalization, {"bins": 1}, "`bins`"),
    (layers.ContrastLimitedAdaptiveHistogramEqualization, {"tile_grid_size": 8}, "`tile_grid_size`"),
    (layers.RandomFlip, {"factor": 0.5}, "no `factor` argument"),
]


@pytest.mark.parametrize("cls,kwargs,message", BAD_ARGUMENTS, ids=[c[0].__name__ for c in BAD_ARGUMENTS])
def test_bad_arguments_name_the_layer(cls, kwargs, message):
    with pytest.raises(ValueError, match=message) as info:
        cls(**kwargs)
    assert f"({cls.__name__})" in str(info.value) and "received" in str(info.value)


@pytest.mark.parametrize(
    "data,message",
    [
        (np.zeros((4, 4), "float32"), "images of rank 3 .* or 4 .*, but received shape \\(4, 4\\)"),
        (np.zeros((1, 2, 4, 4, 3), "float32"), "but received shape \\(1, 2, 4, 4, 3\\)"),
        (np.array([["a", "b"], ["c", "d"]]), "numeric images .* dtype <U1"),
        (np.zeros((2, 4, 4, 3), bool), "real-valued numeric images, but received dtype bool"),
        ({"labels": np.zeros(2)}, "a dict with an 'images' entry"),
    ],
)
def test_bad_inputs_name_the_layer(data, message):
    for layer in (layers.RandomRotation(0.1, name="rot"), layers.Resizing(2, 2, name="rot")):
        with pytest.raises(ValueError, match=message) as info:
            layer(data)
        assert 'Layer "rot"' in str(info.value)


def test_boxes_need_a_format():
    data = {
        "images": np.zeros((1, 4, 4, 3), "float32"),
        "bounding_boxes": {"boxes": np.zeros((1, 1, 4)), "labels": np.zeros((1, 1))},
    }
    with pytest.raises(ValueError, match="`bounding_box_format`"):
        layers.RandomFlip()(data)
    with pytest.raises(ValueError, match="dict with keys 'boxes' and 'labels'"):
        layers.RandomFlip(bounding_box_format="xyxy")({"images": data["images"], "bounding_boxes": {"boxes": []}})
