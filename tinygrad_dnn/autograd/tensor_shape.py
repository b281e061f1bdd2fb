"""``Tensor``'s shape ops and indexing: ``reshape``/``view``, ``permute``/``transpose``, ``squeeze``,
``expand``, ``split``, ``x[key]`` and ``x[key] = v``. Most return views (``views.py``).
"""
from __future__ import annotations

import builtins

from . import dtype as _dt
from . import views as _views
from .errors import check_same_device
from .grad_mode import _grad_enabled
from .ops import index as I
from .ops import reduce as R
from .ops import shape as S

Tensor = _wrap = None  # bound by tensor.py once the class exists (this module is imported first)


def _bind(tensor_cls, wrap):
    global Tensor, _wrap
    Tensor, _wrap = tensor_cls, wrap


class ShapeMethods:
    """Shape ops and indexing of ``Tensor`` (a mixin)."""

    __slots__ = ()

    # ------------------------------------------------------------ shape
    def reshape(self, *shape):
        if len(shape) == 1 and isinstance(shape[0], (tuple, list, Size)):
            shape = tuple(shape[0])
        shape = _infer_shape(shape, self.numel(), "reshape", self._data.shape)
        if shape == self._data.shape:
            return self
        _views.ensure_array(self)  # a NumPy scalar (0-d reduction result): give it memory to view
        out = S.Reshape.apply(self, shape)
        if self.backend.may_share_memory(out._data, self._data):  # a view when the layout allows it
            _views.make_view(self, out, lambda b: b.reshape(shape))
        return out

    def view(self, *shape):
        """Like ``reshape`` but always a view: raises if the memory layout does not allow one (as PyTorch)."""
        if len(shape) == 1 and isinstance(shape[0], (tuple, list, Size)):
            shape = tuple(shape[0])
        out = self.reshape(*shape)
        if out is not self and out._view is None and out.numel() > 1:
            raise RuntimeError(
                f"view: view size {tuple(out.shape)} is not compatible with input tensor's size "
                f"{tuple(self.shape)} and stride (at least one dimension spans across two contiguous subspaces). "
                "Use .reshape(...) instead (or .contiguous().view(...)).")
        return out

    def narrow(self, dim, start, length):
        """The view ``x[..., start:start + length, ...]`` along ``dim``."""
        dim = dim % builtins.max(self.ndim, 1)
        n = self._data.shape[dim]
        if start < 0:
            start += n
        if not (0 <= start <= n and 0 <= length <= n - start):
            raise IndexError(f"narrow: start ({start}) + length ({length}) exceeds dimension size ({n}) of dim {dim}")
        return self[(slice(None),) * dim + (slice(start, start + length),)]

    def is_contiguous(self):
        return self.backend.is_contiguous(self._data)

    def view_as(self, other):
        return self.reshape(other.shape)

    def reshape_as(self, other):
        return self.reshape(other.shape)

    def flatten(self, start_dim=0, end_dim=-1):
        nd = self.ndim
        if nd == 0:
            return self.reshape(1)
        s, e = start_dim % nd, end_dim % nd
        shp = self._data.shape
        n = 1
        for d in shp[s:e + 1]:
            n *= d
        return self.reshape(shp[:s] + (n,) + shp[e + 1:])

    def unflatten(self, dim, sizes):
        dim = dim % self.ndim
        shp = self._data.shape
        return self.reshape(shp[:dim] + tuple(sizes) + shp[dim + 1:])

    def permute(self, *dims):
        if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
            dims = tuple(dims[0])
        nd = self.ndim
        dims = tuple(d % nd for d in dims)
        if sorted(dims) != list(range(nd)):
            raise ValueError(f"permute: dims {dims} are not a permutation of a {nd}-d tensor's dims")
        if dims == tuple(range(nd)):
            return self
        return _views.make_view(self, S.Permute.apply(self, dims), lambda b: b.permute(dims))

    def transpose(self, dim0, dim1):
        nd = self.ndim
        p = list(range(nd))
        d0, d1 = dim0 % nd, dim1 % nd
        p[d0], p[d1] = p[d1], p[d0]
        return self.permute(*p)

    swapaxes = transpose

    def t(self):
        if self.ndim > 2:
            raise RuntimeError(f"t(): expects a tensor with <= 2 dims, got {self.ndim}; use transpose(dim0, dim1)")
        return self.transpose(0, 1) if self.ndim == 2 else self

    def squeeze(self, dim=None):
        shp = self._data.shape
        if dim is None:
            new = tuple(s for s in shp if s != 1)
        else:
            dims = R.norm_dims(dim, self.ndim, "squeeze")
            new = tuple(s for i, s in enumerate(shp) if not (i in dims and s == 1))
        return self.reshape(new)

    def unsqueeze(self, dim):
        nd = self.ndim + 1
        if not -nd <= dim < nd:
            raise IndexError(f"unsqueeze: dim {dim} out of range for a tensor with {self.ndim} dims")
        dim = dim % nd
        shp = self._data.shape
        return self.reshape(shp[:dim] + (1,) + shp[dim:])

    def expand(self, *shape):
        if len(shape) == 1 and isinstance(shape[0], (tuple, list, Size)):
            shape = tuple(shape[0])
        shp = self._data.shape
        lead = len(shape) - len(shp)
        if lead < 0:
            raise RuntimeError(f"expand: cannot expand shape {tuple(shp)} to {tuple(shape)} (fewer dims)")
        for i in range(lead):
            if shape[i] == -1:
                raise RuntimeError(f"expand: the expanded size of the tensor (-1) isn't allowed in a leading, "
                                   f"non-existing dimension {i} (shape {tuple(shp)} to {tuple(shape)})")
        full = tuple(shp[i - lead] if s == -1 else s for i, s in enumerate(shape))
        for i, s in enumerate(shp):
            if s != 1 and s != full[i + lead]:
                raise RuntimeError(f"expand: cannot expand shape {tuple(shp)} to {tuple(shape)}: "
                                   f"dim {i} has size {s}, expected 1 or {full[i + lead]}")
        if full == shp:
            return self
        _views.ensure_array(self)
        return _views.make_view(self, S.Expand.apply(self, full), lambda b: b.expand(full))

    broadcast_to = expand

    def expand_as(self, other):
        return self.expand(other.shape)

    def repeat(self, *sizes):
        if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
            sizes = tuple(sizes[0])
        t = self.reshape((1,) * (len(sizes) - self.ndim) + tuple(self._data.shape))
        shp = t._data.shape
        inter = []
        for r, s in zip(sizes, shp):
            inter += [r, s]
        t = t.reshape(tuple(x for s in shp for x in (1, s))).expand(tuple(inter))
        return t.reshape(tuple(r * s for r, s in zip(sizes, shp)))

    def split(self, split_size_or_sections, dim=0):
        n = self._data.shape[dim]
        if isinstance(split_size_or_sections, int):
            sizes = [split_size_or_sections] * (n // split_size_or_sections)
            if n % split_size_or_sections:
                sizes.append(n % split_size_or_sections)
        else:
            sizes = list(split_size_or_sections)
            if builtins.sum(sizes) != n:
                raise ValueError(f"split: sections {sizes} do not add up to size {n} of dim {dim}")
        out, start = [], 0
        idx = [slice(None)] * self.ndim
        for s in sizes:
            idx[dim] = slice(start, start + s)
            out.append(self[tuple(idx)])
            start += s
        return tuple(_views.mark_multi(out))

    def chunk(self, chunks, dim=0):
        n = self._data.shape[dim]
        return self.split(-(-n // chunks), dim)

    def unbind(self, dim=0):
        return tuple(t.squeeze(dim) for t in self.split(1, dim))

    def __getitem__(self, key):
        if key.__class__ is tuple and len(key) > 1 and builtins.any(k is None for k in key):
            x, key = _unsqueeze_nones(self, key)
            if x is not self:
                return x[key]
        key, advanced, inserts = _normalize_key(self, key)
        if advanced:  # integer-array / mask indexing copies
            out = I.GetItem.apply(self, key, True)
        elif key != ():  # basic indexing is a view (x[1, 2] too: a 0-d view, not a copied scalar)
            if len(key) == self._data.ndim and builtins.all(k.__class__ is builtins.int for k in key):
                key = key + (Ellipsis,)
            out = _select(self, key)
        else:
            out = self
        if inserts:
            shp = list(out._data.shape)
            for pos in inserts:
                shp.insert(pos, 1)
            out = out.reshape(tuple(shp))
        return out

    def __setitem__(self, key, value):
        """``x[key] = value``: in place, recorded in the graph when ``x`` or ``value`` requires grad."""
        key, advanced, _ = _normalize_key(self, key)
        if not advanced and len(key) == self._data.ndim and builtins.all(k.__class__ is builtins.int for k in key):
            key = key + (Ellipsis,)
        if isinstance(value, Tensor):
            if value.backend is not self.backend:
                check_same_device("setitem", tensor=self, value=value)
        elif not isinstance(value, (builtins.int, builtins.float, builtins.bool)):
            from .creation import tensor

            value = tensor(value, dtype=self.dtype, device=self.device)
        if isinstance(value, Tensor) and not advanced:
            _views.check_overlap("__setitem__", self, value, self._data[key])
        vreq = isinstance(value, Tensor) and value.requires_grad
        if not (_grad_enabled[0] and (self.requires_grad or vreq)) and self.backend.writable(self._data):
            # nothing to record: write straight into memory (no copy of the whole tensor)
            v = value._data if isinstance(value, Tensor) else value
            if isinstance(value, Tensor) and v.dtype != self._data.dtype:
                if value.dtype.is_floating_point and not self.dtype.is_floating_point:
                    raise RuntimeError(f"__setitem__: value of type {value.dtype} can't be cast to the tensor's "
                                       f"type {self.dtype}; convert one of them first")
                v = self.backend.xp.astype(v, self._data.dtype)
            self.backend.index_put_(self._data, key, v)
            _views.bump(self)
            return
        _views.apply_inplace(self, "__setitem__", lambda s: _views.IndexPut.apply(s, key, advanced, value))


def _infer_shape(shape, numel, op, old):
    shape = tuple(int(s) for s in shape)
    if -1 in shape:
        known = 1
        for s in shape:
            if s != -1:
                known *= s
        if shape.count(-1) > 1 or known == 0 or numel % known:
            raise RuntimeError(f"{op}: shape {shape} is invalid for input of shape {tuple(old)} ({numel} elements)")
        shape = tuple(numel // known if s == -1 else s for s in shape)
    n = 1
    for s in shape:
        n *= s
    if n != numel:
        raise RuntimeError(f"{op}: shape {shape} is invalid for input of shape {tuple(old)} ({numel} elements)")
    return shape


def _unsqueeze_nones(t, key):
    """``x[None, idx]`` with an index array: torch's meaning, ``x.unsqueeze(0)[:, idx]`` (each None a new
    size-1 dim indexed by a full slice). Only used when the key mixes None with tensor/list indices."""
    if not builtins.any(isinstance(k, (Tensor, list)) or (hasattr(k, "shape") and not isinstance(k, Tensor))
                        for k in key):
        return t, key
    e = next((i for i, k in enumerate(key) if k is Ellipsis), None)
    if e is not None:
        n_index = builtins.sum(k.ndim if isinstance(k, Tensor) and k.dtype is _dt.bool_ else 1
                               for k in key if k is not None and k is not Ellipsis)
        key = key[:e] + (slice(None),) * (t.ndim - n_index) + key[e + 1:]
    out, pos = [], 0
    for k in key:
        if k is None:
            t = t.unsqueeze(pos)
            out.append(slice(None))
            pos += 1
        else:
            out.append(k)
            pos += k.ndim if isinstance(k, Tensor) and k.dtype is _dt.bool_ else 1
    return t, tuple(out)


def _normalize_key(t, key):
    """Turn a user index into (backend key, is_advanced, positions of inserted None dims)."""
    if not isinstance(key, tuple):
        key = (key,)
    xp = t.backend.xp
    out, advanced, inserts = [], False, []
    # expand Ellipsis so None positions can be computed
    n_index = builtins.sum(1 for k in key if k is not None and k is not Ellipsis
                           and not (isinstance(k, Tensor) and k.dtype is _dt.bool_))
    n_index += builtins.sum(k.ndim for k in key if isinstance(k, Tensor) and k.dtype is _dt.bool_)
    if builtins.sum(1 for k in key if k is Ellipsis) > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")
    expanded = []
    for k in key:
        if k is Ellipsis:
            expanded += [slice(None)] * (t.ndim - n_index)
        else:
            expanded.append(k)
    if n_index > t.ndim:
        raise IndexError(f"too many indices for a tensor of dimension {t.ndim} (got {n_index})")
    out_dim = 0
    for k in expanded:
        if k is None:
            inserts.append(out_dim)
            out_dim += 1
            continue
        if isinstance(k, (list, tuple)) or (hasattr(k, "shape") and not isinstance(k, Tensor)):
            from .creation import tensor

            k = tensor(k, device=t.device)
        if isinstance(k, Tensor):
            if k.backend is not t.backend:
                check_same_device("getitem", tensor=t, index=k)
            advanced = True
            if k.dtype is _dt.bool_:
                out.extend(xp.nonzero(k._data))
            elif k.dtype.is_floating_point:
                raise IndexError(f"tensors used as indices must be integer or bool, got {k.dtype}")
            else:
                out.append(k._data)
            out_dim += 1
            continue
        if isinstance(k, slice):
            out.append(k)
            out_dim += 1
        elif isinstance(k, (builtins.int,)) or hasattr(k, "__index__"):
            out.append(builtins.int(k))
        else:
            raise IndexError(f"unsupported index of type {type(k).__name__}")
    if len(out) < t.ndim:  # the Array API wants every dim indexed (bool masks already expanded)
        out += [slice(None)] * (t.ndim - len(out))
    if inserts and advanced:
        raise IndexError("combining None with integer-array or boolean indexing is not supported; "
                         "index first, then unsqueeze()")
    return tuple(out), advanced, inserts


def _select(t, key):
    """Basic indexing (a normalized key of ints and slices): a view of ``t``."""
    return _views.make_view(t, I.GetItem.apply(t, key, False), lambda b: _select(b, key))


class Size(tuple):
    """``tensor.shape``: a tuple (as ``torch.Size``)."""

    def numel(self):
        n = 1
        for s in self:
            n *= s
        return n

    def __repr__(self):
        return f"torch.Size({list(self)})"
