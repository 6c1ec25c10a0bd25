"""Bounding-box formats and plain box geometry (``keras.utils.bounding_boxes``).

Boxes are ``(..., 4)`` tensors in one of Keras's formats: ``xyxy``, ``yxyx``, ``xywh``,
``center_xywh``, ``center_yxhw`` (pixels) and ``rel_xyxy``, ``rel_yxyx``, ``rel_xywh``,
``rel_center_xywh`` (fractions of the image). Conversions go through ``xyxy`` with Keras's exact
arithmetic, so the numbers equal Keras's.
"""

from __future__ import annotations

import math
from typing import Any

import torch

from lamina import backend, ops

__all__ = [
    "SUPPORTED_FORMATS",
    "affine_transform",
    "clip_to_image_size",
    "convert_format",
    "crop",
    "decode_deltas_to_boxes",
    "encode_box_to_deltas",
    "pad",
]

SUPPORTED_FORMATS = (
    "xyxy",
    "yxyx",
    "xywh",
    "center_xywh",
    "center_yxhw",
    "rel_xyxy",
    "rel_yxyx",
    "rel_xywh",
    "rel_center_xywh",
)


def _split(boxes: torch.Tensor) -> tuple[torch.Tensor, ...]:
    return tuple(boxes[..., i : i + 1] for i in range(4))


def _cat(*parts: torch.Tensor) -> torch.Tensor:
    return torch.cat(parts, dim=-1)


def _to_xyxy(boxes: torch.Tensor, fmt: str, height: Any, width: Any) -> torch.Tensor:
    a, b, c, d = _split(boxes)
    if fmt == "xyxy":
        return boxes
    if fmt == "yxyx":
        return _cat(b, a, d, c)
    if fmt == "xywh":
        return _cat(a, b, a + c, b + d)
    if fmt in ("center_xywh", "center_yxhw"):
        cx, cy, w, h = (a, b, c, d) if fmt == "center_xywh" else (b, a, d, c)
        half_w, half_h = w / 2.0, h / 2.0
        return _cat(cx - half_w, cy - half_h, cx + half_w, cy + half_h)
    if fmt == "rel_xyxy":
        return _cat(a * width, b * height, c * width, d * height)
    if fmt == "rel_yxyx":
        return _cat(b * width, a * height, d * width, c * height)
    if fmt == "rel_xywh":
        return _cat(a * width, b * height, (a + c) * width, (b + d) * height)
    half_w, half_h = c / 2.0, d / 2.0  # rel_center_xywh
    return _cat((a - half_w) * width, (b - half_h) * height, (a + half_w) * width, (b + half_h) * height)


def _from_xyxy(boxes: torch.Tensor, fmt: str, height: Any, width: Any) -> torch.Tensor:
    x1, y1, x2, y2 = _split(boxes)
    if fmt == "xyxy":
        return boxes
    if fmt == "yxyx":
        return _cat(y1, x1, y2, x2)
    if fmt == "xywh":
        return _cat(x1, y1, x2 - x1, y2 - y1)
    if fmt in ("center_xywh", "center_yxhw"):
        cx, cy = x1 + ((x2 - x1) / 2.0), y1 + ((y2 - y1) / 2.0)
        w, h = x2 - x1, y2 - y1
        return _cat(cx, cy, w, h) if fmt == "center_xywh" else _cat(cy, cx, h, w)
    if fmt == "rel_xyxy":
        return _cat(x1 / width, y1 / height, x2 / width, y2 / height)
    if fmt == "rel_yxyx":
        return _cat(y1 / height, x1 / width, y2 / height, x2 / width)
    if fmt == "rel_xywh":
        return _cat(x1 / width, y1 / height, (x2 - x1) / width, (y2 - y1) / height)
    rel_cx = (x1 + ((x2 - x1) / 2.0)) / width  # rel_center_xywh
    rel_cy = (y1 + ((y2 - y1) / 2.0)) / height
    return _cat(rel_cx, rel_cy, (x2 - x1) / width, (y2 - y1) / height)


def _scalar(value: Any, dtype: torch.dtype, device: torch.device) -> Any:
    if value is None:
        return None
    if isinstance(value, torch.Tensor):
        return value.to(device, dtype)
    return torch.tensor(value, dtype=dtype, device=device) if not isinstance(value, (int, float)) else value


def convert_format(
    boxes: Any, source: str, target: str, height: Any = None, width: Any = None, dtype: Any = "float32"
) -> Any:
    """Converts boxes between formats (``height``/``width`` are needed for the ``rel_`` ones).

    Args:
        boxes: a ``(..., 4)`` array, or a dict whose ``"boxes"`` entry is converted (in place, as Keras does).
        source, target: format names (case-insensitive), from ``SUPPORTED_FORMATS``.
        height, width: the image size, for relative formats.
        dtype: the dtype of the result.

    Example:
        >>> from lamina.utils import bounding_boxes
        >>> bounding_boxes.convert_format([[10.0, 20.0, 30.0, 60.0]], "xyxy", "center_xywh").tolist()
        [[20.0, 40.0, 20.0, 40.0]]
    """
    if isinstance(boxes, dict):
        boxes["boxes"] = convert_format(boxes["boxes"], source, target, height, width, dtype)
        return boxes
    x = ops.convert_to_tensor(boxes)
    if x.shape[-1] != 4:
        raise ValueError(f"`boxes` must be a tensor with the last dimension of 4. Received: boxes.shape={x.shape}")
    source, target = source.lower(), target.lower()
    if source not in SUPPORTED_FORMATS or target not in SUPPORTED_FORMATS:
        raise ValueError(f"Invalid source or target format. Supported formats: {SUPPORTED_FORMATS}")
    if (source.startswith("rel_") or target.startswith("rel_")) and (width is None or height is None):
        raise ValueError(
            "convert_format() must receive `height` and `width` transforming between relative and absolute "
            f"formats. convert_format() received source=`{source}`, target=`{target}, but height={height} "
            f"and width={width}."
        )
    tdtype = backend.torch_dtype(dtype)
    x = x.to(tdtype)
    if source == target:
        return x
    width, height = _scalar(width, tdtype, x.device), _scalar(height, tdtype, x.device)
    if source.startswith("rel_") and target.startswith("rel_"):
        source, target = source[4:], target[4:]
    return _from_xyxy(_to_xyxy(x, source, height, width), target, height, width)


def _area(boxes: torch.Tensor) -> torch.Tensor:
    x1, y1, x2, y2 = _split(boxes)
    return (x2 - x1) * (y2 - y1)


def clip_to_image_size(
    bounding_boxes: dict, height: Any = None, width: Any = None, bounding_box_format: str = "xyxy"
) -> dict:
    """Clips ``bounding_boxes["boxes"]`` to the image; labels of boxes left with no area become -1.

    Example:
        >>> from lamina.utils import bounding_boxes
        >>> out = bounding_boxes.clip_to_image_size(
        ...     {"boxes": [[-5.0, 2.0, 8.0, 20.0], [12.0, 0.0, 15.0, 5.0]], "labels": [1, 2]}, height=10, width=10
        ... )
        >>> out["boxes"].tolist(), out["labels"].tolist()
        ([[0.0, 2.0, 8.0, 10.0], [10.0, 0.0, 10.0, 5.0]], [1, -1])
    """
    if bounding_box_format not in ("xyxy", "rel_xyxy"):
        raise NotImplementedError(
            f"clip_to_image_size supports the 'xyxy' and 'rel_xyxy' formats. Received: {bounding_box_format}"
        )
    if bounding_box_format == "xyxy" and (height is None or width is None):
        raise ValueError("`height` and `width` must be set if `format='xyxy'`.")
    boxes = ops.convert_to_tensor(bounding_boxes["boxes"])
    labels = bounding_boxes.get("labels")
    if bounding_box_format == "xyxy":
        width, height = _scalar(width, boxes.dtype, boxes.device), _scalar(height, boxes.dtype, boxes.device)
    else:
        width = height = 1.0
    x1, y1, x2, y2 = _split(boxes)
    boxes = _cat(_clip(x1, width), _clip(y1, height), _clip(x2, width), _clip(y2, height))
    result = dict(bounding_boxes)
    result["boxes"] = boxes
    if labels is not None:
        labels = ops.convert_to_tensor(labels).to(boxes.device)
        result["labels"] = torch.where(_area(boxes).squeeze(-1) > 0, labels, -1)
    return result


def _clip(v: torch.Tensor, upper: Any) -> torch.Tensor:
    if isinstance(upper, torch.Tensor):
        return torch.minimum(torch.clamp(v, min=0), upper)
    return torch.clamp(v, 0, upper)


def _inverse_affine_matrix(
    center_x: Any, center_y: Any, angle: Any, tx: Any, ty: Any, scale: Any, sx: Any, sy: Any, height: Any, width: Any
) -> torch.Tensor:
    """The (N, 3, 3) matrix Keras maps box corners with (the inverse of the image warp)."""
    angle = -angle
    cx = center_x * (width - 1)
    cy = center_y * (height - 1)
    rot = angle * (1.0 / 180.0 * math.pi)
    tx = -tx * (width - 1)
    ty = -ty * (height - 1)
    sx = -sx * (1.0 / 180.0 * math.pi)
    sy = -sy * (1.0 / 180.0 * math.pi)
    cos_sy, tan_sx = torch.cos(sy), torch.tan(sx)
    rot_minus_sy = rot - sy
    cx_plus_tx, cy_plus_ty = cx + tx, cy + ty
    a = torch.cos(rot_minus_sy) / cos_sy
    b = a * tan_sx + torch.sin(rot)
    c = -torch.sin(rot_minus_sy) / cos_sy
    d = torch.cos(rot) - c * tan_sx
    a0, a1, b0, b1 = d * scale, -b * scale, -c * scale, a * scale
    a2 = cx - a0 * cx_plus_tx - a1 * cy_plus_ty
    b2 = cy - b0 * cx_plus_tx - b1 * cy_plus_ty
    zeros, ones = torch.zeros_like(a0), torch.ones_like(a0)
    return torch.stack([a0, a1, a2, b0, b1, b2, zeros, zeros, ones], dim=-1).reshape(-1, 3, 3)


def affine_transform(
    boxes: Any,
    angle: Any,
    translate_x: Any,
    translate_y: Any,
    scale: Any,
    shear_x: Any,
    shear_y: Any,
    height: Any,
    width: Any,
    center_x: Any = None,
    center_y: Any = None,
    bounding_box_format: str = "xyxy",
) -> torch.Tensor:
    """Moves ``(batch, num_boxes, 4)`` xyxy boxes as an image is rotated (degrees), translated (fractions),
    scaled and sheared (degrees) about its center; returns each moved box's enclosing xyxy box.

    Example:
        >>> import torch
        >>> from lamina.utils import bounding_boxes
        >>> z, one = torch.zeros(1), torch.ones(1)
        >>> out = bounding_boxes.affine_transform(
        ...     torch.tensor([[[1.0, 2.0, 3.0, 4.0]]]), z, z, z, one, z, z, height=9, width=9
        ... )
        >>> [round(v, 4) for v in out[0, 0].tolist()]
        [1.0, 2.0, 3.0, 4.0]
    """
    if bounding_box_format != "xyxy":
        raise NotImplementedError(f"affine_transform supports the 'xyxy' format. Received: {bounding_box_format}")
    angle = ops.convert_to_tensor(angle)
    t = [ops.convert_to_tensor(v).to(angle.device, angle.dtype) for v in (translate_x, translate_y, scale)]
    s = [ops.convert_to_tensor(v).to(angle.device, angle.dtype) for v in (shear_x, shear_y)]
    cx = 0.5 if center_x is None else center_x
    cy = 0.5 if center_y is None else center_y
    matrix = _inverse_affine_matrix(cx, cy, angle, t[0], t[1], t[2], s[0], s[1], height, width)
    boxes = ops.convert_to_tensor(boxes).to(matrix.device, matrix.dtype)
    batch, n = boxes.shape[:2]
    corners = boxes[..., [0, 1, 2, 1, 2, 3, 0, 3]].reshape(batch, n, 4, 2)
    corners = torch.cat([corners, torch.ones(batch, n, 4, 1, dtype=corners.dtype, device=corners.device)], dim=-1)
    moved = torch.einsum("bnxy,byz->bnxz", corners, matrix[:, :2, :].transpose(1, 2))
    return torch.cat([moved.amin(dim=2), moved.amax(dim=2)], dim=-1)


def crop(boxes: Any, top: Any, left: Any, height: Any, width: Any, bounding_box_format: str = "xyxy") -> torch.Tensor:
    """Shifts xyxy boxes into a crop window starting at ``(top, left)`` and clips them to its size.

    Example:
        >>> from lamina.utils import bounding_boxes
        >>> bounding_boxes.crop([[5.0, 5.0, 30.0, 30.0]], top=10, left=0, height=10, width=20).tolist()
        [[5.0, 0.0, 20.0, 10.0]]
    """
    if bounding_box_format != "xyxy":
        raise NotImplementedError(f"crop supports the 'xyxy' format. Received: {bounding_box_format}")
    x1, y1, x2, y2 = _split(ops.convert_to_tensor(boxes))
    x1, y1, x2, y2 = x1 - left, y1 - top, x2 - left, y2 - top
    return _cat(_clip(x1, width), _clip(y1, height), _clip(x2, width), _clip(y2, height))


def pad(
    boxes: Any, top: Any, left: Any, height: Any = None, width: Any = None, bounding_box_format: str = "xyxy"
) -> torch.Tensor:
    """Shifts xyxy boxes by the ``top``/``left`` padding added to their image.

    Example:
        >>> from lamina.utils import bounding_boxes
        >>> bounding_boxes.pad([[1.0, 2.0, 3.0, 4.0]], top=10, left=5).tolist()
        [[6.0, 12.0, 8.0, 14.0]]
    """
    if bounding_box_format != "xyxy":
        raise NotImplementedError(f"pad supports the 'xyxy' format. Received: {bounding_box_format}")
    x1, y1, x2, y2 = _split(ops.convert_to_tensor(boxes))
    return _cat(x1 + left, y1 + top, x2 + left, y2 + top)


def _check_variance(variance: Any) -> Any:
    if variance is None:
        return None
    variance = ops.convert_to_tensor(variance, "float32")
    if variance.shape[-1] != 4:
        raise ValueError(f"`variance` must be length 4, got {variance}")
    return variance


def encode_box_to_deltas(
    anchors: Any,
    boxes: Any,
    anchor_format: str,
    box_format: str,
    encoding_format: str = "center_yxhw",
    variance: Any = None,
    image_shape: Any = None,
) -> torch.Tensor:
    """The regression targets of ``boxes`` relative to ``anchors`` (center offsets and log size ratios).

    Example:
        >>> from lamina.utils import bounding_boxes
        >>> bounding_boxes.encode_box_to_deltas(
        ...     [[0.0, 0.0, 10.0, 10.0]], [[0.0, 0.0, 10.0, 10.0]], "xyxy", "xyxy"
        ... ).tolist()
        [[0.0, 0.0, 0.0, 0.0]]
    """
    variance = _check_variance(variance)
    if encoding_format not in ("center_xywh", "center_yxhw"):
        raise ValueError(f"`encoding_format` should be one of 'center_xywh' or 'center_yxhw', got {encoding_format}")
    height, width = (None, None) if image_shape is None else tuple(image_shape)[:2]
    anchors = convert_format(anchors, anchor_format, encoding_format, height, width)
    boxes = convert_format(boxes, box_format, encoding_format, height, width).to(anchors.device)
    anchor_size = torch.clamp(anchors[..., 2:], min=backend.epsilon())
    box_size = torch.clamp(boxes[..., 2:], min=backend.epsilon())
    deltas = torch.cat([(boxes[..., :2] - anchors[..., :2]) / anchor_size, torch.log(box_size / anchor_size)], -1)
    return deltas / variance.to(deltas.device) if variance is not None else deltas


def decode_deltas_to_boxes(
    anchors: Any,
    boxes_delta: Any,
    anchor_format: str,
    box_format: str,
    encoded_format: str = "center_yxhw",
    variance: Any = None,
    image_shape: Any = None,
) -> Any:
    """Inverts :func:`encode_box_to_deltas`; ``anchors`` and deltas may be dicts of feature levels.

    Example:
        >>> from lamina.utils import bounding_boxes
        >>> anchors, deltas = [[0.0, 0.0, 10.0, 10.0]], [[0.0, 0.0, 0.0, 0.0]]
        >>> bounding_boxes.decode_deltas_to_boxes(anchors, deltas, "xyxy", "xyxy").tolist()
        [[0.0, 0.0, 10.0, 10.0]]
    """
    variance = _check_variance(variance)
    if encoded_format not in ("center_xywh", "center_yxhw"):
        raise ValueError(f"`encoded_format` should be 'center_xywh' or 'center_yxhw', but got '{encoded_format}'.")
    height, width = (None, None) if image_shape is None else tuple(image_shape)[:2]

    def decode(anchor: Any, delta: Any) -> torch.Tensor:
        anchor = convert_format(anchor, anchor_format, encoded_format, height, width)
        delta = ops.convert_to_tensor(delta).to(anchor.device)
        if variance is not None:
            delta = delta * variance.to(delta.device)
        box = torch.cat(
            [delta[..., :2] * anchor[..., 2:] + anchor[..., :2], torch.exp(delta[..., 2:]) * anchor[..., 2:]], -1
        )
        return convert_format(box, encoded_format, box_format, height, width)

    if isinstance(anchors, dict) and isinstance(boxes_delta, dict):
        return {level: decode(anchor, boxes_delta[level]) for level, anchor in anchors.items()}
    return decode(anchors, boxes_delta)
