"""Helpers for nn tests: gradcheck a module with respect to its input and every parameter."""
from tinygrad_dnn.gradcheck import gradcheck, gradgradcheck


def _targets(module):
    names = [n for n, _ in module.named_parameters()]
    out = []
    for n in names:
        mod, _, attr = n.rpartition(".")
        out.append((module.get_submodule(mod), attr))
    return names, out


def functional(module):
    """fn(x, *params) that runs ``module`` with its parameters replaced by the given tensors."""
    names, targets = _targets(module)

    def fn(x, *ps):
        saved = [m._parameters[a] for m, a in targets]
        for (m, a), p in zip(targets, ps):
            m._parameters[a] = p
        try:
            return module(x)
        finally:
            for (m, a), s in zip(targets, saved):
                m._parameters[a] = s

    return fn


def check_module(module, x, second_order=False, **kw):
    """gradcheck ``module`` w.r.t. ``x`` and every parameter (float64), buffers restored between calls."""
    module.double()
    x = x.double().detach().requires_grad_()
    params = [p.detach().requires_grad_() for p in module.parameters()]
    fn = functional(module)
    assert gradcheck(fn, (x, *params), preserve=(module,), **kw)
    if second_order:
        assert gradgradcheck(fn, (x, *params), preserve=(module,), **kw)
    return True


def to_numpy(t):
    return t.detach().cpu().numpy()
