"""Gradient checks against central finite differences.

    numeric_ij = (f(x + eps e_j)_i - f(x - eps e_j)_i) / (2 eps)
    pass  iff  |analytic - numeric| <= atol + rtol * |numeric|   for every checked element

Small inputs get the full Jacobian (one backward pass per output element, two forward passes per
input element). Large inputs get seeded directional checks: with random u (input space) and v
(output space), ``v^T J u`` from one backward pass is compared with
``v . (f(x + eps u) - f(x - eps u)) / (2 eps)``, which costs two forward passes per input.

Every input that requires grad is checked, not only the first. Before every evaluation the host
random state is replayed (so dropout draws the same mask) and the buffers of any module passed in
``preserve`` (or ``fn`` itself when it is a module) are restored (so BatchNorm running statistics
are left unchanged). Near a kink (ReLU at 0, abs at 0, max ties) the one-sided differences
disagree; with ``check_kinks=True`` such elements are reported as skipped instead of failing.

Finite differences want float64: the error is smallest near eps = 6e-6 in float64 (about 5e-3 in
float32, where eps = 1e-6 is useless), so float32 inputs are refused unless ``allow_float32=True``.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .autograd.function import grad as _grad
from .autograd.grad_mode import enable_grad
from .autograd.tensor import Tensor, _wrap
from .backend import get_backend
from .backend import random as _random

_hxp = get_backend("cpu").xp  # host array namespace (the NumPy backend's), for comparing numbers


class GradcheckError(AssertionError, RuntimeError):
    """A gradient check failed; the message names input, output, element, values, eps and seed.

    A ``RuntimeError`` as torch's ``torch.autograd.gradcheck.GradcheckError`` (and an ``AssertionError``).
    """


# torch.autograd.gradcheck's options that have no counterpart here: accepted and ignored
# (fast_mode=True maps to the seeded directional check).
_TORCH_ONLY = ("nondet_tol", "check_undefined_grad", "check_grad_dtypes", "check_batched_grad",
               "check_batched_forward_grad", "check_forward_ad", "check_backward_ad", "masked",
               "gen_non_contig_grad_outputs", "check_fwd_over_rev", "check_rev_over_rev")


def _torch_options(kwargs):
    for k in _TORCH_ONLY:
        kwargs.pop(k, None)
    if kwargs.pop("fast_mode", False):
        kwargs.setdefault("full_jacobian_max", 0)
    return kwargs


@dataclass
class Mismatch:
    input_index: int
    output_index: int
    element: tuple
    analytic: float
    numeric: float
    abs_err: float
    rel_err: float
    mode: str

    def describe(self, eps, seed, shapes_in, shapes_out):
        el = self.element
        cut = el.index("->") if "->" in el else len(el)
        out_el = el[cut + 1:]
        where = (f"d output {self.output_index}{list(out_el) if out_el else ''} (shape {shapes_out[self.output_index]}) / "
                 f"d input {self.input_index}{list(el[:cut])} (shape {shapes_in[self.input_index]})")
        if self.mode == "directional":
            where = (f"a random direction in input {self.input_index} (shape {shapes_in[self.input_index]}) "
                     f"against output {self.output_index} (shape {shapes_out[self.output_index]}), direction #{self.element[0]}")
        return (f"{where}: analytic {self.analytic:.10g}, numeric {self.numeric:.10g}, abs error {self.abs_err:.3g}, "
                f"rel error {self.rel_err:.3g} (eps={eps}, seed={seed})")


@dataclass
class GradcheckReport:
    """What a check did: ``passed``, ``max_rel_error``/``max_abs_error`` over checked elements,
    ``n_checks`` comparisons, ``worst`` mismatch, ``kinks`` skipped as non-differentiable."""

    passed: bool = True
    n_checks: int = 0
    max_abs_error: float = 0.0
    max_rel_error: float = 0.0
    worst: Mismatch | None = None
    failures: list = field(default_factory=list)
    kinks: list = field(default_factory=list)
    mode: str = "full"


def rel_error(a, n):
    """|a - n| / max(1e-8, |a| + |n|), elementwise max (the lectures' relative error)."""
    a = _host(a)
    n = _host(n)
    return float(_hxp.max(_hxp.abs(a - n) / _hxp.maximum(1e-8, _hxp.abs(a) + _hxp.abs(n))))


def _host(x):
    if isinstance(x, Tensor):
        return x.backend.to_host(x._data)
    return _hxp.asarray(x, dtype=_hxp.float64)


def numerical_grad(f, x, eps=1e-6):
    """Central-difference gradient of a scalar function ``f(x)`` with respect to tensor ``x``."""
    base = x.backend.to_host(x._data).copy()  # keep the dtype: float32 rounding is the point
    out = _hxp.zeros(base.shape, dtype=_hxp.float64)
    flat = base.reshape(-1)
    for j in range(flat.size):
        old = flat[j]
        flat[j] = old + eps
        fp = float(f(_wrap(x.backend.from_host(base.copy()), x.backend)).item())
        flat[j] = old - eps
        fm = float(f(_wrap(x.backend.from_host(base.copy()), x.backend)).item())
        flat[j] = old
        out.reshape(-1)[j] = (fp - fm) / (2 * eps)
    return _wrap(x.backend.from_host(out), x.backend)


class _Evaluator:
    """Calls ``fn`` on (possibly perturbed) copies of the inputs with state replayed."""

    def __init__(self, fn, inputs, preserve):
        self.fn = fn
        self.inputs = inputs
        self.rng = _random.get_rng_state()
        mods = list(preserve)
        if hasattr(fn, "buffers") and callable(fn.buffers):
            mods.append(fn)
        self.buffers = [b for m in mods for b in m.buffers()]
        self.saved = [b.backend.xp.asarray(b._data, copy=True) for b in self.buffers]

    def restore(self):
        _random.set_rng_state(self.rng)
        for b, s in zip(self.buffers, self.saved):
            b._data = b.backend.xp.asarray(s, copy=True)

    def __call__(self, replaced=None, detach=True):
        """Outputs (tuple of Tensors) with input ``i`` replaced by host array ``replaced[i]``."""
        self.restore()
        args = []
        for i, x in enumerate(self.inputs):
            if replaced and i in replaced:
                args.append(_wrap(x.backend.from_host(replaced[i]), x.backend, x.requires_grad))
            elif detach and isinstance(x, Tensor):
                args.append(_wrap(x._data, x.backend, x.requires_grad))
            else:
                args.append(x)
        with enable_grad():
            out = self.fn(*args)
        self.restore()
        return _as_outputs(out)


def _as_outputs(out):
    if isinstance(out, Tensor):
        return (out,)
    outs = tuple(o for o in out if isinstance(o, Tensor))
    if not outs:
        raise TypeError("gradcheck: fn must return a Tensor or a tuple of Tensors")
    return outs


def check_gradients(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, *, check_kinks=False, seed=0,
                    full_jacobian_max=256, n_directions=2, preserve=(), allow_float32=False):
    """Run the check and return a :class:`GradcheckReport` (never raises for a mismatch)."""
    inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
    diff = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    if not diff:
        raise ValueError("gradcheck: no input requires grad; call .requires_grad_() on the inputs to check")
    for i in diff:
        x = inputs[i]
        if x.dtype.name != "float64" and not allow_float32:
            raise ValueError(f"gradcheck: input {i} (shape {tuple(x.shape)}) is {x.dtype}; finite differences need "
                             "float64 (use .double()), or pass allow_float32=True with eps ~ 5e-3")
    ev = _Evaluator(fn, inputs, preserve)
    # analytic pass on the real graph
    ev.restore()
    with enable_grad():
        outs = _as_outputs(fn(*inputs))
    ev.restore()
    shapes_in = [tuple(x.shape) if isinstance(x, Tensor) else () for x in inputs]
    shapes_out = [tuple(o.shape) for o in outs]
    base = {i: inputs[i].backend.to_host(inputs[i]._data).astype(_hxp.float64, copy=True) for i in diff}
    n_in = sum(base[i].size for i in diff)
    n_out = sum(o.numel() for o in outs)
    report = GradcheckReport(mode="full" if max(n_in, n_out) <= full_jacobian_max else "directional")
    rng = _hxp.random.default_rng(seed)
    diff_inputs = [inputs[i] for i in diff]

    def vjp(out_index, v_host):
        o = outs[out_index]
        if not o.requires_grad:
            return [None] * len(diff)
        v = _wrap(o.backend.from_host(v_host.astype(o.backend.to_host(o._data).dtype)), o.backend)
        gs = _grad(o, diff_inputs, v, retain_graph=True, allow_unused=True)
        return [None if g is None else g.backend.to_host(g._data).astype(_hxp.float64) for g in gs]

    def numeric_dir(i, u):
        """(f(x + eps u) - f(x - eps u)) / 2 eps for every output, and the one-sided versions."""
        xp_ = base[i] + eps * u
        xm_ = base[i] - eps * u
        dt = inputs[i].backend.to_host(inputs[i]._data).dtype
        fp = [o.backend.to_host(o._data).astype(_hxp.float64) for o in ev({i: xp_.astype(dt)})]
        fm = [o.backend.to_host(o._data).astype(_hxp.float64) for o in ev({i: xm_.astype(dt)})]
        central = [(a - b) / (2 * eps) for a, b in zip(fp, fm)]
        if not check_kinks:
            return central, None
        f0 = [o.backend.to_host(o._data).astype(_hxp.float64) for o in ev()]
        fwd = [(a - b) / eps for a, b in zip(fp, f0)]
        bwd = [(b - c) / eps for b, c in zip(f0, fm)]
        return central, (fwd, bwd)

    def record(a, n, m_args, one_sided=None):
        report.n_checks += 1
        err = abs(a - n)
        rel = err / max(1e-8, abs(a) + abs(n))
        ok = err <= atol + rtol * abs(n)
        mm = Mismatch(*m_args, analytic=a, numeric=n, abs_err=err, rel_err=rel, mode=report.mode)
        if not ok and one_sided is not None:
            f, b = one_sided
            if abs(f - b) > atol + rtol * max(abs(f), abs(b)):  # left and right slopes differ: a kink
                report.kinks.append(mm)
                return
        report.max_abs_error = max(report.max_abs_error, err)
        report.max_rel_error = max(report.max_rel_error, rel)
        if not ok:
            report.failures.append(mm)
            if report.worst is None or rel > report.worst.rel_err:
                report.worst = mm

    if report.mode == "full":
        # analytic Jacobian rows: one VJP per output element
        rows = []
        for k, o in enumerate(outs):
            m = o.numel()
            rk = []
            for j in range(m):
                v = _hxp.zeros(m)
                v[j] = 1.0
                rk.append(vjp(k, v.reshape(shapes_out[k])))
            rows.append(rk)
        for pos, i in enumerate(diff):
            size = base[i].size
            for j in range(size):
                u = _hxp.zeros(size)
                u[j] = 1.0
                central, sided = numeric_dir(i, u.reshape(base[i].shape))
                elem = tuple(int(t) for t in _hxp.unravel_index(j, base[i].shape))
                for k in range(len(outs)):
                    for oj in range(outs[k].numel()):
                        g = rows[k][oj][pos]
                        a = 0.0 if g is None else float(g.reshape(-1)[j])
                        n = float(central[k].reshape(-1)[oj])
                        os_ = None if sided is None else (float(sided[0][k].reshape(-1)[oj]), float(sided[1][k].reshape(-1)[oj]))
                        out_elem = tuple(int(t) for t in _hxp.unravel_index(oj, shapes_out[k])) if shapes_out[k] else ()
                        record(a, n, (i, k, elem + (("->",) + out_elem if out_elem else ())), os_)
    else:
        for d in range(n_directions):
            vs = [rng.standard_normal(s) for s in shapes_out]
            us = {i: rng.standard_normal(base[i].shape) for i in diff}
            for k in range(len(outs)):
                gs = vjp(k, vs[k])
                for pos, i in enumerate(diff):
                    a = 0.0 if gs[pos] is None else float(_hxp.sum(gs[pos] * us[i]))
                    central, sided = numeric_dir(i, us[i])
                    n = float(_hxp.sum(central[k] * vs[k]))
                    os_ = None if sided is None else (float(_hxp.sum(sided[0][k] * vs[k])), float(_hxp.sum(sided[1][k] * vs[k])))
                    record(a, n, (i, k, (d,)), os_)
    report.passed = not report.failures
    report._context = (eps, seed, shapes_in, shapes_out)
    return report


def _failure_message(report, what="gradcheck"):
    eps, seed, shapes_in, shapes_out = report._context
    w = report.worst
    msg = [f"{what} failed: {len(report.failures)} of {report.n_checks} checked entries disagree "
           f"({report.mode} check). Worst: {w.describe(eps, seed, shapes_in, shapes_out)}."]
    bad_inputs = sorted({f.input_index for f in report.failures})
    msg.append(f"Inputs with mismatches: {bad_inputs}.")
    if report.kinks:
        msg.append(f"{len(report.kinks)} entries were skipped as kinks (non-differentiable points).")
    msg.append("If the analytic value is 0 or half the numeric one, look for a missing or doubled term in "
               "backward; if the check is near a kink, pass check_kinks=True or move the inputs away from it.")
    return " ".join(msg)


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True, **kwargs):
    """Check ``fn``'s analytic gradients with respect to every input that requires grad.

    Returns True on success. On failure raises :class:`GradcheckError` (or returns False with
    ``raise_exception=False``). Keyword options: ``check_kinks``, ``seed``, ``full_jacobian_max``,
    ``n_directions``, ``preserve`` (modules whose buffers are restored), ``allow_float32``.
    torch's other options (``nondet_tol``, ``check_undefined_grad``, ...) are accepted and ignored;
    ``fast_mode=True`` runs the seeded directional check. This is ``torch.autograd.gradcheck``.
    """
    report = check_gradients(fn, inputs, eps, atol, rtol, **_torch_options(kwargs))
    if report.passed:
        return True
    if raise_exception:
        raise GradcheckError(_failure_message(report))
    return False


def gradgradcheck(fn, inputs, grad_outputs=None, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True,
                  seed=0, **kwargs):
    """Second-order check: gradcheck the map (inputs, v) -> v^T J built with ``create_graph=True``.

    ``grad_outputs`` defaults to seeded random tensors (non-uniform, so cancellations cannot hide bugs).
    This is ``torch.autograd.gradgradcheck``.
    """
    kwargs = _torch_options(kwargs)
    inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
    diff = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    ev = _Evaluator(fn, inputs, kwargs.get("preserve", ()))
    ev.restore()
    outs = _as_outputs(fn(*inputs))
    ev.restore()
    if grad_outputs is None:
        rng = _hxp.random.default_rng(seed + 1)
        grad_outputs = tuple(_wrap(o.backend.from_host(rng.standard_normal(tuple(o.shape))), o.backend).requires_grad_()
                             for o in outs)
    else:
        grad_outputs = (grad_outputs,) if isinstance(grad_outputs, Tensor) else tuple(grad_outputs)
        grad_outputs = tuple(g.detach().requires_grad_() for g in grad_outputs)
    n_in = len(inputs)

    def first_order(*args):
        xs, vs = args[:n_in], args[n_in:]
        ev.restore()
        ys = _as_outputs(fn(*xs))
        ev.restore()
        pairs = [(y, v) for y, v in zip(ys, vs) if y.requires_grad]
        dx = [xs[i] for i in diff]
        gs = _grad([p[0] for p in pairs], dx, [p[1] for p in pairs], create_graph=True, allow_unused=True)
        res = tuple(g for g in gs if g is not None)
        if not res:
            raise GradcheckError("gradgradcheck: the first-order gradient is None for every input")
        return res

    report = check_gradients(first_order, tuple(inputs) + tuple(grad_outputs), eps, atol, rtol, seed=seed, **kwargs)
    if report.passed:
        return True
    if raise_exception:
        raise GradcheckError(_failure_message(report, "gradgradcheck"))
    return False
