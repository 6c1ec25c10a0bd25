"""Model graphs: ``plot_model`` and ``model_to_dot`` with Keras's parameters and drawing (training curves are
``History.plot``).

The graph is Graphviz DOT text with the node labels Keras draws (an HTML table per layer: name and class,
activation, input/output shapes, dtype, trainable); no pydot is needed. Drawing it to ``.png``/``.svg``/``.pdf``
needs Graphviz's ``dot`` program; ``.dot`` files are written without it.
"""

from __future__ import annotations

import html
import os
import shutil
import subprocess
from typing import Any

from lamina import tree
from lamina.backend.atomic import atomic_write
from lamina.models.functional import Functional
from lamina.models.sequential import Sequential

_RANKDIRS = ("TB", "LR", "BT", "RL")


class DotGraph(str):
    """A model graph in Graphviz DOT text; also offers the parts of ``pydot.Dot`` that Keras code uses.

    Example:
        >>> import lamina
        >>> model = lamina.Sequential([lamina.Input((2,)), lamina.layers.Dense(1, name="out")])
        >>> dot = lamina.utils.model_to_dot(model)
        >>> dot.to_string().startswith("digraph G {"), "<b>out</b> (Dense)" in dot
        (True, True)
    """

    def to_string(self) -> str:
        return str(self)

    def create(self, prog: str = "dot", format: str = "png") -> bytes:  # noqa: A002 - pydot's name
        """The graph drawn by Graphviz's ``prog`` in ``format`` (``"png"``, ``"svg"``, ``"pdf"``...)."""
        exe = shutil.which(prog)
        if exe is None:
            raise ImportError(
                f"Drawing the model graph needs Graphviz's `{prog}` program, and it is not installed. Install "
                "Graphviz (e.g. `apt-get install graphviz` or `brew install graphviz`), or keep the DOT text."
            )
        result = subprocess.run([exe, f"-T{format}"], input=str(self).encode(), capture_output=True, timeout=60)
        if result.returncode != 0:
            raise ValueError(f"Graphviz could not draw the graph: {result.stderr.decode().strip()}")
        return result.stdout

    def write(self, path: str, prog: str = "dot", format: str = "raw") -> bool:  # noqa: A002 - pydot's name
        """Writes the DOT text (``format="raw"``/``"dot"``) or the drawing in ``format`` to ``path``."""
        data = str(self).encode() if format in ("raw", "dot") else self.create(prog=prog, format=format)
        with atomic_write(path) as tmp, open(tmp, "wb") as f:
            f.write(data)
        return True


def _activation_name(layer: Any) -> str:
    activation = layer.activation
    for attr in ("name", "__name__"):
        name = getattr(activation, attr, None)
        if isinstance(name, str):
            return name
    return str(activation)


def _format_shape(shape: Any) -> str:
    if shape is None:
        return "?"
    text = ", ".join(f"{k}: {v}" for k, v in shape.items()) if isinstance(shape, dict) else f"{shape}"
    return text.replace("}", "").replace("{", "")


def _io(layer: Any, attr: str, what: str) -> Any:
    try:
        return tree.map_structure(lambda x: getattr(x, what), getattr(layer, attr))
    except (ValueError, AttributeError, IndexError):
        return None


def _cell(text: str, bgcolor: str = "white", colspan: int | None = None, color: str | None = None) -> str:
    span = f' colspan="{colspan}"' if colspan else ""
    font = f' color="{color}"' if color else ""
    return f'<td bgcolor="{bgcolor}"{span}><font point-size="14"{font}>{text}</font></td>'


def _label(layer: Any, options: dict[str, bool]) -> str:
    """Keras's node label: an HTML table with the name and class, then the requested details."""
    class_name = type(layer).__name__
    colspan = max(1, int(options["show_dtype"]) + int(options["show_trainable"]) + 2 * int(options["show_shapes"]))
    title = (
        f"<b>{html.escape(layer.name)}</b> ({class_name})" if options["show_layer_names"] else f"<b>{class_name}</b>"
    )
    rows = [f'<tr><td colspan="{colspan}" bgcolor="black"><font point-size="16" color="white">{title}</font></td></tr>']
    if options["show_layer_activations"] and getattr(layer, "activation", None) is not None:
        name = html.escape(_activation_name(layer))
        rows.append(f"<tr>{_cell(f'Activation: <b>{name}</b>', colspan=colspan)}</tr>")
    cols = []
    if options["show_shapes"]:
        if class_name != "InputLayer":
            cols.append(_cell(f"Input shape: <b>{_format_shape(_io(layer, 'input', 'shape'))}</b>"))
        cols.append(_cell(f"Output shape: <b>{_format_shape(_io(layer, 'output', 'shape'))}</b>"))
    if options["show_dtype"]:
        cols.append(_cell(f"Output dtype: <b>{_io(layer, 'output', 'dtype') or '?'}</b>"))
    if options["show_trainable"] and getattr(layer, "weights", None):
        trainable = layer.trainable
        text = "<b>Trainable</b>" if trainable else "<b>Non-trainable</b>"
        cols.append(_cell(text, bgcolor="forestgreen" if trainable else "firebrick", color="white"))
    if cols:
        rows.append(f"<tr>{''.join(cols)}</tr>")
    return '<<table border="0" cellborder="1" bgcolor="black" cellpadding="10">' + "".join(rows) + "</table>>"


class _Builder:
    """Collects the DOT statements of a graph and its nested clusters."""

    def __init__(self, options: dict[str, bool]) -> None:
        self.options = options
        self.edges: list[tuple[int, int]] = []

    def node(self, layer: Any) -> str:
        return f'  {id(layer)} [label={_label(layer, self.options)}, fontname="Helvetica", border="0", margin="0"];'

    def edge(self, src: Any, dst: Any) -> None:
        key = (id(src), id(dst))
        if key not in self.edges:
            self.edges.append(key)


def _graph_layers(model: Any) -> list[Any]:
    if isinstance(model, Sequential):
        return list(model.layers)
    return list(model.operations)


def _resolve_source(source: Any, output_index: int) -> Any:
    while isinstance(source, (Functional, Sequential)):  # the layer inside a nested model giving the output
        source, _, output_index = source.outputs[output_index]._keras_history
    return source


def _resolve_destination(destination: Any, input_index: int) -> Any:
    while isinstance(destination, (Functional, Sequential)):
        if isinstance(destination, Functional):
            destination = destination.inputs[input_index]._keras_history[0]
        else:
            destination = destination.layers[0]
    return destination


def _body(model: Any, builder: _Builder, expand_nested: bool) -> list[str]:
    """The nodes (and nested clusters) of ``model``; its edges go to ``builder``."""
    lines: list[str] = []
    layers = _graph_layers(model)
    for layer in layers:
        if expand_nested and isinstance(layer, (Functional, Sequential)):
            lines.append(f'  subgraph "cluster_{layer.name}" {{')
            lines.append(f'  style="dashed"; label="{html.escape(layer.name)}"; labeljust="l";')
            lines.extend(_body(layer, builder, expand_nested))
            lines.append("  }")
        else:
            lines.append(builder.node(layer))
    if isinstance(model, Sequential):
        if not expand_nested:
            for a, b in zip(layers, layers[1:]):
                builder.edge(a, b)
            return lines
        layers = layers[1:]  # the first layer's incoming edge is drawn by the enclosing model
    model_nodes = {id(n) for n in getattr(model, "_nodes", [])}
    for layer in layers:
        for node in layer._inbound_nodes:
            if isinstance(model, Functional) and id(node) not in model_nodes:
                continue
            for input_index, tensor in enumerate(node.input_tensors):
                history = tensor._keras_history
                if history is None:
                    continue
                source, _, output_index = history
                if not expand_nested:
                    builder.edge(source, layer)
                    continue
                builder.edge(_resolve_source(source, output_index), _resolve_destination(layer, input_index))
    return lines


def _check_kwargs(kwargs: dict[str, Any]) -> None:
    if kwargs.pop("layer_range", None) is not None:
        raise ValueError("Argument `layer_range` is no longer supported.")
    if kwargs:
        raise ValueError(f"Unrecognized keyword arguments: {kwargs}")


def _check_built(model: Any) -> None:
    if not getattr(model, "built", False):
        raise ValueError(
            "This model has not yet been built. Build the model first by calling `build()` or by calling the model "
            "on a batch of data."
        )


def model_to_dot(
    model: Any,
    show_shapes: bool = False,
    show_dtype: bool = False,
    show_layer_names: bool = True,
    rankdir: str = "TB",
    expand_nested: bool = False,
    dpi: int = 200,
    subgraph: bool = False,
    show_layer_activations: bool = False,
    show_trainable: bool = False,
    splines: str = "ortho",
    **kwargs: Any,
) -> DotGraph:
    """The model's graph in Graphviz DOT text, drawn as Keras draws it.

    Args:
        model: a built model (a subclassed model is one node).
        show_shapes: show each layer's input and output shapes.
        show_dtype: show each layer's output dtype.
        show_layer_names: show layer names next to their class.
        rankdir: ``"TB"`` (top to bottom) or ``"LR"`` (left to right), or their reverses.
        expand_nested: draw nested models' layers inside a dashed cluster.
        dpi: image resolution in dots per inch.
        subgraph: return the graph as a cluster to embed in another graph.
        show_layer_activations: show the activation of layers that have one.
        show_trainable: show whether layers with weights are trainable.
        splines: how edges are drawn (Graphviz's ``splines``).

    Returns:
        a :class:`DotGraph`: the DOT text (a ``str``) with ``to_string()``, ``create()`` and ``write()``.

    Raises:
        ValueError: for an unbuilt model, an unknown ``rankdir`` or an unknown keyword argument.
    """
    _check_built(model)
    _check_kwargs(kwargs)
    if rankdir not in _RANKDIRS:
        raise ValueError(f"`rankdir` must be one of {_RANKDIRS}. Received: rankdir={rankdir!r}")
    options = {
        "show_layer_names": show_layer_names,
        "show_layer_activations": show_layer_activations,
        "show_dtype": show_dtype,
        "show_shapes": show_shapes,
        "show_trainable": show_trainable,
    }
    builder = _Builder(options)
    if isinstance(model, (Functional, Sequential)):
        body = _body(model, builder, expand_nested)
    else:  # subclassed models are one node, as in Keras
        body = [builder.node(model)]
    if subgraph:
        head = [f'subgraph "cluster_{model.name}" {{', f'  style="dashed"; label="{html.escape(model.name)}";']
    else:
        head = [
            "digraph G {",
            f'  rankdir="{rankdir}"; concentrate=true; dpi={int(dpi)}; splines="{splines}";',
            "  node [shape=record];",
        ]
    edges = [f'  {a} -> {b} [penwidth="2"];' for a, b in builder.edges]
    return DotGraph("\n".join(head + body + edges + ["}"]) + "\n")


def plot_model(
    model: Any,
    to_file: str = "model.png",
    show_shapes: bool = False,
    show_dtype: bool = False,
    show_layer_names: bool = False,
    rankdir: str = "TB",
    expand_nested: bool = False,
    dpi: int = 200,
    show_layer_activations: bool = False,
    show_trainable: bool = False,
    splines: str = "ortho",
    **kwargs: Any,
) -> Any:
    """Draws the model graph to ``to_file`` (``.png``, ``.svg``, ``.pdf``... with Graphviz; ``.dot`` always).

    Arguments as :func:`model_to_dot`; ``show_layer_names`` is off by default, as in Keras.

    Returns:
        an ``IPython.display.Image`` of the file when IPython is installed (not for ``.pdf``/``.dot``), as in
        Keras; otherwise the path written.

    Raises:
        ImportError: when Graphviz's ``dot`` program is needed and not installed (the message says how).
        ValueError: for an unbuilt model or an unknown keyword argument.
    """
    _check_built(model)
    _check_kwargs(kwargs)
    dot = model_to_dot(
        model,
        show_shapes=show_shapes,
        show_dtype=show_dtype,
        show_layer_names=show_layer_names,
        rankdir=rankdir,
        expand_nested=expand_nested,
        dpi=dpi,
        show_layer_activations=show_layer_activations,
        show_trainable=show_trainable,
        splines=splines,
    )
    to_file = os.fspath(to_file)
    ext = os.path.splitext(to_file)[1].lstrip(".").lower() or "png"
    dot.write(to_file, format="raw" if ext == "dot" else ext)
    if ext not in ("pdf", "dot"):
        try:
            from IPython import display
        except ImportError:
            return to_file
        return display.Image(filename=to_file)
    return to_file
