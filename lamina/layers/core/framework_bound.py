"""``TFSMLayer``, ``JaxLayer``, ``FlaxLayer``: Keras layers that run another framework's code.

Lamina runs on PyTorch only, so these exist to fail early and clearly: constructing one (or loading a file
that contains one) raises a ``ValueError`` that says what to use instead.
"""

from __future__ import annotations

from typing import Any, NoReturn

from lamina.layers.layer import Layer


class _FrameworkBoundLayer(Layer):
    _framework = ""
    _instead = ""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._refuse()

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> NoReturn:
        cls._refuse()

    @classmethod
    def _refuse(cls) -> NoReturn:
        raise ValueError(
            f"{cls.__name__} runs {cls._framework} code inside a Keras model, and Lamina runs on PyTorch only, "
            f"so it cannot build one. {cls._instead}"
        )


class TFSMLayer(_FrameworkBoundLayer):
    """Keras's layer around a TensorFlow SavedModel; in Lamina constructing it raises a ``ValueError``.

    Instead: load a Keras model file with ``lamina.saving.load_model("model.keras")`` (``.h5`` too), or run a
    PyTorch module in a model with ``lamina.layers.TorchModuleWrapper``.

    Example:
        >>> import lamina
        >>> lamina.layers.TFSMLayer("saved_model_dir")
        Traceback (most recent call last):
        ...
        ValueError: TFSMLayer runs TensorFlow (SavedModel) code inside a Keras model, ...
    """

    _framework = "TensorFlow (SavedModel)"
    _instead = (
        "Save the model as a `.keras` file in Keras and load it with `lamina.saving.load_model('model.keras')` "
        "(legacy `.h5` files load too), or wrap a torch.nn.Module with `lamina.layers.TorchModuleWrapper`."
    )


class JaxLayer(_FrameworkBoundLayer):
    """Keras's layer around a JAX function; in Lamina constructing it raises a ``ValueError``.

    Instead: write the computation as a ``Layer`` subclass with ``lamina.ops`` / torch operations, or wrap a
    ``torch.nn.Module`` with ``lamina.layers.TorchModuleWrapper``.

    Example:
        >>> import lamina
        >>> lamina.layers.JaxLayer(call_fn=None)
        Traceback (most recent call last):
        ...
        ValueError: JaxLayer runs JAX code inside a Keras model, ...
    """

    _framework = "JAX"
    _instead = (
        "Write the computation as a Layer subclass with `lamina.ops` (or torch) operations, or wrap a "
        "torch.nn.Module with `lamina.layers.TorchModuleWrapper`."
    )


class FlaxLayer(_FrameworkBoundLayer):
    """Keras's layer around a Flax module; in Lamina constructing it raises a ``ValueError``.

    Instead: port the module to ``torch.nn`` and wrap it with ``lamina.layers.TorchModuleWrapper``, or write it
    as a ``Layer`` subclass.

    Example:
        >>> import lamina
        >>> lamina.layers.FlaxLayer(module=None)
        Traceback (most recent call last):
        ...
        ValueError: FlaxLayer runs Flax (JAX) code inside a Keras model, ...
    """

    _framework = "Flax (JAX)"
    _instead = (
        "Port the module to torch.nn and wrap it with `lamina.layers.TorchModuleWrapper`, or write it as a "
        "Layer subclass with `lamina.ops` operations."
    )
