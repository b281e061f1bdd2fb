"""The same MLP training step (linear layers, relu/tanh, softmax cross-entropy, plain SGD) three ways.

- :class:`TgMLP`: tinygrad_dnn (``nn.Linear`` + ``nn.functional.cross_entropy`` + ``optim.SGD`` when
  those exist, else the core ops ``ops.linalg.Linear`` / ``log_softmax`` and a no_grad update);
- :class:`HandMLP`: hand-written NumPy or CuPy forward + manual backward + update, written with
  in-place kernels and no needless temporaries: the floor for a framework on that array library;
- :class:`TorchMLP`: PyTorch eager with ``torch.optim.SGD`` and ``F.cross_entropy``.

All three start from the same float32 weights (``init_weights``), stored (out, in) as PyTorch does.
"""
from __future__ import annotations

import numpy as np


def init_weights(sizes, seed=0, dtype=np.float32):
    rng = np.random.default_rng(seed)
    ws = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        bound = 1.0 / np.sqrt(fan_in)
        ws.append((rng.uniform(-bound, bound, (fan_out, fan_in)).astype(dtype),
                   rng.uniform(-bound, bound, (fan_out,)).astype(dtype)))
    return ws


def make_batch(batch, n_in, n_classes, seed=1, dtype=np.float32):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((batch, n_in)).astype(dtype), rng.integers(0, n_classes, batch)


# ------------------------------------------------------------------ tinygrad_dnn
def tg_api():
    """Which tinygrad_dnn API the benchmarks use: 'nn+optim' once those modules exist, else 'core ops'."""
    import tinygrad_dnn as tg

    has_nn = all(hasattr(tg.nn, n) for n in ("Linear", "Module")) and hasattr(getattr(tg.nn, "functional", None) or object(), "cross_entropy")
    has_opt = hasattr(tg.optim, "SGD")
    return "nn+optim" if (has_nn and has_opt) else "core ops"


def tg_device(device):
    return "cuda" if device == "cuda" else "cpu"


class TgMLP:
    def __init__(self, weights, device="cpu", act="relu", lr=0.1, api=None):
        import tinygrad_dnn as tg

        self.tg = tg
        self.act = act
        self.lr = lr
        self.api = api or tg_api()
        dev = tg_device(device)
        self.backend = None
        if self.api == "nn+optim":
            layers = []
            for i, (w, b) in enumerate(weights):
                lin = tg.nn.Linear(w.shape[1], w.shape[0])
                with tg.no_grad():
                    lin.weight.copy_(tg.tensor(w))
                    lin.bias.copy_(tg.tensor(b))
                layers.append(lin)
                if i < len(weights) - 1:
                    layers.append(tg.nn.ReLU() if act == "relu" else tg.nn.Tanh())
            self.model = tg.nn.Sequential(*layers).to(dev)
            self.params = list(self.model.parameters())
            self.opt = tg.optim.SGD(self.params, lr=lr)
            self.F = tg.nn.functional
        else:
            self.params = []
            for w, b in weights:
                self.params += [tg.tensor(w, device=dev, requires_grad=True), tg.tensor(b, device=dev, requires_grad=True)]
        self.backend = self.params[0].backend
        self.n_classes = weights[-1][0].shape[0]

    def set_batch(self, x, y):
        tg = self.tg
        dev = self.params[0].device
        self.x = tg.tensor(x, device=dev)
        self.y = tg.tensor(y.astype(np.int64), device=dev)
        onehot = np.zeros((len(y), self.n_classes), dtype=x.dtype)
        onehot[np.arange(len(y)), y] = -1.0 / len(y)
        self.neg_onehot_over_b = tg.tensor(onehot, device=dev)

    def forward(self, x):
        if self.api == "nn+optim":
            return self.model(x)
        from tinygrad_dnn.autograd.ops.linalg import Linear

        h = x
        n = len(self.params) // 2
        for i in range(n):
            h = Linear.apply(h, self.params[2 * i], self.params[2 * i + 1])
            if i < n - 1:
                h = h.relu() if self.act == "relu" else h.tanh()
        return h

    def loss(self, z):
        if self.api == "nn+optim":
            return self.F.cross_entropy(z, self.y)
        return (z.log_softmax(1) * self.neg_onehot_over_b).sum()

    def step(self):
        if self.api == "nn+optim":
            self.opt.zero_grad()
            loss = self.loss(self.forward(self.x))
            loss.backward()
            self.opt.step()
            return loss
        for p in self.params:
            p.grad = None
        loss = self.loss(self.forward(self.x))
        loss.backward()
        with self.tg.no_grad():
            for p in self.params:
                p -= self.lr * p.grad
        return loss

    def sync(self):
        self.backend.synchronize()


# ------------------------------------------------------------------ hand-written NumPy / CuPy
class HandMLP:
    """Forward, manual backward and SGD update with in-place kernels (``out=``) where the result is private."""

    def __init__(self, weights, xp=np, act="relu", lr=0.1):
        self.xp = xp
        self.act = act
        self.lr = lr
        self.W = [xp.asarray(w).copy() for w, _ in weights]
        self.b = [xp.asarray(b).copy() for _, b in weights]

    def set_batch(self, x, y):
        xp = self.xp
        self.x = xp.asarray(x)
        self.y = xp.asarray(y)
        self.rows = xp.arange(len(y))

    def step(self):
        xp, W, b, lr = self.xp, self.W, self.b, self.lr
        n = len(W)
        hs = [self.x]
        h = self.x
        for i in range(n):
            z = h @ W[i].T
            z += b[i]
            if i < n - 1:
                if self.act == "relu":
                    xp.maximum(z, 0, out=z)
                else:
                    xp.tanh(z, out=z)
                hs.append(z)
            h = z
        # softmax cross-entropy on the logits h, in place
        B = h.shape[0]
        h -= h.max(axis=1, keepdims=True)
        xp.exp(h, out=h)
        h /= h.sum(axis=1, keepdims=True)          # h = softmax
        loss = -xp.log(h[self.rows, self.y]).mean()
        h[self.rows, self.y] -= 1.0
        h *= 1.0 / B                                 # dL/dlogits
        g = h
        for i in range(n - 1, -1, -1):
            a = hs[i]
            gW = g.T @ a
            gb = g.sum(axis=0)
            if i > 0:
                gin = g @ W[i]
                if self.act == "relu":
                    gin *= a > 0
                else:                                # tanh' = 1 - a^2
                    t = a * a
                    xp.subtract(1.0, t, out=t)
                    gin *= t
            gW *= lr
            W[i] -= gW
            gb *= lr
            b[i] -= gb
            if i > 0:
                g = gin
        return loss

    def sync(self):
        if self.xp is not np:
            self.xp.cuda.Device().synchronize()


# ------------------------------------------------------------------ PyTorch
class TorchStep:
    """One PyTorch SGD step on ``self.model`` with cross-entropy (subclasses build model and optimizer)."""

    def set_batch(self, x, y):
        self.x = self.torch.from_numpy(x).to(self.device)
        self.y = self.torch.from_numpy(y.astype(np.int64)).to(self.device)

    def step(self):
        self.opt.zero_grad(set_to_none=True)
        loss = self.torch.nn.functional.cross_entropy(self.model(self.x), self.y)
        loss.backward()
        self.opt.step()
        return loss

    def sync(self):
        if self.device == "cuda":
            self.torch.cuda.synchronize()


class TorchMLP(TorchStep):
    def __init__(self, weights, device="cpu", act="relu", lr=0.1):
        import torch

        self.torch = torch
        layers = []
        for i, (w, b) in enumerate(weights):
            lin = torch.nn.Linear(w.shape[1], w.shape[0])
            with torch.no_grad():
                lin.weight.copy_(torch.from_numpy(w))
                lin.bias.copy_(torch.from_numpy(b))
            layers.append(lin)
            if i < len(weights) - 1:
                layers.append(torch.nn.ReLU() if act == "relu" else torch.nn.Tanh())
        self.device = device
        self.model = torch.nn.Sequential(*layers).to(device)
        self.opt = torch.optim.SGD(self.model.parameters(), lr=lr)



def cupy_or_none():
    try:
        import cupy

        if cupy.cuda.runtime.getDeviceCount() > 0:
            return cupy
    except Exception:
        pass
    return None


def gpu_available():
    """True when tinygrad_dnn has a cuda device and CuPy answers."""
    if cupy_or_none() is None:
        return False
    try:
        from tinygrad_dnn.backend import cuda_is_available

        return bool(cuda_is_available())
    except Exception:
        return False


def torch_cuda(torch):
    return torch is not None and torch.cuda.is_available()


def mlp_impls(ctx, weights, act="relu", lr=0.1, devices=None):
    """Yield (impl, device, model) for every implementation available in this process."""
    torch = ctx.torch
    for device in devices or ctx.devices:
        if device == "cpu":
            yield "tinygrad_dnn", "cpu", TgMLP(weights, "cpu", act, lr)
            yield "numpy", "cpu", HandMLP(weights, np, act, lr)
            if torch is not None:
                yield "torch", "cpu", TorchMLP(weights, "cpu", act, lr)
        elif device == "cuda":
            cp = cupy_or_none()
            yield "tinygrad_dnn", "cuda", TgMLP(weights, "cuda", act, lr)
            yield "cupy", "cuda", HandMLP(weights, cp, act, lr)
            if torch_cuda(torch):
                yield "torch", "cuda", TorchMLP(weights, "cuda", act, lr)
