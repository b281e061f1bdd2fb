"""Exercise 5: inverted dropout (as ``nn.Dropout(p)``).

``p`` is the probability of DROPPING a unit (PyTorch's convention; the slides' p is the KEEP
probability q = 1 - p). Training mode:

    u = rng.random(x.shape)                   (draw exactly once, with this call, so the grader can replay it)
    mask = (u < 1 - p) / (1 - p)              keep with probability 1 - p, scale the kept units by 1/(1 - p)
    out = x * mask                            so that E[out] = x and test time needs no rescaling

Eval mode (``training=False``) and p = 0: out = x, mask = all ones. p = 1: every unit dropped,
out = zeros (no division by zero: return zeros and an all-zero mask without drawing).
Backward: dx = dout * mask.
"""
import numpy as np


def dropout_forward(x, p, training, rng):
    """Returns ``(out, mask)``; ``rng`` is a ``numpy.random.Generator``."""
    # BEGIN YOUR CODE
    # TODO(Exercise 5): the eval / p == 0 / p == 1 cases, then the inverted-dropout mask.
    if not training or p == 0:
        return x.copy(), np.ones_like(x)
    if p == 1:
        return np.zeros_like(x), np.zeros_like(x)
    u = rng.random(x.shape)
    mask = (u < 1 - p) / (1 - p)
    return x * mask, mask
    # END YOUR CODE


def dropout_backward(dout, mask):
    """dL/dx given dL/dout and the mask returned by :func:`dropout_forward`."""
    # BEGIN YOUR CODE
    # TODO(Exercise 5): one line.
    return dout * mask
    # END YOUR CODE
