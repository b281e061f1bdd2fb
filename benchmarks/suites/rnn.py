"""(issue 13) Sequence models: one LSTM training step and a causal attention block forward+backward.

- LSTM: batch B=64, T=40 steps, input 32, hidden 128 (PyTorch gate order i, f, g, o), a linear head
  to 10 classes at every step, mean cross-entropy over the B*T targets, one SGD step (lr 0.1).
  tinygrad_dnn and PyTorch use ``nn.LSTM(batch_first=True)`` + ``nn.Linear``; the hand-written NumPy
  version computes the input projections of all steps in one matmul, runs the recurrence, then
  backpropagation through time by hand.
- Attention: B=16, T=64, d=64, 4 heads: fused qkv projection, ``F.scaled_dot_product_attention``
  with ``is_causal=True``, output projection; forward and backward of ``(y * G).sum()`` for a fixed
  G (the gradient of every weight and of the input), no update. Hand NumPy: softmax attention with
  a causal mask and its backward written out.

All implementations start from the same float32 weights and inputs; the first-step losses are
checked to agree before timing.
"""
from __future__ import annotations

import numpy as np

from ..models import cupy_or_none, torch_cuda

B, T, I, H, C, LR = 64, 40, 32, 128, 10, 0.1
AB, AT, AD, AH = 16, 64, 64, 4


def _u(rng, shape, bound):
    return rng.uniform(-bound, bound, shape).astype(np.float32)


def lstm_init(seed=0):
    rng = np.random.default_rng(seed)
    k = 1 / np.sqrt(H)
    return {"lstm.weight_ih_l0": _u(rng, (4 * H, I), k), "lstm.weight_hh_l0": _u(rng, (4 * H, H), k),
            "lstm.bias_ih_l0": _u(rng, (4 * H,), k), "lstm.bias_hh_l0": _u(rng, (4 * H,), k),
            "head.weight": _u(rng, (C, H), k), "head.bias": _u(rng, (C,), k)}


def lstm_batch(seed=1):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((B, T, I)).astype(np.float32), rng.integers(0, C, (B, T))


def attn_init(seed=2):
    rng = np.random.default_rng(seed)
    k = 1 / np.sqrt(AD)
    return {"qkv.weight": _u(rng, (3 * AD, AD), k), "qkv.bias": _u(rng, (3 * AD,), k),
            "proj.weight": _u(rng, (AD, AD), k), "proj.bias": _u(rng, (AD,), k)}


def attn_batch(seed=3):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((AB, AT, AD)).astype(np.float32),
            rng.standard_normal((AB, AT, AD)).astype(np.float32))


# ------------------------------------------------------------------ hand-written NumPy / CuPy
def _sigmoid(xp, z):
    return 1 / (1 + xp.exp(-z))


class HandLSTM:
    def __init__(self, params, xp=np):
        self.xp = xp
        self.p = {k.split(".", 1)[1] if k.startswith("lstm.") else k: xp.asarray(v).copy()
                  for k, v in params.items()}

    def set_batch(self, x, y):
        xp = self.xp
        self.x, self.y = xp.asarray(x), xp.asarray(y).reshape(-1)
        self.rows = xp.arange(self.y.shape[0])

    def step(self):
        xp, p = self.xp, self.p
        Wih, Whh = p["weight_ih_l0"], p["weight_hh_l0"]
        xg = self.x @ Wih.T + (p["bias_ih_l0"] + p["bias_hh_l0"])      # (B,T,4H)
        h = xp.zeros((B, H), np.float32)
        c = xp.zeros((B, H), np.float32)
        hs = xp.empty((B, T, H), np.float32)
        hprev = xp.empty((B, T, H), np.float32)
        acts = xp.empty((B, T, 4 * H), np.float32)                     # i, f, g, o after nonlinearity
        cs = xp.empty((B, T + 1, H), np.float32)
        cs[:, 0] = 0
        for t in range(T):
            hprev[:, t] = h
            g = xg[:, t] + h @ Whh.T
            a = acts[:, t]
            a[:, :2 * H] = _sigmoid(xp, g[:, :2 * H])
            a[:, 2 * H:3 * H] = xp.tanh(g[:, 2 * H:3 * H])
            a[:, 3 * H:] = _sigmoid(xp, g[:, 3 * H:])
            c = a[:, H:2 * H] * c + a[:, :H] * a[:, 2 * H:3 * H]
            cs[:, t + 1] = c
            h = a[:, 3 * H:] * xp.tanh(c)
            hs[:, t] = h
        hf = hs.reshape(B * T, H)
        z = hf @ p["head.weight"].T + p["head.bias"]
        z -= z.max(axis=1, keepdims=True)
        xp.exp(z, out=z)
        z /= z.sum(axis=1, keepdims=True)
        loss = -xp.log(z[self.rows, self.y]).mean()
        z[self.rows, self.y] -= 1.0
        z *= 1.0 / z.shape[0]
        g_hw, g_hb = z.T @ hf, z.sum(axis=0)
        dhs = (z @ p["head.weight"]).reshape(B, T, H)
        dG = xp.empty((B, T, 4 * H), np.float32)
        dh = xp.zeros((B, H), np.float32)
        dc = xp.zeros((B, H), np.float32)
        for t in reversed(range(T)):
            a = acts[:, t]
            i, f, gg, o = a[:, :H], a[:, H:2 * H], a[:, 2 * H:3 * H], a[:, 3 * H:]
            dh = dh + dhs[:, t]
            tc = xp.tanh(cs[:, t + 1])
            dc = dc + dh * o * (1 - tc * tc)
            d = dG[:, t]
            d[:, :H] = dc * gg * i * (1 - i)
            d[:, H:2 * H] = dc * cs[:, t] * f * (1 - f)
            d[:, 2 * H:3 * H] = dc * i * (1 - gg * gg)
            d[:, 3 * H:] = dh * tc * o * (1 - o)
            dc = dc * f
            dh = d @ Whh
        dGf = dG.reshape(B * T, 4 * H)
        grads = {"weight_ih_l0": dGf.T @ self.x.reshape(B * T, I),
                 "weight_hh_l0": dGf.T @ hprev.reshape(B * T, H),
                 "bias_ih_l0": dGf.sum(axis=0), "head.weight": g_hw, "head.bias": g_hb}
        grads["bias_hh_l0"] = grads["bias_ih_l0"]
        for k, gr in grads.items():
            p[k] -= LR * gr
        return loss

    def sync(self):
        if self.xp is not np:
            self.xp.cuda.Device().synchronize()


class HandAttention:
    def __init__(self, params, xp=np):
        self.xp = xp
        self.p = {k: xp.asarray(v) for k, v in params.items()}
        mask = np.triu(np.ones((AT, AT), bool), 1)
        self.mask = xp.asarray(mask)

    def set_batch(self, x, gy):
        self.x, self.gy = self.xp.asarray(x), self.xp.asarray(gy)

    def step(self):
        xp, p = self.xp, self.p
        dh = AD // AH
        scale = 1 / np.sqrt(dh)
        xf = self.x.reshape(AB * AT, AD)
        qkv = xf @ p["qkv.weight"].T + p["qkv.bias"]                       # (B*T, 3d)
        qkv = qkv.reshape(AB, AT, 3, AH, dh).transpose(2, 0, 3, 1, 4)       # (3,B,h,T,dh)
        q, k, v = qkv[0], qkv[1], qkv[2]
        s = (q @ k.transpose(0, 1, 3, 2)) * scale
        s[..., self.mask] = -np.inf
        s -= s.max(axis=-1, keepdims=True)
        P = xp.exp(s)
        P /= P.sum(axis=-1, keepdims=True)
        o = P @ v                                                           # (B,h,T,dh)
        of = o.transpose(0, 2, 1, 3).reshape(AB * AT, AD)
        y = of @ p["proj.weight"].T + p["proj.bias"]
        gy = self.gy.reshape(AB * AT, AD)
        loss = (y * gy).sum()
        g_pw, g_pb = gy.T @ of, gy.sum(axis=0)
        do = (gy @ p["proj.weight"]).reshape(AB, AT, AH, dh).transpose(0, 2, 1, 3)
        dv = P.transpose(0, 1, 3, 2) @ do
        dP = do @ v.transpose(0, 1, 3, 2)
        ds = P * (dP - (dP * P).sum(axis=-1, keepdims=True))
        ds *= scale
        dq = ds @ k
        dk = ds.transpose(0, 1, 3, 2) @ q
        dqkv = xp.stack([dq, dk, dv]).transpose(1, 3, 0, 2, 4).reshape(AB * AT, 3 * AD)
        self.grads = {"qkv.weight": dqkv.T @ xf, "qkv.bias": dqkv.sum(axis=0),
                      "proj.weight": g_pw, "proj.bias": g_pb,
                      "x": (dqkv @ p["qkv.weight"]).reshape(AB, AT, AD)}
        return loss

    def sync(self):
        if self.xp is not np:
            self.xp.cuda.Device().synchronize()


# ------------------------------------------------------------------ the library version (torch or tinygrad_dnn)
def _lstm_model(lib, params, device):
    nn = lib.nn

    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = nn.LSTM(I, H, batch_first=True)
            self.head = nn.Linear(H, C)

        def forward(self, x):
            out, _ = self.lstm(x)
            return self.head(out)

    m = Model()
    m.load_state_dict({k: lib.tensor(v) for k, v in params.items()})
    return m.to(device)


class LibLSTM:
    def __init__(self, lib, params, device="cpu"):
        self.lib, self.device = lib, device
        self.model = _lstm_model(lib, params, device)
        self.opt = lib.optim.SGD(self.model.parameters(), lr=LR)

    def set_batch(self, x, y):
        self.x = self.lib.tensor(x).to(self.device)
        self.y = self.lib.tensor(y.reshape(-1).astype(np.int64)).to(self.device)

    def step(self):
        self.opt.zero_grad(set_to_none=True)
        loss = self.lib.nn.functional.cross_entropy(self.model(self.x).reshape(-1, C), self.y)
        loss.backward()
        self.opt.step()
        return loss.detach()

    def sync(self):
        if self.device == "cuda":
            self.lib.cuda.synchronize()


class LibAttention:
    def __init__(self, lib, params, device="cpu"):
        self.lib, self.device = lib, device
        nn = lib.nn
        self.qkv, self.proj = nn.Linear(AD, 3 * AD), nn.Linear(AD, AD)
        with lib.no_grad():
            for name, v in params.items():
                mod, attr = name.split(".")
                getattr(getattr(self, mod), attr).copy_(lib.tensor(v))
        self.qkv, self.proj = self.qkv.to(device), self.proj.to(device)
        self.params = list(self.qkv.parameters()) + list(self.proj.parameters())

    def set_batch(self, x, gy):
        self.x = self.lib.tensor(x).to(self.device).requires_grad_(True)
        self.gy = self.lib.tensor(gy).to(self.device)

    def step(self):
        F = self.lib.nn.functional
        for t in self.params + [self.x]:
            t.grad = None
        q, k, v = self.qkv(self.x).split(AD, dim=-1)
        q, k, v = (t.reshape(AB, AT, AH, AD // AH).transpose(1, 2) for t in (q, k, v))
        o = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        y = self.proj(o.transpose(1, 2).reshape(AB, AT, AD))
        loss = (y * self.gy).sum()
        loss.backward()
        return loss.detach()

    def sync(self):
        if self.device == "cuda":
            self.lib.cuda.synchronize()


def run(ctx):
    import tinygrad_dnn as tg

    torch = ctx.torch
    cases = [(f"LSTM step B={B} T={T} H={H}", lstm_init(), lstm_batch(), HandLSTM, LibLSTM),
             (f"causal attention fwd+bwd B={AB} T={AT} d={AD} h={AH}", attn_init(), attn_batch(),
              HandAttention, LibAttention)]
    for case, params, (x, y), Hand, Lib in cases:
        for device in ctx.devices:
            impls = [("tinygrad_dnn", lambda: Lib(tg, params, device))]
            if device == "cpu":
                impls.append(("numpy", lambda: Hand(params, np)))
            else:
                impls.append(("cupy", lambda: Hand(params, cupy_or_none())))
            if torch is not None and (device == "cpu" or torch_cuda(torch)):
                impls.append(("torch", lambda: Lib(torch, params, device)))
            losses = {}
            for name, make in impls:
                m = make()
                m.set_batch(x, y)
                losses[name] = float(m.step())  # first call from identical weights: must agree
                st = ctx.timeit(m.step, sync=m.sync, repeats=9 if not ctx.quick else 3)
                ctx.record(case, name, st, device=device)
            ref = losses.get("numpy", losses.get("cupy"))
            for name, v in losses.items():
                if not np.isclose(v, ref, rtol=1e-3, atol=1e-3):
                    raise AssertionError(f"{case} [{device}]: {name} loss {v} != hand-written {ref}")
            ctx.note(f"{case} [{device}] first-call losses (same weights, checked to agree): "
                     + ", ".join(f"{k}={v:.5f}" for k, v in losses.items()))
