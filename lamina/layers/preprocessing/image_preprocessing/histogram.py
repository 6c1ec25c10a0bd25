"""Deterministic tone layers: ``AutoContrast``, ``Equalization`` and
``ContrastLimitedAdaptiveHistogramEqualization`` (CLAHE).

Histograms are counted with one ``bincount``/``scatter_add`` over the whole batch (no per-image or
per-channel Python loop, no values read back to the host).
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from lamina.layers.preprocessing.image_preprocessing.base import BaseImagePreprocessingLayer

__all__ = ["AutoContrast", "ContrastLimitedAdaptiveHistogramEqualization", "Equalization"]


class AutoContrast(BaseImagePreprocessingLayer):
    """Stretches each image so that its darkest pixel becomes the range minimum and its brightest the maximum.

    Applied in training and inference alike, as in Keras. Minimum and maximum are taken over the
    height and width of each image and channel.

    Args:
        value_range: the ``(min, max)`` of pixel values.

    Example:
        >>> import torch, lamina
        >>> x = torch.tensor([[[[50.0], [100.0]], [[75.0], [150.0]]]])
        >>> lamina.layers.AutoContrast()(x).flatten().tolist()
        [0.0, 127.5, 63.75, 255.0]
    """

    _USE_BASE_FACTOR = False

    def __init__(self, value_range: Any = (0, 255), **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.value_range = self._value_range_arg(value_range)

    def transform_images(self, images: torch.Tensor, transformation: Any = None, training: bool = True) -> Any:
        original = self._cast(images)
        x = self._transform_value_range(original, self.value_range, (0, 255), self.compute_dtype)
        # Keras reduces axes (1, 2): height and width for channels-last input.
        low = x.amin(dim=(1, 2), keepdim=True)
        high = x.amax(dim=(1, 2), keepdim=True)
        scale = 255.0 / (high - low)
        x = torch.clip(x * scale + (-low * scale), 0.0, 255.0)
        x = self._transform_value_range(x, (0, 255), self.value_range, self.compute_dtype)
        return self._cast(torch.where(torch.isnan(x), original, x))  # flat images (max == min) stay as they are

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config["value_range"] = self.value_range
        return config


def _channels_last(images: torch.Tensor, data_format: str) -> torch.Tensor:
    return images.permute(0, 2, 3, 1) if data_format == "channels_first" else images


def _channels_back(images: torch.Tensor, data_format: str) -> torch.Tensor:
    return images.permute(0, 3, 1, 2) if data_format == "channels_first" else images


class Equalization(BaseImagePreprocessingLayer):
    """Equalizes the histogram of each channel during training (one histogram per channel over the batch).

    Args:
        value_range: the ``(min, max)`` of pixel values.
        bins: the number of histogram bins.
        data_format: ``"channels_last"`` or ``"channels_first"``; default ``image_data_format()``.

    Example:
        >>> import torch, lamina
        >>> x = torch.tensor([[[[0.0], [64.0]], [[64.0], [255.0]]]])
        >>> lamina.layers.Equalization()(x).flatten().tolist()
        [0.0, 170.0, 170.0, 255.0]
    """

    _USE_BASE_FACTOR = False

    def __init__(self, value_range: Any = (0, 255), bins: int = 256, data_format: str | None = None, **kwargs: Any):
        super().__init__(data_format=data_format, **kwargs)
        if isinstance(bins, bool) or not isinstance(bins, int) or bins < 2:
            raise self._error("`bins` to be an integer >= 2", f"bins={bins!r}")
        self.bins = bins
        self.value_range = self._value_range_arg(value_range)

    def transform_images(self, images: torch.Tensor, transformation: Any = None, training: bool = True) -> Any:
        images = self._cast(images)
        if not training:
            return images
        x = _channels_last(images, self.data_format)
        low, high = self.value_range
        scaled = self._scale(x, (low, high), (0, 255))
        channels, bins = x.shape[-1], self.bins
        # Per-channel histograms of the whole batch, as Keras counts them.
        index = torch.clip((scaled.float() * (bins - 1) / 255.0).to(torch.int32), 0, bins - 1).reshape(-1, channels)
        offsets = torch.arange(channels, device=x.device) * bins
        flat = (index + offsets).reshape(-1).long()
        # scatter_add into a fixed size, not bincount: bincount sizes its output from the data (a host read on GPU)
        hist = torch.zeros(channels * bins, dtype=torch.int64, device=x.device).scatter_add_(
            0, flat, torch.ones_like(flat)
        )
        hist = hist.reshape(channels, bins)
        cdf = torch.cumsum(hist, dim=-1)
        cdf_min = torch.where(cdf > 0, cdf, torch.iinfo(cdf.dtype).max).amin(dim=-1, keepdim=True)
        denominator = cdf[:, -1:] - cdf_min
        denominator = torch.where(denominator == 0, torch.ones_like(denominator), denominator)
        lut = torch.clip(torch.round(((cdf - cdf_min) * 255) / denominator), 0, 255)  # (C, bins)
        lookup = torch.clip((scaled / 255.0) * (bins - 1), 0, bins - 1).to(torch.int32).reshape(-1, channels)
        equalized = lut.gather(1, lookup.t().long()).t().reshape(scaled.shape).to(scaled.dtype)
        single = (hist > 0).sum(dim=-1) <= 1  # a channel with a single value stays as it is
        equalized = torch.where(single, scaled, equalized)
        return self._cast(_channels_back(self._scale(equalized, (0, 255), (low, high)), self.data_format))

    @staticmethod
    def _scale(values: torch.Tensor, source: Any, target: Any) -> torch.Tensor:
        scale = (target[1] - target[0]) / (source[1] - source[0])
        return values * scale + (target[0] - source[0] * scale)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update({"bins": self.bins, "value_range": self.value_range})
        return config


class ContrastLimitedAdaptiveHistogramEqualization(BaseImagePreprocessingLayer):
    """CLAHE: equalizes histograms tile by tile, with clipped histograms, blending neighbouring tiles bilinearly.

    Applied in training and inference alike, as in Keras.

    Args:
        value_range: the ``(min, max)`` of pixel values.
        clip_limit: the histogram clip limit, relative to a uniform histogram (0 disables clipping).
        tile_grid_size: ``(rows, columns)`` of tiles.
        data_format: ``"channels_last"`` or ``"channels_first"``; default ``image_data_format()``.

    Example:
        >>> import torch, lamina
        >>> layer = lamina.layers.ContrastLimitedAdaptiveHistogramEqualization(tile_grid_size=(2, 2))
        >>> layer(torch.rand(1, 8, 8, 3) * 255).shape
        torch.Size([1, 8, 8, 3])
    """

    _USE_BASE_FACTOR = False

    def __init__(
        self,
        value_range: Any = (0, 255),
        clip_limit: float = 4.0,
        tile_grid_size: Any = (8, 8),
        data_format: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(data_format=data_format, **kwargs)
        self._value_range_arg(value_range)
        grid = tuple(tile_grid_size) if isinstance(tile_grid_size, (tuple, list)) else ()
        if len(grid) != 2 or not all(isinstance(g, int) and g > 0 for g in grid):
            raise self._error("`tile_grid_size` to be two positive integers", f"tile_grid_size={tile_grid_size!r}")
        self.value_range = value_range
        self.clip_limit = clip_limit
        self.tile_grid_size = tile_grid_size

    def transform_images(self, images: torch.Tensor, transformation: Any = None, training: bool = True) -> Any:
        x = _channels_last(images, self.data_format)
        x = self._transform_value_range(x, self.value_range, (0, 255), "float32")
        x = self._transform_value_range(self._clahe(x), (0, 255), self.value_range, "float32")
        return self._cast(_channels_back(x, self.data_format))

    def _tile_lookup(self, padded: torch.Tensor, tile_h: int, tile_w: int) -> torch.Tensor:
        """The clipped, normalized CDF of every tile: (N, grid_h + 2, grid_w + 2, C, 256), edges repeated."""
        n, _, _, c = padded.shape
        grid_h, grid_w = self.tile_grid_size
        tiles = padded.reshape(n, grid_h, tile_h, grid_w, tile_w, c).permute(0, 1, 3, 5, 2, 4)
        values = torch.clip(tiles.reshape(n, grid_h, grid_w, c, tile_h * tile_w).to(torch.int32), 0, 255).long()
        hists = torch.zeros(n, grid_h, grid_w, c, 256, device=padded.device)
        hists.scatter_add_(-1, values, torch.ones_like(values, dtype=hists.dtype))
        if self.clip_limit > 0:
            # Keras's torch backend counts in int32, so its limit is truncated to an integer: kept, for equal output.
            limit = float(int(self.clip_limit * (tile_h * tile_w) / 256.0))
            clipped = torch.clip(hists, min=0, max=limit)
            hists = clipped + (hists - clipped).sum(dim=-1, keepdim=True) / 256.0
        cdf = torch.cumsum(hists, dim=-1)
        cdf_min = cdf.amin(dim=-1, keepdim=True)
        denominator = float(tile_h * tile_w) - cdf_min
        denominator = torch.where(denominator == 0, torch.ones_like(denominator), denominator)
        cdf = torch.clip((cdf - cdf_min) * 255.0 / denominator, 0, 255)
        cdf = torch.cat([cdf[:, :1], cdf, cdf[:, -1:]], dim=1)
        return torch.cat([cdf[:, :, :1], cdf, cdf[:, :, -1:]], dim=2)

    def _clahe(self, images: torch.Tensor) -> torch.Tensor:
        n, height, width, c = images.shape
        grid_h, grid_w = self.tile_grid_size
        tile_h, tile_w = -(-height // grid_h), -(-width // grid_w)
        pad_h, pad_w = tile_h * grid_h - height, tile_w * grid_w - width
        padded = images
        if pad_h or pad_w:
            # Keras asks for NumPy's "symmetric" padding, which its torch backend runs as "replicate" (the last
            # row/column repeated): the torch backend is the reference here.
            padded = F.pad(images.permute(0, 3, 1, 2), (0, pad_w, 0, pad_h), mode="replicate").permute(0, 2, 3, 1)
        lookup = self._tile_lookup(padded, tile_h, tile_w)

        def grid(size: int, tile: int, cells: int) -> tuple:
            pos = (torch.arange(size, dtype=torch.float32) - tile / 2.0) / tile + 1.0
            lower = torch.floor(pos)
            weight = pos - lower
            lower_i = torch.clip(lower, 0, cells + 1).long()
            upper_i = torch.clip(lower + 1.0, 0, cells + 1).long()
            return lower_i.to(images.device), upper_i.to(images.device), weight.to(images.device)

        y0, y1, wy = grid(tile_h * grid_h, tile_h, grid_h)
        x0, x1, wx = grid(tile_w * grid_w, tile_w, grid_w)
        pixels = torch.clip(padded, 0, 255).to(torch.int32).long()  # (N, H', W', C)
        b = torch.arange(n, device=images.device)[:, None, None, None]
        ch = torch.arange(c, device=images.device)[None, None, None, :]

        def at(yi: torch.Tensor, xi: torch.Tensor) -> torch.Tensor:
            return lookup[b, yi[None, :, None, None], xi[None, None, :, None], ch, pixels]

        wy, wx = wy[None, :, None, None], wx[None, None, :, None]
        top = at(y0, x0) * (1.0 - wx) + at(y0, x1) * wx
        bottom = at(y1, x0) * (1.0 - wx) + at(y1, x1) * wx
        return (top * (1.0 - wy) + bottom * wy)[:, :height, :width, :]

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(
            {
                "value_range": self.value_range,
                "clip_limit": self.clip_limit,
                "tile_grid_size": self.tile_grid_size,
                "data_format": self.data_format,
            }
        )
        return config
