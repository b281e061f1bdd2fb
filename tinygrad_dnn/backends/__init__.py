"""``torch.backends``: the flags tutorial code sets (``cudnn.deterministic = True`` ...).

There is no cuDNN, MPS or MKL here: the flags can be read and set, and change nothing. The
computations are deterministic already (same seed, same numbers on every backend).
"""
from . import cudnn, mps  # noqa: F401

__all__ = ["cudnn", "mps"]
