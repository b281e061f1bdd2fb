r"""``torch.autograd.functional``: Jacobians, Hessians and their products, with torch's signatures.

For ``f: (x_1, ..., x_n) -> (y_1, ..., y_m)`` with Jacobian blocks :math:`J_{ki} = \partial y_k / \partial x_i`:

- ``vjp(f, x, v)``: :math:`(f(x),\ v^T J)`, one reverse pass; shaped like the inputs.
- ``jvp(f, x, v)``: :math:`(f(x),\ J v)`, shaped like the outputs. Computed with the double-VJP
  trick: :math:`g(u) = J^T u` is linear in :math:`u`, so :math:`J v = \partial_u \langle g(u), v\rangle`
  (two reverse passes, no forward mode needed).
- ``jacobian(f, x)``: every :math:`J_{ki}` with shape ``y_k.shape + x_i.shape`` (one reverse pass per
  output element).
- ``hessian(f, x)`` for a scalar ``f``: :math:`H_{ij} = \partial^2 f / \partial x_i \partial x_j`, the Jacobian
  of the gradient (built with ``create_graph=True``).
- ``vhp(f, x, v)`` = :math:`v^T H` and ``hvp(f, x, v)`` = :math:`H v`: differentiate
  :math:`\langle \nabla f, v\rangle` once more (equal for the symmetric Hessian of a smooth ``f``).

Return conventions are torch's: a result is a tuple where the corresponding argument (``inputs``)
or the function's output is a tuple, a Tensor otherwise; ``jacobian`` of tuple outputs and tuple inputs
is a tuple of tuples. Inputs a result does not depend on get zeros (``strict=True`` raises instead).
With ``create_graph=False`` results are detached; with ``True`` they are differentiable again,
also with respect to the original inputs. ``vectorize`` and ``strategy`` are accepted and ignored
(always reverse mode, one pass per row).
"""
from __future__ import annotations

from .function import grad as _grad
from .grad_mode import enable_grad
from .tensor import Tensor

__all__ = ["vjp", "jvp", "jacobian", "hessian", "vhp", "hvp"]


def _as_tuple(x, arg_name, fn_name):
    is_tuple = isinstance(x, tuple)
    xs = x if is_tuple else (x,)
    for i, el in enumerate(xs):
        if not isinstance(el, Tensor):
            if is_tuple:
                raise TypeError(f"The {arg_name} given to {fn_name} must be either a Tensor or a tuple of Tensors "
                                f"but the value at index {i} has type {type(el)}.")
            raise TypeError(f"The {arg_name} given to {fn_name} must be either a Tensor or a tuple of Tensors "
                            f"but the given {arg_name} has type {type(el)}.")
    return is_tuple, xs


def _prep(xs, create_graph):
    """Differentiable stand-ins for the inputs: connected to the caller's graph iff create_graph."""
    return tuple(x.clone() if create_graph and x.requires_grad else x.detach().requires_grad_(True) for x in xs)


def _zeros(t):
    from .creation import zeros_like

    return zeros_like(t)


def _fill(gs, like, strict, fn_name, what="input"):
    out = []
    for i, (g, x) in enumerate(zip(gs, like)):
        if g is None:
            if strict:
                raise RuntimeError(f"The output of the user-provided function is independent of {what} {i}. "
                                   f"This is not allowed in strict mode ({fn_name}).")
            g = _zeros(x)
        out.append(g)
    return tuple(out)


def _finish(t, create_graph):
    return t if create_graph else t.detach()


def _call(func, xs, fn_name):
    with enable_grad():
        out = func(*xs)
    is_tuple, outs = _as_tuple(out, "outputs of the user-provided function", fn_name)
    return is_tuple, outs


def _check_v(v, refs, fn_name, what):
    if v is None:
        if len(refs) != 1 or refs[0].numel() != 1:
            raise RuntimeError(f"The vector v can only be None if the {what} is a single Tensor with a single "
                               f"element ({fn_name}).")
        from .creation import ones_like

        return (ones_like(refs[0]),)
    _, vs = _as_tuple(v, "v", fn_name)
    if len(vs) != len(refs):
        raise RuntimeError(f"v is a tuple of invalid length: should be {len(refs)} but got {len(vs)} ({fn_name}).")
    for i, (a, b) in enumerate(zip(vs, refs)):
        if tuple(a.shape) != tuple(b.shape):
            raise RuntimeError(f"Mismatch in shape: v[{i}] has a shape of {tuple(a.shape)} and the "
                               f"{what} [{i}] has a shape of {tuple(b.shape)} ({fn_name}).")
    return vs


def _grads(outs, xs, vs, create_graph, retain_graph=True):
    pairs = [(o, v) for o, v in zip(outs, vs) if o.requires_grad]
    if not pairs:
        return (None,) * len(xs)
    return _grad([p[0] for p in pairs], list(xs), [p[1] for p in pairs], retain_graph=retain_graph,
                 create_graph=create_graph, allow_unused=True)


def vjp(func, inputs, v=None, create_graph=False, strict=False):
    """``(func(inputs), v^T J)``; ``v`` is shaped like the outputs (may be None for one scalar output)."""
    in_tuple, xs = _as_tuple(inputs, "inputs", "vjp")
    xs = _prep(xs, create_graph)
    out_tuple, outs = _call(func, xs, "vjp")
    vs = _check_v(v, outs, "vjp", "user-provided function returns")
    gs = _fill(_grads(outs, xs, vs, create_graph), xs, strict, "vjp")
    outs = tuple(_finish(o, create_graph) for o in outs)
    gs = tuple(_finish(g, create_graph) for g in gs)
    return (outs if out_tuple else outs[0]), (gs if in_tuple else gs[0])


def jvp(func, inputs, v=None, create_graph=False, strict=False):
    """``(func(inputs), J v)``; ``v`` is shaped like the inputs (may be None for one single-element input)."""
    from .creation import zeros_like

    in_tuple, xs = _as_tuple(inputs, "inputs", "jvp")
    vs = _check_v(v, xs, "jvp", "input to the user-provided function")
    xs = _prep(xs, create_graph)
    out_tuple, outs = _call(func, xs, "jvp")
    us = tuple(zeros_like(o).requires_grad_(True) for o in outs)
    gs = _grads(outs, xs, us, create_graph=True)
    total = None
    for g, vi in zip(gs, vs):
        if g is not None:
            term = (g * vi).sum()
            total = term if total is None else total + term
    if total is None or not total.requires_grad:
        jv = (None,) * len(outs)
    else:
        jv = _grad(total, list(us), create_graph=create_graph, allow_unused=True)
    jv = _fill(jv, outs, strict, "jvp", "the inputs for output")
    outs = tuple(_finish(o, create_graph) for o in outs)
    jv = tuple(_finish(j, create_graph) for j in jv)
    return (outs if out_tuple else outs[0]), (jv if out_tuple else jv[0])


def _jacobian_blocks(outs, xs, create_graph, strict, fn_name):
    """blocks[k][i] = d outs[k] / d xs[i], shape outs[k].shape + xs[i].shape."""
    from .creation import eye, stack, zeros

    blocks = []
    for k, o in enumerate(outs):
        m = o.numel()
        rows = [[] for _ in xs]
        if m and o.requires_grad:
            basis = eye(m, dtype=o.dtype, device=o.device)
            for j in range(m):
                gs = _grad(o, list(xs), basis[j].reshape(tuple(o.shape)), retain_graph=True,
                           create_graph=create_graph, allow_unused=True)
                for i, g in enumerate(gs):
                    rows[i].append(g)
        row_k = []
        for i, x in enumerate(xs):
            shape = tuple(o.shape) + tuple(x.shape)
            if strict and (not o.requires_grad or any(g is None for g in rows[i])):
                raise RuntimeError(f"Output {k} of the user-provided function is independent of input {i}. "
                                   f"This is not allowed in strict mode ({fn_name}).")
            if not rows[i] or all(g is None for g in rows[i]):
                row_k.append(zeros(shape, dtype=x.dtype, device=x.device))
            else:
                parts = [g if g is not None else _zeros(x) for g in rows[i]]
                row_k.append(_finish(stack(parts).reshape(shape), create_graph))
        blocks.append(tuple(row_k))
    return blocks


def jacobian(func, inputs, create_graph=False, strict=False, vectorize=False, strategy="reverse-mode"):
    """The Jacobian of ``func`` at ``inputs``: a Tensor ``out.shape + in.shape`` for one input and one output,
    a tuple over inputs or outputs where one of them is a tuple, a tuple (outputs) of tuples (inputs) for both."""
    if strategy not in ("reverse-mode", "forward-mode"):
        raise ValueError('Expected strategy to be either "forward-mode" or "reverse-mode". Hint: If your '
                         'function has more outputs than inputs, "forward-mode" tends to be more performant. '
                         'Otherwise, prefer to use "reverse-mode".')
    in_tuple, xs = _as_tuple(inputs, "inputs", "jacobian")
    xs = _prep(xs, create_graph)
    out_tuple, outs = _call(func, xs, "jacobian")
    blocks = _jacobian_blocks(outs, xs, create_graph, strict, "jacobian")
    rows = [b if in_tuple else b[0] for b in blocks]
    return tuple(rows) if out_tuple else rows[0]


def _scalar_output(func, xs, fn_name):
    out_tuple, outs = _call(func, xs, fn_name)
    if out_tuple or len(outs) != 1 or outs[0].numel() != 1:
        raise RuntimeError(f"The function given to {fn_name} should return a single Tensor with a single element"
                           f" (got {'a tuple of ' + str(len(outs)) if out_tuple else 'shape ' + str(tuple(outs[0].shape))}).")
    return outs[0]


def hessian(func, inputs, create_graph=False, strict=False, vectorize=False, outer_jacobian_strategy="reverse-mode"):
    """Hessian of a scalar ``func``: a Tensor ``in.shape + in.shape`` for one input, else ``H[i][j]`` with
    shape ``in_i.shape + in_j.shape`` (a tuple of tuples)."""
    in_tuple, xs = _as_tuple(inputs, "inputs", "hessian")
    xs = _prep(xs, create_graph)
    out = _scalar_output(func, xs, "hessian")
    gs = _fill(_grads((out,), xs, (None,), create_graph=True), xs, strict, "hessian")
    blocks = _jacobian_blocks(gs, xs, create_graph, strict, "hessian")
    return tuple(blocks) if in_tuple else blocks[0][0]


def _second(func, inputs, v, create_graph, strict, fn_name):
    in_tuple, xs = _as_tuple(inputs, "inputs", fn_name)
    vs = _check_v(v, xs, fn_name, "input to the user-provided function")
    xs = _prep(xs, create_graph)
    out = _scalar_output(func, xs, fn_name)
    gs = _grads((out,), xs, (None,), create_graph=True)
    total = None
    for g, vi in zip(gs, vs):
        if g is not None:
            term = (g * vi).sum()
            total = term if total is None else total + term
    if total is None or not total.requires_grad:
        hv = (None,) * len(xs)
    else:
        hv = _grad(total, list(xs), create_graph=create_graph, allow_unused=True)
    hv = tuple(_finish(h, create_graph) for h in _fill(hv, xs, strict, fn_name))
    return _finish(out, create_graph), (hv if in_tuple else hv[0])


def vhp(func, inputs, v=None, create_graph=False, strict=False):
    """``(func(inputs), v^T H)`` for a scalar ``func``; shaped like the inputs."""
    return _second(func, inputs, v, create_graph, strict, "vhp")


def hvp(func, inputs, v=None, create_graph=False, strict=False):
    """``(func(inputs), H v)`` for a scalar ``func``; shaped like the inputs (H is symmetric: equals ``vhp``)."""
    return _second(func, inputs, v, create_graph, strict, "hvp")
