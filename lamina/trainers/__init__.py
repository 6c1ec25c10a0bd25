"""Training: the ``Trainer`` mixin (compile/fit/evaluate/predict), data adapters and step functions."""

from lamina.trainers.trainer import Trainer

__all__ = ["Trainer"]
