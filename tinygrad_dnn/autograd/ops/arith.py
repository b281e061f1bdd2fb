"""Arithmetic: + - * / unary minus, ** (scalar and tensor exponents), remainder and floor-divide.
Broadcasting is undone by the engine, never here."""
from __future__ import annotations

import math

from ..function import Function
from .elementwise import _const, _d, _safe_where, _zero_where, _zeros, ctx_tensor


class Add(Function):
    """z = a + b;  dz/da = 1, dz/db = 1 (broadcast undone by the engine)."""

    @staticmethod
    def forward(ctx, a, b):
        return _d(a) + _d(b)

    @staticmethod
    def backward(ctx, g):
        return g, g


class Sub(Function):
    """z = a - b;  dz/da = 1, dz/db = -1."""

    @staticmethod
    def forward(ctx, a, b):
        return _d(a) - _d(b)

    @staticmethod
    def backward(ctx, g):
        return g, (-g if ctx.needs_input_grad[1] else None)


class Mul(Function):
    """z = a * b;  dz/da = b, dz/db = a."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a if ctx_tensor(a) else None, b if ctx_tensor(b) else None)
        ctx.scalars = (a, b)
        return _d(a) * _d(b)

    @staticmethod
    def backward(ctx, g):
        sa, sb = ctx.saved_tensors
        a = sa if sa is not None else ctx.scalars[0]
        b = sb if sb is not None else ctx.scalars[1]
        need = ctx.needs_input_grad
        return (g * b if need[0] else None), (g * a if need[1] else None)


class Div(Function):
    """z = a / b;  dz/da = 1/b, dz/db = -(a/b)/b."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a if ctx_tensor(a) else None, b if ctx_tensor(b) else None)
        ctx.scalars = (a, b)
        return _d(a) / _d(b)

    @staticmethod
    def backward(ctx, g):
        sa, sb = ctx.saved_tensors
        a = sa if sa is not None else ctx.scalars[0]
        b = sb if sb is not None else ctx.scalars[1]
        need = ctx.needs_input_grad
        ga = g / b if need[0] else None
        gb = -g * ((a / b) / b) if need[1] else None  # PyTorch's order: b * b would overflow first
        return ga, gb


class Neg(Function):
    """z = -a."""

    @staticmethod
    def forward(ctx, a):
        return -a._data

    @staticmethod
    def backward(ctx, g):
        return -g


class PowScalar(Function):
    """z = a^p for a constant p;  dz/da = p a^(p-1), and exactly 0 for p = 0 (also at a = 0, as PyTorch)."""

    @staticmethod
    def forward(ctx, a, p):
        ctx.save_for_backward(a)
        ctx.p = p
        if p == 2:
            return a._data * a._data
        return a._data ** p

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        p = ctx.p
        if p == 2:
            return g * (2.0 * a), None
        if p == 1:
            return g, None
        if p == 0:  # d/da a^0 = 0 everywhere, not 0 * 0^-1 = nan at a = 0 (and 0 where g is nan, as PyTorch)
            return _zeros(g), None
        return g * (p * a ** (p - 1)), None


class Pow(Function):
    """z = a^b (both may be tensors);  dz/da = b a^(b-1), dz/db = a^b log a.

    PyTorch's conventions where the formulas break down: dz/da = 0 where b = 0 (also at a = 0),
    dz/db = 0 where a = 0 and b >= 0; log a of a negative base is nan (not an error).
    """

    saves_output = True

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a if ctx_tensor(a) else None, b if ctx_tensor(b) else None)
        ctx.scalars = (a, b)
        return _d(a) ** _d(b)

    @staticmethod
    def backward(ctx, g):
        sa, sb = ctx.saved_tensors
        a = sa if sa is not None else ctx.scalars[0]
        b = sb if sb is not None else ctx.scalars[1]
        need = ctx.needs_input_grad
        ga = gb = None
        if need[0]:
            ga = g * b * a ** (b - 1)
            if sb is None:
                if b == 0:
                    ga = _zeros(g)
            elif bool(sb.backend.xp.any(sb._data == 0)):  # d/da a^0 = 0, even at a = 0
                ga = _zero_where(ga, sb._data == 0)
        if need[1]:
            xp = sb.backend.xp
            if sa is not None:  # log of 1 instead of 0 where the result is 0 (keeps nan out of higher orders)
                hole = (sa._data == 0) & (sb._data >= 0)
                loga = _safe_where(hole, 1.0, a).log() if bool(xp.any(hole)) else a.log()
            elif a == 0:  # Python scalar base 0: log 0 = -inf only matters where b < 0 (0^b = inf)
                loga = _const(sb, xp.where(sb._data >= 0, xp.zeros_like(sb._data), xp.full_like(sb._data, -math.inf)))
            else:  # math.log would raise for a < 0; the log of a negative base is nan, as PyTorch
                loga = math.log(a) if a > 0 else math.nan
            gb = g * ctx.output() * loga
        return ga, gb


class Remainder(Function):
    """z = a mod b = a - floor(a / b) b (sign of b, as Python and torch.remainder);
    dz/da = 1, dz/db = -floor(a / b) (away from the jumps)."""

    @staticmethod
    def forward(ctx, a, b):
        xp = (a if ctx_tensor(a) else b).backend.xp
        ctx.save_for_backward(a if ctx_tensor(a) else None, b if ctx_tensor(b) else None)
        ctx.scalars = (a, b)
        return xp.remainder(_d(a), _d(b))

    @staticmethod
    def backward(ctx, g):
        need = ctx.needs_input_grad
        gb = None
        if need[1]:
            sa, sb = ctx.saved_tensors
            a = sa if sa is not None else ctx.scalars[0]
            q = (a / sb).detach()
            gb = -g * _const(q, q.backend.xp.floor(q._data))
        return (g if need[0] else None), gb


class FloorDivide(Function):
    """z = floor(a / b) as Python's float ``//`` (1.0 // 0.1 = 9.0, as torch).

    Piecewise constant; PyTorch defines no derivative for floor_divide and raises in backward,
    so this op does the same rather than silently returning 0.
    """

    @staticmethod
    def forward(ctx, a, b):
        return _d(a) // _d(b)

    @staticmethod
    def backward(ctx, g):
        raise RuntimeError("floor_divide: the derivative of floor_divide is not implemented (as torch). "
                           "Use (a / b).floor() for a zero gradient, or detach() the operands.")
