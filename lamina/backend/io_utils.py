"""Where Lamina's progress output goes: stdout, or the ``logging`` module when interactive logging is off.

Example:
    >>> import lamina
    >>> from lamina.backend.io_utils import print_msg
    >>> print_msg("hello")
    hello
"""

from __future__ import annotations

import logging
import re
import sys

from lamina.backend.config import is_interactive_logging_enabled

logger = logging.getLogger("lamina")
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def print_msg(message: object, line_break: bool = True) -> None:
    """Writes ``message`` to stdout, or logs it at INFO level on the ``"lamina"`` logger when interactive
    logging is disabled (without terminal styles or the carriage returns of a live progress bar)."""
    text = str(message)
    if is_interactive_logging_enabled():
        sys.stdout.write(f"{text}\n" if line_break else text)
        sys.stdout.flush()
        return
    plain = _ANSI.sub("", text).replace("\r", "").rstrip("\n")
    if plain.strip():
        logger.info(plain)
