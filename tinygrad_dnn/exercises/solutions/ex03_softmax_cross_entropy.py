"""Exercise 3: softmax + cross-entropy as one ``Function`` (stable), as ``F.cross_entropy(logits, target)``.

For logits Z (N, C) and integer class labels t (N,):

    p_ij = softmax(Z)_ij = exp(Z_ij - M_i) / sum_k exp(Z_ik - M_i),   M_i = max_k Z_ik  (stability)
    L = -(1/N) sum_i log p_{i, t_i}
      = (1/N) sum_i [ M_i + log sum_k exp(Z_ik - M_i) - Z_{i, t_i} ]   (log-sum-exp: never log(0))
    dL/dZ = (p - onehot(t)) / N

Subtracting the row max M_i leaves softmax unchanged (the exp(-M_i) factors cancel) but keeps
exp from overflowing: the slides' softmax without it returns nan for logits of 1000.
Forward returns a 0-d NumPy array (the mean loss). Backward returns ``(dL/dZ, None)``: the labels
get no gradient. Save what backward needs on ``ctx`` (e.g. ``ctx.p = p``); build the gradient
Tensor with ``tinygrad_dnn.tensor(array)`` and multiply it by ``grad`` (the upstream scalar).
"""
import numpy as np

import tinygrad_dnn as tg
from tinygrad_dnn.autograd import Function


def softmax(z):
    """Row-wise softmax of a 2-D NumPy array, stable for large logits (subtract the row max)."""
    # BEGIN YOUR CODE
    # TODO(Exercise 3): shift by the row max (keepdims=True), exponentiate, normalize each row.
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)
    # END YOUR CODE


class SoftmaxCrossEntropy(Function):
    @staticmethod
    def forward(ctx, logits, target):
        """Mean cross-entropy of ``logits`` (Tensor, N x C) against ``target`` (Tensor of N class indices)."""
        z = logits.numpy()
        t = target.numpy().astype(np.int64)
        # BEGIN YOUR CODE
        # TODO(Exercise 3): loss via log-sum-exp (see the module docstring); save p and t on ctx.
        n = z.shape[0]
        m = z.max(axis=1, keepdims=True)
        lse = m[:, 0] + np.log(np.exp(z - m).sum(axis=1))
        ctx.p = softmax(z)
        ctx.t = t
        return np.asarray(np.mean(lse - z[np.arange(n), t]))
        # END YOUR CODE

    @staticmethod
    def backward(ctx, grad):
        """Returns (dL/dlogits, None): (p - onehot(t)) / N times the upstream gradient ``grad``."""
        # BEGIN YOUR CODE
        # TODO(Exercise 3): copy p, subtract 1 at (i, t_i), divide by N, wrap with tg.tensor, times grad.
        d = ctx.p.copy()
        n = d.shape[0]
        d[np.arange(n), ctx.t] -= 1.0
        return grad * tg.tensor(d / n), None
        # END YOUR CODE


def cross_entropy(logits, target):
    return SoftmaxCrossEntropy.apply(logits, target)
