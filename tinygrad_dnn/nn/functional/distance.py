"""Distances and similarities (``torch.nn.functional.cosine_similarity``, ``pairwise_distance``): compositions."""
from __future__ import annotations

from ...autograd.tensor import Tensor

__all__ = ["cosine_similarity", "pairwise_distance"]


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    """sum(x1 * x2, dim) / (max(||x1||, eps) * max(||x2||, eps)) over ``dim``; inputs broadcast."""
    for name, t in (("x1", x1), ("x2", x2)):
        if not isinstance(t, Tensor):
            raise TypeError(f"F.cosine_similarity: expected {name} to be a Tensor, got {type(t).__name__}")
    if x1.dtype is not x2.dtype:
        raise RuntimeError(f"F.cosine_similarity: expected both inputs to have the same dtype, got {x1.dtype} and "
                           f"{x2.dtype}")
    n1 = (x1 * x1).sum(dim, keepdim=True).sqrt().clamp(min=eps)
    n2 = (x2 * x2).sum(dim, keepdim=True).sqrt().clamp(min=eps)
    return ((x1 / n1) * (x2 / n2)).sum(dim)


def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    """||x1 - x2 + eps||_p over the last dim."""
    d = (x1 - x2 + eps).abs()
    if p == 1:
        return d.sum(-1, keepdim=keepdim)
    return (d ** p).sum(-1, keepdim=keepdim) ** (1.0 / p)
