"""Stochastic gradient descent (PyTorch's ``SGD``) and sign-SGD (signSGD / Signum)."""
from __future__ import annotations

from .optimizer import Optimizer, _grad_of, _scalar_lr, _state_tensor


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

    def _update_group(self, group):
        lr = _scalar_lr(group)
        mu, damp, wd = group["momentum"], group["dampening"], group["weight_decay"]
        nesterov, maximize = group["nesterov"], group["maximize"]
        state = self.state
        for p in group["params"]:
            if p.grad is None:
                continue
            g = _grad_of(p, maximize, wd)
            if mu != 0:
                st = state.get(p)
                if st is None:
                    st = state[p] = {}
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
                    buf._data = b
                g = g + mu * buf._data if nesterov else buf._data
            p.backend.axpy_(p._data, -lr, g)
            p._version += 1


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

    def _update_group(self, group):
        lr, mu, wd = _scalar_lr(group), group["momentum"], group["weight_decay"]
        for p in group["params"]:
            if p.grad is None:
                continue
            xp = p.backend.xp
            g = _grad_of(p, group["maximize"], wd)
            if mu != 0:
                st = self.state.setdefault(p, {})
                if "momentum_buffer" not in st:
                    st["momentum_buffer"] = _state_tensor(p, xp.zeros_like(p._data))
                buf = st["momentum_buffer"]
                b = buf._data
                b *= mu
                b += (1 - mu) * g
                buf._data = b
                g = b
            p._data -= lr * xp.sign(g)
            p._version += 1
