"""``Rescaling``: ``inputs * scale + offset``."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from lamina import backend, serialization
from lamina.layers.layer import Layer


class Rescaling(Layer):
    """Computes ``inputs * scale + offset`` (e.g. ``Rescaling(1 / 255)`` for pixels in ``[0, 1]``).

    Args:
        scale: float or array broadcastable to the inputs (e.g. one value per channel).
        offset: float or array; default 0.

    Example:
        >>> import torch, lamina
        >>> lamina.layers.Rescaling(1 / 127.5, offset=-1)(torch.tensor([0.0, 255.0])).tolist()
        [-1.0, 1.0]
    """

    def __init__(self, scale: Any, offset: Any = 0.0, **kwargs: Any) -> None:
        for arg, value in (("scale", scale), ("offset", offset)):
            if isinstance(value, (str, bytes, bool)) or value is None:
                raise TypeError(f"`{arg}` must be a number or an array of numbers. Received: {arg}={value!r}")
        super().__init__(**kwargs)
        self.scale = scale
        self.offset = offset
        self.supports_masking = True

    def _as_operand(self, value: Any, like: torch.Tensor) -> Any:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        cache = self.__dict__.setdefault("_const_cache", {})
        key = (id(value), like.dtype, str(like.device))
        if key not in cache:
            cache[key] = torch.as_tensor(np.asarray(backend.to_numpy(value)), dtype=like.dtype, device=like.device)
        return cache[key]

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        out = inputs * self._as_operand(self.scale, inputs)
        offset = self._as_operand(self.offset, inputs)
        if isinstance(offset, float) and offset == 0.0:
            return out
        return out + offset

    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(
            {"scale": serialization.serialize_value(self.scale), "offset": serialization.serialize_value(self.offset)}
        )
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any], custom_objects: dict | None = None) -> Rescaling:
        config = dict(config)
        config["scale"] = serialization.deserialize_value(config["scale"])
        config["offset"] = serialization.deserialize_value(config.get("offset", 0.0))
        return super().from_config(config)

    def extra_repr(self) -> str:
        return f"name={self.name!r}, scale={self.scale}, offset={self.offset}"
