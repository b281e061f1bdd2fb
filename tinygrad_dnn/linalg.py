r"""``torch.linalg``: norms, inverse, solve and determinant, all differentiable.

- ``vector_norm(x, ord=2, dim=None)``: :math:`(\sum_i |x_i|^p)^{1/p}`; ``inf``/``-inf``: max/min
  :math:`|x_i|`; ``0``: the number of non-zeros (gradient 0). ``dim=None`` flattens.
- ``matrix_norm(A, ord='fro', dim=(-2, -1))``: ``'fro'`` :math:`\sqrt{\sum_{ij} a_{ij}^2}`; ``1``/``-1``:
  max/min column sum of :math:`|a_{ij}|`; ``inf``/``-inf``: max/min row sum. (``'nuc'``, ``2``, ``-2`` need
  singular values and raise ``NotImplementedError``.)
- ``norm(A, ord=None, dim=None)``: torch's dispatch: a matrix norm for a 2-tuple ``dim`` (or a 2-D
  input with an ``ord``), a vector norm otherwise.
- ``inv(A)`` = :math:`A^{-1}`, ``solve(A, B)`` = :math:`A^{-1} B` (``left=False``: :math:`B A^{-1}`),
  ``det(A)``; their gradients are derived in ``autograd/ops/inverse.py``. A singular matrix raises
  :class:`LinAlgError` (a ``RuntimeError``).
"""
from __future__ import annotations

import math

from .autograd import dtype as _dt
from .autograd.ops.inverse import Det, Inv, Solve
from .autograd.tensor import Tensor
from .backend.base import LinAlgError

__all__ = ["norm", "vector_norm", "matrix_norm", "inv", "solve", "det", "LinAlgError"]


def _float_input(op, A, dtype=None):
    if not isinstance(A, Tensor):
        raise TypeError(f"linalg.{op}(): argument 'input' must be Tensor, not {type(A).__name__}")
    if dtype is not None:
        A = A.to(_dt.get_dtype(dtype))
    if not A.dtype.is_floating_point:
        raise RuntimeError(f"linalg.{op}: Expected a floating point or complex tensor as input. Got {A.dtype} "
                           "(convert with .float() or .double())")
    return A


def _square(op, A):
    if A.ndim < 2 or A.shape[-1] != A.shape[-2]:
        if A.ndim < 2:
            raise RuntimeError(f"linalg.{op}: The input tensor A must have at least 2 dimensions, got shape "
                               f"{tuple(A.shape)}")
        raise RuntimeError(f"linalg.{op}: A must be batches of square matrices, but they are {A.shape[-2]} by "
                           f"{A.shape[-1]} matrices")


def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None):
    """The vector ``ord``-norm over ``dim`` (all elements when None)."""
    x = _float_input("vector_norm", x, dtype)
    if isinstance(ord, str):
        raise RuntimeError(f"linalg.vector_norm: ord must be a number, got {ord!r} (use matrix_norm for 'fro'/'nuc')")
    if dim is None and keepdim:
        dim = tuple(range(x.ndim))
    if ord == 0:
        count = (x != 0).to(x.dtype).sum(dim=dim, keepdim=keepdim)
        return count + (x * 0.0).sum(dim=dim, keepdim=keepdim)  # in the graph with gradient 0, as torch
    if ord == -math.inf:
        return x.abs().amin(dim=dim, keepdim=keepdim)
    if ord < 0:
        s = (x.abs() ** ord).sum(dim=dim, keepdim=keepdim)
        return s ** (1.0 / ord)
    return x.norm(p=ord, dim=dim, keepdim=keepdim)


def matrix_norm(A, ord="fro", dim=(-2, -1), keepdim=False, *, dtype=None):
    """The matrix ``ord``-norm over the two dims ``dim`` (batched over the others)."""
    A = _float_input("matrix_norm", A, dtype)
    if A.ndim < 2:
        raise RuntimeError(f"linalg.matrix_norm: The input tensor A must have at least 2 dimensions, got shape "
                           f"{tuple(A.shape)}")
    d0, d1 = (int(d) % A.ndim for d in dim)
    if d0 == d1:
        raise RuntimeError(f"linalg.matrix_norm: dims must be different. Got ({dim[0]}, {dim[1]})")
    if ord == "fro":
        out = A.norm(p=2, dim=(d0, d1), keepdim=True)
    elif ord in (1, -1, math.inf, -math.inf):
        rows, cols = (d0, d1) if abs(ord) == 1 else (d1, d0)  # sum over rows for the 1-norm (column sums)
        s = A.abs().sum(dim=rows, keepdim=True)
        out = s.amax(dim=cols, keepdim=True) if ord > 0 else s.amin(dim=cols, keepdim=True)
    elif ord in ("nuc", 2, -2):
        raise NotImplementedError(f"linalg.matrix_norm: ord={ord!r} needs singular values (an SVD), which "
                                  "tinygrad_dnn does not implement; use 'fro', 1, -1, inf or -inf")
    else:
        raise RuntimeError(f"linalg.matrix_norm: Order {ord} not supported.")
    return out if keepdim else out.squeeze(max(d0, d1)).squeeze(min(d0, d1))


def norm(A, ord=None, dim=None, keepdim=False, *, dtype=None):
    """``torch.linalg.norm``: vector or matrix norm depending on ``ord`` and ``dim``."""
    if isinstance(dim, int):
        dim = (dim,)
    if dim is not None and len(dim) == 2 or (dim is None and ord is not None and A.ndim == 2) \
            or isinstance(ord, str):
        if dim is None:
            if A.ndim != 2:
                raise RuntimeError(f"linalg.norm: If dim is not specified but ord is, the input must be 1D or 2D. "
                                   f"Got {A.ndim}D.")
            dim = (-2, -1)
        return matrix_norm(A, "fro" if ord is None else ord, dim, keepdim, dtype=dtype)
    if dim is None and ord is not None and A.ndim != 1:
        raise RuntimeError(f"linalg.norm: If dim is not specified but ord is, the input must be 1D or 2D. "
                           f"Got {A.ndim}D.")
    return vector_norm(A, 2 if ord is None else ord, dim, keepdim, dtype=dtype)


def inv(A):
    """The inverse :math:`A^{-1}` of a (batch of) square matrix."""
    A = _float_input("inv", A)
    _square("inv", A)
    return Inv.apply(A)


def det(A):
    """The determinant of a (batch of) square matrix."""
    A = _float_input("det", A)
    _square("det", A)
    return Det.apply(A)


def solve(A, B, *, left=True):
    """X with A X = B (``left=False``: X A = B). ``B`` is a vector (batch) when it is 1-D or has the shape
    ``A.shape[:-1]``; batch dims broadcast."""
    A = _float_input("solve", A)
    B = _float_input("solve", B)
    _square("solve", A)
    if A.dtype is not B.dtype:
        raise RuntimeError(f"linalg.solve: Expected A and B to have the same dtype, but found A of type "
                           f"{A.dtype} and B of type {B.dtype} instead")
    if not left:
        return solve(A.mT, B.mT).mT
    vector = B.ndim == 1 or (B.ndim == A.ndim - 1 and tuple(B.shape) == tuple(A.shape[:-1]))
    if vector:
        B = B.unsqueeze(-1)
    if B.shape[-2] != A.shape[-1]:
        raise RuntimeError(f"linalg.solve: Incompatible shapes of A and B for the equation AX = B "
                           f"({A.shape[-2]}x{A.shape[-1]} and {B.shape[-2]}x{B.shape[-1]})")
    from .autograd.creation import _broadcast_shape

    batch = _broadcast_shape(tuple(A.shape[:-2]), tuple(B.shape[:-2]), op="linalg.solve")
    A = A.expand(*batch, *A.shape[-2:]) if tuple(A.shape[:-2]) != batch else A
    B = B.expand(*batch, *B.shape[-2:]) if tuple(B.shape[:-2]) != batch else B
    X = Solve.apply(A, B)
    return X.squeeze(-1) if vector else X
