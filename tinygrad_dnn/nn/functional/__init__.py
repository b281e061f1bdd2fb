"""``torch.nn.functional``: stateless forms of the layers, activations and losses.

Convolution, pooling and normalization functions live in sibling files written separately;
they are re-exported here when present.
"""
import importlib as _importlib

from .activation import *  # noqa: F401,F403
from .linear import *  # noqa: F401,F403
from .loss import *  # noqa: F401,F403


def _reexport(name):
    try:
        mod = _importlib.import_module(f"{__name__}.{name}")
    except ModuleNotFoundError as e:  # the file is not written yet
        if e.name != f"{__name__}.{name}":
            raise
        return
    names = getattr(mod, "__all__", None) or [n for n in vars(mod) if not n.startswith("_")
                                               and callable(vars(mod)[n])
                                               and getattr(vars(mod)[n], "__module__", None) == mod.__name__]
    g = globals()
    for n in names:
        g[n] = getattr(mod, n)


for _name in ("conv", "pooling", "normalization"):
    _reexport(_name)
del _name
