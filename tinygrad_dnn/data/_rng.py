"""Random sources for the data package: a ``torch.Generator`` look-alike on the host.

Every random choice made by ``tinygrad_dnn.data`` (shuffling, splits, augmentation) is drawn on the
host from either an explicit :class:`Generator` (or an int seed) or, when none is given, the global
generator behind ``tinygrad_dnn.manual_seed``. So ``manual_seed(s)`` alone makes a run reproducible,
and a :class:`Generator`'s state can be saved and restored to resume one.
"""
from __future__ import annotations

import numpy as np

from ..backend import random as _global


from ..backend.random import Generator  # noqa: E402  (the core's torch.Generator look-alike)


def host_rng(generator=None, seed=None):
    """The ``numpy.random.Generator`` to draw from: ``generator``'s, a fresh one for ``seed``, or the global one."""
    if generator is not None and seed is not None:
        raise ValueError("pass either generator= or seed=, not both")
    if generator is not None:
        if isinstance(generator, Generator):
            return generator.rng
        if isinstance(generator, np.random.Generator):
            return generator
        if isinstance(generator, (int, np.integer)):
            return np.random.default_rng(int(generator))
        raise TypeError(f"generator must be a tinygrad_dnn.data.Generator, a numpy Generator or an int seed, "
                        f"got {type(generator).__name__}")
    if seed is not None:
        return np.random.default_rng(int(seed))
    return _global.host_generator()


def as_generator(generator=None, seed=None):
    """A :class:`Generator` object owned by the caller (for loaders that keep and checkpoint their state).

    Without ``generator`` or ``seed`` its seed is drawn from the global generator, so ``manual_seed``
    before building the object makes it reproducible.
    """
    if generator is not None and seed is not None:
        raise ValueError("pass either generator= or seed=, not both")
    if isinstance(generator, Generator):
        return generator
    if generator is not None:
        if isinstance(generator, (int, np.integer)):
            return Generator(int(generator))
        raise TypeError(f"generator must be a tinygrad_dnn.data.Generator or an int seed, got {type(generator).__name__}")
    if seed is not None:
        return Generator(int(seed))
    return Generator(int(_global.host_generator().integers(0, 2 ** 63 - 1)))
