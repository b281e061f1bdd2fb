"""Exercise 7: max pooling, forward and backward (as ``F.max_pool2d(x, kernel_size, stride)``, no padding).

    out[n, c, oh, ow] = max over the window x[n, c, oh*s : oh*s + k, ow*s : ow*s + k]

The gradient flows only to the arg-max of each window:

    dx[n, c, argmax position of window (oh, ow)] += dout[n, c, oh, ow]

When windows overlap (stride < kernel_size) one input can be the max of several windows: ADD the
gradients (``+=``), do not overwrite them. Ties: take the first maximum in row-major window order
(``np.argmax``), as PyTorch on CPU.
"""
# ruff: noqa  (until you fill the blanks, the imports and given variables are unused)
import numpy as np


def maxpool_forward(x, kernel_size, stride=None):
    """Returns ``(out, cache)``; ``stride`` defaults to ``kernel_size``."""
    stride = kernel_size if stride is None else stride
    n, c, h, w = x.shape
    k = kernel_size
    oh, ow = (h - k) // stride + 1, (w - k) // stride + 1
    out = np.empty((n, c, oh, ow), dtype=x.dtype)
    for i in range(oh):
        for j in range(ow):
            out[:, :, i, j] = x[:, :, i * stride:i * stride + k, j * stride:j * stride + k].max(axis=(2, 3))
    return out, (x, k, stride)


def maxpool_backward(dout, cache):
    """dL/dx (the shape of x) given dL/dout. Hint: for each output position (i, j), find the flat arg-max of
    each (n, c) window with ``window.reshape(n, c, -1).argmax(axis=2)`` and ``np.unravel_index`` it."""
    x, k, stride = cache
    n, c, oh, ow = dout.shape
    dx = np.zeros_like(x)
    # BEGIN YOUR CODE
    # TODO(Exercise 7): route each dout entry to its window's arg-max, accumulating with +=.
    raise NotImplementedError("Exercise 7: implement maxpool_backward: route each dout entry to its window's arg-max, accumulating with +=.")
    # END YOUR CODE
