"""``Wrapper`` (base of layer wrappers) and ``TimeDistributed``: one layer applied to every timestep."""

from __future__ import annotations

from typing import Any

import torch

from lamina.layers.core.wrapper import Wrapper
from lamina.layers.layer import Layer
from lamina.layers.recurrent.rnn_cell import as_mask


def _has_batch_statistics(layer: Layer) -> bool:
    from lamina.layers.normalization import BatchNormalization

    return any(isinstance(sub, BatchNormalization) for sub in layer._flatten_layers())


class TimeDistributed(Wrapper):
    """Applies ``layer`` to every temporal slice of ``(batch, time, ...)`` inputs, with shared weights.

    The time axis is folded into the batch (``(batch * time, ...)``), so the wrapped layer runs once.
    A wrapped ``BatchNormalization`` in training runs per timestep instead, as in Keras, so its
    statistics stay per step.

    Args:
        layer: the layer to apply, e.g. ``Dense`` or ``Conv2D``.

    Call arguments:
        inputs: ``(batch, time, ...)``. mask: optional ``(batch, time)``, passed on per timestep to a
            layer that takes a mask. training: passed on.

    Example:
        >>> import torch, lamina
        >>> td = lamina.layers.TimeDistributed(lamina.layers.Dense(6))
        >>> td(torch.ones(2, 5, 3)).shape
        torch.Size([2, 5, 6])
    """

    def __init__(self, layer: Layer, **kwargs: Any) -> None:
        if not isinstance(layer, Layer):
            raise ValueError(
                f"Please initialize `TimeDistributed` layer with a `keras.layers.Layer` instance. Received: {layer}"
            )
        super().__init__(layer, **kwargs)
        self.supports_masking = True

    def _get_child_input_shape(self, input_shape: Any) -> tuple:
        if not isinstance(input_shape, (tuple, list)) or len(input_shape) < 3:
            raise self._error(
                "inputs of rank >= 3 (batch, time, ...)",
                f"shape {input_shape}",
                "`TimeDistributed` Layer should be passed an `input_shape` with at least 3 dimensions.",
            )
        return (input_shape[0], *tuple(input_shape[2:]))

    def build(self, input_shape: tuple) -> None:
        super().build(self._get_child_input_shape(input_shape))

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        child = self.layer.compute_output_shape(self._get_child_input_shape(input_shape))
        return (child[0], input_shape[1], *tuple(child[1:]))

    def call(self, inputs: torch.Tensor, training: bool | None = None, mask: Any = None) -> torch.Tensor:
        if inputs.ndim < 3:
            raise self._error("inputs of rank >= 3 (batch, time, ...)", f"shape {tuple(inputs.shape)}")
        batch, steps = inputs.shape[0], inputs.shape[1]
        if mask is not None:
            mask = as_mask(mask, inputs.device)
            if mask.ndim < 2:
                raise ValueError(
                    "The `mask` passed to the `TimeDistributed` layer must be at least 2D (e.g., "
                    f"`(batch_size, timesteps)`), but it has {mask.ndim} dimension(s) with shape "
                    f"{tuple(mask.shape)}."
                )
            if mask.shape[0] != batch or mask.shape[1] != steps:
                raise ValueError(
                    f"The `mask` passed to the `TimeDistributed` layer has a shape {tuple(mask.shape)} "
                    f"that is incompatible with the input shape {tuple(inputs.shape)}. The first two "
                    "dimensions of the mask (batch size and timesteps) must match the input's first two "
                    f"dimensions. Expected mask shape prefix: ({batch}, {steps})."
                )
        layer = self.layer
        use_mask = layer._call_has_mask and mask is not None
        kwargs: dict[str, Any] = {}
        if layer._call_has_training:
            kwargs["training"] = training
        if training and _has_batch_statistics(layer):
            outs = []
            for t in range(steps):
                if use_mask:
                    kwargs["mask"] = mask[:, t]
                outs.append(layer(inputs[:, t], **kwargs))
            return torch.stack(outs, dim=1)
        if use_mask:
            kwargs["mask"] = mask.reshape(batch * steps, *mask.shape[2:])
        # (B, T, ...) -> (B*T, ...): a view for contiguous inputs
        y = layer(inputs.reshape(batch * steps, *inputs.shape[2:]), **kwargs)
        return y.reshape(batch, steps, *y.shape[1:])
