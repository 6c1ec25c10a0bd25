"""keras.version() / keras.__version__: the Keras release whose API Lamina follows, and Lamina's own release."""

import re
from pathlib import Path

import keras

import lamina


def test_version_names_the_keras_release_followed():
    assert lamina.version() == lamina.__version__ == keras.version() == keras.__version__ == "3.15.1"
    # a program's version gate behaves as under the Keras it was written for
    major, minor = (int(p) for p in lamina.__version__.split(".")[:2])
    assert (major, minor) >= (3, 0)


def test_lamina_release_is_the_packaged_one():
    text = (Path(__file__).resolve().parent.parent / "pyproject.toml").read_text()
    # the [project] table's version line (tomllib is Python 3.11+, the project supports 3.10)
    (packaged,) = re.findall(r'(?m)^version = "([^"]+)"$', text.split("[project]", 1)[1].split("\n[", 1)[0])
    assert lamina.__lamina_version__ == packaged
    assert re.fullmatch(r"\d+\.\d+\.\d+", lamina.__lamina_version__)
    assert lamina.__lamina_version__ != lamina.__version__
