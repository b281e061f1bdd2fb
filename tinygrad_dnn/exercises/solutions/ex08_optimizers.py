"""Exercise 8: optimizer steps with PyTorch's conventions (``optim.SGD``, ``optim.Adam``, ``optim.AdamW``).

Each function updates ``param`` (a NumPy array) IN PLACE (``param -= ...``) from its gradient ``grad`` and
keeps its own per-parameter ``state`` dict (empty before the first step).

SGD with momentum mu, dampening tau, weight decay lambda (PyTorch; the lr multiplies the buffer, so
changing the lr mid-run does not rescale the velocity as on the slides' v <- rho v - lr g):

    g <- g + lambda theta
    b <- g                          on the first step (state has no "momentum_buffer")
    b <- mu b + (1 - tau) g         afterwards
    g <- g + mu b  (nesterov)   or   g <- b
    theta <- theta - lr g

Adam (beta1, beta2, eps; t counts steps FROM 1, so the bias correction never divides by zero):

    g <- g + lambda theta           (Adam's weight decay is an L2 penalty)
    t <- t + 1
    m <- beta1 m + (1 - beta1) g          v <- beta2 v + (1 - beta2) g^2
    m_hat = m / (1 - beta1^t)             v_hat = v / (1 - beta2^t)
    theta <- theta - lr m_hat / (sqrt(v_hat) + eps)          (eps OUTSIDE the square root)

AdamW: decoupled weight decay, theta <- theta (1 - lr lambda) first, then the Adam step with lambda = 0.
"""
import numpy as np


def sgd_step(param, grad, state, lr, momentum=0.0, dampening=0.0, nesterov=False, weight_decay=0.0):
    """One ``torch.optim.SGD`` step. Keep the velocity in ``state["momentum_buffer"]``."""
    # BEGIN YOUR CODE
    # TODO(Exercise 8): weight decay, momentum buffer (first step: b = g), Nesterov, update in place.
    g = grad + weight_decay * param if weight_decay else grad.copy()
    if momentum:
        if "momentum_buffer" not in state:
            b = g.copy()
        else:
            b = momentum * state["momentum_buffer"] + (1 - dampening) * g
        state["momentum_buffer"] = b
        g = g + momentum * b if nesterov else b
    param -= lr * g
    # END YOUR CODE


def adam_step(param, grad, state, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
    """One ``torch.optim.Adam`` step. State: ``"step"`` (int), ``"exp_avg"`` (m), ``"exp_avg_sq"`` (v)."""
    # BEGIN YOUR CODE
    # TODO(Exercise 8): initialize the state on the first call (step 0, zeros), then the update.
    b1, b2 = betas
    if not state:
        state.update(step=0, exp_avg=np.zeros_like(param), exp_avg_sq=np.zeros_like(param))
    g = grad + weight_decay * param if weight_decay else grad
    state["step"] += 1
    t = state["step"]
    state["exp_avg"] = b1 * state["exp_avg"] + (1 - b1) * g
    state["exp_avg_sq"] = b2 * state["exp_avg_sq"] + (1 - b2) * g * g
    m_hat = state["exp_avg"] / (1 - b1 ** t)
    v_hat = state["exp_avg_sq"] / (1 - b2 ** t)
    param -= lr * m_hat / (np.sqrt(v_hat) + eps)
    # END YOUR CODE


def adamw_step(param, grad, state, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2):
    """One ``torch.optim.AdamW`` step (default weight_decay 1e-2): decay the weights, then Adam without L2."""
    # BEGIN YOUR CODE
    # TODO(Exercise 8): two lines (reuse adam_step).
    param *= 1 - lr * weight_decay
    adam_step(param, grad, state, lr=lr, betas=betas, eps=eps, weight_decay=0.0)
    # END YOUR CODE
