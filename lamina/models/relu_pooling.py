"""A relu convolution followed by max pooling, run as ``relu(max_pool(conv(x)))`` by ``Sequential`` and ``Functional``.

The two orders are equal, values and gradients: relu is non-decreasing, so the maximum of a window's relu'd values is
the relu of its maximum (replicate padding, Keras's "same" pooling, pads with values of the window), and both send a
window's gradient to its first maximum, or nowhere where that maximum is not positive. Relu then runs forward and
backward on the pooled tensor, 4-9x smaller than the convolution's output: ReLU's backward went from 48 to 25 ms of
the guide's convnet's ~600 ms training step, and from 5.2 to 0.4 ms of mnist_cnn's 38 ms (``torch.profiler``,
benchmarks/bench_fit.py's workloads).

The models only reorder a pair whose convolution output nothing else reads (a hook, a mask, another layer, the
model's outputs); the two layers do the work themselves (``BaseConv.call`` leaves out its relu, ``BasePooling.call``
applies it in place on its fresh output), so a pair reordered still runs through both layers' ``__call__``.
"""

from __future__ import annotations

from typing import Any

import torch

from lamina import activations
from lamina.layers.convolutional.base_conv import BaseConv
from lamina.layers.layer import _has_global_hooks
from lamina.layers.pooling.base_pooling import BasePooling


def relu_conv_then_max_pool(conv: Any, pool: Any) -> bool:
    """Whether ``conv`` is a convolution whose activation is relu (no activity regularizer) and ``pool`` max pooling,
    both running their class's own ``call`` (which knows how to hand the relu over)."""
    return (
        isinstance(conv, BaseConv)
        and type(conv).call is BaseConv.call
        and type(pool).call is BasePooling.call
        and conv.activation is activations.relu
        and conv.activity_regularizer is None
        and isinstance(pool, BasePooling)
        and pool.pool_mode == "max"
    )


def relu_commutes_with(conv: Any, pool: Any, x: Any) -> bool:
    """Whether ``pool(conv(x))`` may run as ``relu(pool(conv_without_relu(x)))`` now: the pair qualifies, ``x`` is a
    tensor (not a shape being traced) without a mask, and no hook would see the convolution's own output."""
    return (
        relu_conv_then_max_pool(conv, pool)
        and isinstance(x, torch.Tensor)
        and getattr(x, "_keras_mask", None) is None
        and not (conv._forward_hooks or conv._forward_pre_hooks or pool._forward_hooks or pool._forward_pre_hooks)
        and not _has_global_hooks()
    )


def max_pool_then_relu(conv: Any, pool: Any, x: torch.Tensor) -> torch.Tensor:
    """``pool(conv(x))`` with the convolution's relu applied after the pooling (see the module's docstring)."""
    conv.__dict__["_relu_deferred"] = pool.__dict__["_relu_after"] = True
    try:
        return pool(conv(x))
    finally:
        del conv.__dict__["_relu_deferred"], pool.__dict__["_relu_after"]
