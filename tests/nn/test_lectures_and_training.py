"""Deck 000's ``torch.nn`` snippets run unchanged with ``import tinygrad_dnn as torch`` and match hand-derived
results; an MLP trains end to end."""
import contextlib
import io
import math

import numpy as np
import pytest

CUBIC_NN = '''
import tinygrad_dnn as torch
import math

torch.manual_seed(SEED)
x = torch.linspace(-math.pi, math.pi, 2000)
y = torch.sin(x)

p = torch.tensor([1, 2, 3])
xx = x.unsqueeze(-1).pow(p)

model = torch.nn.Sequential(
    torch.nn.Linear(3, 1),
    torch.nn.Flatten(0, 1)
)
loss_fn = torch.nn.MSELoss(reduction='sum')
init_state = {k: v.numpy().copy() for k, v in model.state_dict().items()}

learning_rate = 1e-6
for t in range(2000):
    y_pred = model(xx)
    loss = loss_fn(y_pred, y)
    if t % 100 == 99:
        print(t, loss.item())
    model.zero_grad()
    loss.backward()
    with torch.no_grad():
        for param in model.parameters():
            param -= learning_rate * param.grad

linear_layer = model[0]
'''

POLY3 = '''
import tinygrad_dnn as torch
import math

class Polynomial3(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.a = torch.nn.Parameter(torch.randn(1))
        self.b = torch.nn.Parameter(torch.randn(1))
        self.c = torch.nn.Parameter(torch.randn(1))
        self.d = torch.nn.Parameter(torch.randn(1))

    def forward(self, x):
        return self.a + self.b * x + self.c * x ** 2 + self.d * x ** 3

    def string(self):
        return f'y = {self.a.item()} + {self.b.item()} x + {self.c.item()} x^2 + {self.d.item()} x^3'

torch.manual_seed(SEED)
x = torch.linspace(-math.pi, math.pi, 2000)
y = torch.sin(x)
model = Polynomial3()
init = [float(p.item()) for p in model.parameters()]
criterion = torch.nn.MSELoss(reduction='sum')
optimizer = torch.optim.SGD(model.parameters(), lr=1e-6)
for t in range(2000):
    y_pred = model(x)
    loss = criterion(y_pred, y)
    if t % 100 == 99:
        print(t, loss.item())
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
print(f'Result: {model.string()}')
'''

QUICKSTART = '''
import tinygrad_dnn as torch
from tinygrad_dnn import nn

class NeuralNetwork(nn.Module):
    def __init__(self):
        super().__init__()
        self.flatten = nn.Flatten()
        self.linear_relu_stack = nn.Sequential(
            nn.Linear(28*28, 512),
            nn.ReLU(),
            nn.Linear(512, 512),
            nn.ReLU(),
            nn.Linear(512, 10),
        )

    def forward(self, x):
        x = self.flatten(x)
        logits = self.linear_relu_stack(x)
        return logits

model = NeuralNetwork()
'''


def _run(src, seed=0):
    ns = {}
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(src.replace("SEED", str(seed)), ns)
    return ns, out.getvalue()


def _hand_gd(X, y, w, b, lr, steps):
    """Gradient descent on L = sum((X w + b - y)^2) by hand: dL/dw = 2 X^T r, dL/db = 2 sum r (float64)."""
    w, b = w.astype(np.float64).copy(), float(b)
    for _ in range(steps):
        r = X @ w + b - y
        gw, gb = 2 * X.T @ r, 2 * r.sum()
        w -= lr * gw
        b -= lr * gb
    return w, b


def test_cubic_fit_with_sequential_matches_hand_derivation():
    ns, out = _run(CUBIC_NN)
    lines = out.strip().splitlines()
    assert len(lines) == 20 and lines[0].startswith("99 ")
    x = np.linspace(-math.pi, math.pi, 2000)
    X = np.stack([x, x ** 2, x ** 3], axis=1)
    init = ns["init_state"]
    assert init["0.weight"].shape == (1, 3) and init["0.bias"].shape == (1,)
    w, b = _hand_gd(X, np.sin(x), init["0.weight"][0], init["0.bias"][0], 1e-6, 2000)
    lin = ns["linear_layer"]
    assert np.allclose(lin.weight.numpy()[0], w, rtol=2e-3, atol=1e-4)
    assert np.isclose(lin.bias.item(), b, rtol=2e-3, atol=1e-4)
    final = float(lines[-1].split()[1])
    hand_loss = ((X @ w + b - np.sin(x)) ** 2).sum()
    assert abs(final - hand_loss) / hand_loss < 0.01
    # the fit approaches the cubic least-squares polynomial y ~ x - x^3/6.x (close to sin on [-pi, pi])
    assert final < 50


def test_cubic_fit_same_as_real_torch():
    real = pytest.importorskip("torch")
    ns, out = _run(CUBIC_NN)
    x = real.linspace(-math.pi, math.pi, 2000)
    y = real.sin(x)
    xx = x.unsqueeze(-1).pow(real.tensor([1, 2, 3]))
    model = real.nn.Sequential(real.nn.Linear(3, 1), real.nn.Flatten(0, 1))
    model.load_state_dict({k: real.from_numpy(v) for k, v in ns["init_state"].items()})
    loss_fn = real.nn.MSELoss(reduction="sum")
    for _ in range(2000):
        loss = loss_fn(model(xx), y)
        model.zero_grad()
        loss.backward()
        with real.no_grad():
            for param in model.parameters():
                param -= 1e-6 * param.grad
    assert np.allclose(ns["linear_layer"].weight.numpy(), model[0].weight.detach().numpy(), rtol=1e-3, atol=1e-5)


def test_polynomial3_module_matches_hand_derivation():
    ns, out = _run(POLY3)
    assert "Result: y = " in out
    model = ns["model"]
    assert [n for n, _ in model.named_parameters()] == ["a", "b", "c", "d"]
    assert all(isinstance(p, ns["torch"].nn.Parameter) for p in model.parameters())
    a0, b0, c0, d0 = ns["init"]
    x = np.linspace(-math.pi, math.pi, 2000)
    X = np.stack([x, x ** 2, x ** 3], axis=1)
    w, a = _hand_gd(X, np.sin(x), np.array([b0, c0, d0]), a0, 1e-6, 2000)
    got = [p.item() for p in model.parameters()]
    assert np.allclose(got, [a, *w], rtol=2e-3, atol=1e-4)


def test_quickstart_network():
    ns, _ = _run(QUICKSTART)
    torch = ns["torch"]
    model = ns["model"]
    assert model.num_parameters() == 784 * 512 + 512 + 512 * 512 + 512 + 512 * 10 + 10 == 669_706
    assert "(linear_relu_stack): Sequential(" in repr(model)
    X = torch.rand(3, 28, 28)
    logits = model(X)
    assert tuple(logits.shape) == (3, 10)
    pred_probab = torch.nn.Softmax(dim=1)(logits)
    assert np.allclose(pred_probab.numpy().sum(1), 1.0, atol=1e-6)
    assert tuple(pred_probab.argmax(1).shape) == (3,)


def test_quickstart_step_matches_real_torch():
    real = pytest.importorskip("torch")
    ns, _ = _run(QUICKSTART)
    ours = ns["model"]
    tt = ns["torch"]
    theirs = real.nn.Sequential(real.nn.Flatten(), real.nn.Linear(784, 512), real.nn.ReLU(), real.nn.Linear(512, 512),
                                real.nn.ReLU(), real.nn.Linear(512, 10))
    # ours: linear_relu_stack.<i>.weight  ->  theirs (Flatten first): <i + 1>.weight
    sd = {}
    for k, v in ours.state_dict().items():
        _, i, name = k.split(".")
        sd[f"{int(i) + 1}.{name}"] = real.from_numpy(v.numpy().copy())
    theirs.load_state_dict(sd)
    rng = np.random.default_rng(0)
    x = rng.random((8, 28, 28)).astype(np.float32)
    y = rng.integers(0, 10, 8)
    lo = tt.nn.CrossEntropyLoss()(ours(tt.tensor(x)), tt.tensor(y))
    lt = real.nn.CrossEntropyLoss()(theirs(real.from_numpy(x)), real.from_numpy(y))
    assert np.isclose(lo.item(), lt.item(), rtol=1e-5)
    lo.backward()
    lt.backward()
    assert np.allclose(ours.linear_relu_stack[0].weight.grad.numpy(), theirs[1].weight.grad.numpy(), atol=1e-6)


@pytest.mark.parametrize("dev", ["cpu", "strict"])
def test_mlp_trains_end_to_end(dev):
    import tinygrad_dnn as torch
    from tinygrad_dnn import nn

    if dev not in torch.available_devices():
        pytest.skip(f"{dev} not available")
    rng = np.random.default_rng(0)
    n = 400
    # two interleaved spirals-ish: XOR of quadrants with noise (not linearly separable)
    X = rng.uniform(-1, 1, (n, 2))
    y = ((X[:, 0] > 0) ^ (X[:, 1] > 0)).astype(np.int64)
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 32), nn.ReLU(), nn.Dropout(0.1), nn.Linear(32, 32), nn.GELU(),
                          nn.Linear(32, 2)).to(dev)
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    loss_fn = nn.CrossEntropyLoss()
    Xt, yt = torch.tensor(X, dtype=torch.float32, device=dev), torch.tensor(y, device=dev)
    first = None
    for step in range(300):
        idx = torch.tensor(rng.integers(0, n, 64), device=dev)
        loss = loss_fn(model(Xt[idx]), yt[idx])
        first = first if first is not None else loss.item()
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.eval()
    with torch.no_grad():
        acc = float((model(Xt).argmax(1) == yt).to(torch.float32).mean())
        final = loss_fn(model(Xt), yt).item()
    assert first > 0.6 and final < 0.15 and acc > 0.95
