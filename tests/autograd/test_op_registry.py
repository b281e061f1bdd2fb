"""Every registered op: first- and second-order gradient checks on every backend, PyTorch parity."""
import pytest

import tinygrad_dnn as tg
from tinygrad_dnn.autograd.function import Function
from tinygrad_dnn.testing import OPS, check_op, functions_exercised

IDS = [s.name for s in OPS]


@pytest.mark.parametrize("spec", OPS, ids=IDS)
def test_op_gradients_first_and_second_order(spec, device):
    check_op(spec, device)


@pytest.mark.parametrize("spec", [s for s in OPS if s.torch_fn is not None],
                         ids=[s.name for s in OPS if s.torch_fn is not None])
def test_op_matches_pytorch_forward_and_gradient(spec):
    torch = pytest.importorskip("torch")
    import numpy as np

    ours = spec.make_inputs("cpu")
    theirs = [torch.tensor(x.numpy(), requires_grad=x.requires_grad) for x in ours]
    y = spec.fn(*ours)
    ty = spec.torch_fn(torch, *theirs)
    np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), rtol=1e-10, atol=1e-12)
    w = np.random.default_rng(1).standard_normal(tuple(y.shape))
    (y * tg.tensor(w)).sum().backward()
    (ty * torch.tensor(w)).sum().backward()
    for a, b in zip(ours, theirs):
        if a.requires_grad:
            np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-9, atol=1e-11)


def _all_functions():
    import tinygrad_dnn.nn  # noqa: F401  (register layer Functions too)

    out, stack = set(), list(Function.__subclasses__())
    while stack:
        c = stack.pop()
        if c.__module__.startswith("tinygrad_dnn.") and c.differentiable:
            out.add(c)
        stack.extend(c.__subclasses__())
    return out


EXEMPT = {
    "ToDevice": "needs two devices; tested in tests/autograd/test_errors_and_devices.py (cpu <-> strict round trip)",
    "FloorDivide": "no derivative, as torch (backward raises); tested in tests/parity/test_dtypes.py",
    "AllReduceSum": "needs several processes; tested under mpiexec in tests/distributed/ (SyncBatchNorm's gradients "
                    "against BatchNorm on the concatenated batch)",
}


def test_every_function_is_exercised_by_the_registry():
    covered = set()
    for spec in OPS:
        inputs = spec.make_inputs("cpu")
        out = spec.fn(*inputs)
        covered |= functions_exercised(out)
        if spec.second_order:  # the backward graph's own ops (e.g. conv's transposed conv)
            diff = [x for x in inputs if x.requires_grad]
            grads = tg.grad((out * 1.0).sum(), diff, create_graph=True, allow_unused=True)
            covered |= functions_exercised(tuple(g for g in grads if g is not None and g.grad_fn is not None))
    missing = sorted(f"{c.__module__}.{c.__name__}" for c in _all_functions() - covered if c.__name__ not in EXEMPT)
    assert not missing, f"ops without gradient-check coverage (add an OpSpec in tinygrad_dnn/testing/registry.py): {missing}"


def test_second_order_is_checked_for_all_smooth_ops():
    assert sum(s.second_order for s in OPS) >= 0.8 * len(OPS)
