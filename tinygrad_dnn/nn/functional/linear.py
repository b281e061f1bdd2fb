"""Linear maps (``torch.nn.functional.linear``, ``bilinear``)."""
from __future__ import annotations

from ...autograd.errors import check_same_device
from ...autograd.ops import linalg as L
from ...autograd.tensor import Tensor

__all__ = ["linear", "bilinear"]


def linear(x, weight, bias=None):
    """y = x W^T + b with W of shape (out_features, in_features) (one fused op)."""
    if not isinstance(x, Tensor):
        raise TypeError(f"F.linear: expected a Tensor input, got {type(x).__name__}")
    if weight.ndim != 2:
        raise RuntimeError(f"F.linear: weight must be 2-D (out_features, in_features), got shape {tuple(weight.shape)}")
    if x.ndim == 0 or x.shape[-1] != weight.shape[1]:
        raise RuntimeError(f"F.linear: input of shape {tuple(x.shape)} does not match weight of shape "
                         f"{tuple(weight.shape)}: the input's last dim must be in_features={weight.shape[1]}")
    if bias is not None and tuple(bias.shape) != (weight.shape[0],):
        raise RuntimeError(f"F.linear: bias of shape {tuple(bias.shape)} does not match out_features={weight.shape[0]}")
    if x.dtype is not weight.dtype:
        raise RuntimeError(f"F.linear: input dtype {x.dtype} differs from weight dtype {weight.dtype}; convert the input "
                        f"(x.to({weight.dtype})) or the model (model.to({x.dtype}))")
    if x.backend is not weight.backend:
        check_same_device("F.linear", input=x, weight=weight, bias=bias)
    if bias is None:
        return L.Linear.apply(x, weight)
    return L.Linear.apply(x, weight, bias)


def bilinear(x1, x2, weight, bias=None):
    """y_k = x1^T W_k x2 + b_k with W of shape (out, in1, in2)."""
    y = ((x1.unsqueeze(-2).unsqueeze(-2) @ weight) .squeeze(-2) * x2.unsqueeze(-2)).sum(-1)
    return y if bias is None else y + bias
