"""Higher-order helpers built on ``grad(create_graph=True)``: vjp, jvp, hvp, jacobian, hessian.

``jvp`` uses the double-VJP trick: with ``g(u) = J^T u`` (linear in u), ``J v = d/du <g(u), v>``.
It costs two reverse passes; the teaching notebook compares it with a true forward pass.
"""
from __future__ import annotations

from .function import grad
from .tensor import Tensor


def _as_tuple(x):
    return (x,) if isinstance(x, Tensor) else tuple(x)


def _prep(inputs):
    return tuple(x.detach().requires_grad_(True) for x in _as_tuple(inputs))


def vjp(func, inputs, v=None, create_graph=False):
    """(func(inputs), v^T J): the reverse-mode product."""
    from .creation import ones_like

    xs = _prep(inputs)
    out = func(*xs)
    if v is None:
        v = ones_like(out)
    gs = grad(out, xs, v, create_graph=create_graph, allow_unused=True)
    gs = tuple(g if g is not None else x.detach() * 0.0 for g, x in zip(gs, xs))
    return out.detach(), (gs[0] if isinstance(inputs, Tensor) else gs)


def jvp(func, inputs, v, create_graph=False):
    """(func(inputs), J v): the forward-mode product (via two reverse passes)."""
    from .creation import zeros_like

    xs = _prep(inputs)
    vs = _as_tuple(v)
    out = func(*xs)
    u = zeros_like(out).requires_grad_(True)
    gs = grad(out, xs, u, create_graph=True, allow_unused=True)
    total = None
    for g, vi in zip(gs, vs):
        if g is not None:
            term = (g * vi).sum()
            total = term if total is None else total + term
    if total is None:
        return out.detach(), zeros_like(out)
    (jv,) = grad(total, u, create_graph=create_graph)
    return out.detach(), jv


def hvp(func, inputs, v, create_graph=False):
    """(func(inputs), H v) for a scalar func: differentiate <grad f, v> once more."""
    xs = _prep(inputs)
    vs = _as_tuple(v)
    out = func(*xs)
    gs = grad(out, xs, create_graph=True)
    total = None
    for g, vi in zip(gs, vs):
        term = (g * vi).sum()
        total = term if total is None else total + term
    hv = grad(total, xs, create_graph=create_graph, allow_unused=True)
    hv = tuple(h if h is not None else x.detach() * 0.0 for h, x in zip(hv, xs))
    return out.detach(), (hv[0] if isinstance(inputs, Tensor) else hv)


def jacobian(func, x):
    """Full Jacobian d func(x) / dx with shape out.shape + x.shape (one reverse pass per output)."""
    from .creation import stack, zeros_like

    x = x.detach().requires_grad_(True)
    out = func(x)
    flat = out.reshape(-1)
    rows = []
    for i in range(flat.shape[0]):
        (g,) = grad(flat[i], x, retain_graph=True, allow_unused=True)
        rows.append(g if g is not None else zeros_like(x))
    return stack(rows).reshape(tuple(out.shape) + tuple(x.shape))


def hessian(func, x):
    """Hessian of a scalar func at x, shape x.shape + x.shape."""
    def g(y):
        (gy,) = grad(func(y), y, create_graph=True)
        return gy

    return jacobian(g, x)
