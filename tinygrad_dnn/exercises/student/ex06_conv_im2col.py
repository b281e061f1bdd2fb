"""Exercise 6: conv2d by im2col, forward and backward (as ``F.conv2d`` with stride and zero padding).

Shapes: x (N, C, H, W), w (F, C, kh, kw), b (F,); OH = (H + 2 pad - kh) // stride + 1 (same for OW).

im2col turns every receptive field into a column (the layout of ``F.unfold``):

    cols[n, (c, i, j), (oh, ow)] = x_padded[n, c, oh*stride + i, ow*stride + j]
    cols: (N, C*kh*kw, OH*OW), the row index running over c, then i, then j (C order)

Then the convolution is one matrix product per sample:

    out[n] = (w.reshape(F, C*kh*kw) @ cols[n]).reshape(F, OH, OW) + b[:, None, None]

Backward, with dout (N, F, OH, OW) reshaped to D (N, F, OH*OW):

    db = sum of dout over n, oh, ow
    dw = sum_n D[n] @ cols[n].T          reshaped to w.shape
    dcols[n] = w.reshape(F, -1).T @ D[n]
    dx = col2im(dcols)                   the adjoint of im2col: ADD every column entry back into the
                                         pixel it came from (overlapping windows accumulate), then
                                         drop the padding.
"""
# ruff: noqa  (until you fill the blanks, the imports and given variables are unused)
import numpy as np


def im2col(x, kh, kw, stride=1, padding=0):
    """x (N, C, H, W) -> cols (N, C*kh*kw, OH*OW), F.unfold's layout. Hint: loop over (i, j) in the kernel
    and slice ``xp[:, :, i:i + stride*OH:stride, j:j + stride*OW:stride]`` from the zero-padded x."""
    # BEGIN YOUR CODE
    # TODO(Exercise 6): pad with np.pad, fill a (N, C, kh, kw, OH, OW) array, reshape.
    raise NotImplementedError("Exercise 6: implement im2col: pad with np.pad, fill a (N, C, kh, kw, OH, OW) array, reshape.")
    # END YOUR CODE


def col2im(cols, x_shape, kh, kw, stride=1, padding=0):
    """The adjoint of :func:`im2col`: cols (N, C*kh*kw, OH*OW) -> (N, C, H, W), summing overlaps."""
    # BEGIN YOUR CODE
    # TODO(Exercise 6): the loop of im2col, with += into a zero-padded array; return the unpadded part.
    raise NotImplementedError("Exercise 6: implement col2im: the loop of im2col, with += into a zero-padded array; return the unpadded part.")
    # END YOUR CODE


def conv2d_forward(x, w, b, stride=1, padding=0):
    """Returns ``(out, cache)`` with out (N, F, OH, OW). Hint: cache x.shape, w, the cols, stride and padding."""
    # BEGIN YOUR CODE
    # TODO(Exercise 6): im2col, one matmul (np.matmul broadcasts over n), add the bias, reshape.
    raise NotImplementedError("Exercise 6: implement conv2d_forward: im2col, one matmul (np.matmul broadcasts over n), add the bias, reshape.")
    # END YOUR CODE


def conv2d_backward(dout, cache):
    """Returns ``(dx, dw, db)`` given dL/dout (N, F, OH, OW)."""
    # BEGIN YOUR CODE
    # TODO(Exercise 6): the formulas in the module docstring.
    raise NotImplementedError("Exercise 6: implement conv2d_backward: the formulas in the module docstring.")
    # END YOUR CODE
