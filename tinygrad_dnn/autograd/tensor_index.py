"""``Tensor``'s index-driven and reordering ops (issue 13): ``gather``/``scatter``/``index_select``/
``index_add``/``take_along_dim``, ``cumsum``/``cumprod``, ``flip``/``roll``, ``tril``/``triu``,
``sort``/``argsort``/``topk``, ``unique``, ``nonzero``, ``diag``/``diagonal``/``trace``, ``tile``/
``repeat_interleave``, the nan/inf tests, ``isclose``/``allclose``, ``histc``/``bincount``, ``erf``/``log2``/
``log10`` and ``mm``/``bmm``/``dot``/``mv``/``outer``. Torch's argument names,
dtypes and errors. The differentiable ones are compositions of the Functions in ``ops/gather.py``,
``ops/cumulative.py``, ``ops/special.py`` and the indexing ops.
"""
from __future__ import annotations

import builtins
import collections

from . import dtype as _dt
from .ops import cumulative as C
from .ops import gather as G
from .ops import index as I
from .ops import special as SP

Tensor = _wrap = None  # bound by tensor.py


def _bind(tensor_cls, wrap):
    global Tensor, _wrap
    Tensor, _wrap = tensor_cls, wrap


SortResult = collections.namedtuple("sort", ["values", "indices"])
TopkResult = collections.namedtuple("topk", ["values", "indices"])


def _dim(dim, ndim, op):
    n = builtins.max(ndim, 1)
    if not isinstance(dim, builtins.int) or isinstance(dim, builtins.bool):
        raise TypeError(f"{op}: dim must be an int, got {type(dim).__name__}")
    if not -n <= dim < n:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {dim})")
    return dim % n


def _int_index(index, op, allow_int32=False):
    if not isinstance(index, Tensor):
        raise TypeError(f"{op}(): index must be a Tensor, got {type(index).__name__}")
    ok = (_dt.int64, _dt.int32) if allow_int32 else (_dt.int64,)
    if index.dtype not in ok:
        raise RuntimeError(f"{op}(): Expected dtype int64 for index, got {index.dtype}")


def _check_bounds(index, size, dim, op):
    xp = index.backend.xp
    if index.numel() and (builtins.bool(xp.any(index._data >= size)) or builtins.bool(xp.any(index._data < -size)
                                                                                      if op == "index_select_neg"
                                                                                      else xp.any(index._data < 0))):
        raise RuntimeError(f"{op}(): index out of bounds for dimension {dim} with size {size}")


def _check_gather_shapes(x, dim, index, op, src=None):
    if index.ndim != x.ndim and not (index.ndim <= 1 and x.ndim <= 1):
        raise RuntimeError(f"{op}(): Index tensor must have the same number of dimensions as "
                           f"{'self' if op != 'gather' else 'input'} tensor")
    for k in range(index.ndim):
        if k != dim and index.shape[k] > x.shape[k]:
            raise RuntimeError(f"{op}(): Size does not match at dimension {k} expected index {tuple(index.shape)} "
                               f"to be no larger than self {tuple(x.shape)} apart from dimension {dim}")
        if src is not None and index.shape[k] > src.shape[k]:
            raise RuntimeError(f"{op}(): Expected index {tuple(index.shape)} to be no larger than src "
                               f"{tuple(src.shape)} in every dimension")


def _title(dtype):
    """torch's kernel-dispatch name of a dtype: 'Float', 'Long', 'Int'..."""
    return {"float32": "Float", "float64": "Double", "float16": "Half", "int64": "Long", "int32": "Int",
            "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool"}.get(str(dtype).split(".")[-1], str(dtype))


def _as1d(x, index):
    """0-d operands of gather/scatter work as 1-element 1-d ones."""
    return (x.reshape(1) if x.ndim == 0 else x), (index.reshape(1) if index.ndim == 0 else index)


class IndexMethods:
    """Index-driven, sorting and miscellaneous ops of ``Tensor`` (a mixin)."""

    __slots__ = ()

    # ------------------------------------------------------------ gather / scatter
    def gather(self, dim, index, *, sparse_grad=False):
        """out[i][j][k] = self[i][index[i][j][k]][k] (dim=1); differentiable in self."""
        _int_index(index, "gather")
        d = _dim(dim, self.ndim, "gather")
        _check_gather_shapes(self, d, index, "gather")
        x, idx = _as1d(self, index)
        _check_bounds(idx, x.shape[d], d, "gather")
        out = G.Gather.apply(x, d, idx)
        return out.reshape(()) if index.ndim == 0 else out

    def _scatter(self, op, dim, index, src, value, reduce):
        _int_index(index, op)
        if reduce == "add":  # scatter(..., reduce='add') is scatter_add
            op = "scatter_add" + op[len("scatter"):]
        elif reduce is not None:
            raise NotImplementedError(f"{op}(): reduce={reduce!r} is not supported (only 'add'); use scatter_add")
        if src is None and value is None:
            raise TypeError(f"{op}() missing 1 required argument: 'src' (or 'value')")
        if src is not None and not isinstance(src, Tensor):
            src, value = None, src
        d = _dim(dim, self.ndim, op)
        if src is not None:
            if src.dtype is not self.dtype:
                raise RuntimeError(f"{op}(): Expected self.dtype to be equal to src.dtype")
            _check_gather_shapes(self, d, index, op, src)
        else:
            _check_gather_shapes(self, d, index, op)
            from .creation import full

            src = full(tuple(index.shape), value, dtype=self.dtype, device=self.device)
        x, idx = _as1d(self, index)
        s = src.reshape(1) if src.ndim == 0 else src
        _check_bounds(idx, x.shape[d], d, op)
        fn = G.ScatterAdd if op.startswith("scatter_add") else G.Scatter
        out = fn.apply(x, d, idx, s)
        return out.reshape(()) if self.ndim == 0 else out

    def scatter(self, dim, index, src=None, value=None, *, reduce=None):
        """A copy of self with src (or value) written at ``index`` along ``dim``; differentiable in self and src."""
        return self._scatter("scatter", dim, index, src, value, reduce)

    def scatter_(self, dim, index, src=None, value=None, *, reduce=None):
        return self._inplace("scatter_", lambda s: s._scatter("scatter_", dim, index, src, value, reduce), src)

    def scatter_add(self, dim, index, src):
        """A copy of self with src added at ``index`` along ``dim`` (repeated indices accumulate)."""
        if not isinstance(src, Tensor):
            raise TypeError(f"scatter_add(): argument 'src' must be Tensor, not {type(src).__name__}")
        return self._scatter("scatter_add", dim, index, src, None, None)

    def scatter_add_(self, dim, index, src):
        return self._inplace("scatter_add_", lambda s: s.scatter_add(dim, index, src), src)

    def index_select(self, dim, index):
        """The slices self[..., index[i], ...] along ``dim`` (index 1-d, int64 or int32)."""
        _int_index(index, "index_select", allow_int32=True)
        if index.ndim > 1:
            raise IndexError("index_select(): Index is supposed to be a vector")
        d = _dim(dim, self.ndim, "index_select")
        x = self.reshape(1) if self.ndim == 0 else self
        idx = index.reshape(-1)
        if idx.numel() and (builtins.bool(idx.backend.xp.any(idx._data >= x.shape[d]))
                            or builtins.bool(idx.backend.xp.any(idx._data < 0))):
            raise IndexError("index out of range in self")
        key = (slice(None),) * d + (idx._data,) + (slice(None),) * (x.ndim - d - 1)
        out = I.GetItem.apply(x, key, True)
        return out.reshape(()) if self.ndim == 0 else out

    def index_add(self, dim, index, source, *, alpha=1):
        """self with alpha * source[i] added to the slice index[i] along ``dim`` (repeats accumulate)."""
        _int_index(index, "index_add", allow_int32=True)
        if index.ndim > 1:
            raise IndexError("index_add_(): Index is supposed to be a vector")
        d = _dim(dim, self.ndim, "index_add")
        if source.dtype is not self.dtype:
            raise RuntimeError(f"index_add_(): self ({self.dtype}) and source ({source.dtype}) must have the same "
                               "scalar type")
        idx = index.reshape(-1)
        exp = tuple(idx.shape[0] if k == d else s for k, s in enumerate(self.shape))
        if self.ndim and tuple(source.shape) != exp:
            raise RuntimeError(f"index_add_(): source {tuple(source.shape)} must have the shape of self with "
                               f"dim {d} of index's size {exp}")
        _check_bounds(idx, self.shape[d] if self.ndim else 1, d, "index_add_")
        key = (slice(None),) * d + (idx._data,) + (slice(None),) * (self.ndim - d - 1)
        src = source * alpha if alpha != 1 else source
        return self + I.IndexAdd.apply(src, self._data.shape, key, True)

    def index_add_(self, dim, index, source, *, alpha=1):
        return self._inplace("index_add_", lambda s: s.index_add(dim, index, source, alpha=alpha), source)

    def take_along_dim(self, indices, dim=None):
        """gather with broadcasting: self and indices broadcast except along ``dim``; dim=None: flat."""
        _int_index(indices, "take_along_dim")
        if dim is None:
            return self.reshape(-1).gather(0, indices.reshape(-1))
        d = _dim(dim, self.ndim, "take_along_dim")
        if indices.ndim != self.ndim:
            raise RuntimeError("torch.take_along_dim(): input and indices should have the same number of "
                               f"dimensions, but got {self.ndim} dimensions for input, and {indices.ndim} "
                               "dimensions for indices")
        from .creation import _broadcast_shape

        bs = list(_broadcast_shape(tuple(s for k, s in enumerate(self.shape) if k != d),
                                   tuple(s for k, s in enumerate(indices.shape) if k != d), op="take_along_dim"))
        xs, ids = list(bs), list(bs)
        xs.insert(d, self.shape[d])
        ids.insert(d, indices.shape[d])
        return self.expand(tuple(xs)).gather(d, indices.expand(tuple(ids)))

    # ------------------------------------------------------------ cumulative / reorder
    def cumsum(self, dim, *, dtype=None):
        """Running sum along ``dim``; integers and bools accumulate in int64 (as torch)."""
        x = self._cum_input(dtype)
        d = _dim(dim, self.ndim, "cumsum")
        if self.ndim == 0:
            return x.clone()
        return C.Cumsum.apply(x, d)

    def cumprod(self, dim, *, dtype=None):
        """Running product along ``dim`` (gradient exact where x has zeros)."""
        x = self._cum_input(dtype)
        d = _dim(dim, self.ndim, "cumprod")
        if self.ndim == 0:
            return x.clone()
        return C.Cumprod.apply(x, d)

    def _cum_input(self, dtype):
        if dtype is not None:
            return self.to(dtype)
        if not self.dtype.is_floating_point:
            return self.to(_dt.int64)
        return self

    def flip(self, *dims):
        if len(dims) == 1 and isinstance(dims[0], (list, tuple)):
            dims = tuple(dims[0])
        ds = tuple(_dim(d, self.ndim, "flip") for d in dims)
        if len(set(ds)) != len(ds):
            raise RuntimeError(f"flip(): dims has a duplicate: {dims}")
        if self.ndim == 0 or not ds:
            return self.clone()
        return C.Flip.apply(self, ds)

    def fliplr(self):
        if self.ndim < 2:
            raise RuntimeError("fliplr(): Input must be >= 2-d.")
        return self.flip(1)

    def flipud(self):
        if self.ndim < 1:
            raise RuntimeError("flipud(): Input must be >= 1-d.")
        return self.flip(0)

    def roll(self, shifts, dims=None):
        """Cyclic shift by ``shifts`` along ``dims`` (all elements, flattened, when dims is None)."""
        if isinstance(shifts, (list, tuple)) and dims is None:
            if len(shifts) != 1:
                raise RuntimeError(f"roll(): shifts ({len(shifts)}) and dimensions (0) must align")
            shifts = shifts[0]
        if dims is None:
            return C.Roll.apply(self, builtins.int(shifts), None)
        sh = tuple(shifts) if isinstance(shifts, (list, tuple)) else (shifts,)
        ds = tuple(dims) if isinstance(dims, (list, tuple)) else (dims,)
        if len(sh) != len(ds):
            raise RuntimeError(f"roll(): shifts and dimensions must align. shifts: {len(sh)}, dims:{len(ds)}")
        ds = tuple(_dim(d, self.ndim, "roll") for d in ds)
        return C.Roll.apply(self, tuple(builtins.int(s) for s in sh), ds)

    def _tri(self, diagonal, upper):
        op = "triu" if upper else "tril"
        if self.ndim < 2:
            raise RuntimeError(f"{op}: input tensor must have at least 2 dimensions")
        xp = self.backend.xp
        n, m = self.shape[-2], self.shape[-1]
        r = xp.arange(n, device=self.backend.device)[:, None]
        c = xp.arange(m, device=self.backend.device)[None, :]
        drop = (c - r < diagonal) if upper else (c - r > diagonal)
        return self.masked_fill(_wrap(drop, self.backend), 0)

    def tril(self, diagonal=0):
        """The lower triangle (j - i <= diagonal) of the last two dims; the rest is 0."""
        return self._tri(diagonal, False)

    def triu(self, diagonal=0):
        """The upper triangle (j - i >= diagonal) of the last two dims; the rest is 0."""
        return self._tri(diagonal, True)

    # ------------------------------------------------------------ sorting
    def argsort(self, dim=-1, descending=False, stable=False):
        """Indices that sort along ``dim`` (a stable sort; nan counts as the largest value, as torch)."""
        if self.dtype is _dt.bool_:
            return self.to(_dt.uint8).argsort(dim, descending, stable)
        if self.ndim == 0:
            from .creation import zeros

            return zeros((), dtype=_dt.int64, device=self.device)
        d = _dim(dim, self.ndim, "argsort")
        return _wrap(self.backend.argsort(self._data, d, builtins.bool(descending)), self.backend)

    def sort(self, dim=-1, descending=False, *, stable=False):
        """(values, indices) sorted along ``dim``; values are differentiable (a gather)."""
        idx = self.argsort(dim, descending, stable)
        if self.ndim == 0:
            return SortResult(self.clone(), idx)
        return SortResult(self.gather(dim, idx), idx)

    def msort(self):
        return self.sort(0).values

    def topk(self, k, dim=-1, largest=True, sorted=True):
        """(values, indices) of the k largest (smallest) along ``dim``, in order; values differentiable."""
        n = self.shape[dim] if self.ndim else 1
        if not 0 <= k <= n:
            raise RuntimeError(f"topk(): selected index k out of range (k={k}, size {n})")
        idx = self.argsort(dim, descending=largest)
        if self.ndim == 0:
            return TopkResult(self.clone(), idx)
        d = _dim(dim, self.ndim, "topk")
        idx = idx.narrow(d, 0, k)
        return TopkResult(self.gather(d, idx), idx)

    def unique(self, sorted=True, return_inverse=False, return_counts=False, dim=None):
        """The distinct values (sorted), optionally the inverse map (x's shape) and the counts."""
        if dim is not None:
            raise NotImplementedError("unique(dim=...) is not supported; use dim=None")
        b = self.backend
        xp = b.xp
        flat = xp.reshape(self._data, (-1,))
        vals, _, inv, counts = xp.unique_all(flat)
        order = xp.argsort(vals)
        vals = xp.take(vals, order)
        out = [_wrap(vals, b)]
        if return_inverse:
            rank = xp.argsort(order)
            out.append(_wrap(xp.reshape(xp.astype(xp.take(rank, xp.reshape(inv, (-1,))), xp.int64),
                                        self._data.shape), b))
        if return_counts:
            out.append(_wrap(xp.astype(xp.take(counts, order), xp.int64), b))
        return out[0] if len(out) == 1 else tuple(out)

    # ------------------------------------------------------------ selection / tests
    def nonzero(self, *, as_tuple=False):
        """Indices of the nonzero elements: an (n, ndim) int64 tensor, or one 1-d tensor per dim."""
        b = self.backend
        xp = b.xp
        data = self._data if self.ndim else xp.reshape(self._data, (1,))
        idx = [xp.astype(i, xp.int64) for i in xp.nonzero(data != 0 if data.dtype != xp.bool else data)]
        if as_tuple:
            if self.ndim == 0:
                return (_wrap(idx[0], b),)
            return tuple(_wrap(i, b) for i in idx)
        if self.ndim == 0:
            return _wrap(xp.zeros((idx[0].shape[0], 0), dtype=xp.int64, device=b.device), b)
        return _wrap(xp.stack(idx, axis=1), b)

    def argwhere(self):
        return self.nonzero()

    def where(self, condition, other):
        """``torch.where(condition, self, other)``."""
        from .creation import where

        return where(condition, self, other)

    def isnan(self):
        return _wrap(self.backend.xp.isnan(self._data), self.backend)

    def isinf(self):
        return _wrap(self.backend.xp.isinf(self._data), self.backend)

    def isfinite(self):
        return _wrap(self.backend.xp.isfinite(self._data), self.backend)

    def isposinf(self):
        return self.isinf() & (self > 0)

    def isneginf(self):
        return self.isinf() & (self < 0)

    def isclose(self, other, rtol=1e-05, atol=1e-08, equal_nan=False):
        """|self - other| <= atol + rtol * |other| elementwise (infinities equal when equal; bool result)."""
        if self.dtype is not other.dtype:
            raise RuntimeError(f"isclose(): {self.dtype} did not match {other.dtype}")
        xp = self.backend.xp
        a, o = self._data, other._data
        if self.dtype is _dt.bool_ or not self.dtype.is_floating_point:
            a, o = xp.astype(a, xp.float64), xp.astype(o, xp.float64)
        eq = a == o
        with_tol = xp.abs(a - o) <= atol + rtol * xp.abs(o)
        finite = xp.isfinite(a) & xp.isfinite(o)
        out = eq | (finite & with_tol)
        if equal_nan:
            out = out | (xp.isnan(a) & xp.isnan(o))
        return _wrap(out, self.backend)

    def allclose(self, other, rtol=1e-05, atol=1e-08, equal_nan=False):
        return builtins.bool(self.backend.xp.all(self.isclose(other, rtol, atol, equal_nan)._data))

    # ------------------------------------------------------------ diagonals
    def diagonal(self, offset=0, dim1=0, dim2=1):
        """The diagonal of the (dim1, dim2) planes, moved to the last dim; differentiable (a view in torch)."""
        d1, d2 = _dim(dim1, self.ndim, "diagonal"), _dim(dim2, self.ndim, "diagonal")
        if d1 == d2:
            raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
        rest = [k for k in range(self.ndim) if k not in (d1, d2)]
        x = self.permute(*rest, d1, d2)
        R, Cn = x.shape[-2], x.shape[-1]
        if offset >= 0:
            L = builtins.max(0, builtins.min(R, Cn - offset))
            rows, cols = range(L), range(offset, offset + L)
        else:
            L = builtins.max(0, builtins.min(R + offset, Cn))
            rows, cols = range(-offset, -offset + L), range(L)
        from .creation import tensor

        lin = tensor([r * Cn + c for r, c in zip(rows, cols)], dtype=_dt.int64, device=self.device)
        return x.reshape(tuple(x.shape[:-2]) + (R * Cn,)).index_select(-1, lin)

    def diag(self, diagonal=0):
        """1-d input: a square matrix with it on the ``diagonal``-th diagonal; 2-d: that diagonal."""
        if self.ndim == 2:
            return self.diagonal(diagonal)
        if self.ndim != 1:
            raise RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {self.ndim}D")
        n = self.shape[0]
        m = n + builtins.abs(diagonal)
        from .creation import tensor

        lin = [(i if diagonal >= 0 else i - diagonal) * m + (i + diagonal if diagonal >= 0 else i) for i in range(n)]
        key = (tensor(lin, dtype=_dt.int64, device=self.device)._data,)
        return I.IndexAdd.apply(self, (m * m,), key, True).reshape(m, m)

    def trace(self):
        if self.ndim != 2:
            raise RuntimeError(f"trace: expected a matrix, but got tensor with dim {self.ndim}")
        d = self.diagonal()
        return d.sum()

    # ------------------------------------------------------------ repetition
    def tile(self, *dims):
        if len(dims) == 1 and isinstance(dims[0], (list, tuple)):
            dims = tuple(dims[0])
        dims = (1,) * (self.ndim - len(dims)) + tuple(dims)
        x = self.reshape((1,) * (len(dims) - self.ndim) + tuple(self.shape))
        return x.repeat(*dims)

    def repeat_interleave(self, repeats, dim=None, *, output_size=None):
        """Each element (slice along ``dim``) repeated ``repeats`` times (an int or a per-element tensor)."""
        x = self.reshape(-1) if dim is None else self
        d = 0 if dim is None else _dim(dim, self.ndim, "repeat_interleave")
        n = x.shape[d] if x.ndim else 1
        b = self.backend
        xp = b.xp
        if isinstance(repeats, Tensor):
            if repeats.ndim > 1:
                raise RuntimeError("repeat_interleave(): repeats must be 0-dim or 1-dim tensor")
            r = repeats._data if repeats.ndim == 1 else xp.full((n,), repeats.item(), dtype=xp.int64, device=b.device)
            if r.shape[0] != n:
                raise RuntimeError("repeats must have the same size as input along dim, but got repeats.size(0) = "
                                   f"{r.shape[0]} and input.size({d}) = {n}")
            if builtins.bool(xp.any(r < 0)):
                raise RuntimeError("repeat_interleave(): repeats can not be negative")
            idx = _wrap(xp.repeat(xp.arange(n, dtype=xp.int64, device=b.device), r), b)
        else:
            if repeats < 0:
                raise RuntimeError("repeat_interleave(): repeats can not be negative")
            idx = _wrap(xp.repeat(xp.arange(n, dtype=xp.int64, device=b.device), builtins.int(repeats)), b)
        return x.index_select(d, idx)

    # ------------------------------------------------------------ special functions
    def erf(self):
        """erf(x) = 2/sqrt(pi) int_0^x exp(-t^2) dt."""
        return SP.Erf.apply(self)

    def log2(self):
        return SP.Log2.apply(self)

    def log10(self):
        return SP.Log10.apply(self)

    def erf_(self):
        return self._inplace("erf_", lambda s: s.erf())

    # ------------------------------------------------------------ counting
    def bincount(self, weights=None, minlength=0):
        """Counts of each value 0..max(x) of a 1-d non-negative integer tensor (weights: weighted sums)."""
        if self.dtype.is_floating_point:
            raise NotImplementedError(f"\"bincount_cpu\" not implemented for '{_title(self.dtype)}'")
        if self.ndim != 1 or self.dtype is _dt.bool_:
            raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
        b = self.backend
        xp = b.xp
        if self.numel() and builtins.bool(xp.any(self._data < 0)):
            raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
        n = builtins.max(builtins.int(xp.max(self._data)) + 1 if self.numel() else 0, minlength)
        if weights is None:
            vals, dt = xp.ones(self._data.shape, dtype=xp.int64, device=b.device), xp.int64
        else:
            if tuple(weights.shape) != tuple(self.shape):
                raise RuntimeError("weights should be 1-d and have the same length as input")
            dt = weights._data.dtype if weights.dtype.is_floating_point else xp.float64
            vals = xp.astype(weights._data, dt)
        return _wrap(b.index_add((n,), dt, (xp.astype(self._data, xp.int64),), vals), b)

    def histc(self, bins=100, min=0, max=0):
        """Histogram of ``bins`` equal bins over [min, max] (the data's range when min == max == 0);
        values outside are ignored; the last bin includes max."""
        if not self.dtype.is_floating_point:
            raise NotImplementedError(f"\"histogram_cpu\" not implemented for '{_title(self.dtype)}'")
        if bins <= 0:
            raise RuntimeError("torch.histc(): bins must be > 0")
        b = self.backend
        xp = b.xp
        lo, hi = builtins.float(min), builtins.float(max)
        if lo > hi:
            raise RuntimeError("torch.histc(): max must be larger than min")
        if lo == hi and self.numel():
            lo, hi = builtins.float(xp.min(self._data)), builtins.float(xp.max(self._data))
        if lo == hi:
            lo, hi = lo - 1, hi + 1
        x = self._data
        keep = (x >= lo) & (x <= hi)
        pos = xp.astype(xp.floor((x - lo) * (bins / (hi - lo))), xp.int64)
        pos = xp.clip(pos, 0, bins - 1)
        ones = xp.astype(keep, x.dtype)
        return _wrap(b.index_add((bins,), x.dtype, (xp.reshape(pos, (-1,)),), xp.reshape(ones, (-1,))), b)

    # ------------------------------------------------------------ products (torch's shape checks)
    def mm(self, mat2):
        if self.ndim != 2 or mat2.ndim != 2:
            raise RuntimeError(f"mm: expected 2-D tensors, got {self.ndim}-D and {mat2.ndim}-D")
        return self @ mat2

    def bmm(self, mat2):
        if self.ndim != 3 or mat2.ndim != 3:
            raise RuntimeError(f"bmm: expected 3-D tensors, got {self.ndim}-D and {mat2.ndim}-D")
        if self.shape[0] != mat2.shape[0]:
            raise RuntimeError(f"bmm: batch sizes differ: {self.shape[0]} and {mat2.shape[0]}")
        return self @ mat2

    def dot(self, other):
        if self.ndim != 1 or other.ndim != 1:
            raise RuntimeError(f"1D tensors expected, but got {self.ndim}D and {other.ndim}D tensors")
        if self.shape[0] != other.shape[0]:
            raise RuntimeError("inconsistent tensor size, expected tensor [%d] and src [%d] to have the same "
                               "number of elements, but got %d and %d elements respectively"
                               % (self.shape[0], other.shape[0], self.shape[0], other.shape[0]))
        return self @ other

    inner = dot

    def mv(self, vec):
        if self.ndim != 2 or vec.ndim != 1:
            raise RuntimeError(f"vector + matrix @ vector expected, got {self.ndim}, {vec.ndim}")
        return self @ vec

    def outer(self, vec2):
        if self.ndim != 1 or vec2.ndim != 1:
            raise RuntimeError(f"outer: expected 1-D tensors, got {self.ndim}-D and {vec2.ndim}-D")
        return self.unsqueeze(-1) * vec2

    ger = outer

    def half(self):
        return self.to(_dt.float16)
