"""``SpectralNormalization``: wraps a layer and divides its kernel by its largest singular value."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from lamina import backend, initializers
from lamina.layers.core.wrapper import Wrapper
from lamina.layers.input_spec import InputSpec
from lamina.layers.layer import Layer
from lamina.layers.normalization._utils import _l2_normalize


class SpectralNormalization(Wrapper):
    """Spectral normalization (Miyato et al. 2018) of a wrapped layer's ``kernel`` (or ``embeddings``).

    In training, each call runs ``power_iterations`` of the power method with the persistent
    vector ``vector_u`` and rescales the wrapped kernel in place by its largest singular value,
    as Keras does. Inference uses the kernel as it is.

    Args:
        layer: a layer with a ``kernel`` or ``embeddings`` weight (``Dense``, ``Conv2D``, ``Embedding``...).
        power_iterations: positive int. Default ``1``.

    Example:
        >>> import torch, lamina
        >>> sn = lamina.layers.SpectralNormalization(lamina.layers.Dense(3, name="d"), name="sn")
        >>> sn(torch.ones(2, 4), training=True).shape
        torch.Size([2, 3])
        >>> [w.path for w in sn.weights]
        ['sn/d/kernel', 'sn/vector_u', 'sn/d/bias']
    """

    def __init__(self, layer: Layer, power_iterations: int = 1, **kwargs: Any) -> None:
        super().__init__(layer, **kwargs)
        if power_iterations <= 0:
            raise ValueError(
                f"`power_iterations` should be greater than zero. Received: `power_iterations={power_iterations}`"
            )
        self.power_iterations = power_iterations
        self.vector_u = None

    def _kernel_attr(self) -> str:
        for attr in ("kernel", "embeddings"):
            if getattr(self.layer, attr, None) is not None:
                return attr
        raise ValueError(f"{type(self.layer).__name__} object has no attribute 'kernel' nor 'embeddings'")

    @property
    def kernel(self) -> torch.Tensor:
        """The wrapped layer's kernel (its ``embeddings`` for an ``Embedding``)."""
        return getattr(self.layer, self._kernel_attr())

    def _kernel_variable(self) -> Any:
        tensor = self.kernel
        return next(v for v in self.layer.weights if v.value is tensor)

    def build(self, input_shape: tuple) -> None:
        super().build(input_shape)
        self.input_spec = InputSpec(min_ndim=1, axes={-1: input_shape[-1]})
        kernel = self.kernel
        self.vector_u = self.add_weight(
            shape=(1, kernel.shape[-1]),
            initializer=initializers.TruncatedNormal(stddev=0.02),
            trainable=False,
            name="vector_u",
            dtype=backend.standardize_dtype(kernel.dtype),
        )
        self.built = True

    @property
    def weights(self) -> list[Any]:
        # Keras tracks the wrapped kernel as this layer's own first weight: kernel, vector_u, then the rest
        ws = Layer.weights.fget(self)
        if not self.built:
            return ws
        kv = self._kernel_variable()
        return [kv] + [w for w in ws if w is not kv]

    def normalized_weights(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The updated ``vector_u`` and the kernel divided by its estimated spectral norm."""
        kernel = self.kernel
        w = kernel.reshape(-1, kernel.shape[-1])
        u = self.vector_u
        v = u
        for _ in range(self.power_iterations):
            v = _l2_normalize(u @ w.T)
            u = _l2_normalize(v @ w)
        u, v = u.detach(), v.detach()
        sigma = (v @ w) @ u.T
        return u.to(self.vector_u.dtype), (kernel / sigma).reshape(kernel.shape).to(kernel.dtype)

    def call(self, inputs: torch.Tensor, training: bool = False) -> torch.Tensor:
        if training:
            with torch.no_grad():
                if not torch.all(self.kernel == 0):
                    new_u, new_kernel = self.normalized_weights()
                    self.vector_u.copy_(new_u)
                    self.kernel.copy_(new_kernel)
        out = self.layer(inputs)
        return out.to(inputs.dtype) if inputs.dtype.is_floating_point else out

    def compute_output_shape(self, input_shape: tuple) -> Any:
        return self.layer.compute_output_shape(input_shape)

    def save_own_variables(self, store: dict) -> None:
        # Keras's file holds this layer's own variables as [kernel, vector_u]
        store["0"] = self.kernel.detach()
        store["1"] = self.vector_u.detach()

    def load_own_variables(self, store: Any) -> None:
        with torch.no_grad():
            self.kernel.copy_(torch.as_tensor(np.asarray(store["0"])))
            self.vector_u.copy_(torch.as_tensor(np.asarray(store["1"])))

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config["power_iterations"] = self.power_iterations
        return config
