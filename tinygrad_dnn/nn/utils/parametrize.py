"""``torch.nn.utils.parametrize``: express a module's tensor as a function of other tensors.

``register_parametrization(module, "weight", P)`` removes the parameter ``weight``, keeps what
``P.right_inverse(weight)`` returns as ``module.parametrizations.weight.original`` (one tensor) or
``original0, original1, ...`` (a tuple), and makes ``module.weight`` a property that recomputes
``P(original...)`` on every access, so gradients flow to the originals. As PyTorch, the module's
class is swapped for a subclass ``Parametrized<Class>`` that holds the property; the state-dict keys
are ``parametrizations.weight.original0`` etc. Several parametrizations on one tensor are applied in
order (``P2(P1(original))``). Inside ``with cached():`` each parametrized tensor is computed once.
"""
from __future__ import annotations

import contextlib

from ...autograd.grad_mode import no_grad
from ...autograd.tensor import Tensor
from ..containers import ModuleDict, ModuleList
from ..module import Module, Parameter

__all__ = [
    "ParametrizationList",
    "cached",
    "is_parametrized",
    "register_parametrization",
    "remove_parametrizations",
    "type_before_parametrizations",
]

_cache_depth = 0
_cache = {}


@contextlib.contextmanager
def cached():
    """Inside this context every parametrized tensor is computed once on first access and reused."""
    global _cache_depth
    _cache_depth += 1
    try:
        yield
    finally:
        _cache_depth -= 1
        if not _cache_depth:
            _cache.clear()


def _store_like(original, value):
    """A new Parameter (if ``original`` was one) or plain tensor holding ``value``'s data."""
    value = value.detach()
    if isinstance(original, Parameter):
        return Parameter(value, original.requires_grad)
    return value


class ParametrizationList(ModuleList):
    """The parametrizations of one tensor, in order, plus the unconstrained ``original`` tensor(s).

    ``forward()`` returns ``P_k(...P_2(P_1(original)))`` (``P_1(original0, original1, ...)`` when the
    first right inverse returned a tuple). ``right_inverse(value)`` sets the originals so that the
    parametrized tensor becomes ``value`` (through each ``right_inverse``, last to first).
    """

    def __init__(self, modules, original, unsafe=False):
        if len(modules) == 0:
            raise ValueError("ParametrizationList requires one or more modules.")
        super().__init__(modules)
        self.unsafe = unsafe
        new = original
        with no_grad():
            for module in reversed(list(self)):
                if hasattr(module, "right_inverse"):
                    new = module.right_inverse(new)
        if not isinstance(new, (Tensor, tuple, list)):
            raise ValueError("'right_inverse' must return a Tensor or a tuple/list of Tensors, got "
                             f"{type(new).__name__}")
        self.is_tensor = isinstance(new, Tensor)
        self.ntensors = 1 if self.is_tensor else len(new)
        register = self.register_parameter if isinstance(original, Parameter) else self.register_buffer
        if self.is_tensor:
            if not unsafe and (tuple(new.shape) != tuple(original.shape) or new.dtype is not original.dtype):
                raise ValueError(f"when `right_inverse` outputs one tensor, it may not change the shape or dtype: "
                                 f"original {tuple(original.shape)} {original.dtype}, right_inverse gave "
                                 f"{tuple(new.shape)} {new.dtype}")
            if new is not original:  # keep the tensor object (an optimizer may hold it), new values
                with no_grad():
                    original.data = new.detach()
            register("original", original)
        else:
            for i, t in enumerate(new):
                if not isinstance(t, Tensor):
                    raise ValueError(f"'right_inverse' must return a sequence of Tensors, element {i} is "
                                     f"{type(t).__name__}")
                register(f"original{i}", _store_like(original, t.clone()))
        if not unsafe:  # the parametrization must give a tensor like the one it replaces
            with no_grad():
                z = self()
            if not isinstance(z, Tensor) or tuple(z.shape) != tuple(original.shape) or z.dtype is not original.dtype:
                got = f"{tuple(z.shape)} {z.dtype}" if isinstance(z, Tensor) else type(z).__name__
                raise ValueError(f"register_parametrization: the parametrization may not change the shape or dtype "
                                 f"of the tensor ({tuple(original.shape)} {original.dtype} -> {got}); pass "
                                 "unsafe=True to allow it")

    def _originals(self):
        if self.is_tensor:
            return (self.original,)
        return tuple(getattr(self, f"original{i}") for i in range(self.ntensors))

    def right_inverse(self, value):
        """Set the originals so that ``self()`` returns ``value``."""
        with no_grad():
            for module in reversed(list(self)):
                if hasattr(module, "right_inverse"):
                    value = module.right_inverse(value)
                elif not self.unsafe and module is not self[0]:
                    raise RuntimeError(f"parametrization {type(module).__name__} does not implement right_inverse")
            values = (value,) if self.is_tensor else tuple(value)
            if len(values) != self.ntensors:
                raise ValueError(f"'right_inverse' must return {self.ntensors} tensors, got {len(values)}")
            for orig, v in zip(self._originals(), values):
                if not self.unsafe and (tuple(v.shape) != tuple(orig.shape) or v.dtype is not orig.dtype):
                    raise ValueError(f"right_inverse: the new value {tuple(v.shape)} {v.dtype} does not match the "
                                     f"stored original {tuple(orig.shape)} {orig.dtype}")
                orig.data = v.detach()

    def forward(self):
        mods = list(self)
        x = mods[0](*self._originals())
        for m in mods[1:]:
            x = m(x)
        return x


def _inject_new_class(module):
    cls = module.__class__

    def __getstate__(self):
        raise RuntimeError("serialization of parametrized modules is only supported through state_dict(); "
                           "save module.state_dict() instead")

    def __deepcopy__(self, memo):  # deep copy without pickling the dynamic class
        import copy

        obj = cls.__new__(self.__class__)
        memo[id(self)] = obj
        for k, v in self.__dict__.items():
            object.__setattr__(obj, k, copy.deepcopy(v, memo))
        return obj

    param_cls = type(f"Parametrized{cls.__name__}", (cls,), {"__getstate__": __getstate__,
                                                            "__deepcopy__": __deepcopy__})
    module.__class__ = param_cls


def _inject_property(module, tensor_name):
    def get_parametrized(self):
        plist = self.parametrizations[tensor_name]
        if _cache_depth:
            key = (id(self), tensor_name)
            if key not in _cache:
                _cache[key] = plist()
            return _cache[key]
        return plist()

    def set_original(self, value):
        self.parametrizations[tensor_name].right_inverse(value)

    setattr(module.__class__, tensor_name, property(get_parametrized, set_original))


def is_parametrized(module, tensor_name=None):
    """True if ``module`` has a parametrization (on ``tensor_name``, when given)."""
    p = module.__dict__.get("_modules", {}).get("parametrizations")
    if not isinstance(p, ModuleDict):
        return False
    return len(p) > 0 if tensor_name is None else tensor_name in p._modules


def type_before_parametrizations(module):
    """The module's class before ``register_parametrization`` swapped it."""
    return module.__class__.__bases__[0] if is_parametrized(module) else type(module)


def register_parametrization(module, tensor_name, parametrization, *, unsafe=False):
    """Make ``module.<tensor_name>`` equal to ``parametrization(original)`` (see the module docstring).

    ``parametrization`` is a Module; its optional ``right_inverse(X)`` maps a value of the tensor to
    the original(s) (a Tensor, or a tuple of Tensors stored as ``original0, original1, ...``).
    ``unsafe=True`` skips the checks that the shape and dtype are kept. Returns ``module``.
    """
    if not isinstance(parametrization, Module):
        raise TypeError(f"register_parametrization: the parametrization must be a Module, got "
                        f"{type(parametrization).__name__}")
    if is_parametrized(module, tensor_name):
        plist = module.parametrizations[tensor_name]
        if not unsafe:
            with no_grad():
                y = getattr(module, tensor_name)
                z = parametrization(y)
            if not isinstance(z, Tensor) or tuple(z.shape) != tuple(y.shape) or z.dtype is not y.dtype:
                raise ValueError("register_parametrization: a parametrization added to an already parametrized "
                                 "tensor may not change its shape or dtype (pass unsafe=True to allow it)")
        plist.append(parametrization)
        plist.unsafe |= unsafe
        return module
    if tensor_name in module._parameters or tensor_name in module._buffers:
        original = getattr(module, tensor_name)
        if original is None:
            raise ValueError(f"register_parametrization: {type(module).__name__}.{tensor_name} is None")
        plist = ParametrizationList([parametrization], original, unsafe=unsafe)
        delattr(module, tensor_name)
        if not is_parametrized(module):
            _inject_new_class(module)
            module.parametrizations = ModuleDict()
        _inject_property(module, tensor_name)
        module.parametrizations[tensor_name] = plist
        return module
    raise ValueError(f"Module '{type(module).__name__}' does not have a parameter, a buffer, or a parametrized "
                     f"element with name '{tensor_name}'")


def remove_parametrizations(module, tensor_name, leave_parametrized=True):
    """Undo the parametrizations of ``tensor_name``: it becomes a plain parameter (or buffer) again.

    ``leave_parametrized=True`` keeps the current parametrized value; ``False`` restores the original
    (only possible when the original is a single tensor).
    """
    if not is_parametrized(module, tensor_name):
        raise ValueError(f"Module {type(module).__name__} does not have a parametrization on {tensor_name}")
    plist = module.parametrizations[tensor_name]
    with no_grad():
        if plist.is_tensor:
            original = plist.original
            if leave_parametrized:
                t = getattr(module, tensor_name)
                original.data = t.detach().clone()
        else:
            if not leave_parametrized:
                raise ValueError("Cannot leave unparametrized (`leave_parametrized=False`) a tensor that is "
                                 "parametrized in terms of a sequence of tensors.")
            t = getattr(module, tensor_name).detach().clone()
            original = _store_like(plist.original0, t)
    delattr(module.__class__, tensor_name)
    del module.parametrizations._modules[tensor_name]
    if isinstance(original, Parameter):
        module.register_parameter(tensor_name, original)
    else:
        module.register_buffer(tensor_name, original)
    if not is_parametrized(module):
        delattr(module, "parametrizations")
        module.__class__ = module.__class__.__bases__[0]
    return module
