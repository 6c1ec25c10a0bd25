"""``keras.preprocessing``: aliases of the image, sequence and dataset utilities in ``lamina.utils``."""

from lamina.preprocessing import sequence

__all__ = ["sequence"]
