"""Exercise 4: BatchNorm forward and backward with running statistics (as ``nn.BatchNorm1d``).

Training mode, x of shape (N, D), statistics per feature over the batch:

    mu = (1/N) sum_i x_i            var = (1/N) sum_i (x_i - mu)^2       (biased: normalize with it)
    x_hat = (x - mu) / sqrt(var + eps)          out = gamma * x_hat + beta
    running_mean <- (1 - momentum) running_mean + momentum mu
    running_var  <- (1 - momentum) running_var  + momentum var * N/(N-1)     (UNBIASED, PyTorch's rule)

Eval mode: out = gamma * (x - running_mean) / sqrt(running_var + eps) + beta; the running statistics
are not changed. Defaults as PyTorch: eps = 1e-5, momentum = 0.1.

Backward (training mode; the batch couples the samples, so the mean and variance get gradients too):

    dgamma = sum_i dout_i * x_hat_i            dbeta = sum_i dout_i
    dx_hat = dout * gamma
    dx = (1/N) / sqrt(var + eps) * (N dx_hat - sum_i dx_hat_i - x_hat * sum_i (dx_hat_i * x_hat_i))
"""
import numpy as np


def batchnorm_forward(x, gamma, beta, running_mean, running_var, training, momentum=0.1, eps=1e-5):
    """Returns ``(out, cache)``. In training mode update ``running_mean`` and ``running_var`` IN PLACE
    (``running_mean[...] = ...``) and return a cache for :func:`batchnorm_backward`; in eval mode use the
    running statistics, leave them unchanged and return ``cache = None``.
    """
    # BEGIN YOUR CODE
    # TODO(Exercise 4): both modes; remember the unbiased N/(N-1) factor for running_var only.
    if not training:
        x_hat = (x - running_mean) / np.sqrt(running_var + eps)
        return gamma * x_hat + beta, None
    n = x.shape[0]
    mu = x.mean(axis=0)
    var = ((x - mu) ** 2).mean(axis=0)
    inv_std = 1.0 / np.sqrt(var + eps)
    x_hat = (x - mu) * inv_std
    running_mean[...] = (1 - momentum) * running_mean + momentum * mu
    running_var[...] = (1 - momentum) * running_var + momentum * var * n / (n - 1)
    return gamma * x_hat + beta, (x_hat, gamma, inv_std)
    # END YOUR CODE


def batchnorm_backward(dout, cache):
    """Gradients ``(dx, dgamma, dbeta)`` of the training-mode forward, given dL/dout.

    Hint: let the forward cache ``x_hat``, ``gamma`` and ``1 / sqrt(var + eps)``.
    """
    # BEGIN YOUR CODE
    # TODO(Exercise 4): the formulas in the module docstring (sums over axis 0).
    x_hat, gamma, inv_std = cache
    n = dout.shape[0]
    dgamma = (dout * x_hat).sum(axis=0)
    dbeta = dout.sum(axis=0)
    dx_hat = dout * gamma
    dx = inv_std / n * (n * dx_hat - dx_hat.sum(axis=0) - x_hat * (dx_hat * x_hat).sum(axis=0))
    return dx, dgamma, dbeta
    # END YOUR CODE
