"""RNN / LSTM / GRU and their cells against PyTorch: a torch module's state_dict is loaded into ours and
outputs, final states and the gradients of the input, the initial states and EVERY parameter agree
(float64, ~1e-10); gradcheck / gradgradcheck on small sizes; dropout between layers; errors as torch."""
import numpy as np
import pytest

import tinygrad_dnn as tg
from tinygrad_dnn import nn
from tinygrad_dnn.gradcheck import gradcheck, gradgradcheck

torch = pytest.importorskip("torch")

TOL = dict(rtol=1e-10, atol=1e-11)


def _sd(module, device):
    return {k: tg.tensor(v.detach().numpy(), device=device) for k, v in module.state_dict().items()}


def _pair(cls, device, *args, **kw):
    torch.manual_seed(0)
    tm = getattr(torch.nn, cls)(*args, **kw).double()
    m = getattr(nn, cls)(*args, **kw).to(device).double()
    m.load_state_dict(_sd(tm, device))
    return tm, m


def _np(t):
    return t.detach().cpu().numpy() if hasattr(t, "cpu") and not isinstance(t, tg.Tensor) else t.detach().numpy()


CONFIGS = [
    ("RNN", {}),
    ("RNN", {"nonlinearity": "relu", "num_layers": 2}),
    ("RNN", {"bidirectional": True, "batch_first": True}),
    ("LSTM", {}),
    ("LSTM", {"num_layers": 2, "bidirectional": True}),
    ("LSTM", {"bias": False, "batch_first": True}),
    ("GRU", {}),
    ("GRU", {"num_layers": 2, "batch_first": True, "bidirectional": True}),
    ("GRU", {"bias": False, "num_layers": 2}),
]


def _ids(c):
    return c[0] + "-" + "-".join(f"{k}={v}" for k, v in c[1].items())


@pytest.mark.parametrize("cfg", CONFIGS, ids=[_ids(c) for c in CONFIGS])
@pytest.mark.parametrize("with_h0", [False, True], ids=["no_h0", "h0"])
@pytest.mark.parametrize("batched", [True, False], ids=["batched", "unbatched"])
def test_matches_torch_outputs_states_and_every_gradient(cfg, with_h0, batched, device):
    cls, kw = cfg
    I, H, T, B = 3, 4, 5, 2
    tm, m = _pair(cls, device, I, H, **kw)
    rng = np.random.default_rng(1)
    shape = ((B, T, I) if kw.get("batch_first") else (T, B, I)) if batched else (T, I)
    x = rng.standard_normal(shape)
    L = kw.get("num_layers", 1) * (2 if kw.get("bidirectional") else 1)
    hshape = (L, B, H) if batched else (L, H)
    lstm = cls == "LSTM"
    hs = [rng.standard_normal(hshape) for _ in range(2 if lstm else 1)] if with_h0 else []
    tx = torch.tensor(x, requires_grad=True)
    gx = tg.tensor(x, device=device, requires_grad=True)
    ths = [torch.tensor(h, requires_grad=True) for h in hs]
    ghs = [tg.tensor(h, device=device, requires_grad=True) for h in hs]
    targ = (tuple(ths) if lstm else ths[0]) if hs else None
    garg = (tuple(ghs) if lstm else ghs[0]) if hs else None
    to, tstate = tm(tx, targ)
    go, gstate = m(gx, garg)
    tstates = list(tstate) if lstm else [tstate]
    gstates = list(gstate) if lstm else [gstate]
    assert tuple(go.shape) == tuple(to.shape)
    np.testing.assert_allclose(go.detach().numpy(), to.detach().numpy(), **TOL)
    for a, b in zip(gstates, tstates):
        assert tuple(a.shape) == tuple(b.shape)
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), **TOL)
    # a loss that weights every output and every final state differently
    wo = rng.standard_normal(tuple(to.shape))
    ws = [rng.standard_normal(tuple(s.shape)) for s in tstates]
    tl = (to * torch.tensor(wo)).sum() + sum((s.sin() * torch.tensor(w)).sum() for s, w in zip(tstates, ws))
    gl = (go * tg.tensor(wo, device=device)).sum() + sum((s.sin() * tg.tensor(w, device=device)).sum()
                                                          for s, w in zip(gstates, ws))
    tl.backward()
    gl.backward()
    np.testing.assert_allclose(gx.grad.numpy(), tx.grad.numpy(), **TOL)
    for a, b in zip(ghs, ths):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), **TOL)
    tp = dict(tm.named_parameters())
    names = [n for n, _ in m.named_parameters()]
    assert names == list(tp)  # same names in the same order: state_dicts interchange
    for n, p in m.named_parameters():
        assert tuple(p.shape) == tuple(tp[n].shape)
        np.testing.assert_allclose(p.grad.numpy(), tp[n].grad.numpy(), err_msg=n, **TOL)


@pytest.mark.parametrize("cls", ["RNNCell", "LSTMCell", "GRUCell"])
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("batched", [True, False])
def test_cells_match_torch(cls, bias, batched, device):
    I, H, B = 3, 4, 2
    kw = {"bias": bias}
    tm, m = _pair(cls, device, I, H, **kw)
    rng = np.random.default_rng(2)
    x = rng.standard_normal((B, I) if batched else (I,))
    lstm = cls == "LSTMCell"
    hs = [rng.standard_normal((B, H) if batched else (H,)) for _ in range(2 if lstm else 1)]
    tx, gx = torch.tensor(x, requires_grad=True), tg.tensor(x, device=device, requires_grad=True)
    ths = [torch.tensor(h, requires_grad=True) for h in hs]
    ghs = [tg.tensor(h, device=device, requires_grad=True) for h in hs]
    # two steps, the second from the first's state: the cell's gradient flows through time
    tout = tm(tx, tuple(ths) if lstm else ths[0])
    tout = tm(tx * 2, tout)
    gout = m(gx, tuple(ghs) if lstm else ghs[0])
    gout = m(gx * 2, gout)
    touts = list(tout) if lstm else [tout]
    gouts = list(gout) if lstm else [gout]
    for a, b in zip(gouts, touts):
        assert tuple(a.shape) == tuple(b.shape)
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), **TOL)
    sum((o.sin()).sum() for o in touts).backward()
    sum((o.sin()).sum() for o in gouts).backward()
    np.testing.assert_allclose(gx.grad.numpy(), tx.grad.numpy(), **TOL)
    for a, b in zip(ghs, ths):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), **TOL)
    tp = dict(tm.named_parameters())
    assert [n for n, _ in m.named_parameters()] == list(tp)
    for n, p in m.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), tp[n].grad.numpy(), err_msg=n, **TOL)
    # no hidden state: zeros, as torch
    np.testing.assert_allclose(_first(m(gx)).detach().numpy(), _first(tm(tx)).detach().numpy(), **TOL)


def _first(out):
    return out[0] if isinstance(out, tuple) else out


@pytest.mark.parametrize("cls,kw", [("RNN", {"nonlinearity": "tanh"}), ("RNN", {"nonlinearity": "relu"}),
                                    ("LSTM", {}), ("GRU", {})])
@pytest.mark.parametrize("second_order", [False, True], ids=["gradcheck", "gradgradcheck"])
def test_gradcheck_module(cls, kw, second_order, device):
    """First order through two bidirectional layers (every parameter, x, h0, c0); second order on one
    layer (the registry's recurrence_* specs check every cell type's second order on its own)."""
    I, H, T, B = 2, 2, 3, 2
    layers = dict(num_layers=1) if second_order else dict(num_layers=2, bidirectional=True)
    L = layers["num_layers"] * (2 if layers.get("bidirectional") else 1)
    tg.manual_seed(0)
    m = getattr(nn, cls)(I, H, **layers, **kw).to(device).double()
    names = [n for n, _ in m.named_parameters()]
    params = [p.detach().requires_grad_() for p in m.parameters()]
    rng = np.random.default_rng(3)
    x = tg.tensor(rng.standard_normal((T, B, I)), device=device, requires_grad=True)
    h0 = tg.tensor(rng.standard_normal((L, B, H)), device=device, requires_grad=True)
    lstm = cls == "LSTM"
    c0 = tg.tensor(rng.standard_normal((L, B, H)), device=device, requires_grad=True)
    saved = dict(m._parameters)

    def fn(x, h0, c0, *ps):
        for n, p in zip(names, ps):
            m._parameters[n] = p
        out, st = m(x, (h0, c0) if lstm else h0)
        if lstm:
            return tg.cat([out.reshape(-1), st[0].reshape(-1), st[1].reshape(-1)])
        return tg.cat([out.reshape(-1), st.reshape(-1)]) + 0 * c0.sum()

    try:
        assert (gradgradcheck if second_order else gradcheck)(fn, (x, h0, c0, *params))
    finally:
        m._parameters.update(saved)


def test_init_is_uniform_in_plus_minus_one_over_sqrt_hidden():
    H = 16
    for cls in (nn.RNN, nn.LSTM, nn.GRU):
        m = cls(8, H, num_layers=2, bidirectional=True)
        for n, p in m.named_parameters():
            a = p.detach().numpy()
            assert np.abs(a).max() <= 1 / np.sqrt(H)
            assert np.abs(a).max() > 0.8 / np.sqrt(H), n  # spread over the whole interval, not zeros
            assert p.dtype is tg.float32
    c = nn.LSTMCell(5, H)
    assert tuple(c.weight_ih.shape) == (4 * H, 5) and tuple(c.weight_hh.shape) == (4 * H, H)
    assert tuple(nn.GRUCell(5, H).bias_hh.shape) == (3 * H,)


def test_parameter_names_and_shapes_as_torch():
    for cls, kw in [("LSTM", {"num_layers": 2, "bidirectional": True}), ("GRU", {"bias": False}),
                    ("RNN", {"num_layers": 3})]:
        tm = getattr(torch.nn, cls)(3, 5, **kw)
        m = getattr(nn, cls)(3, 5, **kw)
        assert [(n, tuple(p.shape)) for n, p in m.named_parameters()] == \
               [(n, tuple(p.shape)) for n, p in tm.named_parameters()]
        assert repr(m) == repr(tm)


def test_float32_default_module_matches_torch():
    tm, m = torch.nn.GRU(3, 4, batch_first=True), nn.GRU(3, 4, batch_first=True)
    m.load_state_dict({k: tg.tensor(v.numpy()) for k, v in tm.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((2, 6, 3)).astype(np.float32)
    to, th = tm(torch.tensor(x))
    go, gh = m(tg.tensor(x))
    assert go.dtype is tg.float32 and gh.dtype is tg.float32
    np.testing.assert_allclose(go.detach().numpy(), to.detach().numpy(), rtol=1e-5, atol=1e-6)


def test_dropout_between_layers_only_in_train_mode():
    m = nn.LSTM(3, 8, num_layers=2, dropout=0.5).double()
    ref = nn.LSTM(3, 8, num_layers=2).double()
    ref.load_state_dict(m.state_dict())
    x = tg.tensor(np.random.default_rng(0).standard_normal((4, 2, 3)))
    m.eval()
    np.testing.assert_allclose(m(x)[0].detach().numpy(), ref(x)[0].detach().numpy(), **TOL)
    m.train()
    y1, y2 = m(x)[0].detach().numpy(), m(x)[0].detach().numpy()
    assert not np.allclose(y1, ref(x)[0].detach().numpy())  # dropout changed the second layer's input
    assert not np.allclose(y1, y2)  # a fresh mask each call
    # one layer: dropout has no place to go (torch warns and ignores it)
    with pytest.warns(UserWarning, match="dropout"):
        one = nn.GRU(3, 4, dropout=0.5)
    one.train()
    np.testing.assert_allclose(one(x.float())[0].detach().numpy(), one(x.float())[0].detach().numpy())


def test_training_loop_with_clipping_reduces_loss():
    tg.manual_seed(0)
    rnn, head = nn.LSTM(1, 16, batch_first=True), nn.Linear(16, 1)
    opt = tg.optim.Adam(list(rnn.parameters()) + list(head.parameters()), lr=0.02)
    t = np.linspace(0, 4 * np.pi, 21)
    x = tg.tensor(np.sin(t[:-1])[None, :, None], dtype=tg.float32)
    y = tg.tensor(np.sin(t[1:])[None, :, None], dtype=tg.float32)
    losses = []
    for _ in range(60):
        opt.zero_grad()
        out, _ = rnn(x)
        loss = ((head(out) - y) ** 2).mean()
        loss.backward()
        nn.utils.clip_grad_norm_(rnn.parameters(), 1.0)
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.1 * losses[0]


def _raises_like(exc, match, f_ours, f_torch):
    with pytest.raises(exc) as e_t:
        f_torch()
    with pytest.raises(exc, match=match) as e_o:
        f_ours()
    return e_t, e_o


def test_errors_as_torch():
    rnn, trnn = nn.LSTM(3, 4, num_layers=2), torch.nn.LSTM(3, 4, num_layers=2)
    gru, tgru = nn.GRU(3, 4), torch.nn.GRU(3, 4)
    _raises_like(RuntimeError, r"input.size\(-1\) must be equal to input_size. Expected 3, got 4",
                 lambda: rnn(tg.randn(5, 2, 4)), lambda: trnn(torch.randn(5, 2, 4)))
    _raises_like(RuntimeError, r"Expected hidden\[0\] size \(2, 2, 4\), got \[1, 2, 4\]",
                 lambda: rnn(tg.randn(5, 2, 3), (tg.zeros(1, 2, 4), tg.zeros(2, 2, 4))),
                 lambda: trnn(torch.randn(5, 2, 3), (torch.zeros(1, 2, 4), torch.zeros(2, 2, 4))))
    _raises_like(RuntimeError, r"Expected hidden\[1\] size \(2, 2, 4\), got \[1, 2, 4\]",
                 lambda: rnn(tg.randn(5, 2, 3), (tg.zeros(2, 2, 4), tg.zeros(1, 2, 4))),
                 lambda: trnn(torch.randn(5, 2, 3), (torch.zeros(2, 2, 4), torch.zeros(1, 2, 4))))
    _raises_like(RuntimeError, r"Expected hidden size \(1, 2, 4\), got \[2, 2, 4\]",
                 lambda: gru(tg.randn(5, 2, 3), tg.zeros(2, 2, 4)),
                 lambda: tgru(torch.randn(5, 2, 3), torch.zeros(2, 2, 4)))
    _raises_like(RuntimeError, "For unbatched 2-D input, hx should also be 2-D but got 3-D tensor",
                 lambda: gru(tg.randn(5, 3), tg.zeros(1, 2, 4)), lambda: tgru(torch.randn(5, 3), torch.zeros(1, 2, 4)))
    _raises_like(RuntimeError, "For batched 3-D input, hx should also be 3-D but got 2-D tensor",
                 lambda: gru(tg.randn(5, 2, 3), tg.zeros(1, 4)), lambda: tgru(torch.randn(5, 2, 3), torch.zeros(1, 4)))
    _raises_like(ValueError, "Expected input to be 2D or 3D, got 4D",
                 lambda: gru(tg.randn(5, 2, 2, 3)), lambda: tgru(torch.randn(5, 2, 2, 3)))
    _raises_like(RuntimeError, "Expected sequence length to be larger than 0",
                 lambda: gru(tg.randn(0, 2, 3)), lambda: tgru(torch.randn(0, 2, 3)))
    _raises_like(ValueError, "does not match weight dtype",
                 lambda: gru(tg.randn(5, 2, 3).double()), lambda: tgru(torch.randn(5, 2, 3).double()))
    _raises_like(ValueError, "Unknown nonlinearity 'sigmoid'",
                 lambda: nn.RNN(3, 4, nonlinearity="sigmoid"), lambda: torch.nn.RNN(3, 4, nonlinearity="sigmoid"))
    cell, tcell = nn.GRUCell(3, 4), torch.nn.GRUCell(3, 4)
    _raises_like(RuntimeError, "input has inconsistent input_size: got 4 expected 3",
                 lambda: cell(tg.randn(2, 4)), lambda: tcell(torch.randn(2, 4)))
    _raises_like(RuntimeError, "Input batch size 2 doesn't match hidden0 batch size 3",
                 lambda: cell(tg.randn(2, 3), tg.randn(3, 4)), lambda: tcell(torch.randn(2, 3), torch.randn(3, 4)))
    _raises_like(ValueError, "Expected input to be 1D or 2D, got 3D",
                 lambda: cell(tg.randn(2, 2, 3)), lambda: tcell(torch.randn(2, 2, 3)))


def test_positional_arguments_as_torch():
    # RNN(input_size, hidden_size, num_layers, nonlinearity, bias, batch_first, dropout, bidirectional)
    m = nn.RNN(3, 4, 2, "relu", False, True, 0.0, True)
    assert (m.num_layers, m.nonlinearity, m.bias, m.batch_first, m.bidirectional) == (2, "relu", False, True, True)
    m = nn.LSTM(3, 4, 2, True, True)
    assert (m.num_layers, m.bias, m.batch_first) == (2, True, True)
    m.flatten_parameters()  # no-op, as in tutorial code


def test_random_configurations_match_torch():
    """Hypothesis draws the layer type, sizes, layers, directions, layout and sequence length."""
    hypothesis = pytest.importorskip("hypothesis")
    from hypothesis import given, settings
    from hypothesis import strategies as st

    @settings(max_examples=15, derandomize=True, deadline=None)
    @given(cls=st.sampled_from(["RNN", "LSTM", "GRU"]), I=st.integers(1, 4), H=st.integers(1, 4),
           layers=st.integers(1, 3), bidir=st.booleans(), batch_first=st.booleans(), bias=st.booleans(),
           T=st.integers(1, 6), B=st.integers(1, 3), seed=st.integers(0, 2 ** 16))
    def check(cls, I, H, layers, bidir, batch_first, bias, T, B, seed):
        kw = dict(num_layers=layers, bidirectional=bidir, batch_first=batch_first, bias=bias)
        tm, m = _pair(cls, "cpu", I, H, **kw)
        x = np.random.default_rng(seed).standard_normal((B, T, I) if batch_first else (T, B, I))
        tx, gx = torch.tensor(x, requires_grad=True), tg.tensor(x, requires_grad=True)
        to, ts = tm(tx)
        go, gs = m(gx)
        ts, gs = (ts[1], gs[1]) if cls == "LSTM" else (ts, gs)
        np.testing.assert_allclose(go.detach().numpy(), to.detach().numpy(), **TOL)
        np.testing.assert_allclose(gs.detach().numpy(), ts.detach().numpy(), **TOL)
        (to.tanh().sum() + ts.sum()).backward()
        (go.tanh().sum() + gs.sum()).backward()
        np.testing.assert_allclose(gx.grad.numpy(), tx.grad.numpy(), **TOL)
        tp = dict(tm.named_parameters())
        for n, p in m.named_parameters():
            np.testing.assert_allclose(p.grad.numpy(), tp[n].grad.numpy(), err_msg=n, **TOL)

    check()


@pytest.mark.parametrize("cls", ["RNN", "LSTM", "GRU"])
def test_second_and_third_derivatives_match_torch(cls, device):
    # the gradient of the recurrence is RecurrenceGrad, whose backward backpropagates through BPTT itself:
    # d/dx of <v, dL/dx> and one more order, against torch's (composed) RNN in float64
    tm, m = _pair(cls, device, 2, 3)
    x = np.random.default_rng(2).standard_normal((3, 2, 2))

    def derivs(lib, mod, **kw):
        xt = lib.tensor(x, dtype=lib.float64, requires_grad=True, **kw)
        y = (mod(xt)[0] ** 2).sum()
        out = []
        for k in range(3):
            w = lib.tensor(np.linspace(0.5, 1.5, x.size).reshape(x.shape), dtype=lib.float64, **kw)
            params = [p for p in mod.parameters()]
            gs = lib.autograd.grad(y, [xt] + params, create_graph=True)
            out.append([_np(gi) for gi in gs])
            y = (gs[0] * w).sum() + sum((gi ** 2).sum() for gi in gs[1:])
        return out

    for k, (o, t) in enumerate(zip(derivs(tg, m, device=device), derivs(torch, tm))):
        for j, (a, b) in enumerate(zip(o, t)):
            np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-11, err_msg=f"{cls} order {k + 1}, input {j}")
