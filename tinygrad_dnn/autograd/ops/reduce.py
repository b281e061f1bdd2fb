"""Reductions over ``dim`` (None = all dims), with ``keepdim``.

float16 sums and means accumulate in float32 and round once at the end (as PyTorch): a float16
accumulator stops growing at 2048 + 1 and overflows at 65504, so ``ones(100000, dtype=float16).mean()``
would be nan instead of 1.
"""
from __future__ import annotations

from ..function import Function
from . import shape as S
from .elementwise import _const, _mask, _select

_F16 = {}  # id(xp) -> the dtype object float16 arrays of that namespace carry (None: no float16)


def _acc(xp, a):
    """float32 for float16 arrays (the accumulation dtype of a reduction), else None (the array's own).

    An identity test against the namespace's own float16 dtype object (comparing a NumPy dtype with
    ``xp.float16`` by ``==`` costs more than the reduction of a small tensor)."""
    f16 = _F16.get(id(xp), _F16)
    if f16 is _F16:  # first call for this namespace
        f16 = _F16[id(xp)] = (xp.empty((0,), dtype=xp.float16).dtype
                              if getattr(xp, "float16", None) is not None else None)
    return xp.float32 if f16 is not None and a.dtype is f16 else None


def _kept_shape(shape, dims):
    return tuple(1 if i in dims else s for i, s in enumerate(shape))


def _broadcast_back(g, shape, dims):
    """The gradient of a reduction over ``dims`` broadcast back to the input's ``shape``.

    Straight through the Reshape/Expand Functions (differentiable, no argument checks and no view
    bookkeeping: ``g`` is a fresh gradient nobody else holds)."""
    kept = _kept_shape(shape, dims)
    if g._data.shape != kept:
        g = S.Reshape.apply(g, kept)
    return g if kept == shape else S.Expand.apply(g, shape)


def norm_dims(dim, ndim, op="reduction"):
    """Normalize ``dim`` (int, tuple or None) to a sorted tuple of non-negative axes."""
    if dim is None:
        return tuple(range(ndim))
    if isinstance(dim, int):
        dim = (dim,)
    out = []
    for d in dim:
        d = int(d)
        if not -max(ndim, 1) <= d < max(ndim, 1):
            raise IndexError(f"{op}: dim {d} is out of range for a tensor with {ndim} dims")
        out.append(d % ndim if ndim else 0)
    return tuple(sorted(set(out)))


class Sum(Function):
    """y = sum of x over dims;  dy/dx = 1 (the gradient is broadcast back)."""

    @staticmethod
    def forward(ctx, x, dims, keepdim):
        ctx.shape, ctx.dims = x._data.shape, dims
        axis = None if len(dims) == len(ctx.shape) and not keepdim else dims  # the fast full reduction
        if not ctx.shape:  # a 0-d tensor "over dim 0": itself
            axis = ctx.dims = ()
        xp = x.backend.xp
        acc = _acc(xp, x._data)
        if acc is not None:
            return xp.astype(xp.sum(x._data, axis=axis, keepdims=keepdim, dtype=acc), x._data.dtype)
        return xp.sum(x._data, axis=axis, keepdims=keepdim)

    @staticmethod
    def backward(ctx, g):
        return _broadcast_back(g, ctx.shape, ctx.dims), None, None


class Mean(Function):
    """y = (1/n) sum of x over dims;  dy/dx = 1/n."""

    @staticmethod
    def forward(ctx, x, dims, keepdim):
        if x._data.ndim == 0:  # a 0-d tensor "over dim 0": itself
            dims = ()
        ctx.shape, ctx.dims = x._data.shape, dims
        xp = x.backend.xp
        if _acc(xp, x._data) is not None:
            return xp.astype(xp.mean(xp.astype(x._data, xp.float32), axis=dims, keepdims=keepdim), x._data.dtype)
        return xp.mean(x._data, axis=dims, keepdims=keepdim)

    @staticmethod
    def backward(ctx, g):
        n = 1
        for d in ctx.dims:
            n *= ctx.shape[d]
        return _broadcast_back(g, ctx.shape, ctx.dims) * (1.0 / max(n, 1)), None, None


class Var(Function):
    """y = sum((x - mean)^2) / (N - correction) over dims (N elements reduced);
    dy/dx = 2 (x - mean) / (N - correction), PyTorch's var_backward: the term through the mean
    (which sums to 0 for finite x) is left out, so an inf or nan in a row gives nan only at itself and
    -+inf at the others, as PyTorch. N - correction <= 0: the forward divides by 0 (inf, or nan for a
    constant); the backward's 2 / 0 is inf, and for a reduction over everything PyTorch's
    where(x == mean, nan, inf)."""

    @staticmethod
    def forward(ctx, x, dims, correction, keepdim, whole=False):
        xp = x.backend.xp
        d = x._data
        if d.ndim == 0:
            dims = ()
        ctx.save_for_backward(x)
        n = 1
        for i in dims:
            n *= d.shape[i]
        ctx.dims, ctx.shape, ctx.dof, ctx.whole = dims, d.shape, n - correction, whole or d.ndim == 0
        c = d - xp.mean(d, axis=dims, keepdims=True)
        return xp.sum(c * c, axis=dims, keepdims=keepdim) / max(n - correction, 0)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        g = g.reshape(_kept_shape(ctx.shape, ctx.dims))
        centered = x - x.mean(dim=ctx.dims, keepdim=True)
        if ctx.dof > 0:
            return (2.0 / ctx.dof) * g * centered, None, None, None, None
        xp = x.backend.xp
        if ctx.whole:  # inf * (x - mean), with inf * 0 = nan, as PyTorch
            mean = xp.mean(x._data, axis=ctx.dims, keepdims=True)
            f = xp.where(x._data == mean, xp.asarray(float("nan"), dtype=x._data.dtype, device=x.backend.device),
                         xp.asarray(float("inf"), dtype=x._data.dtype, device=x.backend.device))
            return g * _const(x, f), None, None, None, None
        return (float("inf") if ctx.dof == 0 else 2.0 / ctx.dof) * g * centered, None, None, None, None


class Amax(Function):
    """y = max of x over dims; the gradient is split evenly among tied maxima (as torch.amax and the
    all-dims ``torch.max(x)``; ``max(dim)`` sends it to the returned index instead, see :class:`MaxDim`).

    ``nan_ties``: False for amax/amin (a nan maximum equals nothing: nan gradients, as PyTorch);
    True for ``max()`` / ``min()`` (a nan maximum's gradient is shared by the nans, and is exactly 0
    elsewhere, PyTorch's CPU masked_fill); ``"product"`` for ``norm(p=inf)`` (shared by the nans too,
    but as PyTorch's (g / count) * mask, a product)."""

    reduce = "max"
    saves_output = True  # ctx.kept aliases the output: in-place changes to it must be caught

    @classmethod
    def forward(cls, ctx, x, dims, keepdim, nan_ties=False):
        xp = x.backend.xp
        if x._data.ndim == 0:
            dims = ()
        f = xp.max if cls.reduce == "max" else xp.min
        ctx.save_for_backward(x)
        ctx.dims, ctx.nan_ties = dims, nan_ties
        ctx.kept = f(x._data, axis=dims, keepdims=True)
        return ctx.kept if keepdim else xp.reshape(ctx.kept, tuple(s for i, s in enumerate(x._data.shape) if i not in dims))

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        ctx.output_data()  # version check of the output (ctx.kept aliases it)
        hit = x._data == ctx.kept
        if ctx.nan_ties:  # torch.max(x) / min(x) / norm(inf): a nan result's gradient is shared by the nans
            xp = x.backend.xp
            hit = hit | (xp.isnan(x._data) & xp.isnan(ctx.kept))
        if ctx.nan_ties is True:
            # PyTorch (CPU) fills zeros with g / count at the maxima: 0 elsewhere even where g is inf or nan
            count = xp.sum(xp.astype(hit, x._data.dtype), axis=ctx.dims, keepdims=True)
            return _select((g.reshape(ctx.kept.shape) / _const(x, count)).expand(x._data.shape), hit), None, None, None
        hit = _mask(x, hit)  # amax / amin: PyTorch's (g / count) * mask, a product (an inf or nan g spreads)
        share = hit / hit.sum(dim=ctx.dims, keepdim=True)
        return g.reshape(ctx.kept.shape) * share, None, None, None


class Amin(Amax):
    """y = min of x over dims; ties split evenly."""

    reduce = "min"


class MaxDim(Function):
    """values of ``max(dim)`` / ``min(dim)``: y = x at the returned index along ``dim``;
    dy/dx = 1 at that index and 0 elsewhere (ties do not share, as PyTorch's max(dim) / min(dim)).

    ``index`` is the already computed argmax / argmin array (keepdims), so values and indices agree.
    """

    @staticmethod
    def forward(ctx, x, dim, keepdim, index):
        xp = x.backend.xp
        ctx.dim, ctx.shape = dim, x._data.shape
        ctx.index = index
        hit = _hit(xp, x, dim, index)
        vals = xp.sum(xp.where(hit, x._data, xp.zeros_like(x._data)), axis=dim, keepdims=True)  # exact: one term
        return vals if keepdim else xp.squeeze(vals, axis=dim)

    @staticmethod
    def backward(ctx, g):
        shape = list(ctx.shape)
        shape[ctx.dim] = 1
        xp = g.backend.xp  # a scatter into zeros, as PyTorch: 0 off the index even where g is inf or nan
        return _select(g.reshape(tuple(shape)).expand(ctx.shape), _hit(xp, g, ctx.dim, ctx.index, ctx.shape)), \
            None, None, None


def _hit(xp, ref, dim, index, shape=None):
    """Boolean array of ``shape`` (default ``ref``'s): True where the position along ``dim`` equals ``index``."""
    shape = tuple(ref._data.shape if shape is None else shape)
    pos = xp.reshape(xp.arange(shape[dim], device=ref.backend.device),
                     tuple(shape[dim] if i == dim else 1 for i in range(len(shape))))
    return xp.broadcast_to(pos == index, shape)


class Prod(Function):
    """y = prod of x over dims;  dy/dx_i = prod_{j != i} x_j (the product of the others).

    As PyTorch: y / x_i when no x is 0; when some x is 0 the products of the others are computed
    exactly by :class:`ProdOthers` ([2, 0, 3] -> [0, 6, 0]; two zeros -> all 0), whose own backward
    makes higher derivatives exact too.
    """

    saves_output = True

    @staticmethod
    def forward(ctx, x, dims, keepdim, whole=False):
        """``whole``: the product of every element (``prod()`` without dim; PyTorch's gradient differs there)."""
        if x._data.ndim == 0:
            dims = ()
        ctx.save_for_backward(x)
        ctx.dims, ctx.shape, ctx.whole = dims, x._data.shape, whole
        return x.backend.xp.prod(x._data, axis=dims, keepdims=keepdim)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        if not ctx.shape:  # the product of one number is itself (PyTorch returns g, even at x = inf)
            return g, None, None, None
        kshape = _kept_shape(ctx.shape, ctx.dims)
        if not bool(x.backend.xp.any(x._data == 0)):  # g (y / x), in PyTorch's order ((g y) / x overflows first)
            y = ctx.output().reshape(kshape)
            return g.reshape(kshape) * (y / x), None, None, None
        return g.reshape(kshape) * _prod_of_others(x, ctx.dims, ctx.whole), None, None, None


def _prod_of_others(x, dims, whole):
    """Tensor of x's shape: entry i is the product over ``dims`` of every x_j but x_i: the dims are moved
    last and flattened (C order, as PyTorch's prod_safe_zeros_backward), :class:`ProdOthers` runs on the
    last axis, and the result is moved back."""
    shape = x._data.shape
    rest = tuple(i for i in range(len(shape)) if i not in dims)
    perm = rest + tuple(dims)
    moved = perm != tuple(range(len(shape)))
    n = 1
    for d in dims:
        n *= shape[d]
    xt = x.permute(*perm) if moved else x
    others = ProdOthers.apply(xt.reshape(tuple(shape[i] for i in rest) + (n,)), whole)
    others = others.reshape(tuple(shape[i] for i in perm))
    if not moved:
        return others
    inv = [0] * len(perm)
    for i, p in enumerate(perm):
        inv[p] = i
    return others.permute(*inv)


class ProdOthers(Function):
    """others_i = prod_{j != i} x_j along the last dim (the gradient side of :class:`Prod` when x has zeros).

    forward: (product of the entries before i) * (product of the entries after i), two exclusive
    cumulative products, exact with zeros. With ``whole`` (``prod()`` of everything) and two or more
    zeros it is 0, PyTorch's shortcut there.
    backward: d others_i / d x_k = prod_{j != i, k} x_j for k != i and 0 for k = i, so
    dL/dx_k = sum_i g_i D[i, k] with D = ProdOthers of the (n, n) matrix whose row i is x with x_i
    replaced by 1, diagonal set to 0; ProdOthers again, so every order is exact.
    """

    @staticmethod
    def forward(ctx, x, whole):
        ctx.save_for_backward(x)
        xp, d = x.backend.xp, x._data
        if whole and int(xp.sum(xp.astype(d == 0, xp.int64))) > 1:
            return xp.zeros_like(d)
        ax = d.ndim - 1
        return _cumprod_exclusive(xp, d, ax) * xp.flip(_cumprod_exclusive(xp, xp.flip(d, axis=ax), ax), axis=ax)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        from ..joining import where

        n = x.shape[-1]
        xp = x.backend.xp
        eye = _const(x, xp.eye(n, dtype=xp.bool, device=x.backend.device))
        rows = where(eye, 1.0, x.unsqueeze(-2).expand(tuple(x.shape[:-1]) + (n, n)))  # row i: x, x_i -> 1
        d = where(eye, 0.0, ProdOthers.apply(rows, False))
        return (g.unsqueeze(-1) * d).sum(-2), None


def _cumprod_exclusive(xp, t, ax):
    """[1, t0, t0 t1, ...] along the last axis ``ax`` (the product of the entries before each one)."""
    f = getattr(xp, "cumulative_prod", None)
    if f is not None:
        c = f(t, axis=ax, include_initial=True)
        return c[..., :-1]
    c = xp.cumprod(t, axis=ax)  # pragma: no cover - older Array API namespaces
    return xp.concat([xp.ones_like(t[..., :1]), c[..., :-1]], axis=ax)


class Norm2(Function):
    """y = sqrt(sum x^2) over dims (the Euclidean norm);  dy/dx = x / y, and 0 where y = 0 (PyTorch's
    subgradient at a zero vector). The backward is PyTorch's g * (x / y): x / y first, so for one element
    x / y is exactly +-1 (normalize's gradient along x cancels to exactly 0, as in PyTorch)."""

    saves_output = True

    @staticmethod
    def forward(ctx, x, dims, keepdim):
        xp = x.backend.xp
        d = x._data
        if d.ndim == 0:
            dims = ()
        ctx.save_for_backward(x)
        ctx.dims, ctx.shape = dims, d.shape
        return xp.sqrt(xp.sum(d * d, axis=dims, keepdims=keepdim))

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        kshape = _kept_shape(ctx.shape, ctx.dims)
        y = ctx.output().reshape(kshape)
        zero = y._data == 0
        if not bool(x.backend.xp.any(zero)):
            return g.reshape(kshape) * (x / y), None, None
        from ..joining import where

        zero = _const(y, zero)  # x / 1 where y = 0, then 0: no 0/0 in this or higher derivatives
        return g.reshape(kshape) * where(zero, 0.0, x / where(zero, 1.0, y)), None, None


class LogSumExp(Function):
    """y = log sum_i exp(x_i) over dims, computed as m + log sum exp(x - m) with m = max x, where an
    infinite m is replaced by 0 (as PyTorch): logsumexp([-inf, -inf]) = -inf, logsumexp([inf, 1]) = inf,
    and over an empty dim -inf.   dy/dx_i = exp(x_i - y) (softmax; nan where x_i and y are the same infinity,
    as PyTorch)."""

    saves_output = True

    @staticmethod
    def forward(ctx, x, dims, keepdim):
        xp = x.backend.xp
        d = x._data
        if d.ndim == 0:
            dims = ()
        ctx.save_for_backward(x)
        ctx.dims, ctx.shape = dims, d.shape
        acc = _acc(xp, d)
        if acc is not None:
            d = xp.astype(d, acc)
        if d.size == 0:  # max of an empty dim is undefined; the sum of no exps is 0 and its log -inf
            m = xp.zeros(_kept_shape(d.shape, dims), dtype=d.dtype, device=x.backend.device)
        else:
            m = xp.max(d, axis=dims, keepdims=True)
        m = xp.where(xp.isinf(m), xp.zeros_like(m), m)
        out = xp.log(xp.sum(xp.exp(d - m), axis=dims, keepdims=True)) + m
        if not keepdim:
            out = xp.reshape(out, tuple(s for i, s in enumerate(ctx.shape) if i not in dims))
        return xp.astype(out, x._data.dtype) if acc is not None else out

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        kshape = _kept_shape(ctx.shape, ctx.dims)
        y = ctx.output().reshape(kshape)
        return g.reshape(kshape) * (x - y).exp(), None, None
