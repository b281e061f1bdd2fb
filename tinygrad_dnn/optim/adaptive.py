"""Adaptive-learning-rate optimizers with PyTorch's exact update rules and defaults:
Adagrad, RMSprop, Adadelta, Adam, AdamW, NAdam, Adamax, Rprop.

All state buffers are Tensors with the parameter's shape, dtype and device; the step counter
``state[p]['step']`` is a Python int. Temporaries are updated in place where they are private
(never the gradient array itself).
"""
from __future__ import annotations

import math

from .optimizer import Optimizer, _scalar_lr, _state_tensor


def _zeros(p):
    return _state_tensor(p, p.backend.xp.zeros_like(p._data))


def _set(t, arr):
    """Store ``arr`` into state Tensor ``t`` in place (keeps the state array's identity and 0-d shape)."""
    d = t._data
    d[...] = arr
    return d


class Adagrad(Optimizer):
    r"""Adagrad (Duchi et al., 2011).

    ``Adagrad(params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10, *, maximize=False)``

    .. math::
        \tilde\gamma_t &= \gamma / (1 + (t-1)\,\eta) \qquad (\eta = \text{lr\_decay}) \\
        g_t &\leftarrow g_t + \lambda\theta_{t-1} \\
        s_t &= s_{t-1} + g_t^2 \qquad (s_0 = \text{initial\_accumulator\_value}) \\
        \theta_t &= \theta_{t-1} - \tilde\gamma_t\, g_t / (\sqrt{s_t} + \epsilon)

    State: ``step``, ``sum`` (:math:`s_t`).
    """

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10,
                 foreach=None, *, maximize=False, differentiable=False, fused=None):
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay, eps=eps,
                                      initial_accumulator_value=initial_accumulator_value, maximize=maximize))

    def add_param_group(self, param_group):
        super().add_param_group(param_group)
        self._init_state(self.param_groups[-1])  # PyTorch creates the accumulator eagerly

    def _init_state(self, group):
        for p in group["params"]:
            if p not in self.state:
                xp = p.backend.xp
                self.state[p] = {"step": 0, "sum": _state_tensor(
                    p, xp.full_like(p._data, group["initial_accumulator_value"]))}

    def _check_group(self, group):
        super()._check_group(group)
        if not group["lr_decay"] >= 0:
            raise ValueError(f"Adagrad: invalid lr_decay={group['lr_decay']} (must be >= 0)")
        if not group["initial_accumulator_value"] >= 0:
            raise ValueError(f"Adagrad: invalid initial_accumulator_value={group['initial_accumulator_value']} "
                             "(must be >= 0)")

    def _update(self, p, g, st, group):
        clr = _scalar_lr(group) / (1 + (st["step"] - 1) * group["lr_decay"])
        s = st["sum"]._data
        s += g * g
        std = p.backend.xp.sqrt(s)
        std += group["eps"]
        upd = g / std
        upd *= clr
        p._data -= upd


class RMSprop(Optimizer):
    r"""RMSprop (Hinton's lecture 6e), optionally centered and with momentum.

    ``RMSprop(params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False, maximize=False)``

    .. math::
        g_t &\leftarrow g_t + \lambda\theta_{t-1} \\
        v_t &= \alpha v_{t-1} + (1-\alpha) g_t^2 \qquad (v_0 = 0) \\
        \bar g_t &= \alpha \bar g_{t-1} + (1-\alpha) g_t \qquad \text{(centered only)} \\
        d_t &= \sqrt{v_t - \bar g_t^{\,2}} + \epsilon \ \text{(centered)} \quad\text{or}\quad \sqrt{v_t} + \epsilon \\
        b_t &= \mu b_{t-1} + g_t / d_t, \quad \theta_t = \theta_{t-1} - \gamma b_t \qquad (\mu > 0) \\
        \theta_t &= \theta_{t-1} - \gamma\, g_t / d_t \qquad (\mu = 0)

    State: ``step``, ``square_avg``, ``momentum_buffer`` (momentum > 0), ``grad_avg`` (centered).
    """

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False,
                 capturable=False, foreach=None, maximize=False, differentiable=False):
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum,
                                      centered=centered, maximize=maximize))

    def _check_group(self, group):
        super()._check_group(group)
        if not group["alpha"] >= 0:
            raise ValueError(f"RMSprop: invalid alpha={group['alpha']} (must be >= 0)")

    def _new_state(self, p, group):
        st = {"step": 0, "square_avg": _zeros(p)}
        if group["momentum"] > 0:
            st["momentum_buffer"] = _zeros(p)
        if group["centered"]:
            st["grad_avg"] = _zeros(p)
        return st

    def _update(self, p, g, st, group):
        xp = p.backend.xp
        lr, alpha, eps, mu = _scalar_lr(group), group["alpha"], group["eps"], group["momentum"]
        v = st["square_avg"]._data
        v *= alpha
        gg = g * g
        gg *= 1 - alpha
        v += gg
        if group["centered"]:
            ga = st["grad_avg"]._data
            ga *= alpha
            ga += (1 - alpha) * g
            avg = xp.sqrt(v - ga * ga)
        else:
            avg = xp.sqrt(v)
        avg += eps
        if mu > 0:
            b = st["momentum_buffer"]._data
            b *= mu
            b += g / avg
            p._data -= lr * b
        else:
            upd = g / avg
            upd *= lr
            p._data -= upd


class Adadelta(Optimizer):
    r"""Adadelta (Zeiler, 2012).

    ``Adadelta(params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, *, maximize=False)``

    .. math::
        g_t &\leftarrow g_t + \lambda\theta_{t-1} \\
        v_t &= \rho v_{t-1} + (1-\rho) g_t^2 \\
        \Delta_t &= \frac{\sqrt{u_{t-1} + \epsilon}}{\sqrt{v_t + \epsilon}}\, g_t \\
        u_t &= \rho u_{t-1} + (1-\rho) \Delta_t^2 \\
        \theta_t &= \theta_{t-1} - \gamma \Delta_t

    State: ``step``, ``square_avg`` (:math:`v`), ``acc_delta`` (:math:`u`).
    """

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, foreach=None, *, capturable=False,
                 maximize=False, differentiable=False):
        super().__init__(params, dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize))

    def _check_group(self, group):
        super()._check_group(group)
        if not 0.0 <= group["rho"] <= 1.0:
            raise ValueError(f"Adadelta: invalid rho={group['rho']} (must be in [0, 1])")

    def _new_state(self, p, group):
        return {"step": 0, "square_avg": _zeros(p), "acc_delta": _zeros(p)}

    def _update(self, p, g, st, group):
        xp = p.backend.xp
        rho, eps = group["rho"], group["eps"]
        v, u = st["square_avg"]._data, st["acc_delta"]._data
        v *= rho
        v += (1 - rho) * (g * g)
        delta = xp.sqrt(u + eps)
        delta /= xp.sqrt(v + eps)
        delta *= g
        u *= rho
        u += (1 - rho) * (delta * delta)
        delta *= _scalar_lr(group)
        p._data -= delta


class Adam(Optimizer):
    r"""Adam (Kingma & Ba, 2015), with optional AMSGrad and (``decoupled_weight_decay=True``) AdamW's decay.

    ``Adam(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False, *, maximize=False,
    decoupled_weight_decay=False)``

    .. math::
        g_t &\leftarrow g_t + \lambda\theta_{t-1} \qquad \text{(L2 penalty; AdamW instead: }
              \theta_{t-1} \leftarrow (1-\gamma\lambda)\,\theta_{t-1}) \\
        m_t &= \beta_1 m_{t-1} + (1-\beta_1) g_t, \qquad v_t = \beta_2 v_{t-1} + (1-\beta_2) g_t^2 \\
        \hat v_t &= \max(\hat v_{t-1}, v_t) \ \text{(amsgrad)} \quad\text{or}\quad v_t \\
        \theta_t &= \theta_{t-1} - \frac{\gamma}{1-\beta_1^t}\,
                    \frac{m_t}{\sqrt{\hat v_t}/\sqrt{1-\beta_2^t} + \epsilon}

    State: ``step``, ``exp_avg`` (:math:`m`), ``exp_avg_sq`` (:math:`v`), ``max_exp_avg_sq`` (amsgrad).
    """

    _decoupled = False

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False, *,
                 foreach=None, maximize=False, capturable=False, differentiable=False, fused=None,
                 decoupled_weight_decay=None):
        if decoupled_weight_decay is None:
            decoupled_weight_decay = self._decoupled
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                                      amsgrad=amsgrad, maximize=maximize,
                                      decoupled_weight_decay=decoupled_weight_decay))

    def _new_state(self, p, group):
        st = {"step": 0, "exp_avg": _zeros(p), "exp_avg_sq": _zeros(p)}
        if group["amsgrad"]:
            st["max_exp_avg_sq"] = _zeros(p)
        return st

    def _update(self, p, g, st, group):
        be = p.backend
        xp = be.xp
        (b1, b2), t = group["betas"], st["step"]
        m, v = st["exp_avg"]._data, st["exp_avg_sq"]._data
        if be.name == "cupy":  # one fused elementwise kernel instead of ~12 launches (backend/cupy_backend.py)
            vmax = st["max_exp_avg_sq"]._data if group["amsgrad"] else None
            if be.adam_update_(p._data, g, m, v, vmax, b1, b2, _scalar_lr(group) / (1 - b1 ** t),
                               math.sqrt(1 - b2 ** t), group["eps"]):
                return
        m *= b1
        m += (1 - b1) * g
        v *= b2
        gg = g * g
        gg *= 1 - b2
        v += gg
        step_size = _scalar_lr(group) / (1 - b1 ** t)
        bc2_sqrt = math.sqrt(1 - b2 ** t)
        if group["amsgrad"]:
            vmax = _set(st["max_exp_avg_sq"], xp.maximum(st["max_exp_avg_sq"]._data, v))
            denom = xp.sqrt(vmax)
        else:
            denom = xp.sqrt(v)
        denom /= bc2_sqrt
        denom += group["eps"]
        upd = m / denom
        upd *= step_size
        p._data -= upd


class AdamW(Adam):
    r"""AdamW (Loshchilov & Hutter, 2019): Adam with decoupled weight decay (default ``weight_decay=1e-2``).

    ``AdamW(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False, *, maximize=False)``

    .. math::
        \theta_{t-1} &\leftarrow (1 - \gamma\lambda)\,\theta_{t-1} \\
        m_t &= \beta_1 m_{t-1} + (1-\beta_1) g_t, \qquad v_t = \beta_2 v_{t-1} + (1-\beta_2) g_t^2 \\
        \hat v_t &= \max(\hat v_{t-1}, v_t) \ \text{(amsgrad)} \quad\text{or}\quad v_t \\
        \theta_t &= \theta_{t-1} - \frac{\gamma}{1-\beta_1^t}\,
                    \frac{m_t}{\sqrt{\hat v_t}/\sqrt{1-\beta_2^t} + \epsilon}

    Unlike Adam's L2 penalty, the decay is not rescaled by :math:`1/\sqrt{\hat v_t}`.
    """

    _decoupled = True

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False, *,
                 maximize=False, foreach=None, capturable=False, differentiable=False, fused=None):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                         maximize=maximize, decoupled_weight_decay=True)


class NAdam(Optimizer):
    r"""NAdam (Dozat, 2016): Adam with Nesterov momentum and PyTorch's momentum-decay schedule.

    ``NAdam(params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, momentum_decay=4e-3,
    decoupled_weight_decay=False, *, maximize=False)``

    .. math::
        g_t &\leftarrow g_t + \lambda\theta_{t-1} \quad (\text{or } \theta_{t-1} \leftarrow
              (1-\gamma\lambda)\theta_{t-1} \text{ when decoupled}) \\
        \mu_t &= \beta_1\,(1 - \tfrac12\, 0.96^{\,t\psi}), \qquad \mu_{t+1} = \beta_1\,(1 - \tfrac12\,
                 0.96^{\,(t+1)\psi}) \qquad (\psi = \text{momentum\_decay}) \\
        m_t &= \beta_1 m_{t-1} + (1-\beta_1) g_t, \qquad v_t = \beta_2 v_{t-1} + (1-\beta_2) g_t^2 \\
        d_t &= \sqrt{v_t / (1-\beta_2^t)} + \epsilon \\
        \theta_t &= \theta_{t-1} - \gamma\,\frac{1-\mu_t}{1-\prod_{i\le t}\mu_i}\,\frac{g_t}{d_t}
                    - \gamma\,\frac{\mu_{t+1}}{1-\prod_{i\le t+1}\mu_i}\,\frac{m_t}{d_t}

    State: ``step``, ``mu_product``, ``exp_avg``, ``exp_avg_sq``.
    """

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, momentum_decay=4e-3,
                 decoupled_weight_decay=False, *, foreach=None, maximize=False, capturable=False,
                 differentiable=False):
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                                      momentum_decay=momentum_decay, decoupled_weight_decay=decoupled_weight_decay,
                                      maximize=maximize))

    def _check_group(self, group):
        super()._check_group(group)
        if not group["momentum_decay"] >= 0:
            raise ValueError(f"NAdam: invalid momentum_decay={group['momentum_decay']} (must be >= 0)")

    def _new_state(self, p, group):
        return {"step": 0, "mu_product": 1.0, "exp_avg": _zeros(p), "exp_avg_sq": _zeros(p)}

    def _update(self, p, g, st, group):
        xp = p.backend.xp
        lr, (b1, b2), psi, t = _scalar_lr(group), group["betas"], group["momentum_decay"], st["step"]
        mu = b1 * (1.0 - 0.5 * 0.96 ** (t * psi))
        mu_next = b1 * (1.0 - 0.5 * 0.96 ** ((t + 1) * psi))
        st["mu_product"] *= mu
        mu_prod = st["mu_product"]
        m, v = st["exp_avg"]._data, st["exp_avg_sq"]._data
        m *= b1
        m += (1 - b1) * g
        v *= b2
        gg = g * g
        gg *= 1 - b2
        v += gg
        denom = xp.sqrt(v / (1 - b2 ** t))
        denom += group["eps"]
        upd = g / denom
        upd *= lr * (1.0 - mu) / (1.0 - mu_prod)
        upd2 = m / denom
        upd2 *= lr * mu_next / (1.0 - mu_prod * mu_next)
        upd += upd2
        p._data -= upd


class Adamax(Optimizer):
    r"""Adamax (Kingma & Ba, 2015, section 7.1): Adam with the infinity norm.

    ``Adamax(params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, *, maximize=False)``

    .. math::
        g_t &\leftarrow g_t + \lambda\theta_{t-1} \\
        m_t &= \beta_1 m_{t-1} + (1-\beta_1) g_t \\
        u_t &= \max(\beta_2 u_{t-1},\ |g_t| + \epsilon) \\
        \theta_t &= \theta_{t-1} - \frac{\gamma}{1-\beta_1^t}\, \frac{m_t}{u_t}

    State: ``step``, ``exp_avg`` (:math:`m`), ``exp_inf`` (:math:`u`).
    """

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, foreach=None, *,
                 maximize=False, differentiable=False, capturable=False):
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                                      maximize=maximize))

    def _new_state(self, p, group):
        return {"step": 0, "exp_avg": _zeros(p), "exp_inf": _zeros(p)}

    def _update(self, p, g, st, group):
        xp = p.backend.xp
        b1, b2 = group["betas"]
        m = st["exp_avg"]._data
        m *= b1
        m += (1 - b1) * g
        u = st["exp_inf"]._data
        u *= b2
        a = xp.abs(g)
        a += group["eps"]
        u = _set(st["exp_inf"], xp.maximum(u, a))
        upd = m / u
        upd *= _scalar_lr(group) / (1 - b1 ** st["step"])
        p._data -= upd


class Rprop(Optimizer):
    r"""Rprop (resilient backpropagation, Riedmiller & Braun 1993), PyTorch's variant.

    ``Rprop(params, lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50), *, maximize=False)``

    Per coordinate, with :math:`s = \operatorname{sign}(g_t\, g_{t-1})`:

    .. math::
        \eta_t &= \operatorname{clip}\big(\eta_{t-1} \cdot \{\eta_+ \text{ if } s>0;\ \eta_- \text{ if } s<0;\
                  1 \text{ if } s=0\},\ \eta_{\min},\ \eta_{\max}\big) \qquad (\eta_0 = \gamma) \\
        g_t &\leftarrow 0 \quad \text{where } s < 0 \\
        \theta_t &= \theta_{t-1} - \eta_t \operatorname{sign}(g_t), \qquad g_{t-1} \leftarrow g_t

    State: ``step``, ``prev`` (the previous, masked gradient), ``step_size`` (:math:`\eta`).
    """

    def __init__(self, params, lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50), *, capturable=False,
                 foreach=None, maximize=False, differentiable=False):
        super().__init__(params, dict(lr=lr, etas=tuple(etas), step_sizes=tuple(step_sizes), maximize=maximize))

    def _check_group(self, group):
        super()._check_group(group)
        em, ep = group["etas"]
        if not 0.0 < em < 1.0 < ep:
            raise ValueError(f"Rprop: invalid eta values etas={group['etas']} (need 0 < etaminus < 1 < etaplus)")

    def _new_state(self, p, group):
        xp = p.backend.xp
        return {"step": 0, "prev": _zeros(p), "step_size": _state_tensor(p, xp.full_like(p._data, _scalar_lr(group)))}

    def _update(self, p, g, st, group):
        xp = p.backend.xp
        (em, ep), (smin, smax) = group["etas"], group["step_sizes"]
        s = xp.sign(g * st["prev"]._data)
        factor = xp.where(s > 0, ep, xp.where(s < 0, em, xp.ones_like(s)))
        ss = st["step_size"]._data
        ss *= factor
        ss = _set(st["step_size"], xp.clip(ss, smin, smax))
        g = xp.where(s < 0, 0.0, g)
        p._data -= xp.sign(g) * ss
        _set(st["prev"], g)
