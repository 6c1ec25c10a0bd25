"""Rematerialization (gradient checkpointing): ``keras.remat`` and ``keras.RematScope``.

A rematerialized function keeps no intermediate activations for the backward pass; it runs again during
``backward`` instead (``torch.utils.checkpoint``, as Keras does on torch), trading compute for memory.

Example:
    >>> import torch, lamina
    >>> f = lamina.remat(lambda x: torch.sin(x) * 2)
    >>> x = torch.ones(3, requires_grad=True)
    >>> f(x).sum().backward()
    >>> [round(g, 4) for g in x.grad.tolist()]
    [1.0806, 1.0806, 1.0806]
"""

from __future__ import annotations

import threading
from collections import namedtuple
from collections.abc import Callable
from typing import Any

import torch
import torch.utils.checkpoint

_MODES = ("full", "activations", "larger_than", "list_of_layers", None)
_state = threading.local()

RematMode = namedtuple("RematMode", ["mode", "output_size_threshold", "layer_names"])


class RematScope:
    """Layers created inside the block rematerialize their calls (per ``mode``).

    Args:
        mode: ``"full"`` (every layer), ``"activations"`` (only the ``activation`` of layers that have one),
            ``"larger_than"`` (layers whose output has more than ``output_size_threshold`` elements),
            ``"list_of_layers"`` (the layers named in ``layer_names``), or ``None`` (off, e.g. in a nested
            block).
        output_size_threshold: the size limit of ``"larger_than"``.
        layer_names: the names of ``"list_of_layers"``.

    Example:
        >>> import lamina
        >>> with lamina.RematScope(mode="list_of_layers", layer_names=["big"]):
        ...     big, small = lamina.layers.Dense(4, name="big"), lamina.layers.Dense(4, name="small")
        >>> big._remat_mode.mode, getattr(small, "_remat_mode", None) is not None
        ('list_of_layers', True)
    """

    def __init__(
        self, mode: str | None = "full", output_size_threshold: int = 1024, layer_names: list[str] | None = None
    ) -> None:
        if mode not in _MODES:
            raise ValueError(
                f"Invalid mode '{mode}'. Supported modes are: 'full', 'activations', 'larger_than', "
                "'list_of_layers', or None."
            )
        if isinstance(output_size_threshold, bool) or not isinstance(output_size_threshold, int):
            raise TypeError(
                f"`output_size_threshold` must be an integer. Received: output_size_threshold={output_size_threshold!r}"
            )
        self.mode = mode
        self.output_size_threshold = output_size_threshold
        self.layer_names = list(layer_names or [])
        self._pop_on_exit = False

    def __enter__(self) -> RematScope:
        _stack().append(self)
        self._pop_on_exit = True
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._pop_on_exit:
            _stack().pop()
            self._pop_on_exit = False


def _stack() -> list[RematScope]:
    s = getattr(_state, "stack", None)
    if s is None:
        s = _state.stack = []
    return s


def get_current_remat_mode() -> RematMode | None:
    """The innermost ``RematScope``'s settings, or ``None`` outside any."""
    stack = _stack()
    if not stack:
        return None
    top = stack[-1]
    return RematMode(top.mode, top.output_size_threshold, top.layer_names)


def remat(f: Callable[..., Any]) -> Callable[..., Any]:
    """``f`` wrapped so its activations are recomputed in the backward pass instead of being stored.

    Args:
        f: a function or a layer.
    """
    if not callable(f):
        raise TypeError(f"`remat` expects a function or a layer. Received: f={f!r}")

    def wrapped(*args: Any, **kwargs: Any) -> Any:
        return torch.utils.checkpoint.checkpoint(f, *args, use_reentrant=False, **kwargs)

    return wrapped
