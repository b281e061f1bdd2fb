"""Exercise 10: the centered-difference gradient checker.

For a scalar function f of an array x, the centered difference in coordinate j is

    g_j ~ (f(x + eps e_j) - f(x - eps e_j)) / (2 eps)

with error O(eps^2) from truncation plus O(machine eps / eps) from rounding: in float64 the total is
smallest near eps = 6e-6 (about 1e-10 relative), while the one-sided (f(x + eps e_j) - f(x)) / eps has
an O(eps) error (about 1e-6). Compare analytic and numeric gradients with the relative error

    rel(a, n) = max_j |a_j - n_j| / max(1e-8, |a_j| + |n_j|)

which should be ~1e-9 or smaller for a correct float64 gradient (CS231n's rule of thumb:
> 1e-2 is wrong, 1e-4 is suspicious, < 1e-7 is good).
"""
# ruff: noqa  (until you fill the blanks, the imports and given variables are unused)
import numpy as np


def numerical_gradient(f, x, eps=1e-6):
    """Centered-difference gradient of the scalar ``f(x)`` (a Python float) at the float64 array ``x``.

    Perturb ``x`` in place one entry at a time (``np.nditer`` or a flat index with
    ``np.unravel_index``) and RESTORE it afterwards: the caller's x must be unchanged on return.
    """
    # BEGIN YOUR CODE
    # TODO(Exercise 10): a loop over the entries; two calls of f per entry.
    raise NotImplementedError("Exercise 10: implement numerical_gradient: a loop over the entries; two calls of f per entry.")
    # END YOUR CODE


def relative_error(a, n):
    """max_j |a_j - n_j| / max(1e-8, |a_j| + |n_j|) as a Python float."""
    # BEGIN YOUR CODE
    # TODO(Exercise 10): elementwise, then the max.
    raise NotImplementedError("Exercise 10: implement relative_error: elementwise, then the max.")
    # END YOUR CODE


def check_gradient(f, analytic_grad, x, eps=1e-6, tol=1e-7):
    """Compare ``analytic_grad`` (an array) with :func:`numerical_gradient`.

    Returns ``(passed, worst_index, worst_rel_error)``: ``passed`` when every entry's relative error is
    <= tol, ``worst_index`` the tuple index of the largest entry-wise relative error.
    """
    # BEGIN YOUR CODE
    # TODO(Exercise 10): numeric gradient, entry-wise relative errors, np.argmax + np.unravel_index.
    raise NotImplementedError("Exercise 10: implement check_gradient: numeric gradient, entry-wise relative errors, np.argmax + np.unravel_index.")
    # END YOUR CODE
