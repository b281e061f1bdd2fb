"""``Tensor``: an array on some backend plus the autograd bookkeeping.

Slots: ``_data`` (the backend array), ``backend``, ``requires_grad``, ``grad`` (a Tensor or None),
``grad_fn`` (the Context that produced it; None for leaves), ``_vc`` (the version counter bumped by
in-place ops: an int, or a ``views.Storage`` shared with views; read it as ``_version``) and ``_view``
(None, or ``(base, view_fn)`` for a view; see ``views.py``).
Methods are thin: each one calls a ``Function`` from ``ops``.

This file holds the class itself (construction, attributes, conversions, autograd, repr); its
methods come in families from six mixins, one file each:

=====================  =====================================================================
``tensor_math.py``     operators, comparisons, bitwise ops, elementwise math (dtype promotion)
``tensor_reduce.py``   sum, mean, var/std, max/min, prod, logsumexp, norm, softmax
``tensor_shape.py``    reshape/view, permute, squeeze, expand, split, indexing (views)
``tensor_inplace.py``  add_, mul_, clamp_, relu_, fill_, copy_ ... (recorded by ``views.py``)
``tensor_index.py``    gather/scatter, index_select/add, cumsum, flip/roll, sort/topk, unique, diag ...
``tensor_random.py``   bernoulli, multinomial
=====================  =====================================================================
"""
from __future__ import annotations

import builtins
import weakref

from . import dtype as _dt
from . import tensor_index as _index
from . import tensor_random as _random
from . import tensor_inplace as _inplace
from . import tensor_math as _math
from . import tensor_reduce as _reduce
from . import tensor_shape as _shape
from . import views as _views
from .function import backward as _backward
from .ops import elementwise as E
from .ops.device import Clone, ToDevice
from .tensor_reduce import MinMax  # noqa: F401  (re-exported)
from .tensor_shape import Size


def _wrap(data, backend, requires_grad=False, grad_fn=None):
    t = Tensor.__new__(Tensor)
    t._data = data
    t.backend = backend
    t.requires_grad = requires_grad
    t.grad = None
    t.grad_fn = grad_fn
    t._vc = 0
    t._view = None
    return t


class Tensor(_math.MathMethods, _reduce.ReduceMethods, _shape.ShapeMethods, _inplace.InplaceMethods,
             _index.IndexMethods, _random.RandomMethods):
    # _route (views.alias): set only on a detach() of a view, never read on the hot path
    # _hooks: a leaf's gradient hooks (set only by register_hook), on the tensor itself so a hook whose
    # closure refers to the tensor forms a cycle the garbage collector frees (a global registry leaked it)
    # _post_hooks: its post-accumulate-grad hooks (register_post_accumulate_grad_hook), likewise
    __slots__ = ("_data", "backend", "requires_grad", "grad", "grad_fn", "_vc", "_view", "_route", "_hooks",
                 "_post_hooks", "__weakref__")
    __array_priority__ = 1000  # so numpy_array * tensor calls Tensor.__rmul__

    def __init__(self, *args, dtype=None, device=None, requires_grad=False):
        """``torch.Tensor`` as a constructor: ``Tensor([1, 2])`` -> float32 data, ``Tensor(2, 3)`` -> a
        (2, 3) float32 tensor (zeros; torch leaves it uninitialized), ``Tensor()`` -> empty.

        Data always gets the default float dtype unless ``dtype`` is given (``FloatTensor``,
        ``LongTensor``... pass it). ``tensor(data)`` is the function that infers the dtype.
        """
        from .creation import tensor, zeros

        dtype = _dt.get_dtype(dtype) or _dt.get_default_dtype()
        if not args or (builtins.all(isinstance(a, builtins.int) and not isinstance(a, builtins.bool) for a in args)) \
                or (len(args) == 1 and isinstance(args[0], Size)):
            t = zeros(*(args or (0,)), dtype=dtype, device=device, requires_grad=requires_grad)
        elif len(args) == 1 and (isinstance(args[0], (list, tuple, Tensor)) or hasattr(args[0], "shape")):
            t = tensor(args[0], dtype=dtype, device=device, requires_grad=requires_grad)
        else:
            raise TypeError(f"Tensor(): expected a sequence of data or integer sizes, got "
                            f"{', '.join(type(a).__name__ for a in args)}; use tensor(x) for a scalar")
        self._data, self.backend = t._data, t.backend
        self.requires_grad, self.grad, self.grad_fn, self._vc, self._view = t.requires_grad, None, None, 0, None

    _from_array = staticmethod(_wrap)

    def __deepcopy__(self, memo):
        """Copy the array but share the backend (backends are singletons compared by identity)."""
        if self.grad_fn is not None:
            raise RuntimeError("deepcopy: only leaf tensors support the deepcopy protocol; detach() first")
        t = _wrap(self.backend.xp.asarray(self._data, copy=True), self.backend, self.requires_grad)
        memo[id(self)] = t
        if self.grad is not None:
            import copy

            t.grad = copy.deepcopy(self.grad, memo)
        return t

    def __getstate__(self):
        """Pickle the array and flags; a view is pickled as a plain tensor (its view function is a closure)."""
        return (None, {"_data": self._data, "backend": self.backend, "requires_grad": self.requires_grad,
                       "grad": self.grad, "grad_fn": self.grad_fn, "_vc": self._version, "_view": None})

    # ------------------------------------------------------------ attributes
    @property
    def _version(self):
        """How many in-place changes this tensor's memory has seen (shared by all its views)."""
        vc = self._vc
        return vc if vc.__class__ is builtins.int else vc.version

    @_version.setter
    def _version(self, value):
        _views.storage(self).version = value

    @property
    def _base(self):
        """The tensor whose memory this view shares (None if this is not a view)."""
        return None if self._view is None else self._view[0]

    def _is_view(self):
        return self._view is not None

    @property
    def data(self):
        """A tensor sharing this one's array but detached from the graph and from its version counter
        (as ``torch.Tensor.data``: changes through it are invisible to autograd)."""
        return _wrap(self._data, self.backend)

    @data.setter
    def data(self, value):
        self._data = value._data if isinstance(value, Tensor) else self.backend.asarray(value)

    @property
    def shape(self):
        return Size(self._data.shape)

    def size(self, dim=None):
        return self.shape if dim is None else self._data.shape[dim]

    @property
    def ndim(self):
        return self._data.ndim

    def dim(self):
        return self._data.ndim

    def numel(self):
        n = 1
        for s in self._data.shape:
            n *= s
        return n

    nelement = numel  # torch's older name

    def __format__(self, spec):
        """``f"{loss:.4f}"`` formats a 0-d tensor's value (as torch); other tensors take only ``""``."""
        if self._data.ndim == 0:
            return self.item().__format__(spec)
        return object.__format__(self, spec)

    def __len__(self):
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    @property
    def dtype(self):
        return _dt.dtype_of(self._data.dtype)

    @property
    def device(self):
        return self.backend.dev

    @property
    def is_leaf(self):
        return self.grad_fn is None

    @property
    def is_cuda(self):
        return self.backend.dev.type == "cuda"

    @property
    def T(self):
        return self.permute(*reversed(range(self.ndim)))

    @property
    def mT(self):
        return self.transpose(-2, -1)

    def is_floating_point(self):
        return self.dtype.is_floating_point

    # ------------------------------------------------------------ conversion
    def numpy(self):
        """Host NumPy array (a copy for non-CPU devices; shares memory on the CPU, as PyTorch)."""
        return self.backend.to_host(self._data)

    def __array__(self, dtype=None, copy=None):
        if self.backend.dev.type != "cpu":
            raise TypeError(f"cannot convert a tensor on {self.device} to a NumPy array implicitly; "
                            "call .cpu() or .numpy() explicitly")
        arr = self._data
        return arr if dtype is None else arr.astype(dtype)

    def item(self):
        if self.numel() != 1:
            raise ValueError(f"item(): only one-element tensors can be converted to Python scalars, got shape {tuple(self.shape)}")
        be = self.backend
        if be._pending:  # a GPU's deferred value checks are reported at this synchronization
            be.raise_deferred()
        d = be.xp.reshape(self._data, ())
        kind = self.dtype
        if kind is _dt.bool_:
            return bool(d)
        return float(d) if kind.is_floating_point else int(d)

    def tolist(self):
        return self.numpy().tolist()

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __bool__(self):
        return bool(self.item())

    def __index__(self):
        if self.dtype.is_floating_point:
            raise TypeError("only integer tensors can be used as an index")
        return int(self.item())

    def to(self, *args, dtype=None, device=None, copy=False, non_blocking=False, memory_format=None):
        """``to(device)``, ``to(dtype)``, ``to(device, dtype)`` or ``to(other_tensor)``. Differentiable.

        ``non_blocking`` and ``memory_format`` are accepted for torch compatibility; copies are synchronous.
        """
        from ..backend import Device, get_backend

        for a in args:
            if isinstance(a, Tensor):
                device, dtype = a.device, a.dtype
            elif isinstance(a, (str, Device)) and not (isinstance(a, str) and a in _dt._BY_NAME):
                device = a
            else:
                dtype = a
        out = self
        if dtype is not None:
            dtype = _dt.get_dtype(dtype)
            if dtype is not self.dtype:
                if dtype.is_floating_point:
                    out = E.Cast.apply(out, getattr(self.backend.xp, dtype.name))
                else:  # integer and bool values have no gradient: the cast cuts the graph (as PyTorch)
                    out = _wrap(self.backend.xp.astype(self._data, getattr(self.backend.xp, dtype.name)), self.backend)
        if device is not None:
            b = get_backend(device)
            if b is not self.backend:
                out = ToDevice.apply(out, b)
        if copy and out is self:
            out = self.clone()
        return out

    def cpu(self):
        return self.to("cpu")

    def cuda(self, device=None):
        return self.to("cuda" if device is None else f"cuda:{device}" if isinstance(device, int) else device)

    def float(self):
        return self.to(_dt.float32)

    def double(self):
        return self.to(_dt.float64)

    def long(self):
        return self.to(_dt.int64)

    def int(self):
        return self.to(_dt.int32)

    def bool(self):
        return self.to(_dt.bool_)

    def type(self, dtype=None):
        return self.dtype if dtype is None else self.to(dtype)

    # ------------------------------------------------------------ autograd
    def detach(self):
        """Same array (and version counter), cut from the graph."""
        return _views.alias(self, _wrap(self._data, self.backend))

    def detach_(self):
        self.grad_fn = None
        self.requires_grad = False
        return self

    def clone(self):
        return Clone.apply(self)

    def requires_grad_(self, requires_grad=True):
        if requires_grad and not self.dtype.is_floating_point:
            raise RuntimeError(f"only floating point tensors can require gradients, got {self.dtype}; "
                               "convert with .float() first")
        if not requires_grad and self.grad_fn is not None:
            raise RuntimeError("requires_grad_(False) is only allowed on leaves; use .detach() for a non-leaf")
        self.requires_grad = requires_grad
        return self

    def retain_grad(self):
        """Keep ``.grad`` for this non-leaf after backward (leaves always keep it)."""
        if self.grad_fn is not None:
            self.grad_fn._retained = weakref.ref(self)

    def register_hook(self, hook):
        """Call ``hook(grad)`` whenever this tensor's gradient is computed; a returned Tensor replaces it.

        Works on leaves (before accumulation into ``.grad``) and on non-leaves. Returns a handle
        with ``remove()``.
        """
        from .function import RemovableHook, leaf_hooks_for

        if not self.requires_grad:
            raise RuntimeError("register_hook: cannot register a hook on a tensor that does not require grad")
        if self.grad_fn is None:
            hooks = leaf_hooks_for(self, create=True)
        else:
            if not self.grad_fn._hooks:
                self.grad_fn._hooks = []
            hooks = self.grad_fn._hooks
        hooks.append(hook)
        return RemovableHook(hooks, hook)

    def register_post_accumulate_grad_hook(self, hook):
        """Call ``hook(tensor)`` on this leaf once per ``backward``, after its ``.grad`` got every
        contribution of that pass (``torch.Tensor.register_post_accumulate_grad_hook``).

        The hook sees the accumulated ``tensor.grad`` and returns None (it may modify ``.grad`` in place).
        Not called by ``tinygrad_dnn.grad`` (which does not accumulate). Returns a handle with ``remove()``.
        """
        from .function import RemovableHook, _post_hooks

        if not self.requires_grad:
            raise RuntimeError("register_post_accumulate_grad_hook: cannot register a hook on a tensor that does "
                               "not require grad")
        if self.grad_fn is not None:
            raise RuntimeError("register_post_accumulate_grad_hook: post accumulate grad hooks cannot be registered "
                               "on non-leaf tensors (only leaves accumulate .grad); use register_hook instead")
        hooks = getattr(self, "_post_hooks", None)
        if hooks is None:
            hooks = self._post_hooks = []
            _post_hooks[0] += 1
        hooks.append(hook)
        return RemovableHook(hooks, hook)

    @property
    def retains_grad(self):
        return self.grad_fn is not None and self.grad_fn._retained is not None

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        """Accumulate d(self)/d(leaf) into every leaf's ``.grad`` (gradient needed for non-scalars)."""
        _backward(self, gradient, retain_graph, create_graph, inputs)

    # ------------------------------------------------------------ repr
    def __repr__(self):
        from ..backend.base import format_array

        body = format_array(self.backend.to_host(self._data))
        extra = []
        if self.backend.dev.type != "cpu":
            extra.append(f"device='{self.device}'")
        if self.dtype not in (_dt.get_default_dtype(), _dt.int64, _dt.bool_):
            extra.append(f"dtype={self.dtype}")
        if self.grad_fn is not None:
            extra.append(f"grad_fn={self.grad_fn!r}")
        elif self.requires_grad:
            extra.append("requires_grad=True")
        return "tensor(" + body + "".join(", " + e for e in extra) + ")"

    def __hash__(self):
        return id(self)

    def __iter__(self):
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return iter(self.unbind(0))


from . import function as _function  # noqa: E402

_function._bind(Tensor, _wrap)
_views._bind(Tensor, _wrap)


for _m in (_math, _reduce, _shape, _inplace, _index, _random):
    _m._bind(Tensor, _wrap)
_math.install_dtype_wrappers(Tensor)
matmul = _math.matmul
