"""The remaining nn pieces of issue 13 against PyTorch (values, dtypes, every input's gradient, errors):
F.pad modes and negative padding, F.interpolate / nn.Upsample, F.unfold / F.fold, F.cosine_similarity,
nn.ParameterList / nn.ParameterDict, max pooling return_indices + max_unpool, adaptive max pooling for
any output size. gradcheck / gradgradcheck of these run from the op registry ("nnlayers" block)."""
import numpy as np
import pytest

import tinygrad_dnn as tg
from tinygrad_dnn import nn
from tinygrad_dnn.gradcheck import gradcheck, gradgradcheck
from tinygrad_dnn.nn import functional as F

torch = pytest.importorskip("torch")
tF = torch.nn.functional

TOL = dict(rtol=1e-10, atol=1e-12)


def _np(t):
    return t.detach().cpu().numpy() if not isinstance(t, tg.Tensor) else t.detach().numpy()


def _run(ours, theirs, arrays, device, grad=True, tol=TOL):
    """Call both on the same float64 arrays; compare outputs and (for a random output gradient) input grads."""
    T = [torch.tensor(a, requires_grad=grad) for a in arrays]
    X = [tg.tensor(a, device=device, requires_grad=grad) for a in arrays]
    ty, y = theirs(*T), ours(*X)
    assert tuple(y.shape) == tuple(ty.shape)
    assert str(y.dtype).split(".")[-1] == str(ty.dtype).split(".")[-1]
    np.testing.assert_allclose(_np(y), _np(ty), **tol)
    if grad:
        g = np.random.default_rng(9).standard_normal(tuple(ty.shape))
        ty.backward(torch.tensor(g))
        y.backward(tg.tensor(g, device=device))
        for a, b in zip(X, T):
            np.testing.assert_allclose(_np(a.grad), _np(b.grad), **tol)
    return y, ty


def _both_raise(ours, theirs, exc=Exception):
    with pytest.raises(exc) as e_t:
        theirs()
    with pytest.raises(type(e_t.value)):
        ours()


# ------------------------------------------------------------------ F.pad
PADS = [(1, 2), (2, 1, 1, 3), (-1, 2, 3, -1), (3, -2, 0, 0), (0, 0, -1, 1), (1, 1, 1, 1, 1, 1)]


@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate", "circular"])
@pytest.mark.parametrize("pad", PADS, ids=[str(p) for p in PADS])
def test_pad_matches_torch(mode, pad, device):
    x = np.random.default_rng(0).standard_normal((2, 3, 5, 4))
    if mode == "circular" and pad == (3, -2, 0, 0):
        pytest.skip("wraps around the cropped dim more than once: torch errors (memory overlap), we raise")
    if mode != "constant" and len(pad) == 2:  # torch: 4-D input takes 4 or 6 pads in these modes
        _both_raise(lambda: F.pad(tg.tensor(x, device=device), pad, mode=mode),
                    lambda: tF.pad(torch.tensor(x), pad, mode=mode), NotImplementedError)
        x = x[0]
    _run(lambda t: F.pad(t, pad, mode=mode), lambda t: tF.pad(t, pad, mode=mode), [x], device)


def test_pad_constant_value_and_any_rank(device):
    x = np.random.default_rng(1).standard_normal((3,))
    _run(lambda t: F.pad(t, (2, 1), value=-1.5), lambda t: tF.pad(t, (2, 1), value=-1.5), [x], device)
    x = np.random.default_rng(1).standard_normal((2, 2, 2, 2, 2, 2))
    _run(lambda t: F.pad(t, (1, 0) * 5), lambda t: tF.pad(t, (1, 0) * 5), [x], device)
    # reflect on unbatched 2-D (C, W) and on (C, H, W) with a 2-D pad
    for shape, pad in (((3, 5), (2, 1)), ((2, 4, 5), (1, 2, 3, 0))):
        x = np.random.default_rng(2).standard_normal(shape)
        _run(lambda t: F.pad(t, pad, "reflect"), lambda t: tF.pad(t, pad, "reflect"), [x], device)


def test_pad_int_dtype_and_module_forms(device):
    x = np.arange(12).reshape(1, 3, 4)
    y = F.pad(tg.tensor(x, device=device), (1, 1), mode="replicate")
    assert y.dtype is tg.int64
    np.testing.assert_array_equal(_np(y), tF.pad(torch.tensor(x), (1, 1), mode="replicate").numpy())
    xf = np.random.default_rng(3).standard_normal((1, 2, 4, 5))
    for name, args in [("ReflectionPad2d", (1,)), ("ReplicationPad2d", ((1, 0, 2, 1),)), ("ZeroPad2d", (2,)),
                       ("ConstantPad2d", ((1, 2, 0, 1), 3.5)), ("CircularPad2d", (1,)), ("ReflectionPad1d", (2,))]:
        tm, m = getattr(torch.nn, name)(*args), getattr(nn, name)(*args)
        xin = xf[0] if name.endswith("1d") else xf
        np.testing.assert_array_equal(_np(m(tg.tensor(xin, device=device))), tm(torch.tensor(xin)).numpy())


def test_pad_errors_as_torch():
    x = np.zeros((1, 3, 4))
    cases = [
        dict(pad=(1,)),
        dict(pad=(1,) * 8),
        dict(pad=(-5, 0)),
        dict(pad=(4, 0), mode="reflect"),
        dict(pad=(5, 0), mode="circular"),
        dict(pad=(1, 1, 1, 1, 1, 1), mode="reflect"),
        dict(pad=(1, 1), mode="foo"),
        dict(pad=(1, 1), mode="reflect", value=1.0),
    ]
    for kw in cases:
        _both_raise(lambda: F.pad(tg.tensor(x), **kw), lambda: tF.pad(torch.tensor(x), **kw))
    _both_raise(lambda: F.pad(tg.zeros(4), (1, 1), "reflect"), lambda: tF.pad(torch.zeros(4), (1, 1), "reflect"))


def test_pad_still_importable_from_the_old_place():
    import tinygrad_dnn.nn.functional.padding as P

    assert F.pad is P.pad and tg.nn.functional.pad is P.pad


# ------------------------------------------------------------------ interpolate / Upsample
INTERP = [
    ("nearest", None, dict(scale_factor=2)),
    ("nearest", None, dict(size=(7, 9))),
    ("nearest", None, dict(size=(3, 2))),
    ("nearest", None, dict(scale_factor=(0.5, 2.3))),
    ("bilinear", False, dict(scale_factor=2)),
    ("bilinear", False, dict(size=(7, 3))),
    ("bilinear", False, dict(scale_factor=1.7)),
    ("bilinear", True, dict(scale_factor=2)),
    ("bilinear", True, dict(size=(1, 6))),
    ("bilinear", True, dict(scale_factor=(0.5, 2.3))),
]


@pytest.mark.parametrize("case", INTERP, ids=[f"{m}-ac{a}-{k}" for m, a, k in INTERP])
def test_interpolate_2d_matches_torch(case, device):
    mode, ac, kw = case
    x = np.random.default_rng(4).standard_normal((2, 3, 5, 4))
    _run(lambda t: F.interpolate(t, mode=mode, align_corners=ac, **kw),
         lambda t: tF.interpolate(t, mode=mode, align_corners=ac, **kw), [x], device)


@pytest.mark.parametrize("mode,kw", [("nearest", dict(size=10)), ("linear", dict(scale_factor=1.5)),
                                     ("linear", dict(size=4, align_corners=True))])
def test_interpolate_1d_matches_torch(mode, kw, device):
    x = np.random.default_rng(5).standard_normal((2, 3, 7))
    _run(lambda t: F.interpolate(t, mode=mode, **kw), lambda t: tF.interpolate(t, mode=mode, **kw), [x], device)


def test_interpolate_float32_and_recompute(device):
    x = np.random.default_rng(6).standard_normal((1, 2, 6, 5)).astype(np.float32)
    for kw in (dict(scale_factor=1.3, mode="nearest"), dict(scale_factor=1.3, mode="bilinear"),
               dict(scale_factor=1.3, mode="bilinear", recompute_scale_factor=True)):
        _run(lambda t: F.interpolate(t, **kw), lambda t: tF.interpolate(t, **kw), [x], device, grad=False,
             tol=dict(rtol=1e-5, atol=1e-6))


def test_upsample_modules(device):
    x = np.random.default_rng(7).standard_normal((1, 2, 3, 4))
    for tm, m in [(torch.nn.Upsample(scale_factor=2), nn.Upsample(scale_factor=2)),
                  (torch.nn.Upsample(size=(5, 5), mode="bilinear"), nn.Upsample(size=(5, 5), mode="bilinear")),
                  (torch.nn.UpsamplingNearest2d(scale_factor=3), nn.UpsamplingNearest2d(scale_factor=3)),
                  (torch.nn.UpsamplingBilinear2d(size=(4, 7)), nn.UpsamplingBilinear2d(size=(4, 7)))]:
        np.testing.assert_allclose(_np(m(tg.tensor(x, device=device))), tm(torch.tensor(x)).numpy(), **TOL)


def test_interpolate_errors_as_torch():
    x = np.zeros((1, 1, 4, 4))
    cases = [
        dict(),                                                   # neither size nor scale_factor
        dict(size=3, scale_factor=2),
        dict(scale_factor=2, align_corners=True),                 # align_corners with nearest
        dict(size=(2, 2, 2)),
    ]
    for kw in cases:
        _both_raise(lambda: F.interpolate(tg.tensor(x), **kw), lambda: tF.interpolate(torch.tensor(x), **kw))
    _both_raise(lambda: F.interpolate(tg.zeros(1, 1, 4), size=3, mode="bilinear"),
                lambda: tF.interpolate(torch.zeros(1, 1, 4), size=3, mode="bilinear"))


# ------------------------------------------------------------------ unfold / fold
PATCH = [dict(kernel_size=2), dict(kernel_size=(2, 3), dilation=(1, 2), padding=1, stride=(2, 1)),
         dict(kernel_size=3, padding=1), dict(kernel_size=(1, 2), stride=2)]


@pytest.mark.parametrize("kw", PATCH, ids=[str(k) for k in PATCH])
def test_unfold_fold_match_torch(kw, device):
    x = np.random.default_rng(8).standard_normal((2, 3, 5, 6))
    u, tu = _run(lambda t: F.unfold(t, **kw), lambda t: tF.unfold(t, **kw), [x], device)
    cols = _np(tu)
    _run(lambda t: F.fold(t, (5, 6), **kw), lambda t: tF.fold(t, (5, 6), **kw), [cols], device)
    # unbatched and the module forms
    np.testing.assert_allclose(_np(nn.Unfold(**kw)(tg.tensor(x[0], device=device))),
                               torch.nn.Unfold(**kw)(torch.tensor(x[0])).numpy(), **TOL)
    np.testing.assert_allclose(_np(nn.Fold((5, 6), **kw)(tg.tensor(cols[0], device=device))),
                               torch.nn.Fold((5, 6), **kw)(torch.tensor(cols[0])).numpy(), **TOL)


def test_unfold_is_im2col_of_conv(device):
    """conv2d == weight.view(O, -1) @ unfold(x): the way convolution is taught."""
    x = tg.randn(2, 3, 6, 5, dtype=tg.float64, device=device)
    w = tg.randn(4, 3, 3, 2, dtype=tg.float64, device=device)
    cols = F.unfold(x, (3, 2), padding=1)
    y = (w.reshape(4, -1) @ cols).reshape(2, 4, 6, 6)
    np.testing.assert_allclose(_np(y), _np(F.conv2d(x, w, padding=1)), rtol=1e-12, atol=1e-12)


def test_fold_unfold_errors_as_torch():
    _both_raise(lambda: F.fold(tg.zeros(1, 5, 4), (3, 3), 2), lambda: tF.fold(torch.zeros(1, 5, 4), (3, 3), 2))
    _both_raise(lambda: F.fold(tg.zeros(1, 4, 5), (3, 3), 2), lambda: tF.fold(torch.zeros(1, 4, 5), (3, 3), 2))
    _both_raise(lambda: F.unfold(tg.zeros(1, 1, 3, 3, 3), 2), lambda: tF.unfold(torch.zeros(1, 1, 3, 3, 3), 2))
    _both_raise(lambda: F.fold(tg.zeros(4, 1, 4, 5), (3, 3), 2), lambda: tF.fold(torch.zeros(4, 1, 4, 5), (3, 3), 2))


# ------------------------------------------------------------------ cosine_similarity
@pytest.mark.parametrize("shapes,dim", [(((4, 5), (4, 5)), 1), (((4, 5), (1, 5)), 1), (((2, 3, 4), (3, 4)), -1),
                                        (((3, 4), (3, 4)), 0)])
def test_cosine_similarity_matches_torch(shapes, dim, device):
    rng = np.random.default_rng(10)
    arrays = [rng.standard_normal(s) for s in shapes]
    _run(lambda a, b: F.cosine_similarity(a, b, dim=dim), lambda a, b: tF.cosine_similarity(a, b, dim=dim),
         arrays, device)
    m, tm = nn.CosineSimilarity(dim=dim), torch.nn.CosineSimilarity(dim=dim)
    np.testing.assert_allclose(_np(m(*(tg.tensor(a, device=device) for a in arrays))),
                               tm(*(torch.tensor(a) for a in arrays)).numpy(), **TOL)


def test_cosine_similarity_zero_vector_and_pairwise_distance(device):
    a, b = np.zeros((2, 3)), np.ones((2, 3))
    _run(lambda x, y: F.cosine_similarity(x, y), lambda x, y: tF.cosine_similarity(x, y), [a, b], device, grad=False)
    rng = np.random.default_rng(11)
    arrays = [rng.standard_normal((4, 5)), rng.standard_normal((4, 5))]
    _run(lambda x, y: F.pairwise_distance(x, y), lambda x, y: tF.pairwise_distance(x, y), arrays, device)


# ------------------------------------------------------------------ ParameterList / ParameterDict
class _Ours(nn.Module):
    def __init__(self):
        super().__init__()
        self.ws = nn.ParameterList([nn.Parameter(tg.randn(3, 2)), tg.randn(2)])
        self.pd = nn.ParameterDict({"scale": nn.Parameter(tg.ones(2)), "shift": tg.zeros(2)})

    def forward(self, x):
        return (x @ self.ws[0] + self.ws[1]) * self.pd["scale"] + self.pd["shift"]


class _Theirs(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.ws = torch.nn.ParameterList([torch.nn.Parameter(torch.randn(3, 2)), torch.randn(2)])
        self.pd = torch.nn.ParameterDict({"scale": torch.nn.Parameter(torch.ones(2)), "shift": torch.zeros(2)})

    def forward(self, x):
        return (x @ self.ws[0] + self.ws[1]) * self.pd["scale"] + self.pd["shift"]


def test_parameter_containers_register_like_torch(device):
    m, tm = _Ours().to(device), _Theirs()
    assert [(k, tuple(v.shape)) for k, v in m.state_dict().items()] == \
           [(k, tuple(v.shape)) for k, v in tm.state_dict().items()]
    assert [n for n, _ in m.named_parameters()] == [n for n, _ in tm.named_parameters()]
    assert all(isinstance(p, nn.Parameter) for p in m.ws) and isinstance(m.pd["shift"], nn.Parameter)
    m.load_state_dict({k: tg.tensor(v.numpy(), device=device) for k, v in tm.state_dict().items()})
    x = np.random.default_rng(12).standard_normal((4, 3)).astype(np.float32)
    y, ty = m(tg.tensor(x, device=device)), tm(torch.tensor(x))
    np.testing.assert_allclose(_np(y), ty.detach().numpy(), rtol=1e-6, atol=1e-6)
    y.sum().backward()
    ty.sum().backward()
    for (n, p), (_, tp) in zip(m.named_parameters(), tm.named_parameters()):
        np.testing.assert_allclose(_np(p.grad), tp.grad.numpy(), rtol=1e-5, atol=1e-6, err_msg=n)
    opt = tg.optim.SGD(m.parameters(), lr=0.1)
    opt.step()
    assert not np.allclose(_np(m.pd["shift"]), 0.0)


def test_parameter_containers_list_and_dict_api():
    pl = nn.ParameterList()
    pl.append(nn.Parameter(tg.zeros(1)))
    pl += [tg.ones(2)]
    assert len(pl) == 2 and tuple(pl[-1].shape) == (2,) and len(pl[0:1]) == 1
    pl[0] = tg.ones(3)
    assert tuple(pl[0].shape) == (3,) and isinstance(pl[0], nn.Parameter)
    with pytest.raises(IndexError):
        pl[2]
    pd = nn.ParameterDict()
    pd["a"] = tg.zeros(1)
    pd.update({"b": tg.ones(1)})
    assert list(pd.keys()) == ["a", "b"] and "a" in pd and len(pd) == 2
    assert pd.pop("a") is not None and list(pd) == ["b"]
    with pytest.raises(KeyError):
        pd["zz"]
    with pytest.raises(TypeError):
        pl.append("not a tensor")


# ------------------------------------------------------------------ max pooling indices and unpooling
POOL = [dict(kernel_size=2), dict(kernel_size=3, stride=2, padding=1),
        dict(kernel_size=(2, 3), stride=(1, 2), dilation=(2, 1), ceil_mode=True)]


@pytest.mark.parametrize("kw", POOL, ids=[str(k) for k in POOL])
def test_max_pool_return_indices_matches_torch(kw, device):
    x = np.random.default_rng(13).standard_normal((2, 3, 7, 6))
    y, i = F.max_pool2d(tg.tensor(x, device=device), return_indices=True, **kw)
    ty, ti = tF.max_pool2d(torch.tensor(x), return_indices=True, **kw)
    assert i.dtype is tg.int64
    np.testing.assert_array_equal(_np(y), ty.numpy())
    np.testing.assert_array_equal(_np(i), ti.numpy())
    m, tm = nn.MaxPool2d(return_indices=True, **kw), torch.nn.MaxPool2d(return_indices=True, **kw)
    np.testing.assert_array_equal(_np(m(tg.tensor(x[0], device=device))[1]), tm(torch.tensor(x[0]))[1].numpy())


def test_max_pool1d_return_indices_and_unpool1d(device):
    x = np.random.default_rng(14).standard_normal((2, 3, 9))
    y, i = F.max_pool1d(tg.tensor(x, device=device), 3, 2, return_indices=True)
    ty, ti = tF.max_pool1d(torch.tensor(x), 3, 2, return_indices=True)
    np.testing.assert_array_equal(_np(i), ti.numpy())
    _run(lambda v: F.max_unpool1d(v, i, 3, 2), lambda v: tF.max_unpool1d(v, ti, 3, 2), [ty.numpy()], device)


@pytest.mark.parametrize("output_size", [None, (7, 6)])
def test_max_unpool2d_matches_torch(output_size, device):
    x = np.random.default_rng(15).standard_normal((2, 3, 7, 6))
    _, i = F.max_pool2d(tg.tensor(x, device=device), 2, return_indices=True)
    ty, ti = tF.max_pool2d(torch.tensor(x), 2, return_indices=True)
    _run(lambda v: F.max_unpool2d(v, i, 2, output_size=output_size),
         lambda v: tF.max_unpool2d(v, ti, 2, output_size=output_size), [ty.numpy()], device)
    m, tm = nn.MaxUnpool2d(2), torch.nn.MaxUnpool2d(2)
    np.testing.assert_array_equal(_np(m(tg.tensor(ty.numpy(), device=device), i, output_size=output_size)),
                                  tm(ty, ti, output_size=output_size).numpy())


def test_max_unpool_errors_as_torch():
    y, i = tF.max_pool2d(torch.zeros(1, 1, 4, 4), 2, return_indices=True)
    Y, I = tg.zeros(1, 1, 2, 2), tg.tensor(i.numpy())
    _both_raise(lambda: F.max_unpool2d(Y, I, 2, output_size=(9, 9)), lambda: tF.max_unpool2d(y, i, 2, output_size=(9, 9)))
    _both_raise(lambda: F.max_unpool2d(Y, tg.tensor(i.numpy()[..., :1]), 2),
                lambda: tF.max_unpool2d(y, i[..., :1], 2))
    bad = i.clone()
    bad[0, 0, 0, 0] = 99
    _both_raise(lambda: F.max_unpool2d(Y, tg.tensor(bad.numpy()), 2), lambda: tF.max_unpool2d(y, bad, 2))


# ------------------------------------------------------------------ adaptive max pooling, any output size
@pytest.mark.parametrize("out", [(3, 4), (5, 5), (2, 3), (4, 1), (7, 6), 3])
def test_adaptive_max_pool2d_any_size_matches_torch(out, device):
    x = np.random.default_rng(16).standard_normal((2, 3, 7, 6))
    _run(lambda t: F.adaptive_max_pool2d(t, out), lambda t: tF.adaptive_max_pool2d(t, out), [x], device,
         tol=dict(rtol=1e-12, atol=1e-14))
    y, i = F.adaptive_max_pool2d(tg.tensor(x, device=device), out, return_indices=True)
    ty, ti = tF.adaptive_max_pool2d(torch.tensor(x), out, return_indices=True)
    np.testing.assert_array_equal(_np(y), ty.numpy())
    np.testing.assert_array_equal(_np(i), ti.numpy())
    m, tm = nn.AdaptiveMaxPool2d(out, return_indices=True), torch.nn.AdaptiveMaxPool2d(out, return_indices=True)
    np.testing.assert_array_equal(_np(m(tg.tensor(x[0], device=device))[1]), tm(torch.tensor(x[0]))[1].numpy())


@pytest.mark.parametrize("out", [3, 5, 4])
def test_adaptive_max_pool1d_any_size_matches_torch(out, device):
    x = np.random.default_rng(17).standard_normal((2, 3, 7))
    _run(lambda t: F.adaptive_max_pool1d(t, out), lambda t: tF.adaptive_max_pool1d(t, out), [x], device)
    _, i = F.adaptive_max_pool1d(tg.tensor(x, device=device), out, return_indices=True)
    np.testing.assert_array_equal(_np(i), tF.adaptive_max_pool1d(torch.tensor(x), out, return_indices=True)[1].numpy())


def test_adaptive_max_pool_gradgradcheck(device):
    x = tg.randn(1, 2, 5, 4, dtype=tg.float64, device=device, requires_grad=True)
    fn = lambda x: F.adaptive_max_pool2d(x * x, (3, 3))  # noqa: E731
    assert gradcheck(fn, (x,))
    assert gradgradcheck(fn, (x,))
