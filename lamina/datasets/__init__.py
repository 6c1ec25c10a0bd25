"""``keras.datasets`` (downloaded once into the Keras cache with ``get_file``) and the bundled ``digits``."""

from lamina.datasets import digits

# isort: split
# keras.datasets: one module per dataset, as Keras
from lamina.datasets import (
    boston_housing,
    california_housing,
    cifar10,
    cifar100,
    fashion_mnist,
    imdb,
    mnist,
    reuters,
)

__all__ = ["digits"]
__all__ += [
    "boston_housing",
    "california_housing",
    "cifar10",
    "cifar100",
    "fashion_mnist",
    "imdb",
    "mnist",
    "reuters",
]
