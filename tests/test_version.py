"""keras.version() / keras.__version__: the Keras release whose API Lamina follows, and Lamina's own release."""

import re
import tomllib
from pathlib import Path

import keras

import lamina


def test_version_names_the_keras_release_followed():
    assert lamina.version() == lamina.__version__ == keras.version() == keras.__version__ == "3.15.1"
    # a program's version gate behaves as under the Keras it was written for
    major, minor = (int(p) for p in lamina.__version__.split(".")[:2])
    assert (major, minor) >= (3, 0)


def test_lamina_release_is_the_packaged_one():
    pyproject = tomllib.loads((Path(__file__).resolve().parent.parent / "pyproject.toml").read_text())
    assert lamina.__lamina_version__ == pyproject["project"]["version"]
    assert re.fullmatch(r"\d+\.\d+\.\d+", lamina.__lamina_version__)
    assert lamina.__lamina_version__ != lamina.__version__
