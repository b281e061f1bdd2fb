"""End to end (issue 13): a tutorial-style program written only against the torch API runs unchanged
with ``import tinygrad_dnn as torch`` and with real PyTorch, and both learn the digits.

The program text below imports ``torch``, ``torch.nn``, ``torch.nn.functional`` and
``from torch.utils.data import ...`` exactly as a student writes it. For the tinygrad_dnn run, every
``tinygrad_dnn.*`` module is aliased as ``torch.*`` in ``sys.modules`` for the duration of the run.
"""
import sys

import pytest

import tinygrad_dnn

pytest.importorskip("sklearn")

PROGRAM = '''
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset, random_split
from sklearn.datasets import load_digits

torch.manual_seed(0)
torch.backends.cudnn.deterministic = True
torch.backends.cudnn.benchmark = False
torch.cuda.manual_seed_all(0)
device = "cpu"  # torch.cuda.is_available() is consulted below, the run stays on the CPU
assert isinstance(torch.cuda.is_available(), bool)

digits = load_digits()
X = torch.tensor(digits.data / 16.0, dtype=torch.float32)
y = torch.tensor(digits.target, dtype=torch.long)
dataset = TensorDataset(X, y)
train_ds, test_ds = random_split(dataset, [0.8, 0.2], generator=torch.Generator().manual_seed(42))
train_loader = DataLoader(train_ds, batch_size=64, shuffle=True, generator=torch.Generator().manual_seed(0))
test_loader = DataLoader(test_ds, batch_size=256, shuffle=False)


class SquaredReLU(torch.autograd.Function):
    """relu(x)^2, with its derivative 2 relu(x) written by hand."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.clamp(min=0) ** 2

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output * 2 * x.clamp(min=0)


x_check = torch.randn(6, dtype=torch.double, requires_grad=True)
assert torch.autograd.gradcheck(SquaredReLU.apply, (x_check,), eps=1e-6, atol=1e-4)


class MLP(nn.Module):
    def __init__(self, hidden=64):
        super().__init__()
        self.fc1 = nn.Linear(64, hidden)
        self.fc2 = nn.Linear(hidden, 10)

    def forward(self, x):
        return self.fc2(SquaredReLU.apply(self.fc1(x)))


model = MLP().to(device)
n_params = sum(p.nelement() for p in model.parameters())
optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
loss_fn = nn.CrossEntropyLoss()
log = []
for epoch in range(6):
    model.train()
    for xb, yb in train_loader:
        xb, yb = xb.to(device, non_blocking=True), yb.to(device, non_blocking=True)
        loss = loss_fn(model(xb), yb)
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=5.0)
        optimizer.step()
    log.append(f"epoch {epoch}: loss {loss:.4f}")

idx = torch.randint(len(train_ds), (8,))
assert idx.shape == (8,) and int(idx.max()) < len(train_ds)

model.eval()
correct = 0
with torch.inference_mode():
    for xb, yb in test_loader:
        pred = F.softmax(model(xb), dim=1).argmax(dim=1)
        correct += (pred == yb).sum().item()
accuracy = correct / len(test_ds)
torch.testing.assert_close(torch.tensor([accuracy]), torch.tensor([accuracy]))
result = {"accuracy": accuracy, "n_params": n_params, "log": log, "n_test": len(test_ds)}
'''


def _run():
    ns = {}
    exec(compile(PROGRAM, "<tutorial mlp digits>", "exec"), ns)  # noqa: S102  (the program under test)
    return ns["result"]


def _alias_tinygrad_as_torch(monkeypatch):
    for name in [n for n in list(sys.modules) if n == "torch" or n.startswith("torch.")]:
        monkeypatch.delitem(sys.modules, name)
    for name, mod in list(sys.modules.items()):
        if name == "tinygrad_dnn" or name.startswith("tinygrad_dnn."):
            monkeypatch.setitem(sys.modules, "torch" + name[len("tinygrad_dnn"):], mod)


def test_tutorial_mlp_runs_unchanged_with_tinygrad_dnn_as_torch(monkeypatch):
    monkeypatch.setattr(tinygrad_dnn.backends.cudnn, "deterministic", tinygrad_dnn.backends.cudnn.deterministic)
    monkeypatch.setattr(tinygrad_dnn.backends.cudnn, "benchmark", tinygrad_dnn.backends.cudnn.benchmark)
    before = set(sys.modules)
    with monkeypatch.context() as m:
        _alias_tinygrad_as_torch(m)
        import torch

        assert torch is tinygrad_dnn
        ours = _run()
    for name in set(sys.modules) - before:  # anything imported under a torch.* alias during the run
        if name == "torch" or name.startswith("torch."):
            del sys.modules[name]
    assert ours["n_params"] == 64 * 64 + 64 + 64 * 10 + 10
    assert ours["n_test"] == 359  # floor(0.2 * 1797) + the round-robin remainder, as torch
    assert ours["accuracy"] > 0.9, ours
    assert all(line.startswith(f"epoch {i}: loss ") and len(line.split()[-1].split(".")[1]) == 4
               for i, line in enumerate(ours["log"]))
    real = pytest.importorskip("torch")
    assert real is not tinygrad_dnn  # the alias is gone again
    for lib in (tinygrad_dnn, real):  # the program sets global flags: put them back afterwards
        monkeypatch.setattr(lib.backends.cudnn, "deterministic", lib.backends.cudnn.deterministic)
        monkeypatch.setattr(lib.backends.cudnn, "benchmark", lib.backends.cudnn.benchmark)
    theirs = _run()
    assert theirs["n_params"] == ours["n_params"] and theirs["n_test"] == ours["n_test"]
    assert theirs["accuracy"] > 0.9
    assert abs(theirs["accuracy"] - ours["accuracy"]) < 0.05
