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
# ruff: noqa  (until you fill the blanks, the imports and given variables are unused)
import numpy as np


def sgd_step(param, grad, state, lr, momentum=0.0, dampening=0.0, nesterov=False, weight_decay=0.0):
    """One ``torch.optim.SGD`` step. Keep the velocity in ``state["momentum_buffer"]``."""
    # BEGIN YOUR CODE
    # TODO(Exercise 8): weight decay, momentum buffer (first step: b = g), Nesterov, update in place.
    raise NotImplementedError("Exercise 8: implement sgd_step: weight decay, momentum buffer (first step: b = g), Nesterov, update in place.")
    # END YOUR CODE


def adam_step(param, grad, state, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
    """One ``torch.optim.Adam`` step. State: ``"step"`` (int), ``"exp_avg"`` (m), ``"exp_avg_sq"`` (v)."""
    # BEGIN YOUR CODE
    # TODO(Exercise 8): initialize the state on the first call (step 0, zeros), then the update.
    raise NotImplementedError("Exercise 8: implement adam_step: initialize the state on the first call (step 0, zeros), then the update.")
    # END YOUR CODE


def adamw_step(param, grad, state, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2):
    """One ``torch.optim.AdamW`` step (default weight_decay 1e-2): decay the weights, then Adam without L2."""
    # BEGIN YOUR CODE
    # TODO(Exercise 8): two lines (reuse adam_step).
    raise NotImplementedError("Exercise 8: implement adamw_step: two lines (reuse adam_step).")
    # END YOUR CODE
