"""Optimizer wrappers: Lookahead, SAM (sharpness-aware minimization), and weight averaging
(``ExponentialMovingAverage`` for Polyak/EMA weights, ``AveragedModel`` as ``torch.optim.swa_utils``)."""
from __future__ import annotations

import contextlib
import copy

from ..autograd.grad_mode import enable_grad, no_grad
from ..autograd.tensor import Tensor
from .optimizer import Optimizer, _copy_value, _wrap


class Lookahead(Optimizer):
    r"""Lookahead (Zhang et al., 2019) around any optimizer: ``Lookahead(base, k=5, alpha=0.5)``.

    The base ("fast") optimizer updates :math:`\theta` as usual; every ``k`` of its steps the slow
    weights :math:`\phi` (initialised to :math:`\theta_0`) move toward the fast ones and the fast
    weights restart from them:

    .. math::
        \phi \leftarrow \phi + \alpha\,(\theta - \phi), \qquad \theta \leftarrow \phi

    ``param_groups`` and ``state`` are the base optimizer's (so LR schedulers work on a Lookahead);
    the slow weights live in ``slow_state``; ``state_dict`` holds both plus the step counter.
    """

    def __init__(self, base, k=5, alpha=0.5):
        if not isinstance(base, Optimizer):
            raise TypeError(f"Lookahead: base must be an Optimizer, got {type(base).__name__}")
        if not (isinstance(k, int) and k >= 1):
            raise ValueError(f"Lookahead: invalid k={k!r} (must be an int >= 1)")
        if not 0.0 <= alpha <= 1.0:
            raise ValueError(f"Lookahead: invalid alpha={alpha} (must be in [0, 1])")
        self.base_optimizer = base
        self.k, self.alpha = k, alpha
        self.defaults = base.defaults
        self.slow_state = {}
        self._counter = 0
        self._step_count = 0

    @property
    def param_groups(self):
        return self.base_optimizer.param_groups

    @param_groups.setter
    def param_groups(self, value):
        self.base_optimizer.param_groups = value

    @property
    def state(self):
        return self.base_optimizer.state

    @state.setter
    def state(self, value):
        self.base_optimizer.state = value

    def add_param_group(self, param_group):
        self.base_optimizer.add_param_group(param_group)

    def zero_grad(self, set_to_none=True):
        self.base_optimizer.zero_grad(set_to_none)

    def _params(self):
        return [p for g in self.param_groups for p in g["params"]]

    def step(self, closure=None):
        """Base step; every ``k``-th call also the slow-weight update above."""
        with no_grad():
            for p in self._params():  # slow weights start at the weights before the first step
                if p not in self.slow_state:
                    self.slow_state[p] = _wrap(p.backend.xp.asarray(p._data, copy=True), p.backend)
        loss = self.base_optimizer.step(closure)
        self._counter += 1
        self._step_count += 1
        if self._counter >= self.k:
            self._counter = 0
            with no_grad():
                for p in self._params():
                    slow = self.slow_state[p]._data
                    slow += self.alpha * (p._data - slow)
                    p._data[...] = slow
                    p._version += 1
        return loss

    def state_dict(self):
        sd = self.base_optimizer.state_dict()
        params = self._params()
        sd["lookahead"] = {"k": self.k, "alpha": self.alpha, "counter": self._counter,
                           "slow": {i: _copy_value(self.slow_state[p]) for i, p in enumerate(params)
                                    if p in self.slow_state}}
        return sd

    def load_state_dict(self, state_dict):
        sd = dict(state_dict)
        la = sd.pop("lookahead", None)
        self.base_optimizer.load_state_dict(sd)
        if la is not None:
            self.k, self.alpha, self._counter = la["k"], la["alpha"], la["counter"]
            params = self._params()
            self.slow_state = {params[int(i)]: _copy_value(v, params[int(i)].backend, params[int(i)]._data.dtype)
                               for i, v in la["slow"].items()}

    def __repr__(self):
        return f"Lookahead(k={self.k}, alpha={self.alpha}, base={self.base_optimizer!r})"


class SAM(Optimizer):
    r"""Sharpness-Aware Minimization (Foret et al., 2021): ``SAM(params, base_optimizer, rho=0.05,
    adaptive=False, **base_kwargs)``.

    ``base_optimizer`` is an optimizer class (built as ``base_optimizer(self.param_groups, **base_kwargs)``)
    or an already-built optimizer over the same parameters. Each update takes two gradients:

    .. math::
        \epsilon &= \rho\, \frac{T^2 g}{\|T g\|_2 + 10^{-12}}, \qquad
                    T = \operatorname{diag}(|\theta|) \text{ (adaptive, ASAM) or } I \\
        \theta' &= \theta + \epsilon \quad (\text{first\_step}) \\
        \theta &\leftarrow \operatorname{base\_step}\big(\theta,\ \nabla L(\theta')\big)
                    \quad (\text{second\_step: restore } \theta, \text{ then the base update})

    Use either ``loss(...).backward(); opt.first_step(zero_grad=True); loss(...).backward();
    opt.second_step(zero_grad=True)``, or ``opt.step(closure)`` where ``closure`` zeroes the grads,
    computes the loss, calls backward and returns the loss (it is called twice; the first loss is returned).
    """

    def __init__(self, params, base_optimizer, rho=0.05, adaptive=False, **kwargs):
        if not rho >= 0.0:
            raise ValueError(f"SAM: invalid rho={rho} (must be >= 0)")
        super().__init__(params, dict(rho=rho, adaptive=adaptive, **kwargs))
        if isinstance(base_optimizer, Optimizer):
            self.base_optimizer = base_optimizer
            mine = {id(p) for g in self.param_groups for p in g["params"]}
            theirs = {id(p) for g in base_optimizer.param_groups for p in g["params"]}
            if mine != theirs:
                raise ValueError("SAM: the given base optimizer must optimize exactly the same parameters")
            for g in base_optimizer.param_groups:
                g.setdefault("rho", rho)
                g.setdefault("adaptive", adaptive)
        else:
            self.base_optimizer = base_optimizer(self.param_groups, **kwargs)
        self.param_groups = self.base_optimizer.param_groups
        self.defaults.update(self.base_optimizer.defaults)

    def _grad_norm(self):
        total = None
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = p.grad._data
                if group["adaptive"]:
                    g = p.backend.xp.abs(p._data) * g
                sq = p.backend.xp.sum(g * g)
                total = sq if total is None else total + sq
        return None if total is None else total ** 0.5

    def first_step(self, zero_grad=False):
        """Move to the adversarial point :math:`\\theta + \\epsilon` (remembering :math:`\\theta`)."""
        with no_grad():
            norm = self._grad_norm()
            for group in self.param_groups:
                if norm is None:
                    break
                scale = group["rho"] / (norm + 1e-12)
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    xp = p.backend.xp
                    self.state.setdefault(p, {})["old_p"] = _wrap(xp.asarray(p._data, copy=True), p.backend)
                    e = p.grad._data * scale
                    if group["adaptive"]:
                        e = e * (p._data * p._data)
                    p._data += xp.astype(e, p._data.dtype, copy=False)
                    p._version += 1
        if zero_grad:
            self.zero_grad()

    def second_step(self, zero_grad=False):
        """Return to :math:`\\theta` and apply the base optimizer with the gradient taken at :math:`\\theta'`."""
        with no_grad():
            for group in self.param_groups:
                for p in group["params"]:
                    st = self.state.get(p)
                    if st is None or "old_p" not in st:
                        continue
                    p._data[...] = st.pop("old_p")._data
                    p._version += 1
        self.base_optimizer.step()
        if zero_grad:
            self.zero_grad()

    def step(self, closure=None):
        """Both steps with a closure (zero grads, forward, backward, return loss); returns the first loss."""
        if closure is None:
            raise ValueError("SAM.step requires a closure (zero_grad, forward, backward, return loss); "
                             "or call first_step() and second_step() yourself")
        with enable_grad():
            loss = closure()
        self.first_step(zero_grad=True)
        with enable_grad():
            closure()
        self.second_step()
        self._step_count += 1
        return loss

    @property
    def state(self):
        return self.base_optimizer.state if "base_optimizer" in self.__dict__ else self.__dict__["_own_state"]

    @state.setter
    def state(self, value):
        if "base_optimizer" in self.__dict__:
            self.base_optimizer.state = value
        else:
            self.__dict__["_own_state"] = value

    def load_state_dict(self, state_dict):
        self.base_optimizer.load_state_dict(state_dict)
        self.param_groups = self.base_optimizer.param_groups


def _model_tensors(model, use_buffers=False):
    if isinstance(model, Tensor):
        return [model]
    if hasattr(model, "parameters"):
        ts = list(model.parameters())
        if use_buffers and hasattr(model, "buffers"):
            ts += [b for b in model.buffers() if b.dtype.is_floating_point]
        return ts
    return list(model)


class ExponentialMovingAverage:
    r"""Exponential moving average of parameters (Polyak averaging), to swap in for evaluation.

    ``ExponentialMovingAverage(parameters, decay=0.995, use_num_updates=False)``; call ``update()``
    after each ``optimizer.step()``:

    .. math::
        \bar\theta_t = \beta\,\bar\theta_{t-1} + (1-\beta)\,\theta_t \qquad (\bar\theta_0 = \theta_0),
        \qquad \beta = \min\!\big(\text{decay},\ \tfrac{1+n}{10+n}\big) \text{ with use\_num\_updates}

    ``copy_to()`` writes the averages into the parameters, ``store()``/``restore()`` save and put back
    the live ones, and ``with ema.average_parameters(): evaluate()`` does all three.
    ``parameters`` may be a list of Tensors or a model with ``parameters()``.
    """

    def __init__(self, parameters, decay=0.995, use_num_updates=False):
        if not 0.0 <= decay <= 1.0:
            raise ValueError(f"ExponentialMovingAverage: invalid decay={decay} (must be in [0, 1])")
        self.decay = decay
        self.num_updates = 0 if use_num_updates else None
        self._params = _model_tensors(parameters)
        if not self._params:
            raise ValueError("ExponentialMovingAverage: got an empty parameter list")
        self.shadow_params = [_wrap(p.backend.xp.asarray(p._data, copy=True), p.backend) for p in self._params]
        self.collected_params = None

    def _get(self, parameters):
        if parameters is None:
            return self._params
        ps = _model_tensors(parameters)
        if len(ps) != len(self.shadow_params):
            raise ValueError(f"ExponentialMovingAverage: expected {len(self.shadow_params)} parameters, "
                             f"got {len(ps)}")
        return ps

    def update(self, parameters=None):
        """Fold the current parameters into the averages."""
        decay = self.decay
        if self.num_updates is not None:
            self.num_updates += 1
            decay = min(decay, (1 + self.num_updates) / (10 + self.num_updates))
        with no_grad():
            for s, p in zip(self.shadow_params, self._get(parameters)):
                d = s._data
                d *= decay
                d += (1.0 - decay) * p._data

    def copy_to(self, parameters=None):
        """Write the averaged values into the parameters (in place)."""
        with no_grad():
            for s, p in zip(self.shadow_params, self._get(parameters)):
                p._data[...] = s._data
                p._version += 1

    def store(self, parameters=None):
        """Remember the current parameter values (for ``restore``)."""
        self.collected_params = [p.backend.xp.asarray(p._data, copy=True) for p in self._get(parameters)]

    def restore(self, parameters=None):
        """Put back the values saved by ``store``."""
        if self.collected_params is None:
            raise RuntimeError("ExponentialMovingAverage.restore: call store() first")
        with no_grad():
            for c, p in zip(self.collected_params, self._get(parameters)):
                p._data[...] = c
                p._version += 1

    @contextlib.contextmanager
    def average_parameters(self, parameters=None):
        """Context manager: evaluate with the averaged weights, then restore the live ones."""
        self.store(parameters)
        self.copy_to(parameters)
        try:
            yield
        finally:
            self.restore(parameters)

    def state_dict(self):
        return {"decay": self.decay, "num_updates": self.num_updates,
                "shadow_params": [_copy_value(s) for s in self.shadow_params]}

    def load_state_dict(self, state_dict):
        self.decay, self.num_updates = state_dict["decay"], state_dict["num_updates"]
        sp = state_dict["shadow_params"]
        if len(sp) != len(self.shadow_params):
            raise ValueError(f"ExponentialMovingAverage.load_state_dict: {len(sp)} averages for "
                             f"{len(self.shadow_params)} parameters")
        self.shadow_params = [_copy_value(s, p.backend, p._data.dtype) for s, p in zip(sp, self._params)]


def get_ema_avg_fn(decay=0.999):
    """``avg_fn`` for :class:`AveragedModel`: :math:`\\bar\\theta \\leftarrow \\beta\\bar\\theta + (1-\\beta)\\theta`."""
    if not 0.0 <= decay <= 1.0:
        raise ValueError(f"get_ema_avg_fn: invalid decay={decay} (must be in [0, 1])")

    def ema_update(averaged, current, num_averaged):
        return decay * averaged + (1 - decay) * current

    return ema_update


def get_swa_avg_fn():
    """``avg_fn`` for :class:`AveragedModel`: the running mean :math:`\\bar\\theta + (\\theta-\\bar\\theta)/(n+1)`."""
    def swa_update(averaged, current, num_averaged):
        return averaged + (current - averaged) / (num_averaged + 1)

    return swa_update


class AveragedModel:
    r"""A deep copy of ``model`` whose parameters are averages of ``model``'s over time
    (``torch.optim.swa_utils.AveragedModel``): SWA's equal-weight running mean by default, or EMA with
    ``avg_fn=get_ema_avg_fn(decay)``. Call ``update_parameters(model)`` after optimizer steps; the first
    call copies the weights. Calling the averaged model runs the copy (``averaged(x)``), so it can be
    evaluated in place of ``model``.

    .. math::
        \bar\theta_1 = \theta_1, \qquad \bar\theta_{n+1} = \text{avg\_fn}(\bar\theta_n, \theta, n)
    """

    def __init__(self, model, device=None, avg_fn=None, multi_avg_fn=None, use_buffers=False):
        self.module = copy.deepcopy(model)
        if device is not None and hasattr(self.module, "to"):
            self.module = self.module.to(device)
        self.n_averaged = 0
        self.avg_fn = avg_fn
        self.multi_avg_fn = multi_avg_fn
        self.use_buffers = use_buffers

    def __call__(self, *args, **kwargs):
        return self.module(*args, **kwargs)

    forward = __call__

    def parameters(self):
        return _model_tensors(self.module)

    def update_parameters(self, model):
        """Fold ``model``'s current weights into the average."""
        mine = _model_tensors(self.module, self.use_buffers)
        theirs = _model_tensors(model, self.use_buffers)
        if len(mine) != len(theirs):
            raise ValueError(f"AveragedModel.update_parameters: model has {len(theirs)} tensors, "
                             f"the average {len(mine)}")
        with no_grad():
            if self.n_averaged == 0:
                for a, p in zip(mine, theirs):
                    a._data[...] = p._data
                    a._version += 1
            elif self.multi_avg_fn is not None:
                self.multi_avg_fn([a.detach() for a in mine], [p.detach() for p in theirs], self.n_averaged)
            else:
                fn = self.avg_fn or get_swa_avg_fn()
                for a, p in zip(mine, theirs):
                    new = fn(a.detach(), p.detach(), self.n_averaged)
                    a._data[...] = new._data if isinstance(new, Tensor) else new
                    a._version += 1
        self.n_averaged += 1

    def state_dict(self):
        """PyTorch's layout: ``'module.<name>'`` entries plus ``'n_averaged'``."""
        inner = self.module.state_dict() if hasattr(self.module, "state_dict") else {}
        sd = {"module." + k: v for k, v in inner.items()}
        sd["n_averaged"] = self.n_averaged
        return sd

    def load_state_dict(self, state_dict):
        sd = dict(state_dict)
        n = sd.pop("n_averaged", 0)
        self.n_averaged = int(n.item()) if isinstance(n, Tensor) else int(n)
        if hasattr(self.module, "load_state_dict"):
            self.module.load_state_dict({k[len("module."):] if k.startswith("module.") else k: v
                                         for k, v in sd.items()})
