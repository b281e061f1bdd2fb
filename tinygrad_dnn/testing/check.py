"""One harness every op goes through: forward runs, first- and second-order gradient checks."""
from __future__ import annotations

from ..autograd.function import Context
from ..gradcheck import check_gradients, gradcheck, gradgradcheck
from .registry import OpSpec


def check_op(spec: OpSpec, device="cpu", second_order=None, seed=0):
    """gradcheck (and gradgradcheck if ``spec.second_order``) of a registered op on ``device``.

    Returns the first-order :class:`~tinygrad_dnn.gradcheck.GradcheckReport`; raises GradcheckError on failure.
    """
    inputs = spec.make_inputs(device, seed=seed)
    report = check_gradients(spec.fn, inputs, atol=spec.atol, rtol=spec.rtol, seed=seed)
    if not report.passed:
        gradcheck(spec.fn, inputs, atol=spec.atol, rtol=spec.rtol, seed=seed)  # raises with the report
    if spec.second_order if second_order is None else second_order:
        gradgradcheck(spec.fn, inputs, atol=spec.atol, rtol=spec.rtol, seed=seed)
    return report


def check_function(fn_class_or_callable, *inputs, second_order=True, **kw):
    """Check a student's own ``Function`` (or any callable) on the given float64 inputs.

    ``check_function(MyOp.apply, x, w)`` runs gradcheck and, if ``second_order``, gradgradcheck.
    """
    fn = getattr(fn_class_or_callable, "apply", fn_class_or_callable)
    gradcheck(fn, inputs, **kw)
    if second_order:
        gradgradcheck(fn, inputs, **kw)
    return True


def functions_exercised(out):
    """The set of Function classes in the graph behind ``out`` (a Tensor or tuple)."""
    from ..autograd.tensor import Tensor

    outs = (out,) if isinstance(out, Tensor) else out
    seen, found = set(), set()
    stack = [o.grad_fn for o in outs if isinstance(o, Tensor) and o.grad_fn is not None]
    while stack:
        n = stack.pop()
        if id(n) in seen:
            continue
        seen.add(id(n))
        found.add(n.fn)
        for nx in n.next:
            if type(nx) is Context:
                stack.append(nx)
    return found
