"""Drawing on batches of images: bounding boxes (NumPy + Pillow, no OpenCV) and segmentation masks."""

from __future__ import annotations

from typing import Any

import numpy as np

from lamina import ops
from lamina.backend import config
from lamina.layers.preprocessing.image_preprocessing.bounding_boxes.converters import convert_format


def _batched_images(images: Any, name: str = "images") -> np.ndarray:
    array = ops.convert_to_numpy(images)
    if array.ndim != 4:
        raise ValueError(f"`{name}` must be batched 4D tensor. Received: {name}.shape={tuple(array.shape)}")
    return array


def _to_uint8(images: np.ndarray) -> np.ndarray:
    """Keras's rule: float images in [0, 1] are scaled to [0, 255]; everything is clipped to uint8."""
    if images.dtype.kind == "f" and images.size > 0:
        images = np.clip(images, 0, 1) * 255 if images.max() <= 1.0 else np.clip(images, 0, 255)
    return images.astype("uint8")


def _draw_rectangle(image: np.ndarray, x1: int, y1: int, x2: int, y2: int, color: Any, thickness: int) -> None:
    """The outline of ``(x1, y1)–(x2, y2)``, ``thickness`` pixels wide around each edge, clipped."""
    height, width = image.shape[:2]
    lo, hi = (thickness - 1) // 2, thickness // 2 + 1  # the band around an edge pixel
    x1, x2 = sorted((x1, x2))
    y1, y2 = sorted((y1, y2))

    def fill(ya: int, yb: int, xa: int, xb: int) -> None:
        ya, yb, xa, xb = max(ya, 0), min(yb, height), max(xa, 0), min(xb, width)
        if ya < yb and xa < xb:
            image[ya:yb, xa:xb] = color

    fill(y1 - lo, y1 + hi, x1 - lo, x2 + hi)  # top
    fill(y2 - lo, y2 + hi, x1 - lo, x2 + hi)  # bottom
    fill(y1 - lo, y2 + hi, x1 - lo, x1 + hi)  # left
    fill(y1 - lo, y2 + hi, x2 - lo, x2 + hi)  # right


def _draw_label(image: np.ndarray, text: str, x: int, y: int, color: Any, font_scale: float) -> None:
    try:
        from PIL import Image, ImageDraw, ImageFont
    except ImportError as e:  # labels only; the boxes need nothing
        raise ImportError(
            "Drawing class labels with `draw_bounding_boxes` requires Pillow: `pip install pillow` "
            "(or leave `class_mapping` out to draw the boxes alone)."
        ) from e
    size = max(int(round(12 * font_scale)), 6)
    try:
        font = ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1 has one bitmap size
        font = ImageFont.load_default()
    canvas = Image.fromarray(image)
    # above the box when it fits (as Keras places it), else just inside its top-left corner
    top = y - size - 4 if y - 2 * size > 0 else y + 3
    ImageDraw.Draw(canvas).text((x + (0 if y - 2 * size > 0 else 3), top), text, fill=tuple(color), font=font)
    image[...] = np.asarray(canvas)


def draw_bounding_boxes(
    images: Any,
    bounding_boxes: dict[str, Any],
    bounding_box_format: str,
    class_mapping: dict[int, str] | None = None,
    color: tuple[int, int, int] = (128, 128, 128),
    line_thickness: int = 2,
    text_thickness: int = 1,
    font_scale: float = 1.0,
    data_format: str | None = None,
) -> np.ndarray:
    """Draws bounding boxes (and optional class labels) on a batch of images.

    Keras's arguments and checks. Keras draws with OpenCV; here the rectangles are drawn with
    NumPy (``line_thickness`` pixels around each edge) and labels with Pillow, so no OpenCV
    is needed. Boxes whose label is -1 are padding and are skipped, as in Keras.

    Args:
        images: ``(batch, height, width, channels)`` (or channels-first) images; floats in
            ``[0, 1]`` are scaled to ``[0, 255]``.
        bounding_boxes: a dict with ``"boxes"`` ``(batch, num_boxes, 4)``, ``"labels"``
            ``(batch, num_boxes)`` and optionally ``"confidences"``.
        bounding_box_format: the boxes' format (``"xyxy"``, ``"yxyx"``, ``"xywh"``, ``"rel_xyxy"``...).
        class_mapping: class id -> name, drawn above each box whose class it names.
        color: RGB color of boxes and labels.
        line_thickness: box outline width in pixels.
        text_thickness: accepted for Keras compatibility (Pillow draws one stroke width).
        font_scale: label size (1.0 is about 12 pixels).
        data_format: ``"channels_last"`` or ``"channels_first"``; None: the global setting.

    Returns:
        A uint8 NumPy array of the annotated images, channels-last.

    Example:
        >>> import numpy as np
        >>> from lamina import visualization
        >>> images = np.zeros((1, 8, 8, 3), "uint8")
        >>> boxes = {"boxes": np.array([[[1, 1, 6, 6]]]), "labels": np.array([[0]])}
        >>> out = visualization.draw_bounding_boxes(images, boxes, "xyxy", color=(255, 0, 0), line_thickness=1)
        >>> out[0, 1, 1].tolist(), out[0, 3, 3].tolist()
        ([255, 0, 0], [0, 0, 0])
    """
    data_format = data_format or config.image_data_format()
    images = _batched_images(images)
    if not isinstance(bounding_boxes, dict):
        raise TypeError(
            f"`bounding_boxes` should be a dict. Received: bounding_boxes={bounding_boxes} "
            f"of type {type(bounding_boxes)}"
        )
    if "boxes" not in bounding_boxes or "labels" not in bounding_boxes:
        raise ValueError(
            "`bounding_boxes` should be a dict containing 'boxes' and 'labels' keys. "
            f"Received: bounding_boxes={bounding_boxes}"
        )
    if not isinstance(line_thickness, (int, np.integer)) or line_thickness < 1:
        raise ValueError(f"`line_thickness` must be a positive integer. Received: line_thickness={line_thickness}")
    if data_format == "channels_first":
        images = images.transpose(0, 2, 3, 1)
    height, width = images.shape[1], images.shape[2]
    converted = convert_format(dict(bounding_boxes), bounding_box_format, "xyxy", height, width)
    boxes = ops.convert_to_numpy(converted["boxes"])
    labels = ops.convert_to_numpy(bounding_boxes["labels"])
    confidences = bounding_boxes.get("confidences")
    confidences = None if confidences is None else ops.convert_to_numpy(confidences)
    if boxes.shape[:2] != labels.shape[:2] or boxes.shape[0] != images.shape[0]:
        raise ValueError(
            "`bounding_boxes['boxes']` must be (batch, num_boxes, 4) and `['labels']` (batch, num_boxes) "
            f"for {images.shape[0]} images. Received: boxes.shape={tuple(boxes.shape)}, "
            f"labels.shape={tuple(labels.shape)}"
        )
    class_mapping = class_mapping or {}
    out = np.ascontiguousarray(_to_uint8(images))
    color = tuple(int(c) for c in color)
    for i in range(out.shape[0]):
        for j in range(boxes.shape[1]):
            label = int(labels[i, j])
            if label == -1:
                continue
            x1, y1, x2, y2 = (int(v) for v in boxes[i, j].astype("int32"))
            _draw_rectangle(out[i], x1, y1, x2, y2, color, int(line_thickness))
            if label in class_mapping:
                text = str(class_mapping[label])
                if confidences is not None:
                    text = f"{text} | {float(confidences[i, j]):.2f}"
                _draw_label(out[i], text, x1, y1, color, font_scale)
    return out


def _color_palette(num_classes: int) -> list[list[int]]:
    """Keras's default class colors."""
    palette = np.array([2**25 - 1, 2**15 - 1, 2**21 - 1])
    return [((i * palette) % 255).tolist() for i in range(num_classes)]


def draw_segmentation_masks(
    images: Any,
    segmentation_masks: Any,
    num_classes: int | None = None,
    color_mapping: dict[int, Any] | None = None,
    alpha: float = 0.8,
    blend: bool = True,
    ignore_index: int = -1,
    data_format: str | None = None,
) -> np.ndarray:
    """Overlays integer class masks on a batch of images (Keras's colors and blending).

    Args:
        images: ``(batch, height, width, channels)`` (or channels-first) images.
        segmentation_masks: integer masks ``(batch, height, width, 1)`` (or channels-first).
        num_classes: the number of classes; None: the largest mask value plus one.
        color_mapping: class index -> RGB color for classes ``0 .. num_classes - 1``.
        alpha: the masks' opacity when blending.
        blend: blend with the image (uint8 result); else paint the colors (float32 result).
        ignore_index: mask value left unpainted when blending.
        data_format: ``"channels_last"`` or ``"channels_first"``; None: the global setting.

    Returns:
        A NumPy array of the images with the masks overlaid.

    Example:
        >>> import numpy as np
        >>> from lamina import visualization
        >>> images = np.zeros((1, 2, 2, 3), "float32")
        >>> masks = np.array([[[[0], [1]], [[1], [0]]]])
        >>> out = visualization.draw_segmentation_masks(images, masks, num_classes=2, alpha=1.0)
        >>> out.dtype, out[0, 0, 1].tolist()
        (dtype('uint8'), [1, 127, 31])
    """
    data_format = data_format or config.image_data_format()
    images = _batched_images(images)
    masks = ops.convert_to_numpy(segmentation_masks)
    if data_format == "channels_first":
        images = images.transpose(0, 2, 3, 1)
        masks = masks.transpose(0, 2, 3, 1)
    if masks.dtype.kind not in "iu":
        raise TypeError(
            f"`segmentation_masks` must be in integer dtype. Received: segmentation_masks.dtype={masks.dtype}"
        )
    if masks.ndim != 4 or masks.shape[-1] != 1 or masks.shape[:3] != images.shape[:3]:
        raise ValueError(
            "`segmentation_masks` must have shape (batch, height, width, 1) matching the images "
            f"{tuple(images.shape[:3])}. Received: segmentation_masks.shape={tuple(masks.shape)}"
        )
    if not 0.0 <= float(alpha) <= 1.0:
        raise ValueError(f"`alpha` must be in [0, 1]. Received: alpha={alpha}")
    if num_classes is None:
        # every class present gets a color (Keras takes the largest value itself as the count, so on
        # torch its one-hot fails and elsewhere that class is silently left unpainted)
        num_classes = int(masks.max()) + 1 if masks.size else 0
    elif masks.size and int(masks.max()) >= num_classes:
        raise ValueError(
            f"`segmentation_masks` holds class {int(masks.max())}, outside 0..{num_classes - 1} for "
            f"num_classes={num_classes}. Pass a larger `num_classes`."
        )
    if color_mapping is None:
        colors = _color_palette(num_classes)
    else:
        missing = [i for i in range(num_classes) if i not in color_mapping]
        if missing:
            raise ValueError(f"`color_mapping` needs a color for every class 0..{num_classes - 1}. Missing: {missing}")
        colors = [color_mapping[i] for i in range(num_classes)]
    images = images.astype("float32")
    painted = images.copy()
    classes = masks[..., 0]
    for index, color in enumerate(colors):
        painted[classes == index] = np.asarray(color, dtype="float32")
    if not blend:
        return painted
    mixed = images * (1 - alpha) + painted * alpha
    mixed = np.where((classes != ignore_index)[..., None], mixed, images)
    # Keras casts through torch: float -> uint8 truncates toward zero and wraps out of range
    return ops.convert_to_numpy(ops.cast(mixed, "uint8"))
