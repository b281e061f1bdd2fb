"""Drop-in suite (issue 13): the project's own tutorial-style programs, each written ONCE as source
text against the PyTorch API, run with ``tinygrad_dnn`` aliased as ``torch`` (every ``tinygrad_dnn.*``
module is put in ``sys.modules`` as ``torch.*`` for the run) and, when PyTorch is installed, with
real PyTorch.

Each program sees two globals: ``INIT`` (None, or a dict name -> NumPy array of initial weights to
load, so both libraries start from the same weights) and ``STEPS``. It leaves ``result`` with
``init`` (its initial weights as NumPy arrays), ``first_loss`` (the loss on a fixed batch before any
update) and ``losses`` (training losses). The tests assert that training lowers the loss by a
measured margin, and that real PyTorch, loaded with the weights tinygrad_dnn started from, computes
the same first loss.
"""
import sys

import numpy as np
import pytest

import tinygrad_dnn

TEXT = (
    "the quick brown fox jumps over the lazy dog. a recurrent network reads one character at a time "
    "and carries a hidden state forward; backpropagation through time unrolls that loop and sends the "
    "gradient back along it. the gradient can explode or vanish, so we clip its norm. attention lets "
    "every position look at the ones before it, and a causal mask hides the future. "
)

PRELUDE = '''
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def load_init(named):
    """named: dict name -> tensor (a parameter); copies INIT into it when given, returns the init."""
    if INIT is not None:
        with torch.no_grad():
            for k, t in named.items():
                t.copy_(torch.tensor(INIT[k], dtype=t.dtype))
    return {k: t.detach().numpy().copy() for k, t in named.items()}
'''

CNN_DIGITS = '''
from torch.utils.data import DataLoader, TensorDataset
from sklearn.datasets import load_digits

torch.manual_seed(0)
digits = load_digits()
X = torch.tensor(digits.data[:600] / 16.0, dtype=torch.float32).reshape(-1, 1, 8, 8)
y = torch.tensor(digits.target[:600], dtype=torch.long)
loader = DataLoader(TensorDataset(X, y), batch_size=50, shuffle=True,
                    generator=torch.Generator().manual_seed(0))


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 8, kernel_size=3, padding=1)
        self.bn = nn.BatchNorm2d(8)
        self.pool = nn.MaxPool2d(2)
        self.fc = nn.Linear(8 * 4 * 4, 10)

    def forward(self, x):
        x = self.pool(F.relu(self.bn(self.conv(x))))
        return self.fc(torch.flatten(x, 1))


model = Net()
init = load_init(dict(model.named_parameters()))
first_loss = F.cross_entropy(model(X[:100]), y[:100]).item()
opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
losses = []
for epoch in range(STEPS):
    for xb, yb in loader:
        loss = F.cross_entropy(model(xb), yb)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
model.eval()
with torch.no_grad():
    acc = (model(X).argmax(dim=1) == y).float().mean().item()
result = {"init": init, "first_loss": first_loss, "losses": losses, "acc": acc}
'''

CHAR_MLP = '''
words = TEXT
chars = sorted(set(words))
stoi = {c: i for i, c in enumerate(chars)}
itos = {i: c for c, i in stoi.items()}
V, block, emb, hidden = len(chars), 3, 8, 64
X, Y = [], []
context = [0] * block
for ch in words:
    X.append(context)
    Y.append(stoi[ch])
    context = context[1:] + [stoi[ch]]
X, Y = torch.tensor(X), torch.tensor(Y)

g = torch.Generator().manual_seed(2147483647)
C = torch.randn((V, emb), generator=g)
W1 = torch.randn((block * emb, hidden), generator=g) * (5 / 3) / (block * emb) ** 0.5
b1 = torch.randn(hidden, generator=g) * 0.01
W2 = torch.randn((hidden, V), generator=g) * 0.01
b2 = torch.zeros(V)
parameters = [C, W1, b1, W2, b2]
init = load_init(dict(zip(["C", "W1", "b1", "W2", "b2"], parameters)))
for p in parameters:
    p.requires_grad = True


def forward(ix):
    embcat = C[X[ix]].view(-1, block * emb)
    h = torch.tanh(embcat @ W1 + b1)
    return F.cross_entropy(h @ W2 + b2, Y[ix])


first_loss = forward(torch.arange(64)).item()
losses = []
for i in range(STEPS):
    ix = torch.randint(0, X.shape[0], (32,), generator=g)
    loss = forward(ix)
    for p in parameters:
        p.grad = None
    loss.backward()
    lr = 0.1 if i < STEPS // 2 else 0.05
    for p in parameters:
        p.data += -lr * p.grad
    losses.append(loss.item())

with torch.no_grad():
    full_loss = forward(torch.arange(X.shape[0])).item()
g = torch.Generator().manual_seed(2147483647 + 10)
samples = []
for _ in range(3):
    out, context = [], [0] * block
    for _ in range(20):
        emb_ = C[torch.tensor([context])]
        h = torch.tanh(emb_.view(1, -1) @ W1 + b1)
        probs = F.softmax(h @ W2 + b2, dim=1)
        ix = torch.multinomial(probs, num_samples=1, generator=g).item()
        context = context[1:] + [ix]
        out.append(itos[ix])
    samples.append("".join(out))
result = {"init": init, "first_loss": first_loss, "losses": losses, "full_loss": full_loss,
          "samples": samples, "V": V}
'''

CHAR_LSTM = '''
chars = sorted(set(TEXT))
stoi = {c: i for i, c in enumerate(chars)}
data = torch.tensor([stoi[c] for c in TEXT], dtype=torch.long)
V, B, T = len(chars), 8, 16
torch.manual_seed(0)


class CharLSTM(nn.Module):
    def __init__(self, hidden=64):
        super().__init__()
        self.emb = nn.Embedding(V, 16)
        self.lstm = nn.LSTM(16, hidden, batch_first=True)
        self.head = nn.Linear(hidden, V)

    def forward(self, x, state=None):
        out, state = self.lstm(self.emb(x), state)
        return self.head(out), state


model = CharLSTM()
init = load_init(dict(model.named_parameters()))
# B parallel streams through the text, read in consecutive windows of T (truncated BPTT)
n = (len(data) - 1) // B
streams_x = data[: n * B].view(B, n)
streams_y = data[1: n * B + 1].view(B, n)
logits, _ = model(streams_x[:, :T])
first_loss = F.cross_entropy(logits.reshape(-1, V), streams_y[:, :T].reshape(-1)).item()
opt = torch.optim.Adam(model.parameters(), lr=1e-2)
losses = []
for epoch in range(STEPS):
    state = None
    for s in range(0, n - T + 1, T):
        xb, yb = streams_x[:, s:s + T], streams_y[:, s:s + T]
        if state is not None:
            state = tuple(h.detach() for h in state)
        logits, state = model(xb, state)
        loss = F.cross_entropy(logits.reshape(-1, V), yb.reshape(-1))
        opt.zero_grad()
        loss.backward()
        norm = torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
        opt.step()
        losses.append(loss.item())
result = {"init": init, "first_loss": first_loss, "losses": losses, "last_norm": float(norm)}
'''

TINY_TRANSFORMER = '''
chars = sorted(set(TEXT))
stoi = {c: i for i, c in enumerate(chars)}
data = torch.tensor([stoi[c] for c in TEXT], dtype=torch.long)
V, B, T, d = len(chars), 16, 24, 32
torch.manual_seed(0)


class Head(nn.Module):
    """One causal self-attention head written out (scores, tril mask, softmax)."""

    def __init__(self, d, hs):
        super().__init__()
        self.key = nn.Linear(d, hs, bias=False)
        self.query = nn.Linear(d, hs, bias=False)
        self.value = nn.Linear(d, hs, bias=False)
        self.register_buffer("tril", torch.tril(torch.ones(T, T)))

    def forward(self, x):
        Bx, Tx, _ = x.shape
        k, q = self.key(x), self.query(x)
        wei = q @ k.transpose(-2, -1) * k.shape[-1] ** -0.5
        wei = wei.masked_fill(self.tril[:Tx, :Tx] == 0, float("-inf"))
        wei = F.softmax(wei, dim=-1)
        return wei @ self.value(x)


class TinyGPT(nn.Module):
    def __init__(self):
        super().__init__()
        self.tok = nn.Embedding(V, d)
        self.pos = nn.Embedding(T, d)
        self.head_attn = Head(d, d)
        self.ln1 = nn.LayerNorm(d)
        self.block = nn.TransformerEncoderLayer(d, nhead=4, dim_feedforward=64, dropout=0.0,
                                                batch_first=True, norm_first=True)
        self.ln_f = nn.LayerNorm(d)
        self.lm_head = nn.Linear(d, V)

    def forward(self, idx):
        Tx = idx.shape[1]
        x = self.tok(idx) + self.pos(torch.arange(Tx))
        x = x + self.head_attn(self.ln1(x))
        mask = nn.Transformer.generate_square_subsequent_mask(Tx) if hasattr(nn, "Transformer") \\
            else torch.triu(torch.full((Tx, Tx), float("-inf")), diagonal=1)
        x = self.block(x, src_mask=mask, is_causal=True)
        return self.lm_head(self.ln_f(x))


model = TinyGPT()
init = load_init(dict(model.named_parameters()))


def get_batch(gen):
    ix = torch.randint(len(data) - T - 1, (B,), generator=gen)
    x = torch.stack([data[i:i + T] for i in ix.tolist()])
    y = torch.stack([data[i + 1:i + T + 1] for i in ix.tolist()])
    return x, y


fixed_x = torch.stack([data[i:i + T] for i in range(0, 8 * T, T)])
fixed_y = torch.stack([data[i + 1:i + T + 1] for i in range(0, 8 * T, T)])
first_loss = F.cross_entropy(model(fixed_x).view(-1, V), fixed_y.view(-1)).item()
opt = torch.optim.AdamW(model.parameters(), lr=3e-3)
gen = torch.Generator().manual_seed(1337)
losses = []
for step in range(STEPS):
    xb, yb = get_batch(gen)
    logits = model(xb)
    loss = F.cross_entropy(logits.view(-1, V), yb.view(-1))
    opt.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    opt.step()
    losses.append(loss.item())
result = {"init": init, "first_loss": first_loss, "losses": losses}
'''

CUSTOM_FUNCTION = '''
class LegendrePolynomial3(torch.autograd.Function):
    """P3(x) = (5x^3 - 3x) / 2 with the derivative 1.5 (5x^2 - 1) by hand (the PyTorch tutorial's)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return 0.5 * (5 * x ** 3 - 3 * x)

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output * 1.5 * (5 * x ** 2 - 1)


class ScaledTanh(torch.autograd.Function):
    """a * tanh(x) with gradients for both inputs (two saved tensors, a None-free backward)."""

    @staticmethod
    def forward(ctx, x, a):
        t = torch.tanh(x)
        ctx.save_for_backward(t, a)
        return a * t

    @staticmethod
    def backward(ctx, g):
        t, a = ctx.saved_tensors
        return g * a * (1 - t * t), (g * t).sum().reshape(a.shape)


xd = torch.randn(5, dtype=torch.double, requires_grad=True)
ad = torch.randn(1, dtype=torch.double, requires_grad=True)
assert torch.autograd.gradcheck(LegendrePolynomial3.apply, (xd,), eps=1e-6, atol=1e-4)
assert torch.autograd.gradcheck(ScaledTanh.apply, (xd, ad), eps=1e-6, atol=1e-4)
# a deliberately wrong backward is caught
class Wrong(LegendrePolynomial3):
    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output * 1.4 * (5 * x ** 2 - 1)
caught = not torch.autograd.gradcheck(Wrong.apply, (xd,), eps=1e-6, atol=1e-4, raise_exception=False)

# fit y = sin(x) on [-pi, pi] with a + b P3(c + d x), as in the tutorial
x = torch.linspace(-np.pi, np.pi, 200)
y = torch.sin(x)
a = torch.full((), 0.0, requires_grad=True)
b = torch.full((), -1.0, requires_grad=True)
c = torch.full((), 0.0, requires_grad=True)
d = torch.full((), 0.3, requires_grad=True)
init = load_init({"a": a, "b": b, "c": c, "d": d})
first_loss = ((a + b * LegendrePolynomial3.apply(c + d * x) - y) ** 2).sum().item()
losses = []
for t in range(STEPS):
    loss = ((a + b * LegendrePolynomial3.apply(c + d * x) - y) ** 2).sum()
    loss.backward()
    with torch.no_grad():
        for p in (a, b, c, d):
            p -= 5e-6 * p.grad
            p.grad = None
    losses.append(loss.item())
result = {"init": init, "first_loss": first_loss, "losses": losses, "caught": caught}
'''

# name -> (program, STEPS, min relative decrease of (first loss -> mean of the last losses),
#          tolerance on the first-loss agreement)
PROGRAMS = {  # margins: measured decrease (tinygrad_dnn / torch) -> asserted
    "cnn_digits": (CNN_DIGITS, 2, 0.8, 1e-4),  # 92% / 94%
    "char_mlp": (CHAR_MLP, 300, 0.35, 1e-4),  # 40.5% / 42%
    "char_lstm": (CHAR_LSTM, 40, 0.9, 1e-4),  # 96% / 96%
    "tiny_transformer": (TINY_TRANSFORMER, 100, 0.35, 1e-4),  # 40% / 41%
    "custom_function": (CUSTOM_FUNCTION, 500, 0.4, 1e-4),  # 45% / 45%
}


def _run(name, init=None):
    program, steps = PROGRAMS[name][:2]
    ns = {"INIT": init, "STEPS": steps, "TEXT": TEXT}
    exec(compile(PRELUDE + program, f"<tutorial {name}>", "exec"), ns)  # noqa: S102 (program under test)
    return ns["result"]


def _alias_tinygrad_as_torch(monkeypatch):
    for name in [n for n in list(sys.modules) if n == "torch" or n.startswith("torch.")]:
        monkeypatch.delitem(sys.modules, name)
    for name, mod in list(sys.modules.items()):
        if name == "tinygrad_dnn" or name.startswith("tinygrad_dnn."):
            monkeypatch.setitem(sys.modules, "torch" + name[len("tinygrad_dnn"):], mod)


def _run_ours(name, monkeypatch):
    before = set(sys.modules)
    with monkeypatch.context() as m:
        _alias_tinygrad_as_torch(m)
        import torch

        assert torch is tinygrad_dnn
        res = _run(name)
    for mod in set(sys.modules) - before:  # anything imported under a torch.* alias during the run
        if mod == "torch" or mod.startswith("torch."):
            del sys.modules[mod]
    return res


def _tail(losses):
    k = max(1, len(losses) // 10)
    return float(np.mean(losses[-k:]))


@pytest.mark.parametrize("name", list(PROGRAMS))
def test_tutorial_program(name, monkeypatch):
    if name == "cnn_digits":
        pytest.importorskip("sklearn")
    ours = _run_ours(name, monkeypatch)
    margin, tol = PROGRAMS[name][2:]
    first, last = ours["first_loss"], _tail(ours["losses"])
    assert np.isfinite(ours["losses"]).all(), ours["losses"]
    assert last < (1 - margin) * first, (name, first, last)
    if name == "cnn_digits":
        assert ours["acc"] > 0.9, ours["acc"]
    if name == "char_mlp":
        assert len(ours["samples"]) == 3 and all(len(s) == 20 for s in ours["samples"])
    if name == "custom_function":
        assert ours["caught"]
    real = pytest.importorskip("torch")
    assert real is not tinygrad_dnn  # the alias is gone again
    threads = real.get_num_threads()
    real.set_num_threads(1)  # tiny models: torch's thread pool only costs time here
    try:
        theirs = _run(name, init=ours["init"])
    finally:
        real.set_num_threads(threads)
    for k, v in ours["init"].items():
        np.testing.assert_array_equal(theirs["init"][k], v)
    assert theirs["first_loss"] == pytest.approx(first, rel=tol, abs=tol)
    # the same recipe learns comparably with real PyTorch (different random batches/streams)
    assert _tail(theirs["losses"]) < (1 - margin) * theirs["first_loss"], (name, theirs["first_loss"])
