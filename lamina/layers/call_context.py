"""The state of the layer call in progress (per thread): the weight-path scope, ``training``, the build device.

Example:
    >>> from lamina.layers import call_context
    >>> call_context.current_training() is None  # no layer call in progress
    True
"""

from __future__ import annotations

import threading

from lamina.backend import naming

_ctx = threading.local()
_LOSSES_USED = [False]  # set once any layer calls add_loss, so calls clear stale losses only when needed


def _scope_stack() -> list[str]:
    return naming.scope_stack()  # shared with `lamina.name_scope`, so user scopes prefix weight paths too


def current_training() -> bool | None:
    """The ``training`` value of the outermost layer call in progress, if any."""
    return getattr(_ctx, "training", None)
