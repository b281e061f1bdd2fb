"""Shape helpers of ``torch.nn.functional`` (``flatten``)."""
from __future__ import annotations

__all__ = ["flatten"]


def flatten(x, start_dim=0, end_dim=-1):
    return x.flatten(start_dim, end_dim)
