"""Autograd semantics, as PyTorch: accumulation, retain_grad, freed graphs, no_grad, in-place rules."""
import gc
import weakref

import pytest

import tinygrad_dnn as torch
from tinygrad_dnn.autograd.function import GradGraphError


def t(data, **kw):
    return torch.tensor(data, dtype=torch.float64, **kw)


def test_gradients_accumulate_into_leaves_across_backward_calls():
    x = t([1.0, 2.0], requires_grad=True)
    (x * x).sum().backward()
    (x * 3).sum().backward()
    assert x.grad.tolist() == [2.0 + 3.0, 4.0 + 3.0]


def test_grad_reset_to_none_is_allowed():
    x = t([1.0], requires_grad=True)
    (x * 2).sum().backward()
    x.grad = None
    (x * 5).sum().backward()
    assert x.grad.tolist() == [5.0]


def test_non_leaf_grad_kept_only_with_retain_grad():
    x = t([1.0, 2.0], requires_grad=True)
    y = x * 2
    z = x * 3
    y.retain_grad()
    (y * z).sum().backward()
    assert y.grad.tolist() == [3.0, 6.0]
    assert z.grad is None
    assert not y.is_leaf and x.is_leaf


def test_second_backward_through_freed_graph_is_a_clear_error():
    x = t([1.0], requires_grad=True)
    y = (x.exp() * 2).sum()
    y.backward()
    with pytest.raises(GradGraphError, match="second time"):
        y.backward()


def test_retain_graph_allows_a_second_backward():
    x = t([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    assert x.grad.tolist() == [4.0, 8.0]


def test_non_scalar_backward_needs_gradient():
    x = t([1.0, 2.0], requires_grad=True)
    y = x * 2
    with pytest.raises(RuntimeError, match="only for scalar outputs"):
        y.backward()
    y.backward(torch.ones_like(y))
    assert x.grad.tolist() == [2.0, 2.0]


def test_integer_tensors_cannot_require_grad():
    with pytest.raises(RuntimeError, match="floating point"):
        torch.tensor([1, 2], requires_grad=True)


def test_no_grad_builds_no_graph_and_enable_grad_reenables():
    x = t([1.0], requires_grad=True)
    with torch.no_grad():
        y = x * 2
        with torch.enable_grad():
            z = x * 2
    assert y.grad_fn is None and not y.requires_grad
    assert z.requires_grad


def test_no_grad_works_as_decorator():
    @torch.no_grad()
    def f(x):
        return x * 2

    assert not f(t([1.0], requires_grad=True)).requires_grad


def test_inplace_update_of_leaf_under_no_grad_like_the_lectures():
    a = t([1.0], requires_grad=True)
    (a * 3).sum().backward()
    with torch.no_grad():
        a -= 0.1 * a.grad
    assert a.tolist() == pytest.approx([0.7])
    assert a.is_leaf and a.requires_grad


def test_inplace_on_leaf_requiring_grad_outside_no_grad_is_an_error():
    a = t([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="in-place"):
        a += 1


def test_inplace_change_of_a_saved_tensor_is_detected_by_the_version_counter():
    x = t([1.0, 2.0], requires_grad=True)
    w = t([3.0, 4.0])
    y = (x * w).sum()
    w.mul_(2)
    with pytest.raises(GradGraphError, match="modified in place"):
        y.backward()


def test_inplace_family_on_plain_tensors():
    a = t([1.0, -2.0, 3.0])
    a.add_(1).mul_(2).sub_(1).div_(2)
    assert a.tolist() == [1.5, -1.5, 3.5]
    a.clamp_(-1, 1)
    assert a.tolist() == [1.0, -1.0, 1.0]
    a.copy_(t([7.0, 8.0, 9.0]))
    a.fill_(2.0)
    assert a.tolist() == [2.0, 2.0, 2.0]
    a.zero_()
    assert a.tolist() == [0.0, 0.0, 0.0]


def test_shared_gradient_arrays_are_not_aliased_between_leaves():
    x = t([1.0, 2.0], requires_grad=True)
    y = t([3.0, 4.0], requires_grad=True)
    (x + y).sum().backward()
    x.grad.zero_()
    assert y.grad.tolist() == [1.0, 1.0]


def test_grad_function_does_not_touch_dot_grad_and_supports_unused():
    x = t([1.0, 2.0], requires_grad=True)
    u = t([1.0], requires_grad=True)
    (g,) = torch.grad((x ** 3).sum(), x)
    assert g.tolist() == [3.0, 12.0] and x.grad is None
    with pytest.raises(RuntimeError, match="not used"):
        torch.grad((x * 2).sum(), [x, u])
    gx, gu = torch.grad((x * 2).sum(), [x, u], allow_unused=True)
    assert gu is None


def test_grad_with_respect_to_a_non_leaf():
    x = t([1.0, 2.0], requires_grad=True)
    h = x * 2
    (g,) = torch.grad((h * h).sum(), h)
    assert g.tolist() == [4.0, 8.0]


def test_create_graph_gives_second_derivatives():
    x = t([0.5, 1.5], requires_grad=True)
    (g,) = torch.grad((x ** 3).sum(), x, create_graph=True)
    (h,) = torch.grad(g.sum(), x)
    assert h.tolist() == pytest.approx([3.0, 9.0])


def test_hvp_matches_explicit_hessian():
    from tinygrad_dnn.autograd import hessian, hvp

    A = t([[2.0, 1.0], [1.0, 3.0]])

    def f(x):
        return 0.5 * (x @ (A @ x)) + x.sin().sum()

    x = t([0.3, -0.7])
    v = t([1.0, 2.0])
    _, hv = hvp(f, x, v)
    H = hessian(f, x)
    assert hv.tolist() == pytest.approx((H @ v).tolist())


def test_jvp_matches_jacobian_times_vector():
    from tinygrad_dnn.autograd import jacobian, jvp

    def f(x):
        return (x * x).tanh() * 2

    x = t([0.1, 0.5, -0.4])
    v = t([1.0, -1.0, 0.5])
    _, jv = jvp(f, x, v)
    assert jv.tolist() == pytest.approx((jacobian(f, x) @ v).tolist())


def test_backward_frees_intermediate_buffers():
    x = t([1.0, 2.0], requires_grad=True)
    h = x.exp()
    ref = weakref.ref(h.grad_fn)
    y = (h * 2).sum()
    del h
    y.backward()
    gc.collect()
    assert ref() is None or ref()._saved == ()


def test_no_tensors_leak_across_100_training_steps():
    from tinygrad_dnn.autograd.tensor import Tensor

    torch.manual_seed(0)
    w = torch.randn(8, 4, dtype=torch.float64, requires_grad=True)
    b = torch.zeros(4, dtype=torch.float64, requires_grad=True)
    x = torch.randn(16, 8, dtype=torch.float64)

    def step():
        loss = ((x @ w + b).tanh() ** 2).mean()
        loss.backward()
        with torch.no_grad():
            w.sub_(0.1 * w.grad)
            b.sub_(0.1 * b.grad)
        w.grad = None
        b.grad = None

    for _ in range(3):
        step()
    gc.collect()
    before = sum(isinstance(o, Tensor) for o in gc.get_objects())
    for _ in range(100):
        step()
    gc.collect()
    after = sum(isinstance(o, Tensor) for o in gc.get_objects())
    assert after <= before


def test_graph_without_backward_is_freed_by_refcount_alone():
    import gc as _gc

    x = t([1.0, 2.0], requires_grad=True)
    _gc.disable()
    try:
        y = (x.exp() * x).tanh()
        ref = weakref.ref(y.grad_fn)
        del y
        assert ref() is None  # no reference cycles between outputs and their nodes
    finally:
        _gc.enable()


def test_detach_shares_data_but_not_graph():
    x = t([1.0], requires_grad=True)
    d = (x * 2).detach()
    assert d.grad_fn is None and not d.requires_grad


def test_python_scalars_keep_float32():
    x = torch.ones(3)
    assert x.dtype is torch.float32
    for y in (x * 2.5, 2.5 * x, x + 1, x / 3, x ** 2, 1 - x):
        assert y.dtype is torch.float32


def test_mixed_float_dtypes_promote_like_pytorch():
    a = torch.ones(2, dtype=torch.float32)
    b = torch.ones(2, dtype=torch.float64)
    assert (a + b).dtype is torch.float64
    i = torch.tensor([1, 2])
    assert (a * i).dtype is torch.float32
    assert (i * 0.5).dtype is torch.float32


def test_max_dim_returns_values_and_indices():
    x = t([[1.0, 5.0], [7.0, 2.0]])
    v, i = x.max(dim=1)
    assert v.tolist() == [5.0, 7.0] and i.tolist() == [1, 0]
    assert x.max(dim=0).indices.tolist() == [1, 0]


def test_max_ties_split_the_gradient_evenly():
    x = t([2.0, 2.0, 1.0], requires_grad=True)
    x.max().backward()
    assert x.grad.tolist() == [0.5, 0.5, 0.0]


def test_axis_and_keepdims_aliases():
    x = torch.ones(2, 3)
    assert tuple(x.sum(axis=1, keepdims=True).shape) == (2, 1)
    assert tuple(x.mean(dim=0).shape) == (3,)


def test_integer_array_index_with_repeats_accumulates():
    x = t([1.0, 2.0, 3.0], requires_grad=True)
    x[torch.tensor([0, 0, 2, 0])].sum().backward()
    assert x.grad.tolist() == [3.0, 0.0, 1.0]


def test_softmax_and_log_softmax_are_stable_at_extreme_logits():
    x = torch.tensor([[1e4, -1e4, 0.0], [-1e4, -1e4, -1e4]])
    s = x.softmax(dim=1)
    ls = x.log_softmax(dim=1)
    assert s.isfinite_all() if hasattr(s, "isfinite_all") else bool((s == s).all())
    assert s.tolist()[0] == pytest.approx([1.0, 0.0, 0.0])
    assert ls.tolist()[0][0] == pytest.approx(0.0)
    assert ls.tolist()[0][1] == pytest.approx(-2e4)
    assert s.tolist()[1] == pytest.approx([1 / 3] * 3)


def test_one_hot():
    from tinygrad_dnn.autograd.creation import one_hot

    assert one_hot(torch.tensor([0, 2]), 3).tolist() == [[1, 0, 0], [0, 0, 1]]


def test_custom_function_api():
    class Cube(torch.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x._data ** 3

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * 3 * x * x

    x = t([2.0], requires_grad=True)
    Cube.apply(x).sum().backward()
    assert x.grad.tolist() == [12.0]
    from tinygrad_dnn.testing import check_function

    assert check_function(Cube, t([0.5, -1.2], requires_grad=True))


def test_anomaly_mode_names_the_op_producing_nan():
    x = t([-1.0], requires_grad=True)
    with torch.detect_anomaly():
        with pytest.raises(FloatingPointError, match="Sqrt"):
            x.sqrt()
    assert torch.is_anomaly_enabled() is False


def test_register_hook_sees_and_can_replace_gradients():
    x = t([1.0, 2.0], requires_grad=True)
    h = x * 3
    seen = []
    handle = h.register_hook(lambda g: seen.append(g.tolist()))
    x.register_hook(lambda g: g * 10)  # leaf hook: runs before accumulation
    (h * h).sum().backward()
    assert seen == [[6.0, 12.0]]
    assert x.grad.tolist() == [180.0, 360.0]
    handle.remove()
    x.grad = None
    y = x * 3
    y.register_hook(lambda g: g * 0)
    y.sum().backward()
    assert x.grad.tolist() == [0.0, 0.0]


def test_register_hook_needs_requires_grad():
    with pytest.raises(RuntimeError, match="does not require grad"):
        t([1.0]).register_hook(lambda g: g)


def test_grad_runs_only_the_part_of_the_graph_that_leads_to_its_inputs():
    # as torch.autograd.grad: a branch that does not reach the inputs is not executed (its hooks do not
    # fire, its saved tensors are not freed), and backward through a captured interior node stops there
    pt = pytest.importorskip("torch")
    for lib in (torch, pt):
        calls = []
        x = lib.ones(3, requires_grad=True)
        z = lib.full((3,), 2.0, requires_grad=True)
        a = z * z
        a.register_hook(lambda g: calls.append("a"))
        h = x * 3
        h.register_hook(lambda g: calls.append("h"))
        y = (h * x).sum() + a.sum()
        (gh,) = lib.autograd.grad(y, h)
        assert calls == ["h"], lib.__name__
        assert gh.tolist() == [1.0, 1.0, 1.0]
        a.sum().backward()  # z * z was not run by grad(), so its saved z is still there
        assert z.grad.tolist() == [4.0, 4.0, 4.0]


def test_a_backward_returning_a_wrongly_shaped_gradient_is_an_error_as_in_torch():
    # a (4, 5) gradient for a (5, 4) input used to be reshaped silently; torch raises "invalid gradient"
    from tinygrad_dnn.autograd.function import Function

    class Bad(Function):
        @staticmethod
        def forward(ctx, x):
            return x._data * 2

        @staticmethod
        def backward(ctx, g):
            return g.T * 2

    x = torch.ones(5, 4, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"BadBackward: backward returned an invalid gradient: shape \(4, 5\)"):
        Bad.apply(x).sum().backward()
    y = torch.ones(1, 4, requires_grad=True)  # a broadcast-shaped gradient is still summed down
    (torch.ones(3, 4) * y).sum().backward()
    assert y.grad.tolist() == [[3.0] * 4]
