"""Files tf.keras 2.21 (``tf_keras``) wrote load in Lamina and resume training where they stopped.

The fixtures (``tests/fixtures/legacy_files/tf_keras/``, made by
``tests/fixtures/make_legacy_files.py``): per model, ``model.save("m.h5")``, ``model.save("m.keras")``,
``save_weights("m.weights.h5")`` and the weights-only legacy ``save_weights("m_weights.h5")``.
"""

from __future__ import annotations

import pytest

from tests.saving.legacy_files import check_file, params

KINDS = ("h5", "keras", "weights_h5", "legacy_weights_h5")
FILES = params("tf_keras", KINDS)


def test_every_format_is_covered():
    assert len(FILES) == 4 * 16
    assert {kind for _, kind in FILES} == set(KINDS)


@pytest.mark.parametrize(("case", "kind"), FILES, ids=[f"{c}-{k}" for c, k in FILES])
def test_tf_keras2_file_loads_and_resumes_training(case, kind):
    check_file("tf_keras", case, kind)
