"""Model graphs: ``plot_model`` and ``model_to_dot`` (training curves are ``History.plot``)."""

from __future__ import annotations

import html
import os
import shutil
import subprocess
from typing import Any


def model_to_dot(
    model: Any,
    show_shapes: bool = False,
    show_dtype: bool = False,
    show_layer_names: bool = True,
    rankdir: str = "TB",
    show_trainable: bool = False,
    **kwargs: Any,
) -> str:
    """The model's graph in Graphviz DOT text (one node per layer, edges from the layer calls)."""
    layers = list(getattr(model, "operations", None) or getattr(model, "layers", []))  # functional: ops too
    seq = getattr(model, "_seq", None)
    if seq is not None:
        layers = list(seq)
    ids = {id(layer): f"n{i}" for i, layer in enumerate(layers)}
    lines = ["digraph G {", f'  rankdir="{rankdir}";', '  node [shape=record, fontname="Helvetica"];']
    for layer in layers:
        label = f"{layer.name} ({type(layer).__name__})" if show_layer_names else type(layer).__name__
        parts = [html.escape(label)]
        if show_shapes:
            try:
                shape = layer.output.shape
            except (AttributeError, IndexError):
                shape = "?"
            parts.append(f"output: {shape}")
        if show_dtype:
            parts.append(f"dtype: {getattr(layer, 'dtype', '?')}")
        if show_trainable:
            parts.append("trainable" if layer.trainable else "frozen")
        text = "|".join(p.replace("{", "\\{").replace("}", "\\}").replace("|", "\\|") for p in parts)
        lines.append(f'  {ids[id(layer)]} [label="{{{text}}}"];')
    edges = []
    if seq is not None:
        edges = list(zip(layers, layers[1:]))
    else:
        for layer in layers:
            for node in getattr(layer, "_inbound_nodes", []):
                for t in node.input_tensors:
                    src = t._keras_history[0]
                    if id(src) in ids:
                        edges.append((src, layer))
    for a, b in edges:
        lines.append(f"  {ids[id(a)]} -> {ids[id(b)]};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def plot_model(
    model: Any,
    to_file: str = "model.png",
    show_shapes: bool = False,
    show_dtype: bool = False,
    show_layer_names: bool = True,
    rankdir: str = "TB",
    expand_nested: bool = False,
    dpi: int = 200,
    show_layer_activations: bool = False,
    show_trainable: bool = False,
    **kwargs: Any,
) -> str:
    """Writes the model graph to ``to_file`` (``.png``, ``.svg``, ``.pdf`` with Graphviz; ``.dot`` always).

    Raises:
        ImportError: when Graphviz's ``dot`` program is needed and not installed (the message says how).
    """
    dot = model_to_dot(
        model,
        show_shapes=show_shapes,
        show_dtype=show_dtype,
        show_layer_names=show_layer_names,
        rankdir=rankdir,
        show_trainable=show_trainable,
    )
    ext = os.path.splitext(to_file)[1].lstrip(".").lower() or "png"
    if ext == "dot":
        with open(to_file, "w") as f:
            f.write(dot)
        return to_file
    exe = shutil.which("dot")
    if exe is None:
        raise ImportError(
            "plot_model needs Graphviz's `dot` program to draw a .png/.svg/.pdf, and it is not installed. Install "
            "Graphviz (e.g. `apt-get install graphviz` or `brew install graphviz`), or save the graph as text with "
            "to_file='model.dot'."
        )
    result = subprocess.run(
        [exe, f"-T{ext}", f"-Gdpi={dpi}", "-o", to_file], input=dot, text=True, capture_output=True, timeout=60
    )
    if result.returncode != 0:
        raise ValueError(f"Graphviz could not draw the graph: {result.stderr.strip()}")
    return to_file
