"""F.scaled_dot_product_attention, nn.MultiheadAttention, nn.TransformerEncoderLayer/TransformerEncoder
against PyTorch: a torch module's state_dict loads into ours; outputs, attention weights and the gradient
of every input and every parameter agree in float64; masks (bool / float, attn_mask / key_padding_mask),
causal attention, dropout, errors as torch; gradcheck / gradgradcheck on small sizes."""
import numpy as np
import pytest

import tinygrad_dnn as tg
from tinygrad_dnn import nn
from tinygrad_dnn.gradcheck import gradcheck, gradgradcheck
from tinygrad_dnn.nn import functional as F

torch = pytest.importorskip("torch")

TOL = dict(rtol=1e-9, atol=1e-11)


def _np(t):
    return t.detach().cpu().numpy() if not isinstance(t, tg.Tensor) else t.detach().numpy()


def _sd(module, device):
    return {k: tg.tensor(v.detach().numpy(), device=device) for k, v in module.state_dict().items()}


def _pair(cls, device, *args, **kw):
    torch.manual_seed(0)
    tm = getattr(torch.nn, cls)(*args, **kw).double()
    m = getattr(nn, cls)(*args, **kw).to(device).double()
    assert sorted(m.state_dict().keys()) == sorted(tm.state_dict().keys())
    m.load_state_dict(_sd(tm, device))
    return tm, m


def _close(a, b, **kw):
    np.testing.assert_allclose(_np(a), _np(b), **(kw or TOL))


# ------------------------------------------------------------------ scaled_dot_product_attention
SDPA = [
    ("plain", {}, None),
    ("scale", {"scale": 0.3}, None),
    ("causal", {"is_causal": True}, None),
    ("bool_mask", {}, "bool"),
    ("float_mask", {}, "float"),
]


def _mask(kind, rng, shape):
    if kind == "bool":
        m = rng.random(shape) < 0.6
        m[..., 0] = True  # every query attends to at least one key
        return m
    return rng.standard_normal(shape)


@pytest.mark.parametrize("case", SDPA, ids=[c[0] for c in SDPA])
@pytest.mark.parametrize("LS", [(4, 4), (3, 5), (5, 3)], ids=["L=S", "L<S", "L>S"])
def test_sdpa_matches_torch_values_and_grads(case, LS, device):
    _, kw, mkind = case
    L, S = LS
    rng = np.random.default_rng(0)
    q, k, v = rng.standard_normal((2, 3, L, 4)), rng.standard_normal((2, 3, S, 4)), rng.standard_normal((2, 3, S, 5))
    tq, tk, tv = (torch.tensor(a, requires_grad=True) for a in (q, k, v))
    Q, K, V = (tg.tensor(a, device=device, requires_grad=True) for a in (q, k, v))
    tmask = mask = None
    if mkind is not None:
        m = _mask(mkind, rng, (3, L, S))  # broadcasts over the batch dim
        tmask = torch.tensor(m, requires_grad=mkind == "float")
        mask = tg.tensor(m, device=device, requires_grad=mkind == "float")
    ty = torch.nn.functional.scaled_dot_product_attention(tq, tk, tv, attn_mask=tmask, **kw)
    y = F.scaled_dot_product_attention(Q, K, V, attn_mask=mask, **kw)
    assert y.dtype is tg.float64 and tuple(y.shape) == tuple(ty.shape)
    _close(y, ty)
    g = rng.standard_normal(tuple(ty.shape))
    ty.backward(torch.tensor(g))
    y.backward(tg.tensor(g, device=device))
    for a, b in ((Q, tq), (K, tk), (V, tv)):
        _close(a.grad, b.grad)
    if mkind == "float":
        _close(mask.grad, tmask.grad)


def test_sdpa_float32_and_3d(device):
    rng = np.random.default_rng(1)
    q, k, v = (rng.standard_normal((2, 4, 3)).astype(np.float32) for _ in range(3))
    ty = torch.nn.functional.scaled_dot_product_attention(*(torch.tensor(a) for a in (q, k, v)), is_causal=True)
    y = F.scaled_dot_product_attention(*(tg.tensor(a, device=device) for a in (q, k, v)), is_causal=True)
    assert y.dtype is tg.float32
    _close(y, ty, rtol=1e-5, atol=1e-6)


def test_sdpa_causal_first_row_attends_only_itself(device):
    q = tg.randn(1, 4, 2, device=device)
    v = tg.randn(1, 4, 3, device=device)
    y = F.scaled_dot_product_attention(q, tg.randn(1, 4, 2, device=device), v, is_causal=True)
    np.testing.assert_allclose(_np(y[0, 0]), _np(v[0, 0]), rtol=1e-6)


def test_sdpa_dropout(device):
    q, k, v = (tg.randn(2, 6, 4, device=device, requires_grad=True) for _ in range(3))
    y0 = F.scaled_dot_product_attention(q, k, v)
    np.testing.assert_array_equal(_np(F.scaled_dot_product_attention(q, k, v, dropout_p=1.0)), 0.0)
    tg.manual_seed(3)
    y = F.scaled_dot_product_attention(q, k, v, dropout_p=0.5)
    assert not np.allclose(_np(y), _np(y0))
    y.sum().backward()
    assert q.grad is not None and np.isfinite(_np(q.grad)).all()
    # the weights are dropped (then rescaled by 2): the mean over many draws is the dropout-free output
    acc = sum(_np(F.scaled_dot_product_attention(q, k, v, dropout_p=0.5)) for _ in range(400)) / 400
    np.testing.assert_allclose(acc, _np(y0), atol=0.25)


def test_sdpa_errors_as_torch():
    q = k = v = np.zeros((1, 3, 4))
    tq = torch.tensor(q)
    with pytest.raises(RuntimeError):
        torch.nn.functional.scaled_dot_product_attention(tq, tq, tq, attn_mask=torch.ones(3, 3, dtype=torch.bool),
                                                         is_causal=True)
    with pytest.raises(RuntimeError, match="attn_mask should not be set"):
        F.scaled_dot_product_attention(tg.tensor(q), tg.tensor(k), tg.tensor(v),
                                       attn_mask=tg.ones(3, 3, dtype=tg.bool), is_causal=True)
    with pytest.raises(RuntimeError):
        torch.nn.functional.scaled_dot_product_attention(tq, torch.zeros(1, 3, 5), torch.zeros(1, 3, 5))
    with pytest.raises(RuntimeError):
        F.scaled_dot_product_attention(tg.tensor(q), tg.zeros(1, 3, 5, dtype=tg.float64), tg.zeros(1, 3, 5, dtype=tg.float64))
    with pytest.raises(RuntimeError):
        F.scaled_dot_product_attention(tg.tensor(q), tg.tensor(k).float(), tg.tensor(v))


@pytest.mark.parametrize("kw", [{"is_causal": True}, {"mask": True}], ids=["causal", "float_mask"])
def test_sdpa_gradcheck_gradgradcheck(kw, device):
    q, k, v = (tg.randn(2, 3, 2, dtype=tg.float64, device=device, requires_grad=True) for _ in range(3))
    args = [q, k, v]
    if kw.get("mask"):
        args.append(tg.randn(3, 3, dtype=tg.float64, device=device, requires_grad=True))

        def fn(q, k, v, m):
            return F.scaled_dot_product_attention(q, k, v, attn_mask=m, scale=0.7)
    else:
        def fn(q, k, v):
            return F.scaled_dot_product_attention(q, k, v, is_causal=True)
    assert gradcheck(fn, args)
    assert gradgradcheck(fn, args)


# ------------------------------------------------------------------ MultiheadAttention
MHA = [
    ("default", {}, {}),
    ("batch_first", {"batch_first": True}, {}),
    ("no_bias", {"bias": False}, {}),
    ("kdim_vdim", {"kdim": 3, "vdim": 5}, {}),
    ("bool_attn_mask", {}, {"attn_mask": "bool2"}),
    ("float_attn_mask_3d", {"batch_first": True}, {"attn_mask": "float3"}),
    ("key_padding_mask", {}, {"key_padding_mask": "bool"}),
    ("both_masks_per_head_weights", {"batch_first": True},
     {"attn_mask": "float2", "key_padding_mask": "float", "average_attn_weights": False}),
    ("causal_hint", {}, {"attn_mask": "causal", "is_causal": True}),
    ("no_weights", {}, {"need_weights": False}),
]


def _mha_kwargs(spec, rng, N, H, L, S, device):
    ours, theirs = {}, {}
    for name, kind in spec.items():
        if name == "attn_mask":
            if kind == "bool2":
                m = rng.random((L, S)) < 0.4
                m[:, 0] = False
            elif kind == "causal":
                m = np.triu(np.ones((L, S), dtype=bool), 1)
            elif kind == "float2":
                m = rng.standard_normal((L, S))
            else:
                m = rng.standard_normal((N * H, L, S))
        elif name == "key_padding_mask":
            if kind == "bool":
                m = rng.random((N, S)) < 0.4
                m[:, 0] = False
            else:
                m = rng.standard_normal((N, S))
        else:
            ours[name] = theirs[name] = kind
            continue
        ours[name], theirs[name] = tg.tensor(m, device=device), torch.tensor(m)
    return ours, theirs


@pytest.mark.parametrize("case", MHA, ids=[c[0] for c in MHA])
def test_mha_matches_torch_outputs_weights_and_every_gradient(case, device):
    _, ckw, fkw = case
    E, H, N, L, S = 6, 2, 2, 4, 5
    tm, m = _pair("MultiheadAttention", device, E, H, **ckw)
    rng = np.random.default_rng(2)
    kd, vd = ckw.get("kdim", E), ckw.get("vdim", E)
    bf = ckw.get("batch_first", False)
    shp = (lambda n, t, e: (n, t, e)) if bf else (lambda n, t, e: (t, n, e))
    q, k, v = rng.standard_normal(shp(N, L, E)), rng.standard_normal(shp(N, S, kd)), rng.standard_normal(shp(N, S, vd))
    tq, tk, tv = (torch.tensor(a, requires_grad=True) for a in (q, k, v))
    Q, K, V = (tg.tensor(a, device=device, requires_grad=True) for a in (q, k, v))
    ours, theirs = _mha_kwargs(fkw, rng, N, H, L, S, device)
    ty, tw = tm(tq, tk, tv, **theirs)
    y, w = m(Q, K, V, **ours)
    _close(y, ty)
    if tw is None:
        assert w is None
    else:
        assert tuple(w.shape) == tuple(tw.shape)
        _close(w, tw)
    g = rng.standard_normal(tuple(ty.shape))
    ty.backward(torch.tensor(g))
    y.backward(tg.tensor(g, device=device))
    for a, b in ((Q, tq), (K, tk), (V, tv)):
        _close(a.grad, b.grad)
    tparams = dict(tm.named_parameters())
    for name, p in m.named_parameters():
        _close(p.grad, tparams[name].grad)


def test_mha_unbatched_and_self_attention(device):
    tm, m = _pair("MultiheadAttention", device, 4, 2)
    x = np.random.default_rng(3).standard_normal((5, 4))
    ty, tw = tm(*(torch.tensor(x),) * 3)
    y, w = m(*(tg.tensor(x, device=device),) * 3)
    assert tuple(y.shape) == (5, 4) and tuple(w.shape) == (5, 5)
    _close(y, ty)
    _close(w, tw)


def test_mha_parameters_and_init_as_torch():
    m = nn.MultiheadAttention(8, 2)
    tm = torch.nn.MultiheadAttention(8, 2)
    assert [(n, tuple(p.shape)) for n, p in m.named_parameters()] == \
           [(n, tuple(p.shape)) for n, p in tm.named_parameters()]
    np.testing.assert_array_equal(_np(m.in_proj_bias), 0.0)
    np.testing.assert_array_equal(_np(m.out_proj.bias), 0.0)
    bound = np.sqrt(6.0 / (8 + 24))  # xavier_uniform_ on (3E, E)
    w = _np(m.in_proj_weight)
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.8 * bound
    m2 = nn.MultiheadAttention(8, 2, kdim=3, vdim=5)
    tm2 = torch.nn.MultiheadAttention(8, 2, kdim=3, vdim=5)
    assert sorted(m2.state_dict()) == sorted(tm2.state_dict())
    assert m2.in_proj_weight is None and tuple(m2.k_proj_weight.shape) == (8, 3)


def test_mha_dropout_train_vs_eval(device):
    m = nn.MultiheadAttention(4, 2, dropout=0.5).to(device)
    x = tg.randn(3, 2, 4, device=device)
    m.eval()
    y1, w1 = m(x, x, x)
    y2, _ = m(x, x, x)
    _close(y1, y2)
    np.testing.assert_allclose(_np(w1.sum(-1)), 1.0, rtol=1e-6)
    m.train()
    y3, w3 = m(x, x, x)
    assert not np.allclose(_np(y3), _np(y1))
    np.testing.assert_allclose(_np(w3.sum(-1)).mean(), 1.0, atol=0.5)  # rescaled by 1/(1-p), rows no longer sum to 1
    assert not np.allclose(_np(w3.sum(-1)), 1.0)


def test_mha_errors_as_torch():
    for mod in (torch.nn, nn):
        with pytest.raises(AssertionError):
            mod.MultiheadAttention(6, 4)
        with pytest.raises(ValueError):
            mod.MultiheadAttention(0, 1)
    tm, m = torch.nn.MultiheadAttention(4, 2), nn.MultiheadAttention(4, 2)
    tx, x = torch.zeros(3, 2, 4), tg.zeros(3, 2, 4)
    with pytest.raises(RuntimeError):
        tm(tx, tx, tx, is_causal=True)
    with pytest.raises(RuntimeError, match="is_causal"):
        m(x, x, x, is_causal=True)
    with pytest.raises(RuntimeError):
        tm(tx, tx, tx, attn_mask=torch.zeros(2, 2))
    with pytest.raises(RuntimeError, match="2D attn_mask"):
        m(x, x, x, attn_mask=tg.zeros(2, 2))
    with pytest.raises(AssertionError):
        tm(tx, tx, tx, key_padding_mask=torch.zeros(3, 3, dtype=torch.bool))
    with pytest.raises(AssertionError):
        m(x, x, x, key_padding_mask=tg.zeros(3, 3, dtype=tg.bool))


def test_mha_gradcheck_gradgradcheck(device):
    m = nn.MultiheadAttention(4, 2, kdim=3).to(device).double()
    names = [n for n, _ in m.named_parameters()]
    q = tg.randn(3, 1, 4, dtype=tg.float64, device=device, requires_grad=True)
    k = tg.randn(2, 1, 3, dtype=tg.float64, device=device, requires_grad=True)
    v = tg.randn(2, 1, 4, dtype=tg.float64, device=device, requires_grad=True)
    params = [p.detach().requires_grad_() for p in m.parameters()]

    def fn(q, k, v, *ps):
        saved = {}
        for n, p in zip(names, ps):
            mod, _, a = n.rpartition(".")
            sub = m.get_submodule(mod)
            saved[(mod, a)] = sub._parameters[a]
            sub._parameters[a] = p
        try:
            y, w = m(q, k, v)
            return y.sum() * 0.3 + (y * y).sum() + (w * w).sum()
        finally:
            for (mod, a), p in saved.items():
                m.get_submodule(mod)._parameters[a] = p

    assert gradcheck(fn, (q, k, v, *params))
    assert gradgradcheck(fn, (q, k, v, *params))


# ------------------------------------------------------------------ TransformerEncoderLayer / TransformerEncoder
ENC = [
    ("post_norm_relu", {}),
    ("pre_norm_gelu_batch_first", {"norm_first": True, "activation": "gelu", "batch_first": True}),
    ("no_bias_eps", {"bias": False, "layer_norm_eps": 1e-3}),
]


@pytest.mark.parametrize("case", ENC, ids=[c[0] for c in ENC])
@pytest.mark.parametrize("masks", [False, True], ids=["nomask", "masks"])
def test_encoder_layer_matches_torch(case, masks, device):
    _, kw = case
    d, nh, N, T = 6, 3, 2, 4
    tm, m = _pair("TransformerEncoderLayer", device, d, nh, dim_feedforward=10, dropout=0.0, **kw)
    tm.eval()  # torch's fast path is skipped anyway for double with grad; eval = no dropout for both
    m.eval()
    rng = np.random.default_rng(4)
    x = rng.standard_normal((N, T, d) if kw.get("batch_first") else (T, N, d))
    tx, X = torch.tensor(x, requires_grad=True), tg.tensor(x, device=device, requires_grad=True)
    ours, theirs = {}, {}
    if masks:
        causal = np.triu(np.ones((T, T), dtype=bool), 1)
        kpm = np.zeros((N, T), dtype=bool)
        kpm[1, -1] = True
        ours = {"src_mask": tg.tensor(causal, device=device), "src_key_padding_mask": tg.tensor(kpm, device=device)}
        theirs = {"src_mask": torch.tensor(causal), "src_key_padding_mask": torch.tensor(kpm)}
    ty, y = tm(tx, **theirs), m(X, **ours)
    _close(y, ty)
    g = rng.standard_normal(tuple(ty.shape))
    ty.backward(torch.tensor(g))
    y.backward(tg.tensor(g, device=device))
    _close(X.grad, tx.grad)
    tparams = dict(tm.named_parameters())
    for name, p in m.named_parameters():
        _close(p.grad, tparams[name].grad)


def test_encoder_stack_matches_torch_and_loads_state_dict(device):
    torch.manual_seed(0)
    tl = torch.nn.TransformerEncoderLayer(4, 2, 8, dropout=0.0, batch_first=True)
    tenc = torch.nn.TransformerEncoder(tl, 2, norm=torch.nn.LayerNorm(4), enable_nested_tensor=False).double()
    enc = nn.TransformerEncoder(nn.TransformerEncoderLayer(4, 2, 8, dropout=0.0, batch_first=True), 2,
                                norm=nn.LayerNorm(4)).to(device).double()
    assert sorted(enc.state_dict()) == sorted(tenc.state_dict())
    enc.load_state_dict(_sd(tenc, device))
    x = np.random.default_rng(5).standard_normal((2, 3, 4))
    causal = np.triu(np.ones((3, 3), dtype=bool), 1)
    ty = tenc(torch.tensor(x), mask=torch.tensor(causal), is_causal=True)
    y = enc(tg.tensor(x, device=device), mask=tg.tensor(causal, device=device), is_causal=True)
    _close(y, ty)
    # the copies are independent parameters
    assert enc.layers[0].linear1.weight is not enc.layers[1].linear1.weight


def test_encoder_layer_dropout_and_activation_errors(device):
    with pytest.raises(RuntimeError):
        torch.nn.TransformerEncoderLayer(4, 2, activation="tanh")
    with pytest.raises(RuntimeError, match="relu/gelu"):
        nn.TransformerEncoderLayer(4, 2, activation="tanh")
    m = nn.TransformerEncoderLayer(4, 2, 8, dropout=0.5, activation=F.silu).to(device)
    x = tg.randn(3, 2, 4, device=device)
    m.eval()
    _close(m(x), m(x))
    m.train()
    assert not np.allclose(_np(m(x)), _np(m(x)))


def test_fully_masked_rows_as_torch(device):
    """SDPA (and MHA without weights, which torch runs through SDPA) gives 0 for a query with every key masked;
    MHA with need_weights=True is a plain softmax there (NaN), as torch."""
    rng = np.random.default_rng(6)
    q = rng.standard_normal((1, 2, 3, 4))
    mk = np.array([[False] * 3, [True] * 3, [True] * 3])
    tq = torch.tensor(q, requires_grad=True)
    Q = tg.tensor(q, device=device, requires_grad=True)
    ty = torch.nn.functional.scaled_dot_product_attention(tq, tq, tq, attn_mask=torch.tensor(mk))
    y = F.scaled_dot_product_attention(Q, Q, Q, attn_mask=tg.tensor(mk, device=device))
    _close(y, ty)
    np.testing.assert_array_equal(_np(y)[:, :, 0], 0.0)
    ty.sum().backward()
    y.sum().backward()
    _close(Q.grad, tq.grad)
    tm, m = _pair("MultiheadAttention", device, 4, 2)
    x = rng.standard_normal((3, 2, 4))
    kpm = np.zeros((2, 3), dtype=bool)
    kpm[1] = True
    for nw in (True, False):
        a = tm(*(torch.tensor(x),) * 3, key_padding_mask=torch.tensor(kpm), need_weights=nw)[0]
        b = m(*(tg.tensor(x, device=device),) * 3, key_padding_mask=tg.tensor(kpm, device=device), need_weights=nw)[0]
        np.testing.assert_allclose(_np(b), _np(a), equal_nan=True, **TOL)
        assert np.isnan(_np(b)[:, 1]).all() == nw
