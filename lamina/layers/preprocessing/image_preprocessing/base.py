"""``BaseImagePreprocessingLayer``: what every image preprocessing and augmentation layer shares.

A call runs Keras's three steps: ``get_random_transformation`` draws the parameters for the batch
(angles, flips, crops...) from the layer's :class:`~lamina.random.SeedGenerator` on the images'
device; ``transform_images`` applies them; ``transform_labels``, ``transform_bounding_boxes`` and
``transform_segmentation_masks`` apply the same ones to whatever else a dict input carries
(``{"images", "labels", "bounding_boxes", "segmentation_masks"}``).

As in Keras, the augmentation layers augment when called directly (``training`` defaults to True:
the module starts in training mode) and inside ``fit``; with ``training=False`` (``predict``,
``evaluate``, ``layer.eval()``, a model called outside ``fit``) they pass images through, cast to
the compute dtype, drawing nothing.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

from lamina import backend
from lamina.layers.layer import Layer
from lamina.layers.preprocessing.image_preprocessing.bounding_boxes.validation import densify_bounding_boxes
from lamina.random.distributions import _uniform

__all__ = ["BaseImagePreprocessingLayer", "standardize_data_format"]

_DEG_TO_RAD = math.pi / 180.0


def standardize_data_format(data_format: str | None) -> str:
    """``None`` -> the configured ``image_data_format()``; otherwise one of the two names."""
    if data_format is None:
        return backend.image_data_format()
    value = str(data_format).lower()
    if value not in ("channels_first", "channels_last"):
        raise ValueError(
            "The `data_format` argument must be one of {'channels_first', 'channels_last'}. "
            f"Received: data_format={data_format}"
        )
    return value


class BaseImagePreprocessingLayer(Layer):
    """Base of the image layers: factor checks, the call on images or dicts, and shared helpers.

    Args:
        factor: the augmentation strength, a number or ``(lower, upper)`` within ``_FACTOR_BOUNDS``
            (only for layers with ``_USE_BASE_FACTOR``).
        bounding_box_format: the format of ``"bounding_boxes"`` in dict inputs (``"xyxy"``, ...).
        data_format: ``"channels_last"`` or ``"channels_first"``; default ``image_data_format()``.

    Example:
        >>> import torch, lamina
        >>> class Negate(lamina.layers.preprocessing.image_preprocessing.BaseImagePreprocessingLayer):
        ...     _USE_BASE_FACTOR = False
        ...     def transform_images(self, images, transformation=None, training=True):
        ...         return -images if training else images
        >>> Negate()(torch.ones(1, 2, 2, 3)).sum().item()
        -12.0
    """

    _USE_BASE_FACTOR = True
    _FACTOR_BOUNDS: tuple[float, float] = (-1, 1)
    _autocast_inputs = False  # images keep their dtype until the layer casts them; labels and boxes stay as given

    def __init__(
        self, factor: Any = None, bounding_box_format: str | None = None, data_format: str | None = None, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.bounding_box_format = bounding_box_format
        self.data_format = self._data_format_arg(data_format)
        if self._USE_BASE_FACTOR:
            self._set_factor(factor or 0.0)
        elif factor is not None:
            raise self._error("no `factor` argument", f"factor={factor}", "Remove it.")
        self.train(True)  # Keras calls augmentation layers with training=True unless told otherwise

    # ------------------------------------------------------------------ argument checks
    def _data_format_arg(self, data_format: str | None) -> str:
        try:
            return standardize_data_format(data_format)
        except ValueError:
            raise self._error(
                "`data_format` to be 'channels_last' or 'channels_first'", f"data_format={data_format!r}"
            ) from None

    def _bad_arg(self, what: str, name: str, value: Any) -> ValueError:
        return self._error(what, f"{name}={value!r}", "Pass a value in that range.")

    def _factor_pair(self, factor: Any, name: str = "factor", bounds: tuple | None = None) -> tuple[float, float]:
        """Keras's factor rule: a number ``f`` means ``(max(-f, low), f)``, a pair is sorted; both within bounds."""
        low, high = bounds or self._FACTOR_BOUNDS
        what = f"`{name}` to be a number (or a list of two numbers) in the range [{low}, {high}]"
        if isinstance(factor, (tuple, list)):
            if len(factor) != 2 or not all(_is_number(f) for f in factor):
                raise self._bad_arg(what, name, factor)
            if factor[0] > high or factor[1] < low:
                raise self._bad_arg(what, name, factor)
            lower, upper = sorted(factor)
            return lower, upper
        if not _is_number(factor) or factor < low or factor > high:
            raise self._bad_arg(what, name, factor)
        factor = abs(factor)
        return max(-factor, low), factor

    def _set_factor(self, factor: Any) -> None:
        self.factor = self._factor_pair(factor)

    def _value_range_arg(self, value_range: Any) -> list:
        if not isinstance(value_range, (tuple, list)) or len(value_range) != 2:
            raise self._error("`value_range` to be a list of two numbers", f"value_range={value_range!r}")
        return sorted(value_range)

    def _choice_arg(self, value: Any, name: str, choices: tuple) -> Any:
        if value not in choices:
            raise self._error(f"`{name}` to be one of {choices}", f"{name}={value!r}")
        return value

    # ------------------------------------------------------------------ the call
    def _convert_inputs(self, x: Any) -> Any:
        arr = x if isinstance(x, np.ndarray) else None
        if arr is None and isinstance(x, (list, tuple)) and x and isinstance(x[0], str):
            arr = np.asarray(x)
        if arr is not None and arr.dtype.kind in "USO":
            raise self._error("numeric images (floats or integers)", f"an array of dtype {arr.dtype}")
        return super()._convert_inputs(x)

    def _images(self, images: Any) -> tuple[torch.Tensor, bool]:
        """The images as a (batched) tensor, and whether the batch axis was added."""
        if not isinstance(images, torch.Tensor):
            images = self._convert_inputs(images)
        if not isinstance(images, torch.Tensor) or images.ndim not in (3, 4):
            shape = tuple(images.shape) if hasattr(images, "shape") else type(images).__name__
            raise self._error("images of rank 3 (one image) or 4 (a batch)", f"shape {shape}")
        if images.dtype == torch.bool or images.is_complex():
            raise self._error("real-valued numeric images", f"dtype {backend.standardize_dtype(images.dtype)}")
        if images.ndim == 3:
            return images.unsqueeze(0), True
        return images, False

    def call(self, inputs: Any, training: bool = True) -> Any:
        if isinstance(inputs, dict):
            return self._call_dict(dict(inputs), training)
        images, added = self._images(inputs)
        transformation = self.get_random_transformation(images, training=training)
        out = self.transform_images(images, transformation, training=training)
        return out.squeeze(0) if added else out

    def _call_dict(self, data: dict, training: bool) -> dict:
        if "images" not in data:
            raise self._error("a dict with an 'images' entry", f"keys {sorted(data)}")
        images, added = self._images(data["images"])
        transformation = self.get_random_transformation(images, training=training)
        data["images"] = self._unbatch(self.transform_images(images, transformation, training=training), added)
        if "bounding_boxes" in data:
            if not self.bounding_box_format:
                raise self._error(
                    "a `bounding_box_format` (e.g. 'xyxy') for inputs with 'bounding_boxes'",
                    "bounding_box_format=None",
                    f"Pass `bounding_box_format=` to the {type(self).__name__} layer.",
                )
            boxes = densify_bounding_boxes(data["bounding_boxes"], device=images.device)
            if added:
                boxes = {**boxes, "boxes": boxes["boxes"].unsqueeze(0), "labels": boxes["labels"].unsqueeze(0)}
            boxes = self.transform_bounding_boxes(boxes, transformation, training=training)
            if added:
                boxes = {**boxes, "boxes": boxes["boxes"].squeeze(0), "labels": boxes["labels"].squeeze(0)}
            data["bounding_boxes"] = boxes
        if "labels" in data:
            labels = self._tensor(data["labels"], images.device)
            labels = self.transform_labels(labels.unsqueeze(0) if added else labels, transformation, training=training)
            data["labels"] = self._unbatch(labels, added)
        if "segmentation_masks" in data:
            masks = self._tensor(data["segmentation_masks"], images.device)
            masks = masks.unsqueeze(0) if added else masks
            masks = self.transform_segmentation_masks(masks, transformation, training=training)
            data["segmentation_masks"] = self._unbatch(masks, added)
        return data

    @staticmethod
    def _unbatch(x: Any, added: bool) -> Any:
        return x.squeeze(0) if added and isinstance(x, torch.Tensor) else x

    @staticmethod
    def _tensor(x: Any, device: torch.device) -> torch.Tensor:
        return backend.convert_to_tensor(np.asarray(x) if not isinstance(x, torch.Tensor) else x, device=device)

    # ------------------------------------------------------------------ the three steps (overridden)
    def get_random_transformation(self, images: torch.Tensor, training: bool = True, seed: Any = None) -> Any:
        """The random parameters for this batch (``None`` when nothing is drawn)."""
        return None

    def transform_images(self, images: torch.Tensor, transformation: Any = None, training: bool = True) -> Any:
        return self._cast(images)

    def transform_labels(self, labels: torch.Tensor, transformation: Any = None, training: bool = True) -> Any:
        return labels

    def transform_bounding_boxes(self, bounding_boxes: dict, transformation: Any = None, training: bool = True) -> Any:
        return bounding_boxes

    def transform_segmentation_masks(
        self, masks: torch.Tensor, transformation: Any = None, training: bool = True
    ) -> Any:
        return masks

    # ------------------------------------------------------------------ helpers for the layers
    def _cast(self, images: torch.Tensor) -> torch.Tensor:
        return images if images.dtype == self._compute_td else images.to(self._compute_td)

    def _seed(self, seed: Any) -> Any:
        return self.generator if seed is None else seed

    def _hw(self, images: Any) -> tuple[int, int]:
        """(height, width) of a batch (a tensor or its shape)."""
        shape = tuple(images.shape) if hasattr(images, "shape") else tuple(images)
        return shape[2:4] if self.data_format == "channels_first" else shape[1:3]

    def _hw_axes(self) -> tuple[int, int]:
        return (-2, -1) if self.data_format == "channels_first" else (-3, -2)

    def _uniform(self, images: torch.Tensor, shape: Any, minval: Any, maxval: Any, seed: Any, dtype: Any = None) -> Any:
        return _uniform(shape, minval, maxval, dtype, self._seed(seed), images.device)

    @staticmethod
    def _transform_value_range(images: torch.Tensor, original: Any, target: Any, dtype: Any = None) -> torch.Tensor:
        """Rescales values from ``original`` ``(min, max)`` to ``target`` (Keras's arithmetic)."""
        if original[0] == target[0] and original[1] == target[1]:
            return images
        if dtype is not None:
            images = images.to(backend.torch_dtype(dtype))
        images = (images - original[0]) / (original[1] - original[0])
        return images * (target[1] - target[0]) + target[0]

    @staticmethod
    def _compute_affine_matrix(
        center_x: float,
        center_y: float,
        angle: torch.Tensor,
        translate_x: torch.Tensor,
        translate_y: torch.Tensor,
        scale: torch.Tensor,
        shear_x: torch.Tensor,
        shear_y: torch.Tensor,
        height: int,
        width: int,
    ) -> torch.Tensor:
        """The (N, 8) transforms of scale * shear * rotation (degrees) about ``(center_x, center_y)``."""
        to_rad = torch.tensor(_DEG_TO_RAD, dtype=torch.float32)  # Keras multiplies by a float32 constant
        angle = angle * to_rad
        shear_x, shear_y = torch.tan(shear_x * to_rad), torch.tan(shear_y * to_rad)
        cx = center_x * (float(width) - 1)
        cy = center_y * (float(height) - 1)
        cos, sin = torch.cos(angle), torch.sin(angle)
        a0 = scale * (cos + shear_x * sin)
        a1 = scale * (-sin + shear_x * cos)
        a2 = translate_x + cx - cx * a0 - cy * a1
        b0 = scale * (shear_y * cos + sin)
        b1 = scale * (shear_y * -sin + cos)
        b2 = translate_y + cy - cx * b0 - cy * b1
        zeros = torch.zeros_like(a0)
        return torch.stack([a0, a1, a2, b0, b1, b2, zeros, zeros], dim=1)

    # ------------------------------------------------------------------ shapes and config
    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config["data_format"] = self.data_format
        if self.bounding_box_format is not None:
            config["bounding_box_format"] = self.bounding_box_format
        return config

    def extra_repr(self) -> str:
        return f"name={self.name!r}, data_format={self.data_format!r}"


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
