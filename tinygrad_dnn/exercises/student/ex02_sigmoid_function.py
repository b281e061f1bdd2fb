"""Exercise 2: your own autograd ``Function``: the logistic sigmoid.

    y = sigmoid(x) = 1 / (1 + exp(-x))           dy/dx = y (1 - y)

Forward receives a Tensor and returns a NumPy array (``x.numpy()`` gives the values). It must be
numerically stable: for x = -1000, ``exp(-x)`` overflows to inf (with a RuntimeWarning). Use
e = exp(-|x|), which never overflows:  y = 1 / (1 + e) where x >= 0 and y = e / (1 + e) where x < 0.

Backward receives the upstream gradient ``grad`` (a Tensor, the shape of y) and returns dL/dx as a
Tensor, ``grad * y * (1 - y)``. Write it with Tensor operations (not NumPy) so that the backward pass
is itself differentiable (second-order gradients, checked by gradgradcheck).
``saves_output = True`` makes the forward's output available in backward as ``ctx.output()``.
"""
# ruff: noqa  (until you fill the blanks, the imports and given variables are unused)
import numpy as np

from tinygrad_dnn.autograd import Function


class Sigmoid(Function):
    saves_output = True

    @staticmethod
    def forward(ctx, x):
        """y = 1 / (1 + exp(-x)), elementwise, without overflow for large |x|. Returns a NumPy array."""
        x = x.numpy()
        # BEGIN YOUR CODE
        # TODO(Exercise 2): e = exp(-|x|); y = 1/(1+e) for x >= 0, e/(1+e) for x < 0 (np.where).
        raise NotImplementedError("Exercise 2: implement Sigmoid.forward: e = exp(-|x|); y = 1/(1+e) for x >= 0, e/(1+e) for x < 0 (np.where).")
        # END YOUR CODE

    @staticmethod
    def backward(ctx, grad):
        """dL/dx = grad * y * (1 - y), with y = ctx.output() (a Tensor). Use Tensor ops only."""
        y = ctx.output()
        # BEGIN YOUR CODE
        # TODO(Exercise 2): one line of Tensor arithmetic.
        raise NotImplementedError("Exercise 2: implement Sigmoid.backward: one line of Tensor arithmetic.")
        # END YOUR CODE


def sigmoid(x):
    """Apply the Function to a Tensor (as ``torch.sigmoid``)."""
    return Sigmoid.apply(x)
