"""Keras's config schema: ``{"module", "class_name", "config", "registered_name", "build_config"}``.

Nothing here imports code named by a file: classes are found only among Lamina's own
public objects, the registered custom objects and ``custom_objects`` passed in.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import Any

_GLOBAL_CUSTOM_OBJECTS: dict[str, Any] = {}
_GLOBAL_CUSTOM_NAMES: dict[Any, str] = {}
_scope = threading.local()


def register_keras_serializable(package: str = "Custom", name: str | None = None) -> Any:
    """Class decorator: makes a custom class loadable by its ``"package>Name"`` registered name.

    Example:
        >>> import lamina
        >>> @lamina.saving.register_keras_serializable(package="MyLayers")
        ... class Scale(lamina.layers.Layer):
        ...     def call(self, x):
        ...         return 2 * x
        >>> lamina.saving.get_registered_name(Scale)
        'MyLayers>Scale'
    """

    def decorator(arg: Any) -> Any:
        class_name = name if name is not None else arg.__name__
        registered_name = f"{package}>{class_name}"
        if isinstance(arg, type) and not hasattr(arg, "get_config"):
            raise ValueError("Cannot register a class that does not have a get_config() method.")
        _GLOBAL_CUSTOM_OBJECTS[registered_name] = arg
        _GLOBAL_CUSTOM_NAMES[arg] = registered_name
        return arg

    return decorator


def get_registered_name(obj: Any) -> str:
    """The registered name of a class or function (its ``__name__`` if it was not registered)."""
    if obj in _GLOBAL_CUSTOM_NAMES:
        return _GLOBAL_CUSTOM_NAMES[obj]
    return obj.__name__


def get_registered_object(name: str, custom_objects: dict | None = None, module_objects: dict | None = None) -> Any:
    scoped = getattr(_scope, "objects", None) or {}
    for table in (custom_objects or {}, scoped, _GLOBAL_CUSTOM_OBJECTS, module_objects or {}):
        if name in table:
            return table[name]
    return None


def get_custom_objects() -> dict[str, Any]:
    """The global registry of custom objects (name -> object), editable in place."""
    return _GLOBAL_CUSTOM_OBJECTS


@contextlib.contextmanager
def custom_object_scope(custom_objects: dict[str, Any]) -> Iterator[None]:
    """Within the block, ``custom_objects`` are visible to deserialization."""
    previous = getattr(_scope, "objects", None)
    _scope.objects = {**(previous or {}), **(custom_objects or {})}
    try:
        yield
    finally:
        _scope.objects = previous


# ---------------------------------------------------------------- safe mode
# Safe mode refuses to rebuild code stored in a config (e.g. a ``Lambda`` layer's Python
# lambda, kept as marshalled bytecode). ``SafeModeScope`` sets it for a block (per thread);
# ``enable_unsafe_deserialization()`` turns it off for the whole process. An explicit scope
# wins over the process-wide switch; with neither, ``in_safe_mode()`` is ``None``, which
# readers of the flag treat as safe.
_UNSAFE_DESERIALIZATION_ENABLED = [False]


def in_safe_mode() -> bool | None:
    """The safe-mode flag in effect: the innermost ``SafeModeScope``'s value, else ``False`` after
    ``enable_unsafe_deserialization()``, else ``None`` (unset, treated as safe).

    Example:
        >>> from lamina.saving import serialization
        >>> with serialization.SafeModeScope(False):
        ...     serialization.in_safe_mode()
        False
    """
    value = getattr(_scope, "safe_mode", None)
    if value is not None:
        return value
    return False if _UNSAFE_DESERIALIZATION_ENABLED[0] else None


def enable_unsafe_deserialization() -> None:
    """Allows deserializing configs that carry code (Python lambdas) in this process.

    Only do this for files you trust: loading one runs its stored bytecode.
    """
    _UNSAFE_DESERIALIZATION_ENABLED[0] = True


class SafeModeScope:
    """``with SafeModeScope(False):`` allows lambda bytecode to be deserialized inside the block.

    ``SafeModeScope(None)`` leaves the current setting unchanged.
    """

    def __init__(self, safe_mode: bool | None = True) -> None:
        self.safe_mode = safe_mode

    def __enter__(self) -> SafeModeScope:
        self._previous = getattr(_scope, "safe_mode", None)
        if self.safe_mode is not None:
            _scope.safe_mode = bool(self.safe_mode)
        return self

    def __exit__(self, *exc: Any) -> None:
        _scope.safe_mode = self._previous


class CustomObjectScope:
    """``with CustomObjectScope({"Scale": Scale}):`` makes ``Scale`` loadable inside the block."""

    def __init__(self, custom_objects: dict[str, Any]) -> None:
        self._cm = custom_object_scope(custom_objects)

    def __enter__(self) -> CustomObjectScope:
        self._cm.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._cm.__exit__(*exc)


def _module_of(obj: Any) -> str:
    from lamina.layers.layer import Layer

    cls = obj if isinstance(obj, type) else type(obj)
    if cls in _GLOBAL_CUSTOM_NAMES:
        return cls.__module__
    mod = cls.__module__
    if not mod.startswith("lamina"):
        return mod
    if isinstance(obj, Layer) or (isinstance(obj, type) and issubclass(obj, Layer)):
        from lamina.models.model import Model

        if isinstance(obj, Model) or (isinstance(obj, type) and issubclass(obj, Model)):
            if _is_functional_class(cls):
                return "keras.src.models.functional"  # what Keras writes for Model(inputs, outputs)
            return "keras"
        return "keras.layers"
    for part in ("initializers", "regularizers", "constraints", "optimizers", "losses", "metrics", "callbacks"):
        if f"lamina.{part}" in mod:
            if part == "optimizers" and "schedules" in mod:
                return "keras.optimizers.schedules"
            return f"keras.{part}"
    return "keras"


def _is_functional_class(cls: type) -> bool:
    return cls.__name__ == "Functional" and cls.__module__.startswith("lamina.")


def serialize_keras_object(obj: Any) -> Any:
    """Turns a Lamina object into Keras's JSON-friendly config dict."""
    if obj is None:
        return None
    if isinstance(obj, (str, int, float, bool)):
        return obj
    if isinstance(obj, (list, tuple)):
        return [serialize_keras_object(o) for o in obj]
    if isinstance(obj, dict):
        return {k: serialize_keras_object(v) for k, v in obj.items()}
    if isinstance(obj, type):
        return {
            "module": _module_of(obj),
            "class_name": obj.__name__,
            "config": None,
            "registered_name": _GLOBAL_CUSTOM_NAMES.get(obj),
        }
    if callable(obj) and not hasattr(obj, "get_config"):
        from lamina import activations

        name = getattr(obj, "__name__", None)
        if name in activations._ACTIVATIONS or name in activations._ALIASES:
            return {"module": "keras.activations", "class_name": "function", "config": name, "registered_name": name}
        registered = _GLOBAL_CUSTOM_NAMES.get(obj)
        module = getattr(obj, "__module__", None)
        if registered is None and module and module.startswith("lamina."):
            # a built-in loss / metric function: Keras writes these as {"module": "builtins", ...}
            return {"module": "builtins", "class_name": "function", "config": name, "registered_name": "function"}
        return {"module": module, "class_name": "function", "config": name, "registered_name": registered or name}
    if not hasattr(obj, "get_config"):
        raise TypeError(f"Cannot serialize {obj!r}: it has no get_config() method.")
    cls = type(obj)
    config = obj.get_config()
    registered = _GLOBAL_CUSTOM_NAMES.get(cls) or ("Functional" if _is_functional_class(cls) else None)
    if registered is None and not cls.__module__.startswith("lamina"):
        registered = cls.__name__  # an unregistered custom class: Keras finds it by this name in custom_objects
    out = {"module": _module_of(obj), "class_name": cls.__name__, "config": config, "registered_name": registered}
    from lamina.layers.layer import Layer

    if isinstance(obj, Layer):
        build_config = obj.get_build_config() if obj.built else None
        if build_config is not None:
            out["build_config"] = _jsonable(build_config)
        if hasattr(obj, "get_compile_config"):
            compile_config = obj.get_compile_config()
            if compile_config is not None:
                out["compile_config"] = compile_config
    return out


def _jsonable(x: Any) -> Any:
    if isinstance(x, tuple):
        return [_jsonable(v) for v in x]
    if isinstance(x, list):
        return [_jsonable(v) for v in x]
    if isinstance(x, dict):
        return {k: _jsonable(v) for k, v in x.items()}
    return x


def _builtin_namespace(module: str | None) -> dict[str, Any]:
    import lamina

    table: dict[str, Any] = {}
    names = {
        "keras.layers": [lamina.layers],
        "keras": [lamina, lamina.layers],
        "keras.initializers": [lamina.initializers],
        "keras.regularizers": [lamina.regularizers],
        "keras.constraints": [lamina.constraints],
        "keras.activations": [lamina.activations],
    }
    for key in ("optimizers", "losses", "metrics", "callbacks"):
        sub = getattr(lamina, key, None)
        if sub is not None:
            names[f"keras.{key}"] = [sub]
    sched = getattr(getattr(lamina, "optimizers", None), "schedules", None)
    if sched is not None:
        names["keras.optimizers.schedules"] = [sched]
    modules = names.get(module or "") or [m for ms in names.values() for m in ms]
    if module and module.startswith("keras.src."):
        modules = [m for ms in names.values() for m in ms]
    for m in modules:
        for attr in dir(m):
            if not attr.startswith("_"):
                table.setdefault(attr, getattr(m, attr))
    if "Functional" not in table and (module in (None, "keras", "keras.models") or module.startswith("keras.src.")):
        from lamina.models.functional import Functional

        table["Functional"] = Functional
    return table


def deserialize_keras_object(
    config: Any, custom_objects: dict | None = None, safe_mode: bool = True, **kwargs: Any
) -> Any:
    """Rebuilds an object from Keras's config dict.

    Raises:
        TypeError: for an unknown class name (the message says how to register it).
    """
    if config is None:
        return None
    if isinstance(config, (list, tuple)) and not isinstance(config, str):
        return [deserialize_keras_object(c, custom_objects, safe_mode) for c in config]
    if isinstance(config, str):
        obj = get_registered_object(config, custom_objects, _builtin_namespace(None))
        if obj is None:
            raise TypeError(f"Could not locate object {config!r}. Pass it in `custom_objects` or register it.")
        return obj() if isinstance(obj, type) else obj
    if not isinstance(config, dict):
        return config
    if "class_name" not in config:
        return config
    class_name = config["class_name"]
    inner = config.get("config")
    module = config.get("module")
    registered_name = config.get("registered_name") or class_name
    if class_name == "function":
        fn_name = inner if isinstance(inner, str) else registered_name
        obj = get_registered_object(registered_name, custom_objects) or get_registered_object(fn_name, custom_objects)
        if obj is None:
            from lamina import activations

            obj = activations._ACTIVATIONS.get(fn_name) or activations._ALIASES.get(fn_name)
        if obj is None:
            table = _builtin_namespace(module)
            obj = table.get(fn_name)
        if obj is None:
            raise TypeError(
                f"Could not locate function {fn_name!r} (module {module!r}). "
                "Pass it in `custom_objects` or register it with `register_keras_serializable`."
            )
        return obj
    cls = get_registered_object(registered_name, custom_objects) or get_registered_object(class_name, custom_objects)
    if cls is None:
        table = _builtin_namespace(module)
        cls = table.get(class_name)
    if cls is None:
        raise TypeError(
            f"Could not locate class {class_name!r} (module {module!r}). Make sure custom classes are decorated "
            "with `@lamina.saving.register_keras_serializable()` or passed in `custom_objects`. "
            f"Full object config: {config}"
        )
    if not isinstance(cls, type):
        return cls
    if inner is None:
        inner = {}
    outer_safe_mode = in_safe_mode()  # an enclosing scope (or the global switch) wins, as in Keras
    safe_mode = outer_safe_mode if outer_safe_mode is not None else safe_mode
    with custom_object_scope(custom_objects or {}), SafeModeScope(safe_mode):
        if "custom_objects" in getattr(cls.from_config, "__code__", type("", (), {"co_varnames": ()})).co_varnames:
            obj = cls.from_config(inner, custom_objects=custom_objects)
        else:
            obj = cls.from_config(inner)
    build_config = config.get("build_config")
    if build_config and hasattr(obj, "build_from_config") and not getattr(obj, "built", True):
        obj.build_from_config(build_config)
    compile_config = config.get("compile_config")
    if compile_config and hasattr(obj, "compile_from_config"):
        obj.compile_from_config(compile_config)
    return obj
