"""Module-level forms of the tensor methods: ``torch.exp(x)``, ``torch.sum(x, dim=1)``...

Each one calls the method of the same name, so the math lives in one place (``autograd.ops``).
"""
from __future__ import annotations

from .autograd.tensor import Tensor, matmul  # noqa: F401
from .autograd.einsum import einsum, meshgrid  # noqa: F401

_METHODS = [
    "exp", "log", "sqrt", "rsqrt", "abs", "sign", "sin", "cos", "tanh", "sigmoid", "relu", "square", "log1p",
    "expm1", "clamp", "clip", "maximum", "minimum", "sum", "mean", "var", "std", "amax", "amin", "max", "min",
    "prod", "logsumexp", "argmax", "argmin", "softmax", "log_softmax", "reshape", "flatten", "permute",
    "transpose", "squeeze", "unsqueeze", "broadcast_to", "split", "chunk", "unbind", "norm", "neg",
    "reciprocal", "all", "any", "t", "pow", "sub", "mul", "div", "add",
    # issue 13 (stream "tensorops"): index, sort, cumulative, test and sampling ops
    "gather", "scatter", "scatter_add", "index_select", "index_add", "take_along_dim", "cumsum", "cumprod", "flip",
    "fliplr", "flipud", "roll", "tril", "triu", "sort", "argsort", "topk", "msort", "isnan", "isinf", "isfinite",
    "isposinf", "isneginf", "tile", "erf", "log2", "log10", "multinomial", "bernoulli", "nonzero", "argwhere",
    "logical_and", "logical_or", "logical_not", "logical_xor", "mm", "bmm", "dot", "inner", "mv", "outer", "ger",
    "clone", "floor", "ceil", "trunc", "round", "allclose", "isclose", "equal", "unique", "diag", "diagonal",
    "trace", "histc", "bincount", "narrow", "masked_fill",
]


def _make(name):
    def f(input, *args, **kwargs):
        return getattr(input, name)(*args, **kwargs)

    f.__name__ = name
    f.__qualname__ = name
    f.__doc__ = f"``{name}(input, ...)`` is ``input.{name}(...)``; see :meth:`Tensor.{name}`."
    return f


for _n in _METHODS:
    globals()[_n] = _make(_n)

__all__ = list(_METHODS) + ["matmul", "lt", "le", "gt", "ge", "eq", "ne", "var_mean", "std_mean", "einsum",
                            "meshgrid", "where", "repeat_interleave"]


def where(condition, input=None, other=None):
    """``where(condition, input, other)``: elementwise select; ``where(condition)``: ``nonzero(as_tuple=True)``."""
    from .autograd.creation import where as _where

    if input is None and other is None:
        return condition.nonzero(as_tuple=True)
    if input is None or other is None:
        raise TypeError("where() takes 1 or 3 arguments: where(condition) or where(condition, input, other)")
    return _where(condition, input, other)


def repeat_interleave(input, repeats=None, dim=None, *, output_size=None):
    """``input.repeat_interleave(repeats, dim)``; ``repeat_interleave(repeats)`` repeats 0..n-1 (as torch)."""
    if repeats is None:
        from .autograd.creation import arange

        return arange(input.shape[0], dtype=input.dtype, device=input.device).repeat_interleave(input)
    return input.repeat_interleave(repeats, dim, output_size=output_size)


def var_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None, axis=None, keepdims=None):
    """``(var(input, ...), mean(input, ...))`` over the same dims (``torch.var_mean``; var's signature)."""
    v = input.var(dim, unbiased, keepdim, correction=correction, axis=axis, keepdims=keepdims)
    return v, _mean_like_var(input, dim, keepdim, axis, keepdims)


def std_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None, axis=None, keepdims=None):
    """``(std(input, ...), mean(input, ...))`` over the same dims (``torch.std_mean``; std's signature)."""
    s = input.std(dim, unbiased, keepdim, correction=correction, axis=axis, keepdims=keepdims)
    return s, _mean_like_var(input, dim, keepdim, axis, keepdims)


def _mean_like_var(input, dim, keepdim, axis, keepdims):
    if isinstance(dim, bool):  # var_mean(x, unbiased): the bool is not a dim
        dim = None
    dim = axis if dim is None and axis is not None else dim
    return input.mean(dim=dim, keepdim=bool(keepdims) if keepdims is not None else keepdim)


def lt(a, b):
    return a < b


def le(a, b):
    return a <= b


def gt(a, b):
    return a > b


def ge(a, b):
    return a >= b


def eq(a, b):
    return a == b


def ne(a, b):
    return a != b
