"""Keras's config schema (``{"module", "class_name", "config", "registered_name", "build_config"}``) and the
registry of names it refers to.

This module sits on the ground floor: it imports nothing else from Lamina. Each public module registers its
objects under the Keras module name that configs carry (``lamina.layers`` registers ``"keras.layers"``, and
so on), so looking a class up never imports layers or models. Nothing here imports code named by a file:
classes are found only among Lamina's registered objects, the registered custom objects and the
``custom_objects`` passed in.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import Any

import numpy as np
import torch

from lamina import backend, tree

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
        >>> from lamina import serialization
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


# ---------------------------------------------------------------- the built-in registry
# Keras module name -> {public name -> object}; filled by each public module as it loads.
_BUILTINS: dict[str, dict[str, Any]] = {}
# object -> (Keras module, canonical name), for writing configs.
_BUILTIN_HOME: dict[Any, tuple[str, str]] = {}
# classes whose configs carry their class name as `registered_name` (Keras's Functional does).
_SELF_REGISTERED: set[type] = set()


def register_builtins(module: str, objects: dict[str, Any], *, self_registered: bool = False) -> None:
    """Makes ``objects`` (public name -> class or function) loadable from configs that name ``module``.

    The first name registered for an object is the one written into configs; later names are aliases.
    """
    table = _BUILTINS.setdefault(module, {})
    for name, obj in objects.items():
        table.setdefault(name, obj)
        try:
            home = _BUILTIN_HOME.get(obj)
        except TypeError:  # unhashable: not a class or function, nothing to write back
            continue
        canonical = getattr(obj, "__name__", name)
        if home is None or (home[1] != canonical and name == canonical):
            _BUILTIN_HOME[obj] = (module, name)
        if self_registered and isinstance(obj, type):
            _SELF_REGISTERED.add(obj)


def builtin_home(obj: Any) -> tuple[str, str] | None:
    """``(Keras module, name)`` under which a Lamina class or function was registered, if any."""
    try:
        return _BUILTIN_HOME.get(obj)
    except TypeError:
        return None


def get_builtin(module: str, name: str) -> Any:
    """The object registered as ``name`` in the Keras module ``module`` (e.g. an initializer by its string
    name, for code below the module that defines it); ``None`` if there is none."""
    return _BUILTINS.get(module, {}).get(name)


# Top-level packages whose configs may name Lamina's built-in classes (Keras 3, its add-ons, tf.keras 2).
_KERAS_PACKAGES = frozenset({"keras", "keras_hub", "keras_cv", "keras_nlp", "tf_keras", "tensorflow", "builtins"})


def _is_keras_module(module: Any) -> bool:
    if not module:
        return True  # tf.keras 2 and hand-written configs name no module
    return isinstance(module, str) and module.split(".", 1)[0] in _KERAS_PACKAGES


def _lookup_builtin(module: str | None, name: str) -> Any:
    """A registered object by Keras module and name; any module's when the module is not one we know."""
    for key in (module or "", "keras.layers", "keras", *_BUILTINS):
        table = _BUILTINS.get(key)
        if table is not None and name in table:
            return table[name]
    return None


def _module_of(obj: Any) -> str:
    cls = obj if isinstance(obj, type) else type(obj)
    if cls in _GLOBAL_CUSTOM_NAMES:
        return cls.__module__
    if not cls.__module__.startswith("lamina"):
        return cls.__module__
    for base in cls.__mro__:  # an internal Lamina subclass writes its public base's module
        home = builtin_home(base)
        if home is not None:
            return home[0]
    return "keras"


def serialize_value(value: Any) -> Any:
    """Keras's form for array-valued config entries: ``{"class_name": "__numpy__", ...}``."""
    if isinstance(value, torch.Tensor):
        return {
            "class_name": "__tensor__",
            "config": {"value": backend.to_numpy(value).tolist(), "dtype": backend.standardize_dtype(value.dtype)},
        }
    if isinstance(value, np.ndarray) and value.ndim > 0:
        return {
            "class_name": "__numpy__",
            "config": {"value": value.tolist(), "dtype": backend.standardize_dtype(value.dtype)},
        }
    if isinstance(value, (np.generic, np.ndarray)):
        return value.item()
    return value


def deserialize_value(value: Any) -> Any:
    """Reverses :func:`serialize_value`: ``__numpy__`` entries become arrays, ``__tensor__`` entries tensors."""
    if isinstance(value, dict) and value.get("class_name") in ("__numpy__", "__tensor__"):
        inner = value["config"]
        arr = np.array(inner["value"], dtype=inner["dtype"])
        return arr if value["class_name"] == "__numpy__" else torch.as_tensor(arr)
    return value


def _serialize_function(obj: Any) -> dict[str, Any]:
    name = getattr(obj, "__name__", None)
    home = builtin_home(obj)
    if home is not None and home[0] == "keras.activations":
        return {"module": "keras.activations", "class_name": "function", "config": name, "registered_name": name}
    registered = _GLOBAL_CUSTOM_NAMES.get(obj)
    module = getattr(obj, "__module__", None)
    if registered is None and (home is not None or (module and module.startswith("lamina."))):
        # a built-in loss / metric function: Keras writes these as {"module": "builtins", ...}
        return {"module": "builtins", "class_name": "function", "config": name, "registered_name": "function"}
    return {"module": module, "class_name": "function", "config": name, "registered_name": registered or name}


def serialize_keras_object(obj: Any) -> Any:
    """Turns a Lamina object into Keras's JSON-friendly config dict."""
    if obj is None or isinstance(obj, (str, int, float, bool)):
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
        return _serialize_function(obj)
    if not hasattr(obj, "get_config"):
        raise TypeError(f"Cannot serialize {obj!r}: it has no get_config() method.")
    cls = type(obj)
    config = obj.get_config()
    registered = _GLOBAL_CUSTOM_NAMES.get(cls) or (cls.__name__ if cls in _SELF_REGISTERED else None)
    if registered is None and not cls.__module__.startswith("lamina"):
        registered = cls.__name__  # an unregistered custom class: Keras finds it by this name in custom_objects
    home = builtin_home(cls)  # Keras writes the exported name (GroupQueryAttention for GroupedQueryAttention)
    class_name = home[1] if home is not None else cls.__name__
    out = {"module": _module_of(obj), "class_name": class_name, "config": config, "registered_name": registered}
    if getattr(obj, "built", False) and hasattr(obj, "get_build_config"):
        build_config = obj.get_build_config()
        if build_config is not None:
            out["build_config"] = _jsonable(build_config)
    if hasattr(obj, "get_compile_config"):
        compile_config = obj.get_compile_config()
        if compile_config is not None:
            out["compile_config"] = compile_config
    return out


def _jsonable(x: Any) -> Any:
    """Tuples become lists, as JSON writes them."""
    return tree.traverse(lambda s: list(s) if isinstance(s, tuple) else None, x, top_down=False)


def deserialize_keras_object(
    config: Any, custom_objects: dict | None = None, safe_mode: bool = True, **kwargs: Any
) -> Any:
    """Rebuilds an object from Keras's config dict.

    Raises:
        TypeError: for an unknown class name (the message says how to register it).
    """
    if config is None:
        return None
    if isinstance(config, (list, tuple)):
        return [deserialize_keras_object(c, custom_objects, safe_mode) for c in config]
    if isinstance(config, str):
        obj = get_registered_object(config, custom_objects) or _lookup_builtin(None, config)
        if obj is None:
            raise TypeError(f"Could not locate object {config!r}. Pass it in `custom_objects` or register it.")
        return obj() if isinstance(obj, type) else obj
    if not isinstance(config, dict) or "class_name" not in config:
        return config
    class_name = config["class_name"]
    inner = config.get("config")
    module = config.get("module")
    registered_name = config.get("registered_name") or class_name
    if class_name == "function":
        return _deserialize_function(inner, module, registered_name, custom_objects)
    if inner is not None and not isinstance(inner, dict):
        raise TypeError(
            f"The config of {class_name!r} must be a dict of its arguments. Received: config={inner!r}"[:300]
        )
    cls = get_registered_object(registered_name, custom_objects) or get_registered_object(class_name, custom_objects)
    if cls is None:
        cls = _lookup_builtin(module, class_name)
        if cls is not None and not _is_keras_module(module):
            # as Keras: a built-in class is found only under Keras's own modules; a config pairing "Dense"
            # with module "os" (or registered_name "os>system") is not a Keras file and is refused
            raise TypeError(
                f"Could not locate class {class_name!r} in module {module!r}: built-in classes live in Keras's "
                "modules (keras.layers, ...). Custom classes must be decorated with "
                f"`@lamina.saving.register_keras_serializable()` or passed in `custom_objects`. "
                f"Received: module={module!r}, registered_name={config.get('registered_name')!r}"
            )
    if cls is None:
        raise TypeError(
            f"Could not locate class {class_name!r} (module {module!r}). Make sure custom classes are decorated "
            "with `@lamina.saving.register_keras_serializable()` or passed in `custom_objects`. "
            f"Full object config: {config}"
        )
    if not isinstance(cls, type):
        return cls
    return _instantiate(cls, config, inner or {}, custom_objects, safe_mode)


def _deserialize_function(inner: Any, module: str | None, registered_name: str, custom_objects: Any) -> Any:
    fn_name = inner if isinstance(inner, str) else registered_name
    obj = get_registered_object(registered_name, custom_objects) or get_registered_object(fn_name, custom_objects)
    if obj is None:
        obj = _BUILTINS.get("keras.activations", {}).get(fn_name) or _lookup_builtin(module, fn_name)
    if obj is None:
        raise TypeError(
            f"Could not locate function {fn_name!r} (module {module!r}). "
            "Pass it in `custom_objects` or register it with `register_keras_serializable`."
        )
    return obj


def _instantiate(cls: type, config: dict, inner: dict, custom_objects: Any, safe_mode: bool) -> Any:
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


# ---------------------------------------------------------------- families of named objects
class ObjectFamily:
    """The ``get`` / ``serialize`` / ``deserialize`` trio that Keras gives each kind of named object.

    ``lamina.initializers``, ``regularizers``, ``constraints``, ``activations``, ``losses``, ``metrics`` and
    ``optimizers`` each make one and expose its methods under Keras's function names. Creating a family
    registers its objects as built-ins of ``module``, so configs naming them load.

    Args:
        module: the Keras module that configs name, e.g. ``"keras.initializers"``.
        kind: the word used in messages (``"initializer"``).
        objects: public name -> class or function, aliases included.
        base: instances of this class are returned by ``get`` as they are; subclasses are instantiated.
        lowercase: match names case-insensitively (Keras does for optimizers).

    Example:
        >>> from lamina import serialization
        >>> class Half:
        ...     def __call__(self, x): return x / 2
        ...     def get_config(self): return {}
        ...     @classmethod
        ...     def from_config(cls, config): return cls()
        >>> family = serialization.ObjectFamily("my.halvers", "halver", {"Half": Half, "half": Half}, base=Half)
        >>> type(family.get("half")).__name__, family.serialize(Half())["class_name"]
        ('Half', 'Half')
    """

    def __init__(
        self, module: str, kind: str, objects: dict[str, Any], base: type | None = None, lowercase: bool = False
    ) -> None:
        self.module = module
        self.kind = kind
        self.base = base
        self.lowercase = lowercase
        self.objects = {(k.lower() if lowercase else k): v for k, v in objects.items()}
        register_builtins(module, objects)

    def lookup(self, name: str, custom_objects: dict | None = None) -> Any:
        """The object called ``name``: custom objects first, then the family's own names; ``None`` if unknown."""
        custom = get_registered_object(name, custom_objects)
        if custom is not None:
            return custom
        return self.objects.get(name.lower() if self.lowercase else name)

    def unknown(self, identifier: Any) -> ValueError:
        valid = ", ".join(sorted(self.objects))
        return ValueError(f"Could not interpret {self.kind} identifier: {identifier!r}. Valid names: {valid}.")

    def get(self, identifier: Any) -> Any:
        """Resolves ``None``, a name, a config dict, a class or an instance/function (returned as is)."""
        if identifier is None:
            return None
        if self.base is not None and isinstance(identifier, self.base):
            return identifier
        if isinstance(identifier, dict):
            return self.deserialize(identifier)
        if isinstance(identifier, str):
            obj = self.lookup(identifier)
            if obj is None:
                raise self.unknown(identifier)
            return obj() if isinstance(obj, type) else obj
        if isinstance(identifier, type):
            return identifier()
        if callable(identifier):
            return identifier
        raise self.unknown(identifier)

    def serialize(self, obj: Any) -> Any:
        """Keras's config dict of ``obj``."""
        return serialize_keras_object(obj)

    def deserialize(self, config: Any, custom_objects: dict | None = None) -> Any:
        """Rebuilds an object from :meth:`serialize`'s output or a name."""
        if isinstance(config, str):
            obj = self.lookup(config, custom_objects)
            if obj is None:
                raise self.unknown(config)
            return obj() if isinstance(obj, type) else obj
        if isinstance(config, dict) and isinstance(config.get("class_name"), str):
            class_name = config["class_name"]
            own = self.objects.get(class_name.lower() if self.lowercase else class_name)
            custom = get_registered_object(config.get("registered_name") or class_name, custom_objects)
            if isinstance(own, type) and custom is None:
                with custom_object_scope(custom_objects or {}):
                    return _instantiate(own, config, config.get("config") or {}, custom_objects, True)
        return deserialize_keras_object(config, custom_objects=custom_objects)
