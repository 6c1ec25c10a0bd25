"""What every application constructor shares: argument checks, the image input, the top, the model.

Each family module writes only its architecture; the checks and messages are Keras's, in one place.
"""

from __future__ import annotations

import os
from typing import Any

from lamina import backend, layers
from lamina.applications import _weights
from lamina.applications.imagenet_utils import validate_activation
from lamina.layers import KerasTensor
from lamina.models import Model

WeightsFile = tuple[str, str, "str | None"]  # (file name, origin URL, file hash)

ARGS_DOC = """
    include_top: whether to include the classifier at the top of the network.
    weights: ``None`` (random initialization), ``"imagenet"`` (Keras's ImageNet weights,
        downloaded once into ``~/.keras/models``, where Keras keeps them too) or the path of a
        weights file (``.h5`` as Keras publishes them, ``.weights.h5`` or ``.keras``).
    input_tensor: optional ``KerasTensor`` (output of ``lamina.Input()``) to use as the image input.
    input_shape: optional per-sample shape ``(height, width, channels)``, only to be given when
        ``include_top`` is ``False`` (or ``weights`` is not ``"imagenet"``); height and width
        may be ``None``.
    pooling: with ``include_top=False``: ``None`` (the 4D output of the last block), ``"avg"``
        (global average pooling: 2D output) or ``"max"`` (global max pooling).
    classes: number of classes of the classifier, only with ``include_top=True`` and no
        ``"imagenet"`` weights.
    classifier_activation: activation of the top layer (``None`` for logits); only ``None`` or
        ``"softmax"`` with pretrained weights.
    name: the model's name."""

RETURNS_DOC = """
Returns:
    A functional ``lamina.Model`` whose layer names, weights and weight order are Keras's.

Raises:
    ValueError: for a ``weights``, ``input_shape``, ``classes`` or ``classifier_activation``
        the model cannot take (Keras's messages)."""


def doc(summary: str, reference: str, preprocessing: str, extra_args: str = "") -> str:
    """A constructor's docstring from the shared argument text."""
    return f"{summary}\n\nReference: {reference}\n\n{preprocessing}\n\nArgs:{ARGS_DOC}{extra_args}\n{RETURNS_DOC}\n"


def data_format() -> str:
    """The global image layout the model is built for (``lamina.backend.image_data_format()``)."""
    return backend.image_data_format()


def channels_first() -> bool:
    return backend.image_data_format() == "channels_first"


def bn_axis(last: int = 3) -> int:
    """The channel axis as the family writes it in its configs: ``3`` (or ``-1``) channels-last, ``1`` first."""
    return 1 if channels_first() else last


def spatial(shape: tuple) -> tuple:
    """(height, width) of a per-sample image shape, in the global layout."""
    return tuple(shape[1:3]) if channels_first() else tuple(shape[0:2])


def require_channels_last(family: str) -> None:
    """DenseNet, NASNet and ConvNeXt refuse channels-first data, as in Keras."""
    if channels_first():
        raise ValueError(
            f"{family} does not support the `channels_first` image data format. Switch to `channels_last` "
            "(`lamina.backend.set_image_data_format('channels_last')`)."
        )


def check_weights(weights: Any, include_top: bool, classes: int) -> None:
    """Keras's checks of ``weights`` and ``classes``, before anything is built."""
    is_path = isinstance(weights, (str, os.PathLike)) and weights != "imagenet" and os.path.exists(weights)
    if not (weights is None or (isinstance(weights, str) and weights == "imagenet") or is_path):
        raise ValueError(
            "The `weights` argument should be either `None` (random initialization), 'imagenet' "
            "(pre-training on ImageNet), or the path to the weights file to be loaded.  "
            f"Received: weights={weights}"
        )
    if weights == "imagenet" and include_top and classes != 1000:
        raise ValueError(
            "If using `weights='imagenet'` with `include_top=True`, `classes` should be 1000.  "
            f"Received classes={classes}"
        )


def is_keras_tensor(x: Any) -> bool:
    return isinstance(x, KerasTensor)


def image_input(input_tensor: Any, input_shape: tuple) -> KerasTensor:
    """The graph's image tensor: ``input_tensor`` itself, or a new ``Input`` of ``input_shape``."""
    if input_tensor is None:
        return layers.Input(shape=input_shape)
    if is_keras_tensor(input_tensor):
        return input_tensor
    return layers.Input(tensor=input_tensor, shape=input_shape)  # raises Keras's error for a non-symbolic tensor


def get_source_inputs(tensor: Any) -> list[KerasTensor]:
    """The ``Input`` tensors ``tensor`` is computed from (as ``keras.utils.get_source_inputs``)."""
    history = getattr(tensor, "_keras_history", None)
    if history is None:
        return [tensor]
    operation, node_index, _ = history
    if not operation or not operation._inbound_nodes:
        return [tensor]
    node = operation._inbound_nodes[node_index]
    if node.is_input:
        return list(node.outputs)
    sources: list[KerasTensor] = []
    for t in node.input_tensors:
        for s in get_source_inputs(t):
            if all(s is not seen for seen in sources):
                sources.append(s)
    return sources


def global_pool(x: KerasTensor, pooling: str | None, named: bool) -> KerasTensor:
    """``include_top=False``: ``pooling="avg"``/``"max"`` -> a global pooling layer (``avg_pool``/``max_pool``
    when the family names them), anything else leaves the 4D features."""
    if pooling == "avg":
        return layers.GlobalAveragePooling2D(name="avg_pool" if named else None)(x)
    if pooling == "max":
        return layers.GlobalMaxPooling2D(name="max_pool" if named else None)(x)
    return x


def dense_classifier(
    x: KerasTensor, classes: int, classifier_activation: Any, weights: Any, **dense_kwargs: Any
) -> KerasTensor:
    """The ``predictions`` layer, after Keras's check that pretrained weights get softmax or logits."""
    validate_activation(classifier_activation, weights)
    return layers.Dense(classes, activation=classifier_activation, name="predictions", **dense_kwargs)(x)


def finish(
    img_input: KerasTensor,
    input_tensor: Any,
    outputs: KerasTensor,
    name: str,
    weights: Any,
    weights_file: WeightsFile | None = None,
) -> Model:
    """Makes the functional model (from the sources of ``input_tensor`` when given) and loads its weights.

    ``weights_file`` is where the ``"imagenet"`` weights of this configuration live; ``None``
    when Keras publishes none for it.
    """
    inputs = get_source_inputs(input_tensor) if input_tensor is not None else img_input
    model = Model(inputs, outputs, name=name)
    if weights == "imagenet":
        if weights_file is None:
            raise ValueError(
                f'Keras publishes no ImageNet weights for this configuration of "{name}". '
                "Pass `weights=None` or the path of a weights file."
            )
        model.load_weights(_weights.fetch(*weights_file))
    elif weights is not None:
        model.load_weights(weights)
    return model
