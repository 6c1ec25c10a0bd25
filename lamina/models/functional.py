"""The functional ``Model(inputs, outputs)``: a graph of layer calls on symbolic tensors.

Calling layers on ``keras.Input`` tensors records ``Node``s; ``Model(inputs, outputs)`` walks
them back from the outputs, checks that every path reaches the given inputs, orders the layers
as Keras does (by depth, then first traversal), and replays the calls on real data.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from lamina import tree
from lamina.layers.layer import Layer
from lamina.models.model import Model
from lamina.models.relu_pooling import max_pool_then_relu, relu_commutes_with, relu_conv_then_max_pool
from lamina.ops.function import _history, map_graph
from lamina.ops.operation import OPERATIONS, KerasTensor, Node, SymbolicOp
from lamina.serialization import deserialize_keras_object, serialize_keras_object
from lamina.tree import flatten, map_structure, pack_sequence_as


def _serialize_arg(x: Any) -> Any:
    """Non-tensor call arguments in Keras's config form (slices and ``...`` of ``x[:, 0]`` included)."""
    if isinstance(x, slice):
        return {
            "class_name": "__slice__",
            "config": {
                "start": _serialize_arg(x.start),
                "stop": _serialize_arg(x.stop),
                "step": _serialize_arg(x.step),
            },
        }
    if x is Ellipsis:
        return {"class_name": "__ellipsis__", "config": {}}
    if isinstance(x, (list, tuple)):
        return [_serialize_arg(v) for v in x]
    return serialize_keras_object(x)


def _deserialize_arg(x: Any) -> Any:
    if isinstance(x, dict) and x.get("class_name") == "__slice__":
        c = x["config"]
        return slice(_deserialize_arg(c.get("start")), _deserialize_arg(c.get("stop")), _deserialize_arg(c.get("step")))
    if isinstance(x, dict) and x.get("class_name") == "__ellipsis__":
        return Ellipsis
    return x


def functional_like_constructor(cls: type) -> bool:
    """Whether ``cls.__init__`` takes what ``Functional.__init__`` takes (then its config is a graph)."""
    import inspect

    spec = inspect.getfullargspec(cls.__init__)
    if spec.args[1:] in (
        ["inputs", "outputs"],
        ["inputs", "outputs", "name"],
        ["inputs", "outputs", "name", "trainable"],
    ):
        return True
    return spec.varargs is not None and spec.varkw is not None


def adjust_input_rank(x: Any, ref_shape: tuple) -> Any:
    """Keras's input rank adjustment: data one rank short of the ``Input`` whose last axis is 1 gets that
    axis (``(N, 28, 28)`` for ``Input((28, 28, 1))``); data one rank over with a last axis of 1 loses it.
    Anything else is returned as it is (the shape check that follows names the mismatch). NumPy arrays (a batch
    of texts for a ``(None, 1)`` string input) are adjusted the same way."""
    if isinstance(x, np.ndarray):
        if x.ndim == len(ref_shape) - 1 and ref_shape and ref_shape[-1] == 1:
            return np.expand_dims(x, -1)
        if x.ndim == len(ref_shape) + 1 and x.ndim and x.shape[-1] == 1:
            return np.squeeze(x, -1)
        return x
    if not isinstance(x, torch.Tensor):
        return x
    rank, ref_rank = x.ndim, len(ref_shape)
    if rank == ref_rank - 1 and ref_rank and ref_shape[-1] == 1:
        adjusted = x.unsqueeze(-1)
    elif rank == ref_rank + 1 and rank and x.shape[-1] == 1:
        adjusted = x.squeeze(-1)
    else:
        return x
    mask = getattr(x, "_keras_mask", None)
    if mask is not None:
        adjusted._keras_mask = mask
    return adjusted


class Functional(Model):
    """A model defined by its symbolic ``inputs`` and ``outputs`` (lists, dicts or single tensors).

    Example:
        >>> import numpy as np, lamina as keras
        >>> from lamina import layers
        >>> inputs = keras.Input(shape=(4,))
        >>> x = layers.Dense(8, activation="relu")(inputs)
        >>> outputs = layers.Dense(2)(x)
        >>> model = keras.Model(inputs=inputs, outputs=outputs)
        >>> model(np.ones((3, 4), "float32")).shape
        torch.Size([3, 2])
        >>> [layer.name for layer in model.layers]
        ['input_layer', 'dense', 'dense_1']
    """

    def __init__(
        self, inputs: Any, outputs: Any, name: str | None = None, trainable: bool = True, **kwargs: Any
    ) -> None:
        Layer.__init__(self, name=name, trainable=trainable, **kwargs)
        from lamina.trainers.trainer import Trainer

        Trainer.__init__(self)
        flat_in = flatten(inputs)
        flat_out = flatten(outputs)
        for t in flat_in + flat_out:
            _history(t)
        d = self.__dict__
        d["_inputs_struct"] = inputs
        d["_outputs_struct"] = outputs
        d["_outputs_packed"] = pack_sequence_as(outputs, flat_out)  # dict keys sorted, as Keras packs them
        d["_inputs_list"] = list(flat_in)
        d["_outputs_list"] = list(flat_out)
        nodes, layers, nodes_by_depth = map_graph(flat_in, flat_out)
        d["_nodes"] = nodes
        d["_graph_layers"] = layers
        d["_operations"] = layers  # Keras's name: layers and weightless operations, in Keras's order
        d["_nodes_by_depth"] = nodes_by_depth
        d["_keys"] = {}
        for layer in layers:
            key = self._module_key(layer.name)
            d["_keys"][layer.name] = key
            self.add_module(key, layer)
        d["_plan"] = self._make_plan(nodes, keep={id(t) for t in flat_out})
        d["output_names"] = [t._keras_history[0].name for t in flat_out]
        if isinstance(outputs, dict):
            d["output_names"] = sorted(outputs)
        d["input_names"] = sorted(inputs) if isinstance(inputs, dict) else [t._keras_history[0].name for t in flat_in]
        self.built = True
        self.__dict__["_build_shapes"] = map_structure(lambda t: t.shape, inputs)

    @staticmethod
    def _make_plan(nodes: list[Node], keep: set[int]) -> list[tuple]:
        """One step per node; each step also lists the values no later step reads (graph outputs kept), so a
        call drops them at once instead of holding every activation of the graph until it returns, and says
        whether it is a relu convolution whose output only the next step, a max pooling, reads (``relu_pooling``)."""
        plan = []
        last_read: dict[int, int] = {}
        reads: dict[int, int] = {}
        for step, node in enumerate(nodes):
            args, kwargs = node.arguments
            out_ids = [id(t) for t in node.outputs]
            if len(args) == 1 and not kwargs and isinstance(args[0], KerasTensor):
                plan.append([node.operation, id(args[0]), None, None, out_ids])
            else:
                plan.append([node.operation, None, args, kwargs, out_ids])
            for t in node.input_tensors:
                last_read[id(t)] = step
                reads[id(t)] = reads.get(id(t), 0) + 1
        frees: list[list[int]] = [[] for _ in plan]
        for value, step in last_read.items():
            if value not in keep:
                frees[step].append(value)
        pairs = [
            here[1] is not None
            and nxt[1] is not None
            and len(here[4]) == 1
            and nxt[1] == here[4][0]
            and reads.get(here[4][0]) == 1
            and here[4][0] not in keep
            and relu_conv_then_max_pool(here[0], nxt[0])
            for here, nxt in zip(plan, plan[1:])
        ]
        return [(*step, tuple(free), pair) for step, free, pair in zip(plan, frees, [*pairs, False])]

    @property
    def layers(self) -> list[Layer]:
        """All layers of the graph, InputLayers included, in Keras's order (operator operations such as
        ``x + y`` are in ``operations`` only, as in Keras)."""
        return [layer for layer in self._graph_layers if isinstance(layer, Layer)]

    @property
    def input(self) -> Any:
        """The ``inputs`` as given to the constructor (a tensor, list or dict), as in Keras."""
        return self._inputs_struct

    @property
    def output(self) -> Any:
        """The ``outputs`` as given to the constructor (a tensor, list or dict), as in Keras."""
        return self._outputs_struct

    @property
    def operations(self) -> list[Layer]:
        """Every operation of the graph: the layers and the operator operations (``add (Add)``...)."""
        return list(self._graph_layers)

    def get_layer(self, name: str | None = None, index: int | None = None) -> Layer:
        if index is not None and name is None:
            layers = self.layers
            if not -len(layers) <= index < len(layers):
                raise ValueError(
                    f"Was asked to retrieve layer at index {index} but model only has {len(layers)} layers."
                )
            return layers[index]
        if name is not None and index is None:
            for layer in self.layers:
                if layer.name == name:
                    return layer
            raise ValueError(f"No such layer: {name}. Existing layers are: {[la.name for la in self.layers]}.")
        return super().get_layer(name=name, index=index)

    # ------------------------------------------------------------------ call
    def _flatten_call_inputs(self, inputs: Any) -> list[Any]:
        expected = self._inputs_list
        struct = self._inputs_struct
        if isinstance(inputs, dict):
            if isinstance(struct, dict):
                missing = [k for k in struct if k not in inputs]
                if missing:
                    raise ValueError(
                        f'Model "{self.name}" expects inputs with keys {list(struct)}, but received keys '
                        f"{list(inputs)} (missing {missing})."
                    )
                return flatten({k: inputs[k] for k in struct})
            names = self.input_names
            if all(n in inputs for n in names):
                return [inputs[n] for n in names]
            raise ValueError(
                f'Model "{self.name}" expects inputs named {names}, but received a dict with keys {list(inputs)}.'
            )
        flat = flatten(inputs) if isinstance(inputs, (list, tuple)) else [inputs]
        if len(flat) != len(expected):
            raise ValueError(
                f'Model "{self.name}" expects {len(expected)} input(s) with shapes '
                f"{[t.shape for t in expected]}, but received {len(flat)} input(s) with shapes "
                f"{[tuple(getattr(x, 'shape', ())) for x in flat]}."
            )
        return flat

    def _check_input_shapes(self, flat: list[Any]) -> list[Any]:
        """The inputs with Keras's rank adjustment (one trailing axis of size 1 added or dropped), checked
        against the ``Input`` shapes."""
        checked = []
        for sym, x in zip(self._inputs_list, flat):
            x = adjust_input_rank(x, sym.shape)
            shape = tuple(getattr(x, "shape", ()))
            want = sym.shape
            if len(shape) != len(want) or any(w is not None and w != s for w, s in zip(want, shape)):
                layer = sym._keras_history[0]
                raise ValueError(
                    f'Model "{self.name}" input "{layer.name}" expects shape {want}, but received shape {shape}.'
                )
            checked.append(x)
        return checked

    def call(self, inputs: Any, training: bool | None = None, mask: Any = None) -> Any:
        flat = self._flatten_call_inputs(inputs)
        flat = self._check_input_shapes([self._convert_inputs(x) for x in flat])
        values: dict[int, Any] = {id(t): x for t, x in zip(self._inputs_list, flat)}
        if mask is not None:
            for x, m in zip(flat, flatten(mask) if isinstance(mask, (list, tuple)) else [mask]):
                if isinstance(x, torch.Tensor) and m is not None:
                    x._keras_mask = m
        plan, i = self._plan, 0
        while i < len(plan):
            layer, arg_id, args, kwargs, out_ids, frees, pair = plan[i]
            i += 1
            if pair and relu_commutes_with(layer, plan[i][0], values[arg_id]):  # conv then max pool, relu after both
                out = max_pool_then_relu(layer, plan[i][0], values[arg_id])
                _, _, _, _, out_ids, pool_frees, _ = plan[i]
                frees += tuple(v for v in pool_frees if v in values)  # the conv's own output was never made
                i += 1
            elif arg_id is not None:
                out = layer(values[arg_id])
            else:
                a = map_structure(lambda t: values[id(t)] if isinstance(t, KerasTensor) else t, args)
                k = map_structure(lambda t: values[id(t)] if isinstance(t, KerasTensor) else t, kwargs)
                out = layer(*a, **k)
            for value in frees:  # last read: under no_grad the activation's memory is released here
                del values[value]
            if len(out_ids) == 1:
                values[out_ids[0]] = (
                    out if not isinstance(out, (list, tuple)) or len(flatten(out)) != 1 else flatten(out)[0]
                )
            else:
                for oid, o in zip(out_ids, flatten(out)):
                    values[oid] = o
        return map_structure(lambda t: values[id(t)], self._outputs_packed)

    def compute_output_shape(self, input_shape: Any) -> Any:
        return map_structure(lambda t: t.shape, self._outputs_packed)

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        return None

    def build(self, input_shape: Any = None) -> None:
        self.built = True

    # ------------------------------------------------------------------ config (Keras 3 schema)
    def _node_index_map(self) -> dict[tuple[int, int], int]:
        own = {id(n) for n in self._nodes}
        own.update(id(t._keras_history[0]._inbound_nodes[t._keras_history[1]]) for t in self._inputs_list)
        mapping = {}
        for layer in self.operations:
            kept = 1 if isinstance(layer, Functional) else 0
            for i, node in enumerate(layer._inbound_nodes):
                if id(node) in own:
                    mapping[(id(layer), i)] = kept
                    kept += 1
        return mapping

    def get_config(self) -> dict[str, Any]:
        if type(self) is not Functional and not functional_like_constructor(type(self)):
            return Model.get_config(self)  # a subclass with its own constructor: configured like a layer
        own = {id(n) for n in self._nodes}
        mapping = self._node_index_map()

        def ser_tensor(x: Any) -> Any:
            if isinstance(x, KerasTensor):
                layer, node_index, tensor_index = x._keras_history
                return {
                    "class_name": "__keras_tensor__",
                    "config": {
                        "shape": list(x.shape),
                        "dtype": x.dtype,
                        "keras_history": [layer.name, mapping.get((id(layer), node_index), node_index), tensor_index],
                    },
                }
            return _serialize_arg(x)

        layer_configs = []
        for layer in self.operations:
            inbound = []
            for node in layer._inbound_nodes:
                if id(node) in own and not node.is_input:
                    args, kwargs = node.arguments
                    inbound.append(
                        {
                            "args": map_structure(ser_tensor, list(args)),
                            "kwargs": map_structure(ser_tensor, dict(kwargs)),
                        }
                    )
            cfg = layer.serialize() if isinstance(layer, SymbolicOp) else serialize_keras_object(layer)
            cfg["name"] = layer.name
            cfg["inbound_nodes"] = inbound
            layer_configs.append(cfg)

        def io(t: KerasTensor) -> list:
            layer, node_index, tensor_index = t._keras_history
            return [layer.name, mapping.get((id(layer), node_index), 0), tensor_index]

        def io_struct(s: Any) -> Any:
            if isinstance(s, KerasTensor):
                return io(s)
            if isinstance(s, dict):
                return {k: io_struct(v) for k, v in s.items()}
            return [io_struct(v) for v in s]

        return {
            "name": self.name,
            "trainable": self.trainable,
            "layers": layer_configs,
            "input_layers": io_struct(self._inputs_struct),
            "output_layers": io_struct(self._outputs_struct),
        }

    @classmethod
    def from_config(cls, config: dict[str, Any], custom_objects: dict | None = None) -> Functional:
        """A graph config rebuilds the graph; a subclass with its own constructor gets ``cls(**config)``."""
        graph = all(key in config for key in ("layers", "input_layers", "output_layers"))
        if graph and not isinstance(config["layers"], list):
            raise ValueError(
                f"A functional model config needs `layers`, a list. Received: layers={config['layers']!r}"[:300]
            )
        if graph and (cls is Functional or functional_like_constructor(cls)):
            return functional_from_config(cls, config, custom_objects)
        return Layer.from_config.__func__(cls, config)


def _is_tensor_ref(x: Any) -> bool:
    return isinstance(x, dict) and x.get("class_name") == "__keras_tensor__"


def _tensor_refs(value: Any) -> list[list]:
    """The ``keras_history`` triples of every tensor a node's saved arguments refer to."""
    found: list[list] = []

    def visit(x: Any) -> Any:
        if _is_tensor_ref(x):
            found.append(x["config"]["keras_history"])
            return x  # stop here: a reference is a leaf
        return None

    tree.traverse(visit, value)
    return found


def _legacy_node(node_data: Any) -> Any:
    """Keras 2's node format (``[[layer, node, tensor, kwargs], ...]``) in Keras 3's ``{args, kwargs}`` form."""
    if not isinstance(node_data, list):
        return node_data
    refs = [{"class_name": "__keras_tensor__", "config": {"keras_history": item[:3]}} for item in node_data]
    kwargs = node_data[0][3] if node_data and len(node_data[0]) > 3 else {}
    return {"args": refs if len(refs) == 1 else [refs], "kwargs": kwargs}  # several inputs: one list argument


def _create_layers(config: dict[str, Any], custom_objects: dict | None) -> tuple[dict, dict]:
    """Every layer of the config, created (not yet called), and the list of saved calls of each."""
    created: dict[str, Any] = {}
    pending: dict[str, list] = {}
    for layer_data in config["layers"]:
        name = layer_data.get("name") if isinstance(layer_data, dict) else None
        if not isinstance(name, str) or name in created or not isinstance(layer_data.get("inbound_nodes", []), list):
            raise ValueError(
                "Each layer of a functional model config must be a dict with a unique string `name` and a list of "
                f"`inbound_nodes`. Received: layer config {layer_data!r}"[:400]
            )
        data = {k: v for k, v in layer_data.items() if k not in ("inbound_nodes", "name")}
        data.pop("build_config", None) if data.get("class_name") != "InputLayer" else None
        op = OPERATIONS.get(data.get("class_name"))
        if op is not None and str(data.get("module", "")).startswith("keras.src.ops"):
            layer = op.from_config(data.get("config") or {})  # an operator (`x + y`) of Keras's graph
        else:
            layer = deserialize_keras_object(data, custom_objects=custom_objects)
        created[name] = layer
        pending[name] = [_legacy_node(n) for n in layer_data.get("inbound_nodes") or []]
    return created, pending


def _tensor_from(created: dict[str, Any], hist: list) -> KerasTensor:
    try:
        layer_name, node_index, tensor_index = hist
        layer = created[layer_name]
        if isinstance(layer, Functional):  # a nested model's node 0 is its own graph's output
            node_index -= 1
            if node_index < 0:
                return layer._outputs_list[tensor_index]
        return layer._inbound_nodes[node_index].outputs[tensor_index]
    except (KeyError, IndexError, TypeError, ValueError):
        raise ValueError(
            f"The functional model config refers to a tensor that no layer produces: keras_history={hist!r} "
            f"(layers: {sorted(created)[:20]})"[:400]
        ) from None


def _ready(created: dict[str, Any], node_data: Any) -> bool:
    """Whether every tensor the saved call refers to has been produced already."""
    for layer_name, node_index, _ in _tensor_refs(node_data):
        layer = created.get(layer_name)
        offset = 1 if isinstance(layer, Functional) else 0
        if layer is None or len(layer._inbound_nodes) <= node_index - offset:
            return False
    return True


def _resolve(created: dict[str, Any], value: Any) -> Any:
    """Saved call arguments with tensor references replaced by the tensors."""

    def visit(x: Any) -> Any:
        if _is_tensor_ref(x):
            return _tensor_from(created, x["config"]["keras_history"])
        if isinstance(x, dict) and x.get("class_name") in ("__slice__", "__ellipsis__"):
            return _deserialize_arg(x)
        return None

    return tree.traverse(visit, value)  # configs come from JSON: their sequences are lists already


def _replay_calls(config: dict[str, Any], created: dict[str, Any], pending: dict[str, list]) -> None:
    """Calls each layer on its saved inputs, in an order where every input already exists."""
    progress = True
    while progress and any(pending.values()):
        progress = False
        for name in [d["name"] for d in config["layers"]]:
            queue = pending[name]
            while queue and _ready(created, queue[0]):
                node_data = queue.pop(0)
                args = _resolve(created, node_data.get("args", []))
                created[name](*args, **_resolve(created, node_data.get("kwargs", {})))
                progress = True
    if any(pending.values()):
        stuck = [n for n, q in pending.items() if q]
        raise ValueError(f"Could not rebuild the functional model: layers {stuck} have inputs that never appear.")


def functional_from_config(cls: type, config: dict[str, Any], custom_objects: dict | None = None) -> Any:
    """Rebuilds a functional model from Keras 3's config (layers with ``inbound_nodes``)."""
    created, pending = _create_layers(config, custom_objects)
    _replay_calls(config, created, pending)

    def endpoints(spec: Any) -> Any:  # `[name, node, tensor]` triples, or lists / dicts of them
        is_ref = isinstance(spec, (list, tuple)) and len(spec) == 3 and isinstance(spec[0], str)
        return _tensor_from(created, spec) if is_ref else None

    inputs = tree.traverse(endpoints, config["input_layers"])
    outputs = tree.traverse(endpoints, config["output_layers"])
    kwargs = {"name": config.get("name"), "trainable": config.get("trainable", True)}
    if cls is not Model and cls is not Functional and issubclass(cls, Model):
        return cls(inputs=inputs, outputs=outputs, **kwargs)  # a subclass with a functional-like constructor
    model = Functional.__new__(Functional)
    Functional.__init__(model, inputs, outputs, **kwargs)
    return model
