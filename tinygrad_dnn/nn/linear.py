"""Linear layers and shape helpers: Linear, Bilinear, Identity, Flatten, Unflatten, Maxout, PReLU, Residual."""
from __future__ import annotations

import math

from ..autograd import creation as C
from ..autograd.ops import linalg as L
from ..autograd.tensor import Tensor
from . import functional as F
from . import init
from .module import Module, Parameter

__all__ = ["Linear", "Bilinear", "Identity", "Flatten", "Unflatten", "Maxout", "PReLU", "Residual"]


class Identity(Module):
    """y = x (arguments are accepted and ignored, as PyTorch)."""

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, x):
        return x


class Linear(Module):
    """y = x W^T + b with W (out_features, in_features), b (out_features,).

    Default init as PyTorch: W ~ kaiming_uniform_(a=sqrt(5)) = U(-1/sqrt(in), 1/sqrt(in)),
    b ~ U(-1/sqrt(in), 1/sqrt(in)). Input (*, in_features) -> output (*, out_features).
    """

    def __init__(self, in_features, out_features, bias=True, device=None, dtype=None):
        super().__init__()
        if in_features < 0 or out_features < 0:
            raise ValueError(f"Linear: features must be >= 0, got in_features={in_features}, out_features={out_features}")
        self.in_features, self.out_features = int(in_features), int(out_features)
        self.weight = Parameter(C.empty(out_features, in_features, device=device, dtype=dtype))
        if bias:
            self.bias = Parameter(C.empty(out_features, device=device, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            bound = 1.0 / math.sqrt(self.in_features) if self.in_features > 0 else 0.0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, x):
        w, b = self.weight, self.bias
        if not isinstance(x, Tensor):
            raise TypeError(f"Linear: expected a Tensor input, got {type(x).__name__}")
        if x.ndim == 0 or x._data.shape[-1] != self.in_features:
            raise ValueError(f"Linear(in_features={self.in_features}, out_features={self.out_features}): input of "
                             f"shape {tuple(x.shape)} has last dim {x.shape[-1] if x.ndim else None}, expected "
                             f"{self.in_features}. Flatten or reshape the input (e.g. nn.Flatten()) first.")
        if x._data.dtype != w._data.dtype or x.backend is not w.backend:
            return F.linear(x, w, b)  # raises a clear dtype/device error
        return L.Linear.apply(x, w) if b is None else L.Linear.apply(x, w, b)

    def extra_repr(self):
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


class Bilinear(Module):
    """y_k = x1^T W_k x2 + b_k, W (out, in1, in2); init U(-1/sqrt(in1), 1/sqrt(in1)) as PyTorch."""

    def __init__(self, in1_features, in2_features, out_features, bias=True, device=None, dtype=None):
        super().__init__()
        self.in1_features, self.in2_features, self.out_features = in1_features, in2_features, out_features
        self.weight = Parameter(C.empty(out_features, in1_features, in2_features, device=device, dtype=dtype))
        if bias:
            self.bias = Parameter(C.empty(out_features, device=device, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        bound = 1.0 / math.sqrt(in1_features)
        init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            init.uniform_(self.bias, -bound, bound)

    def forward(self, x1, x2):
        return F.bilinear(x1, x2, self.weight, self.bias)

    def extra_repr(self):
        return (f"in1_features={self.in1_features}, in2_features={self.in2_features}, "
                f"out_features={self.out_features}, bias={self.bias is not None}")


class Flatten(Module):
    """Merge dims start_dim..end_dim into one: (N, C, H, W) -> (N, C*H*W) by default (start_dim=1)."""

    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, x):
        nd = max(x.ndim, 1)
        for d in (self.start_dim, self.end_dim):
            if not -nd <= d < nd:
                raise IndexError(f"Flatten(start_dim={self.start_dim}, end_dim={self.end_dim}): dim {d} is out of "
                                 f"range for input of shape {tuple(x.shape)}")
        return x.flatten(self.start_dim, self.end_dim)

    def extra_repr(self):
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Split dim ``dim`` into ``unflattened_size``: Unflatten(1, (C, H, W)) maps (N, C*H*W) -> (N, C, H, W)."""

    def __init__(self, dim, unflattened_size):
        super().__init__()
        self.dim, self.unflattened_size = dim, tuple(unflattened_size)

    def forward(self, x):
        n = 1
        for s in self.unflattened_size:
            n *= s
        size = x.shape[self.dim]
        if -1 not in self.unflattened_size and n != size:
            raise ValueError(f"Unflatten(dim={self.dim}, unflattened_size={self.unflattened_size}): dim {self.dim} of "
                             f"input shape {tuple(x.shape)} has size {size}, but the sizes multiply to {n}")
        d = self.dim % x.ndim
        return x.reshape(tuple(x.shape[:d]) + self.unflattened_size + tuple(x.shape[d + 1:]))

    def extra_repr(self):
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"


class Maxout(Module):
    """Maxout units (Goodfellow et al., 2013): y_j = max_k (W_k x + b_k)_j over ``pool_size`` linear pieces.

    With pool_size = 2 this is max(w1^T x + b1, w2^T x + b2) as in the lectures; it generalizes ReLU
    and leaky ReLU, at k times the parameters. One Linear(in, out * k) computes all pieces.
    """

    def __init__(self, in_features, out_features, pool_size=2, bias=True, device=None, dtype=None):
        super().__init__()
        if pool_size < 1:
            raise ValueError(f"Maxout: pool_size must be >= 1, got {pool_size}")
        self.in_features, self.out_features, self.pool_size = in_features, out_features, pool_size
        self.linear = Linear(in_features, out_features * pool_size, bias=bias, device=device, dtype=dtype)

    def forward(self, x):
        y = self.linear(x)
        return y.reshape(tuple(y.shape[:-1]) + (self.out_features, self.pool_size)).amax(-1)

    def extra_repr(self):
        return f"in_features={self.in_features}, out_features={self.out_features}, pool_size={self.pool_size}"


class PReLU(Module):
    """y = max(0, x) + a * min(0, x) with a learnable slope ``a`` (He et al., 2015):
    one shared slope (num_parameters=1) or one per channel (dim 1), initialised to ``init``."""

    def __init__(self, num_parameters=1, init=0.25, device=None, dtype=None):
        super().__init__()
        self.num_parameters = num_parameters
        self.init = init
        self.weight = Parameter(C.full((num_parameters,), float(init), device=device, dtype=dtype))

    def reset_parameters(self):
        from . import init as _init

        _init.constant_(self.weight, self.init)

    def forward(self, x):
        return F.prelu(x, self.weight)

    def extra_repr(self):
        return f"num_parameters={self.num_parameters}"


class Residual(Module):
    """Residual block helper: y = x + module(x) (He et al., 2016); ``module`` must keep the shape."""

    def __init__(self, module):
        super().__init__()
        self.module = module

    def forward(self, x):
        y = self.module(x)
        if tuple(y.shape) != tuple(x.shape):
            raise ValueError(f"Residual: the wrapped {type(self.module).__name__} maps shape {tuple(x.shape)} to "
                             f"{tuple(y.shape)}; a residual connection needs the same shape (add a projection)")
        return x + y
