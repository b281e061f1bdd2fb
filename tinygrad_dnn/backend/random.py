"""The one host random generator behind ``manual_seed``.

Parameters and masks are drawn here on the host (NumPy's PCG64) and then copied to the
device, so the same seed gives the same numbers on NumPy, CuPy and the strict backend.
"""
from __future__ import annotations

import numpy as _np

_state = {"gen": _np.random.default_rng(0), "seed": 0}


class Generator:
    """A seeded host random generator (NumPy PCG64), with PyTorch's ``torch.Generator`` methods.

    ``Generator(seed)`` or ``Generator().manual_seed(seed)``; ``get_state()`` returns a JSON-friendly
    dict that ``set_state()`` restores exactly. ``Generator(device=...)`` is accepted as torch's (any
    device: the numbers are drawn on the host and copied, so they are the same on every device).
    """

    def __init__(self, seed=None, device="cpu"):
        if isinstance(seed, str) or type(seed).__name__ == "Device":  # torch.Generator("cpu") / (device=...)
            seed, device = None, seed
        self.device = str(device)  # accepted for torch compatibility: draws always happen on the host
        if seed is None:
            seed = int(_np.random.SeedSequence().entropy % (2 ** 63))
        self.manual_seed(seed)

    def manual_seed(self, seed):
        self._seed = int(seed)
        self.rng = _np.random.default_rng(self._seed)
        return self

    def initial_seed(self):
        return self._seed

    def seed(self):
        """Re-seed from fresh entropy; returns the new seed (as ``torch.Generator.seed``)."""
        self.manual_seed(int(_np.random.SeedSequence().entropy % (2 ** 63)))
        return self._seed

    def get_state(self):
        return {"seed": self._seed, "bit_generator": self.rng.bit_generator.state}

    def set_state(self, state):
        rng = _np.random.default_rng()
        rng.bit_generator.state = state["bit_generator"]
        self.rng = rng
        self._seed = int(state.get("seed", self._seed))
        return self

    def __repr__(self):
        return f"Generator(seed={self._seed})"


def generator_rng(generator=None):
    """The NumPy generator behind ``generator`` (a :class:`Generator`), or the global one."""
    if generator is None:
        return _state["gen"]
    if isinstance(generator, Generator):
        return generator.rng
    raise TypeError(f"generator must be a tinygrad_dnn.Generator, got {type(generator).__name__}")


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
