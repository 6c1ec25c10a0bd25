"""``model.export(path, format=...)``: inference artifacts for serving outside Lamina.

* ``"onnx"``: an ONNX graph (``torch.onnx.export``) that onnxruntime runs; the batch axis
  (and every other axis the model leaves unknown) stays dynamic;
* ``"torch"``: a ``torch.export`` program saved with ``torch.export.save`` (``.pt2``);
* ``"torchscript"``: a traced TorchScript module (``torch.jit.save``).

Every file is written atomically. Inputs come from the model's ``Input`` shapes, or from
``input_signature`` (shapes with ``None`` for dynamic axes, ``KerasTensor``s or example arrays).
"""

from __future__ import annotations

import os
import warnings
from typing import Any

import numpy as np
import torch
from torch import nn

from lamina import backend
from lamina.backend.atomic import atomic_write

_FORMATS = ("onnx", "torch", "torchscript")


class _Inference(nn.Module):
    """Calls the model in inference mode with positional tensors (what exporters trace)."""

    def __init__(self, model: nn.Module, n_inputs: int) -> None:
        super().__init__()
        self.model = model
        self.n_inputs = n_inputs

    def forward(self, *inputs: torch.Tensor) -> Any:
        x = inputs[0] if self.n_inputs == 1 else list(inputs)
        out = self.model(x, training=False)
        if isinstance(out, dict):
            return tuple(out.values())
        return out


def _signature(model: Any, input_signature: Any) -> list[tuple[tuple[int | None, ...], str]]:
    """``[(shape with None for dynamic axes, dtype name), ...]``, one per model input."""
    specs = input_signature
    if specs is None:
        inputs = getattr(model, "inputs", None)
        if inputs:
            specs = list(inputs)
        elif getattr(model, "_build_shapes", None) is not None:
            shapes = model._build_shapes
            specs = [shapes] if shapes and not isinstance(shapes[0], (tuple, list)) else list(shapes)
        else:
            raise ValueError(
                f'Model "{getattr(model, "name", model)}" has no known input shape to export: give it '
                "an `Input`, call it on data first, or pass `input_signature=[(None, ...)]`."
            )
    if not isinstance(specs, (list, tuple)) or (specs and all(d is None or isinstance(d, int) for d in specs)):
        specs = [specs]
    out = []
    for spec in specs:
        if isinstance(spec, (np.ndarray, torch.Tensor)):
            out.append((tuple(spec.shape), backend.standardize_dtype(spec.dtype)))
        elif hasattr(spec, "shape"):  # KerasTensor / InputSpec-like
            out.append((tuple(spec.shape), backend.standardize_dtype(getattr(spec, "dtype", None) or "float32")))
        else:
            out.append((tuple(spec), "float32"))
    return out


def _examples(signature: list, device: torch.device) -> tuple[torch.Tensor, ...]:
    tensors = []
    for shape, dtype in signature:
        concrete = tuple(2 if d is None else d for d in shape)
        tdtype = backend.torch_dtype(dtype)
        if tdtype.is_floating_point:
            tensors.append(torch.rand(concrete, dtype=tdtype, device=device))
        else:
            tensors.append(torch.zeros(concrete, dtype=tdtype, device=device))
    return tuple(tensors)


def _device(model: nn.Module) -> torch.device:
    for t in model.parameters():
        return t.device
    return torch.device("cpu")


def export_model(
    model: Any, filepath: Any, format: str = "onnx", verbose: bool = True, input_signature: Any = None, **kwargs: Any
) -> Any:
    """Exports ``model`` for inference to ``filepath`` in ``format`` (``"onnx"``, ``"torch"``, ``"torchscript"``).

    Args:
        model: a built Lamina model (or layer).
        filepath: the file to write.
        format: ``"onnx"`` (default), ``"torch"`` (``torch.export``, ``.pt2``) or ``"torchscript"``.
        verbose: print where the artifact was written.
        input_signature: per-input shapes (``None`` = dynamic axis), ``KerasTensor``s or example
            arrays; default: the model's ``Input`` shapes.
        **kwargs: ``opset_version`` for ONNX.

    Returns:
        The exported object (``torch.export.ExportedProgram``, ``ScriptModule``) or None for ONNX.
    """
    if format not in _FORMATS:
        raise ValueError(
            f"Unrecognized format={format!r}. Lamina exports to one of {list(_FORMATS)} "
            "(TensorFlow SavedModel, LiteRT and OpenVINO are Keras formats for other backends)."
        )
    path = os.fspath(filepath)
    signature = _signature(model, input_signature)
    examples = _examples(signature, _device(model))
    was_training = model.training
    model.eval()
    wrapper = _Inference(model, len(signature)).eval()
    try:
        with torch.no_grad():
            if format == "onnx":
                result = _export_onnx(wrapper, examples, signature, path, **kwargs)
            elif format == "torch":
                result = _export_torch(wrapper, examples, signature, path)
            else:
                result = _export_torchscript(wrapper, examples, path)
    finally:
        model.train(was_training)
    if verbose:
        print(f"Saved artifact at '{path}' (format={format!r}).")
    return result


def _dynamic_shapes(signature: list) -> tuple:
    # forward(*inputs) has one (var-positional) parameter, so the spec is a 1-tuple holding one entry per input
    shapes = [
        {axis: torch.export.Dim.AUTO for axis, d in enumerate(shape) if d is None} or None for shape, _ in signature
    ]
    return (tuple(shapes),)


def _export_onnx(wrapper: nn.Module, examples: tuple, signature: list, path: str, **kwargs: Any) -> None:
    try:
        import onnx  # noqa: F401
    except ImportError:
        raise ImportError(
            "Exporting to ONNX needs the `onnx` and `onnxscript` packages: "
            "`pip install onnx onnxscript` (and `onnxruntime` to run the file)."
        ) from None
    opset = kwargs.pop("opset_version", None)
    if kwargs:
        raise ValueError(f"Unexpected keyword argument(s) for format='onnx': {list(kwargs)}")
    input_names = [f"input_{i}" if len(signature) > 1 else "inputs" for i in range(len(signature))]
    n_out = len(_flat(wrapper(*examples)))
    output_names = [f"output_{i}" if n_out > 1 else "output" for i in range(n_out)]
    with atomic_write(path) as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        program = torch.onnx.export(
            wrapper,
            examples,
            dynamo=True,
            dynamic_shapes=_dynamic_shapes(signature),
            input_names=input_names,
            output_names=output_names,
            opset_version=opset,
            verbose=False,
            external_data=False,
        )
        program.save(tmp)
    return None


def _flat(out: Any) -> list[Any]:
    if isinstance(out, (list, tuple)):
        return [t for o in out for t in _flat(o)]
    return [out]


def _export_torch(wrapper: nn.Module, examples: tuple, signature: list, path: str) -> Any:
    program = torch.export.export(wrapper, examples, dynamic_shapes=_dynamic_shapes(signature))
    with atomic_write(path) as tmp:
        torch.export.save(program, tmp)
    return program


def _export_torchscript(wrapper: nn.Module, examples: tuple, path: str) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        scripted = torch.jit.trace(wrapper, examples, check_trace=False)
    with atomic_write(path) as tmp:
        torch.jit.save(scripted, tmp)
    return scripted
