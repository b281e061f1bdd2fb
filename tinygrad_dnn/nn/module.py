"""``Module`` and ``Parameter``: the container that holds a layer's learnable state.

A module owns three ordered dicts, filled by plain attribute assignment:

* ``_parameters``: learnable leaves (``Parameter``, ``requires_grad=True``), found by optimizers
  through :meth:`Module.parameters`;
* ``_buffers``: non-learnable state (e.g. BatchNorm's running statistics), saved in the
  ``state_dict`` unless registered with ``persistent=False``;
* ``_modules``: child modules, visited recursively.

``state_dict()`` keys are dotted paths (``"0.weight"``, ``"encoder.fc.bias"``) exactly as PyTorch,
so a state dict converts to and from PyTorch's by converting each array.
"""
from __future__ import annotations

import itertools
from collections import OrderedDict

from ..autograd import dtype as _dt
from ..autograd.grad_mode import no_grad
from ..autograd.tensor import Tensor

__all__ = ["Module", "Parameter", "RemovableHandle"]


# ---------------------------------------------------------------------------- Parameter
class Parameter(Tensor):
    """A Tensor that is a module's learnable leaf: ``requires_grad=True`` by default.

    ``Parameter(t)`` shares ``t``'s array (no copy), as ``torch.nn.Parameter``. Assigning a
    Parameter to a Module attribute registers it in ``module.parameters()``.
    """

    __slots__ = ()

    def __new__(cls, data=None, requires_grad=True):
        from ..autograd.creation import empty, tensor

        if data is None:
            data = empty(0)
        elif not isinstance(data, Tensor):
            data = tensor(data)
        p = Tensor.__new__(cls)
        p._data = data._data
        p.backend = data.backend
        p.requires_grad = False
        p.grad = None
        p.grad_fn = None
        p._vc = 0
        p._view = None
        if requires_grad:
            if not p.dtype.is_floating_point:
                raise RuntimeError(f"Parameter: only floating point tensors can require gradients, got {p.dtype} "
                                   f"(shape {tuple(p.shape)}); convert with .float() or pass requires_grad=False")
            p.requires_grad = True
        return p

    def __init__(self, data=None, requires_grad=True):  # everything happens in __new__
        pass

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()

    def __reduce_ex__(self, proto):
        return (_rebuild_parameter, (self.detach(), self.requires_grad))

    def __deepcopy__(self, memo):
        import copy

        data = copy.deepcopy(self.detach(), memo)
        p = Parameter(data, self.requires_grad)
        if self.grad is not None:
            p.grad = copy.deepcopy(self.grad, memo)
        memo[id(self)] = p
        return p


def _rebuild_parameter(data, requires_grad):
    return Parameter(data, requires_grad)


# ---------------------------------------------------------------------------- hooks
class RemovableHandle:
    """Returned by ``register_forward_hook`` & co.; ``handle.remove()`` unregisters the hook."""

    _ids = itertools.count()

    def __init__(self, hooks_dict):
        self._hooks = hooks_dict
        self.id = next(RemovableHandle._ids)

    def remove(self):
        self._hooks.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()
        return False


def _describe_value(v):
    if isinstance(v, Tensor):
        return f"shape {tuple(v.shape)}, dtype {v.dtype}"
    shape = getattr(v, "shape", None)
    if shape is not None:
        return f"shape {tuple(shape)}, dtype {getattr(v, 'dtype', '?')}"
    return type(v).__name__


def _as_tensor_like(value, ref):
    """Convert a state-dict value (our Tensor, a host array, a torch tensor, a list) to a Tensor on ``ref``'s device.

    The conversion is explicit (through the host); the dtype is kept so mismatches can be reported.
    """
    from ..autograd.creation import tensor

    if isinstance(value, Tensor):
        return value if value.backend is ref.backend else value.detach().to(ref.device)
    if hasattr(value, "detach") and hasattr(value, "cpu") and hasattr(value, "numpy"):  # a torch.Tensor
        value = value.detach().cpu().numpy()
    return tensor(value, device=ref.device)


# ---------------------------------------------------------------------------- Module
class Module:
    """Base class of every layer and model (``torch.nn.Module``).

    Subclasses call ``super().__init__()`` first, create parameters/sub-modules as attributes and
    define ``forward``. Calling the module runs the forward pre-hooks, ``forward`` and the forward
    hooks.
    """

    training: bool

    def __init__(self, *args, **kwargs):
        if args or kwargs:
            raise TypeError(f"{type(self).__name__}.__init__() got unexpected arguments for Module.__init__: "
                            f"{args} {kwargs}")
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_non_persistent_buffers_set", set())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "_forward_hooks", OrderedDict())
        object.__setattr__(self, "_forward_pre_hooks", OrderedDict())

    # ------------------------------------------------------------------ forward
    def forward(self, *args, **kwargs):
        raise NotImplementedError(f'Module [{type(self).__name__}] is missing the required "forward" function')

    def __call__(self, *args, **kwargs):
        if "_forward_pre_hooks" not in self.__dict__:
            raise RuntimeError(f"{type(self).__name__}: Module.__init__() was not called; "
                               "call super().__init__() at the start of your __init__")
        if self._forward_pre_hooks:
            for hook in list(self._forward_pre_hooks.values()):
                res = hook(self, args)
                if res is not None:
                    args = res if isinstance(res, tuple) else (res,)
        out = self.forward(*args, **kwargs)
        if self._forward_hooks:
            for hook in list(self._forward_hooks.values()):
                res = hook(self, args, out)
                if res is not None:
                    out = res
        return out

    def register_forward_hook(self, hook):
        """``hook(module, inputs, output)`` runs after ``forward``; a non-None return replaces the output."""
        h = RemovableHandle(self._forward_hooks)
        self._forward_hooks[h.id] = hook
        return h

    def register_forward_pre_hook(self, hook):
        """``hook(module, inputs)`` runs before ``forward``; a non-None return replaces the inputs."""
        h = RemovableHandle(self._forward_pre_hooks)
        self._forward_pre_hooks[h.id] = hook
        return h

    # ------------------------------------------------------------------ registration
    def _check_init(self, what):
        if "_parameters" not in self.__dict__:
            raise AttributeError(f"cannot assign {what} before Module.__init__() call: "
                                 f"call super().__init__() at the start of {type(self).__name__}.__init__")

    def register_parameter(self, name, param):
        """Add a parameter (a ``Parameter`` or None) under ``name``."""
        self._check_init("parameter")
        _check_name(self, name, "parameter")
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"{type(self).__name__}.register_parameter({name!r}): expected a Parameter or None, got "
                            f"{type(param).__name__}; wrap tensors with nn.Parameter(t)")
        if name in self.__dict__ and name not in self._parameters:
            raise KeyError(f"{type(self).__name__}: attribute {name!r} already exists")
        self._buffers.pop(name, None)
        self._modules.pop(name, None)
        self._parameters[name] = param

    def register_buffer(self, name, tensor, persistent=True):
        """Add non-learnable state (a Tensor or None). Persistent buffers are part of ``state_dict``."""
        self._check_init("buffer")
        _check_name(self, name, "buffer")
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"{type(self).__name__}.register_buffer({name!r}): expected a Tensor or None, "
                            f"got {type(tensor).__name__}")
        if name in self.__dict__ and name not in self._buffers:
            raise KeyError(f"{type(self).__name__}: attribute {name!r} already exists")
        self._parameters.pop(name, None)
        self._modules.pop(name, None)
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent_buffers_set.discard(name)
        else:
            self._non_persistent_buffers_set.add(name)

    def add_module(self, name, module):
        """Add a child module (or None) under ``name``."""
        self._check_init("child module")
        if not isinstance(name, str):
            raise TypeError(f"module name must be a string, got {type(name).__name__}")
        if "." in name or name == "":
            raise KeyError(f'module name can\'t contain "." or be empty, got {name!r}')
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{type(self).__name__}.add_module({name!r}): {type(module).__name__} is not a Module")
        self._parameters.pop(name, None)
        self._buffers.pop(name, None)
        self._modules[name] = module

    register_module = add_module

    def __setattr__(self, name, value):
        params = self.__dict__.get("_parameters")
        if isinstance(value, Parameter):
            if params is None:
                self._check_init("parameters")
            self.__dict__.pop(name, None)
            self.register_parameter(name, value)
            return
        if params is not None and name in params:
            if value is not None:
                raise TypeError(f"cannot assign {type(value).__name__} as parameter {name!r} of {type(self).__name__} "
                                "(torch.nn.Parameter or None expected)")
            params[name] = None
            return
        if isinstance(value, Module):
            if params is None:
                self._check_init("child modules")
            self.__dict__.pop(name, None)
            self._parameters.pop(name, None)
            self._buffers.pop(name, None)
            self._modules[name] = value
            return
        modules = self.__dict__.get("_modules")
        if modules is not None and name in modules:
            if value is not None:
                raise TypeError(f"cannot assign {type(value).__name__} as child module {name!r} of "
                                f"{type(self).__name__} (Module or None expected)")
            modules[name] = None
            return
        buffers = self.__dict__.get("_buffers")
        if buffers is not None and name in buffers:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"cannot assign {type(value).__name__} as buffer {name!r} of "
                                f"{type(self).__name__} (Tensor or None expected)")
            buffers[name] = value
            return
        object.__setattr__(self, name, value)

    def __getattr__(self, name):
        d = self.__dict__
        for store in ("_parameters", "_buffers", "_modules"):
            s = d.get(store)
            if s is not None and name in s:
                return s[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name):
        for store in ("_parameters", "_buffers", "_modules"):
            s = self.__dict__.get(store)
            if s is not None and name in s:
                del s[name]
                self._non_persistent_buffers_set.discard(name)
                return
        object.__delattr__(self, name)

    def __dir__(self):
        return sorted(set(list(super().__dir__()) + list(self._parameters) + list(self._buffers) + list(self._modules)))

    # ------------------------------------------------------------------ traversal
    def named_modules(self, memo=None, prefix="", remove_duplicate=True):
        """Yield (dotted name, module) for this module and every descendant, depth first."""
        if memo is None:
            memo = set()
        if remove_duplicate:
            if id(self) in memo:
                return
            memo.add(id(self))
        yield prefix, self
        for name, m in self._modules.items():
            if m is None:
                continue
            yield from m.named_modules(memo, prefix + ("." if prefix else "") + name, remove_duplicate)

    def modules(self):
        for _, m in self.named_modules():
            yield m

    def named_children(self):
        seen = set()
        for name, m in self._modules.items():
            if m is not None and id(m) not in seen:
                seen.add(id(m))
                yield name, m

    def children(self):
        for _, m in self.named_children():
            yield m

    def _named_members(self, store, prefix, recurse, remove_duplicate=True):
        seen = set()
        mods = self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate) if recurse else [(prefix, self)]
        for mprefix, m in mods:
            for name, v in getattr(m, store).items():
                if v is None or (remove_duplicate and id(v) in seen):
                    continue
                seen.add(id(v))
                yield mprefix + ("." if mprefix else "") + name, v

    def named_parameters(self, prefix="", recurse=True, remove_duplicate=True):
        """Yield (dotted name, Parameter); shared parameters appear once."""
        yield from self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse=True):
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix="", recurse=True, remove_duplicate=True):
        yield from self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse=True):
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    def get_submodule(self, target):
        if target == "":
            return self
        m = self
        for part in target.split("."):
            if part not in m._modules or m._modules[part] is None:
                raise AttributeError(f"{type(m).__name__} has no submodule {part!r} (looking up {target!r})")
            m = m._modules[part]
        return m

    def get_parameter(self, target):
        mod, _, name = target.rpartition(".")
        m = self.get_submodule(mod)
        if name not in m._parameters:
            raise AttributeError(f"{type(m).__name__} has no parameter {name!r}")
        return m._parameters[name]

    def num_parameters(self, trainable_only=False):
        """Total number of scalar parameters (shared parameters counted once)."""
        return sum(p.numel() for p in self.parameters() if p.requires_grad or not trainable_only)

    # ------------------------------------------------------------------ modes and grads
    def train(self, mode=True):
        """Set training mode on this module and every descendant (Dropout, BatchNorm behave differently)."""
        if not isinstance(mode, bool):
            raise ValueError(f"train(mode): mode must be a bool, got {type(mode).__name__}")
        for m in self.modules():
            object.__setattr__(m, "training", mode)
        return self

    def eval(self):
        """Evaluation mode: ``train(False)``."""
        return self.train(False)

    def requires_grad_(self, requires_grad=True):
        """Turn gradient tracking of every parameter on or off (freeze layers with ``False``)."""
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none=True):
        """Reset parameter gradients: to None (default, as PyTorch 2) or to zeros in place."""
        for p in self.parameters():
            if p.grad is None:
                continue
            if set_to_none:
                p.grad = None
            else:
                if p.grad.grad_fn is not None:
                    p.grad = p.grad.detach()
                with no_grad():
                    p.grad.zero_()

    def apply(self, fn):
        """Call ``fn(m)`` on every descendant (children first), then on self; returns self."""
        for m in self.children():
            m.apply(fn)
        fn(self)
        return self

    # ------------------------------------------------------------------ device / dtype
    def _apply_tensors(self, convert):
        """Replace the array of every parameter, gradient and buffer by ``convert(t)``, keeping Parameter identity."""
        for m in self.modules():
            for p in m._parameters.values():
                if p is None:
                    continue
                new = convert(p)
                if new is not p:
                    p._data, p.backend = new._data, new.backend
                    p._version += 1
                if p.grad is not None:
                    g = convert(p.grad)
                    if g is not p.grad:
                        p.grad._data, p.grad.backend = g._data, g.backend
            for name, b in list(m._buffers.items()):
                if b is not None:
                    new = convert(b)
                    if new is not b:
                        b._data, b.backend = new._data, new.backend
                        b._version += 1
        return self

    def to(self, *args, device=None, dtype=None, non_blocking=False):
        """Move parameters and buffers in place: ``to(device)``, ``to(dtype)``, ``to(device, dtype)``, ``to(tensor)``.

        A dtype only converts floating-point tensors (integer buffers such as counters keep theirs).
        Parameters keep their identity, so an optimizer built before the move still works.
        """
        from ..backend import Device

        for a in args:
            if isinstance(a, Tensor):
                device, dtype = a.device, a.dtype
            elif isinstance(a, Device) or (isinstance(a, str) and a not in _dt._BY_NAME):
                device = a
            else:
                dtype = a
        if dtype is not None:
            dtype = _dt.get_dtype(dtype)
            if not dtype.is_floating_point:
                raise TypeError(f"{type(self).__name__}.to: can only convert to a floating point dtype, got {dtype}")

        def convert(t):
            with no_grad():
                out = t.detach()
                if dtype is not None and t.dtype.is_floating_point and t.dtype is not dtype:
                    out = out.to(dtype)
                if device is not None:
                    out = out.to(device)
            return t if out._data is t._data and out.backend is t.backend else out

        return self._apply_tensors(convert)

    def cpu(self):
        return self.to("cpu")

    def cuda(self, device=None):
        return self.to("cuda" if device is None else f"cuda:{device}" if isinstance(device, int) else device)

    def float(self):
        return self.to(_dt.float32)

    def double(self):
        return self.to(_dt.float64)

    def half(self):
        return self.to(_dt.float16)

    def type(self, dst_type):
        return self.to(dst_type)

    # ------------------------------------------------------------------ state dict
    def state_dict(self, destination=None, prefix="", keep_vars=False):
        """Ordered ``{dotted name: tensor}`` of parameters and persistent buffers (PyTorch's keys and order).

        Values share memory with the module (detached unless ``keep_vars``), as PyTorch.
        """
        if destination is None:
            destination = OrderedDict()
        for name, p in self._parameters.items():
            if p is not None:
                destination[prefix + name] = p if keep_vars else p.detach()
        for name, b in self._buffers.items():
            if b is not None and name not in self._non_persistent_buffers_set:
                destination[prefix + name] = b if keep_vars else b.detach()
        for name, m in self._modules.items():
            if m is not None:
                m.state_dict(destination, prefix + name + ".", keep_vars)
        return destination

    def _state_targets(self):
        """{key: (module, store name, attribute name)} for every state-dict entry."""
        out = OrderedDict()
        for mprefix, m in self.named_modules(remove_duplicate=False):
            pre = mprefix + "." if mprefix else ""
            for name, p in m._parameters.items():
                if p is not None:
                    out[pre + name] = p
            for name, b in m._buffers.items():
                if b is not None and name not in m._non_persistent_buffers_set:
                    out[pre + name] = b
        return out

    def load_state_dict(self, state_dict, strict=True, assign=False):
        """Copy values from ``state_dict`` into parameters and buffers (in place, keeping identity).

        Everything is validated first: missing or unexpected keys (when ``strict``), shape and dtype
        mismatches raise a ``RuntimeError`` listing every problem, and the module is left unchanged.
        Values may be our Tensors, host (NumPy) arrays, or PyTorch tensors (converted through the host).
        Returns ``(missing_keys, unexpected_keys)`` as a named tuple.
        """
        if not hasattr(state_dict, "keys"):
            raise TypeError(f"{type(self).__name__}.load_state_dict: expected a dict, got {type(state_dict).__name__}")
        targets = self._state_targets()
        missing = [k for k in targets if k not in state_dict]
        unexpected = [k for k in state_dict if k not in targets]
        errors = []
        if strict:
            if missing:
                errors.append("missing keys: " + ", ".join(repr(k) for k in missing))
            if unexpected:
                errors.append("unexpected keys: " + ", ".join(repr(k) for k in unexpected))
        converted = {}
        for key, target in targets.items():
            if key not in state_dict:
                continue
            value = state_dict[key]
            try:
                v = _as_tensor_like(value, target)
            except Exception as e:  # noqa: BLE001  (report every problem at once)
                errors.append(f"{key!r}: cannot convert value of type {type(value).__name__} to a tensor ({e})")
                continue
            if tuple(v.shape) != tuple(target.shape):
                errors.append(f"size mismatch for {key!r}: checkpoint has shape {tuple(v.shape)}, "
                              f"the model has shape {tuple(target.shape)}")
            elif v.dtype is not target.dtype:
                errors.append(f"dtype mismatch for {key!r}: checkpoint has {v.dtype}, the model has {target.dtype} "
                              f"(shape {tuple(target.shape)}); convert the model (model.to({v.dtype})) or the "
                              "checkpoint first")
            else:
                converted[key] = v
        if errors:
            raise RuntimeError(f"Error(s) in loading state_dict for {type(self).__name__} (nothing was changed):\n\t"
                               + "\n\t".join(errors))
        xp_copy = None
        for key, v in converted.items():
            target = targets[key]
            xp = target.backend.xp
            xp_copy = xp.asarray(v._data, copy=True)
            target._data = xp_copy
            target._version += 1
        return _IncompatibleKeys(missing, unexpected)

    # ------------------------------------------------------------------ repr and summary
    def extra_repr(self):
        """Extra text inside ``Name(...)`` in the repr (e.g. ``in_features=3, out_features=1``)."""
        return ""

    def _get_name(self):
        return type(self).__name__

    def __repr__(self):
        extra = self.extra_repr()
        lines = extra.split("\n") if extra else []
        for name, m in self._modules.items():
            r = repr(m).replace("\n", "\n  ")
            lines.append(f"({name}): {r}")
        if not self._modules:
            return f"{self._get_name()}({extra})"
        return self._get_name() + "(\n  " + "\n  ".join(lines) + "\n)"

    def summary(self, input_shape, dtype=None, device=None, print_fn=None):
        """Table of every layer's output shape and parameter count for an input of ``input_shape``.

        ``input_shape`` includes the batch dim, e.g. ``(1, 3, 28, 28)``. A zero batch runs through the
        model (in eval mode, under no_grad; the mode is restored). Returns the table as a string and
        prints it when ``print_fn`` is given (e.g. ``print``).
        """
        from ..autograd.creation import zeros

        if device is None:
            p = next(itertools.chain(self.parameters(), self.buffers()), None)
            device = p.device if p is not None else None
        if dtype is None:
            p = next((t for t in itertools.chain(self.parameters(), self.buffers()) if t.dtype.is_floating_point), None)
            dtype = p.dtype if p is not None else None
        rows = []
        handles = []

        def hook_for(name):
            def hook(m, inp, out):
                shape = tuple(out.shape) if isinstance(out, Tensor) else \
                    [tuple(o.shape) for o in out if isinstance(o, Tensor)] if isinstance(out, (tuple, list)) else "-"
                n = sum(p.numel() for p in m.parameters(recurse=False))
                rows.append((name, type(m).__name__, shape, n))
            return hook

        for name, m in self.named_modules():
            if m is self:
                continue
            handles.append(m.register_forward_hook(hook_for(name)))
        was_training = self.training
        self.eval()
        try:
            with no_grad():
                out = self(zeros(*tuple(input_shape), dtype=dtype, device=device))
        finally:
            for h in handles:
                h.remove()
            self.train(was_training)
        total = self.num_parameters()
        rows.append(("(total)", type(self).__name__,
                     tuple(out.shape) if isinstance(out, Tensor) else "-", total))
        trainable = self.num_parameters(trainable_only=True)
        header = ("Layer", "Type", "Output shape", "Params")
        body = [(r[0], r[1], str(r[2]), f"{r[3]:,}") for r in rows]
        widths = [max(len(str(x)) for x in col) for col in zip(header, *body)]
        sep = "-" * (sum(widths) + 3 * (len(widths) - 1))
        fmt = lambda r: "   ".join(str(x).ljust(w) for x, w in zip(r, widths))  # noqa: E731
        lines = [sep, fmt(header), sep] + [fmt(r) for r in body[:-1]] + [sep, fmt(body[-1]),
                 f"Total params: {total:,}", f"Trainable params: {trainable:,}",
                 f"Non-trainable params: {total - trainable:,}", f"Input shape: {tuple(input_shape)}", sep]
        text = "\n".join(lines)
        if print_fn is not None:
            print_fn(text)
        return _Summary(text, total, trainable, rows)

    # ------------------------------------------------------------------ pickling / copying
    def __getstate__(self):
        return self.__dict__.copy()

    def __setstate__(self, state):
        self.__dict__.update(state)


class _Summary(str):
    """The summary text (a str) with ``total_params``, ``trainable_params`` and ``rows`` attributes."""

    def __new__(cls, text, total, trainable, rows):
        s = super().__new__(cls, text)
        s.total_params, s.trainable_params, s.rows = total, trainable, rows
        return s


class _IncompatibleKeys(tuple):
    def __new__(cls, missing, unexpected):
        return super().__new__(cls, (missing, unexpected))

    missing_keys = property(lambda self: self[0])
    unexpected_keys = property(lambda self: self[1])

    def __repr__(self):
        if not self[0] and not self[1]:
            return "<All keys matched successfully>"
        return f"_IncompatibleKeys(missing_keys={self[0]}, unexpected_keys={self[1]})"


def _check_name(module, name, what):
    if not isinstance(name, str):
        raise TypeError(f"{what} name must be a string, got {type(name).__name__}")
    if "." in name or name == "":
        raise KeyError(f'{what} name can\'t contain "." or be empty, got {name!r}')
