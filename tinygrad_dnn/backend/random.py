"""The random generators behind ``manual_seed``.

* The host generator (NumPy's PCG64) feeds the ``cpu`` and ``strict`` devices (the same seed gives
  the same numbers on both) and every draw that names an explicit :class:`Generator`.
* Each CUDA device has its own device generator (CuPy's ``RandomState``, numbers made on the GPU),
  seeded from ``manual_seed`` (or ``cuda.manual_seed``/``manual_seed_all``) as torch seeds its
  per-device CUDA generators. As in torch, **the CPU and GPU streams differ**: the same seed gives
  reproducible runs on one device, not the same numbers on both. ``get_rng_state``/``fork_rng``
  cover the host generator only (``cuda.manual_seed`` re-seeds the device one).
"""
from __future__ import annotations

import numpy as _np

_state = {"gen": _np.random.default_rng(0), "seed": 0}
_device = {"seed": {}, "gens": {}}  # per CUDA index: the seed to use, and (seed, RandomState) once made


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
    _device["seed"].clear()
    _device.pop("all", None)
    _device["gens"].clear()  # every device generator restarts from the new seed
    return seed


def seed_device(seed, index=None):
    """Seed the CUDA device generator ``index`` (all of them when None), as ``torch.cuda.manual_seed``."""
    seed = int(seed)
    if index is None:
        _device["seed"].clear()
        _device["gens"].clear()
        _device["all"] = seed
    else:
        _device["seed"][int(index)] = seed
        _device["gens"].pop(int(index), None)


def device_seed(index) -> int:
    """The seed of CUDA device ``index``'s generator: its own, else ``manual_seed_all``'s, else ``manual_seed``'s."""
    return _device["seed"].get(int(index), _device.get("all", _state["seed"]))


def device_generator(backend):
    """The device generator (``cupy.random.RandomState``) of a CuPy backend, created on first use."""
    idx = int(getattr(backend, "index", 0))
    rs = _device["gens"].get(idx)
    if rs is None:
        rs = _device["gens"][idx] = backend.cupy.random.RandomState(device_seed(idx))
    return rs


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
