"""Files Keras 3.15 wrote on the jax, tensorflow and torch backends load in Lamina and resume training.

Each fixture (``tests/fixtures/legacy_files/keras3_<backend>/``, made by
``tests/fixtures/make_legacy_files.py``) is loaded as a user would; predictions must equal Keras's,
the model must come back compiled with its optimizer state, and one more ``train_on_batch`` must give
the weights Keras computed (see ``tests/saving/legacy_files.py`` for tolerances and known differences).
"""

from __future__ import annotations

import pytest

from tests.saving.legacy_files import check_file, params

KINDS = ("keras", "weights_h5", "h5")
FILES = [
    (producer, case, kind)
    for producer in ("keras3_jax", "keras3_tensorflow", "keras3_torch")
    for case, kind in params(producer, KINDS)
]


def test_every_backend_and_format_is_covered():
    kinds = {(producer, kind) for producer, _, kind in FILES}
    assert kinds == {
        ("keras3_jax", "keras"),
        ("keras3_jax", "weights_h5"),
        ("keras3_jax", "h5"),
        ("keras3_tensorflow", "keras"),
        ("keras3_tensorflow", "weights_h5"),
        ("keras3_torch", "keras"),
    }
    assert len(FILES) == 6 * 16


@pytest.mark.parametrize(("producer", "case", "kind"), FILES, ids=[f"{p}-{c}-{k}" for p, c, k in FILES])
def test_keras3_file_loads_and_resumes_training(producer, case, kind):
    check_file(producer, case, kind)
