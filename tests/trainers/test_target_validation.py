"""The trainer's check of targets against the loss before the first step."""

import numpy as np
import pytest
import torch

from lamina import losses
from lamina.trainers.target_validation import validate_targets


def test_validate_targets():
    y_pred = torch.zeros(4, 3)
    validate_targets(torch.tensor([0, 1, 2, 2]), y_pred, losses.SparseCategoricalCrossentropy())
    validate_targets(np.array([[0], [2], [1], [1]]), y_pred)  # inferred sparse
    with pytest.raises(ValueError, match=r"class ids in \[0, 3\).*received label 3"):
        validate_targets(torch.tensor([0, 1, 3, 2]), y_pred, "sparse_categorical_crossentropy")
    with pytest.raises(ValueError, match="received label -1"):
        validate_targets(torch.tensor([0, -1, 1, 2]), y_pred, losses.sparse_categorical_crossentropy)
    with pytest.raises(ValueError, match="received label 5"):
        validate_targets(torch.tensor([0, 5, 1, 2]), y_pred)
    # ignore_class labels are allowed
    validate_targets(torch.tensor([0, 9, 1, 9]), y_pred, losses.SparseCategoricalCrossentropy(ignore_class=9))
    with pytest.raises(ValueError, match=r"y_true.shape=\(4, 5\)"):
        validate_targets(torch.zeros(4, 5), torch.zeros(4, 10), "sparse_categorical_crossentropy")
    with pytest.raises(ValueError, match=r"y_true.shape=\(4, 1\)"):
        validate_targets(torch.zeros(4, 1), y_pred, losses.CategoricalCrossentropy())
    validate_targets(torch.zeros(4), torch.zeros(4, 1), "binary_crossentropy")
    with pytest.raises(ValueError, match="binary_crossentropy"):
        validate_targets(torch.zeros(4, 2), torch.zeros(4, 3), "bce")
