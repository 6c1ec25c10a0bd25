"""Traceback filtering: errors raised through Lamina's entry points show the user's frames, not Lamina's.

``keras.config.disable_traceback_filtering()`` keeps every frame (for debugging Lamina itself). Applied to
``fit``, ``evaluate`` and ``predict``; not to ``Layer.__call__``, whose cost per call matters more.
"""

from __future__ import annotations

import functools
import os
import traceback
import types
from collections.abc import Callable
from typing import Any, TypeVar

from lamina.backend.config import is_traceback_filtering_enabled

_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep
_F = TypeVar("_F", bound=Callable[..., Any])


def include_frame(filename: str) -> bool:
    """Whether a frame of ``filename`` stays in a filtered traceback (frames of Lamina's own files do not)."""
    return not os.path.abspath(filename).startswith(_PACKAGE_DIR)


def _filtered(tb: types.TracebackType | None) -> types.TracebackType | None:
    frames = list(traceback.walk_tb(tb))
    last = None
    for frame, line_no in reversed(frames):
        if include_frame(frame.f_code.co_filename):
            last = types.TracebackType(last, frame, frame.f_lasti, line_no)
    if last is None and frames:  # only Lamina's frames: keep the innermost, so the error has a location
        frame, line_no = frames[-1]
        last = types.TracebackType(None, frame, frame.f_lasti, line_no)
    return last


def filter_traceback(fn: _F) -> _F:
    """Decorator: exceptions leaving ``fn`` lose the frames of Lamina's files while filtering is enabled.

    Example:
        >>> from lamina.backend.traceback_utils import filter_traceback
        >>> @filter_traceback
        ... def f():
        ...     raise ValueError("bad")
        >>> try:
        ...     f()
        ... except ValueError as e:
        ...     str(e)
        'bad'
    """

    @functools.wraps(fn)
    def error_handler(*args: Any, **kwargs: Any) -> Any:
        if not is_traceback_filtering_enabled():
            return fn(*args, **kwargs)
        try:
            return fn(*args, **kwargs)
        except Exception as e:
            raise e.with_traceback(_filtered(e.__traceback__))  # noqa: B904 - the same exception, shorter

    return error_handler  # type: ignore[return-value]
