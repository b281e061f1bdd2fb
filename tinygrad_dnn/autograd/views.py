"""Views and in-place operations, as PyTorch does them.

A **view** is a tensor that shares memory with another one: ``x[0]``, ``x[1:, ::2]``, ``x.t()``,
``x.view(6)``, ``x.expand(3, 4)``, ``x.unsqueeze(0)``... Writing into a view writes into its base::

    x = zeros(3, 4)
    x[1, 2].add_(1)        # x[1, 2] is now 1
    x.t()[0].fill_(5)      # column 0 of x is now 5

Three pieces of bookkeeping make that safe for autograd.

1. **One version counter per memory block** (:class:`Storage`). Every in-place op bumps it;
   ``ctx.save_for_backward`` records it and backward refuses to use a value that changed since.
   A tensor starts with a plain ``int`` counter (cheap); the first time a view (or ``detach()``) of
   it is made, or it is modified, the counter becomes a shared ``Storage`` object, so writing through
   *any* alias is seen by *every* alias. An op that saved its output (exp' = exp) watches the
   output's counter from that moment on (``ctx._out_vc``).

2. **Views know their base** (``t._view = (base, view_fn, kind)``): ``base`` is the tensor
   that owns the memory (never itself a view) and ``view_fn(base)`` recomputes the view with
   differentiable Tensor ops (``lambda b: b[1:].t()``). ``kind`` is ``VIEW``, ``NO_GRAD_VIEW`` (made
   under ``no_grad()``) or ``MULTI_VIEW`` (one of several outputs of ``split``/``unbind``/``chunk``);
   as in PyTorch, an in-place op on the last two that would be recorded in the graph is refused.

3. **In-place ops are recorded in the graph.** ``t.op_(...)`` is computed as ``r = op(t)`` out of
   place, then ``r`` is written into ``t``'s memory and:

   * if ``t`` is not a view: ``t.grad_fn`` becomes ``r.grad_fn`` (``h = w * 2; h += 1`` gives
     ``h.grad_fn = AddBackward`` whose input is the old ``MulBackward``);
   * if ``t`` is a view of ``base``: the *base* gets a new history, :class:`CopySlices`:
     "new base = old base with the region ``view_fn`` replaced by ``r``". Its backward sends
     the gradient of that region to ``r`` (and from there through ``op``) and the gradient of
     everything else to the old base. Every live view of the base then re-derives its
     ``grad_fn`` from the new base (``view_fn(base)``).

   If ``op``'s backward needs the value ``t`` had *before* the write (``mul_`` by a tensor that
   requires grad), that value is copied first (PyTorch's "original self").

Refused, as in PyTorch: an in-place op on a leaf that requires grad (or on a view of one) in grad
mode; writing into an ``expand()``ed view (several elements share one memory location); an operand
that partially overlaps the memory being written (``x[1:].add_(x[:-1])``).

What happens when you write ``x[0] += 1`` (Python runs ``v = x[0]; v += 1; x[0] = v``) is drawn
in docs/architecture.md.
"""
from __future__ import annotations

import sys
import weakref

from .function import Function
from .grad_mode import _grad_enabled

Tensor = _wrap = None  # bound by tensor.py


def _bind(tensor_cls, wrap):
    global Tensor, _wrap
    Tensor, _wrap = tensor_cls, wrap


class Storage:
    """The version counter (and the list of live views) shared by all tensors aliasing one memory block."""

    # class-level defaults and no __init__: every op that saves its output makes one, so keep it cheap
    version = 0
    views = None  # list of weakrefs to views, created with the first view
    _prune_at = 16

    def add_view(self, view):
        views = self.views
        if views is None:
            views = self.views = []
        views.append(weakref.ref(view))
        if len(views) >= self._prune_at:  # drop dead views now and then (amortized O(1))
            views[:] = [r for r in views if r() is not None]
            self._prune_at = 2 * len(views) + 16

    def live_views(self):
        return [v for v in (r() for r in self.views or ()) if v is not None]


def storage(t):
    """``t``'s shared version counter, created on first use (the plain int counter is moved into it).

    If ``t`` is the output an op saved for backward (exp, sigmoid, ...), that op's node starts watching
    the counter now: until then nothing could have changed the output (every write goes through here).
    """
    vc = t._vc
    if vc.__class__ is int:
        n, vc = vc, Storage()
        if n:
            vc.version = n
        t._vc = vc
        ctx = t.grad_fn
        if ctx is not None and ctx._out is not None and ctx._out_vc is None:
            ctx._out_vc, ctx._out_v = vc, n
    return vc


def bump(t):
    """Record that ``t``'s memory was modified (every alias sees the new version)."""
    storage(t).version += 1


VIEW, NO_GRAD_VIEW, MULTI_VIEW = 0, 1, 2


def make_view(src, out, fn):
    """Mark ``out`` (computed from ``src`` by ``fn``, sharing its memory) as a view of ``src``'s base."""
    kind = VIEW if _grad_enabled[0] else NO_GRAD_VIEW
    if src._view is None:
        base, full = src, fn
    else:
        base, prev, k = src._view
        full = (lambda b: fn(prev(b)))
        kind = k or kind
    out._view = (base, full, kind)
    st = storage(base)
    out._vc = st
    if kind == VIEW:  # only views recorded in the graph are re-derived after an in-place op on the base
        st.add_view(out)
    return out


def mark_multi(views):
    """``views`` are the outputs of one split/unbind/chunk call (in-place on them is refused with grad)."""
    for v in views:
        if v._view is not None and v._view[2] == VIEW:
            v._view = (v._view[0], v._view[1], MULTI_VIEW)
    return views


def alias(src, out):
    """``out`` shares ``src``'s memory and version counter but is not a view in the graph sense (``detach()``)."""
    ensure_array(src)
    out._data = src._data
    out._vc = storage(src)
    if src._view is not None:  # how to reach the memory if it is read-only (an expand()ed view)
        out._route = src._view[:2]
    elif not src.backend.writable(src._data) and getattr(src, "_route", None) is not None:
        out._route = src._route
    return out


# ------------------------------------------------------------------------ in-place
def check_inplace(t, op):
    """Raise as PyTorch for an in-place op on a leaf requiring grad (or a view of one) with grad mode on."""
    if not _grad_enabled[0]:
        return
    if t.requires_grad and t.grad_fn is None:
        raise RuntimeError(
            f"{op}: a leaf Variable that requires grad is being used in an in-place operation "
            f"(shape {tuple(t.shape)}). Wrap parameter updates in 'with torch.no_grad():', or use the "
            "out-of-place form (x = x + y).")
    if t._view is not None:
        base = t._view[0]
        if base.requires_grad and base.grad_fn is None:
            raise RuntimeError(
                f"{op}: a view of a leaf Variable that requires grad is being used in an in-place operation "
                f"(view shape {tuple(t.shape)}, leaf shape {tuple(base.shape)}). Modify it under "
                "'with torch.no_grad():' or clone() it first.")


def check_overlap(op, dst, src, where=None):
    """Raise as PyTorch when ``src`` partially overlaps the memory written (``where``, default ``dst``)."""
    if isinstance(src, Tensor) and src.backend is dst.backend and \
            dst.backend.overlap(dst._data if where is None else where, src._data) == 2:
        raise RuntimeError(
            f"{op}: unsupported operation: some elements of the input tensor (shape {tuple(src.shape)}) and the "
            f"written-to tensor (shape {tuple(dst.shape)}) refer to a single memory location. Please clone() the "
            "tensor before performing the operation.")


def apply_inplace(t, op, f, others=()):
    """``t <- f(t)`` in place: write the result into ``t``'s memory and record it in the graph.

    ``f`` maps a Tensor holding ``t``'s current value (and history) to a Tensor of ``t``'s shape;
    ``others``: the Tensor operands of the op (they must not partially overlap ``t``).
    """
    check_inplace(t, op)
    for o in others:
        check_overlap(op, t, o)
    storage(t)  # before the stand-in exists: an op that saved t as its output starts watching t's counter
    src = _wrap(t._data, t.backend, t.requires_grad, t.grad_fn)
    r = f(src)
    if not isinstance(r, Tensor):
        from .creation import tensor

        r = tensor(r, dtype=t.dtype, device=t.device)
    if r._data.shape != t._data.shape:
        raise RuntimeError(f"{op}: output with shape {tuple(t.shape)} doesn't match the broadcast shape "
                           f"{tuple(r.shape)}")
    if r._data.dtype != t._data.dtype:
        if r.dtype.is_floating_point and not t.dtype.is_floating_point:
            raise RuntimeError(f"{op}: result type {r.dtype} can't be cast to the desired output type {t.dtype} "
                               "(in-place ops keep the tensor's dtype); convert the tensor first (.float())")
        r = r.to(t.dtype)
    record = r.requires_grad and _grad_enabled[0]
    if record and r.grad_fn is None:  # f returned a leaf: t's new history must be a node of its own
        r = r.clone()
    if t._view is not None and t._view[2] and _grad_enabled[0] and (r.requires_grad or t._view[0].requires_grad):
        if t._view[2] == NO_GRAD_VIEW:
            raise RuntimeError(
                f"{op}: a view was created in no_grad mode and is being modified inplace with grad mode enabled "
                f"(view shape {tuple(t.shape)}). This is ambiguous and forbidden, as in PyTorch: make the view "
                "outside no_grad(), or modify it under no_grad() too.")
        raise RuntimeError(
            f"{op}: this view (shape {tuple(t.shape)}) is one of several outputs of split/unbind/chunk and is "
            "being modified inplace; as in PyTorch, such views do not allow it. Use an out-of-place op, or "
            "index the tensor (x[i]) instead.")
    if record and r is not src and sys.getrefcount(src) > 2:
        # something in r's graph kept the pre-op value for backward: give it its own copy
        src._data = t.backend.xp.asarray(t._data, copy=True)
    # torch lets fill_/masked_fill_ write into an expand()ed view (backward through it raises: ZeroRegion)
    _write(t, r._data, op, overlap_ok=op in ("fill_", "masked_fill_"))
    bump(t)
    if record:
        _rebase(t, r)
    return t


def _write(t, value, op, overlap_ok=False):
    """``t``'s memory <- ``value``. ``overlap_ok``: a fill (fill_, zero_, masked_fill_), which PyTorch
    allows on views whose elements share one memory location (an expand()ed view)."""
    data = t._data
    if t.backend.writable(data):
        data[...] = value
    elif t._view is not None or getattr(t, "_route", None) is not None:
        # a read-only view (it went through expand()): write into the base
        _write_through_base(t, value, op, overlap_ok)
    elif t._vc.__class__ is not int and t._data.ndim:
        # an alias (detach()) of a read-only array: it went through expand(), and other tensors see it
        raise RuntimeError(
            f"{op}: unsupported operation: more than one element of the written-to tensor (shape {tuple(t.shape)}) "
            "refers to a single memory location (it was expand()ed). Please clone() the tensor before performing "
            "the operation.")
    else:  # a read-only array that no other tensor sees (a NumPy scalar, a broadcast result): replace it
        t._data = t.backend.xp.asarray(value, copy=True)


def ensure_array(t):
    """Give a tensor holding a NumPy scalar (a 0-d reduction result) a real 0-d array, so aliases share it."""
    if t._view is None and t._data.ndim == 0 and not t.backend.writable(t._data):
        t._data = t.backend.xp.asarray(t._data, copy=True)


def _write_through_base(t, value, op, overlap_ok=False):
    """Write ``value`` into the base elements that view ``t`` shows, found by applying the view to
    the base's element numbers; refused (as PyTorch) if two view elements are one base element."""
    base, fn = t._view[:2] if t._view is not None else t._route
    be = base.backend
    xp = be.xp
    while not be.writable(base._data) and getattr(base, "_route", None) is not None:
        rb, rfn = base._route  # base is a detach() of a view: go on to that view's base
        fn = (lambda f, g: lambda b: f(g(b)))(fn, rfn)
        base = rb
    if not be.writable(base._data):
        raise RuntimeError(f"{op}: cannot write into a view (shape {tuple(t.shape)}) of read-only memory; clone() it first")
    shape = base._data.shape
    n = 1
    for d in shape:
        n *= d
    pos = fn(_wrap(xp.reshape(xp.arange(n, dtype=xp.int64, device=be.device), shape), be))._data
    pos = xp.reshape(pos, (-1,))
    if not overlap_ok and xp.unique_values(pos).shape[0] != pos.shape[0]:
        raise RuntimeError(
            f"{op}: unsupported operation: more than one element of the written-to tensor (an expand()ed view "
            f"of shape {tuple(t.shape)}) refers to a single memory location. Please clone() the tensor before "
            "performing the operation.")
    target, key, stride = base._data, [], 1
    if not shape:  # a 0-d base: its one element, through a (1,)-shaped view of it
        target, shape = xp.reshape(target, (1,)), (1,)
    for d in reversed(shape):
        key.append((pos // stride) % d)
        stride *= d
    be.index_put_(target, tuple(reversed(key)), xp.reshape(xp.asarray(value), (-1,)))


def _rebase(t, r):
    """Give ``t`` (or its base, if ``t`` is a view) the history "result of the in-place op"."""
    ctx = r.grad_fn
    if ctx._out is not None:  # the op saved its output: that output is now t's memory
        vc = storage(t)
        ctx._out = (t._data, t.backend)
        ctx._out_vc, ctx._out_v = vc, vc.version
    if t._view is None:
        t.grad_fn, t.requires_grad = ctx, True
        base = t
    else:
        base, fn, _ = t._view
        out = CopySlices.apply(base, r, fn, base._data)
        base.grad_fn, base.requires_grad = out.grad_fn, True
    refresh_views(base)


def refresh_views(base):
    """After ``base`` got a new history, every live view re-derives its ``grad_fn`` from it."""
    vc = base._vc
    if vc.__class__ is int or not vc.views:
        return
    proxy = _wrap(base._data, base.backend, base.requires_grad, base.grad_fn)
    for v in vc.live_views():
        if v._view is None or v._view[0] is not base or v._view[2] == NO_GRAD_VIEW:
            continue
        new = v._view[1](proxy)
        v.grad_fn, v.requires_grad = new.grad_fn, new.requires_grad


class CopySlices(Function):
    """new_base = old_base with the region ``fn`` (a view) replaced by ``r``.

    d new_base / d old_base = 1 outside the region and 0 inside it;
    d new_base / d r = the region: the gradient of ``r`` is ``fn(g)``.
    (The forward has already been done by writing ``r`` into the base's memory.)
    """

    @staticmethod
    def forward(ctx, base, r, fn, like):
        ctx.view_fn, ctx.like = fn, like
        return base._data

    @staticmethod
    def backward(ctx, g):
        need = ctx.needs_input_grad
        gb = ZeroRegion.apply(g, ctx.view_fn, ctx.like) if need[0] else None
        gr = ctx.view_fn(g) if need[1] else None
        return gb, gr, None, None


class ZeroRegion(Function):
    """y = x with the region ``fn`` (a view) set to 0. Linear and a projection, so it is its own adjoint."""

    @staticmethod
    def forward(ctx, x, fn, like):
        ctx.view_fn, ctx.like = fn, like
        xp = x.backend.xp
        out = xp.empty_like(like)  # same memory layout as the base, so fn gives a view of it again
        out[...] = x._data
        region = fn(_wrap(out, x.backend))
        _write(region, xp.zeros_like(region._data), "CopySlicesBackward")
        return out

    @staticmethod
    def backward(ctx, g):
        return ZeroRegion.apply(g, ctx.view_fn, ctx.like), None, None


class IndexPut(Function):
    """y = x with y[key] = v (``x[key] = v``, PyTorch's index_put_);
    dy/dx = 1 outside ``key`` and 0 at it, dy/dv = the gradient gathered at ``key`` (summed over broadcast)."""

    @staticmethod
    def forward(ctx, x, key, advanced, v):
        ctx.key, ctx.advanced = key, advanced
        ctx.v_dtype = v.dtype if isinstance(v, Tensor) else None
        xp = x.backend.xp
        out = xp.asarray(x._data, copy=True)
        vd = v._data if isinstance(v, Tensor) else v
        if isinstance(v, Tensor) and vd.dtype != out.dtype:
            vd = xp.astype(vd, out.dtype)
        x.backend.index_put_(out, key, vd)
        return out

    @staticmethod
    def backward(ctx, g):
        from .ops.index import GetItem

        need = ctx.needs_input_grad
        gx = IndexPut.apply(g, ctx.key, ctx.advanced, 0.0) if need[0] else None
        gv = None
        if need[3]:
            gv = GetItem.apply(g, ctx.key, ctx.advanced)
            if gv.dtype is not ctx.v_dtype:
                gv = gv.to(ctx.v_dtype)
        return gx, None, None, gv


def _zeros_like(g):
    return _wrap(g.backend.xp.zeros_like(g._data), g.backend)


class Fill(Function):
    """y = value everywhere (``fill_``/``copy_`` of a scalar); dy/dx = 0."""

    @staticmethod
    def forward(ctx, x, value):
        xp = x.backend.xp
        return xp.full(x._data.shape, value, dtype=x._data.dtype, device=x.backend.device)

    @staticmethod
    def backward(ctx, g):
        return (_zeros_like(g) if ctx.needs_input_grad[0] else None), None


class CopyFrom(Function):
    """y = src broadcast to x's shape, in x's dtype (``x.copy_(src)``);  dy/dx = 0, dy/dsrc = 1 (summed
    over broadcast dims, converted back to src's dtype)."""

    @staticmethod
    def forward(ctx, x, src):
        xp = x.backend.xp
        ctx.src_dtype = src.dtype
        out = xp.empty_like(x._data) if hasattr(x._data, "shape") else xp.asarray(x._data, copy=True)
        out[...] = xp.astype(src._data, x._data.dtype) if src._data.dtype != x._data.dtype else src._data
        return out

    @staticmethod
    def backward(ctx, g):
        need = ctx.needs_input_grad
        return (_zeros_like(g) if need[0] else None), (g.to(ctx.src_dtype) if need[1] else None)
