"""``Masking``: marks timesteps whose features all equal ``mask_value`` as padding."""

from __future__ import annotations

from typing import Any

import torch

from lamina import serialization
from lamina.layers.layer import Layer


# ---------------------------------------------------------------------------------------------- Masking
class Masking(Layer):
    """Masks time steps whose features all equal ``mask_value``: the output mask is
    ``any(inputs != mask_value, axis=-1)`` and masked steps are set to 0.

    Mask-aware layers downstream (RNNs, attention, pooling) then skip those steps.

    Args:
        mask_value: the padding value; default 0.0.

    Input shape:
        ``(batch, steps, features)`` (any rank >= 2).

    Example:
        >>> import torch, lamina
        >>> x = torch.tensor([[[1.0, 2.0], [0.0, 0.0], [3.0, 0.0]]])
        >>> y = lamina.layers.Masking()(x)
        >>> y._keras_mask.tolist()
        [[True, False, True]]
    """

    def __init__(self, mask_value: Any = 0.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if isinstance(mask_value, dict) and mask_value.get("config", None):
            mask_value = serialization.deserialize_keras_object(mask_value)
        self.mask_value = mask_value
        self.supports_masking = True
        self.built = True

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        keep = (inputs != self.mask_value).any(dim=-1, keepdim=True)
        outputs = inputs.masked_fill(~keep, 0)
        outputs._keras_mask = keep.squeeze(-1)
        return outputs

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        return (inputs != self.mask_value).any(dim=-1)

    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config["mask_value"] = self.mask_value
        return config

    def extra_repr(self) -> str:
        return f"name={self.name!r}, mask_value={self.mask_value}"
