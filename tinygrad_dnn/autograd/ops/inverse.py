r"""Matrix inverse, linear solve and determinant (``torch.linalg.inv`` / ``solve`` / ``det``).

Gradients (real square matrices, batched over leading dims; :math:`\bar Y` is the incoming gradient):

- :math:`Y = A^{-1}`: :math:`dY = -Y\,dA\,Y`, so :math:`\bar A = -Y^T \bar Y Y^T`.
- :math:`X = A^{-1} B`: :math:`\bar B = A^{-T} \bar X` (one more solve), :math:`\bar A = -\bar B X^T`.
- :math:`d = \det A`: Jacobi's formula :math:`\partial d / \partial A = d\,A^{-T}`, so
  :math:`\bar A = \bar d\, d\, A^{-T}`. At a singular ``A`` this formula needs :math:`A^{-1}` and raises
  (torch returns the adjugate there); every backward is written with differentiable ops, so second
  derivatives work.
"""
from __future__ import annotations

from ..function import Function


class Inv(Function):
    r"""Y = A^{-1};  \bar A = -Y^T \bar Y Y^T."""

    saves_output = True

    @staticmethod
    def forward(ctx, a):
        return a.backend.linalg_inv(a._data)

    @staticmethod
    def backward(ctx, g):
        y = ctx.output()
        yt = y.mT
        return -(yt @ g @ yt)


class Solve(Function):
    r"""X = A^{-1} B for A (..., n, n), B (..., n, k) with equal batch shapes;
    \bar B = A^{-T} \bar X,  \bar A = -\bar B X^T."""

    saves_output = True

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a)
        return a.backend.linalg_solve(a._data, b._data)

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        x = ctx.output()
        gb = Solve.apply(a.mT, g)
        need_a, _ = ctx.needs_input_grad
        ga = -(gb @ x.mT) if need_a else None
        return ga, gb


class Det(Function):
    r"""d = det A;  \bar A = \bar d\, d\, A^{-T} (Jacobi's formula)."""

    saves_output = True

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return a.backend.linalg_det(a._data)

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        d = ctx.output()
        return (g * d).unsqueeze(-1).unsqueeze(-1) * Inv.apply(a).mT
