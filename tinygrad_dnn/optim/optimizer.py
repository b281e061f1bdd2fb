"""``Optimizer``: the base class every optimizer in this package derives from (PyTorch's contract).

An optimizer holds ``param_groups`` (a list of dicts: ``'params'`` plus that group's
hyperparameters, defaults filled in from ``defaults``) and ``state`` (a dict keyed by parameter
Tensor, holding per-parameter buffers such as momentum). ``step()`` reads ``p.grad`` and updates
``p`` in place.

Rules all subclasses follow:

- updates run under ``no_grad`` on the raw backend arrays (``p._data``, ``p.grad._data``) with
  Array API functions only, so they work on every backend and never build a graph;
- ``.grad`` is never modified; dtype and device of parameters and state are preserved;
- a parameter whose array changes gets ``p._version += 1`` (so stale saved tensors are detected);
- parameters whose ``.grad`` is None are skipped (their state is left untouched).

The loop that does all of this is written once, in ``Optimizer._update_group``; an optimizer is its
``_new_state`` (the buffers it keeps) and its ``_update`` (its docstring's math on one parameter).

``state_dict()`` returns copies (so later steps do not change a saved state) in PyTorch's layout:
``{'state': {index: {...}}, 'param_groups': [{..., 'params': [index, ...]}]}``; a
``load_state_dict`` of it into a freshly built optimizer over the same parameters resumes the
trajectory bit for bit.
"""
from __future__ import annotations

import numbers

from ..autograd.grad_mode import enable_grad, no_grad
from ..autograd.tensor import Tensor

_wrap = Tensor._from_array


class _Required:
    def __repr__(self):
        return "<required parameter>"


required = _Required()


def _copy_value(v, backend=None, dtype=None):
    """Deep copy of a state value: Tensors get their own array (optionally moved/cast), containers recurse."""
    if isinstance(v, Tensor):
        b = v.backend if backend is None else backend
        if b is v.backend:
            arr = v.backend.xp.asarray(v._data, copy=True)
        else:
            arr = b.from_host(v.backend.to_host(v._data))
        if dtype is not None and arr.dtype != dtype and _is_float_dtype(b.xp, arr.dtype):
            arr = b.xp.astype(arr, dtype)
        return _wrap(arr, b)
    if isinstance(v, dict):
        return {k: _copy_value(x, backend, dtype) for k, x in v.items()}
    if isinstance(v, list):
        return [_copy_value(x, backend, dtype) for x in v]
    if isinstance(v, tuple):
        return tuple(_copy_value(x, backend, dtype) for x in v)
    return v


def _is_float_dtype(xp, dtype):
    return xp.isdtype(dtype, "real floating")


class Optimizer:
    """Base class: ``Optimizer(params, defaults)``.

    ``params`` is an iterable of Tensors, of ``(name, Tensor)`` pairs, or of dicts (parameter
    groups: ``{'params': [...], 'lr': ...}``; keys missing from a group take ``defaults``).
    Subclasses implement ``_update(p, g, state, group)`` (one parameter's rule, called under
    ``no_grad`` by the shared loop ``_update_group``), usually ``_new_state(p, group)``, and may
    override ``_check_group(group)`` to validate hyperparameters.
    """

    def __init__(self, params, defaults):
        self.defaults = dict(defaults)
        self.state = {}
        self.param_groups = []
        self._step_count = 0
        if isinstance(params, Tensor):
            raise TypeError(f"{self._name()}: params must be an iterable of Tensors or dicts, got a single Tensor; "
                            "pass [tensor] or model.parameters()")
        if isinstance(params, dict):
            params = [params]
        try:
            groups = list(params)
        except TypeError:
            raise TypeError(f"{self._name()}: params must be an iterable of Tensors or dicts, "
                            f"got {type(params).__name__}") from None
        if len(groups) == 0:
            raise ValueError(f"{self._name()}: optimizer got an empty parameter list "
                             "(did the model register its parameters? is the generator already consumed?)")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for g in groups:
            self.add_param_group(g)

    # ------------------------------------------------------------------ helpers
    def _name(self):
        return type(self).__name__

    def __repr__(self):
        lines = [self._name() + " ("]
        for i, g in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for k in sorted(g):
                if k != "params":
                    lines.append(f"    {k}: {g[k]}")
        lines.append(")")
        return "\n".join(lines)

    def _check_group(self, group):
        """Validate one group's hyperparameters (subclasses extend); errors name the optimizer and value."""
        lr = group.get("lr")
        if isinstance(lr, (int, float)) and not (lr >= 0.0):
            raise ValueError(f"{self._name()}: invalid learning rate lr={lr} (must be >= 0)")
        wd = group.get("weight_decay")
        if isinstance(wd, (int, float)) and not (wd >= 0.0):
            raise ValueError(f"{self._name()}: invalid weight_decay={wd} (must be >= 0)")
        eps = group.get("eps")
        if isinstance(eps, (int, float)) and not (eps >= 0.0):
            raise ValueError(f"{self._name()}: invalid epsilon eps={eps} (must be >= 0)")
        if "betas" in group:
            betas = group["betas"]
            if not isinstance(betas, (tuple, list)) or len(betas) != 2:
                raise ValueError(f"{self._name()}: betas must be a pair (beta1, beta2), got {betas!r}")
            for i, b in enumerate(betas):
                if not 0.0 <= b < 1.0:
                    raise ValueError(f"{self._name()}: invalid beta parameter at index {i}: betas={tuple(betas)} "
                                     "(each beta must be in [0, 1))")
        mom = group.get("momentum")
        if isinstance(mom, (int, float)) and not (mom >= 0.0):
            raise ValueError(f"{self._name()}: invalid momentum={mom} (must be >= 0)")

    def add_param_group(self, param_group):
        """Add a group (a dict with ``'params'``); its missing hyperparameters come from ``defaults``."""
        if not isinstance(param_group, dict):
            raise TypeError(f"{self._name()}: a param group must be a dict, got {type(param_group).__name__}")
        group = dict(param_group)
        params = group.get("params")
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set):
            raise TypeError(f"{self._name()}: parameters must be an ordered collection (list), not a set; "
                            "sets change order between runs")
        else:
            params = list(params) if params is not None else []
        names = []
        plist = []
        for i, p in enumerate(params):
            if isinstance(p, tuple) and len(p) == 2 and isinstance(p[0], str):
                names.append(p[0])
                p = p[1]
            if not isinstance(p, Tensor):
                raise TypeError(f"{self._name()}: can only optimize Tensors, but parameter {i} is a "
                                f"{type(p).__name__}")
            if p.grad_fn is not None:
                raise ValueError(f"{self._name()}: can't optimize a non-leaf Tensor (parameter {i}, shape "
                                 f"{tuple(p.shape)}, produced by {p.grad_fn.name()}); optimize the leaf it was "
                                 "computed from, or use .detach().requires_grad_()")
            if not p.requires_grad:
                raise ValueError(f"{self._name()}: parameter {i} (shape {tuple(p.shape)}) does not require grad; "
                                 "call .requires_grad_() on it or leave it out of the optimizer")
            if not p.dtype.is_floating_point:
                raise ValueError(f"{self._name()}: parameter {i} has dtype {p.dtype}; only floating point "
                                 "parameters can be optimized")
            plist.append(p)
        if not plist:
            raise ValueError(f"{self._name()}: optimizer got an empty parameter list")
        if names:
            if len(names) != len(plist):
                raise ValueError(f"{self._name()}: all parameters in a group must be named or none of them")
            group["param_names"] = names
        seen = set()
        for p in plist:
            if id(p) in seen:
                raise ValueError(f"{self._name()}: a parameter group contains the same parameter twice "
                                 f"(shape {tuple(p.shape)}); it would be updated twice per step")
            seen.add(id(p))
        for other in self.param_groups:
            for q in other["params"]:
                if id(q) in seen:
                    raise ValueError(f"{self._name()}: some parameters appear in more than one parameter group "
                                     f"(shape {tuple(q.shape)})")
        group["params"] = plist
        for k, v in self.defaults.items():
            if v is required and k not in group:
                raise ValueError(f"{self._name()}: parameter group didn't specify a value of required "
                                 f"optimization parameter {k}")
            group.setdefault(k, v)
        self._check_group(group)
        self.param_groups.append(group)

    # ------------------------------------------------------------------ gradients and steps
    def zero_grad(self, set_to_none=True):
        """Reset gradients: ``p.grad = None`` (default) or zero ``p.grad`` in place."""
        for group in self.param_groups:
            for p in group["params"]:
                g = p.grad
                if g is None:
                    continue
                if set_to_none:
                    p.grad = None
                elif g.grad_fn is not None:
                    p.grad = _wrap(g.backend.xp.zeros_like(g._data), g.backend)
                else:
                    g.requires_grad = False
                    g._data = g.backend.xp.zeros_like(g._data)
                    g._version += 1

    def step(self, closure=None):
        """One update of every parameter that has a gradient. ``closure`` (optional) re-evaluates and
        returns the loss (called with grad enabled, before the update); its value is returned."""
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        with no_grad():
            for group in self.param_groups:
                self._update_group(group)
        self._step_count += 1
        return loss

    def _update_group(self, group):
        """The loop every optimizer shares (a template method); each subclass writes only ``_update``.

        For each parameter ``p`` of the group that has a gradient:

        1. its state: ``self.state[p]``, made by ``_new_state(p, group)`` at its first step
           (``None``: this optimizer keeps no state for it); ``state['step']`` is counted here;
        2. its gradient ``g``: ``p.grad``, negated when ``maximize``, plus ``weight_decay * p`` (the L2
           penalty, PyTorch's ``weight_decay``); with ``decoupled_weight_decay`` the parameter is
           shrunk instead, ``p <- (1 - lr * weight_decay) p`` (AdamW);
        3. ``self._update(p, g, state, group)`` applies the optimizer's own rule to ``p._data``;
        4. ``p``'s version counter is bumped (saved tensors that alias ``p`` are now stale).

        ``g`` may be ``p.grad``'s own array: ``_update`` must not modify it in place.
        """
        maximize, wd = group.get("maximize", False), group.get("weight_decay", 0)
        decoupled = wd != 0 and group.get("decoupled_weight_decay", False)
        state = self.state
        for p in group["params"]:
            if p.grad is None:
                continue
            st = state.get(p)
            if st is None:
                st = self._new_state(p, group)
                if st is not None:
                    state[p] = st
            if st is not None and "step" in st:
                st["step"] += 1
            if decoupled:
                p._data *= 1 - _scalar_lr(group) * wd
            self._update(p, _grad_of(p, maximize, 0 if decoupled else wd), st, group)
            p._version += 1

    def _new_state(self, p, group):
        """The state of parameter ``p`` at its first step (a dict), or None to keep no state."""
        return None

    def _update(self, p, g, state, group):  # pragma: no cover - abstract
        """Update ``p._data`` in place from the gradient array ``g`` (see ``_update_group``)."""
        raise NotImplementedError(f"{self._name()} does not implement _update()")

    # ------------------------------------------------------------------ (de)serialization
    def state_dict(self):
        """``{'state': {i: {...}}, 'param_groups': [...]}`` with parameters replaced by their index (copies)."""
        index = {}
        groups = []
        for group in self.param_groups:
            g = {k: _copy_value(v) for k, v in group.items() if k != "params"}
            ids = []
            for p in group["params"]:
                if id(p) not in index:
                    index[id(p)] = len(index)
                ids.append(index[id(p)])
            g["params"] = ids
            groups.append(g)
        state = {}
        for group in self.param_groups:
            for p in group["params"]:
                if p in self.state:
                    state[index[id(p)]] = _copy_value(self.state[p])
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict):
        """Restore a ``state_dict()``: hyperparameters and per-parameter state (copied, moved to each
        parameter's device and floating-point buffers cast to its dtype)."""
        if not isinstance(state_dict, dict) or "state" not in state_dict or "param_groups" not in state_dict:
            raise ValueError(f"{self._name()}.load_state_dict: expected a dict with 'state' and 'param_groups', "
                             f"got {type(state_dict).__name__}")
        saved = state_dict["param_groups"]
        if len(saved) != len(self.param_groups):
            raise ValueError(f"{self._name()}.load_state_dict: loaded state dict has {len(saved)} parameter "
                             f"groups, this optimizer has {len(self.param_groups)}")
        for i, (s, g) in enumerate(zip(saved, self.param_groups)):
            if len(s["params"]) != len(g["params"]):
                raise ValueError(f"{self._name()}.load_state_dict: parameter group {i} has {len(s['params'])} "
                                 f"parameters in the state dict but {len(g['params'])} in this optimizer")
        # everything is validated and converted before anything is assigned: a bad state dict changes nothing
        id_map = {}
        for s, g in zip(saved, self.param_groups):
            for idx, p in zip(s["params"], g["params"]):
                id_map[idx] = p
        new_groups = []
        for i, (s, g) in enumerate(zip(saved, self.param_groups)):
            ng = {k: _copy_value(v) for k, v in s.items() if k != "params"}
            if isinstance(ng.get("betas"), list):
                ng["betas"] = tuple(ng["betas"])
            self._validate_loaded_group(i, ng, g)
            ng["params"] = g["params"]
            new_groups.append(ng)
        new_state = {}
        for k, v in state_dict["state"].items():
            key = int(k) if isinstance(k, str) and k.isdigit() else k
            if key not in id_map:
                raise ValueError(f"{self._name()}.load_state_dict: state for unknown parameter index {k!r}")
            p = id_map[key]
            self._validate_loaded_state(key, p, v)
            new_state[p] = self._load_param_state(p, v)
        self.state = new_state
        self.param_groups = new_groups

    def _validate_loaded_group(self, i, ng, current):
        """Hyperparameters of a loaded group: every key this optimizer uses is there, with the same kind of value."""
        where = f"{self._name()}.load_state_dict: parameter group {i}"
        for k in self.defaults:
            if k not in ng:
                raise ValueError(f"{where} has no {k!r} (this optimizer needs it); the state dict is incomplete "
                                 "or from another optimizer")
        for k, cur in current.items():
            if k == "params" or k not in ng or cur is None:
                continue
            v = ng[k]
            if isinstance(cur, bool):
                ok = isinstance(v, bool)
            elif isinstance(cur, numbers.Real) or isinstance(cur, Tensor):
                ok = (isinstance(v, numbers.Real) and not isinstance(v, bool)) or \
                    (isinstance(v, Tensor) and v.numel() == 1)
            elif isinstance(cur, (tuple, list)):
                ok = isinstance(v, (tuple, list)) and len(v) == len(cur) and all(
                    isinstance(x, numbers.Real) and not isinstance(x, bool) or isinstance(x, Tensor)
                    for x in v if not isinstance(x, (str, type(None))))
            else:
                ok = True
            if not ok:
                raise ValueError(f"{where}: {k}={v!r} ({type(v).__name__}) where this optimizer has "
                                 f"{k}={cur!r} ({type(cur).__name__})")
        try:
            self._check_group(ng)
        except (ValueError, TypeError) as e:
            raise ValueError(f"{where}: {e}") from e

    def _validate_loaded_state(self, key, p, value):
        """Per-parameter state: buffers have the parameter's shape (or are scalars) and a numeric dtype."""
        where = f"{self._name()}.load_state_dict: state of parameter {key} (shape {tuple(p.shape)})"
        if not isinstance(value, dict):
            raise ValueError(f"{where} must be a dict, got {type(value).__name__}")
        for k, v in value.items():
            if isinstance(v, Tensor):
                if v.ndim != 0 and tuple(v.shape) != tuple(p.shape):
                    raise ValueError(f"{where}: {k!r} has shape {tuple(v.shape)}; expected {tuple(p.shape)} "
                                     "(the state dict belongs to other parameters)")
                if k != "step" and not v.dtype.is_floating_point:
                    raise ValueError(f"{where}: {k!r} has dtype {v.dtype}; expected a floating point buffer")
            elif k == "step" and not (isinstance(v, numbers.Real) and not isinstance(v, bool)):
                raise ValueError(f"{where}: 'step' must be a number, got {v!r}")

    def _load_param_state(self, p, value):
        def conv(key, v):
            if isinstance(v, Tensor):
                # 'step' counters keep their dtype; buffers follow the parameter's dtype and device
                return _copy_value(v, p.backend, None if key == "step" else p._data.dtype)
            if isinstance(v, dict):
                return {k: conv(k, x) for k, x in v.items()}
            if isinstance(v, (list, tuple)):
                return type(v)(conv(key, x) for x in v)
            return v

        return conv(None, value)


# ---------------------------------------------------------------------------------------- helpers
def _state_tensor(p, arr):
    return _wrap(arr, p.backend)


def _grad_of(p, maximize, weight_decay=0):
    """The gradient array to use: negated for ``maximize``, plus the L2 term ``weight_decay * p``.

    Never the caller's to modify in place (it may be ``p.grad``'s own array).
    """
    g = p.grad._data
    if maximize:
        g = -g
    if weight_decay != 0:
        g = g + weight_decay * p._data
    return g


def _scalar_lr(group, name="lr"):
    v = group[name]
    return float(v.item()) if isinstance(v, Tensor) else v

