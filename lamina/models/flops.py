"""Multiply-accumulate (MAC) estimates per layer and activation sizes, for ``summary(show_flops=True)``.

``layer_macs`` counts the multiply-adds of one call from the layer's input and output shapes; ``estimate_flops``
sums them over a model (2 FLOPs per MAC), and its figures agree with torch's ``FlopCounterMode`` on a real
forward pass."""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Any

from lamina import backend, tree
from lamina.layers.layer import Layer
from lamina.ops.operation import is_shape


def _known(shape: Any) -> tuple[int, ...]:
    return tuple(1 if d is None else int(d) for d in shape)


def _layer_io_shapes(layer: Any) -> tuple[list[tuple], list[tuple]] | None:
    """(input shapes, output shapes) of the layer's last recorded call, or None."""
    nodes = getattr(layer, "_inbound_nodes", None) or []
    if nodes:
        node = nodes[-1]
        return [tuple(t.shape) for t in node.input_tensors], [tuple(t.shape) for t in node.outputs]
    shapes = getattr(layer, "_build_shapes", None)
    if shapes is None:
        return None
    ins = [tuple(s) for s in _flat_shapes(shapes)]
    out = _output_shapes(layer)
    outs = [] if out is None else [tuple(s) for s in _flat_shapes(out)]
    return ins, outs


def _flat_shapes(structure: Any) -> list[Any]:
    """The shapes in a structure of shapes (other leaves dropped)."""
    shapes: list[Any] = []
    tree.map_shape_structure(lambda s: shapes.append(s) if is_shape(s) else None, structure)
    return shapes


def _weight_shape(layer: Any, name: str) -> tuple[int, ...] | None:
    w = getattr(layer, name, None)
    shape = getattr(w, "shape", None)
    return None if shape is None else tuple(int(d) for d in shape)


def _einsum_macs(equation: str, in_shape: tuple, kernel: tuple) -> int:
    lhs = equation.split("->")[0]
    a, k = lhs.split(",")
    if "..." in a:
        n = len(in_shape) - (len(a) - 3)
        a = a.replace("...", "".join(chr(0x3B1 + i) for i in range(n)))
    sizes: dict[str, int] = {}
    for letter, d in zip(a, _known(in_shape)):
        sizes[letter] = d
    for letter, d in zip(k.replace("...", ""), kernel):
        sizes.setdefault(letter, d)
    return math.prod(sizes.values())


def _sublayers(layer: Any) -> list[Any]:
    if hasattr(layer, "_sublayers"):
        return [s for s in layer._sublayers() if type(s).__name__ != "InputLayer"]
    return []


def layer_macs(
    layer: Any, input_shapes: list[tuple] | None = None, output_shapes: list[tuple] | None = None
) -> int | None:
    """Multiply-accumulates of one call of ``layer`` (None when its shapes are unknown).

    Shapes default to the layer's last recorded call; unknown sizes (``None``) count as 1.
    See :func:`estimate_flops` for what is counted.
    """
    if input_shapes is None or output_shapes is None:
        io = _layer_io_shapes(layer)
        if io is None:
            return None
        input_shapes, output_shapes = io
    names = _mro_names(layer)
    out = math.prod(_known(output_shapes[0])) if output_shapes else 0
    inp = math.prod(_known(input_shapes[0])) if input_shapes else 0
    kernel = _weight_shape(layer, "kernel")
    if "EinsumDense" in names and kernel is not None and input_shapes:
        return _einsum_macs(layer.equation, input_shapes[0], kernel)
    if _weight_shape(layer, "depthwise_kernel") and _weight_shape(layer, "pointwise_kernel"):
        dw, pw = _weight_shape(layer, "depthwise_kernel"), _weight_shape(layer, "pointwise_kernel")
        positions = out // pw[-1]
        return positions * (math.prod(dw) + math.prod(pw))
    if kernel is not None and any("Transpose" in n for n in names):
        return inp * math.prod(kernel[:-1])
    if kernel is not None and any(n.startswith("DepthwiseConv") for n in names):
        return out * math.prod(kernel[:-2])
    if kernel is not None and ("Dense" in names or any(n.startswith(("Conv", "BaseConv")) for n in names)):
        return out * math.prod(kernel[:-1])
    rnn = {"SimpleRNN": 1, "GRU": 3, "LSTM": 4}
    gates = next((g for n, g in rnn.items() if n in names), None)
    if gates is not None and input_shapes and len(input_shapes[0]) == 3:
        batch, steps, features = _known(input_shapes[0])
        units = int(layer.units)
        return batch * steps * gates * units * (features + units)
    if any("ConvLSTM" in n for n in names):
        return None
    # Wrappers run their inner layers on the wrapper's own inputs; other composites use the shapes
    # their sub-layers recorded.
    wrapper = "Wrapper" in names or "Bidirectional" in names
    total = 0
    for sub in _sublayers(layer):
        m = layer_macs(sub, input_shapes, output_shapes) if wrapper else layer_macs(sub)
        total += m or 0
    if "MultiHeadAttention" in names and len(input_shapes) >= 2:
        q, v = _known(input_shapes[0]), _known(input_shapes[1])
        heads = int(layer.num_heads)
        key_dim = int(layer.key_dim)
        value_dim = int(getattr(layer, "value_dim", None) or key_dim)
        total += q[0] * heads * math.prod(q[1:-1]) * math.prod(v[1:-1]) * (key_dim + value_dim)
    return total


def _activation_bytes(layer: Any) -> float | None:
    nodes = getattr(layer, "_inbound_nodes", None) or []
    if nodes:
        return sum(math.prod(_known(t.shape)) * _dtype_bits(t.dtype) for t in nodes[-1].outputs) / 8
    io = _layer_io_shapes(layer)
    if io is None:
        return None
    bits = _dtype_bits(getattr(layer, "compute_dtype", "float32"))
    return sum(math.prod(_known(s)) for s in io[1]) * bits / 8


def estimate_flops(model: Any, input_shape: Any = None) -> dict[str, int | None]:
    """Multiply-accumulates (MACs) of each top-level layer of ``model`` for one forward call.

    One MAC is one multiplication plus one addition, so the usual "FLOPs" figure is ``2 * MACs``
    (which is what ``torch.utils.flop_counter.FlopCounterMode`` reports for matmuls and convolutions).

    What is counted, from each layer's input/output shapes and kernel shape:

    * ``Dense``: ``output elements * input features``; ``EinsumDense``: the product of all einsum index sizes.
    * ``Conv1D/2D/3D``: ``output elements * kernel_h * kernel_w * in_channels / groups``;
      depthwise: ``output elements * kernel size``; separable: depthwise + pointwise;
      transposed: ``input elements * kernel size * filters``.
    * ``SimpleRNN``/``GRU``/``LSTM``: ``batch * steps * gates * units * (features + units)`` (1, 3, 4 gates).
    * ``MultiHeadAttention``: its projections plus ``heads * Tq * Tk * (key_dim + value_dim)``.
    * Layers made of sub-layers (nested models, wrappers): the sum of their sub-layers.
    * Everything else counts 0: bias additions, activations, normalization, pooling (comparisons and
      additions, no multiplies), reshapes, dropout, embeddings (lookups).

    Shapes are those the summary shows (the last symbolic call, or the build shape of a subclassed
    model), with an unknown batch size counted as 1, i.e. the figures are per sample then.

    Args:
        model: a built model (or layer).
        input_shape: optional full input shape (batch included); the model then runs once on zeros
            of that shape (``None`` sizes become 1) and every call of every layer is counted.

    Returns:
        ``{layer name: MACs}`` for ``model.layers`` in order; ``None`` for a layer whose shapes are unknown.

    Example:
        >>> import lamina
        >>> from lamina import layers
        >>> model = lamina.Sequential([lamina.Input(shape=(3,)), layers.Dense(4, name="hidden"),
        ...                            layers.Dense(2, name="out")])
        >>> estimate_flops(model)
        {'hidden': 12, 'out': 8}
        >>> estimate_flops(model, input_shape=(10, 3))
        {'hidden': 120, 'out': 80}
    """
    layers = list(getattr(model, "layers", [model]))
    if input_shape is None:
        return {layer.name: layer_macs(layer) for layer in layers}
    return _measured_macs(model, layers, input_shape)


def _measured_macs(model: Any, layers: list[Any], input_shape: Any) -> dict[str, int | None]:
    import torch

    counts: dict[int, int] = defaultdict(int)
    seen: set[int] = set()
    handles = []

    def shapes_of(structure: Any) -> list[tuple]:
        return [tuple(t.shape) for t in tree.flatten(structure) if isinstance(t, torch.Tensor)]

    def hook(module: Any, args: tuple, kwargs: dict, output: Any) -> None:
        ins = shapes_of((args, kwargs))
        outs = shapes_of(output)
        seen.add(id(module))
        names = _mro_names(module)
        leaf = not _sublayers(module) or "EinsumDense" in names or any(n in names for n in ("LSTM", "GRU", "SimpleRNN"))
        if leaf:
            counts[id(module)] += layer_macs(module, ins, outs) or 0
        elif "MultiHeadAttention" in names and len(ins) >= 2:
            q, v = _known(ins[0]), _known(ins[1])
            value_dim = int(getattr(module, "value_dim", None) or module.key_dim)
            counts[id(module)] += (
                q[0]
                * int(module.num_heads)
                * math.prod(q[1:-1])
                * math.prod(v[1:-1])
                * (int(module.key_dim) + value_dim)
            )

    modules = [m for m in model.modules() if isinstance(m, Layer)]
    for m in modules:
        handles.append(m.register_forward_hook(hook, with_kwargs=True))
    try:
        dtype = "float32"
        ins = getattr(model, "inputs", None)
        if ins:
            dtype = ins[0].dtype

        x = torch.zeros(_known(input_shape), dtype=backend.torch_dtype(dtype))
        with torch.no_grad():
            model(x)
    finally:
        for h in handles:
            h.remove()

    def total(layer: Any) -> int:
        if id(layer) not in seen:
            return 0
        return counts[id(layer)] + sum(total(s) for s in _sublayers(layer))

    return {layer.name: (total(layer) if id(layer) in seen else None) for layer in layers}


_DTYPE_BITS = {
    **{f"float{i}": i for i in (16, 32, 64)},
    **{f"int{i}": i for i in (8, 16, 32, 64)},
    **{f"uint{i}": i for i in (8, 16, 32, 64)},
    "bfloat16": 16,
    "bool": 1,
}


def _dtype_bits(dtype: Any) -> int:
    name = backend.standardize_dtype(dtype)
    if name in _DTYPE_BITS:
        return _DTYPE_BITS[name]
    return backend.torch_dtype(name).itemsize * 8


def _mro_names(obj: Any) -> set[str]:
    return {c.__name__ for c in type(obj).__mro__}


def _build_arg(shapes: Any) -> Any:
    if isinstance(shapes, tuple) and len(shapes) == 1 and isinstance(shapes[0], (tuple, list)):
        return shapes[0]
    return shapes


def _output_shapes(layer: Any) -> Any:
    """The layer's output shape structure (tuples), or None when unknown."""
    nodes = getattr(layer, "_inbound_nodes", None) or []
    if nodes:
        outputs = nodes[-1].outputs
        shapes = [tuple(t.shape) for t in outputs]
        return shapes[0] if len(shapes) == 1 else shapes
    if getattr(layer, "_build_shapes", None) is None:
        return None
    try:
        try:
            return layer.output_shape
        except AttributeError:
            pass
        return layer.compute_output_shape(_build_arg(layer._build_shapes))
    except NotImplementedError:
        return None
