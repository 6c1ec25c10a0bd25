"""The training mixin ``Model`` inherits: compile / fit / evaluate / predict."""

from __future__ import annotations


class Trainer:
    """Keras's training API on a model (filled in by the training issue)."""

    def __init__(self) -> None:
        self.compiled = False
