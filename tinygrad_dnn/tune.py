"""Hyper-parameter search: random search (Bergstra & Bengio 2012) and grid search for comparison.

A search space is a dict ``name -> distribution`` (a plain value is kept fixed)::

    space = {"lr": LogUniform(1e-4, 1e-1), "momentum": Uniform(0.8, 0.99), "width": Choice([32, 64, 128])}
    trials = random_search(lambda p: validation_loss(**p), space, n_trials=20, seed=0)
    best = trials[0]            # Trial(params={...}, value=..., index=...)

Distributions: ``Uniform(a, b)`` (``a + (b - a) U``), ``LogUniform(a, b)`` (``exp`` of a uniform on
``[log a, log b]``: every decade equally likely -- the lectures' advice for learning rates and
regularization strengths), ``IntUniform(a, b)`` (integers ``a..b`` inclusive), ``Choice(options)``.
Random search draws ``n_trials`` independent points; grid search evaluates the Cartesian product of
``points`` values per distribution (geometric spacing for ``LogUniform``). With few hyper-parameters
that matter, random search tries ``n_trials`` distinct values of each of them, a grid only
``n_trials ** (1/d)``. Both return the trials sorted best first (``mode='min'`` or ``'max'``); NaN
values sort last. Draws use Python's ``random.Random(seed)`` (``seed=None``: a seed from
``tinygrad_dnn.manual_seed``'s global generator), so a seed reproduces the same trials anywhere.
"""
from __future__ import annotations

import itertools
import math
import random
from typing import Any, NamedTuple

__all__ = ["Choice", "IntUniform", "LogUniform", "Trial", "Uniform", "grid_search", "random_search", "sample"]


class Uniform:
    """``a + (b - a) U``, ``U ~ U[0, 1)``."""

    def __init__(self, low, high):
        if not (math.isfinite(low) and math.isfinite(high)) or not low < high:
            raise ValueError(f"Uniform: need finite low < high, got low={low}, high={high}")
        self.low, self.high = float(low), float(high)

    def sample(self, rng):
        return self.low + (self.high - self.low) * rng.random()

    def grid(self, n):
        return [self.low] if n == 1 else [self.low + (self.high - self.low) * i / (n - 1) for i in range(n)]

    def __repr__(self):
        return f"{type(self).__name__}({self.low:g}, {self.high:g})"


class LogUniform(Uniform):
    """``exp(log a + (log b - log a) U)``: ``log x`` is uniform, each decade equally likely (``0 < a < b``)."""

    def __init__(self, low, high):
        if not low > 0:
            raise ValueError(f"LogUniform: low must be > 0, got {low}")
        super().__init__(low, high)

    def sample(self, rng):
        a, b = math.log(self.low), math.log(self.high)
        return math.exp(a + (b - a) * rng.random())

    def grid(self, n):
        a, b = math.log(self.low), math.log(self.high)
        return [self.low] if n == 1 else [math.exp(a + (b - a) * i / (n - 1)) for i in range(n)]


class IntUniform:
    """An integer uniform on ``low..high`` (both included)."""

    def __init__(self, low, high):
        if int(low) != low or int(high) != high or not low <= high:
            raise ValueError(f"IntUniform: need integers low <= high, got low={low}, high={high}")
        self.low, self.high = int(low), int(high)

    def sample(self, rng):
        return rng.randint(self.low, self.high)

    def grid(self, n):
        if n == 1:
            return [self.low]
        return sorted({round(self.low + (self.high - self.low) * i / (n - 1)) for i in range(n)})

    def __repr__(self):
        return f"IntUniform({self.low}, {self.high})"


class Choice:
    """One of ``options``, each with probability ``1/len(options)``; a grid takes all of them."""

    def __init__(self, options):
        self.options = list(options)
        if not self.options:
            raise ValueError("Choice: needs at least one option")

    def sample(self, rng):
        return self.options[rng.randrange(len(self.options))]

    def grid(self, n=None):
        return list(self.options)

    def __repr__(self):
        return f"Choice({self.options!r})"


class Trial(NamedTuple):
    """One evaluated point: its parameters, the objective's value and the order it was evaluated in."""

    params: dict
    value: float
    index: int


def _is_dist(d):
    return hasattr(d, "sample") and hasattr(d, "grid")


def _check_space(space, who):
    if not isinstance(space, dict) or not space:
        raise TypeError(f"{who}: space must be a non-empty dict name -> distribution, got {space!r}")


def sample(space, rng):
    """One point of ``space`` drawn with ``rng`` (a ``random.Random``); fixed values are copied."""
    return {k: d.sample(rng) if _is_dist(d) else d for k, d in space.items()}


def _sorted(trials, mode, who):
    if mode not in ("min", "max"):
        raise ValueError(f"{who}: mode must be 'min' or 'max', got {mode!r}")
    sign = 1.0 if mode == "min" else -1.0
    return sorted(trials, key=lambda t: (math.isnan(t.value), sign * t.value if not math.isnan(t.value) else 0.0,
                                         t.index))


def _evaluate(objective, params, index, who):
    value = objective(dict(params))
    try:
        value = float(value.item() if hasattr(value, "item") else value)
    except (TypeError, ValueError) as e:
        raise TypeError(f"{who}: the objective must return a number, got {type(value).__name__} for {params}") from e
    return Trial(dict(params), value, index)


def random_search(objective, space, n_trials, seed=None, mode="min") -> list[Trial]:
    """Evaluate ``objective(params)`` at ``n_trials`` independent random points of ``space``.

    Returns the trials sorted best first (lowest value for ``mode='min'``). The same ``seed`` gives the
    same points (Python's Mersenne Twister, identical on every platform).
    """
    _check_space(space, "random_search")
    if not isinstance(n_trials, int) or n_trials < 1:
        raise ValueError(f"random_search: n_trials must be a positive integer, got {n_trials!r}")
    if seed is None:
        from .backend import random as _global

        seed = int(_global.host_generator().integers(0, 2 ** 63 - 1))
    rng = random.Random(seed)
    points = [sample(space, rng) for _ in range(n_trials)]  # all drawn first: the objective cannot shift them
    return _sorted([_evaluate(objective, p, i, "random_search") for i, p in enumerate(points)], mode,
                   "random_search")


def grid_search(objective, space, points=3, mode="min") -> list[Trial]:
    """Evaluate ``objective`` on the Cartesian product of ``points`` values per distribution (a list in
    ``space`` is used as given; a ``Choice`` contributes all its options; ``points`` may be a dict per name).
    Returns the trials sorted best first."""
    _check_space(space, "grid_search")
    axes: list[list[Any]] = []
    for k, d in space.items():
        n = points.get(k, 3) if isinstance(points, dict) else points
        if isinstance(d, (list, tuple)):
            axes.append(list(d))
        elif _is_dist(d):
            if not isinstance(n, int) or n < 1:
                raise ValueError(f"grid_search: points for {k!r} must be a positive integer, got {n!r}")
            axes.append(d.grid(n))
        else:
            axes.append([d])
    names = list(space)
    trials = [_evaluate(objective, dict(zip(names, combo)), i, "grid_search")
              for i, combo in enumerate(itertools.product(*axes))]
    return _sorted(trials, mode, "grid_search")
