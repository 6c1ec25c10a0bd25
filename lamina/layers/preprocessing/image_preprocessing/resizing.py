"""Size-changing layers: ``Resizing``, ``CenterCrop`` and ``RandomCrop``."""

from __future__ import annotations

from typing import Any

import torch

from lamina.layers.preprocessing.image_preprocessing.base import BaseImagePreprocessingLayer
from lamina.layers.preprocessing.image_preprocessing.bounding_boxes.converters import (
    clip_to_image_size,
    convert_format,
)
from lamina.ops.image import geometry
from lamina.random import SeedGenerator
from lamina.random.distributions import _uniform
from lamina.random.seed_generator import make_default_seed

__all__ = ["CenterCrop", "RandomCrop", "Resizing"]

_INTERPOLATIONS = ("bilinear", "nearest", "bicubic")
_CPU = torch.device("cpu")


def _positive_int(layer: BaseImagePreprocessingLayer, value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise layer._error(f"`{name}` to be a positive integer", f"{name}={value!r}")
    return value


def _set_hw(shape: Any, data_format: str, height: int, width: int) -> tuple:
    shape = list(shape)
    h_axis = len(shape) - (2 if data_format == "channels_first" else 3)
    shape[h_axis], shape[h_axis + 1] = height, width
    return tuple(shape)


def _from_int(resized: torch.Tensor, original: torch.dtype) -> torch.Tensor:
    """Integer images come back rounded and saturated to their type's range, as Keras casts them."""
    if original.is_floating_point or original == torch.bool:
        return resized
    info = torch.iinfo(original)
    return torch.clamp(torch.round(resized), info.min, info.max)


def _clip_boxes_to_window(boxes: torch.Tensor, top: Any, left: Any, bottom: Any, right: Any) -> torch.Tensor:
    x1, y1, x2, y2 = (boxes[..., i : i + 1] for i in range(4))
    return torch.cat(
        [
            torch.clamp(x1, left, right) - left,
            torch.clamp(y1, top, bottom) - top,
            torch.clamp(x2, left, right) - left,
            torch.clamp(y2, top, bottom) - top,
        ],
        dim=-1,
    )


class Resizing(BaseImagePreprocessingLayer):
    """Resizes images to ``(height, width)``, optionally cropping or padding to the target aspect ratio first.

    Args:
        height, width: the output size.
        interpolation: ``"bilinear"``, ``"nearest"`` or ``"bicubic"`` (Keras's torch backend has no Lanczos).
        crop_to_aspect_ratio: crop the largest centered window with the target aspect ratio, then resize.
        pad_to_aspect_ratio: pad (with ``fill_value``) to the target aspect ratio, then resize.
        fill_mode: only ``"constant"``.
        fill_value: the padding value for ``pad_to_aspect_ratio``.
        antialias: low-pass filter when downsampling (bilinear and bicubic).
        data_format: ``"channels_last"`` or ``"channels_first"``; default ``image_data_format()``.

    Input shape:
        ``(batch, height, width, channels)`` or one image ``(height, width, channels)`` (channels-last).

    Output shape:
        The same with the new height and width, in the compute dtype (integer images rounded first).

    Example:
        >>> import torch, lamina
        >>> lamina.layers.Resizing(4, 6)(torch.rand(2, 8, 8, 3)).shape
        torch.Size([2, 4, 6, 3])
    """

    _USE_BASE_FACTOR = False

    def __init__(
        self,
        height: int,
        width: int,
        interpolation: str = "bilinear",
        crop_to_aspect_ratio: bool = False,
        pad_to_aspect_ratio: bool = False,
        fill_mode: str = "constant",
        fill_value: float = 0.0,
        antialias: bool = False,
        data_format: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(data_format=data_format, **kwargs)
        self.height = _positive_int(self, height, "height")
        self.width = _positive_int(self, width, "width")
        self.interpolation = self._choice_arg(interpolation, "interpolation", _INTERPOLATIONS)
        self.fill_mode = self._choice_arg(fill_mode, "fill_mode", ("constant",))
        if crop_to_aspect_ratio and pad_to_aspect_ratio:
            raise self._error("at most one of `crop_to_aspect_ratio` and `pad_to_aspect_ratio`", "both set to True")
        self.crop_to_aspect_ratio = crop_to_aspect_ratio
        self.pad_to_aspect_ratio = pad_to_aspect_ratio
        self.fill_value = fill_value
        self.antialias = bool(antialias)

    def get_random_transformation(self, images: torch.Tensor, training: bool = True, seed: Any = None) -> Any:
        return self._hw(images)

    def _resize(self, images: torch.Tensor, interpolation: str) -> torch.Tensor:
        x = images if images.is_floating_point() else images.to(torch.float32)
        out = geometry.resize(
            x,
            (self.height, self.width),
            interpolation=interpolation,
            antialias=self.antialias,
            crop_to_aspect_ratio=self.crop_to_aspect_ratio,
            pad_to_aspect_ratio=self.pad_to_aspect_ratio,
            fill_value=self.fill_value,
            data_format=self.data_format,
        )
        return self._cast(_from_int(out, images.dtype))

    def transform_images(self, images: torch.Tensor, transformation: Any = None, training: bool = True) -> Any:
        return self._resize(images, self.interpolation)

    def transform_segmentation_masks(
        self, masks: torch.Tensor, transformation: Any = None, training: bool = True
    ) -> Any:
        return self._resize(masks, "nearest")

    def transform_bounding_boxes(self, bounding_boxes: dict, transformation: Any = None, training: bool = True) -> Any:
        in_h, in_w = transformation
        boxes = bounding_boxes["boxes"]
        padding = torch.all(boxes == -1, dim=-1) | torch.all(boxes == 0, dim=-1)
        bounding_boxes = convert_format(dict(bounding_boxes), self.bounding_box_format, "xyxy", in_h, in_w)
        bounding_boxes["boxes"] = self._resize_xyxy(bounding_boxes["boxes"], in_h, in_w)
        bounding_boxes = clip_to_image_size(bounding_boxes, self.height, self.width)
        bounding_boxes["boxes"] = torch.where(padding[..., None], 0.0, bounding_boxes["boxes"])
        return convert_format(bounding_boxes, "xyxy", self.bounding_box_format, self.height, self.width)

    def _resize_xyxy(self, boxes: torch.Tensor, in_h: int, in_w: int) -> torch.Tensor:
        if self.pad_to_aspect_ratio:
            ratio = min(self.height / in_h, self.width / in_w)
            x_off, y_off = (self.width - in_w * ratio) // 2, (self.height - in_h * ratio) // 2
            scale_x = scale_y = ratio
        elif self.crop_to_aspect_ratio:
            source, target = in_w / in_h, self.width / self.height
            new_w = self.height * source if source > target else self.width
            new_h = self.height if source > target else self.width / source
            scale_x, scale_y = new_w / in_w, new_h / in_h
            x_off, y_off = -((new_w - self.width) // 2), -((new_h - self.height) // 2)
        else:
            scale_x, scale_y, x_off, y_off = self.width / in_w, self.height / in_h, 0.0, 0.0
        scale = torch.tensor([scale_x, scale_y, scale_x, scale_y], dtype=boxes.dtype, device=boxes.device)
        offset = torch.tensor([x_off, y_off, x_off, y_off], dtype=boxes.dtype, device=boxes.device)
        return boxes * scale + offset

    def compute_output_shape(self, input_shape: Any) -> Any:
        return _set_hw(input_shape, self.data_format, self.height, self.width)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(
            {
                "height": self.height,
                "width": self.width,
                "interpolation": self.interpolation,
                "crop_to_aspect_ratio": self.crop_to_aspect_ratio,
                "pad_to_aspect_ratio": self.pad_to_aspect_ratio,
                "fill_mode": self.fill_mode,
                "fill_value": self.fill_value,
                "antialias": self.antialias,
                "data_format": self.data_format,
            }
        )
        return config

    def extra_repr(self) -> str:
        return f"name={self.name!r}, height={self.height}, width={self.width}, interpolation={self.interpolation!r}"


def _smart_resize(images: torch.Tensor, height: int, width: int, data_format: str) -> torch.Tensor:
    """Keras's ``smart_resize``: crop the centered window of the target aspect ratio, then resize bilinearly."""
    h_axis = 2 if data_format == "channels_first" else 1
    in_h, in_w = images.shape[h_axis], images.shape[h_axis + 1]
    top, left, crop_h, crop_w = geometry.aspect_crop_box(in_h, in_w, height, width)
    images = images.narrow(h_axis, top, crop_h).narrow(h_axis + 1, left, crop_w)
    return geometry.resize(images, (height, width), data_format=data_format)


class CenterCrop(BaseImagePreprocessingLayer):
    """Crops the central ``(height, width)`` window; smaller images are cropped to the aspect ratio and resized.

    Args:
        height, width: the output size.
        data_format: ``"channels_last"`` or ``"channels_first"``; default ``image_data_format()``.

    Example:
        >>> import torch, lamina
        >>> x = torch.arange(16.0).reshape(1, 4, 4, 1)
        >>> lamina.layers.CenterCrop(2, 2)(x)[0, :, :, 0].tolist()
        [[5.0, 6.0], [9.0, 10.0]]
    """

    _USE_BASE_FACTOR = False

    def __init__(self, height: int, width: int, data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(data_format=data_format, **kwargs)
        self.height = _positive_int(self, height, "height")
        self.width = _positive_int(self, width, "width")

    def get_random_transformation(self, images: torch.Tensor, training: bool = True, seed: Any = None) -> Any:
        return self._hw(images)

    def transform_images(self, images: torch.Tensor, transformation: Any = None, training: bool = True) -> Any:
        images = self._cast(images)
        in_h, in_w = self._hw(images)
        if in_h >= self.height and in_w >= self.width:
            h_axis = 2 if self.data_format == "channels_first" else 1
            top, left = (in_h - self.height) // 2, (in_w - self.width) // 2
            return images.narrow(h_axis, top, self.height).narrow(h_axis + 1, left, self.width)
        return _smart_resize(images, self.height, self.width, self.data_format)

    def transform_segmentation_masks(
        self, masks: torch.Tensor, transformation: Any = None, training: bool = True
    ) -> Any:
        return self.transform_images(masks, transformation, training)

    def transform_bounding_boxes(self, bounding_boxes: dict, transformation: Any = None, training: bool = True) -> Any:
        in_h, in_w = transformation
        bounding_boxes = convert_format(dict(bounding_boxes), self.bounding_box_format, "xyxy", in_h, in_w)
        if in_h >= self.height and in_w >= self.width:
            top, left = int((in_h - self.height) / 2), int((in_w - self.width) / 2)
            window = (top, left, top + self.height, left + self.width)
            bounding_boxes["boxes"] = _clip_boxes_to_window(bounding_boxes["boxes"], *window)
        else:
            top, left, crop_h, crop_w = geometry.aspect_crop_box(in_h, in_w, self.height, self.width)
            bounding_boxes["boxes"] = _clip_boxes_to_window(
                bounding_boxes["boxes"], top, left, top + crop_h, left + crop_w
            )
            bounding_boxes = convert_format(bounding_boxes, "xyxy", "rel_xyxy", crop_h, crop_w)
            bounding_boxes = convert_format(bounding_boxes, "rel_xyxy", "xyxy", self.height, self.width)
        bounding_boxes = clip_to_image_size(bounding_boxes, self.height, self.width)
        return convert_format(bounding_boxes, "xyxy", self.bounding_box_format, self.height, self.width)

    def compute_output_shape(self, input_shape: Any) -> Any:
        return _set_hw(input_shape, self.data_format, self.height, self.width)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update({"height": self.height, "width": self.width, "data_format": self.data_format})
        return config

    def extra_repr(self) -> str:
        return f"name={self.name!r}, height={self.height}, width={self.width}"


class RandomCrop(BaseImagePreprocessingLayer):
    """Crops a random ``(height, width)`` window in training, the same window for the whole batch.

    In training, images not larger than the target on both sides are instead cropped to the target
    aspect ratio and resized, as in Keras. At inference (``training=False``) the layer center-crops
    to the aspect ratio and resizes, as Keras documents (Keras 3.15 on torch returns the input
    uncropped, which contradicts its own output shape).

    Args:
        height, width: the output size.
        seed: optional int, for a reproducible sequence of crops.
        data_format: ``"channels_last"`` or ``"channels_first"``; default ``image_data_format()``.

    Example:
        >>> import torch, lamina
        >>> lamina.layers.RandomCrop(3, 3, seed=1)(torch.rand(2, 8, 8, 3)).shape
        torch.Size([2, 3, 3, 3])
    """

    _USE_BASE_FACTOR = False

    def __init__(
        self,
        height: int,
        width: int,
        seed: int | None = None,
        data_format: str | None = None,
        name: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(data_format=data_format, name=name, **kwargs)
        self.height = _positive_int(self, height, "height")
        self.width = _positive_int(self, width, "width")
        self.seed = seed if seed is not None else make_default_seed()
        self.generator = SeedGenerator(seed)

    def get_random_transformation(self, images: torch.Tensor, training: bool = True, seed: Any = None) -> Any:
        in_h, in_w = self._hw(images)
        if training and in_h > self.height and in_w > self.width:
            # Scalars decide slice bounds: drawn on the CPU so that no GPU value is read back.
            seed = self._seed(seed)
            top = int(_uniform((), 0, float(in_h - self.height + 1), None, seed, _CPU))
            left = int(_uniform((), 0, float(in_w - self.width + 1), None, seed, _CPU))
            return top, left, self.height, self.width
        top, left, crop_h, crop_w = geometry.aspect_crop_box(in_h, in_w, self.height, self.width)
        if training:  # Keras slices the target size from the aspect-ratio window's corner
            return top, left, self.height, self.width
        return top, left, crop_h, crop_w

    def transform_images(self, images: torch.Tensor, transformation: Any = None, training: bool = True) -> Any:
        images = self._cast(images)
        top, left, crop_h, crop_w = transformation
        h_axis = 2 if self.data_format == "channels_first" else 1
        in_h, in_w = self._hw(images)
        images = images.narrow(h_axis, top, min(crop_h, in_h - top)).narrow(h_axis + 1, left, min(crop_w, in_w - left))
        if self._hw(images) != (self.height, self.width):
            images = self._cast(geometry.resize(images, (self.height, self.width), data_format=self.data_format))
        return images

    def transform_segmentation_masks(
        self, masks: torch.Tensor, transformation: Any = None, training: bool = True
    ) -> Any:
        return self.transform_images(masks, transformation, training)

    def transform_bounding_boxes(self, bounding_boxes: dict, transformation: Any = None, training: bool = True) -> Any:
        top, left, crop_h, crop_w = transformation
        boxes = convert_format(bounding_boxes["boxes"], self.bounding_box_format, "xyxy", self.height, self.width)
        shift = torch.tensor([left, top, left, top], dtype=boxes.dtype, device=boxes.device)
        boxes = torch.clamp(boxes - shift, min=0)
        boxes = convert_format(boxes, "xyxy", self.bounding_box_format, self.height, self.width)
        return {**bounding_boxes, "boxes": boxes}

    def compute_output_shape(self, input_shape: Any) -> Any:
        return _set_hw(input_shape, self.data_format, self.height, self.width)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update({"height": self.height, "width": self.width, "seed": self.seed, "data_format": self.data_format})
        return config

    def extra_repr(self) -> str:
        return f"name={self.name!r}, height={self.height}, width={self.width}, seed={self.seed}"
