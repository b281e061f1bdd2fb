"""L-BFGS (PyTorch's ``LBFGS``): limited-memory quasi-Newton with an optional strong-Wolfe line search."""
from __future__ import annotations

from ..autograd.grad_mode import enable_grad, no_grad
from .optimizer import Optimizer


def _cubic_min(x1, f1, g1, x2, f2, g2, bounds=None):
    """Minimiser of the cubic through (x1, f1, f'=g1) and (x2, f2, f'=g2), clipped to ``bounds``."""
    lo, hi = bounds if bounds is not None else ((x1, x2) if x1 <= x2 else (x2, x1))
    d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
    d2_sq = d1 * d1 - g1 * g2
    if d2_sq < 0:
        return (lo + hi) / 2.0
    d2 = d2_sq ** 0.5
    if x1 <= x2:
        x = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
    else:
        x = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2))
    return min(max(x, lo), hi)


class LBFGS(Optimizer):
    r"""L-BFGS (Nocedal 1980; Liu & Nocedal 1989) for small full-batch problems; ``step(closure)`` runs up to
    ``max_iter`` iterations.

    ``LBFGS(params, lr=1, max_iter=20, max_eval=None (= max_iter*5/4), tolerance_grad=1e-7,
    tolerance_change=1e-9, history_size=100, line_search_fn=None or 'strong_wolfe')``

    With the flat gradient :math:`g_k`, the stored pairs :math:`s_i = x_{i+1}-x_i`,
    :math:`y_i = g_{i+1}-g_i` (kept only when :math:`y_i^\top s_i > 10^{-10}`, at most ``history_size``),
    :math:`\rho_i = 1/(y_i^\top s_i)` and :math:`H_0 = y^\top s / y^\top y` (latest pair), the direction
    :math:`d_k = -H_k g_k` comes from the two-loop recursion:

    .. math::
        q &= -g_k;\quad \alpha_i = \rho_i s_i^\top q,\ q \leftarrow q - \alpha_i y_i \quad (i = k-1, \dots, k-m) \\
        r &= H_0 q;\quad \beta_i = \rho_i y_i^\top r,\ r \leftarrow r + (\alpha_i - \beta_i) s_i
             \quad (i = k-m, \dots, k-1);\quad d_k = r \\
        x_{k+1} &= x_k + t_k d_k

    with :math:`t_1 = \min(1, 1/\|g_1\|_1)\,\text{lr}` and :math:`t_k = \text{lr}` afterwards, or the step
    found by a strong-Wolfe line search (:math:`c_1 = 10^{-4}, c_2 = 0.9`, cubic interpolation).
    Stops early when :math:`\|g\|_\infty \le` tolerance_grad, :math:`g^\top d > -`tolerance_change,
    or when the step or the change of loss falls below tolerance_change.
    Only one parameter group is supported; its state lives in ``state[first_param]``.
    """

    def _validate_loaded_state(self, key, p, value):
        """L-BFGS keeps flat (all-parameter) history tensors: only the container is checked."""
        if not isinstance(value, dict):
            raise ValueError(f"LBFGS.load_state_dict: state of parameter {key} must be a dict, "
                             f"got {type(value).__name__}")

    def __init__(self, params, lr=1, max_iter=20, max_eval=None, tolerance_grad=1e-7, tolerance_change=1e-9,
                 history_size=100, line_search_fn=None):
        if max_eval is None:
            max_eval = max_iter * 5 // 4
        if line_search_fn not in (None, "strong_wolfe"):
            raise ValueError(f"LBFGS: line_search_fn must be None or 'strong_wolfe', got {line_search_fn!r}")
        super().__init__(params, dict(lr=lr, max_iter=max_iter, max_eval=max_eval, tolerance_grad=tolerance_grad,
                                      tolerance_change=tolerance_change, history_size=history_size,
                                      line_search_fn=line_search_fn))
        if len(self.param_groups) != 1:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups)")
        self._params = self.param_groups[0]["params"]

    def add_param_group(self, param_group):
        if self.param_groups:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups)")
        super().add_param_group(param_group)

    # --------------------------------------------------------------- flat views
    def _xp(self):
        return self._params[0].backend.xp

    def _flat_grad(self):
        xp = self._xp()
        parts = []
        for p in self._params:
            if p.grad is None:
                parts.append(xp.zeros((p.numel(),), dtype=p._data.dtype, device=p.backend.device))
            else:
                parts.append(xp.reshape(p.grad._data, (-1,)))
        return xp.concat(parts) if len(parts) > 1 else xp.asarray(parts[0], copy=True)

    def _add(self, t, d):
        xp = self._xp()
        off = 0
        for p in self._params:
            n = p.numel()
            p._data += t * xp.reshape(d[off:off + n], p._data.shape)
            p._version += 1
            off += n

    def _clone_params(self):
        return [self._xp().asarray(p._data, copy=True) for p in self._params]

    def _set_params(self, saved):
        for p, a in zip(self._params, saved):
            p._data[...] = a
            p._version += 1

    def _dot(self, a, b):
        return float(self._xp().vecdot(a, b))

    def _absmax(self, a):
        return float(self._xp().max(self._xp().abs(a)))

    def _evaluate(self, closure):
        with enable_grad():
            loss = closure()
        return float(loss)

    # --------------------------------------------------------------- line search
    def _directional(self, closure, x0, t, d):
        self._add(t, d)
        f = self._evaluate(closure)
        g = self._flat_grad()
        self._set_params(x0)
        return f, g

    def _strong_wolfe(self, closure, t, d, f, g, gtd, c1=1e-4, c2=0.9, tolerance_change=1e-9, max_ls=25):
        xp = self._xp()
        x0 = self._clone_params()
        d_norm = self._absmax(d)
        g = xp.asarray(g, copy=True)
        f_new, g_new = self._directional(closure, x0, t, d)
        evals = 1
        gtd_new = self._dot(g_new, d)
        t_prev, f_prev, g_prev, gtd_prev = 0, f, g, gtd
        done = False
        it = 0
        # bracketing phase
        while it < max_ls:
            if f_new > f + c1 * t * gtd or (it > 1 and f_new >= f_prev):
                br, br_f, br_g, br_gtd = [t_prev, t], [f_prev, f_new], [g_prev, g_new], [gtd_prev, gtd_new]
                break
            if abs(gtd_new) <= -c2 * gtd:
                br, br_f, br_g = [t], [f_new], [g_new]
                done = True
                break
            if gtd_new >= 0:
                br, br_f, br_g, br_gtd = [t_prev, t], [f_prev, f_new], [g_prev, g_new], [gtd_prev, gtd_new]
                break
            t_next = _cubic_min(t_prev, f_prev, gtd_prev, t, f_new, gtd_new,
                                bounds=(t + 0.01 * (t - t_prev), t * 10))
            t_prev, f_prev, g_prev, gtd_prev = t, f_new, g_new, gtd_new
            t = t_next
            f_new, g_new = self._directional(closure, x0, t, d)
            evals += 1
            gtd_new = self._dot(g_new, d)
            it += 1
        if it == max_ls:
            br, br_f, br_g = [0, t], [f, f_new], [g, g_new]
            br_gtd = [gtd, gtd_new]
        # zoom phase
        insuf = False
        lo, hi = (0, 1) if br_f[0] <= br_f[-1] else (1, 0)
        while not done and it < max_ls:
            if abs(br[1] - br[0]) * d_norm < tolerance_change:
                break
            t = _cubic_min(br[0], br_f[0], br_gtd[0], br[1], br_f[1], br_gtd[1])
            bmax, bmin = max(br), min(br)
            eps = 0.1 * (bmax - bmin)
            if min(bmax - t, t - bmin) < eps:
                if insuf or t >= bmax or t <= bmin:
                    t = bmax - eps if abs(t - bmax) < abs(t - bmin) else bmin + eps
                    insuf = False
                else:
                    insuf = True
            else:
                insuf = False
            f_new, g_new = self._directional(closure, x0, t, d)
            evals += 1
            gtd_new = self._dot(g_new, d)
            it += 1
            if f_new > f + c1 * t * gtd or f_new >= br_f[lo]:
                br[hi], br_f[hi], br_g[hi], br_gtd[hi] = t, f_new, g_new, gtd_new
                lo, hi = (0, 1) if br_f[0] <= br_f[1] else (1, 0)
            else:
                if abs(gtd_new) <= -c2 * gtd:
                    done = True
                elif gtd_new * (br[hi] - br[lo]) >= 0:
                    br[hi], br_f[hi], br_g[hi], br_gtd[hi] = br[lo], br_f[lo], br_g[lo], br_gtd[lo]
                br[lo], br_f[lo], br_g[lo], br_gtd[lo] = t, f_new, g_new, gtd_new
        return br_f[lo], br_g[lo], br[lo], evals

    # --------------------------------------------------------------- step
    def step(self, closure):
        """Run up to ``max_iter`` L-BFGS iterations; ``closure()`` must zero grads, compute the loss,
        call ``backward()`` and return the loss. Returns the loss at the starting point."""
        if closure is None:
            raise ValueError("LBFGS.step requires a closure that re-evaluates the model and returns the loss")
        with no_grad():
            return self._step(closure)

    def _step(self, closure):
        group = self.param_groups[0]
        lr, max_iter, max_eval = group["lr"], group["max_iter"], group["max_eval"]
        tol_grad, tol_change = group["tolerance_grad"], group["tolerance_change"]
        hist = group["history_size"]
        st = self.state.setdefault(self._params[0], {})
        st.setdefault("func_evals", 0)
        st.setdefault("n_iter", 0)

        with enable_grad():
            orig_loss = closure()
        loss = float(orig_loss)
        evals = 1
        st["func_evals"] += 1
        g = self._flat_grad()
        if self._absmax(g) <= tol_grad:
            return orig_loss

        d, t = st.get("d"), st.get("t")
        old_y, old_s, ro = st.get("old_dirs"), st.get("old_stps"), st.get("ro")
        h_diag, prev_g, prev_loss = st.get("H_diag"), st.get("prev_flat_grad"), st.get("prev_loss")
        d = d._data if d is not None else None
        prev_g = prev_g._data if prev_g is not None else None
        old_y = [a._data for a in old_y] if old_y is not None else None
        old_s = [a._data for a in old_s] if old_s is not None else None

        n_iter = 0
        while n_iter < max_iter:
            n_iter += 1
            st["n_iter"] += 1
            if st["n_iter"] == 1:
                d = -g
                old_y, old_s, ro = [], [], []
                h_diag = 1.0
            else:
                y = g - prev_g
                s = d * t
                ys = self._dot(y, s)
                if ys > 1e-10:
                    if len(old_y) == hist:
                        old_y.pop(0)
                        old_s.pop(0)
                        ro.pop(0)
                    old_y.append(y)
                    old_s.append(s)
                    ro.append(1.0 / ys)
                    h_diag = ys / self._dot(y, y)
                m = len(old_y)
                al = [0.0] * m
                q = -g
                for i in range(m - 1, -1, -1):
                    al[i] = self._dot(old_s[i], q) * ro[i]
                    q = q - al[i] * old_y[i]
                r = q * h_diag
                for i in range(m):
                    be = self._dot(old_y[i], r) * ro[i]
                    r = r + (al[i] - be) * old_s[i]
                d = r
            prev_g = self._xp().asarray(g, copy=True)
            prev_loss = loss
            if st["n_iter"] == 1:
                t = min(1.0, 1.0 / float(self._xp().sum(self._xp().abs(g)))) * lr
            else:
                t = lr
            gtd = self._dot(g, d)
            if gtd > -tol_change:
                break
            ls_evals = 0
            if group["line_search_fn"] is not None:
                loss, g, t, ls_evals = self._strong_wolfe(closure, t, d, loss, g, gtd, max_ls=max_eval - evals)
                self._add(t, d)
                opt_cond = self._absmax(g) <= tol_grad
            else:
                self._add(t, d)
                opt_cond = False
                if n_iter != max_iter:
                    loss = self._evaluate(closure)
                    g = self._flat_grad()
                    opt_cond = self._absmax(g) <= tol_grad
                    ls_evals = 1
            evals += ls_evals
            st["func_evals"] += ls_evals
            if n_iter == max_iter or evals >= max_eval or opt_cond:
                break
            if self._absmax(d) * abs(t) <= tol_change:
                break
            if abs(loss - prev_loss) < tol_change:
                break

        from .optimizer import _wrap

        b = self._params[0].backend
        st["d"] = _wrap(d, b)
        st["t"] = t
        st["old_dirs"] = [_wrap(a, b) for a in old_y]
        st["old_stps"] = [_wrap(a, b) for a in old_s]
        st["ro"] = ro
        st["H_diag"] = h_diag
        st["prev_flat_grad"] = _wrap(prev_g, b)
        st["prev_loss"] = prev_loss
        return orig_loss
