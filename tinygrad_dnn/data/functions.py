"""2-D test functions for optimizer trajectories (as in the lectures' optimizer comparisons).

Each function takes either one argument ``p`` whose last dimension has size 2 (a parameter
Tensor ``tensor([x, y], requires_grad=True)``, or a grid of points of shape (..., 2)) or two
arguments ``x, y``. They are written with plain arithmetic, so they work on Tensors (differentiable)
and on NumPy arrays alike (for contour plots)::

    p = torch.tensor([-1.5, 2.0], requires_grad=True)
    opt = torch.optim.SGD([p], lr=1e-3)
    for _ in range(100):
        opt.zero_grad(); rosenbrock(p).backward(); opt.step()
"""
from __future__ import annotations

from dataclasses import dataclass


def _xy(p, y):
    if y is not None:
        return p, y
    if p.shape[-1] != 2:
        raise ValueError(f"expected a point with last dimension 2 (x, y), got shape {tuple(p.shape)}")
    return p[..., 0], p[..., 1]


def quadratic(p, y=None, a=1.0, b=4.0):
    """The ill-conditioned bowl ``a x^2 + b y^2`` (default ``x1^2 + 4 x2^2``); minimum 0 at (0, 0)."""
    x, y = _xy(p, y)
    return a * x ** 2 + b * y ** 2


def rosenbrock(p, y=None, a=1.0, b=100.0):
    """Rosenbrock's banana ``(a - x)^2 + b (y - x^2)^2``; minimum 0 at (a, a^2) = (1, 1)."""
    x, y = _xy(p, y)
    return (a - x) ** 2 + b * (y - x ** 2) ** 2


def saddle(p, y=None):
    """The saddle ``x^2 - y^2``: a stationary point at (0, 0) that is not a minimum (unbounded below)."""
    x, y = _xy(p, y)
    return x ** 2 - y ** 2


@dataclass(frozen=True)
class TestFunction:
    """A named test function with a suggested start, plotting window and its minimizer (None if unbounded)."""

    __test__ = False  # not a pytest class

    name: str
    fn: object
    start: tuple
    xlim: tuple
    ylim: tuple
    minimum: tuple | None

    def __call__(self, p, y=None):
        return self.fn(p, y)


TEST_FUNCTIONS = {
    "quadratic": TestFunction("quadratic", quadratic, (-4.0, 2.0), (-5.0, 5.0), (-3.0, 3.0), (0.0, 0.0)),
    "rosenbrock": TestFunction("rosenbrock", rosenbrock, (-1.5, 2.0), (-2.0, 2.0), (-1.0, 3.0), (1.0, 1.0)),
    "saddle": TestFunction("saddle", saddle, (-1.0, 1e-3), (-1.5, 1.5), (-1.5, 1.5), None),
}


def get_test_function(name):
    """One of :data:`TEST_FUNCTIONS` by name; an unknown name lists the valid ones."""
    try:
        return TEST_FUNCTIONS[name]
    except KeyError:
        raise ValueError(f"unknown test function {name!r}; choose from {sorted(TEST_FUNCTIONS)}") from None
