"""``lamina.ops``: the ``keras.ops`` op set over torch tensors.

Every op of :mod:`lamina.ops.numpy`, :mod:`lamina.ops.nn`, :mod:`lamina.ops.core`,
:mod:`lamina.ops.math` and :mod:`lamina.ops.linalg` is available flat here, as in Keras
(``ops.add``, ``ops.relu``, ``ops.conv``, ``ops.top_k``, ``ops.inv``...), and the submodules
stay reachable as ``ops.numpy``, ``ops.nn``, ``ops.linalg``. Ops accept torch tensors,
lamina ``Variable``s, NumPy arrays, Python scalars and lists, and return torch tensors.
Called on symbolic ``KerasTensor``s (``keras.Input``), an op records a node of the
functional graph, so ``outputs = ops.relu(inputs)`` builds a model as in Keras.

Example:
    >>> import numpy as np
    >>> from lamina import ops
    >>> x = ops.convert_to_tensor(np.array([[1.0, -2.0], [3.0, 4.0]], dtype="float32"))
    >>> ops.relu(x).tolist()
    [[1.0, 0.0], [3.0, 4.0]]
    >>> ops.sum(ops.square(x), axis=-1).tolist()
    [5.0, 25.0]
    >>> ops.nn.softmax(ops.zeros((1, 4))).tolist()
    [[0.25, 0.25, 0.25, 0.25]]
    >>> import lamina
    >>> inputs = lamina.Input(shape=(3,))
    >>> ops.expand_dims(ops.relu(inputs), -1).shape
    (None, 3, 1)
"""

from __future__ import annotations

from lamina.ops import control_flow, core, linalg, math, nn, numpy
from lamina.ops import image as image  # keras.ops.image: a submodule, not flattened into ops
from lamina.ops.symbolic_calls import symbolic_aware


def _export(module: object) -> None:
    """Makes each public op of ``module`` graph-aware (in its module too) and re-exports it here."""
    for name in module.__all__:
        fn = getattr(module, name)
        if callable(fn) and not hasattr(fn, "_lamina_op") and name not in _PLAIN:
            fn = symbolic_aware(fn)
            setattr(module, name, fn)
        globals()[name] = fn


# Ops that must not become graph nodes: they inspect, convert or control Python-side flow.
_PLAIN = frozenset(
    {
        "convert_to_numpy",
        "convert_to_tensor",
        "custom_gradient",
        "dtype",
        "is_tensor",
        "result_type",
        "shape",
        "standardize_dtype",
        "cond",
        "switch",
        "while_loop",
        "fori_loop",
        "scan",
        "map",
        "associative_scan",
        "vectorized_map",
        "vectorize",
    }
)

for _module in (core, control_flow, numpy, math, linalg, nn):
    _export(_module)

# Keras's flat namespace has the numpy versions where names clash (none do today), and nn activations.
__all__ = sorted(
    {n for m in (core, control_flow, numpy, math, linalg, nn) for n in m.__all__}
    | {"core", "image", "linalg", "math", "nn", "numpy"}
)

del _module, annotations
