"""autograd.saved_tensors: what the graph keeps for backward (the memory cost O(BmL + m^2 L) of deck 001)."""
import pytest

import tinygrad_dnn as torch
from tinygrad_dnn import nn
from tinygrad_dnn.autograd import saved_tensors


def _mlp_loss(B, m, L, dropout=0.0):
    torch.manual_seed(0)
    layers = []
    for _ in range(L):
        layers += [nn.Linear(m, m), nn.ReLU()] + ([nn.Dropout(dropout)] if dropout else [])
    return nn.Sequential(*layers)(torch.randn(B, m)).pow(2).mean()


@pytest.mark.parametrize("B,m,L", [(4, 8, 1), (16, 8, 3), (4, 16, 2)])
def test_mlp_keeps_one_activation_and_one_weight_per_layer(B, m, L):
    # Linear saves its input (B x m) and weight (m x m); ReLU's output is the next Linear's input (kept
    # once); pow saves the last output: (L + 1) B m + L m^2 float32 numbers, exactly.
    loss = _mlp_loss(B, m, L)
    kept = saved_tensors(loss)
    assert sum(t.numpy().nbytes for t in kept) == 4 * ((L + 1) * B * m + L * m * m)
    loss.backward()
    assert saved_tensors(loss) == []  # backward frees the graph


def test_raw_saved_arrays_and_leaf():
    loss = _mlp_loss(4, 8, 1, dropout=0.5)
    kept = saved_tensors(loss)
    assert all(isinstance(t, torch.Tensor) for t in kept)
    assert sum(t.numpy().nbytes for t in kept) > 4 * (2 * 4 * 8 + 8 * 8)  # dropout keeps its mask too
    assert saved_tensors(torch.ones(3, requires_grad=True)) == []
