"""The one host random generator behind ``manual_seed``.

Parameters and masks are drawn here on the host (NumPy's PCG64) and then copied to the
device, so the same seed gives the same numbers on NumPy, CuPy and the strict backend.
"""
from __future__ import annotations

import numpy as _np

_state = {"gen": _np.random.default_rng(0), "seed": 0}


def manual_seed(seed: int):
    """Seed the global generator (as ``torch.manual_seed``); returns the seed."""
    seed = int(seed)
    _state["gen"] = _np.random.default_rng(seed)
    _state["seed"] = seed
    return seed


def initial_seed() -> int:
    return _state["seed"]


def host_generator():
    return _state["gen"]


def get_rng_state():
    """A copyable snapshot of the generator state (a dict, JSON-friendly)."""
    return _state["gen"].bit_generator.state


def set_rng_state(state):
    gen = _np.random.default_rng()
    gen.bit_generator.state = state
    _state["gen"] = gen


class fork_rng:
    """Context manager that restores the generator state on exit."""

    def __enter__(self):
        self._saved = get_rng_state()
        return self

    def __exit__(self, *exc):
        set_rng_state(self._saved)
        return False
