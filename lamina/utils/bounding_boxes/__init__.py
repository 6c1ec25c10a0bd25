"""``keras.utils.bounding_boxes``: box formats, clipping, geometry and IoU, as plain tensor math.

Example:
    >>> from lamina.utils import bounding_boxes
    >>> bounding_boxes.convert_format([[0.0, 0.0, 4.0, 2.0]], "xyxy", "rel_xyxy", height=4, width=8).tolist()
    [[0.0, 0.0, 0.5, 0.5]]
"""

from lamina.layers.preprocessing.image_preprocessing.bounding_boxes import (
    affine_transform,
    clip_to_image_size,
    compute_ciou,
    compute_iou,
    convert_format,
    crop,
    decode_deltas_to_boxes,
    encode_box_to_deltas,
    pad,
)

__all__ = [
    "affine_transform",
    "clip_to_image_size",
    "compute_ciou",
    "compute_iou",
    "convert_format",
    "crop",
    "decode_deltas_to_boxes",
    "encode_box_to_deltas",
    "pad",
]
