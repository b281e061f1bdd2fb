"""Dropout and noise layers (active in training mode only).

Convention: ``p`` is the probability of DROPPING a unit, as PyTorch. The lectures write dropout
with the KEEP probability q = 1 - p (e.g. "keep with probability 0.8" is ``Dropout(p=0.2)``).
"""
from __future__ import annotations

from . import functional as F
from .module import Module

__all__ = ["Dropout", "Dropout1d", "Dropout2d", "GaussianNoise"]


class _DropoutNd(Module):
    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0.0 <= p <= 1.0:
            raise ValueError(f"{type(self).__name__}: dropout probability has to be between 0 and 1, but got {p!r} "
                             "(p is the probability of dropping a unit; keep probability = 1 - p)")
        self.p, self.inplace = float(p), inplace

    def extra_repr(self):
        return f"p={self.p}, inplace={self.inplace}"


class Dropout(_DropoutNd):
    """Inverted dropout: in training each element is zeroed with probability p and the kept ones are
    scaled by 1/(1-p), so E[y] = x and nothing changes at test time; in eval mode y = x.

    p = 0 is the identity, p = 1 gives zeros. Masks come from the host generator (``manual_seed``).
    """

    def forward(self, x):
        return F.dropout(x, self.p, self.training, self.inplace)


class Dropout2d(_DropoutNd):
    """Channel dropout for (N, C, H, W) or (C, H, W): whole feature maps are zeroed with probability p,
    the kept ones scaled by 1/(1-p) (Tompson et al., 2015)."""

    def forward(self, x):
        return F.dropout2d(x, self.p, self.training, self.inplace)


class Dropout1d(_DropoutNd):
    """Channel dropout for (N, C, L) or (C, L)."""

    def forward(self, x):
        return F.dropout1d(x, self.p, self.training, self.inplace)


class GaussianNoise(Module):
    """y = x + std * eps, eps ~ N(0, 1), in training mode; y = x in eval mode (a regularizer)."""

    def __init__(self, std=0.1):
        super().__init__()
        if std < 0:
            raise ValueError(f"GaussianNoise: std must be >= 0, got {std}")
        self.std = std

    def forward(self, x):
        return F.gaussian_noise(x, self.std, self.training)

    def extra_repr(self):
        return f"std={self.std}"
