"""ImageNet helpers shared by the application models: input preprocessing and label decoding.

``preprocess_input`` brings images with values in ``[0, 255]`` to what a family's ImageNet
weights expect (``mode="caffe"``, ``"tf"`` or ``"torch"``); ``decode_predictions`` turns a batch
of 1000-way scores into ``(class_name, description, score)`` tuples, reading the class index
Keras publishes (downloaded once into ``~/.keras/models``, where Keras keeps it too).

Example:
    >>> import numpy as np
    >>> from lamina.applications import imagenet_utils
    >>> x = np.full((1, 2, 2, 3), 255.0, dtype="float32")
    >>> imagenet_utils.preprocess_input(x, mode="tf")[0, 0, 0].tolist()
    [1.0, 1.0, 1.0]
"""

from __future__ import annotations

import json
import warnings
from typing import Any

import numpy as np
import torch

from lamina import activations, backend, ops
from lamina.applications import _weights

CLASS_INDEX: dict[str, list[str]] | None = None
CLASS_INDEX_PATH = "https://storage.googleapis.com/download.tensorflow.org/data/imagenet_class_index.json"
CLASS_INDEX_HASH = "c2c37ea517e94d9795004a39431a14cb"

_MODES = ("caffe", "tf", "torch")
_CAFFE_MEAN = (103.939, 116.779, 123.68)  # BGR order
_TORCH_MEAN = (0.485, 0.456, 0.406)
_TORCH_STD = (0.229, 0.224, 0.225)


def preprocess_input(x: Any, data_format: str | None = None, mode: str = "caffe") -> Any:
    """Preprocesses a NumPy array or tensor encoding a batch of images (values in ``[0, 255]``).

    Args:
        x: a float NumPy array, a tensor or a symbolic ``KerasTensor``, 3D or 4D with 3 color
            channels. A float NumPy array is modified in place, as in Keras (pass ``np.copy(x)``
            to keep it); tensors are not.
        data_format: ``"channels_last"`` or ``"channels_first"``; ``None`` means the global
            setting (``"channels_last"``).
        mode: ``"caffe"`` (RGB -> BGR, then zero-centre each channel on the ImageNet mean,
            no scaling), ``"tf"`` (scale to ``[-1, 1]``) or ``"torch"`` (scale to ``[0, 1]``,
            then normalize each channel with the ImageNet mean and standard deviation).

    Returns:
        The preprocessed array or tensor (float).

    Raises:
        ValueError: for an unknown ``mode`` or ``data_format``.
    """
    if mode not in _MODES:
        raise ValueError(f"Expected mode to be one of `caffe`, `tf` or `torch`. Received: mode={mode}")
    if data_format is None:
        data_format = backend.image_data_format()
    elif data_format not in ("channels_first", "channels_last"):
        raise ValueError(
            "Expected data_format to be one of `channels_first` or `channels_last`. "
            f"Received: data_format={data_format}"
        )
    if isinstance(x, np.ndarray):
        return _preprocess_numpy(x, data_format, mode)
    return _preprocess_tensor(x, data_format, mode)


def _channel_axis(ndim: int, data_format: str) -> int:
    if data_format == "channels_last":
        return ndim - 1
    return 0 if ndim == 3 else 1


def _per_channel(values: tuple[float, ...], ndim: int, axis: int) -> np.ndarray:
    shape = [1] * ndim
    shape[axis] = len(values)
    return np.reshape(np.asarray(values), shape)


def _preprocess_numpy(x: np.ndarray, data_format: str, mode: str) -> np.ndarray:
    if not np.issubdtype(x.dtype, np.floating):
        x = x.astype(backend.floatx(), copy=False)
    if mode == "tf":
        x /= 127.5
        x -= 1.0
        return x
    axis = _channel_axis(x.ndim, data_format)
    if mode == "torch":
        x /= 255.0
        mean, std = _TORCH_MEAN, _TORCH_STD
    else:
        x = np.flip(x, axis)  # RGB -> BGR as a view, so the in-place updates below reach the caller's array
        mean, std = _CAFFE_MEAN, None
    x -= _per_channel(mean, x.ndim, axis)
    if std is not None:
        x /= _per_channel(std, x.ndim, axis)
    return x


def _preprocess_tensor(x: Any, data_format: str, mode: str) -> Any:
    symbolic = type(x).__name__ == "KerasTensor"
    if not symbolic:
        x = ops.convert_to_tensor(x)
        if not x.dtype.is_floating_point:
            x = x.to(backend.torch_dtype(backend.floatx()))
    if mode == "tf":
        return x / 127.5 - 1.0
    axis = _channel_axis(len(x.shape), data_format)
    if mode == "torch":
        x = x / 255.0
        mean, std = _TORCH_MEAN, _TORCH_STD
    else:
        x = ops.flip(x, axis=axis)  # RGB -> BGR
        mean, std = _CAFFE_MEAN, None
    dtype = backend.standardize_dtype(x.dtype)
    x = x - _per_channel(mean, len(x.shape), axis).astype(dtype)
    if std is not None:
        x = x / _per_channel(std, len(x.shape), axis).astype(dtype)
    return x


def decode_predictions(preds: Any, top: int = 5) -> list[list[tuple[str, str, float]]]:
    """Decodes the predictions of an ImageNet model into the ``top`` classes of each sample.

    Args:
        preds: array or tensor of shape ``(samples, 1000)``.
        top: how many of the best-scored classes to return per sample.

    Returns:
        One list per sample of ``(class_name, class_description, score)`` tuples, best first.

    Raises:
        ValueError: when ``preds`` is not of shape ``(samples, 1000)``.
    """
    global CLASS_INDEX

    shape = tuple(np.shape(preds)) if not isinstance(preds, torch.Tensor) else tuple(preds.shape)
    if len(shape) != 2 or shape[1] != 1000:
        raise ValueError(
            "`decode_predictions` expects a batch of predictions (i.e. a 2D array of shape (samples, 1000)). "
            f"Received array with shape: {shape}"
        )
    if CLASS_INDEX is None:
        path = _weights.fetch("imagenet_class_index.json", CLASS_INDEX_PATH, CLASS_INDEX_HASH)
        with open(path, encoding="utf-8") as f:
            CLASS_INDEX = json.load(f)
    results = []
    for pred in backend.to_numpy(preds):
        best = pred.argsort()[-top:][::-1]
        rows = [(*CLASS_INDEX[str(i)], pred[i]) for i in best]
        rows.sort(key=lambda row: row[2], reverse=True)
        results.append(rows)
    return results


def obtain_input_shape(
    input_shape: tuple | None,
    default_size: int,
    min_size: int,
    data_format: str,
    require_flatten: bool,
    weights: Any = None,
) -> tuple:
    """The model's per-sample input shape: ``input_shape`` checked, or the family's default.

    Args:
        input_shape: the user's shape, or ``None``.
        default_size: the family's default image height and width.
        min_size: the smallest height and width the architecture accepts.
        data_format: ``"channels_last"`` or ``"channels_first"``.
        require_flatten: ``include_top``: the classifier needs a fully known shape.
        weights: the ``weights`` argument; ImageNet weights need 3 channels (and, with the top,
            the default shape).

    Returns:
        A shape tuple, possibly with ``None`` for height and width.

    Raises:
        ValueError: for a shape the model or the weights cannot take.
    """
    first = data_format == "channels_first"
    if weights != "imagenet" and input_shape and len(input_shape) == 3:
        channels = input_shape[0] if first else input_shape[-1]
        if channels not in {1, 3}:
            warnings.warn(
                "This model usually expects 1 or 3 input channels. However, it was passed an input_shape "
                f"with {channels} input channels.",
                stacklevel=2,
            )
        default_shape = (channels, default_size, default_size) if first else (default_size, default_size, channels)
    else:
        default_shape = (3, default_size, default_size) if first else (default_size, default_size, 3)
    if weights == "imagenet" and require_flatten:
        if input_shape is not None and tuple(input_shape) != default_shape:
            raise ValueError(
                "When setting `include_top=True` and loading `imagenet` weights, "
                f"`input_shape` should be {default_shape}.  Received: input_shape={input_shape}"
            )
        return default_shape
    if input_shape:
        _check_given_shape(tuple(input_shape), min_size, first, weights)
    elif require_flatten:
        input_shape = default_shape
    else:
        input_shape = (3, None, None) if first else (None, None, 3)
    if require_flatten and None in input_shape:
        raise ValueError(
            f"If `include_top` is True, you should specify a static `input_shape`. Received: input_shape={input_shape}"
        )
    return tuple(input_shape)


def _check_given_shape(input_shape: tuple, min_size: int, first: bool, weights: Any) -> None:
    if len(input_shape) != 3:
        raise ValueError(f"`input_shape` must be a tuple of three integers. Received: input_shape={input_shape}")
    channels, spatial = (input_shape[0], input_shape[1:]) if first else (input_shape[-1], input_shape[:2])
    if channels != 3 and weights == "imagenet":
        raise ValueError(f"The input must have 3 channels; Received `input_shape={input_shape}`")
    if any(d is not None and d < min_size for d in spatial):
        raise ValueError(f"Input size must be at least {min_size}x{min_size}; Received: input_shape={input_shape}")


def correct_pad(inputs: Any, kernel_size: int | tuple[int, int]) -> tuple[tuple[int, int], tuple[int, int]]:
    """Zero padding that makes a strided "valid" convolution line up as TensorFlow's "same" does.

    Args:
        inputs: the (symbolic) tensor about to be padded, channels-last.
        kernel_size: the convolution's kernel size.

    Returns:
        ``((top, bottom), (left, right))`` for ``ZeroPadding2D``.
    """
    first = backend.image_data_format() == "channels_first"
    size = tuple(inputs.shape[2:4] if first else inputs.shape[1:3])
    if isinstance(kernel_size, int):
        kernel_size = (kernel_size, kernel_size)
    adjust = (1, 1) if size[0] is None else (1 - size[0] % 2, 1 - size[1] % 2)
    half = (kernel_size[0] // 2, kernel_size[1] // 2)
    return ((half[0] - adjust[0], half[0]), (half[1] - adjust[1], half[1]))


def validate_activation(classifier_activation: Any, weights: Any) -> None:
    """Pretrained weights come with a softmax (or linear) classifier: any other activation is refused.

    Raises:
        ValueError: when ``weights`` is set and the activation is neither ``None`` nor softmax.
    """
    if weights is None:
        return
    fn = activations.get(classifier_activation)
    if fn not in (activations.get("softmax"), activations.get(None)):
        raise ValueError(
            "Only `None` and `softmax` activations are allowed for the `classifier_activation` argument "
            "when using pretrained weights, with `include_top=True`; Received: "
            f"classifier_activation={classifier_activation}"
        )
