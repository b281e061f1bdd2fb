"""Newton-CG: a (truncated) Newton step for small problems, with Hessian-vector products from the core."""
from __future__ import annotations

from ..autograd.function import grad as _grad
from ..autograd.grad_mode import enable_grad, no_grad
from .optimizer import Optimizer, _wrap


class NewtonCG(Optimizer):
    r"""Newton's method with the linear system solved by conjugate gradients on Hessian-vector products.

    ``NewtonCG(params, lr=1.0, damping=0.0, cg_max_iter=None, cg_tol=1e-10)``

    ``step(closure)``: ``closure()`` computes and **returns the loss without calling backward** (the
    optimizer differentiates it twice). With :math:`g = \nabla L(\theta)` and :math:`H = \nabla^2 L(\theta)`,
    CG (at most ``cg_max_iter`` iterations, default: number of unknowns; stopping when
    :math:`\|r\| \le \text{cg\_tol}\,\|g\|`) solves

    .. math::
        (H + \lambda I)\, d = -g, \qquad \theta \leftarrow \theta + \gamma\, d
        \qquad (\lambda = \text{damping},\ \gamma = \text{lr})

    using only products :math:`Hv = \nabla_\theta \langle \nabla_\theta L, v\rangle` (double backward).
    If CG meets a direction of non-positive curvature it stops there (first iteration: :math:`d = -g`,
    gradient descent). On a convex quadratic one step with ``lr=1`` lands on the minimum.
    State: ``n_iter``, ``cg_iters`` (of the last step).
    """

    def __init__(self, params, lr=1.0, damping=0.0, cg_max_iter=None, cg_tol=1e-10):
        super().__init__(params, dict(lr=lr, damping=damping, cg_max_iter=cg_max_iter, cg_tol=cg_tol))

    def _check_group(self, group):
        super()._check_group(group)
        if not group["damping"] >= 0:
            raise ValueError(f"NewtonCG: invalid damping={group['damping']} (must be >= 0)")

    def step(self, closure):
        if closure is None:
            raise ValueError("NewtonCG.step requires a closure that returns the loss (without calling backward)")
        params = [p for g in self.param_groups for p in g["params"]]
        group = self.param_groups[0]
        lr, damping, tol = group["lr"], group["damping"], group["cg_tol"]
        with enable_grad():
            loss = closure()
            gs = _grad(loss, params, create_graph=True, allow_unused=True)
        live = [(p, g) for p, g in zip(params, gs) if g is not None]
        if not live:
            return loss
        params = [p for p, _ in live]
        gs = [g for _, g in live]
        xp = params[0].backend.xp
        n = sum(p.numel() for p in params)
        max_iter = group["cg_max_iter"] or n

        def dot(a, b):
            return float(sum(xp.sum(x * y) for x, y in zip(a, b)))

        def hvp(v):
            with enable_grad():
                total = None
                for g, vi in zip(gs, v):
                    term = (g * _wrap(vi, g.backend)).sum()
                    total = term if total is None else total + term
                hv = _grad(total, params, retain_graph=True, allow_unused=True)
            out = []
            for h, vi in zip(hv, v):
                a = xp.zeros_like(vi) if h is None else h._data
                out.append(a + damping * vi if damping else a)
            return out

        g0 = [g._data for g in gs]
        gnorm2 = dot(g0, g0)
        d = [xp.zeros_like(a) for a in g0]
        r = [-a for a in g0]  # residual of (H + damping I) d = -g at d = 0
        pdir = [xp.asarray(a, copy=True) for a in r]
        rr = gnorm2
        it = 0
        while it < max_iter and rr > (tol * tol) * gnorm2 and rr > 0:
            hp = hvp(pdir)
            curv = dot(pdir, hp)
            if curv <= 0:
                if it == 0:
                    d = [xp.asarray(a, copy=True) for a in r]
                break
            alpha = rr / curv
            d = [a + alpha * b for a, b in zip(d, pdir)]
            r = [a - alpha * b for a, b in zip(r, hp)]
            rr_new = dot(r, r)
            beta = rr_new / rr
            pdir = [a + beta * b for a, b in zip(r, pdir)]
            rr = rr_new
            it += 1
        with no_grad():
            for p, di in zip(params, d):
                p._data += lr * di
                p._version += 1
        st = self.state.setdefault(params[0], {})
        st["n_iter"] = st.get("n_iter", 0) + 1
        st["cg_iters"] = it
        self._step_count += 1
        return loss.detach()
