"""Issue 13, namespaces: the torch APIs tutorial code touches first, compared with PyTorch.

torch.utils.data, torch.autograd.gradcheck / gradgradcheck / functional, torch.nn.utils,
torch.testing.assert_close, torch.linalg, torch.cuda, torch.backends.cudnn, inference_mode,
finfo / iinfo, set/get_num_threads, randint's argument forms, generator=, to(non_blocking=True),
format specs on 0-d tensors and nelement. Each test runs the same call through both libraries:
values, dtypes, gradients, and "torch raises, we raise".
"""
import math
import re

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import tinygrad_dnn as tg

torch = pytest.importorskip("torch")


def _np(t):
    return t.detach().cpu().numpy() if hasattr(t, "detach") else np.asarray(t)


def _close(a, b, rtol=1e-7, atol=1e-9):
    np.testing.assert_allclose(_np(a), _np(b), rtol=rtol, atol=atol)


def _same_raise(f_ours, f_torch, ours_type=None):
    """torch raises -> we raise (the same exception type unless ``ours_type`` says otherwise)."""
    with pytest.raises(Exception) as theirs:
        f_torch()
    with pytest.raises(ours_type or theirs.type):
        f_ours()


# ====================================================================== the issue's reproductions
def test_issue_reproductions_run():
    import importlib

    dl = importlib.import_module("tinygrad_dnn.utils.data")
    from tinygrad_dnn.utils.data import DataLoader  # noqa: F401  (the failing line of the issue)

    assert dl.DataLoader is tg.data.DataLoader and tg.utils.data.DataLoader is tg.data.DataLoader
    assert callable(tg.autograd.gradcheck) and callable(tg.autograd.gradgradcheck)
    data = tg.arange(100)
    T, B = 8, 4
    ix = tg.randint(len(data) - T - 1, (B,))
    assert tuple(ix.shape) == (B,) and ix.dtype is tg.int64 and int(ix.max()) < len(data) - T - 1
    y = tg.randint(high=10, size=(3,))
    assert tuple(y.shape) == (3,) and 0 <= int(y.min()) and int(y.max()) < 10
    x = tg.ones(2).to("cpu", non_blocking=True)
    assert x.tolist() == [1.0, 1.0]
    tg.cuda.manual_seed_all(0)
    assert tg.cuda.device_count() == torch.cuda.device_count() == 0 or tg.cuda.is_available()
    tg.backends.cudnn.deterministic = True
    assert tg.backends.cudnn.deterministic is True
    tg.backends.cudnn.deterministic = False
    assert f"{tg.tensor(0.123456):.4f}" == f"{torch.tensor(0.123456):.4f}" == "0.1235"


# ====================================================================== torch.utils.data
def test_utils_data_is_an_alias_not_a_copy():
    import tinygrad_dnn.utils.data as ud

    for name in ("Dataset", "TensorDataset", "Subset", "ConcatDataset", "random_split", "DataLoader",
                 "default_collate", "SequentialSampler", "RandomSampler", "SubsetRandomSampler",
                 "WeightedRandomSampler", "BatchSampler", "Sampler"):
        assert getattr(ud, name) is getattr(tg.data, name), name
        assert hasattr(torch.utils.data, name), name


def test_sequential_and_batch_sampler_match_torch():
    ud = tg.utils.data
    for n, bs, drop in [(10, 3, False), (10, 3, True), (9, 3, False), (1, 4, False)]:
        ours = list(ud.BatchSampler(ud.SequentialSampler(range(n)), bs, drop))
        theirs = list(torch.utils.data.BatchSampler(torch.utils.data.SequentialSampler(range(n)), bs, drop))
        assert ours == theirs
        assert len(ud.BatchSampler(ud.SequentialSampler(range(n)), bs, drop)) == len(theirs)


def test_random_samplers_draw_valid_indices_reproducibly():
    ud = tg.utils.data
    perm = list(ud.RandomSampler(range(20), generator=tg.Generator().manual_seed(1)))
    assert sorted(perm) == list(range(20))
    assert perm == list(ud.RandomSampler(range(20), generator=tg.Generator().manual_seed(1)))
    rep = list(ud.RandomSampler(range(5), replacement=True, num_samples=50, generator=tg.Generator(0)))
    assert len(rep) == 50 and set(rep) <= set(range(5))
    longer = list(ud.RandomSampler(range(4), num_samples=10, generator=tg.Generator(0)))
    assert len(longer) == 10 and sorted(longer[:4]) == [0, 1, 2, 3]
    sub = list(ud.SubsetRandomSampler([3, 5, 7], generator=tg.Generator(0)))
    assert sorted(sub) == [3, 5, 7]
    w = list(ud.WeightedRandomSampler([0.0, 1.0, 0.0, 3.0], 400, generator=tg.Generator(0)))
    assert set(w) <= {1, 3} and 0.65 < w.count(3) / 400 < 0.85
    wo = list(ud.WeightedRandomSampler([1.0, 1.0, 1.0], 3, replacement=False, generator=tg.Generator(0)))
    assert sorted(wo) == [0, 1, 2]


@pytest.mark.parametrize("make", [
    lambda m: m.BatchSampler(m.SequentialSampler(range(4)), 0, False),
    lambda m: m.BatchSampler(m.SequentialSampler(range(4)), 2, 1),
    lambda m: m.RandomSampler(range(4), num_samples=0),
    lambda m: m.RandomSampler(range(4), replacement=1),
    lambda m: m.WeightedRandomSampler([1.0, 2.0], 0),
    lambda m: m.WeightedRandomSampler([[1.0, 2.0]], 2),
])
def test_sampler_errors_as_torch(make):
    _same_raise(lambda: list(make(tg.utils.data)), lambda: list(make(torch.utils.data)))


def _ds(m, lib):
    x = lib.arange(10.0).reshape(10, 1) if lib is tg else torch.arange(10.0).reshape(10, 1)
    y = (lib if lib is tg else torch).arange(10)
    return m.TensorDataset(x, y)


def test_dataloader_with_sampler_and_batch_sampler_matches_torch():
    for lib, m in ((tg, tg.utils.data), (torch, torch.utils.data)):
        ds = _ds(m, lib)
        bs = m.BatchSampler(m.SequentialSampler(ds), 4, False)
        got = [(_np(x).ravel().tolist(), _np(y).tolist()) for x, y in m.DataLoader(ds, batch_sampler=bs)]
        got2 = [_np(y).tolist() for _, y in m.DataLoader(ds, batch_size=3, sampler=m.SequentialSampler(ds),
                                                          drop_last=True)]
        if lib is tg:
            ours, ours2 = got, got2
        else:
            theirs, theirs2 = got, got2
    assert ours == theirs and ours2 == theirs2
    ds = _ds(tg.utils.data, tg)
    loader = tg.utils.data.DataLoader(ds, batch_size=4, sampler=tg.utils.data.SubsetRandomSampler([1, 3, 5, 7, 9]))
    seen = sorted(v for _, y in loader for v in y.tolist())
    assert seen == [1, 3, 5, 7, 9] and len(loader) == 2


@pytest.mark.parametrize("kwargs", [
    dict(batch_sampler="bs", batch_size=2), dict(batch_sampler="bs", shuffle=True), dict(batch_sampler="bs", drop_last=True),
    dict(sampler="seq", shuffle=True), dict(num_workers=-1),
])
def test_dataloader_option_errors_as_torch(kwargs):
    def make(m, lib):
        ds = _ds(m, lib)
        kw = dict(kwargs)
        if kw.get("batch_sampler") == "bs":
            kw["batch_sampler"] = m.BatchSampler(m.SequentialSampler(ds), 2, False)
        if kw.get("sampler") == "seq":
            kw["sampler"] = m.SequentialSampler(ds)
        return m.DataLoader(ds, **kw)

    _same_raise(lambda: make(tg.utils.data, tg), lambda: make(torch.utils.data, torch))


def test_num_workers_is_accepted():
    loader = tg.utils.data.DataLoader(_ds(tg.utils.data, tg), batch_size=5, num_workers=2, pin_memory=True,
                                      persistent_workers=False)
    assert [y.tolist() for _, y in loader] == [[0, 1, 2, 3, 4], [5, 6, 7, 8, 9]]


def test_random_split_and_default_collate_match_torch():
    ours = tg.utils.data.random_split(range(10), [0.3, 0.7], generator=tg.Generator().manual_seed(42))
    theirs = torch.utils.data.random_split(range(10), [0.3, 0.7], generator=torch.Generator().manual_seed(42))
    assert [len(s) for s in ours] == [len(s) for s in theirs]
    assert sorted(i for s in ours for i in s) == list(range(10))
    o = tg.utils.data.default_collate([(tg.tensor([1.0, 2.0]), 2, 0.5), (tg.tensor([3.0, 4.0]), 3, 1.5)])
    t = torch.utils.data.default_collate([(torch.tensor([1.0, 2.0]), 2, 0.5), (torch.tensor([3.0, 4.0]), 3, 1.5)])
    for a, b in zip(o, t):
        _close(a, b)
        assert str(a.dtype).split(".")[-1] == str(b.dtype).split(".")[-1]
    for items in ([1.0, 2.0], [np.float32(1.0), np.float32(2.0)], [3, 4], [np.ones(2, dtype=np.float32)] * 2):
        o, t = tg.utils.data.default_collate(items), torch.utils.data.default_collate(items)
        _close(o, t)
        assert str(o.dtype).split(".")[-1] == str(t.dtype).split(".")[-1]


# ====================================================================== torch.autograd.gradcheck
class _CubeOK(tg.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x ** 3

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return 3 * x ** 2 * g


class _CubeWrong(_CubeOK):
    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return 2 * x ** 2 * g


def test_autograd_gradcheck_torch_signature_and_errors():
    x = tg.randn(4, dtype=tg.float64, requires_grad=True)
    assert tg.autograd.gradcheck(_CubeOK.apply, (x,), eps=1e-6, atol=1e-5, rtol=1e-3) is True
    assert tg.autograd.gradcheck(_CubeOK.apply, (x,), fast_mode=True, nondet_tol=0.0, check_undefined_grad=False,
                                 check_batched_grad=False) is True
    assert tg.autograd.gradgradcheck(_CubeOK.apply, (x,), check_fwd_over_rev=False) is True
    assert tg.autograd.gradcheck(_CubeWrong.apply, (x,), raise_exception=False) is False
    with pytest.raises(RuntimeError, match="analytic"):  # torch: GradcheckError(RuntimeError)
        tg.autograd.gradcheck(_CubeWrong.apply, (x,))
    with pytest.raises(RuntimeError):
        tg.autograd.gradgradcheck(lambda a: _CubeWrong.apply(a) * a, (x,))
    tx = torch.randn(4, dtype=torch.float64, requires_grad=True)
    with pytest.raises(RuntimeError):  # torch raises the same type for the same bug
        _torch_wrong(tx)


def _torch_wrong(tx):
    class W(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 2 * x ** 2 * g

    torch.autograd.gradcheck(W.apply, (tx,))


# ====================================================================== torch.autograd.functional
FUNCS = {
    "one_in_one_out": (lambda L: (lambda x: x.exp() * x.sum()), [(3,)]),
    "two_in_one_out": (lambda L: (lambda x, y: x.tanh() @ y), [(2, 3), (3,)]),
    "one_in_two_out": (lambda L: (lambda x: (x * x, x.sum() * 2.0)), [(3,)]),
    "two_in_two_out": (lambda L: (lambda x, y: (x * y, (x - y).exp())), [(2,), (2,)]),
}


def _inputs(shapes, seed, device="cpu"):
    rng = np.random.default_rng(seed)
    arrs = [rng.standard_normal(s) for s in shapes]
    ours = tuple(tg.tensor(a, device=device) for a in arrs)
    theirs = tuple(torch.tensor(a) for a in arrs)
    return ours, theirs


def _cmp_nested(a, b, rtol=1e-7, atol=1e-9):
    if isinstance(b, tuple):
        assert isinstance(a, tuple) and len(a) == len(b)
        for x, y in zip(a, b):
            _cmp_nested(x, y, rtol, atol)
    else:
        assert tuple(a.shape) == tuple(b.shape)
        _close(a, b, rtol, atol)


@pytest.mark.parametrize("name", list(FUNCS))
@pytest.mark.parametrize("tuple_inputs", [False, True])
def test_jacobian_vjp_jvp_match_torch(name, tuple_inputs, device):
    make, shapes = FUNCS[name]
    if len(shapes) > 1 and not tuple_inputs:
        pytest.skip("several inputs are always a tuple")
    ours_in, theirs_in = _inputs(shapes, 0, device)
    if not tuple_inputs:
        ours_in, theirs_in = ours_in[0], theirs_in[0]
    F, TF = tg.autograd.functional, torch.autograd.functional
    _cmp_nested(F.jacobian(make(tg), ours_in), TF.jacobian(make(torch), theirs_in))
    out_t = make(torch)(*(theirs_in if isinstance(theirs_in, tuple) else (theirs_in,)))
    vs = tuple(torch.randn(o.shape, dtype=torch.float64) for o in (out_t if isinstance(out_t, tuple) else (out_t,)))
    v_t = vs if isinstance(out_t, tuple) else vs[0]
    v_o = tuple(tg.tensor(v.numpy(), device=device) for v in vs)
    v_o = v_o if isinstance(out_t, tuple) else v_o[0]
    _cmp_nested(F.vjp(make(tg), ours_in, v_o), TF.vjp(make(torch), theirs_in, v_t))
    us = tuple(torch.randn(x.shape, dtype=torch.float64)
               for x in (theirs_in if isinstance(theirs_in, tuple) else (theirs_in,)))
    u_t = us if isinstance(theirs_in, tuple) else us[0]
    u_o = tuple(tg.tensor(u.numpy(), device=device) for u in us)
    u_o = u_o if isinstance(theirs_in, tuple) else u_o[0]
    _cmp_nested(F.jvp(make(tg), ours_in, u_o), TF.jvp(make(torch), theirs_in, u_t))


SCALAR = {
    "one": (lambda x: (x.sin() * x * x).sum(), [(3,)]),
    "two": (lambda x, y: (x.exp() * y.unsqueeze(-1)).sum() + (y ** 3).sum(), [(2, 3), (2,)]),
    "linear_in_y": (lambda x, y: (x * x).sum() + y.sum(), [(2,), (3,)]),
}


@pytest.mark.parametrize("name", list(SCALAR))
def test_hessian_hvp_vhp_match_torch(name, device):
    f, shapes = SCALAR[name]
    ours_in, theirs_in = _inputs(shapes, 1, device)
    if len(shapes) == 1:
        ours_in, theirs_in = ours_in[0], theirs_in[0]
    F, TF = tg.autograd.functional, torch.autograd.functional
    _cmp_nested(F.hessian(f, ours_in), TF.hessian(f, theirs_in))
    vs = tuple(torch.randn(s, dtype=torch.float64) for s in shapes)
    v_t = vs if len(shapes) > 1 else vs[0]
    v_o = tuple(tg.tensor(v.numpy(), device=device) for v in vs)
    v_o = v_o if len(shapes) > 1 else v_o[0]
    _cmp_nested(F.hvp(f, ours_in, v_o), TF.hvp(f, theirs_in, v_t))
    _cmp_nested(F.vhp(f, ours_in, v_o), TF.vhp(f, theirs_in, v_t))


def test_functional_create_graph_differentiates_through_the_result():
    a = np.array([0.3, -1.2, 0.7])
    x = tg.tensor(a, requires_grad=True)
    tx = torch.tensor(a, requires_grad=True)
    F, TF = tg.autograd.functional, torch.autograd.functional
    h = F.hessian(lambda z: (z ** 3).sum() * z.sum(), x, create_graph=True)
    th = TF.hessian(lambda z: (z ** 3).sum() * z.sum(), tx, create_graph=True)
    _close(h, th)
    h.sum().backward()
    th.sum().backward()
    _close(x.grad, tx.grad)
    _, g = F.vjp(lambda z: z.exp(), x, tg.ones(3), create_graph=True)
    _, tgv = TF.vjp(lambda z: z.exp(), tx, torch.ones(3, dtype=torch.float64), create_graph=True)
    assert g.requires_grad and tgv.requires_grad
    out, _ = F.vjp(lambda z: z.exp(), x, tg.ones(3))
    assert not out.requires_grad and out.grad_fn is None


@pytest.mark.parametrize("call", [
    lambda F, L: F.vjp(lambda z: z * 2, L.ones(3, dtype=L.float64)),  # v=None, non-scalar output
    lambda F, L: F.hessian(lambda z: z * 2, L.ones(3, dtype=L.float64)),  # non-scalar output
    lambda F, L: F.jacobian(lambda z: z * 2, [L.ones(3, dtype=L.float64)]),  # a list is not a tuple
    lambda F, L: F.jacobian(lambda z: 3, L.ones(3, dtype=L.float64)),  # output not a Tensor
    lambda F, L: F.vjp(lambda z: z * 2, L.ones(3, dtype=L.float64), L.ones(2, dtype=L.float64)),  # v's shape
    lambda F, L: F.jacobian(lambda z, w: z * 2, (L.ones(2, dtype=L.float64), L.ones(2, dtype=L.float64)),
                            strict=True),
    lambda F, L: F.jvp(lambda z: z * 2, L.ones(3, dtype=L.float64)),  # v=None, input not one element
])
def test_functional_errors_as_torch(call):
    _same_raise(lambda: call(tg.autograd.functional, tg), lambda: call(torch.autograd.functional, torch))


def test_functional_unused_inputs_get_zeros():
    F, TF = tg.autograd.functional, torch.autograd.functional
    ours = F.jacobian(lambda z, w: z * 2, (tg.ones(2, dtype=tg.float64), tg.ones(3, dtype=tg.float64)))
    theirs = TF.jacobian(lambda z, w: z * 2, (torch.ones(2, dtype=torch.float64), torch.ones(3, dtype=torch.float64)))
    _cmp_nested(ours, theirs)


# ====================================================================== torch.nn.utils
def test_nn_utils_clip_and_vectors_match_torch():
    rng = np.random.default_rng(0)
    shapes = [(3, 4), (4,), (2, 2)]
    ws = [rng.standard_normal(s) for s in shapes]
    gs = [rng.standard_normal(s) * 3 for s in shapes]
    for norm_type in (2.0, 1.0, math.inf):
        ours = [tg.tensor(w, requires_grad=True) for w in ws]
        theirs = [torch.tensor(w, requires_grad=True) for w in ws]
        for p, q, g in zip(ours, theirs, gs):
            p.grad, q.grad = tg.tensor(g), torch.tensor(g)
        n1 = tg.nn.utils.clip_grad_norm_(ours, 1.5, norm_type=norm_type)
        n2 = torch.nn.utils.clip_grad_norm_(theirs, 1.5, norm_type=norm_type)
        _close(n1, n2)
        for p, q in zip(ours, theirs):
            _close(p.grad, q.grad)
    ours = [tg.tensor(w, requires_grad=True) for w in ws]
    theirs = [torch.tensor(w, requires_grad=True) for w in ws]
    for p, q, g in zip(ours, theirs, gs):
        p.grad, q.grad = tg.tensor(g), torch.tensor(g)
    tg.nn.utils.clip_grad_value_(ours, 0.5)
    torch.nn.utils.clip_grad_value_(theirs, 0.5)
    for p, q in zip(ours, theirs):
        _close(p.grad, q.grad)
    v1 = tg.nn.utils.parameters_to_vector(ours)
    v2 = torch.nn.utils.parameters_to_vector(theirs)
    _close(v1, v2)
    assert v1.requires_grad and tuple(v1.shape) == tuple(v2.shape)
    new = rng.standard_normal(v2.numel())
    tg.nn.utils.vector_to_parameters(tg.tensor(new), ours)
    torch.nn.utils.vector_to_parameters(torch.tensor(new), theirs)
    for p, q in zip(ours, theirs):
        _close(p, q)


# ====================================================================== torch.testing.assert_close
ASSERT_CASES = [
    "ac(L.tensor([1., 2., 3.]), L.tensor([1., 2.1, 3.]))",
    "ac(L.tensor([1.]), L.tensor([1.1]))",
    "ac(1.0, 1.1)",
    "ac(1, 2)",
    "ac(L.tensor(1.), 1.)",
    "ac(L.ones(2), L.ones(3))",
    "ac(L.ones(2), L.ones(2, dtype=L.float64))",
    "ac(L.ones(2), L.ones(2), rtol=1e-3)",
    "ac(L.ones(2), L.ones(2), atol=1e-3)",
    "ac([L.ones(2), L.zeros(2)], [L.ones(2), L.ones(2)])",
    "ac({'a': L.ones(2)}, {'a': L.zeros(2)})",
    "ac(L.tensor([1, 2]), L.tensor([1, 3]))",
    "ac(L.tensor([float('nan')]), L.tensor([float('nan')]))",
    "ac(L.tensor([float('nan'), 1.]), L.tensor([float('nan'), 1.]), equal_nan=True)",
    "ac(L.tensor([float('inf'), 1.]), L.tensor([float('inf'), 1.]))",
    "ac(L.ones(2), L.ones(2) + 1e-6)",
    "ac(L.ones(2), L.ones(2) + 1e-4)",
    "ac(L.ones(2, dtype=L.float64), L.ones(2, dtype=L.float64) + 1e-6)",
    "ac(L.ones(2, dtype=L.float16), L.ones(2, dtype=L.float16) + 1e-3)",
    "ac(L.ones(2), L.ones(2, dtype=L.float64), check_dtype=False)",
    "ac(L.ones(2), L.ones(2) + 0.1, rtol=0.2, atol=0.0)",
    "ac(np.ones(2), np.zeros(2))",
    "ac(L.ones(2), L.zeros(2), msg='custom')",
    "ac(L.ones(2, 2), L.tensor([[1., 1.], [1., 3.]]))",
    "ac([1., 2.], [1., 2.5])",
    "ac({'a': 1}, {'b': 1})",
    "ac([1, 2], [1])",
]


def _norm_msg(text):
    text = text.replace("tinygrad_dnn.", "torch.").replace("torch.autograd.tensor.Tensor", "torch.Tensor")
    return re.sub(r"\d\.\d{5,}", lambda m: f"{float(m.group()):.4g}", text)


@pytest.mark.parametrize("case", ASSERT_CASES)
def test_assert_close_matches_torch(case):
    outcomes = []
    for L, ac in ((tg, tg.testing.assert_close), (torch, torch.testing.assert_close)):
        try:
            eval(case, {"L": L, "ac": ac, "np": np})
            outcomes.append(("ok", ""))
        except Exception as e:  # noqa: BLE001  (compare whatever torch raises)
            outcomes.append((type(e).__name__, _norm_msg(str(e))))
    assert outcomes[0] == outcomes[1]


def test_assert_close_across_devices(device):
    a = tg.tensor([1.0, 2.0], device=device)
    tg.testing.assert_close(a, tg.tensor([1.0, 2.0], device=device))
    if device != "cpu":
        with pytest.raises(AssertionError, match="device"):
            tg.testing.assert_close(a, tg.tensor([1.0, 2.0]))
        tg.testing.assert_close(a, tg.tensor([1.0, 2.0]), check_device=False)


# ====================================================================== torch.linalg
def _pair(a, device="cpu", dtype="float64"):
    return tg.tensor(a, dtype=getattr(tg, dtype), device=device, requires_grad=True), \
        torch.tensor(a, dtype=getattr(torch, dtype), requires_grad=True)


def _fwd_bwd(fo, ft, arrays, device, rtol=1e-7, atol=1e-9, dtype="float64"):
    pairs = [_pair(a, device, dtype) for a in arrays]
    yo = fo(*(p[0] for p in pairs))
    yt = ft(*(p[1] for p in pairs))
    assert tuple(yo.shape) == tuple(yt.shape)
    assert str(yo.dtype).split(".")[-1] == str(yt.dtype).split(".")[-1]
    _close(yo, yt, rtol, atol)
    w = np.random.default_rng(5).standard_normal(tuple(yt.shape))
    (yo * tg.tensor(w, dtype=yo.dtype, device=device)).sum().backward()
    (yt * torch.tensor(w, dtype=yt.dtype)).sum().backward()
    for po, pt in pairs:  # torch leaves None where the gradient is identically 0 (vector_norm ord=0)
        _close(po.grad, pt.grad if pt.grad is not None else torch.zeros_like(pt), rtol, atol)


NORM_CASES = [
    ("vector_norm", {}), ("vector_norm", {"ord": 1}), ("vector_norm", {"ord": math.inf}),
    ("vector_norm", {"ord": -math.inf}), ("vector_norm", {"ord": 3, "dim": 1}), ("vector_norm", {"ord": 0}),
    ("vector_norm", {"ord": -1, "dim": 0, "keepdim": True}), ("vector_norm", {"dim": (0, 1), "keepdim": True}),
    ("matrix_norm", {}), ("matrix_norm", {"ord": 1}), ("matrix_norm", {"ord": -1}),
    ("matrix_norm", {"ord": math.inf, "keepdim": True}), ("matrix_norm", {"ord": -math.inf, "dim": (1, 0)}),
    ("norm", {}), ("norm", {"ord": "fro"}), ("norm", {"ord": 1}), ("norm", {"dim": 1}), ("norm", {"ord": 3, "dim": 0}),
    ("norm", {"dim": (0, 1), "ord": math.inf}), ("norm", {"ord": None, "dim": (1, 0)}),
]


@pytest.mark.parametrize("fn,kw", NORM_CASES, ids=[f"{f}-{k}" for f, k in NORM_CASES])
def test_linalg_norms_match_torch(fn, kw, device):
    a = np.random.default_rng(2).uniform(0.2, 1.5, (3, 4)) * np.array([1, -1, 1, -1])
    _fwd_bwd(lambda x: getattr(tg.linalg, fn)(x, **kw), lambda x: getattr(torch.linalg, fn)(x, **kw), [a], device)


def test_linalg_norm_float32_and_dtype_argument():
    a = np.random.default_rng(3).standard_normal((2, 3))
    _fwd_bwd(lambda x: tg.linalg.vector_norm(x), lambda x: torch.linalg.vector_norm(x), [a], "cpu",
             rtol=1e-5, atol=1e-6, dtype="float32")
    o = tg.linalg.vector_norm(tg.tensor(a, dtype=tg.float32), dtype=tg.float64)
    t = torch.linalg.vector_norm(torch.tensor(a, dtype=torch.float32), dtype=torch.float64)
    assert o.dtype is tg.float64 and t.dtype is torch.float64
    _close(o, t, 1e-6)


def _wc(n, batch=(), seed=0):
    return np.random.default_rng(seed).standard_normal(batch + (n, n)) + 3 * np.eye(n)


@pytest.mark.parametrize("case", ["inv", "inv_batched", "det", "det_batched", "solve", "solve_vector",
                                  "solve_batched_vector", "solve_broadcast", "solve_right"])
def test_linalg_inv_solve_det_match_torch(case, device):
    A, A2 = _wc(3), _wc(3, (2,))
    b = np.random.default_rng(9).standard_normal((3, 2))
    cases = {
        "inv": (lambda L: L.linalg.inv, [A]),
        "inv_batched": (lambda L: L.linalg.inv, [A2]),
        "det": (lambda L: L.linalg.det, [A]),
        "det_batched": (lambda L: L.linalg.det, [_wc(2, (3,))]),
        "solve": (lambda L: L.linalg.solve, [A, b]),
        "solve_vector": (lambda L: L.linalg.solve, [A, b[:, 0]]),
        "solve_batched_vector": (lambda L: L.linalg.solve, [A2, np.ones((2, 3))]),
        "solve_broadcast": (lambda L: L.linalg.solve, [A2, b]),
        "solve_right": (lambda L: (lambda a, x: L.linalg.solve(a, x, left=False)), [A, b.T]),
    }
    make, arrays = cases[case]
    _fwd_bwd(make(tg), make(torch), arrays, device, rtol=1e-9, atol=1e-10)


@pytest.mark.parametrize("fn", ["inv", "det", "solve"])
def test_linalg_gradcheck_and_gradgradcheck(fn, device):
    A = tg.tensor(_wc(3, seed=4), device=device, requires_grad=True)
    B = tg.tensor(np.random.default_rng(1).standard_normal((3, 2)), device=device, requires_grad=True)
    f = {"inv": lambda a: tg.linalg.inv(a), "det": lambda a: tg.linalg.det(a)}.get(fn)
    args = (A,) if f else (A, B)
    f = f or (lambda a, b: tg.linalg.solve(a, b))
    assert tg.autograd.gradcheck(f, args)
    assert tg.autograd.gradgradcheck(f, args)


@pytest.mark.parametrize("call", [
    lambda L: L.linalg.inv(L.ones(2, 3)),
    lambda L: L.linalg.inv(L.ones(3)),
    lambda L: L.linalg.inv(L.ones(2, 2, dtype=L.int64)),
    lambda L: L.linalg.solve(L.eye(2), L.ones(3)),
    lambda L: L.linalg.solve(L.eye(2), L.ones(2, dtype=L.float64)),
    lambda L: L.linalg.det(L.ones(2, 3)),
    lambda L: L.linalg.matrix_norm(L.ones(3)),
    lambda L: L.linalg.vector_norm(L.ones(3, dtype=L.int64)),
    lambda L: L.linalg.norm(L.ones(2, 2, 2), ord=2),
])
def test_linalg_errors_as_torch(call):
    _same_raise(lambda: call(tg), lambda: call(torch))


@pytest.mark.parametrize("call", [lambda L, d: L.linalg.inv(L.zeros(2, 2, device=d)),
                                  lambda L, d: L.linalg.solve(L.zeros(2, 2, device=d), L.ones(2, device=d))])
def test_linalg_singular_matrix_raises_as_torch(call, device):
    """torch raises torch.linalg.LinAlgError (a RuntimeError); ours is tinygrad_dnn.linalg.LinAlgError."""
    _same_raise(lambda: call(tg, device), lambda: call(torch, "cpu"), ours_type=tg.linalg.LinAlgError)
    with pytest.raises(RuntimeError, match="linalg.(inv|solve).*singular"):
        call(tg, device)
    assert issubclass(tg.linalg.LinAlgError, RuntimeError) and issubclass(torch.linalg.LinAlgError, RuntimeError)


# ====================================================================== cuda, cudnn, inference_mode
def test_cuda_answers_as_torch_cpu_build():
    if tg.cuda.is_available():
        pytest.skip("a GPU is present: the CPU-build answers do not apply")
    assert tg.cuda.is_available() is False and tg.cuda.device_count() == 0
    assert tg.cuda.manual_seed(0) is None and tg.cuda.manual_seed_all(0) is None
    if not torch.cuda.is_available():
        for name in ("synchronize", "current_device", "get_device_name"):
            _same_raise(getattr(tg.cuda, name), getattr(torch.cuda, name))
    before = tg.rand(3).tolist()
    tg.manual_seed(0)
    a = tg.rand(3)
    tg.manual_seed(0)
    tg.cuda.manual_seed_all(123)  # does not touch the one host generator
    assert tg.rand(3).tolist() == a.tolist() and before


def test_cudnn_flags_defaults_and_settable():
    c = tg.backends.cudnn
    assert (c.deterministic, c.benchmark, c.enabled) == (False, False, True)  # torch's defaults
    c.deterministic, c.benchmark = True, True
    assert c.deterministic and c.benchmark
    c.deterministic, c.benchmark = False, False
    assert c.is_available() is False and tg.backends.mps.is_available() is False


def test_inference_mode_as_context_and_decorator():
    for L in (tg, torch):
        w = L.ones(3, requires_grad=True)
        with L.inference_mode():
            assert not (w * 2).requires_grad
        with L.inference_mode(False):
            assert (w * 2).requires_grad

        @L.inference_mode()
        def f(x):
            return x * 2

        @L.inference_mode
        def g(x):
            return x * 3

        assert not f(w).requires_grad and not g(w).requires_grad
        assert (w * 2).requires_grad


# ====================================================================== finfo / iinfo / threads
@pytest.mark.parametrize("name", ["float16", "float32", "float64"])
def test_finfo_matches_torch(name):
    o, t = tg.finfo(getattr(tg, name)), torch.finfo(getattr(torch, name))
    for attr in ("bits", "eps", "max", "min", "tiny", "smallest_normal", "resolution"):
        assert getattr(o, attr) == getattr(t, attr), attr
    assert o.dtype == t.dtype
    assert tg.finfo().eps == torch.finfo().eps


@pytest.mark.parametrize("name", ["uint8", "int8", "int16", "int32", "int64"])
def test_iinfo_matches_torch(name):
    o, t = tg.iinfo(getattr(tg, name)), torch.iinfo(getattr(torch, name))
    assert (o.bits, o.min, o.max, o.dtype) == (t.bits, t.min, t.max, t.dtype)


@pytest.mark.parametrize("call", [lambda L: L.finfo(L.int64), lambda L: L.iinfo(L.float32), lambda L: L.iinfo(L.bool)])
def test_finfo_iinfo_errors_as_torch(call):
    _same_raise(lambda: call(tg), lambda: call(torch))


def test_set_get_num_threads():
    prev = tg.get_num_threads()
    assert isinstance(prev, int) and prev >= 1
    try:
        tg.set_num_threads(1)
        assert tg.get_num_threads() == 1
        _same_raise(lambda: tg.set_num_threads(0), lambda: torch.set_num_threads(0))
    finally:
        tg.set_num_threads(prev)


# ====================================================================== randint, generator=
@pytest.mark.parametrize("call", [
    lambda L: L.randint(10, (3,)), lambda L: L.randint(2, 10, (3, 2)), lambda L: L.randint(high=10, size=(3,)),
    lambda L: L.randint(low=2, high=10, size=(3,)), lambda L: L.randint(5, size=(2,)),
    lambda L: L.randint(3, 4, (2,), dtype=L.float32), lambda L: L.randint(-5, 0, [4]),
    lambda L: L.randint(10, (0,)),
])
def test_randint_forms_match_torch(call):
    o, t = call(tg), call(torch)
    assert tuple(o.shape) == tuple(t.shape)
    assert str(o.dtype).split(".")[-1] == str(t.dtype).split(".")[-1]


@pytest.mark.parametrize("call", [
    lambda L: L.randint(10), lambda L: L.randint(5, 2, (3,)), lambda L: L.randint(3, 3, (2,)),
    lambda L: L.randint(0.5, 10, (3,)), lambda L: L.randint(10, size=3),
    lambda L: L.randint(2, 10, (3,), requires_grad=True),
])
def test_randint_errors_as_torch(call):
    _same_raise(lambda: call(tg), lambda: call(torch))


@settings(max_examples=25, derandomize=True, deadline=None)
@given(low=st.integers(-50, 50), span=st.integers(1, 60), size=st.lists(st.integers(0, 4), max_size=3))
def test_randint_values_in_range(low, span, size):
    x = tg.randint(low, low + span, tuple(size))
    assert tuple(x.shape) == tuple(size) and x.dtype is tg.int64
    if x.numel():
        assert low <= int(x.min()) and int(x.max()) < low + span


@pytest.mark.parametrize("make", [
    lambda L, g: L.rand(3, generator=g), lambda L, g: L.randn(2, 2, generator=g),
    lambda L, g: L.randint(0, 100, (4,), generator=g), lambda L, g: L.randperm(6, generator=g),
    lambda L, g: L.normal(0.0, 2.0, (3,), generator=g), lambda L, g: L.normal(L.zeros(3), L.ones(3), generator=g),
    lambda L, g: L.nn.init.normal_(L.empty(3), generator=g), lambda L, g: L.nn.init.uniform_(L.empty(3), generator=g),
    lambda L, g: L.nn.init.kaiming_uniform_(L.empty(2, 3), generator=g),
    lambda L, g: L.nn.init.xavier_normal_(L.empty(2, 3), generator=g),
    lambda L, g: L.nn.init.trunc_normal_(L.empty(3), generator=g),
])
def test_generator_is_accepted_and_reproducible(make):
    for L in (tg, torch):
        a = make(L, L.Generator().manual_seed(7))
        L.manual_seed(0)
        state = L.rand(1)
        L.manual_seed(0)
        b = make(L, L.Generator().manual_seed(7))
        assert np.array_equal(_np(a), _np(b))
        assert L.rand(1).tolist() == state.tolist()  # the global generator was not used


def test_normal_forms_and_errors():
    x = tg.normal(tg.zeros(2, 1), tg.ones(3))
    assert tuple(x.shape) == tuple(torch.normal(torch.zeros(2, 1), torch.ones(3)).shape) == (2, 3)
    _same_raise(lambda: tg.normal(0.0, -1.0, (2,)), lambda: torch.normal(0.0, -1.0, (2,)))


# ====================================================================== small Tensor API
@pytest.mark.parametrize("spec", [".4f", ".2e", "", "8.3f", "+.1f", "g"])
def test_format_0d_float_matches_torch(spec):
    assert format(tg.tensor(3.14159), spec) == format(torch.tensor(3.14159), spec)


def test_format_int_and_non_scalar_as_torch():
    assert format(tg.tensor(3), "d") == format(torch.tensor(3), "d") == "3"
    assert format(tg.tensor(3), "5") == format(torch.tensor(3), "5")
    _same_raise(lambda: format(tg.ones(2), ".4f"), lambda: format(torch.ones(2), ".4f"))
    assert format(tg.ones(2), "") == str(tg.ones(2))
    loss = tg.tensor(0.5, requires_grad=True) * 2
    assert f"loss {loss:.4f}" == "loss 1.0000"


def test_nelement_and_to_non_blocking(device):
    x = tg.ones(2, 3, device=device, requires_grad=True)
    assert x.nelement() == torch.ones(2, 3).nelement() == 6
    y = x.to(device, non_blocking=True)
    z = x.to(tg.float64, non_blocking=True)
    assert y.device == x.device and z.dtype is tg.float64
    z.sum().backward()
    assert x.grad.tolist() == [[1.0] * 3] * 2
