"""Deck 000's PyTorch snippets run unchanged with ``import tinygrad_dnn as torch``.

The raw-tensor version (hand-derived gradients) and the autograd version start from the same seed
and must follow the same trajectory, which checks autograd against the hand derivation over 2000
steps. (The slide's ``xrange`` is Python 2; it is ``range`` here.)
"""
import contextlib
import io
import math

import pytest

MANUAL = '''
import tinygrad_dnn as torch
import math

dtype = torch.float
device = torch.device("cpu")
torch.manual_seed(SEED)

x = torch.linspace(-math.pi, math.pi, 2000, device=device, dtype=dtype)
y = torch.sin(x)

a = torch.randn(1, device=device, dtype=dtype)
b = torch.randn(1, device=device, dtype=dtype)
c = torch.randn(1, device=device, dtype=dtype)
d = torch.randn(1, device=device, dtype=dtype)

learning_rate = 1e-6
for t in range(2000):
    y_pred = a + b * x + c * x ** 2 + d * x ** 3
    loss = (y_pred - y).pow(2).sum().item()
    if t % 100 == 99:
        print(t, loss)
    grad_y_pred = 2.0 * (y_pred - y)
    grad_a = grad_y_pred.sum()
    grad_b = (grad_y_pred * x).sum()
    grad_c = (grad_y_pred * x ** 2).sum()
    grad_d = (grad_y_pred * x ** 3).sum()
    a -= learning_rate * grad_a
    b -= learning_rate * grad_b
    c -= learning_rate * grad_c
    d -= learning_rate * grad_d

print(f'Result: y = {a.item()} + {b.item()} x + {c.item()} x^2 + {d.item()} x^3')
'''

AUTOGRAD = '''
import tinygrad_dnn as torch
import math

dtype = torch.float
device = "cuda" if torch.cuda.is_available() else "cpu"
torch.set_default_device(device)
torch.manual_seed(SEED)

x = torch.linspace(-math.pi, math.pi, 2000, dtype=dtype)
y = torch.sin(x)

a = torch.randn(1, dtype=dtype, requires_grad=True)
b = torch.randn(1, dtype=dtype, requires_grad=True)
c = torch.randn(1, dtype=dtype, requires_grad=True)
d = torch.randn(1, dtype=dtype, requires_grad=True)

learning_rate = 1e-6
for t in range(2000):
    y_pred = a + b * x + c * x ** 2 + d * x ** 3
    loss = (y_pred - y).pow(2).sum()
    if t % 100 == 99:
        print(t, loss.item())
    loss.backward()
    with torch.no_grad():
        a -= learning_rate * a.grad
        b -= learning_rate * b.grad
        c -= learning_rate * c.grad
        d -= learning_rate * d.grad
    a.grad = None
    b.grad = None
    c.grad = None
    d.grad = None
'''


def _run(src, seed=1):
    ns = {}
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(src.replace("SEED", str(seed)), ns)
    return ns, out.getvalue().splitlines()


def test_manual_gradient_snippet_runs_and_fits_sin():
    ns, lines = _run(MANUAL)
    assert len(lines) == 21 and lines[-1].startswith("Result: y =")
    losses = [float(line.split()[1]) for line in lines[:-1]]
    assert losses[-1] < losses[0] and losses[-1] < 50  # the slide's run ends near 9-10 at lr 1e-6


def test_autograd_snippet_matches_hand_derived_gradients():
    man, man_lines = _run(MANUAL)
    auto, auto_lines = _run(AUTOGRAD)
    for name in "abcd":
        assert auto[name].item() == pytest.approx(man[name].item(), rel=1e-4, abs=1e-6)
    for lm, la in zip(man_lines, auto_lines):
        assert float(la.split()[1]) == pytest.approx(float(lm.split()[1]), rel=1e-4)


def test_closed_form_gradient_of_the_cubic_loss():
    import tinygrad_dnn as torch

    x = torch.linspace(-math.pi, math.pi, 50, dtype=torch.float64)
    y = torch.sin(x)
    w = torch.tensor([0.1, -0.2, 0.3, -0.05], dtype=torch.float64, requires_grad=True)
    X = torch.stack([x ** 0, x, x ** 2, x ** 3], dim=1)
    loss = ((X @ w - y) ** 2).sum()
    loss.backward()
    expected = 2.0 * X.T @ (X @ w.detach() - y)  # d/dw ||Xw - y||^2 = 2 X^T (Xw - y)
    assert w.grad.tolist() == pytest.approx(expected.tolist(), rel=1e-10)
