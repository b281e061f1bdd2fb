"""Stochastic gradient descent (PyTorch's ``SGD``) and sign-SGD (signSGD / Signum)."""
from __future__ import annotations

from .optimizer import Optimizer, _scalar_lr, _state_tensor


class SGD(Optimizer):
    r"""Stochastic gradient descent with optional momentum, Nesterov momentum and L2 weight decay.

    ``SGD(params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, *, maximize=False)``

    For each parameter :math:`\theta` with gradient :math:`g_t` (negated when ``maximize``):

    .. math::
        g_t &\leftarrow g_t + \lambda\,\theta_{t-1} \qquad (\lambda = \text{weight\_decay}) \\
        b_t &= \begin{cases} g_t & t = 1 \\ \mu\, b_{t-1} + (1-\tau)\, g_t & t > 1 \end{cases}
              \qquad (\mu = \text{momentum},\ \tau = \text{dampening}) \\
        g_t &\leftarrow \begin{cases} g_t + \mu\, b_t & \text{nesterov} \\ b_t & \text{otherwise}
              \end{cases} \qquad (\text{only when } \mu \ne 0) \\
        \theta_t &= \theta_{t-1} - \gamma\, g_t \qquad (\gamma = \text{lr})

    State: ``momentum_buffer`` (:math:`b_t`) when momentum is non-zero.
    """

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, *,
                 maximize=False, foreach=None, differentiable=False, fused=None):
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                        nesterov=nesterov, maximize=maximize)
        super().__init__(params, defaults)

    def _check_group(self, group):
        super()._check_group(group)
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError(f"SGD: Nesterov momentum requires a momentum > 0 and zero dampening, got "
                             f"momentum={group['momentum']}, dampening={group['dampening']}")

    def _new_state(self, p, group):
        return {} if group["momentum"] != 0 else None  # the buffer starts as the first gradient

    def _update(self, p, g, st, group):
        mu, damp = group["momentum"], group["dampening"]
        if mu != 0:
            buf = st.get("momentum_buffer")
            if buf is None:
                buf = st["momentum_buffer"] = _state_tensor(p, p.backend.xp.asarray(g, copy=True))
            else:
                b = buf._data
                b *= mu
                if damp == 0:
                    b += g
                else:
                    b += (1 - damp) * g
            g = g + mu * buf._data if group["nesterov"] else buf._data
        p.backend.axpy_(p._data, -_scalar_lr(group), g)


class SignSGD(Optimizer):
    r"""Sign-SGD (signSGD, Bernstein et al. 2018) and, with momentum, Signum.

    ``SignSGD(params, lr=1e-3, momentum=0, weight_decay=0, *, maximize=False)``

    .. math::
        g_t &\leftarrow g_t + \lambda\,\theta_{t-1} \\
        m_t &= \begin{cases} g_t & \mu = 0 \\ \mu\, m_{t-1} + (1-\mu)\, g_t & \mu > 0,\ m_0 = 0 \end{cases} \\
        \theta_t &= \theta_{t-1} - \gamma\, \operatorname{sign}(m_t)

    Every coordinate moves by exactly ``lr`` (or 0 where the (averaged) gradient is 0).
    State: ``momentum_buffer`` (:math:`m_t`) when momentum is non-zero.
    """

    def __init__(self, params, lr=1e-3, momentum=0, weight_decay=0, *, maximize=False):
        super().__init__(params, dict(lr=lr, momentum=momentum, weight_decay=weight_decay, maximize=maximize))

    def _check_group(self, group):
        super()._check_group(group)
        if not 0 <= group["momentum"] < 1:
            raise ValueError(f"SignSGD: invalid momentum={group['momentum']} (must be in [0, 1))")

    def _new_state(self, p, group):
        return {"momentum_buffer": _state_tensor(p, p.backend.xp.zeros_like(p._data))} if group["momentum"] else None

    def _update(self, p, g, st, group):
        mu = group["momentum"]
        if mu != 0:
            b = st["momentum_buffer"]._data
            b *= mu
            b += (1 - mu) * g
            g = b
        p._data -= _scalar_lr(group) * p.backend.xp.sign(g)
