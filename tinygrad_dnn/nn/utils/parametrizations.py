"""``torch.nn.utils.parametrizations``: weight normalization as a parametrization.

Weight normalization (Salimans & Kingma 2016) writes a weight as a direction times a learned length,

    w = g * v / ||v||,

the norm taken over every dimension except ``dim`` (one length per output unit for ``dim=0``;
``dim=None`` means one length for the whole tensor). ``g`` is stored as
``parametrizations.<name>.original0`` and ``v`` as ``...original1`` (PyTorch's keys); at
registration ``g = ||w||`` and ``v = w``, so the module computes the same function as before.
"""
from __future__ import annotations

from ..module import Module
from . import parametrize

__all__ = ["weight_norm"]


def norm_except_dim(v, pow=2, dim=0):
    """``||v||_pow`` over every dimension except ``dim``, kept as size-1 dims (``dim=-1``: the whole tensor,
    a 0-d tensor -- PyTorch's ``torch.norm_except_dim`` convention)."""
    if dim == -1:
        return v.norm(pow)
    if not -v.ndim <= dim < v.ndim:
        raise IndexError(f"norm_except_dim: dim {dim} is out of range for a tensor of {v.ndim} dimensions "
                         f"(shape {tuple(v.shape)})")
    d = dim % v.ndim
    dims = tuple(i for i in range(v.ndim) if i != d)
    if not dims:
        return v.abs() if pow != 0 else (v != 0).to(v.dtype)
    return v.norm(pow, dim=dims, keepdim=True)


def _weight_norm(v, g, dim=0):
    """``v * (g / ||v||)``, the norm over every dimension except ``dim`` (PyTorch's ``torch._weight_norm``)."""
    return v * (g / norm_except_dim(v, 2, dim))


class _WeightNorm(Module):
    def __init__(self, dim=0):
        super().__init__()
        self.dim = -1 if dim is None else dim

    def forward(self, weight_g, weight_v):
        return _weight_norm(weight_v, weight_g, self.dim)

    def right_inverse(self, weight):
        return norm_except_dim(weight, 2, self.dim), weight



def weight_norm(module, name="weight", dim=0):
    """Apply weight normalization to ``module.<name>``: ``w = g v / ||v||`` (norm over all dims but ``dim``).

    ``g`` (``parametrizations.<name>.original0``) has the size of ``w`` along ``dim`` and 1 elsewhere;
    ``v`` (``parametrizations.<name>.original1``) has the shape of ``w``. ``dim=None``: one scalar ``g``
    (a 0-d tensor) for the whole weight. Returns ``module``. Undo with
    ``parametrize.remove_parametrizations(module, name)``.
    """
    if not isinstance(module, Module):
        raise TypeError(f"weight_norm: expected a Module, got {type(module).__name__}")
    parametrize.register_parametrization(module, name, _WeightNorm(dim), unsafe=True)
    return module
