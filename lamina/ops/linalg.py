"""Linear algebra ops of ``keras.ops.linalg`` (also available flat as ``ops.inv``, ``ops.norm``...).

Example:
    >>> from lamina import ops
    >>> ops.norm([3.0, 4.0]).item()
    5.0
    >>> ops.linalg.inv([[2.0, 0.0], [0.0, 4.0]]).tolist()
    [[0.5, 0.0], [0.0, 0.25]]
"""

from __future__ import annotations

from typing import Any

import torch

from lamina import backend
from lamina.ops.core import ArrayLike, _cast_tensor, _t, _ts, result_type

__all__ = [
    "cholesky",
    "cholesky_inverse",
    "det",
    "eig",
    "eigh",
    "inv",
    "jvp",
    "lstsq",
    "lu_factor",
    "matrix_rank",
    "norm",
    "pinv",
    "qr",
    "slogdet",
    "solve",
    "solve_triangular",
    "svd",
]


def _float(x: ArrayLike) -> torch.Tensor:
    x = _t(x)
    if x.dtype.is_floating_point or x.dtype.is_complex:
        return x
    return _cast_tensor(x, backend.floatx())


def cholesky(x: ArrayLike, upper: bool = False) -> torch.Tensor:
    """Cholesky factor of symmetric positive-definite matrices (lower unless ``upper``)."""
    return torch.linalg.cholesky(_float(x), upper=upper)


def cholesky_inverse(x: ArrayLike, upper: bool = False) -> torch.Tensor:
    """Inverse of ``A`` from its Cholesky factor ``x``."""
    return torch.cholesky_inverse(_float(x), upper=upper)


def det(x: ArrayLike) -> torch.Tensor:
    """Determinant of (a batch of) square matrices."""
    return torch.linalg.det(_float(x))


def eig(x: ArrayLike) -> tuple[torch.Tensor, torch.Tensor]:
    """Eigenvalues and eigenvectors of general square matrices (complex)."""
    return torch.linalg.eig(_float(x))


def eigh(x: ArrayLike) -> tuple[torch.Tensor, torch.Tensor]:
    """Eigenvalues (ascending) and eigenvectors of symmetric/Hermitian matrices."""
    return torch.linalg.eigh(_float(x))


def inv(x: ArrayLike) -> torch.Tensor:
    """Inverse of (a batch of) square matrices."""
    return torch.linalg.inv(_float(x))


def lu_factor(x: ArrayLike) -> tuple[torch.Tensor, torch.Tensor]:
    """Packed LU factorisation and 0-based pivot indices."""
    lu, pivots = torch.linalg.lu_factor(_float(x))
    return lu, pivots - 1


def norm(x: ArrayLike, ord: Any = None, axis: Any = None, keepdims: bool = False) -> torch.Tensor:  # noqa: A002
    """Vector or matrix norm (``numpy.linalg.norm`` semantics; integers give ``floatx()``).

    Example:
        >>> from lamina import ops
        >>> round(ops.norm([[1.0, 2.0], [3.0, 4.0]], ord="fro").item() ** 2, 4)
        30.0
    """
    x = _t(x)
    dtype = backend.floatx() if x.dtype == torch.int64 else result_type(x.dtype, float)
    x = _cast_tensor(x, dtype)
    if isinstance(axis, list):
        axis = tuple(axis)
    return torch.linalg.norm(x, ord=ord, dim=axis, keepdim=keepdims)


def qr(x: ArrayLike, mode: str = "reduced") -> tuple[torch.Tensor, torch.Tensor]:
    """QR decomposition (``mode`` ``"reduced"`` or ``"complete"``)."""
    if mode not in ("reduced", "complete"):
        raise ValueError(
            f"`mode` argument value not supported. Expected one of {{'reduced', 'complete'}}. Received: mode={mode}"
        )
    return torch.linalg.qr(_float(x), mode=mode)


def solve(a: ArrayLike, b: ArrayLike) -> torch.Tensor:
    """The ``x`` with ``a @ x = b``."""
    a, b = _ts(a, b)
    return torch.linalg.solve(_float(a), _float(b))


def solve_triangular(a: ArrayLike, b: ArrayLike, lower: bool = False) -> torch.Tensor:
    """The ``x`` with ``a @ x = b`` for triangular ``a`` (upper unless ``lower``)."""
    a, b = _ts(a, b)
    a, b = _float(a), _float(b)
    if b.ndim == a.ndim - 1:
        return torch.linalg.solve_triangular(a, b.unsqueeze(-1), upper=not lower).squeeze(-1)
    return torch.linalg.solve_triangular(a, b, upper=not lower)


def svd(x: ArrayLike, full_matrices: bool = True, compute_uv: bool = True) -> Any:
    """Singular value decomposition ``(u, s, vh)``, or only ``s`` when ``compute_uv=False``."""
    x = _float(x)
    if not compute_uv:
        return torch.linalg.svdvals(x)
    return torch.linalg.svd(x, full_matrices=full_matrices)


def lstsq(a: ArrayLike, b: ArrayLike, rcond: float | None = None) -> torch.Tensor:
    """The least-squares solution ``x`` of ``a @ x = b``."""
    a, b = _ts(a, b)
    a, b = _float(a), _float(b)
    vector = b.ndim == a.ndim - 1
    if vector:
        b = b.unsqueeze(-1)
    x = (
        torch.linalg.pinv(a, rtol=rcond) @ b
        if rcond is not None or a.device.type != "cpu"
        else (torch.linalg.lstsq(a, b).solution)
    )
    return x.squeeze(-1) if vector else x


def matrix_rank(x: ArrayLike, tol: float | None = None) -> torch.Tensor:
    """Rank of (a batch of) matrices, ``int32``."""
    return torch.linalg.matrix_rank(_float(x), atol=tol).to(torch.int32)


def pinv(x: ArrayLike, rcond: float | None = None) -> torch.Tensor:
    """Moore-Penrose pseudo-inverse."""
    return torch.linalg.pinv(_float(x), rtol=rcond)


def slogdet(x: ArrayLike) -> tuple[torch.Tensor, torch.Tensor]:
    """Sign and log of the absolute determinant."""
    return tuple(torch.linalg.slogdet(_float(x)))


def jvp(fun: Any, primals: Any, tangents: Any, has_aux: bool = False) -> Any:
    """Jacobian-vector product: ``(fun(*primals), J @ tangents)`` (plus aux when ``has_aux``)."""
    return torch.func.jvp(fun, tuple(primals), tuple(tangents), has_aux=has_aux)
