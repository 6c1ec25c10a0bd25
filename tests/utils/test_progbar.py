"""keras.utils.Progbar: the same values displayed as Keras's for the same updates; Sequence alias."""

import io
import re

import keras
import pytest

import lamina
from lamina.utils import Progbar


def _metrics(text):
    return re.findall(r" - (\w+): ([0-9.e+-]+)", text)


@pytest.mark.parametrize(
    "kwargs, updates",
    [
        ({}, [(1, [("loss", 1.0)]), (3, [("loss", 3.0)]), (4, [("loss", 0.5)])]),
        ({"stateful_metrics": ["acc"]}, [(1, [("loss", 2.0), ("acc", 0.5)]), (2, [("loss", 4.0), ("acc", 0.7)])]),
        ({"stateless_metrics": ["loss"]}, [(2, [("loss", 2.0), ("lr", 0.1)]), (3, [("loss", 5.0), ("lr", 0.01)])]),
    ],
)
def test_values_equal_keras(capsys, kwargs, updates):
    theirs = keras.utils.Progbar(10, interval=0.0, **kwargs)
    for current, values in updates:
        theirs.update(current, values)
    keras_out = capsys.readouterr().out
    out = io.StringIO()
    ours = Progbar(10, interval=0.0, stream=out, **kwargs)
    for current, values in updates:
        ours.update(current, values)
    assert _metrics(out.getvalue()) == _metrics(keras_out)
    assert len(_metrics(out.getvalue())) >= len(updates)


def test_add_verbose_zero_and_bad_arguments(capsys):
    out = io.StringIO()
    bar = Progbar(4, verbose=0, stream=out)
    bar.add(2, [("loss", 1.0)])
    bar.add(2)
    assert out.getvalue() == "" and capsys.readouterr().out == ""
    with pytest.raises(ValueError, match="Only one of `stateful_metrics` or `stateless_metrics`"):
        Progbar(3, stateful_metrics=["a"], stateless_metrics=["b"])


def test_sequence_is_pydataset():
    assert lamina.utils.Sequence is lamina.utils.PyDataset
    assert keras.utils.Sequence is keras.utils.PyDataset
