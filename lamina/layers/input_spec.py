"""``InputSpec``: the rank, axis sizes and dtype a layer accepts, and the check run on every call."""

from __future__ import annotations

from typing import Any

from lamina import backend, tree


class InputSpec:
    """Rank, axis sizes and dtype a layer accepts; checked on every call.

    Args:
        dtype: expected dtype name, or None.
        shape: full expected shape (batch included), ``None`` for any size.
        ndim / min_ndim / max_ndim: rank constraints.
        axes: ``{axis: size}``, e.g. ``{-1: 4}`` for a Dense built on 4 features.

    Example:
        >>> from lamina.layers import InputSpec
        >>> InputSpec(min_ndim=2, axes={-1: 4})
        InputSpec(min_ndim=2, axes={-1: 4})
    """

    def __init__(
        self,
        dtype: Any = None,
        shape: tuple | None = None,
        ndim: int | None = None,
        max_ndim: int | None = None,
        min_ndim: int | None = None,
        axes: dict | None = None,
        allow_last_axis_squeeze: bool = False,
        name: str | None = None,
        optional: bool = False,
    ) -> None:
        self.dtype = None if dtype is None else backend.standardize_dtype(dtype)
        self.shape = None if shape is None else tuple(shape)
        self.ndim = len(self.shape) if self.shape is not None else ndim
        self.max_ndim = max_ndim
        self.min_ndim = min_ndim
        self.axes = {int(k): v for k, v in (axes or {}).items()}
        self.allow_last_axis_squeeze = allow_last_axis_squeeze
        self.name = name
        self.optional = optional

    def __repr__(self) -> str:
        parts = [
            f"{k}={v}"
            for k, v in (
                ("dtype", self.dtype),
                ("shape", self.shape),
                ("ndim", self.ndim),
                ("max_ndim", self.max_ndim),
                ("min_ndim", self.min_ndim),
            )
            if v is not None
        ]
        if self.axes:
            parts.append(f"axes={self.axes}")
        return "InputSpec(" + ", ".join(parts) + ")"

    def get_config(self) -> dict[str, Any]:
        return {
            "dtype": self.dtype,
            "shape": self.shape,
            "ndim": self.ndim,
            "max_ndim": self.max_ndim,
            "min_ndim": self.min_ndim,
            "axes": self.axes,
        }


def check_input_spec(layer: Any, x: Any, spec: Any) -> None:
    """Raises the layer's error if ``x`` does not fit ``spec`` (rank, axis sizes, shape); a list of specs
    checks the inputs one by one."""
    if isinstance(spec, (list, tuple)):
        xs = tree.flatten(x)
        for t, s in zip(xs, spec):
            if s is not None:
                check_input_spec(layer, t, s)
        return
    if not hasattr(x, "shape"):
        return
    shape = tuple(x.shape)
    ndim = len(shape)
    if spec.ndim is not None and ndim != spec.ndim:
        raise layer._error(f"inputs of rank {spec.ndim}", f"shape {shape} (rank {ndim})")
    if spec.min_ndim is not None and ndim < spec.min_ndim:
        raise layer._error(f"inputs of rank >= {spec.min_ndim}", f"shape {shape} (rank {ndim})")
    if spec.max_ndim is not None and ndim > spec.max_ndim:
        raise layer._error(f"inputs of rank <= {spec.max_ndim}", f"shape {shape} (rank {ndim})")
    for axis, size in spec.axes.items():
        if size is None:
            continue
        if -ndim <= axis < ndim and shape[axis] is not None and shape[axis] != size:
            where = "last axis" if axis == -1 or axis == ndim - 1 else f"axis {axis} of size"
            raise layer._error(f"{where} {size}", f"shape {shape}")
    if spec.shape is not None:
        for i, (want, got) in enumerate(zip(spec.shape, shape)):
            if want is not None and got is not None and want != got:
                raise layer._error(f"inputs of shape {spec.shape}", f"shape {shape}")
