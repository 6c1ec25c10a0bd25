"""``clone_model``: the same architecture with new layers (and so new weights), as in Keras."""

from __future__ import annotations

from typing import Any

from lamina.layers.core.input_layer import Input, InputLayer
from lamina.layers.layer import Layer
from lamina.ops.operation import KerasTensor
from lamina.serialization import deserialize_keras_object, serialize_keras_object
from lamina.tree import flatten, map_structure


def _default_clone(layer: Layer) -> Layer:
    return layer.__class__.from_config(layer.get_config())


def _is_functional(model: Any) -> bool:
    return any(c.__name__ == "Functional" for c in type(model).__mro__)


def clone_model(
    model: Any,
    input_tensors: Any = None,
    clone_function: Any = None,
    call_function: Any = None,
    recursive: bool = False,
    **kwargs: Any,
) -> Any:
    """Clones a Sequential or functional model: new layers from their configs, new weights.

    Args:
        model: a ``Sequential`` or functional ``Model`` (a subclassed model is cloned through
            its config, which needs ``get_config`` / ``from_config``).
        input_tensors: optional ``Input`` tensor(s) to build the clone on.
        clone_function: ``fn(layer) -> layer`` used for each layer (default: rebuild from config).
        call_function: ``fn(layer, *args, **kwargs)`` used to call each cloned layer (functional only).
        recursive: clone inner Sequential / functional models with ``clone_model`` too.

    Example:
        >>> import lamina
        >>> model = lamina.Sequential([lamina.Input((3,)), lamina.layers.Dense(2, name="out")])
        >>> clone = lamina.models.clone_model(model)
        >>> clone.get_layer("out") is model.get_layer("out")
        False
        >>> clone.output_shape
        (None, 2)
    """
    from lamina.models.sequential import Sequential

    cache: dict[int, Any] = kwargs.pop("cache", None) or {}
    if kwargs:
        raise ValueError(f"Unexpected keyword argument(s): {list(kwargs)}")
    if clone_function is not None and not callable(clone_function):
        raise ValueError(
            f"Expected `clone_function` argument to be a callable. Received: clone_function={clone_function}"
        )
    if isinstance(model, Sequential):
        if call_function is not None:
            raise ValueError(
                "`call_function` argument is not supported with Sequential models. In a Sequential "
                "model, layers aren't called at model-construction time (they're merely listed). Use "
                "`call_function` with Functional models only. Received model of type "
                f"'{type(model).__name__}', with call_function={call_function}"
            )
        fn = _wrap(clone_function, None, recursive, cache)
        return _clone_sequential(model, fn, input_tensors)
    if _is_functional(model):
        fn = _wrap(clone_function, call_function, recursive, cache)
        return _clone_functional(model, fn, input_tensors, call_function)
    if clone_function is not None or input_tensors is not None:
        raise ValueError(
            "Arguments `clone_function` and `input_tensors` are only supported for Sequential models "
            f"or Functional models. Received model of type '{type(model).__name__}', with "
            f"clone_function={clone_function} and input_tensors={input_tensors}"
        )
    if call_function is not None:
        raise ValueError(
            "Argument `call_function` is only supported for Functional models. Received model of type "
            f"'{type(model).__name__}', with call_function={call_function}"
        )

    config = serialize_keras_object(model)
    config.pop("compile_config", None)
    clone = deserialize_keras_object(config, custom_objects={type(model).__name__: type(model)})
    _copy_compile(model, clone)
    return clone


def _wrap(clone_function: Any, call_function: Any, recursive: bool, cache: dict[int, Any]) -> Any:
    from lamina.models.sequential import Sequential

    base = clone_function or _default_clone

    def wrapped(layer: Layer) -> Any:
        if id(layer) in cache:
            return cache[id(layer)]
        if recursive and isinstance(layer, Sequential):
            clone = clone_model(layer, clone_function=clone_function, recursive=True, cache=cache)
        elif recursive and _is_functional(layer):
            clone = clone_model(
                layer, clone_function=clone_function, call_function=call_function, recursive=True, cache=cache
            )
        else:
            clone = base(layer)
        cache[id(layer)] = clone
        return clone

    return wrapped


def _copy_compile(model: Any, clone: Any) -> None:
    if (
        getattr(model, "compiled", False)
        and hasattr(model, "get_compile_config")
        and hasattr(clone, "compile_from_config")
    ):
        config = model.get_compile_config()
        if config:
            clone.compile_from_config(config)


def _clone_sequential(model: Any, clone_function: Any, input_tensors: Any) -> Any:
    from lamina.models.sequential import Sequential

    new_layers = [clone_function(layer) for layer in model.layers]
    first = model._seq[0] if model._seq else None
    if input_tensors is not None:
        if isinstance(input_tensors, (list, tuple)):
            if len(input_tensors) != 1:
                raise ValueError("Argument `input_tensors` must contain a single tensor.")
            input_tensors = input_tensors[0]
        if not isinstance(input_tensors, KerasTensor):
            raise ValueError(
                f"Argument `input_tensors` must be a KerasTensor. Received invalid value: input_tensors={input_tensors}"
            )
        new_layers = [input_tensors, *new_layers]
    elif isinstance(first, InputLayer):
        new_layers = [
            Input(batch_shape=first.batch_shape, dtype=first.dtype, name=first.name, optional=first.optional),
            *new_layers,
        ]
    clone = Sequential(new_layers, name=model.name, trainable=model.trainable)
    if not clone.built and model.built and getattr(model, "_build_shapes", None) is not None:
        clone.build(model._build_shapes)
    _copy_compile(model, clone)
    return clone


def _clone_functional(model: Any, clone_function: Any, input_tensors: Any, call_function: Any) -> Any:
    originals = list(model.inputs)
    if input_tensors is None:
        new_inputs = [
            Input(batch_shape=t.shape, dtype=t.dtype, name=getattr(t._keras_history[0], "name", None))
            for t in originals
        ]
    else:
        new_inputs = list(flatten(input_tensors))
        if len(new_inputs) != len(originals) or not all(isinstance(t, KerasTensor) for t in new_inputs):
            raise ValueError(
                "`input_tensors` must have the same structure as model.input (all KerasTensors). "
                f"Reference structure: {model.inputs}. Received structure: {input_tensors}"
            )
    memo: dict[int, Any] = {id(o): n for o, n in zip(originals, new_inputs)}

    def replay(target: KerasTensor) -> Any:
        stack = [target]
        while stack:
            t = stack[-1]
            if id(t) in memo:
                stack.pop()
                continue
            history = getattr(t, "_keras_history", None)
            if history is None:
                raise ValueError(f"Cannot clone the model: tensor {t} is not produced by a layer of the graph.")
            layer, node_index, _ = history
            node = layer._inbound_nodes[node_index]
            missing = [x for x in node.input_tensors if id(x) not in memo]
            if missing:
                stack.extend(missing)
                continue
            args, kwargs = node.arguments
            new_args = map_structure(lambda x: memo[id(x)] if isinstance(x, KerasTensor) else x, args)
            new_kwargs = map_structure(lambda x: memo[id(x)] if isinstance(x, KerasTensor) else x, kwargs)
            new_layer = (
                clone_function(layer) if isinstance(layer, Layer) and not isinstance(layer, InputLayer) else layer
            )
            if call_function is not None:
                out = call_function(new_layer, *new_args, **new_kwargs)
            else:
                out = new_layer(*new_args, **new_kwargs)
            for original, produced in zip(node.outputs, flatten(out)):
                memo[id(original)] = produced
            stack.pop()
        return memo[id(target)]

    outputs = [replay(t) for t in model.outputs]
    structure_in = new_inputs[0] if len(new_inputs) == 1 else new_inputs
    structure_out = outputs[0] if len(outputs) == 1 else outputs
    from lamina.models.model import Model

    clone = Model(structure_in, structure_out, name=model.name)
    _copy_compile(model, clone)
    return clone
