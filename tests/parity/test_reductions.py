"""Reductions against PyTorch (issue 11, "Reductions"): values, dtypes and the gradient of every input,
on ``cpu`` and ``strict``, at the places where the textbook formula breaks down: ties (max/min),
zeros (prod, norm, std), infinities (logsumexp), float16 accumulation, and var/std's signatures.
"""
import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import tinygrad_dnn as tg
import tinygrad_dnn.nn.functional as F

torch = pytest.importorskip("torch")
TF = torch.nn.functional
SETTINGS = settings(max_examples=25, deadline=None, derandomize=True)
INF, NAN = math.inf, math.nan


from _parity import _check, _name, diff  # noqa: E402,F401


def grad_of(f, x, device="cpu", dtype="float64"):
    t = tg.tensor(np.asarray(x), dtype=dtype, device=device, requires_grad=True)
    f(t).sum().backward()
    return t.grad.numpy()


# ------------------------------------------------------------------ max / min ties
def test_max_dim_gradient_goes_to_the_returned_index_repro(device):
    # issue: [[1, 3, 3]] -> [[0, .5, .5]]; torch: [[0, 1, 0]]
    np.testing.assert_array_equal(grad_of(lambda x: x.max(1).values, [[1., 3., 3.]], device), [[0., 1., 0.]])
    np.testing.assert_array_equal(grad_of(lambda x: x.min(1).values, [[3., 1., 1.]], device), [[0., 1., 0.]])


@pytest.mark.parametrize("op", ["max", "min"])
@pytest.mark.parametrize("dim,keepdim", [(0, False), (1, True), (-1, False)])
def test_max_min_dim_values_indices_and_gradient_vs_torch(device, op, dim, keepdim):
    x = np.array([[1., 3., 3., -2.], [5., 5., 0., 5.], [-1., -1., -1., -1.]])
    (vals,), _ = diff(lambda a: getattr(a, op)(dim, keepdim).values, lambda a: getattr(a, op)(dim, keepdim).values,
                      x, device=device)
    ours = getattr(tg.tensor(x, device=device), op)(dim, keepdim)
    theirs = getattr(torch.tensor(x), op)(dim, keepdim)
    np.testing.assert_array_equal(ours.indices.numpy(), theirs.indices.numpy())
    assert _name(ours.indices.dtype) == "int64"


@pytest.mark.parametrize("fn", ["max", "min", "amax", "amin"])
def test_full_max_and_amax_split_ties_evenly_as_torch(device, fn):
    # torch: max() without dim and amax/amin share the gradient among tied extrema
    x = np.array([[1., 3., 3.], [3., -1., -1.]])
    diff(lambda a: getattr(a, fn)(), lambda a: getattr(a, fn)(), x, device=device)
    if fn in ("amax", "amin"):
        diff(lambda a: getattr(a, fn)(1), lambda a: getattr(a, fn)(1), x, device=device)


def test_max_dim_keyword_forms(device):
    x = np.array([[1., 3., 3.], [4., 0., 4.]])
    diff(lambda a: a.max(dim=1, keepdim=True).values, lambda a: a.max(dim=1, keepdim=True).values, x, device=device)
    diff(lambda a: tg.max(a, 0).values, lambda a: torch.max(a, 0).values, x, device=device)
    diff(lambda a: a.max(axis=1, keepdims=True).values, lambda a: a.max(dim=1, keepdim=True).values, x, device=device)


def test_max_dim_of_empty_dim_raises_as_torch():
    with pytest.raises(IndexError):
        torch.zeros(2, 0).max(1)
    with pytest.raises(IndexError, match="size 0"):
        tg.zeros(2, 0).max(1)


def test_max_min_with_nan_as_torch(device):
    # torch.max(x) shares a nan maximum's gradient among the nans; amax() gives nan gradients; max(dim)
    # returns the first nan's index and sends the gradient there
    x = [[1., NAN, 3., NAN], [2., 0., 1., 5.]]
    for f in (lambda a: a.max(), lambda a: a.min(), lambda a: a.amax(), lambda a: a.amin(1),
              lambda a: a.max(1).values, lambda a: a.min(0).values):
        diff(f, f, x, device=device)


@SETTINGS
@given(st.integers(2, 5), st.integers(1, 4), st.integers(0, 2 ** 31 - 1), st.sampled_from(["max", "min"]))
def test_max_min_dim_with_random_ties_match_torch(n, m, seed, op):
    rng = np.random.default_rng(seed)
    x = rng.integers(-2, 3, size=(n, m)).astype(float)  # few distinct values: many ties
    x[rng.random((n, m)) < 0.1] = rng.choice([INF, -INF])
    for dim in (0, 1):
        diff(lambda a: getattr(a, op)(dim).values, lambda a: getattr(a, op)(dim).values, x)
    diff(lambda a: getattr(a, op)(), lambda a: getattr(a, op)(), x)


# ------------------------------------------------------------------ prod with zeros
def test_prod_gradient_with_one_zero_is_the_product_of_the_others_repro(device):
    # issue: [2, 0, 3] -> [0, nan, 0]; torch: [0, 6, 0]
    np.testing.assert_array_equal(grad_of(lambda x: x.prod(), [2., 0., 3.], device), [0., 6., 0.])
    np.testing.assert_array_equal(grad_of(lambda x: x.prod(), [2., 0., 0.], device), [0., 0., 0.])


@pytest.mark.parametrize("dim,keepdim", [(None, False), (0, False), (1, True), ((0, 2), False), ((1, 2), True)])
def test_prod_with_zeros_matches_torch(device, dim, keepdim):
    x = np.array([[[2., 0., 3.], [0., 0., 1.]], [[1., 2., 3.], [4., 0., -1.]]])

    def tfn(a):
        if dim is None:
            return a.prod()
        if isinstance(dim, tuple):  # torch.prod takes one dim: reduce one after the other
            out = a
            for d in sorted(dim, reverse=True):
                out = out.prod(d, keepdim=True)
            return out if keepdim else out.squeeze(dim)
        return a.prod(dim, keepdim=keepdim)

    diff(lambda a: a.prod(dim=dim, keepdim=keepdim) if dim is not None else a.prod(), tfn, x, device=device)


@pytest.mark.parametrize("x", [[2., 0., 3.], [2., 0., 0.], [1.5, -2., 3.], [0., 4., 5., 6.]])
def test_prod_second_order_with_zeros_matches_torch(device, x):
    xo = tg.tensor(x, dtype="float64", device=device, requires_grad=True)
    xt = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    (go,) = tg.grad(xo.prod(), xo, create_graph=True)
    (gt,) = torch.autograd.grad(xt.prod(), xt, create_graph=True)
    np.testing.assert_allclose(go.detach().numpy(), gt.detach().numpy(), rtol=1e-12)
    v = np.arange(1.0, len(x) + 1)
    (ho,) = tg.grad((go * tg.tensor(v, device=device)).sum(), xo)
    (ht,) = torch.autograd.grad((gt * torch.tensor(v)).sum(), xt)
    np.testing.assert_allclose(ho.numpy(), ht.numpy(), rtol=1e-12)


@pytest.mark.parametrize("x,dim", [([[2., 0., 3.], [0., 0., 1.]], 1), ([[2., 0.], [3., 5.], [0., 4.]], 0),
                                   ([2., 0., 3., 0.5], None), ([[0., 2.], [3., 0.]], None)])
def test_prod_third_order_with_zeros_matches_torch(device, x, dim):
    # the gradient with zeros is ProdOthers, whose backward is ProdOthers again: check orders 1-3 against torch
    def derivs(lib, a, **kw):
        y = a.prod() if dim is None else a.prod(dim)
        out = []
        for k in range(3):
            w = lib.tensor(np.arange(1.0, y.numel() + 1).reshape(tuple(y.shape)), dtype=lib.float64, **kw)
            (y,) = lib.autograd.grad((y * w).sum(), a, create_graph=True)
            out.append(y.detach().numpy())
        return out

    xo = tg.tensor(x, dtype="float64", device=device, requires_grad=True)
    xt = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    for k, (o, t) in enumerate(zip(derivs(tg, xo, device=device), derivs(torch, xt))):
        np.testing.assert_allclose(o, t, rtol=1e-12, atol=0, err_msg=f"derivative order {k + 1}")


@SETTINGS
@given(st.integers(1, 4), st.integers(1, 4), st.integers(0, 2 ** 31 - 1), st.floats(0.0, 0.6), st.floats(0.0, 0.3))
def test_prod_random_inputs_with_injected_zeros_and_infinities_match_torch(n, m, seed, pzero, pinf):
    rng = np.random.default_rng(seed)
    x = rng.uniform(0.5, 2.0, size=(n, m)) * rng.choice([-1., 1.], size=(n, m))
    r = rng.random((n, m))
    x[r < pzero] = 0.0
    x[(r >= pzero) & (r < pzero + pinf)] = INF * rng.choice([-1., 1.])
    diff(lambda a: a.prod(), lambda a: a.prod(), x, rtol=1e-10, weights=False)
    for d in (0, 1):
        diff(lambda a: a.prod(d), lambda a: a.prod(d), x, rtol=1e-10, weights=False)


def test_prod_with_zeros_and_infinities_as_torch(device):
    # torch: one zero anywhere switches to exact products of the others (cumulative products), so an inf
    # row next to it gets [6, inf, inf] instead of inf / inf = nan; two zeros in a full product give zeros
    for x in ([[INF, 2., 3.], [1., 0., 2.]], [INF, 0., 0.], [[INF, 0., 0.]], [NAN, 0., 2.], [INF, 2., 3.]):
        diff(lambda a: a.prod(), lambda a: a.prod(), x, device=device, weights=False)
        diff(lambda a: a.prod(-1), lambda a: a.prod(-1), x, device=device, weights=False)


@pytest.mark.parametrize("op", ["prod", "logsumexp", "amax", "sum"])
def test_reductions_of_a_0d_tensor_over_dim_0(device, op):
    diff(lambda a: getattr(a, op)(0), lambda a: getattr(a, op)(0), 3.0, device=device)
    diff(lambda a: a.max(0).values, lambda a: a.max(0).values, 3.0, device=device)


# ------------------------------------------------------------------ kinks at zero: norm, std, normalize
@pytest.mark.parametrize("p", [2, 1, 3, math.inf, "fro"])
def test_norm_of_a_zero_vector_has_gradient_zero_repro(device, p):
    diff(lambda a: a.norm(p=p), lambda a: a.norm(p=p), [0., 0., 0.], device=device)
    diff(lambda a: a.norm(p=p, dim=1), lambda a: a.norm(p=p, dim=1), [[0., 0.], [3., -4.]], device=device)


def test_std_of_a_constant_has_gradient_zero_repro(device):
    g = grad_of(lambda x: x.std(), [2., 2., 2.], device)
    np.testing.assert_array_equal(g, [0., 0., 0.])
    diff(lambda a: a.std(), lambda a: a.std(), [2., 2., 2.], device=device)
    diff(lambda a: a.std(1), lambda a: a.std(1), [[1., 1.], [1., 3.]], device=device)


def test_std_of_one_element_is_nan_as_torch():
    # correction 1 with one element: 0/0 = nan value and nan gradient in torch too
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        diff(lambda a: a.std(), lambda a: a.std(), [1.5])
        diff(lambda a: a.var(0, correction=3), lambda a: a.var(0, correction=3), [1., 2.], grad=False)


def test_normalize_of_a_zero_row_is_finite_repro(device):
    x = [[0., 0., 0.], [1., 2., -2.]]
    (y,), (xo,) = diff(lambda a: F.normalize(a), lambda a: TF.normalize(a), x, device=device)
    assert np.isfinite(xo.grad.numpy()).all()


# ------------------------------------------------------------------ logsumexp with infinities
@pytest.mark.parametrize("x,expected", [([-INF, -INF], -INF), ([INF, 1.], INF), ([INF, INF], INF),
                                        ([-INF, 2.], 2.), ([NAN, 1.], NAN)])
def test_logsumexp_with_infinities_repro(device, x, expected):
    (y,), _ = diff(lambda a: a.logsumexp(0), lambda a: a.logsumexp(0), x, device=device)
    np.testing.assert_equal(float(y), expected)


def test_logsumexp_over_an_empty_dim_as_torch(device):
    diff(lambda a: a.logsumexp(0), lambda a: a.logsumexp(0), np.zeros((0, 3)), device=device)
    diff(lambda a: a.logsumexp(1), lambda a: a.logsumexp(1), np.zeros((0, 3)), device=device)


@pytest.mark.parametrize("dim,keepdim", [(1, False), ((0, 1), True), (-1, True)])
def test_logsumexp_dims_match_torch(device, dim, keepdim):
    x = np.array([[1., -INF, 3.], [-INF, -INF, -INF], [1000., 1000., -1000.]])
    diff(lambda a: a.logsumexp(dim, keepdim), lambda a: a.logsumexp(dim, keepdim), x, device=device)
    diff(lambda a: tg.logsumexp(a, dim=dim, keepdim=keepdim), lambda a: torch.logsumexp(a, dim, keepdim), x,
         device=device)


@SETTINGS
@given(st.integers(1, 4), st.integers(1, 4), st.integers(0, 2 ** 31 - 1))
def test_logsumexp_random_with_injected_infinities_matches_torch(n, m, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, m)) * 50
    r = rng.random((n, m))
    x[r < 0.25] = -INF
    x[(r > 0.9)] = INF
    for d in (0, 1):
        diff(lambda a: a.logsumexp(d), lambda a: a.logsumexp(d), x, rtol=1e-12, weights=False)


# ------------------------------------------------------------------ var / std signatures (item 8)
def test_var_positional_unbiased_is_not_keepdim_repro(device):
    x = np.arange(6.0).reshape(2, 3) ** 2
    # issue: x.var(0, False) read False as keepdim; torch: the biased variance
    diff(lambda a: a.var(0, False), lambda a: a.var(0, False), x, device=device)
    # issue: x.std(1, True, True) raised
    diff(lambda a: a.std(1, True, True), lambda a: a.std(1, True, True), x, device=device)


@pytest.mark.parametrize("call", [
    lambda m, a: m.var(a, 0, False),
    lambda m, a: m.std(a, 1, True, True),
    lambda m, a: m.var(a, dim=1, correction=0),
    lambda m, a: m.std(a, dim=(0, 1), correction=2, keepdim=True),
    lambda m, a: m.var(a),
    lambda m, a: m.std(a, None, False),
    lambda m, a: a.var(False),
    lambda m, a: a.std(True),
    lambda m, a: a.var(dim=0, unbiased=False, keepdim=True),
    lambda m, a: m.var_mean(a, 1, False, True),
    lambda m, a: m.std_mean(a, 0),
    lambda m, a: m.var_mean(a, dim=1, correction=0),
    lambda m, a: m.std_mean(a, dim=(0, 1), keepdim=True),
    lambda m, a: m.var_mean(a),
])
def test_var_std_signatures_as_torch(device, call):
    x = np.array([[1., 4., 2.], [0.5, -3., 7.]])
    diff(lambda a: call(tg, a), lambda a: call(torch, a), x, device=device)


def test_var_std_accept_axis_and_keepdims(device):
    x = np.array([[1., 4., 2.], [0.5, -3., 7.]])
    diff(lambda a: a.var(axis=0, keepdims=True), lambda a: a.var(dim=0, keepdim=True), x, device=device)
    diff(lambda a: a.std(axis=1), lambda a: a.std(dim=1), x, device=device)


def test_var_unbiased_and_correction_together_raise_as_torch():
    x = np.ones((2, 3))
    with pytest.raises(TypeError):
        torch.tensor(x).var(0, unbiased=True, correction=1)
    with pytest.raises(TypeError, match="either unbiased or correction"):
        tg.tensor(x).var(0, unbiased=True, correction=1)


# ------------------------------------------------------------------ float16 accumulates in float32
def test_float16_mean_of_many_ones_is_one_repro():
    # issue: ones(100000, float16).mean() is nan; torch: 1.0 (float32 accumulation)
    for f in (lambda m: m.ones(100000, dtype=m.float16).mean(), lambda m: m.ones(100000, dtype=m.float16).sum(),
              lambda m: m.ones(3000, dtype=m.float16).sum(), lambda m: (m.ones(100000, dtype=m.float16) * 0.01).norm()):
        _check(f(tg), f(torch), rtol=1e-3)


@pytest.mark.parametrize("op", [lambda a: a.mean(), lambda a: a.sum(0), lambda a: a.var(), lambda a: a.std(1),
                                lambda a: a.norm(), lambda a: a.norm(dim=1), lambda a: a.mean(1, keepdim=True)])
def test_float16_reductions_match_torch(op):
    rng = np.random.default_rng(0)
    x = (rng.standard_normal((4, 5000)) * 300).astype(np.float16)
    diff(op, op, x, dtype="float16", rtol=2e-3, atol=1e-3)


def test_float16_reductions_and_their_gradients_keep_float16():
    x = tg.tensor(np.full((3, 4), 2.0, dtype=np.float16), requires_grad=True)
    for y in (x.sum(), x.mean(), x.var(), x.std(), x.norm(), x.logsumexp(1)):
        assert y.dtype is tg.float16
    (x.std() + x.norm()).backward()
    assert x.grad.dtype is tg.float16 and np.isfinite(x.grad.numpy()).all()
