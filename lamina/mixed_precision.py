"""``keras.mixed_precision``: the global dtype policy and the loss-scale optimizer.

Example:
    >>> import lamina
    >>> lamina.mixed_precision.global_policy().name
    'float32'
"""

from lamina.dtype_policies import (
    DTypePolicy,
    dtype_policy,
    global_policy,
    global_policy_name,
    set_dtype_policy,
    set_global_policy,
)
from lamina.optimizers import LossScaleOptimizer

Policy = DTypePolicy

__all__ = [
    "DTypePolicy",
    "LossScaleOptimizer",
    "Policy",
    "dtype_policy",
    "global_policy",
    "global_policy_name",
    "set_dtype_policy",
    "set_global_policy",
]
