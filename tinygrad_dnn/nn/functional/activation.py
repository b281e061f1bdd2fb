"""Activation functions (``torch.nn.functional``), built from the core elementwise ops."""
from __future__ import annotations

import math

from ...autograd.errors import check_float
from ...autograd.joining import where
from ...autograd.ops import activation as Act
from ...autograd.tensor import Tensor
from ...autograd.views import apply_inplace

__all__ = ["relu", "relu6", "leaky_relu", "elu", "selu", "gelu", "sigmoid", "tanh", "softplus", "silu",
           "mish", "hardtanh", "softsign", "logsigmoid", "softmax", "log_softmax", "softmin", "prelu",
           "normalize"]


def _tensor(x, fn):
    if not isinstance(x, Tensor):
        raise TypeError(f"F.{fn}: expected a Tensor, got {type(x).__name__}")
    return x


def _t(x, fn):
    """``x``, checked: a floating point Tensor (torch has no integer kernel for these functions)."""
    if not _tensor(x, fn).dtype.is_floating_point:  # the message is built only on the error path
        check_float(f"F.{fn}", x)
    return x


def _inplace(x, fn, *args):
    """``inplace=True``: compute ``fn(x, *args)`` and write it into ``x``, recorded in the graph (see
    autograd/views.py); raises, as PyTorch, on a leaf that requires grad."""
    return apply_inplace(_t(x, fn.__name__), fn.__name__ + "_", lambda s: fn(s, *args))


def relu(x, inplace=False):
    """max(x, 0)."""
    if inplace:
        return _inplace(x, relu)
    return _tensor(x, "relu").relu()  # integers too (an integer result), as PyTorch


def relu6(x, inplace=False):
    """min(max(x, 0), 6)."""
    if inplace:
        return _inplace(x, relu6)
    return Act.Hardtanh.apply(_t(x, "relu6"), 0.0, 6.0)  # gradient 0 at 0 and 6, as PyTorch


def leaky_relu(x, negative_slope=0.01, inplace=False):
    """x if x > 0 else negative_slope * x."""
    if inplace:
        return _inplace(x, leaky_relu, negative_slope)
    return Act.LeakyRelu.apply(_t(x, "leaky_relu"), float(negative_slope))


def elu(x, alpha=1.0, inplace=False):
    """x if x > 0 else alpha (e^x - 1)."""
    if inplace:
        return _inplace(x, elu, alpha)
    return Act.Elu.apply(_t(x, "elu"), float(alpha))


def selu(x, inplace=False):
    """scale * elu(x, alpha) with alpha = 1.6733, scale = 1.0507 (Klambauer et al., 2017)."""
    if inplace:
        return _inplace(x, selu)
    return Act.Elu.apply(_t(x, "selu"), 1.6732632423543772848170429916717) * 1.0507009873554804934193349852946


def gelu(x, approximate="none"):
    """x * Phi(x) (Phi = standard normal CDF); ``approximate='tanh'``:
    0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))."""
    _t(x, "gelu")
    if approximate in ("none", "tanh"):
        if x.dtype.itemsize < 4:  # float16: in float32 and rounded once, as PyTorch (x^3 overflows float16 at 41)
            return Act.Gelu.apply(x.float(), approximate).to(x.dtype)
        return Act.Gelu.apply(x, approximate)
    raise ValueError(f"F.gelu: approximate must be 'none' or 'tanh', got {approximate!r}")


def sigmoid(x):
    """1 / (1 + e^-x)."""
    return _tensor(x, "sigmoid").sigmoid()  # integers give float32, as PyTorch


def tanh(x):
    return _tensor(x, "tanh").tanh()  # integers give float32, as PyTorch


def softplus(x, beta=1.0, threshold=20.0):
    """log(1 + e^(beta x)) / beta, and x itself where beta x > threshold (as PyTorch)."""
    return Act.Softplus.apply(_t(x, "softplus"), float(beta), float(threshold))


def logsigmoid(x):
    """log sigmoid(x) = -softplus(-x), stable for large |x|."""
    return -Act.Softplus.apply(-_t(x, "logsigmoid"), 1.0, math.inf)


def silu(x, inplace=False):
    """x * sigmoid(x) (swish)."""
    if inplace:
        return _inplace(x, silu)
    return Act.Silu.apply(_t(x, "silu"))


def mish(x, inplace=False):
    """x * tanh(softplus(x))."""
    if inplace:
        return _inplace(x, mish)
    return Act.Mish.apply(_t(x, "mish"))


def hardtanh(x, min_val=-1.0, max_val=1.0, inplace=False):
    if inplace:
        return _inplace(x, hardtanh, min_val, max_val)
    return Act.Hardtanh.apply(_t(x, "hardtanh"), float(min_val), float(max_val))  # gradient 0 at the bounds


def softsign(x):
    """x / (1 + |x|)."""
    return _t(x, "softsign") / (1.0 + x.abs())


def _softmax_dim(ndim, dim, fn):
    if dim is None:  # PyTorch's legacy implicit choice
        return 0 if ndim in (0, 1, 3) else 1
    if not -max(ndim, 1) <= dim < max(ndim, 1):
        raise IndexError(f"F.{fn}: dim {dim} is out of range for a tensor with {ndim} dims")
    return dim


def softmax(x, dim=None, dtype=None):
    """exp(x_i) / sum_j exp(x_j) along ``dim`` (computed stably)."""
    _t(x, "softmax")
    if dtype is not None:
        x = x.to(dtype)
    return x.softmax(_softmax_dim(x.ndim, dim, "softmax"))


def log_softmax(x, dim=None, dtype=None):
    """x_i - log sum_j exp(x_j) along ``dim`` (computed stably)."""
    _t(x, "log_softmax")
    if dtype is not None:
        x = x.to(dtype)
    return x.log_softmax(_softmax_dim(x.ndim, dim, "log_softmax"))


def softmin(x, dim=None, dtype=None):
    return softmax(-x, dim, dtype)


def prelu(x, weight):
    """x if x > 0 else weight * x; ``weight`` has 1 or C (= x.shape[1]) entries."""
    _t(x, "prelu")
    n = weight.numel()
    if n != 1:
        if x.ndim < 2 or x.shape[1] != n:
            raise ValueError(f"F.prelu: weight has {n} entries but input of shape {tuple(x.shape)} has "
                             f"{x.shape[1] if x.ndim >= 2 else 1} channels (dim 1); use num_parameters=1 or C")
        weight = weight.reshape((n,) + (1,) * (x.ndim - 2))
    else:
        weight = weight.reshape(())
    # x > 0 ? x : w x, as PyTorch's kernel: nan takes the w x side (gradient w, not 1), prelu(-0.0) = -0.0
    return where(x > 0, x, weight * x)


def normalize(x, p=2.0, dim=1, eps=1e-12):
    """x / max(||x||_p, eps) along ``dim``."""
    n = _t(x, "normalize").norm(p=p, dim=dim, keepdim=True).clamp(min=eps)
    return x / n


def relu_(x):
    """In-place ``relu`` (``F.relu(x, inplace=True)``)."""
    return relu(x, inplace=True)


def leaky_relu_(x, negative_slope=0.01):
    return leaky_relu(x, negative_slope, inplace=True)


def elu_(x, alpha=1.0):
    return elu(x, alpha, inplace=True)


def hardtanh_(x, min_val=-1.0, max_val=1.0):
    return hardtanh(x, min_val, max_val, inplace=True)


__all__ += ["relu_", "leaky_relu_", "elu_", "hardtanh_"]
