"""Image files and arrays: ``load_img``, ``img_to_array``, ``array_to_img``, ``save_img``, ``smart_resize``.

Pillow is an optional dependency (``pip install "lamina[image]"``); the functions that need
it import it when called and name the extra when it is missing.
"""

from __future__ import annotations

import io
import os
import pathlib
import warnings
from typing import Any

import numpy as np
import torch

from lamina import backend
from lamina.backend.atomic import atomic_write
from lamina.backend.config import standardize_data_format

_PIL_INTERPOLATIONS = ("nearest", "bilinear", "bicubic", "hamming", "box", "lanczos")
_COLOR_MODES = ("grayscale", "rgb", "rgba")


def require_pil(caller: str):
    """``PIL.Image``, or an ImportError that names the extra to install."""
    try:
        from PIL import Image
    except ImportError as e:
        raise ImportError(
            f"`{caller}` needs Pillow to read and write images. Install it with "
            '`pip install "lamina[image]"` (or `pip install pillow`).'
        ) from e
    return Image


def convert_color(img: Any, color_mode: str) -> Any:
    """Converts a PIL image to ``color_mode`` as Keras does (16/32-bit grayscale kept as is)."""
    if color_mode == "grayscale":
        if img.mode not in ("L", "I;16", "I"):
            img = img.convert("L")
    elif color_mode == "rgba":
        if img.mode != "RGBA":
            img = img.convert("RGBA")
    elif color_mode == "rgb":
        if img.mode != "RGB":
            img = img.convert("RGB")
    else:
        raise ValueError(f'`color_mode` must be "grayscale", "rgb", or "rgba". Received: color_mode={color_mode!r}')
    return img


def array_to_img(x: Any, data_format: str | None = None, scale: bool = True, dtype: Any = None) -> Any:
    """Converts a rank-3 array (one image) to a PIL image.

    Args:
        x: an array-like of shape ``(height, width, channels)`` (or channels first).
        data_format: ``"channels_last"`` or ``"channels_first"``; ``None`` uses the global setting.
        scale: rescale values so the minimum is 0 and the maximum 255.
        dtype: the dtype ``x`` is converted to first (``floatx()`` by default).

    Returns:
        A PIL image: ``"RGBA"`` for 4 channels, ``"RGB"`` for 3, ``"L"`` for 1 (``"I"`` when
        1-channel values exceed 255).

    Example:
        >>> import numpy as np
        >>> img = array_to_img(np.random.random((4, 5, 3)))
        >>> img.size, img.mode
        ((5, 4), 'RGB')
    """
    data_format = standardize_data_format(data_format)
    dtype = dtype or backend.floatx()
    image = require_pil("array_to_img")
    x = np.asarray(x, dtype=dtype)
    if x.ndim != 3:
        raise ValueError(f"Expected image array to have rank 3 (single image). Got array with shape: {x.shape}")
    if data_format == "channels_first":
        x = x.transpose(1, 2, 0)  # (C, H, W) -> (H, W, C)
    if scale:
        x = x - np.min(x)
        x_max = np.max(x)
        if x_max != 0:
            x /= x_max
        x *= 255
    channels = x.shape[2]
    if channels == 4:
        return image.fromarray(x.astype("uint8"), "RGBA")
    if channels == 3:
        return image.fromarray(x.astype("uint8"), "RGB")
    if channels == 1:
        if np.max(x) > 255:  # 32-bit signed integer grayscale
            return image.fromarray(x[:, :, 0].astype("int32"), "I")
        return image.fromarray(x[:, :, 0].astype("uint8"), "L")
    raise ValueError(f"Unsupported channel number: {channels}. Expected 1, 3 or 4 channels, received x.shape={x.shape}")


def img_to_array(img: Any, data_format: str | None = None, dtype: Any = None) -> np.ndarray:
    """Converts a PIL image to a rank-3 NumPy array (``(height, width, channels)`` by default).

    Example:
        >>> import numpy as np
        >>> img = array_to_img(np.ones((4, 5, 1)), scale=False)
        >>> img_to_array(img).shape
        (4, 5, 1)
    """
    data_format = standardize_data_format(data_format)
    dtype = dtype or backend.floatx()
    x = np.asarray(img, dtype=dtype)
    if x.ndim == 3:
        if data_format == "channels_first":
            x = x.transpose(2, 0, 1)
    elif x.ndim == 2:
        x = x.reshape((1, *x.shape) if data_format == "channels_first" else (*x.shape, 1))
    else:
        raise ValueError(f"Unsupported image shape: {x.shape}. Expected a 2-D (grayscale) or 3-D image.")
    return x


def save_img(
    path: str | os.PathLike | Any,
    x: Any,
    data_format: str | None = None,
    file_format: str | None = None,
    scale: bool = True,
    **kwargs: Any,
) -> None:
    """Saves an image array to a path (written atomically) or a file object.

    Args:
        path: a path, or a file object (then give ``file_format``).
        x: the image array.
        data_format: ``"channels_last"`` or ``"channels_first"``.
        file_format: ``"png"``, ``"jpeg"``...; from the path's extension when omitted.
        scale: rescale values to ``[0, 255]``.
        **kwargs: passed to ``PIL.Image.save``.

    Example:
        >>> import os, tempfile, numpy as np
        >>> path = os.path.join(tempfile.mkdtemp(), "x.png")
        >>> save_img(path, np.zeros((2, 3, 3)))
        >>> load_img(path).size
        (3, 2)
    """
    data_format = standardize_data_format(data_format)
    if file_format is None and isinstance(path, (str, os.PathLike)):
        file_format = pathlib.Path(path).suffix[1:].lower()
    if file_format and file_format.lower() == "jpg":
        file_format = "jpeg"
    img = array_to_img(x, data_format=data_format, scale=scale)
    if img.mode == "RGBA" and file_format == "jpeg":
        warnings.warn("The JPEG format does not support RGBA images, converting to RGB.", stacklevel=2)
        img = img.convert("RGB")
    if isinstance(path, (str, os.PathLike)):
        with atomic_write(path) as tmp:
            img.save(tmp, format=file_format or None, **kwargs)
    else:
        img.save(path, format=file_format, **kwargs)


def _open(path: Any, caller: str) -> Any:
    image = require_pil(caller)
    if isinstance(path, io.IOBase) or hasattr(path, "read"):
        return image.open(path)
    if isinstance(path, (str, bytes, os.PathLike)):
        with open(path, "rb") as f:
            # read whole so the file is closed before decoding starts lazily
            return image.open(io.BytesIO(f.read()))
    raise TypeError(f"path should be path-like or io.BytesIO, not {type(path)}. Received: path={path!r}")


def load_img(
    path: str | os.PathLike | Any,
    color_mode: str = "rgb",
    target_size: tuple[int, int] | None = None,
    interpolation: str = "nearest",
    keep_aspect_ratio: bool = False,
) -> Any:
    """Loads an image file into a PIL image.

    Args:
        path: a path or a binary file object (``io.BytesIO``).
        color_mode: ``"grayscale"``, ``"rgb"`` or ``"rgba"``.
        target_size: ``None`` (original size) or ``(height, width)``.
        interpolation: how to resample to ``target_size``: ``"nearest"``, ``"bilinear"``,
            ``"bicubic"``, ``"hamming"``, ``"box"`` or ``"lanczos"`` (Pillow's filters).
        keep_aspect_ratio: crop the centre to ``target_size``'s aspect ratio before resizing.

    Returns:
        A PIL image.

    Example:
        >>> import os, tempfile, numpy as np
        >>> path = os.path.join(tempfile.mkdtemp(), "x.png")
        >>> save_img(path, np.random.random((8, 6, 3)))
        >>> img = load_img(path, color_mode="grayscale", target_size=(4, 3))
        >>> img.size, img.mode
        ((3, 4), 'L')
    """
    if color_mode not in _COLOR_MODES:
        raise ValueError(f'`color_mode` must be "grayscale", "rgb", or "rgba". Received: color_mode={color_mode!r}')
    if interpolation not in _PIL_INTERPOLATIONS:
        raise ValueError(
            f"Invalid interpolation method {interpolation} specified. Supported methods are "
            f"{', '.join(_PIL_INTERPOLATIONS)}. Received: interpolation={interpolation!r}"
        )
    img = convert_color(_open(path, "load_img"), color_mode)
    if target_size is None:
        return img
    if len(target_size) != 2:
        raise ValueError(f"`target_size` must be (height, width). Received: target_size={target_size}")
    width_height = (int(target_size[1]), int(target_size[0]))
    if img.size == width_height:
        return img
    image = require_pil("load_img")
    resample = getattr(image.Resampling, interpolation.upper())
    if not keep_aspect_ratio:
        return img.resize(width_height, resample)
    width, height = img.size
    target_w, target_h = width_height
    crop_h = min(height, (width * target_h) // target_w)
    crop_w = min(width, (height * target_w) // target_h)
    top, left = (height - crop_h) // 2, (width - crop_w) // 2
    return img.resize(width_height, resample, box=[left, top, left + crop_w, top + crop_h])


_TORCH_MODES = {"bilinear": "bilinear", "nearest": "nearest-exact", "bicubic": "bicubic"}


def smart_resize(
    x: Any, size: tuple[int, int], interpolation: str = "bilinear", data_format: str = "channels_last", **kwargs: Any
) -> np.ndarray | torch.Tensor:
    """Resizes images to ``size`` without distorting them: crops the largest centred window first.

    Same arithmetic as Keras on the torch backend. The crop takes the largest window with
    ``size``'s aspect ratio, then resizes it to ``size``.

    Args:
        x: an image ``(height, width, channels)`` or a batch ``(batch, height, width, channels)``
            (channels first with ``data_format="channels_first"``), NumPy or torch.
        size: ``(height, width)``.
        interpolation: ``"bilinear"``, ``"nearest"`` or ``"bicubic"``.
        data_format: ``"channels_last"`` or ``"channels_first"``.

    Returns:
        A NumPy array for NumPy input, else a torch tensor; integer input keeps its dtype (rounded).

    Example:
        >>> import numpy as np
        >>> smart_resize(np.ones((340, 500, 3), "float32"), (200, 200)).shape
        (200, 200, 3)
    """
    if kwargs:
        raise TypeError(f"smart_resize() got unexpected keyword arguments: {list(kwargs.keys())}")
    if len(size) != 2:
        raise ValueError(f"Expected `size` to be a tuple of 2 integers, but got: {size}.")
    if interpolation not in _TORCH_MODES:
        raise ValueError(
            f"`interpolation` must be one of {tuple(_TORCH_MODES)} on the torch backend. "
            f"Received: interpolation={interpolation!r}"
        )
    data_format = standardize_data_format(data_format)
    img = torch.as_tensor(x)
    if img.ndim not in (3, 4):
        raise ValueError(
            "Expected an image array with shape `(height, width, channels)`, or `(batch_size, height, width, "
            f"channels)`, but got input with incorrect rank, of shape {tuple(img.shape)}."
        )
    batched = img if img.ndim == 4 else img.unsqueeze(0)
    if data_format == "channels_last":
        batched = batched.permute(0, 3, 1, 2)  # (N, H, W, C) -> (N, C, H, W)
    height, width = batched.shape[-2:]
    target_h, target_w = size
    crop_h = max(min(height, int(float(width * target_h) / target_w)), 1)
    crop_w = max(min(width, int(float(height * target_w) / target_h)), 1)
    top, left = int(float(height - crop_h) / 2), int(float(width - crop_w) / 2)
    batched = batched[:, :, top : top + crop_h, left : left + crop_w]
    out_dtype = batched.dtype
    work = batched if out_dtype in (torch.float32, torch.float64) else batched.to(torch.float32)
    align = False if interpolation in ("bilinear", "bicubic") else None
    out = torch.nn.functional.interpolate(
        work, size=tuple(size), mode=_TORCH_MODES[interpolation], align_corners=align, antialias=False
    )
    if out_dtype != out.dtype:
        if interpolation == "bicubic" and out_dtype == torch.uint8:
            out = out.clamp(0, 255)
        if not out_dtype.is_floating_point:
            out = torch.round(out)
        out = out.to(out_dtype)
    if data_format == "channels_last":
        out = out.permute(0, 2, 3, 1)
    if img.ndim == 3:
        out = out[0]
    return np.array(out) if isinstance(x, np.ndarray) else out
