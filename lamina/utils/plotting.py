"""Plots: training curves (``plot_history``) and model graphs (``plot_model``)."""

from __future__ import annotations

import html
import os
import shutil
import subprocess
from typing import Any


def plot_history(history: Any, path: str = "history.png", metrics: list[str] | None = None) -> str:
    """Draws loss and metric curves per epoch (training and ``val_``) to a PNG; returns ``path``.

    Needs matplotlib (``pip install "lamina[plot]"``).

    Args:
        history: a ``History`` (what ``fit`` returns) or its ``.history`` dict.
        path: output file (PNG, or any format matplotlib writes from the extension).
        metrics: which metrics to draw (default: all that have values, without ``val_`` prefixes).
    """
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as e:
        raise ImportError(
            'plot_history needs matplotlib: `pip install "lamina[plot]"` (or `pip install matplotlib`).'
        ) from e
    data = getattr(history, "history", history)
    if not data:
        raise ValueError("The history is empty: train with `fit` first.")
    names = metrics or [k for k in data if not k.startswith("val_") and k != "learning_rate"]
    unknown = [m for m in names if m not in data]
    if unknown:
        raise ValueError(f"No such metric in the history: {unknown}. Available: {sorted(data)}")
    fig, axes = plt.subplots(1, len(names), figsize=(4.5 * len(names), 3.5), squeeze=False)
    for ax, name in zip(axes[0], names):
        epochs = range(1, len(data[name]) + 1)
        ax.plot(epochs, data[name], marker="o", label=name)
        if f"val_{name}" in data:
            ax.plot(range(1, len(data[f"val_{name}"]) + 1), data[f"val_{name}"], marker="o", label=f"val_{name}")
        ax.set_xlabel("epoch")
        ax.set_title(name)
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


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
