"""``torch.cuda``: what tutorial code asks about the GPU, answered for the CuPy backend.

Without a GPU (or without CuPy) the answers are those of torch's CPU build: ``is_available()`` is
False, ``device_count()`` is 0, ``manual_seed``/``manual_seed_all`` do nothing, and
``synchronize``/``current_device``/``get_device_name`` raise (torch raises ``AssertionError:
Torch not compiled with CUDA enabled``; we raise the same type and say what to do).

Random numbers: each GPU has its own device generator (CuPy's, numbers made on the GPU), seeded by
``tinygrad_dnn.manual_seed`` (all devices) or ``cuda.manual_seed``/``cuda.manual_seed_all``, as in
torch; ``torch.manual_seed(s)`` alone makes GPU runs reproducible. As in torch, the CPU and GPU
streams differ (the same seed does not give the same numbers on both).
"""
from __future__ import annotations

__all__ = ["is_available", "device_count", "manual_seed", "manual_seed_all", "synchronize", "current_device",
           "get_device_name", "is_initialized", "empty_cache", "seed", "seed_all"]


def is_available() -> bool:
    """True if CuPy is installed and sees a GPU."""
    from .backend import cuda_is_available

    return cuda_is_available()


def device_count() -> int:
    """Number of GPUs (0 without one)."""
    from .backend.cupy_backend import device_count as _count

    return _count() if is_available() else 0


def _require(what):
    if not is_available():
        raise AssertionError(f"torch.cuda.{what}(): no CUDA GPU is available (CuPy missing or no device); "
                             "check torch.cuda.is_available() first and use device='cpu'")


def _index(device):
    if device is None:
        return 0
    if isinstance(device, int):
        return device
    from .backend import Device

    d = Device(device)
    return d.index or 0


def current_device() -> int:
    _require("current_device")
    return 0


def get_device_name(device=None) -> str:
    _require("get_device_name")
    from .backend.cupy_backend import device_name

    return device_name(_index(device))


def synchronize(device=None):
    """Wait for queued GPU work to finish (a timing barrier)."""
    _require("synchronize")
    from .backend import get_backend

    get_backend(f"cuda:{_index(device)}").synchronize()


def manual_seed(seed):
    """Seed the current GPU's device generator (GPU 0); without a GPU it only records the seed, as torch."""
    from .backend.random import seed_device

    seed_device(seed, 0)


def manual_seed_all(seed):
    """Seed every GPU's device generator."""
    from .backend.random import seed_device

    seed_device(seed)


def seed():
    """No-op (see :func:`manual_seed`)."""


def seed_all():
    """No-op (see :func:`manual_seed`)."""


def is_initialized() -> bool:
    return is_available()


def empty_cache():
    """No-op (CuPy's memory pool is left alone)."""
