"""Array backends behind ``Tensor``: NumPy (``cpu``), CuPy (``cuda``: GPU 0), strict Array API (``strict``).

This package is the only place that imports numpy or cupy for array math.
"""
from __future__ import annotations

from .base import Backend
from .numpy_backend import NumpyBackend
from . import random

__all__ = ["Backend", "Device", "get_backend", "available_devices", "device", "random"]


class Device:
    """A device name, as ``torch.device``: ``Device("cpu")``, ``Device("cuda:0")``, ``Device("strict")``."""

    __slots__ = ("type", "index")

    def __init__(self, type, index=None):
        if isinstance(type, Device):
            type, index = type.type, type.index
        type = str(type)
        if ":" in type:
            type, idx = type.split(":", 1)
            index = int(idx)
        if type not in ("cpu", "cuda", "strict"):
            raise ValueError(f"unknown device {type!r}: expected 'cpu', 'cuda', 'cuda:N' or 'strict'")
        if type == "cuda" and index is None:
            index = 0
        self.type = type
        self.index = index

    def __str__(self):
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __repr__(self):
        return f"device(type='{self.type}'" + ("" if self.index is None else f", index={self.index}") + ")"

    def __eq__(self, other):
        if isinstance(other, str):
            try:
                other = Device(other)
            except ValueError:
                return False
        return isinstance(other, Device) and self.type == other.type and self.index == other.index

    def __hash__(self):
        return hash((self.type, self.index))


device = Device
_backends: dict = {}
_NUMPY = NumpyBackend()
_NUMPY.dev = Device("cpu")
_backends[_NUMPY.dev] = _NUMPY


def get_backend(dev) -> Backend:
    """The backend object for a device (created on first use)."""
    if dev is None:
        return _NUMPY
    if not isinstance(dev, Device):
        dev = Device(dev)
    b = _backends.get(dev)
    if b is not None:
        return b
    if dev.type == "strict":
        try:
            from .strict_backend import StrictBackend
        except ImportError as e:  # pragma: no cover
            raise RuntimeError("device 'strict' needs the array-api-strict package: pip install array-api-strict") from e
        b = StrictBackend()
    elif dev.type == "cuda":
        check_cuda_index(dev.index)
        from .cupy_backend import CupyBackend, cuda_usable

        ok, why = cuda_usable()
        if not ok:
            raise RuntimeError(f"device '{dev}' requested but is not available here: {why}; "
                               "use device='cpu' (or run `tinygrad-dnn doctor`)")
        b = CupyBackend(dev.index)
    else:  # pragma: no cover
        raise ValueError(f"unknown device {dev}")
    b.dev = dev
    _backends[dev] = b
    return b


def check_cuda_index(index):
    """Only GPU 0 is supported: ``cuda:N`` with N >= 1 raises (kernels would run on GPU 0 and silently
    mix devices). Select another GPU with ``CUDA_VISIBLE_DEVICES=N`` (it is then ``cuda:0``)."""
    if index is not None and int(index) != 0:
        raise RuntimeError(f"device 'cuda:{index}' is not supported: tinygrad_dnn runs on one GPU, cuda:0 "
                           f"(its kernels run on the current CUDA device). To use GPU {index}, start Python "
                           f"with CUDA_VISIBLE_DEVICES={index}: that GPU is then device 'cuda' (cuda:0).")


def available_devices() -> list[str]:
    """Names of the devices usable here, e.g. ``['cpu', 'strict', 'cuda:0']``."""
    out = ["cpu"]
    try:
        import array_api_strict  # noqa: F401

        out.append("strict")
    except ImportError:
        pass
    from .cupy_backend import cuda_usable

    if cuda_usable()[0]:
        out.append("cuda:0")  # one GPU (see check_cuda_index)
    return out


def cuda_is_available() -> bool:
    from .cupy_backend import cuda_available

    return cuda_available()
