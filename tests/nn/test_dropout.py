"""Dropout and noise: inverted scaling, mean preservation, eval identity, edge cases, channel masks."""
import numpy as np
import pytest

import tinygrad_dnn as torch
from tinygrad_dnn import nn
from tinygrad_dnn.nn import functional as F


@pytest.mark.parametrize("p", [0.2, 0.7])
def test_inverted_scaling_and_mean_preserved(p, device):
    torch.manual_seed(0)
    x = torch.ones(400, 500, dtype=torch.float64, device=device)
    d = nn.Dropout(p).to(device)
    y = d(x).numpy()
    vals = np.unique(y)
    assert np.allclose(vals, [0.0, 1 / (1 - p)])  # kept units scaled by 1/(1-p)
    drop_rate = (y == 0).mean()
    assert abs(drop_rate - p) < 0.005  # p is the DROP probability
    assert abs(y.mean() - 1.0) < 0.01  # E[y] = x
    d.eval()
    assert d(x) is x


def test_gradient_is_mask_over_keep_prob():
    x = torch.randn(50, 40, requires_grad=True)
    y = F.dropout(x, 0.25)
    y.sum().backward()
    kept = y.detach().numpy() != 0
    assert np.allclose(x.grad.numpy(), kept / 0.75)


def test_edge_probabilities_and_errors():
    x = torch.randn(3, 4)
    assert nn.Dropout(0.0)(x) is x
    assert np.all(nn.Dropout(1.0)(x).numpy() == 0.0)
    for bad in (-0.1, 1.5, "0.5", True):
        with pytest.raises(ValueError, match="between 0 and 1"):
            nn.Dropout(bad)
    with pytest.raises(ValueError, match="between 0 and 1"):
        F.dropout(x, 2.0)


def test_seeded_masks_reproducible_across_devices(device):
    torch.manual_seed(7)
    a = F.dropout(torch.ones(10, 10, device=device), 0.5).numpy()
    torch.manual_seed(7)
    b = F.dropout(torch.ones(10, 10), 0.5).numpy()
    assert np.array_equal(a, b)


def test_dropout2d_drops_whole_channels(device):
    torch.manual_seed(1)
    x = torch.ones(8, 16, 5, 5, device=device)
    y = nn.Dropout2d(0.5).to(device)(x).numpy()
    per_channel = y.reshape(8, 16, -1)
    assert np.all((per_channel == 0).all(-1) | (per_channel == 2.0).all(-1))
    assert 0 < (per_channel[..., 0] == 0).mean() < 1
    y3 = nn.Dropout2d(0.5)(torch.ones(4, 3, 3)).numpy().reshape(4, -1)
    assert np.all((y3 == 0).all(-1) | (y3 == 2.0).all(-1))
    with pytest.raises(ValueError, match="4-D"):
        nn.Dropout2d()(torch.ones(2, 3))
    m = nn.Dropout2d().eval()
    assert m(x) is x


def test_gaussian_noise_training_only():
    torch.manual_seed(2)
    g = nn.GaussianNoise(0.3)
    x = torch.zeros(300, 300)
    y = g(x).numpy()
    assert abs(y.std() - 0.3) < 0.005 and abs(y.mean()) < 0.005
    g.eval()
    assert g(x) is x


def test_dropout_lectures_keep_probability_docstring():
    assert "keep" in nn.Dropout.__module__ or "KEEP" in (nn.dropout.__doc__ or "")
    assert "1/(1-p)" in nn.Dropout.__doc__
