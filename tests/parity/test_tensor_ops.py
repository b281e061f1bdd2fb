"""Tensor ops of issue 13 against PyTorch (stream "tensorops"): gather/scatter/index ops, cumulative ops,
flip/roll/tril/triu, sorting, unique, nonzero/where, the nan/inf tests, einsum, repetition, erf/log2/log10,
products, diagonals, counting, sampling. Each case is one function written once against the torch API and
run with both libraries (``M`` is ``tinygrad_dnn`` or ``torch``): values, dtypes, the gradient of every
float input and, for bad calls, that both raise the same exception type. On ``cpu`` and ``strict``.
"""
import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import tinygrad_dnn as tg

torch = pytest.importorskip("torch")


def _name(dtype):
    return str(dtype).split(".")[-1]


def _cmp(a, b, what, rtol=1e-7, atol=1e-12):
    if isinstance(b, (tuple, list)):
        assert isinstance(a, (tuple, list)) and len(a) == len(b), f"{what}: {type(a)} vs torch {type(b)}"
        for k, (x, y) in enumerate(zip(a, b)):
            _cmp(x, y, f"{what}[{k}]", rtol, atol)
        return
    if not isinstance(b, torch.Tensor):
        assert a == b, f"{what}: {a} != torch {b}"
        return
    assert tuple(a.shape) == tuple(b.shape), f"{what}: shape {tuple(a.shape)} != torch {tuple(b.shape)}"
    assert _name(a.dtype) == _name(b.dtype), f"{what}: dtype {a.dtype} != torch {b.dtype}"
    np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=rtol, atol=atol, equal_nan=True,
                               err_msg=what)


def _flat(out):
    if isinstance(out, (tuple, list)):
        return [t for o in out for t in _flat(o)]
    return [out]


def run(fn, floats=(), ints=(), device="cpu", dtype="float64", grad=True, rtol=1e-7, atol=1e-12):
    """fn(M, *float_tensors, *int64_tensors) with M = tinygrad_dnn and torch; compare outputs and grads."""
    ours = [tg.tensor(np.asarray(a), dtype=dtype, device=device, requires_grad=grad) for a in floats]
    theirs = [torch.tensor(np.asarray(a), dtype=getattr(torch, dtype), requires_grad=grad) for a in floats]
    oi = [tg.tensor(np.asarray(a), device=device) for a in ints]
    ti = [torch.tensor(np.asarray(a)) for a in ints]
    yo, yt = fn(tg, *ours, *oi), fn(torch, *theirs, *ti)
    _cmp(yo, yt, "forward", rtol, atol)
    if grad and floats:
        pairs = [(a, b) for a, b in zip(_flat(yo), _flat(yt))
                 if isinstance(b, torch.Tensor) and b.dtype.is_floating_point and b.requires_grad]
        if not pairs:
            return yo
        lo = lt = 0
        for k, (a, b) in enumerate(pairs):
            w = np.random.default_rng(k).uniform(0.5, 1.5, size=tuple(b.shape))
            lo = lo + (a * tg.tensor(w, dtype=dtype, device=device)).sum()
            lt = lt + (b * torch.tensor(w, dtype=getattr(torch, dtype))).sum()
        lo.backward()
        lt.backward()
        for k, (a, b) in enumerate(zip(ours, theirs)):
            _cmp(a.grad, b.grad, f"grad of input {k}", rtol, atol)
    return yo


def raises_like(fn, floats=(), ints=(), device="cpu"):
    """torch raises; we raise the same exception type."""
    theirs = [torch.tensor(np.asarray(a)) for a in floats] + [torch.tensor(np.asarray(a)) for a in ints]
    ours = [tg.tensor(np.asarray(a), device=device) for a in floats] + \
        [tg.tensor(np.asarray(a), device=device) for a in ints]
    with pytest.raises(Exception) as et:
        fn(torch, *theirs)
    with pytest.raises(et.type):
        fn(tg, *ours)


R = np.random.default_rng(0)
X34 = R.standard_normal((3, 4))
X234 = R.standard_normal((2, 3, 4))
V5 = R.standard_normal(5)
IDX_G = np.array([[0, 2, 2, 1], [3, 0, 0, 0]])  # gather/scatter index for (3,4) along dim 1 -> shape (2,4)

CASES = {
    # gather / scatter / index
    "gather_dim1": (lambda M, x, i: M.gather(x, 1, i), [X34], [IDX_G[:, :3]]),
    "gather_dim0_method": (lambda M, x, i: x.gather(0, i), [X34], [np.array([[0, 2, 2, 1], [2, 0, 0, 0]])]),
    "gather_neg_dim": (lambda M, x, i: x.gather(-1, i), [X234], [np.zeros((2, 2, 3), dtype=np.int64)]),
    "scatter_src": (lambda M, x, s, i: x.scatter(1, i, s), [X34, R.standard_normal((2, 3))],
                    [np.array([[0, 2, 3], [1, 0, 3]])]),
    "scatter_value": (lambda M, x, i: M.scatter(x, 0, i, 2.5), [X34], [np.array([[0, 2, 1, 1]])]),
    "scatter_add_repeats": (lambda M, x, s, i: M.scatter_add(x, 1, i, s), [X34, R.standard_normal((3, 4))],
                            [np.array([[0, 0, 3, 3], [1, 1, 1, 1], [2, 0, 2, 0]])]),
    "scatter_add_inplace": (lambda M, x, s, i: (x * 1).scatter_add_(1, i, s), [X34, R.standard_normal((3, 4))],
                            [np.array([[0, 0, 3, 3], [1, 1, 1, 1], [2, 0, 2, 0]])]),
    "scatter_inplace": (lambda M, x, s, i: (x * 1).scatter_(1, i, s), [X34, R.standard_normal((3, 2))],
                        [np.array([[0, 3], [1, 2], [3, 0]])]),
    "index_select": (lambda M, x, i: M.index_select(x, 1, i), [X234], [np.array([2, 0, 0, 1])]),
    "index_select_dim0": (lambda M, x, i: x.index_select(0, i), [X34], [np.array([2, 2])]),
    "index_add": (lambda M, x, s, i: M.index_add(x, 0, i, s, alpha=2.0), [X34, R.standard_normal((4, 4))],
                  [np.array([0, 2, 0, 1])]),
    "index_add_inplace": (lambda M, x, s, i: (x * 1).index_add_(1, i, s), [X34, R.standard_normal((3, 2))],
                          [np.array([3, 3])]),
    "take_along_dim": (lambda M, x, i: M.take_along_dim(x, i, dim=1), [X34], [np.argsort(X34, axis=1)]),
    "take_along_dim_bcast": (lambda M, x, i: M.take_along_dim(x, i, 1), [X34], [np.array([[1, 0]])]),
    "take_along_dim_flat": (lambda M, x, i: x.take_along_dim(i), [X34], [np.array([11, 0, 5])]),
    # cumulative
    "cumsum": (lambda M, x: M.cumsum(x, 1), [X234], []),
    "cumsum_neg": (lambda M, x: x.cumsum(dim=-3), [X234], []),
    "cumprod": (lambda M, x: M.cumprod(x, 2), [X234], []),
    "cumprod_zeros": (lambda M, x: x.cumprod(1), [np.array([[2.0, 0.0, 3.0, 0.0, 4.0], [0.5, 3.0, 0.0, 2.0, 1.5],
                                                            [1.0, 2.0, 3.0, 4.0, 0.0]])], []),
    "cumprod_0d": (lambda M, x: x[0].cumprod(0), [V5], []),
    # reorder
    "flip": (lambda M, x: M.flip(x, (0, 2)), [X234], []),
    "flip_method_varargs": (lambda M, x: x.flip(-1), [X234], []),
    "fliplr_flipud": (lambda M, x: (M.fliplr(x), M.flipud(x)), [X34], []),
    "roll_dims": (lambda M, x: M.roll(x, (1, -2), (0, 2)), [X234], []),
    "roll_flat": (lambda M, x: x.roll(3), [X34], []),
    "tril": (lambda M, x: M.tril(x), [X34], []),
    "triu_offset": (lambda M, x: (x.triu(1), x.triu(-1), x.tril(-2), x.tril(5)), [X234], []),
    # sorting
    "sort": (lambda M, x: M.sort(x, dim=1), [X234], []),
    "sort_desc": (lambda M, x: x.sort(descending=True), [X34], []),
    "sort_ties": (lambda M, x: tuple(M.sort(x, stable=True)), [np.array([2.0, 1.0, 2.0, 1.0, 3.0, 1.0])], []),
    "sort_ties_desc": (lambda M, x: tuple(x.sort(descending=True, stable=True)),
                       [np.array([2.0, 1.0, 2.0, 1.0, 3.0, 1.0])], []),
    "argsort": (lambda M, x: M.argsort(x, dim=0, descending=True), [X34], []),
    "topk": (lambda M, x: tuple(M.topk(x, 2)), [X34], []),
    "topk_smallest_dim0": (lambda M, x: tuple(x.topk(2, dim=0, largest=False)), [X34], []),
    # tests and products
    "isnan_isinf_isfinite": (lambda M, x: (M.isnan(x), x.isinf(), M.isfinite(x), M.isposinf(x), M.isneginf(x)),
                             [np.array([1.0, np.nan, np.inf, -np.inf, 0.0])], []),
    "erf": (lambda M, x: M.erf(x), [X34], []),
    "log2_log10": (lambda M, x: (M.log2(x), x.log10()), [np.abs(X34) + 0.1], []),
    "mm_mv_dot_outer": (lambda M, a, b, v, w: (M.mm(a, b), a.mm(b), M.mv(a, v), a.mv(v), M.dot(v, w), v.dot(w),
                                               M.outer(v, w), v.outer(w)),
                        [X34, R.standard_normal((4, 2)), R.standard_normal(4), R.standard_normal(4)], []),
    "bmm": (lambda M, a, b: (M.bmm(a, b), a.bmm(b)), [X234, R.standard_normal((2, 4, 3))], []),
    "einsum_matmul": (lambda M, a, b: M.einsum("ij,jk->ik", a, b), [X34, R.standard_normal((4, 2))], []),
    "einsum_batch_implicit": (lambda M, a, b: M.einsum("bij,bjk", a, b), [X234, R.standard_normal((2, 4, 3))], []),
    "einsum_trace_diag": (lambda M, a: (M.einsum("ii", a), M.einsum("ii->i", a)), [X234[0, :, :3]], []),
    "einsum_outer_sum": (lambda M, a, b, c: (M.einsum("i,j->ij", a, b), M.einsum("ij->", c), M.einsum("ij->j", c)),
                         [V5, R.standard_normal(3), X34], []),
    "einsum_three": (lambda M, a, b, c: M.einsum("ij,jk,kl->li", a, b, c),
                     [X34, R.standard_normal((4, 2)), R.standard_normal((2, 5))], []),
    "einsum_ellipsis": (lambda M, a, b, c: (M.einsum("...ij,...jk->...ik", a, b), M.einsum("...ij,jk", a, c),
                                            M.einsum("b...->...", a), M.einsum("...i,...i", b[0, :, 0], c[:, 0])),
                        [X234, R.standard_normal((2, 4, 3)), R.standard_normal((4, 5))], []),
    "einsum_attention_bcast": (lambda M, q, k, w: (M.einsum("bhqd,bhkd->bhqk", q, k), M.einsum("bhqd,xhkd->bqk", q, w),
                                                   M.einsum("bhqd,bhkd,bhqd->hk", q, k, q)),
                               [R.standard_normal((2, 3, 4, 5)), R.standard_normal((2, 3, 2, 5)),
                                R.standard_normal((1, 3, 2, 5))], []),
    "einsum_list_transpose": (lambda M, a: M.einsum("ijk->kji", [a]), [X234], []),
    "tile": (lambda M, x: (M.tile(x, (2, 1)), x.tile(2), x.tile((2, 1, 1))), [X34], []),
    "repeat_interleave": (lambda M, x: (M.repeat_interleave(x, 2), x.repeat_interleave(3, dim=1)), [X34], []),
    "repeat_interleave_tensor": (lambda M, x, r: x.repeat_interleave(r, dim=0), [X34], [np.array([1, 0, 2])]),
    "repeat_interleave_repeats_only": (lambda M, r: M.repeat_interleave(r), [], [np.array([1, 0, 2])]),
    "diag_diagonal_trace": (lambda M, x: (M.diag(x), x.diag(1), x.diag(-2), M.diagonal(x), x.diagonal(-1),
                                          M.trace(x), x.trace()), [X34], []),
    "diag_vector": (lambda M, v: (M.diag(v), v.diag(2), v.diag(-1)), [V5], []),
    "diagonal_dims": (lambda M, x: (x.diagonal(0, 0, 2), x.diagonal(1, -1, 1), M.diagonal(x, -1, 2, 0)), [X234], []),
    "meshgrid_ij": (lambda M, a, b: M.meshgrid(a, b, indexing="ij"), [V5, R.standard_normal(3)], []),
    "meshgrid_xy": (lambda M, a, b, c: M.meshgrid([a, b, c], indexing="xy"),
                    [V5, R.standard_normal(3), R.standard_normal(2)], []),
    "where_method": (lambda M, x, y: x.where(x > 0, y), [X34, X34 * 2], []),
    "clone_floor_round": (lambda M, x: (M.clone(x), M.floor(x * 3), M.round(x * 3), M.ceil(x), M.trunc(x)),
                          [X34], []),
    "clamp_tensor_bounds": (lambda M, x, lo, hi: (x.clamp(min=lo, max=hi), M.clamp(x, min=lo), x.clamp(max=hi)),
                            [[0.5, 2.0, 3.0, 0.2, 5.0, 1.0, 1.0], [1.0, 1.0, 1.0, 1.0, 3.0, 2.0, 1.0],
                             [1.5, 2.5, 2.5, 1.0, 2.0, 2.5, 1.0]], []),
    "getitem_none_index": (lambda M, x, i: (x[None, i], x[i, None], x[..., None, i[:2]]), [X34],
                           [np.array([0, 2, 2])]),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_parity(name, device):
    fn, floats, ints = CASES[name]
    run(fn, floats, ints, device=device)


INT_CASES = {
    "cumsum_int": (lambda M, a: (M.cumsum(a, 0), a.cumprod(0), a.cumsum(0, dtype=M.float64)), [[1, 2, 3, 4]]),
    "cumsum_bool": (lambda M, a: (a > 2).cumsum(0), [[1, 2, 3, 4]]),
    "logical": (lambda M, a, b: (M.logical_and(a, b), M.logical_or(a, b), M.logical_xor(a, b), M.logical_not(a)),
                [[0, 1, 2, 0], [1, 0, 3, 0]]),
    "nonzero": (lambda M, a: (M.nonzero(a), a.nonzero(as_tuple=True), M.where(a > 1), M.argwhere(a)),
                [[[0, 1, 2], [3, 0, 5]]]),
    "unique": (lambda M, a: (M.unique(a), a.unique(return_inverse=True, return_counts=True),
                             M.unique(a, return_counts=True)), [[[3, 1, 2], [1, 3, 3]]]),
    "bincount": (lambda M, a: (M.bincount(a), a.bincount(minlength=8)), [[1, 1, 3, 0, 5]]),
    "all_any": (lambda M, a: (a.all(dim=1), a.any(1, keepdim=True), M.all(a, dim=0, keepdim=True), M.any(a),
                              (a > 0).all(1), a.to(M.uint8).all(), a.to(M.uint8).any(0)), [[[0, 1, 2], [3, 4, 5]]]),
    "sum_uint8": (lambda M, a: a.to(M.uint8).sum(), [[200, 100, 7]]),
    "equal": (lambda M, a, b: (M.equal(a, b), M.equal(a, a), a.equal(a)), [[1, 2], [1, 3]]),
    "sort_int": (lambda M, a: tuple(a.sort(descending=True)), [[3, 1, 2, 3, 0]]),
    "flip_roll_int": (lambda M, a: (a.flip(0), a.roll(1, 0), a.tril()), [[[1, 2], [3, 4]]]),
    "clamp_int_tensor": (lambda M, a, b: (M.clamp(a, min=b), a.clamp(max=b.float() + 0.5)), [[1, 5, 3], [2, 2, 2]]),
    "isclose_int": (lambda M, a, b: M.isclose(a, b), [[1, 2, 3], [1, 2, 4]]),
}


@pytest.mark.parametrize("name", sorted(INT_CASES))
def test_parity_integer(name, device):
    fn, arrays = INT_CASES[name]
    run(fn, ints=[np.asarray(a) for a in arrays], device=device, grad=False)


def test_scatter_src_larger_than_index(device):
    # src larger than index: only src[:2, :4] is read. torch's backward fails here (a gradient shaped like
    # index for src); ours is zero-padded to src's shape (checked against the forward's linearity)
    x, src, idx = X34, R.standard_normal((3, 5)), np.array([[0, 1, 2, 0], [2, 2, 2, 2]])
    run(lambda M, a, b, i: (a.scatter_add(0, i, b), a.scatter(0, i, b)), [x, src], [idx], device=device, grad=False)
    s = tg.tensor(src, device=device, requires_grad=True)
    tg.tensor(x, device=device).scatter_add(0, tg.tensor(idx, device=device), s).sum().backward()
    expect = np.zeros((3, 5))
    expect[:2, :4] = 1
    assert np.array_equal(s.grad.numpy(), expect)


def test_scatter_reduce_add(device):
    # torch has no derivative for scatter(reduce=...): values only (ours is scatter_add's gradient)
    run(lambda M, x, s, i: x.scatter(1, i, s, reduce="add"), [X34, R.standard_normal((3, 4))],
        [np.array([[0, 0, 3, 3], [1, 1, 1, 1], [2, 0, 2, 0]])], device=device, grad=False)


def test_norm_p0(device):
    # torch's gradient of norm(p=0) is None (undefined); ours is zeros (checked here)
    x = [[0.0, 1.5, -2.0], [0.0, 0.0, 3.0]]
    run(lambda M, t: (t.norm(p=0), t.norm(0, dim=1), M.norm(t, 0, dim=0, keepdim=True)), [x], device=device,
        grad=False)
    t = tg.tensor(x, device=device, requires_grad=True)
    t.norm(p=0).backward()
    assert np.array_equal(t.grad.numpy(), np.zeros((2, 3)))


def test_half():
    run(lambda M, x: (x.half(), M.tensor([1, 2]).half()), [X34], grad=False)


def test_isclose_allclose(device):
    a = [1.0, 1.0 + 1e-6, math.inf, -math.inf, math.nan, 1.0]
    b = [1.0, 1.0, math.inf, math.inf, math.nan, 1.1]
    run(lambda M, x, y: (M.isclose(x, y), x.isclose(y, equal_nan=True), M.isclose(x, y, rtol=0.2),
                         M.allclose(x[:2], y[:2]), x.allclose(y), M.allclose(x, y, rtol=0.2, equal_nan=True)),
        [a, b], device=device, grad=False)


def test_histc(device):
    x = [0.0, 0.5, 1.0, 1.0, 2.5, 3.0, -1.0, 7.0]
    run(lambda M, t: (M.histc(t, bins=4, min=0, max=3), t.histc(5), t.histc(bins=3, min=1, max=1)),
        [x], device=device, dtype="float32", grad=False)


def test_bincount_weights(device):
    ours = tg.bincount(tg.tensor([0, 2, 2], device=device), weights=tg.tensor([0.5, 1.0, 2.0], device=device))
    theirs = torch.bincount(torch.tensor([0, 2, 2]), weights=torch.tensor([0.5, 1.0, 2.0]))
    _cmp(ours, theirs, "bincount weights")


def test_float32_dtypes(device):
    run(lambda M, x, i: (x.gather(1, i), x.cumsum(1), x.cumprod(0), x.sort()[0], x.erf(), x.flip(0)),
        [X34], [IDX_G[:, :2]], device=device, dtype="float32", rtol=1e-5, atol=1e-6)


ERRORS = {
    "gather_float_index": (lambda M, x, i: x.gather(1, i.float()), [X34], [IDX_G]),
    "gather_out_of_bounds": (lambda M, x, i: x.gather(1, i + 4), [X34], [IDX_G]),
    "gather_ndim": (lambda M, x, i: x.gather(1, i[0]), [X34], [IDX_G]),
    "gather_bad_dim": (lambda M, x, i: x.gather(2, i), [X34], [IDX_G]),
    "scatter_dtype": (lambda M, x, i: x.scatter(1, i, x.float()), [X34], [IDX_G[:, :3]]),
    "index_select_2d_index": (lambda M, x, i: x.index_select(0, i), [X34], [IDX_G]),
    "index_select_oob": (lambda M, x, i: x.index_select(0, i[0] + 3), [X34], [IDX_G]),
    "index_add_shape": (lambda M, x, i: x.index_add(0, i[0], x), [X34], [IDX_G]),
    "tril_1d": (lambda M, x: x.tril(), [V5], []),
    "topk_k_too_big": (lambda M, x: x.topk(6), [V5], []),
    "flip_dup_dims": (lambda M, x: x.flip(0, 0), [X34], []),
    "trace_3d": (lambda M, x: x.trace(), [X234], []),
    "diag_3d": (lambda M, x: x.diag(), [X234], []),
    "diagonal_same_dims": (lambda M, x: x.diagonal(0, 1, 1), [X34], []),
    "mm_1d": (lambda M, x: M.mm(x, x), [V5], []),
    "bmm_2d": (lambda M, x: M.bmm(x, x.t()), [X34], []),
    "dot_2d": (lambda M, x: M.dot(x, x), [X34], []),
    "dot_sizes": (lambda M, x, y: M.dot(x, y), [V5, V5[:3]], []),
    "mv_shapes": (lambda M, x: M.mv(x, x), [X34], []),
    "einsum_operand_count": (lambda M, x: M.einsum("ij,jk->ik", x), [X34], []),
    "einsum_ndim": (lambda M, x: M.einsum("ijk->i", x), [X34], []),
    "meshgrid_2d": (lambda M, x: M.meshgrid(x, x, indexing="ij"), [X34], []),
    "meshgrid_indexing": (lambda M, x: M.meshgrid(x, x, indexing="xx"), [V5], []),
    "multinomial_negative": (lambda M, x: M.multinomial(x, 2), [[0.5, -0.1, 0.6]], []),
    "multinomial_too_many": (lambda M, x: M.multinomial(x, 4), [[0.5, 0.1, 0.6]], []),
    "multinomial_3d": (lambda M, x: M.multinomial(x, 1), [np.ones((2, 2, 2))], []),
    "bincount_negative": (lambda M, i: M.bincount(i - 5), [], [[1, 2]]),
    "bincount_float": (lambda M, x: M.bincount(x), [[1.0, 2.0]], []),
    "bincount_2d": (lambda M, i: M.bincount(i), [], [[[1, 2]]]),
    "histc_int": (lambda M, i: M.histc(i), [], [[1, 2]]),
    "isclose_dtypes": (lambda M, x, i: M.isclose(x, i), [V5], [[1, 2, 3, 4, 5]]),
    "cumsum_bad_dim": (lambda M, x: x.cumsum(3), [X34], []),
    "roll_mismatch": (lambda M, x: x.roll((1, 2), 0), [X34], []),
}


@pytest.mark.parametrize("name", sorted(ERRORS))
def test_errors(name, device):
    fn, floats, ints = ERRORS[name]
    raises_like(fn, floats, ints, device=device)


# ---------------------------------------------------------------- sampling (our generator is not torch's)
def test_bernoulli(device):
    g = tg.Generator().manual_seed(3)
    p = tg.full((4000,), 0.3, device=device)
    s = tg.bernoulli(p, generator=g)
    assert s.dtype is tg.float32 and s.device == p.device
    assert set(np.unique(s.numpy())) <= {0.0, 1.0}
    assert abs(float(s.mean()) - 0.3) < 0.03
    s2 = tg.bernoulli(p, generator=tg.Generator().manual_seed(3))
    assert np.array_equal(s.numpy(), s2.numpy())  # the generator decides the draw
    x = tg.zeros(1000, dtype=tg.float64, device=device).bernoulli_(0.75, generator=g)
    assert x.dtype is tg.float64 and abs(float(x.mean()) - 0.75) < 0.05
    with pytest.raises(RuntimeError):
        tg.bernoulli(tg.tensor([0.5, 1.5], device=device))
    with pytest.raises(RuntimeError):
        torch.bernoulli(torch.tensor([0.5, 1.5]))


def test_multinomial(device):
    g = tg.Generator().manual_seed(0)
    probs = tg.tensor([0.1, 0.0, 0.6, 0.3], device=device)
    s = tg.multinomial(probs, 5000, replacement=True, generator=g)
    assert s.dtype is tg.int64 and tuple(s.shape) == (5000,)
    freq = np.bincount(s.numpy(), minlength=4) / 5000
    np.testing.assert_allclose(freq, [0.1, 0.0, 0.6, 0.3], atol=0.03)
    w = tg.tensor([[1.0, 2.0, 0.0, 3.0], [5.0, 0.0, 1.0, 1.0]], device=device)  # unnormalized, 2-d
    d = w.multinomial(3, generator=g)
    assert tuple(d.shape) == (2, 3)
    for row, zero in zip(d.numpy(), (2, 1)):  # without replacement: distinct, never a zero-probability index
        assert len(set(row)) == 3 and zero not in row
    first = np.array([tg.multinomial(w[1], 1, generator=g).item() for _ in range(400)])
    assert abs(np.mean(first == 0) - 5 / 7) < 0.08
    a = tg.multinomial(probs, 4, generator=tg.Generator().manual_seed(5))
    b = tg.multinomial(probs, 4, generator=tg.Generator().manual_seed(5))
    assert np.array_equal(a.numpy(), b.numpy())


# ---------------------------------------------------------------- properties on random shapes (Hypothesis)
@settings(max_examples=12, deadline=None, derandomize=True)
@given(st.integers(1, 4), st.integers(1, 5), st.integers(0, 1), st.integers(0, 2 ** 31 - 1))
def test_gather_scatter_sort_cumulative_random(rows, cols, dim, seed):
    rng = np.random.default_rng(seed)
    x = rng.integers(-3, 4, size=(rows, cols)).astype(np.float64)  # many ties, zeros for cumprod
    n = x.shape[dim]
    idx = rng.integers(0, n, size=(rows, cols))
    run(lambda M, t, i: (t.gather(dim, i), t.scatter_add(dim, i, t * 2), t.sort(dim=dim, stable=True),
                         t.sort(dim=dim, descending=True, stable=True), t.cumsum(dim), t.cumprod(dim), t.argsort(dim)),
        [x], [idx])


def test_small_listed_items(device):
    """The issue's one-line cases: logsumexp over an empty dim, softmax/gelu on 0-d, format specs on 0-d."""
    run(lambda M, x: (M.logsumexp(x[:, :0], 1), x[0, 0].softmax(0), M.nn.functional.gelu(x[0, 0]),
                      x[0, 0].log_softmax(-1)), [X34], device=device)
    assert f"{tg.tensor(1.23456, device=device):.3f}" == f"{torch.tensor(1.23456):.3f}" == "1.235"
    assert f"{tg.tensor(7, device=device):4d}" == f"{torch.tensor(7):4d}"
