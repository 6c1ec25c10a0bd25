"""``Function``: a graph of operations between symbolic inputs and outputs, callable on real tensors.

``keras.Function`` is what a functional ``Model`` is without weights tracking or training: the operations
recorded from ``inputs`` to ``outputs`` (layer calls, Python operators, ``lamina.ops`` calls), replayed in
dependency order. ``map_graph`` orders a graph's nodes and operations as Keras does; the functional
``Model`` uses it too.

Example:
    >>> import torch, lamina as keras
    >>> a = keras.KerasTensor((None, 3))
    >>> b = keras.KerasTensor((None, 3))
    >>> fn = keras.Function(inputs=[a, b], outputs=keras.ops.sigmoid(a + b))
    >>> fn([torch.zeros(2, 3), torch.zeros(2, 3)]).tolist()
    [[0.5, 0.5, 0.5], [0.5, 0.5, 0.5]]
"""

from __future__ import annotations

import collections
from typing import Any

from lamina import tree
from lamina.ops.operation import KerasTensor, Node, Operation


def _history(t: KerasTensor) -> tuple[Any, int, int]:
    if not isinstance(t, KerasTensor) or t._keras_history is None:
        raise ValueError(
            "All inputs and outputs of a functional Model must be symbolic tensors made by `keras.Input` and "
            f"layer calls. Received: {t!r}"
        )
    return t._keras_history


def map_graph(
    inputs: list[KerasTensor], outputs: list[KerasTensor]
) -> tuple[list[Node], list[Operation], dict[int, list[Node]]]:
    """Nodes in execution order, layers in Keras's order (deepest first, then first traversal), and the nodes
    by depth (what the summary reads to draw connections).

    Raises:
        ValueError: for a cycle, an output not reachable from ``inputs`` (graph disconnected), or
            two layers with the same name.
    """
    input_ids = {id(t) for t in inputs}
    finished: set[int] = set()
    in_progress: set[int] = set()
    order: list[Node] = []
    op_index: dict[int, int] = {}

    def visit(tensor: KerasTensor, output: KerasTensor) -> None:
        if id(tensor) in input_ids and getattr(tensor, "_keras_history", None) is None:
            return  # a bare KerasTensor given as an input (keras.Function's own inputs): a leaf
        layer, node_index, _ = _history(tensor)
        node = layer._inbound_nodes[node_index]
        if id(node) in finished:
            return
        if node.is_input and id(tensor) not in input_ids:
            out_layer = output._keras_history[0]
            raise ValueError(
                f"Graph disconnected: output {output.name} (shape {output.shape}) of layer '{out_layer.name}' "
                f"needs the input '{layer.name}' (shape {tensor.shape}), which is not among the model's inputs "
                f"{[i._keras_history[0].name for i in inputs]}. Pass it in `inputs`."
            )
        if not node.is_input and id(tensor) in input_ids:
            finished.add(id(node))
            return
        if id(node) in in_progress:
            raise ValueError(f"Tensor {tensor} from layer '{layer.name}' is part of a cycle.")
        op_index.setdefault(id(layer), len(op_index))
        in_progress.add(id(node))
        if not node.is_input:
            for t in node.input_tensors:
                visit(t, output)
        finished.add(id(node))
        in_progress.discard(id(node))
        order.append(node)

    for out in outputs:
        visit(out, out)

    # depths, as keras.src.ops.function.map_graph computes them
    in_graph = {id(n) for n in order}
    node_depth: dict[int, int] = {}
    layer_depth: dict[int, int] = {}
    layers_by_id: dict[int, Operation] = {}
    for node in reversed(order):
        depth = node_depth.setdefault(id(node), 0)
        depth = max(depth, layer_depth.get(id(node.operation), 0))
        layer_depth[id(node.operation)] = depth
        layers_by_id[id(node.operation)] = node.operation
        node_depth[id(node)] = depth
        for parent in node.parent_nodes:
            if id(parent) in in_graph:
                node_depth[id(parent)] = max(depth + 1, node_depth.get(id(parent), 0))
    for t in inputs:
        if getattr(t, "_keras_history", None) is None:
            continue
        layer, node_index, _ = _history(t)
        if id(layer) not in layer_depth and layer._inbound_nodes[node_index].is_input:
            layer_depth[id(layer)] = 0
            op_index[id(layer)] = -1
            layers_by_id[id(layer)] = layer

    by_depth: dict[int, list[Operation]] = collections.defaultdict(list)
    for lid, depth in layer_depth.items():
        by_depth[depth].append(layers_by_id[lid])
    layers: list[Operation] = []
    for depth in sorted(by_depth, reverse=True):
        layers.extend(sorted(by_depth[depth], key=lambda la: op_index.get(id(la), 0)))

    nodes_by_depth: dict[int, list[Node]] = collections.defaultdict(list)
    for node in order:
        nodes_by_depth[node_depth[id(node)]].append(node)
    _check_connected(nodes_by_depth, inputs)
    _check_unique_names(layers)
    return [n for n in order if not n.is_input], layers, dict(nodes_by_depth)


def _check_connected(nodes_by_depth: dict[int, list[Node]], inputs: list[KerasTensor]) -> None:
    """Every node's inputs must be computable from the given inputs (deepest nodes first)."""
    computable = {id(t) for t in inputs}
    done_names: list[str] = []
    for depth in sorted(nodes_by_depth, reverse=True):
        for node in nodes_by_depth[depth]:
            for t in node.input_tensors:
                if id(t) not in computable:
                    raise ValueError(
                        f"Graph disconnected: cannot find parent for tensor {t} (shape {t.shape}) at layer "
                        f"'{node.operation.name}' ({type(node.operation).__name__}). The tensor is not computed from "
                        f"the model's inputs {[i.name for i in inputs]}. Layers reached without issue: {done_names}"
                    )
            done_names.append(node.operation.name)
            for t in node.outputs:
                computable.add(id(t))


def _check_unique_names(layers: list[Operation]) -> None:
    names = [la.name for la in layers]
    for name in names:
        if names.count(name) != 1:
            raise ValueError(
                f'The name "{name}" is used {names.count(name)} times in the model. All layer names should be unique.'
            )


class Function(Operation):
    """The operations between symbolic ``inputs`` and ``outputs`` as one callable operation.

    Args:
        inputs: a ``KerasTensor`` or a list/tuple/dict of them (``keras.Input`` tensors or bare
            ``KerasTensor``s).
        outputs: tensors computed from ``inputs`` by layers and ops, in any nested structure.
        name: the function's name.

    Raises:
        ValueError: when an output does not depend on the given inputs only (graph disconnected), or
            an input or output is not a ``KerasTensor``.

    Example:
        >>> import torch, lamina as keras
        >>> x = keras.Input((4,))
        >>> fn = keras.Function(x, {"double": x * 2, "sum": keras.ops.sum(x, axis=-1)})
        >>> {k: v.tolist() for k, v in fn(torch.ones(1, 4)).items()}
        {'double': [[2.0, 2.0, 2.0, 2.0]], 'sum': [4.0]}
    """

    def __init__(self, inputs: Any, outputs: Any, name: str | None = None) -> None:
        super().__init__(name=name)
        flat_in, flat_out = tree.flatten(inputs), tree.flatten(outputs)
        for label, group in (("inputs", flat_in), ("outputs", flat_out)):
            for t in group:
                if not isinstance(t, KerasTensor):
                    raise ValueError(
                        f"All `{label}` of a Function must be symbolic KerasTensors. Received: {label}={t!r}"
                    )
        d = self.__dict__
        d["_inputs_struct"] = tree.map_structure(lambda t: t, inputs)
        d["_outputs_struct"] = tree.map_structure(lambda t: t, outputs)
        d["_inputs"] = flat_in
        d["_outputs"] = flat_out
        nodes, operations, _ = map_graph(flat_in, flat_out)
        d["_nodes"] = nodes
        d["_operations"] = operations

    @property
    def operations(self) -> list[Operation]:
        """The operations of the graph, in Keras's order (deepest first)."""
        return list(self._operations)

    @property
    def inputs(self) -> list[KerasTensor]:
        """The flat list of symbolic inputs."""
        return list(self._inputs)

    @property
    def outputs(self) -> list[KerasTensor]:
        """The flat list of symbolic outputs."""
        return list(self._outputs)

    def call(self, inputs: Any) -> Any:
        """Runs the graph on real ``inputs`` (the same structure as the symbolic ones)."""
        flat = tree.flatten(inputs)
        if len(flat) != len(self._inputs):
            raise ValueError(
                f'Function "{self.name}" expects {len(self._inputs)} input(s) with shapes '
                f"{[t.shape for t in self._inputs]}, but received {len(flat)}."
            )
        values = {id(t): x for t, x in zip(self._inputs, flat, strict=True)}

        def value(t: Any) -> Any:
            return values[id(t)] if isinstance(t, KerasTensor) else t

        for node in self._nodes:
            args, kwargs = node.arguments
            out = node.operation(*tree.map_structure(value, args), **tree.map_structure(value, kwargs))
            produced = tree.flatten(out)
            if len(produced) != len(node.outputs):  # outputs that were not tensors (None...) have no node output
                produced = [v for v in produced if v is not None]
            for t, v in zip(node.outputs, produced, strict=True):
                values[id(t)] = v
        return tree.map_structure(value, self._outputs_struct)


def get_source_inputs(tensor: Any) -> Any:
    """The input tensors (``keras.Input`` ones) a symbolic ``tensor`` is computed from, as a list.

    Anything that is not a symbolic tensor is returned unchanged, as in Keras.

    Example:
        >>> import lamina as keras
        >>> a, b = keras.Input((2,), name="a"), keras.Input((2,), name="b")
        >>> [t is a for t in keras.utils.get_source_inputs(keras.layers.Dense(3)(a) + 1)]
        [True]
    """
    if not isinstance(tensor, KerasTensor):
        return tensor
    if tensor._keras_history is None:
        return [tensor]
    operation, node_index, _ = tensor._keras_history
    if not operation._inbound_nodes:
        return [tensor]
    node = operation._inbound_nodes[node_index]
    if node.is_input:
        return list(node.outputs)
    sources: list[KerasTensor] = []
    for t in node.input_tensors:
        for x in get_source_inputs(t):
            if all(x is not s for s in sources):
                sources.append(x)
    return sources
