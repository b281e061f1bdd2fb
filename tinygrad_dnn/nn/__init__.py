"""Neural-network modules (``torch.nn``): Module, Parameter, layers, losses, ``functional``, ``init``.

Layers from files still being written by other engineers are imported if present, so a missing
file never breaks ``import tinygrad_dnn``.
"""
import importlib as _importlib

from .module import Module, Parameter, RemovableHandle  # noqa: F401

_SUBMODULES = ("containers", "linear", "activation", "dropout", "loss",
               "conv", "pooling", "normalization")


def _export(modname):
    try:
        mod = _importlib.import_module(f"{__name__}.{modname}")
    except ModuleNotFoundError as e:  # a file not written yet (only that file; real import errors propagate)
        if e.name != f"{__name__}.{modname}":
            raise
        return
    names = getattr(mod, "__all__", None)
    if names is None:
        names = [n for n in vars(mod) if not n.startswith("_") and isinstance(vars(mod)[n], type)
                 and getattr(vars(mod)[n], "__module__", "") == mod.__name__]
    g = globals()
    for n in names:
        g[n] = getattr(mod, n)


for _m in _SUBMODULES:
    _export(_m)

for _m in ("functional", "init", "utils"):
    try:
        _importlib.import_module(f"{__name__}.{_m}")
    except ModuleNotFoundError as _e:
        if _e.name != f"{__name__}.{_m}":
            raise
