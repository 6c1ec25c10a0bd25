"""``lamina.ops.image``: the 16 ops of ``keras.ops.image`` over torch tensors.

Images are rank 3 (one image) or rank 4 (a batch), channels-last unless ``data_format`` (or
``lamina.backend.image_data_format()``) says otherwise. Results equal Keras's torch backend on the
same inputs; the warps (``affine_transform``, ``perspective_transform``, ``elastic_transform``)
process a whole batch at once on the images' device instead of one image at a time. On symbolic
inputs (``lamina.Input``) each op records a graph node, as the other ops do.

Example:
    >>> import torch
    >>> from lamina import ops
    >>> x = torch.rand(2, 8, 8, 3)
    >>> ops.image.resize(x, (4, 4)).shape
    torch.Size([2, 4, 4, 3])
    >>> ops.image.rgb_to_grayscale(x).shape
    torch.Size([2, 8, 8, 1])
"""

from lamina.ops.image import color, filters, geometry, patches, sampling
from lamina.ops.symbolic_calls import symbolic_aware as _symbolic_aware

affine_transform = _symbolic_aware(geometry.affine_transform)
crop_images = _symbolic_aware(patches.crop_images)
elastic_transform = _symbolic_aware(geometry.elastic_transform)
extract_patches = _symbolic_aware(patches.extract_patches)
extract_patches_3d = _symbolic_aware(patches.extract_patches_3d)
gaussian_blur = _symbolic_aware(filters.gaussian_blur)
hsv_to_rgb = _symbolic_aware(color.hsv_to_rgb)
map_coordinates = _symbolic_aware(sampling.map_coordinates)
pad_images = _symbolic_aware(patches.pad_images)
perspective_transform = _symbolic_aware(geometry.perspective_transform)
resize = _symbolic_aware(geometry.resize)
rgb_to_grayscale = _symbolic_aware(color.rgb_to_grayscale)
rgb_to_hsv = _symbolic_aware(color.rgb_to_hsv)
scale_and_translate = _symbolic_aware(geometry.scale_and_translate)
sobel_edges = _symbolic_aware(filters.sobel_edges)
ssim = _symbolic_aware(filters.ssim)

__all__ = [
    "affine_transform",
    "crop_images",
    "elastic_transform",
    "extract_patches",
    "extract_patches_3d",
    "gaussian_blur",
    "hsv_to_rgb",
    "map_coordinates",
    "pad_images",
    "perspective_transform",
    "resize",
    "rgb_to_grayscale",
    "rgb_to_hsv",
    "scale_and_translate",
    "sobel_edges",
    "ssim",
]
