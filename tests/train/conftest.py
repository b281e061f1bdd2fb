"""Shared helpers for the training tests: a small, fast classification problem."""
import pytest

from tinygrad_dnn.data import DataLoader, TensorDataset, make_moons


@pytest.fixture
def moons():
    """(train_loader, val_loader) on 256 + 128 moons points, batch 32, shuffled with seed 0."""
    x, y = make_moons(n_samples=384, noise=0.15, seed=0)
    tr = TensorDataset(x[:256], y[:256])
    va = TensorDataset(x[256:], y[256:])
    return DataLoader(tr, batch_size=32, shuffle=True, seed=0), DataLoader(va, batch_size=128)

