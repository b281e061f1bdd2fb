"""(3) Small CNN training step: conv(1->8,3x3)-relu-maxpool2-conv(8->16,3x3)-relu-maxpool2-linear(400->10),
28x28 inputs, batch 64, float32, cross-entropy, SGD lr=0.05.

tinygrad_dnn uses ``nn.Conv2d``/``nn.MaxPool2d`` when they exist, else an im2col built from core
Tensor ops (slices + stack + batched matmul; pooling as reshape + amax). The hand-written version
(NumPy or CuPy) uses strided windows + tensordot and a manual backward.
"""
from __future__ import annotations

import numpy as np

from ..models import TorchStep, cupy_or_none, torch_cuda

B, LR = 64, 0.05


def init(seed=0):
    rng = np.random.default_rng(seed)

    def u(shape, fan_in):
        b = 1 / np.sqrt(fan_in)
        return rng.uniform(-b, b, shape).astype(np.float32)
    return {"w1": u((8, 1, 3, 3), 9), "b1": u((8,), 9), "w2": u((16, 8, 3, 3), 72), "b2": u((16,), 72),
            "w3": u((10, 400), 400), "b3": u((10,), 400)}


def batch(seed=1):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((B, 1, 28, 28)).astype(np.float32), rng.integers(0, 10, B)


# ------------------------------------------------------------------ hand-written NumPy / CuPy
class HandCNN:
    def __init__(self, params, xp=np):
        self.xp = xp
        self.p = {k: xp.asarray(v).copy() for k, v in params.items()}
        self.windows = (xp.lib.stride_tricks.sliding_window_view if hasattr(xp.lib, "stride_tricks")
                        else np.lib.stride_tricks.sliding_window_view)

    def set_batch(self, x, y):
        self.x, self.y = self.xp.asarray(x), self.xp.asarray(y)
        self.rows = self.xp.arange(len(y))

    def _conv(self, x, w, b):
        cols = self.windows(x, (3, 3), axis=(2, 3))                        # (B,C,Ho,Wo,3,3) view
        out = self.xp.tensordot(cols, w, axes=([1, 4, 5], [1, 2, 3]))      # (B,Ho,Wo,O)
        out += b
        return self.xp.ascontiguousarray(out.transpose(0, 3, 1, 2)), cols

    def _conv_back(self, g, cols, w, x_shape, need_x):
        xp = self.xp
        gw = xp.tensordot(g, cols, axes=([0, 2, 3], [0, 2, 3]))           # (O,C,3,3)
        gb = g.sum(axis=(0, 2, 3))
        gx = None
        if need_x:
            gcols = xp.tensordot(g, w, axes=([1], [0]))                    # (B,Ho,Wo,C,3,3)
            gx = xp.zeros(x_shape, dtype=g.dtype)
            Ho, Wo = g.shape[2], g.shape[3]
            for i in range(3):
                for j in range(3):
                    gx[:, :, i:i + Ho, j:j + Wo] += gcols[:, :, :, :, i, j].transpose(0, 3, 1, 2)
        return gx, gw, gb

    def _pool(self, x):
        b, c, h, w = x.shape
        hp, wp = h // 2, w // 2
        xr = x[:, :, :2 * hp, :2 * wp].reshape(b, c, hp, 2, wp, 2)
        out = xr.max(axis=(3, 5))
        return out, xr

    def _pool_back(self, g, xr, out, x_shape):
        xp = self.xp
        mask = xr == out[:, :, :, None, :, None]
        gx = xp.zeros(x_shape, dtype=g.dtype)
        b, c, hp, _, wp, _ = xr.shape
        gx[:, :, :2 * hp, :2 * wp] = (mask * g[:, :, :, None, :, None]).reshape(b, c, 2 * hp, 2 * wp)
        return gx

    def step(self):
        xp, p = self.xp, self.p
        a1, cols1 = self._conv(self.x, p["w1"], p["b1"])
        xp.maximum(a1, 0, out=a1)
        p1, xr1 = self._pool(a1)
        a2, cols2 = self._conv(p1, p["w2"], p["b2"])
        xp.maximum(a2, 0, out=a2)
        p2, xr2 = self._pool(a2)
        f = p2.reshape(p2.shape[0], -1)
        z = f @ p["w3"].T
        z += p["b3"]
        z -= z.max(axis=1, keepdims=True)
        xp.exp(z, out=z)
        z /= z.sum(axis=1, keepdims=True)
        loss = -xp.log(z[self.rows, self.y]).mean()
        z[self.rows, self.y] -= 1.0
        z *= 1.0 / z.shape[0]
        gw3, gb3 = z.T @ f, z.sum(axis=0)
        gf = (z @ p["w3"]).reshape(p2.shape)
        ga2 = self._pool_back(gf, xr2, p2, a2.shape)
        ga2 *= a2 > 0
        gp1, gw2, gb2 = self._conv_back(ga2, cols2, p["w2"], p1.shape, True)
        ga1 = self._pool_back(gp1, xr1, p1, a1.shape)
        ga1 *= a1 > 0
        _, gw1, gb1 = self._conv_back(ga1, cols1, p["w1"], self.x.shape, False)
        for k, g in (("w1", gw1), ("b1", gb1), ("w2", gw2), ("b2", gb2), ("w3", gw3), ("b3", gb3)):
            g *= LR
            p[k] -= g
        return loss

    def sync(self):
        if self.xp is not np:
            self.xp.cuda.Device().synchronize()


# ------------------------------------------------------------------ PyTorch
class TorchCNN(TorchStep):
    def __init__(self, params, device="cpu"):
        import torch

        nn = torch.nn
        self.torch, self.device = torch, device
        self.model = nn.Sequential(nn.Conv2d(1, 8, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(8, 16, 3), nn.ReLU(),
                                   nn.MaxPool2d(2), nn.Flatten(), nn.Linear(400, 10))
        with torch.no_grad():
            for mod, (w, b) in zip([self.model[0], self.model[3], self.model[7]], [("w1", "b1"), ("w2", "b2"), ("w3", "b3")]):
                mod.weight.copy_(torch.from_numpy(params[w]))
                mod.bias.copy_(torch.from_numpy(params[b]))
        self.model.to(device)
        self.opt = torch.optim.SGD(self.model.parameters(), lr=LR)



# ------------------------------------------------------------------ tinygrad_dnn
def tg_cnn_api():
    import tinygrad_dnn as tg

    need = ("Conv2d", "MaxPool2d", "Linear", "Sequential", "ReLU", "Flatten")
    ok = all(hasattr(tg.nn, n) for n in need) and hasattr(tg.optim, "SGD") and \
        hasattr(getattr(tg.nn, "functional", None) or object(), "cross_entropy")
    return "nn+optim" if ok else "core ops"


class TgCNN:
    def __init__(self, params, device="cpu"):
        import tinygrad_dnn as tg

        self.tg = tg
        self.api = tg_cnn_api()
        dev = "cuda" if device == "cuda" else "cpu"
        if self.api == "nn+optim":
            nn = tg.nn
            self.model = nn.Sequential(nn.Conv2d(1, 8, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(8, 16, 3), nn.ReLU(),
                                       nn.MaxPool2d(2), nn.Flatten(), nn.Linear(400, 10))
            with tg.no_grad():
                for mod, (w, b) in zip([self.model[0], self.model[3], self.model[7]],
                                       [("w1", "b1"), ("w2", "b2"), ("w3", "b3")]):
                    mod.weight.copy_(tg.tensor(params[w]))
                    mod.bias.copy_(tg.tensor(params[b]))
            self.model = self.model.to(dev)
            self.params = list(self.model.parameters())
            self.opt = tg.optim.SGD(self.params, lr=LR)
        else:
            self.p = {k: tg.tensor(v, device=dev, requires_grad=True) for k, v in params.items()}
            self.params = list(self.p.values())
        self.backend = self.params[0].backend

    def set_batch(self, x, y):
        tg = self.tg
        dev = self.params[0].device
        self.x = tg.tensor(x, device=dev)
        self.y = tg.tensor(y.astype(np.int64), device=dev)
        onehot = np.zeros((len(y), 10), np.float32)
        onehot[np.arange(len(y)), y] = -1.0 / len(y)
        self.neg_onehot = tg.tensor(onehot, device=dev)

    def _conv(self, x, w, b):
        tg = self.tg
        bsz, c, h, wd = x.shape
        o = w.shape[0]
        ho, wo = h - 2, wd - 2
        cols = tg.stack([x[:, :, i:i + ho, j:j + wo] for i in range(3) for j in range(3)], dim=2)
        cols = cols.reshape(bsz, c * 9, ho * wo)
        out = w.reshape(o, c * 9) @ cols
        return out.reshape(bsz, o, ho, wo) + b.reshape(1, o, 1, 1)

    @staticmethod
    def _pool(x):
        bsz, c, h, w = x.shape
        hp, wp = h // 2, w // 2
        return x[:, :, :2 * hp, :2 * wp].reshape(bsz, c, hp, 2, wp, 2).amax(dim=(3, 5))

    def step(self):
        if self.api == "nn+optim":
            self.opt.zero_grad()
            loss = self.tg.nn.functional.cross_entropy(self.model(self.x), self.y)
            loss.backward()
            self.opt.step()
            return loss
        from tinygrad_dnn.autograd.ops.linalg import Linear

        p = self.p
        for t in self.params:
            t.grad = None
        h = self._pool(self._conv(self.x, p["w1"], p["b1"]).relu())
        h = self._pool(self._conv(h, p["w2"], p["b2"]).relu())
        z = Linear.apply(h.reshape(h.shape[0], -1), p["w3"], p["b3"])
        loss = (z.log_softmax(1) * self.neg_onehot).sum()
        loss.backward()
        with self.tg.no_grad():
            for t in self.params:
                t -= LR * t.grad
        return loss

    def sync(self):
        self.backend.synchronize()


def run(ctx):
    params = init()
    x, y = batch()
    torch = ctx.torch
    for device in ctx.devices:
        impls = [("tinygrad_dnn", lambda: TgCNN(params, device))]
        if device == "cpu":
            impls.append(("numpy", lambda: HandCNN(params, np)))
        else:
            impls.append(("cupy", lambda: HandCNN(params, cupy_or_none())))
        if torch is not None and (device == "cpu" or torch_cuda(torch)):
            impls.append(("torch", lambda: TorchCNN(params, device)))
        losses = {}
        for name, make in impls:
            m = make()
            m.set_batch(x, y)
            losses[name] = float(m.step())  # first step from identical weights: losses must agree
            st = ctx.timeit(m.step, sync=m.sync, repeats=11 if not ctx.quick else 3)
            ctx.record(f"step B={B}", name, st, device=device,
                       api=tg_cnn_api() if name == "tinygrad_dnn" else None)
        ctx.note(f"[{device}] first-step losses (same weights, must agree): "
                 + ", ".join(f"{k}={v:.5f}" for k, v in losses.items()) + f"; tinygrad_dnn API: {tg_cnn_api()}")
