"""``model.summary()``: the Keras 3 summary table, drawn without ``rich``.

Keras renders its summary with ``rich``; Lamina draws the same table itself so the text is
identical character for character (box drawing, column widths, word wrapping, ``…`` truncation,
thousands separators, byte sizes, and ANSI colours when printing to a terminal) without the
dependency. The small text engine below follows rich's algorithms (``Table`` column sizing,
``Text.wrap``, ``Padding``, line cropping to the console width).

Beyond Keras, ``show_flops=True`` adds a multiply-accumulate column and ``show_memory=True`` an
activation-memory column; both are off by default so the default output stays Keras's.

Example:
    >>> import lamina
    >>> from lamina import layers
    >>> model = lamina.Sequential([lamina.Input(shape=(4,)), layers.Dense(2, name="dense")], name="tiny")
    >>> lines = []
    >>> model.summary(print_fn=lines.append, line_length=60)
    >>> print(lines[0], end="")
    Model: "tiny"
    ┏━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━┓
    ┃ Layer (type)             ┃ Output Shape      ┃   Param # ┃
    ┡━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━┩
    │ dense (Dense)            │ (None, 2)         │        10 │
    └──────────────────────────┴───────────────────┴───────────┘
     Total params: 10 (40.00 B)
     Trainable params: 10 (40.00 B)
     Non-trainable params: 0 (0.00 B)
"""

from __future__ import annotations

import math
import re
import shutil
from collections.abc import Callable, Iterable
from typing import Any

from lamina import tree
from lamina.backend.config import is_interactive_logging_enabled
from lamina.backend.io_utils import print_msg
from lamina.models.flops import _activation_bytes, _build_arg, _dtype_bits, _mro_names, layer_macs
from lamina.models.sequential import Sequential
from lamina.models.text_table import (
    _COLOR_NONE,
    _COLOR_NUMBER,
    _COLOR_SYMBOL,
    BOLD,
    _Console,
    _render_table,
    _Style,
    _Text,
)
from lamina.ops.operation import is_shape

# ---------------------------------------------------------------------------------------------------------------
# Sizes and counts
# ---------------------------------------------------------------------------------------------------------------


def count_params(weights: Iterable[Any]) -> int:
    """Number of scalars in ``weights``."""
    return int(sum(math.prod(v.shape) for v in weights))


def weight_memory_size(weights: Iterable[Any]) -> float:
    """Bytes taken by ``weights`` (each counted once), from each variable's dtype as Keras does."""
    unique = {id(w): w for w in weights}.values()
    return sum(math.prod(w.shape) * _dtype_bits(w.dtype) for w in unique) / 8


def readable_memory_size(weight_memory_size: float) -> str:
    """Formats a byte count as Keras does: ``132.00 B``, ``191.41 KB``, ``1.50 MB``.

    Example:
        >>> from lamina.models.summary import readable_memory_size
        >>> readable_memory_size(132), readable_memory_size(196008)
        ('132.00 B', '191.41 KB')
    """
    units = ["B", "KB", "MB", "GB", "TB", "PB"]
    for unit in units:
        if weight_memory_size / 1024 < 1:
            return f"{weight_memory_size:.2f} {unit}"
        weight_memory_size /= 1024
    return f"{weight_memory_size:.2f} {units[-1]}"


# ---------------------------------------------------------------------------------------------------------------
# Text engine: a port of the parts of rich that Keras's summary uses.
# A style is None (plain) or a (bold, colour-number) pair. Each character of a text carries the run
# it came from, because rich emits one styled segment per span (adjacent runs are not merged).
# ---------------------------------------------------------------------------------------------------------------


# ---------------------------------------------------------------------------------------------------------------
# Console: where the text goes, its width, and whether it gets ANSI styles (rich's detection rules).
# ---------------------------------------------------------------------------------------------------------------


# ---------------------------------------------------------------------------------------------------------------
# Model inspection
# ---------------------------------------------------------------------------------------------------------------


def _is_functional(model: Any) -> bool:
    return "Functional" in _mro_names(model) and "Sequential" not in _mro_names(model)


def _graph(model: Any) -> tuple[dict[int, list[Any]], list[Any]]:
    """A functional model's nodes by depth and operations in Keras's order (kept by the model)."""
    return dict(model._nodes_by_depth), list(model._operations)


def _shape_text(shape: Any) -> _Text:
    parts: list[Any] = ["("]
    for i, d in enumerate(shape):
        if i:
            parts.append(", ")
        parts.append((str(d), _COLOR_NONE if d is None else _COLOR_NUMBER))
    parts.append(")")
    return _Text.of(*parts)


def _structure_text(structure: Any) -> _Text:
    """Keras prints ``str()`` of the structure of formatted shapes with the quotes removed."""

    def text(s: Any) -> _Text:
        if isinstance(s, dict):
            out = _Text.of("{")
            for i, (k, v) in enumerate(s.items()):
                out = out + _Text.of((", " if i else "") + str(k).replace("'", "") + ": ") + v
            return out + _Text.of("}")
        if not isinstance(s, (list, tuple)):
            return s
        opening, closing = ("[", "]") if isinstance(s, list) else ("(", ")")
        out = _Text.of(opening)
        for i, v in enumerate(s):
            out = out + _Text.of(", " if i else "") + v
        if isinstance(s, tuple) and len(s) == 1:
            out = out + _Text.of(",")
        return out + _Text.of(closing)

    return tree.traverse(text, structure, top_down=False)


def _format_layer_shape(layer: Any) -> _Text:
    nodes = getattr(layer, "_inbound_nodes", None) or []
    if not nodes and getattr(layer, "_build_shapes", None) is None:
        return _Text.of("?")
    if nodes:
        outputs = nodes[-1].outputs
        formatted: Any = [_shape_text(t.shape) for t in outputs]
        if len(formatted) == 1:
            return formatted[0]
        return _structure_text(formatted)
    try:
        try:
            shapes = layer.output_shape
        except AttributeError:
            shapes = layer.compute_output_shape(_build_arg(layer._build_shapes))
    except NotImplementedError:
        return _Text.of("?")
    formatted = tree.map_shape_structure(lambda sh: _shape_text(tuple(sh)) if is_shape(sh) else sh, shapes)
    flat = tree.flatten(formatted)
    if len(flat) == 1:
        return flat[0]
    return _structure_text(formatted)


def get_layer_index_bound_by_layer_name(layers: list[Any], layer_range: Any = None) -> list[int]:
    """``[first, last + 1]`` indices of the layers matched by ``layer_range`` (two names or regexes)."""
    if layer_range is None:
        return [0, len(layers)]
    if len(layer_range) != 2:
        raise ValueError(
            "layer_range must be a list or tuple of length 2. Received: "
            f"layer_range = {layer_range} of length {len(layer_range)}"
        )
    if not isinstance(layer_range[0], str) or not isinstance(layer_range[1], str):
        raise ValueError(f"layer_range should contain string type only. Received: {layer_range}")
    lower = [i for i, layer in enumerate(layers) if re.match(layer_range[0], layer.name)]
    upper = [i for i, layer in enumerate(layers) if re.match(layer_range[1], layer.name)]
    if not lower or not upper:
        raise ValueError(f"Passed layer_names do not match the layer names in the model. Received: {layer_range}")
    if min(lower) > max(upper):
        return [min(upper), max(lower) + 1]
    return [min(lower), max(upper) + 1]


# ---------------------------------------------------------------------------------------------------------------
# Multiply-accumulate and activation-memory estimates
# ---------------------------------------------------------------------------------------------------------------


# ---------------------------------------------------------------------------------------------------------------
# The summary
# ---------------------------------------------------------------------------------------------------------------


def _readable_count(count: float) -> str:
    """``320``, ``36.31M``: a count with a 1000-based suffix (K, M, G, T) above 999."""
    if count < 1000:
        return str(int(count))
    for unit in ("K", "M", "G", "T", "P"):
        count /= 1000
        if count < 1000 or unit == "P":
            return f"{count:.2f}{unit}"
    return str(count)


def _number(text: str) -> tuple[str, _Style]:
    return (text, _COLOR_NUMBER)


def print_summary(
    model: Any,
    line_length: int | None = None,
    positions: list[float] | None = None,
    print_fn: Callable[..., Any] | None = None,
    expand_nested: bool = False,
    show_trainable: bool = False,
    layer_range: Any = None,
    show_flops: bool = False,
    show_memory: bool = False,
) -> None:
    """Prints the summary of ``model`` exactly as Keras 3 does.

    Args:
        model: a ``Model`` (Sequential, functional or subclassed).
        line_length: total width of the table (default 88, or 108 with a "Connected to" column,
            capped to the terminal width minus 4 as in Keras).
        positions: relative (<= 1) or absolute column end positions.
        print_fn: called once with the whole summary text; default: print to stdout (with ANSI
            styles when stdout is a terminal, like Keras's rich console).
        expand_nested: also list the layers of nested models, indented with ``└``.
        show_trainable: add a "Trainable" column (Y / N / -).
        layer_range: two layer names (or regexes): print only the layers from the first to the last.
        show_flops: Lamina extra: add a "MACs" column (multiply-accumulates per call, see
            :func:`estimate_flops`) and a total line.
        show_memory: Lamina extra: add an "Act. memory" column, the bytes of each layer's output
            activations for the shapes shown (an unknown batch size counts as 1), and a total line.

    Raises:
        ValueError: for a ``line_length`` too small for the columns, or a bad ``layer_range``.
    """
    layers, sequential_like, relevant_nodes = _layout(model)
    header, alignment, column_widths, line_length = _columns(
        sequential_like, show_trainable, show_flops, show_memory, line_length, positions
    )
    row_of = _RowMaker(sequential_like, relevant_nodes, show_trainable, show_flops, show_memory)
    bounds = get_layer_index_bound_by_layer_name(layers, layer_range)
    rows = [row for layer in layers[bounds[0] : bounds[1]] for row in row_of.rows(layer, expand_nested)]

    console = _Console(capture=print_fn is not None)
    headers = [_Text.of(h) for h in header]
    lines = console.text_lines(_Text.of((f'Model: "{model.name}"', BOLD)))
    lines += _render_table(headers, alignment, column_widths, rows, line_length, console.ascii_only)
    for label, count, size in _totals(model, layers, show_flops, show_memory):
        parts: list[Any] = [(f" {label}: ", BOLD), _number(count)]
        if size is not None:
            parts.append(f" ({size})")
        lines.extend(console.text_lines(_Text.of(*parts)))
    text = console.render(lines)
    if print_fn is not None:
        print_fn(text)
    elif not is_interactive_logging_enabled():  # to the `logging` module, as Keras sends it to absl
        print_msg(text)
    else:
        console.file.write(text)
        console.file.flush()


def _layout(model: Any) -> tuple[list[Any], bool, list[Any]]:
    """The layers to list, whether the model is drawn as a plain stack (no "Connected to" column, Keras's
    rule), and the nodes whose connections count."""
    if isinstance(model, Sequential) or not _is_functional(model):
        return list(model.layers), True, []
    nodes_by_depth, operations = _graph(model)
    sequential_like = True
    nodes: list[Any] = []
    for depth_nodes in nodes_by_depth.values():
        if len(depth_nodes) > 1 or (len(depth_nodes) == 1 and len(depth_nodes[0].input_tensors) > 1):
            sequential_like = False
            break
        nodes += depth_nodes
    if sequential_like:
        node_ids = {id(n) for n in nodes}
        for layer in model.layers:
            if sum(1 for node in layer._inbound_nodes if id(node) in node_ids) > 1:
                sequential_like = False
                break
    return operations, sequential_like, [n for v in nodes_by_depth.values() for n in v]


def _columns(
    sequential_like: bool,
    show_trainable: bool,
    show_flops: bool,
    show_memory: bool,
    line_length: int | None,
    positions: list[float] | None,
) -> tuple[list[str], list[str], list[int], int]:
    """Header, alignment and widths of the columns, and the table width, as Keras computes them."""
    if sequential_like:
        default_line_length = 88
        positions = positions or [0.45, 0.80, 1.0]
        header = ["Layer (type)", "Output Shape", "Param #"]
        alignment = ["left", "left", "right"]
    else:
        default_line_length = 108
        positions = positions or [0.3, 0.56, 0.74, 1.0]
        header = ["Layer (type)", "Output Shape", "Param #", "Connected to"]
        alignment = ["left", "left", "right", "left"]
    if show_trainable:
        default_line_length += 12
        positions = [p * 0.90 for p in positions] + [1.0]
        header.append("Trainable")
        alignment.append("center")
    extras = [(name, width) for name, width, on in (("MACs", 10, show_flops), ("Act. size", 13, show_memory)) if on]
    extra_width = sum(width for _, width in extras)
    default_line_length += extra_width
    default_line_length = min(default_line_length, shutil.get_terminal_size().columns - 4)
    line_length = line_length or default_line_length
    if extras and len(positions) < len(header) + len(extras):
        # Lamina's extra columns get fixed widths at the right; Keras's columns share the rest.
        scale = (line_length - extra_width) / line_length
        positions = [p * scale for p in positions]
        end = positions[-1] if positions else 0.0
        for _, width in extras:
            end += width / line_length
            positions.append(end)
    header += [name for name, _ in extras]
    alignment += ["right"] * len(extras)
    column_widths = []
    current = 0
    for pos in positions:
        width = int(pos * line_length) - current
        if width < 4:
            raise ValueError("Insufficient console width to print summary.")
        column_widths.append(width)
        current += width
    return header, alignment, column_widths, line_length


class _RowMaker:
    """The cells of each layer's row (and of its nested layers' rows with ``expand_nested``)."""

    def __init__(
        self,
        sequential_like: bool,
        relevant_nodes: list[Any],
        show_trainable: bool,
        show_flops: bool,
        show_memory: bool,
    ) -> None:
        self.sequential_like = sequential_like
        self.relevant = {id(n) for n in relevant_nodes}
        self.show_trainable = show_trainable
        self.show_flops = show_flops
        self.show_memory = show_memory

    def connections(self, layer: Any) -> _Text:
        parts: list[Any] = []
        for node in layer._inbound_nodes:
            if self.relevant and id(node) not in self.relevant:
                continue
            for t in node.input_tensors:
                inbound, node_index, tensor_index = t._keras_history
                if parts:
                    parts.append(", ")
                parts += [f"{inbound.name}[", _number(str(node_index)), "][", _number(str(tensor_index)), "]"]
        return _Text.of(*parts) if parts else _Text.of("-")

    def fields(self, layer: Any, prefix: str) -> list[_Text]:
        name = _Text.of(f"{prefix}{layer.name} (", (type(layer).__name__, _COLOR_SYMBOL), ")")
        if not hasattr(layer, "built"):
            params = _Text.of(_number("0"))
        elif not layer.built:
            params = _Text.of(_number("0"), " (unbuilt)")
        else:
            params = _Text.of(_number(f"{layer.count_params():,}"))
        row = [name, _format_layer_shape(layer), params]
        if not self.sequential_like:
            row.append(self.connections(layer))
        if self.show_trainable:
            if hasattr(layer, "weights") and len(layer.weights) > 0:
                row.append(_Text.of(("Y", (True, 34)) if layer.trainable else ("N", (True, 9))))
            else:
                row.append(_Text.of(("-", BOLD)))
        if self.show_flops:
            macs = layer_macs(layer) if type(layer).__name__ != "InputLayer" else 0
            row.append(_Text.of("?" if macs is None else _number(_readable_count(macs))))
        if self.show_memory:
            size = _activation_bytes(layer)
            row.append(_Text.of("?" if size is None else readable_memory_size(size)))
        return row

    def rows(self, layer: Any, expand_nested: bool, level: int = 0) -> list[list[_Text]]:
        prefix = "   " * level + "└ " if level else ""
        out = [self.fields(layer, prefix)]
        nested = getattr(layer, "layers", None) if expand_nested else None
        for sub in nested or []:
            out.extend(self.rows(sub, expand_nested, level + 1))
        return out


def _totals(model: Any, layers: list[Any], show_flops: bool, show_memory: bool) -> list[tuple[str, str, str | None]]:
    """The lines under the table: ``(label, count, size)``."""
    trainable, non_trainable = model.trainable_weights, model.non_trainable_weights
    trainable_count, trainable_size = count_params(trainable), weight_memory_size(trainable)
    non_trainable_count, non_trainable_size = count_params(non_trainable), weight_memory_size(non_trainable)
    optimizer = getattr(model, "optimizer", None)
    optimizer_built = bool(
        getattr(model, "compiled", False) and optimizer is not None and getattr(optimizer, "built", False)
    )
    optimizer_vars = list(optimizer.variables) if optimizer_built else []
    optimizer_count, optimizer_size = count_params(optimizer_vars), weight_memory_size(optimizer_vars)
    total_count = trainable_count + non_trainable_count + optimizer_count
    total_size = trainable_size + non_trainable_size + optimizer_size
    out: list[tuple[str, str, str | None]] = [
        ("Total params", f"{total_count:,}", readable_memory_size(total_size)),
        ("Trainable params", f"{trainable_count:,}", readable_memory_size(trainable_size)),
        ("Non-trainable params", f"{non_trainable_count:,}", readable_memory_size(non_trainable_size)),
    ]
    if optimizer_built:
        out.append(("Optimizer params", f"{optimizer_count:,}", readable_memory_size(optimizer_size)))
    if show_flops:
        macs = [layer_macs(layer) for layer in layers if type(layer).__name__ != "InputLayer"]
        known = [m for m in macs if m is not None]
        note = _readable_count(sum(known)) if len(known) == len(macs) else "some layers unknown"
        out.append(("Total MACs", f"{sum(known):,}", note))
    if show_memory:
        sizes = [_activation_bytes(layer) for layer in layers]
        out.append(("Activation memory", readable_memory_size(sum(x for x in sizes if x is not None)), None))
    return out
