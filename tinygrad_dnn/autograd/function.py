"""The reverse-mode engine: ``Function`` (one op = forward math + backward math) and the graph walk.

Every op, built-in or user-written, is a ``Function`` subclass::

    class Exp(Function):
        @staticmethod
        def forward(ctx, x):             # x: Tensor; returns a backend array (or Tensor)
            y = x.backend.xp.exp(x._data)
            ctx.save_for_backward(x)
            return y

        @staticmethod
        def backward(ctx, grad):         # grad: Tensor; returns one Tensor per forward input
            (x,) = ctx.saved_tensors
            return grad * x.exp()

``backward`` is written with Tensor ops, so with ``create_graph=True`` the backward pass
itself builds a graph and can be differentiated again (Hessian-vector products).
Broadcasting is undone in exactly one place, :func:`_engine`: a backward may return a gradient
with the broadcast shape and the engine sums it down to the input's shape.
"""
from __future__ import annotations

from . import grad_mode
from .errors import DeviceMismatchError, GradGraphError, raise_device_mismatch  # noqa: F401 (re-exported)
from .grad_mode import _anomaly, _grad_enabled

_trace = [None]  # a callable receiving one line per backward step, or None
Tensor = _wrap = None  # bound by tensor.py once the class exists (avoids an import on the hot path)


def _bind(tensor_cls, wrap):
    global Tensor, _wrap
    Tensor, _wrap = tensor_cls, wrap


class Context:
    """Per-call storage (``ctx``) and graph node (``tensor.grad_fn``)."""

    # class-level defaults keep node creation to a single attribute store
    _saved = ()
    _versions = ()
    _freed = False
    _retained = None
    _out = None
    _out_vc = None  # the saved output's version counter (views.Storage, attached lazily) and its version
    _out_v = 0
    _hooks = ()
    next = ()
    in_shapes = ()
    needs_input_grad = ()

    def __init__(self, fn):
        self.fn = fn

    def save_for_backward(self, *tensors):
        """Keep tensors for ``backward``; modifying one in place afterwards is an error."""
        self._saved = tensors
        # t._version without the property call (this is on every op's path): an int, or a shared Storage
        self._versions = [0 if t is None else (t._vc if t._vc.__class__ is int else t._vc.version) for t in tensors]

    @property
    def saved_tensors(self):
        if self._freed:
            raise GradGraphError(_freed_message(self))
        for t, v in zip(self._saved, self._versions):
            if t is not None and (t._vc if t._vc.__class__ is int else t._vc.version) != v:
                raise GradGraphError(
                    f"{self.name()}: a tensor of shape {tuple(t.shape)} saved for backward was modified in place "
                    f"(version {v} when saved, {t._version} now). Use an out-of-place op (x = x * 2 instead of x *= 2) "
                    "or clone() the tensor before changing it.")
        return self._saved

    def output(self):
        """The op's own output, for backward formulas such as exp' = exp (ops with ``saves_output``).

        Under ``create_graph`` it is returned attached to this node, so it stays differentiable.
        """
        data, backend = self.output_data()
        if _grad_enabled[0]:
            t = _wrap(data, backend, True, self)
            if self._out_vc is None:  # a stand-in, not the output: views.storage must not watch its counter
                from .views import Storage

                t._vc = Storage()
            return t
        return _wrap(data, backend)

    def output_data(self):
        """``(array, backend)`` of the op's saved output, checked against in-place changes (version counter)."""
        if self._freed:
            raise GradGraphError(_freed_message(self))
        vc = self._out_vc
        if vc is not None and vc.version != self._out_v:
            raise GradGraphError(
                f"{self.name()}: its output (shape {tuple(self._out[0].shape)}), saved for backward, was modified "
                f"in place (version {self._out_v} when saved, {vc.version} now). Use an out-of-place op "
                "(y = y * 2 instead of y *= 2) or clone() the output before changing it.")
        return self._out

    def name(self):
        return self.fn.__name__ + "Backward"

    def __repr__(self):
        return f"<{self.name()}>"


def _freed_message(ctx):
    return (f"{ctx.name()}: trying to backward through the graph a second time (its saved values were freed "
            "after the first backward). Pass retain_graph=True to the first backward() if you need to "
            "backward twice, or recompute the forward pass.")


class Function:
    """Base class for ops. Subclasses define static ``forward(ctx, *args)`` and ``backward(ctx, grad)``.

    ``forward`` receives the call's arguments (Tensors and plain values) and returns a backend
    array or a Tensor. ``backward`` receives the output gradient as a Tensor and returns one
    gradient (Tensor or None) per forward argument. Set ``saves_output = True`` to use
    ``ctx.output()`` in backward. Functions have a single output.
    """

    saves_output = False
    differentiable = True

    @staticmethod
    def forward(ctx, *args):
        raise NotImplementedError

    @staticmethod
    def backward(ctx, grad):
        raise NotImplementedError

    @classmethod
    def apply(cls, *args):
        backend = None
        requires = False
        for a in args:
            if isinstance(a, Tensor):
                if backend is None:
                    backend = a.backend
                elif a.backend is not backend:
                    _device_mismatch(cls, args)
                if a.requires_grad:
                    requires = True
        ctx = Context(cls)
        out = cls.forward(ctx, *args)
        if isinstance(out, Tensor):
            backend, out = out.backend, out._data
        if _anomaly[0]:
            _check_finite(cls.__name__, "forward", out, backend, args)
        if not (requires and _grad_enabled[0] and cls.differentiable):
            return _wrap(out, backend)
        ctx.next = tuple(
            (a.grad_fn if a.grad_fn is not None else a) if isinstance(a, Tensor) and a.requires_grad else None
            for a in args)
        ctx.in_shapes = tuple(a._data.shape if isinstance(a, Tensor) else None for a in args)
        ctx.needs_input_grad = tuple(n is not None for n in ctx.next)
        if cls.saves_output:  # checked against in-place changes: see views.storage
            ctx._out = (out, backend)
        return _wrap(out, backend, True, ctx)


def _device_mismatch(cls, args):
    raise_device_mismatch(cls.__name__, [("", tuple(a.shape), a.device) for a in args if isinstance(a, Tensor)])


_in_backward = [None]  # the node whose backward is running (anomaly mode only), for the messages


def _call_backward(node, g):
    """``node``'s backward with anomaly mode on: a NaN made by an op *inside* it is reported as born in
    the backward of ``node`` (PyTorch: "Function 'XBackward' returned nan values"), not as a forward."""
    prev, _in_backward[0] = _in_backward[0], node
    try:
        return node.fn.backward(node, g)
    finally:
        _in_backward[0] = prev


def _check_finite(opname, phase, data, backend, args):
    if data.dtype in backend.float_dtypes and bool(backend.xp.any(backend.xp.isnan(data))):  # float16 too
        node = _in_backward[0]
        if phase == "forward" and node is not None:
            opname, phase = f"{node.name()} (its {opname} step)", "backward"
        shapes = [tuple(a.shape) for a in args if isinstance(a, Tensor)]
        raise FloatingPointError(
            f"anomaly detection: {opname} produced NaN in its {phase} pass (input shapes {shapes}, "
            f"output shape {tuple(data.shape)}). Check the inputs' domain (log/sqrt of negatives, 0/0, inf-inf).")


# ------------------------------------------------------------------ graph walk
def _topo_order(roots):
    """Nodes reachable from ``roots`` (Context objects), each after every node that feeds it gradient."""
    order, visited = [], set()
    stack = [(r, False) for r in roots]
    while stack:
        node, done = stack.pop()
        if done:
            order.append(node)
            continue
        if node in visited:
            continue
        visited.add(node)
        stack.append((node, True))
        if node._freed:
            raise GradGraphError(_freed_message(node))
        for n in node.next:
            if n is not None and type(n) is Context and n not in visited:
                stack.append((n, False))
    order.reverse()
    return order


# Leaf hooks live on the leaf (``leaf._hooks``, see Tensor.register_hook); this counts the leaves that
# ever got one, so the engine skips the lookup entirely in the common case of no hooks at all.
_leaf_hooks = [0]
_post_hooks = [0]  # the same count for post-accumulate-grad hooks (Tensor.register_post_accumulate_grad_hook)


def leaf_hooks_for(leaf, create=False):
    hooks = getattr(leaf, "_hooks", None)
    if hooks is None and create:
        hooks = leaf._hooks = []
        _leaf_hooks[0] += 1
    return hooks


def _run_hooks(hooks, g):
    for h in list(hooks):
        r = h(g)
        if r is not None:
            g = r
    return g


class RemovableHook:
    """Returned by ``Tensor.register_hook``; ``remove()`` unregisters the hook."""

    def __init__(self, hooks, hook):
        self._hooks, self._hook = hooks, hook

    def remove(self):
        if self._hook in self._hooks:
            self._hooks.remove(self._hook)


def _sum_to(g, shape):
    """Sum a broadcast gradient down to ``shape`` (the one place broadcasting is undone)."""
    gshape = g._data.shape
    if gshape == shape:
        return g
    lead = len(gshape) - len(shape)
    stretched = tuple(i + lead for i, s in enumerate(shape) if s == 1 and gshape[i + lead] != 1)
    if not stretched:  # only leading dims were added: one sum gives the shape
        return g.sum(dim=tuple(range(lead))) if lead else g.reshape(shape)
    g = g.sum(dim=tuple(range(lead)) + stretched, keepdim=True)
    return g.reshape(shape) if lead else g


def _engine(roots, root_grads, retain_graph, create_graph, capture=None, accumulate=True):
    """Propagate ``root_grads`` from ``roots`` through the graph: the whole reverse pass.

    Each node, in reverse topological order, takes the sum of the gradients its consumers sent,
    calls its Function's ``backward`` and sends one gradient to each input: to another node, or to a
    leaf (``_Leaves.receive``). accumulate=True adds into leaves' ``.grad`` (``backward``); ``capture``
    maps node/leaf ids to a slot in the returned dict (``grad``).
    """
    grads, leaves = {}, _Leaves(capture, accumulate, create_graph)
    leaves.handed.update(id(g._data) for g in root_grads)  # the caller's arrays: .grad must not alias them
    order = _topo_order([r.grad_fn for r in roots if r.grad_fn is not None])
    needed = None if accumulate else _leading_to(order, capture)
    with grad_mode.set_grad_enabled(create_graph):
        for r, g in zip(roots, root_grads):
            if r.grad_fn is None:
                leaves.receive(r, g)
            else:
                _add(grads, r.grad_fn, g)
        post = _PostAccumulate(order, roots, leaves) if _post_hooks[0] and accumulate else None
        for node in order:
            g = grads.pop(node, None)
            if g is None:
                if post is not None:
                    post.visited(node)
                continue
            if node._hooks or node._retained is not None or capture is not None:
                g = _node_extras(node, g, create_graph, leaves)
            if needed is not None and node not in needed:
                continue
            in_grads = _call_backward(node, g) if _anomaly[0] else node.fn.backward(node, g)
            if not isinstance(in_grads, tuple):
                in_grads = (in_grads,)
            if _trace[0] is not None:
                _trace[0](node, g, in_grads)
            for nxt, shape, gi in zip(node.next, node.in_shapes, in_grads):
                if nxt is None or gi is None:
                    continue
                gi = _input_grad(node, gi, shape)
                if type(nxt) is Context:
                    _add(grads, nxt, gi)
                else:
                    leaves.receive(nxt, gi)
            if post is not None:
                post.visited(node)
            if not retain_graph:
                _free(node)
        if post is not None:
            post.finish()
    return leaves.captured


def _leading_to(order, capture):
    """The nodes of ``order`` from which some captured input is reached (``grad`` runs only these, as
    PyTorch: the rest of the graph is not executed, its hooks do not fire and nothing of it is freed)."""
    needed = set()
    for node in reversed(order):  # inputs before their consumers
        for n in node.next:
            if n is not None and (id(n) in capture or (type(n) is Context and n in needed)):
                needed.add(node)
                break
    return needed


class _PostAccumulate:
    """Runs leaves' post-accumulate-grad hooks once per pass, when the last edge into the leaf was visited.

    The engine hands a leaf one gradient per edge (a leaf used twice gets two), so the edges into
    each hooked leaf are counted first; the hooks run when the count reaches 0 (all contributions are
    in ``.grad``), or at the end of the pass for leaves that are roots themselves.
    """

    def __init__(self, order, roots, leaves):
        self.leaves, self.left, self.hooked = leaves, {}, {}
        for node in order:
            for nxt in node.next:
                if nxt is not None and type(nxt) is not Context and getattr(nxt, "_post_hooks", None):
                    self.left[id(nxt)] = self.left.get(id(nxt), 0) + 1
                    self.hooked[id(nxt)] = nxt
        leaves.received = set()
        for r in roots:  # a root that is a leaf got its gradient already
            if r.grad_fn is None and getattr(r, "_post_hooks", None):
                self.hooked[id(r)] = r
                leaves.received.add(id(r))

    def visited(self, node):
        for nxt in node.next:
            k = id(nxt)
            if k in self.left:
                self.left[k] -= 1
                if self.left[k] == 0:
                    del self.left[k]
                    self._run(k)

    def _run(self, k):
        leaf = self.hooked.pop(k)
        if k in self.leaves.received:
            for h in list(leaf._post_hooks):
                h(leaf)

    def finish(self):
        for k in list(self.hooked):
            self._run(k)


def _add(grads, key, g):
    """Sum the gradients arriving at one node (a node used twice gets both)."""
    prev = grads.get(key)
    grads[key] = g if prev is None else prev + g


def _input_grad(node, gi, shape):
    """Check one gradient ``backward`` returned and sum it down to its input's shape (un-broadcasting)."""
    if not isinstance(gi, Tensor):
        raise TypeError(f"{node.name()}: backward must return Tensors or None, got {type(gi).__name__}")
    if gi._data.shape != shape:
        gs = gi._data.shape
        if len(gs) < len(shape) or any(s != 1 and s != d for s, d in zip(shape, gs[len(gs) - len(shape):])):
            raise RuntimeError(
                f"{node.name()}: backward returned an invalid gradient: shape {tuple(gs)} for an input of shape "
                f"{tuple(shape)} (it must have the input's shape, or a shape it broadcasts to). Check the "
                "backward's return values and their order.")
        gi = _sum_to(gi, shape)
    if _anomaly[0]:
        _check_finite(node.fn.__name__, "backward", gi._data, gi.backend, ())
    return gi


def _free(node):
    """Drop what a node saved for backward (``retain_graph=False``); a second pass raises GradGraphError."""
    node._saved = ()
    node._out = None
    node.next = ()
    node._freed = True


def _node_extras(node, g, create_graph, leaves):
    """The rarely used parts of visiting a node: its hooks, ``retain_grad`` and ``grad(inputs=...)`` capture."""
    if node._hooks:
        g = _run_hooks(node._hooks, g)
    if node._retained is not None:
        t = node._retained()
        if t is not None:
            if t.grad is None and not create_graph and (g._view is not None or not g.backend.owns(g._data)
                                                        or id(g._data) in leaves.handed):
                g = _own(g)
            t.grad = g if t.grad is None else t.grad + g
    if leaves.capture is not None and id(node) in leaves.capture:
        _add(leaves.captured, id(node), g)
    return g


def _own(g):
    """``g`` with its own memory (``.grad`` is zeroed in place by users, so it must not alias anything)."""
    return Tensor._from_array(g.backend.xp.asarray(g._data, copy=True), g.backend)


class _Leaves:
    """Where gradients reaching leaves go: ``.grad`` (accumulated) and/or the ``capture`` slots."""

    def __init__(self, capture, accumulate, create_graph):
        self.capture, self.accumulate, self.create_graph = capture, accumulate, create_graph
        self.captured = {}
        self.handed = set()  # ids of arrays already stored in some leaf's .grad in this pass

    received = None  # a set of the ids of leaves that got a gradient, kept only when post hooks exist

    def receive(self, leaf, g):
        if self.received is not None:
            self.received.add(id(leaf))
        if g._data.dtype != leaf._data.dtype:  # as torch's engine: a gradient takes its input's dtype
            g = g.to(leaf.dtype)
        if _leaf_hooks[0]:
            hooks = getattr(leaf, "_hooks", None)
            if hooks:
                g = _run_hooks(hooks, g)
        if self.capture is not None:
            if id(leaf) in self.capture:
                _add(self.captured, id(leaf), g)
            if not self.accumulate:
                return
        if leaf.grad is None:
            if not self.create_graph:
                # .grad must own its array: users zero it in place, and a view could alias
                # another leaf's gradient or a broadcast (read-only) array.
                g = _own(g) if id(g._data) in self.handed or not g.backend.owns(g._data) else g.detach()
                self.handed.add(id(g._data))
            leaf.grad = g
        elif self.create_graph:
            leaf.grad = leaf.grad + g
        else:
            leaf.grad._data = leaf.grad._data + g._data


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, inputs=None):
    """Accumulate d(tensors)/d(leaf) into every leaf's ``.grad`` (``torch.autograd.backward``)."""
    if isinstance(tensors, Tensor):
        tensors = [tensors]
    if grad_tensors is None or isinstance(grad_tensors, Tensor):
        grad_tensors = [grad_tensors] * len(tensors)
    roots, gs = _prepare_roots(tensors, grad_tensors, "backward")
    if retain_graph is None:
        retain_graph = create_graph
    if inputs is not None:
        raise NotImplementedError("backward(inputs=...) is not supported; use tinygrad_dnn.grad(outputs, inputs)")
    _engine(roots, gs, retain_graph, create_graph)


def _prepare_roots(tensors, grad_tensors, who):
    roots, gs = [], []
    for t, g in zip(tensors, grad_tensors):
        if not t.requires_grad:
            raise RuntimeError(
                f"{who}: tensor of shape {tuple(t.shape)} does not require grad and has no grad_fn. "
                "Set requires_grad=True on the leaves you differentiate with respect to, and do not compute "
                "the loss under no_grad().")
        if g is None:
            if t.numel() != 1:
                raise RuntimeError(
                    f"{who}: grad can be implicitly created only for scalar outputs, got shape {tuple(t.shape)}. "
                    "Pass gradient=<tensor of the same shape> (e.g. torch.ones_like(y)) or reduce first (y.sum()).")
            g = Tensor._from_array(t.backend.xp.ones(t._data.shape, dtype=t._data.dtype, device=t.backend.device), t.backend)
        else:
            if not isinstance(g, Tensor):
                from .creation import tensor as _tensor

                g = _tensor(g, dtype=t.dtype, device=t.device)
            if tuple(g.shape) != tuple(t.shape):
                raise RuntimeError(f"{who}: gradient has shape {tuple(g.shape)} but the output has shape {tuple(t.shape)}")
            if g.backend is not t.backend:
                raise_device_mismatch(who, [("output", tuple(t.shape), t.device), ("gradient", tuple(g.shape), g.device)])
            if g._data.dtype != t._data.dtype:  # as torch: the gradient takes the output's dtype,
                g = g.to(t.dtype)               # so every .grad keeps its leaf's dtype
        roots.append(t)
        gs.append(g)
    return roots, gs


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False, allow_unused=False):
    """Return d(outputs)/d(inputs) without touching ``.grad`` (``torch.autograd.grad``).

    With ``create_graph=True`` the result is differentiable again (for Hessian-vector products).
    """
    if isinstance(outputs, Tensor):
        outputs = [outputs]
    single = isinstance(inputs, Tensor)
    if single:
        inputs = [inputs]
    inputs = list(inputs)
    if grad_outputs is None or isinstance(grad_outputs, Tensor):
        grad_outputs = [grad_outputs] * len(outputs)
    roots, gs = _prepare_roots(outputs, grad_outputs, "grad")
    if retain_graph is None:
        retain_graph = create_graph
    capture = {}
    for i, x in enumerate(inputs):
        if not x.requires_grad:
            raise RuntimeError(f"grad: input {i} of shape {tuple(x.shape)} does not require grad")
        capture[id(x.grad_fn) if x.grad_fn is not None else id(x)] = i
    captured = _engine(roots, gs, retain_graph, create_graph, capture=capture, accumulate=False)
    result = []
    for i, x in enumerate(inputs):
        g = captured.get(id(x.grad_fn) if x.grad_fn is not None else id(x))
        if g is None and not allow_unused:
            raise RuntimeError(
                f"grad: input {i} of shape {tuple(x.shape)} was not used to compute the outputs. "
                "Pass allow_unused=True to get None for it.")
        if g is not None and not create_graph:
            g = g.detach()
        result.append(g)
    return tuple(result)
